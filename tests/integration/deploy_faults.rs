//! Faults between stackctl and AWS (throttling, 500s, dropped connections before and after a
//! request took effect) are absorbed by the SDK's retry machinery: `up` and `down` succeed and
//! nothing is created twice.

use std::sync::atomic::Ordering;

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;
use crate::support::fault_proxy::FaultProxy;

#[tokio::test(flavor = "multi_thread")]
async fn up_and_down_succeed_through_faults_and_create_nothing_twice() {
    let emulator = Emulator::start();
    let upstream = emulator.endpoint.trim_start_matches("http://").to_owned();
    let proxy = FaultProxy::start(upstream, 4);
    let dir = tempfile::tempdir().unwrap();
    let via_proxy = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--endpoint-url", &proxy.endpoint]);
        stackctl_aws(None, dir.path(), &all)
    };

    let up = via_proxy(&["up", "--yes"]);
    assert_eq!(up.code, 0, "up through faults:\n{}", up.stderr);
    let again = via_proxy(&["up"]);
    assert_eq!(again.code, 0, "{}", again.stderr);

    // Checked directly against the emulator while the stack exists: one of each.
    let config = emulator.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stacks = cfn.list_stacks().send().await.unwrap();
    let ours: Vec<_> = stacks
        .stack_summaries()
        .iter()
        .filter(|s| s.stack_name() == Some("mask-rcnn"))
        .collect();
    assert_eq!(ours.len(), 1, "stacks created: {ours:?}");
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert_eq!(
        vpcs.vpcs()
            .iter()
            .filter(|v| v.is_default() != Some(true))
            .count(),
        1
    );
    assert_eq!(
        ec2.describe_nat_gateways()
            .send()
            .await
            .unwrap()
            .nat_gateways()
            .len(),
        1
    );
    let efs = aws_sdk_efs::Client::new(&config);
    assert_eq!(
        efs.describe_file_systems()
            .send()
            .await
            .unwrap()
            .file_systems()
            .len(),
        1
    );

    let down = via_proxy(&["down", "--yes"]);
    assert_eq!(down.code, 0, "down through faults:\n{}", down.stderr);

    let c = &proxy.counts;
    for (what, n) in [
        ("throttled", c.throttled.load(Ordering::Relaxed)),
        ("500", c.server_errors.load(Ordering::Relaxed)),
        ("dropped before", c.dropped_before.load(Ordering::Relaxed)),
        ("dropped after", c.dropped_after.load(Ordering::Relaxed)),
    ] {
        assert!(
            n >= 2,
            "the proxy injected only {n} `{what}` faults; the test proves nothing"
        );
    }

    // And after down: nothing left but the retained file system.
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "{:?}",
        vpcs.vpcs()
    );
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert_eq!(
        nats.nat_gateways().len(),
        1,
        "one NAT gateway was ever created"
    );
    assert!(
        ec2.describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses()
            .is_empty()
    );
    assert_eq!(
        efs.describe_file_systems()
            .send()
            .await
            .unwrap()
            .file_systems()
            .len(),
        1,
        "one (retained) file system"
    );
    assert!(proxy.faults() >= 8);
}
