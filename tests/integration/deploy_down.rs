//! `stackctl down` against the emulator: everything but the retained data goes; what is not
//! the stack's (an instance, a person's interface, another workload's interface in a shared
//! VPC) is named and never touched; a second `down` checks what is left and exits 0.

use std::time::Duration;

use aws_sdk_ec2::types::Filter;

use crate::deploy_up::{result_of, stackctl_aws};
use crate::support::emulator::Emulator;

#[tokio::test(flavor = "multi_thread")]
async fn down_names_what_is_not_the_stacks_touches_none_of_it_and_finishes_once_it_is_gone() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let outputs = result_of(&up)["outputs"].clone();
    let out = |k: &str| outputs[k].as_str().unwrap().to_owned();
    let subnets: Vec<String> = out("PrivateSubnetIds")
        .split(',')
        .map(str::to_owned)
        .collect();
    let sg = out("SecurityGroupId");
    let vpc = out("VpcId");

    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    // An interface someone made in a stack subnet: available, but nothing of the stack
    // created it, so `down` names it and leaves it alone.
    let foreign = ec2
        .create_network_interface()
        .subnet_id(&subnets[0])
        .groups(&sg)
        .description("made by a person")
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();
    // An instance someone launched in a stack subnet: `down` stops at once and names it.
    let reservation = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnets[1])
        .security_group_ids(&sg)
        .send()
        .await
        .unwrap();
    let instance = reservation.instances()[0].instance_id().unwrap().to_owned();
    let in_use = reservation.instances()[0].network_interfaces()[0]
        .network_interface_id()
        .unwrap()
        .to_owned();

    let started = std::time::Instant::now();
    let blocked = stackctl_aws(e, dir.path(), &["down", "--yes"]);
    assert_eq!(blocked.code, 1, "{}", blocked.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "down must not wait for what is not the stack's"
    );
    let text = &blocked.stderr;
    assert!(text.contains("not the stack's"), "{text}");
    assert!(
        text.contains(&format!(
            "aws ec2 terminate-instances --instance-ids {instance}"
        )),
        "names the instance and how to remove it: {text}"
    );
    assert!(text.contains(&in_use), "{text}");
    assert!(
        text.contains(&format!(
            "aws ec2 delete-network-interface --network-interface-id {foreign}"
        )),
        "{text}"
    );
    assert!(text.contains("blocks deleting subnet"), "{text}");
    let still = ec2
        .describe_network_interfaces()
        .network_interface_ids(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(
        still.network_interfaces().len(),
        1,
        "the foreign interface was not touched"
    );

    // The person removes what is theirs; `down` then finishes.
    ec2.terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    for eni in [&in_use, &foreign] {
        // moto keeps a terminated instance's interface; take it away as AWS would.
        let _ = ec2
            .delete_network_interface()
            .network_interface_id(eni)
            .send()
            .await;
    }
    let down = stackctl_aws(e, dir.path(), &["down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    let stderr = &down.stderr;
    assert!(
        stderr.contains("AWS::EC2::NatGateway"),
        "the emulator leaves the NAT gateway: {stderr}"
    );
    assert!(stderr.contains("AWS::EC2::EIP"), "{stderr}");
    assert!(stderr.contains("kept EFS file system"), "{stderr}");
    assert!(stderr.contains("kept data bucket"), "{stderr}");

    // Everything but the retained data is gone.
    let vpcs = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "VPC {vpc} still exists");
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| n.state().map(|s| s.as_str()) == Some("deleted"))
    );
    assert!(
        ec2.describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses()
            .is_empty(),
        "no EIP left"
    );
    let efs = aws_sdk_efs::Client::new(&config);
    let fs = efs
        .describe_file_systems()
        .file_system_id(out("EfsFileSystemId"))
        .send()
        .await
        .unwrap();
    assert_eq!(fs.file_systems().len(), 1, "the retained file system stays");
    assert_eq!(fs.file_systems()[0].number_of_mount_targets(), 0);

    // A second down: the stack is gone; it checks what the deletion left and exits 0.
    let again = stackctl_aws(e, dir.path(), &["down", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("does not exist"), "{}", again.stderr);
    assert!(
        again.stderr.contains("kept EFS file system"),
        "{}",
        again.stderr
    );
}

/// With `network.existing` the subnets and the security group are the user's: `down` never
/// touches an interface in them, even an available one in the group the stack used.
#[tokio::test(flavor = "multi_thread")]
async fn down_on_an_existing_vpc_leaves_other_workloads_interfaces_alone() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.8.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let zone = zones.availability_zones()[0]
        .zone_name()
        .unwrap()
        .to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.8.1.0/24")
        .availability_zone(&zone)
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let sg = ec2
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("shared")
        .description("shared by several workloads")
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    let foreign = ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .groups(&sg)
        .description("another workload")
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();
    fs_err::write(
        dir.path().join("existing.yaml"),
        format!(
            "name: shared-vpc\nnetwork:\n  existing:\n    vpc_id: {vpc}\n    private_subnet_ids: [{subnet}]\n    security_group_id: {sg}\nfsx:\n  enabled: false\n"
        ),
    )
    .unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["--stack", "existing.yaml", "up", "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let down = stackctl_aws(
        e,
        dir.path(),
        &["--stack", "existing.yaml", "down", "--yes"],
    );
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(!down.stderr.contains(&foreign), "{}", down.stderr);
    let left = ec2
        .describe_network_interfaces()
        .network_interface_ids(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(
        left.network_interfaces().len(),
        1,
        "the foreign interface still exists"
    );
    assert_eq!(
        left.network_interfaces()[0].status().map(|s| s.as_str()),
        Some("available")
    );
    // And the user's network is untouched.
    assert_eq!(
        ec2.describe_subnets()
            .subnet_ids(&subnet)
            .send()
            .await
            .unwrap()
            .subnets()
            .len(),
        1
    );
    assert_eq!(
        ec2.describe_security_groups()
            .group_ids(&sg)
            .send()
            .await
            .unwrap()
            .security_groups()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn down_with_delete_data_removes_the_file_system_and_the_bucket() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let outputs = result_of(&up)["outputs"].clone();
    let bucket = outputs["DataBucket"].as_str().unwrap().to_owned();
    let fs_id = outputs["EfsFileSystemId"].as_str().unwrap().to_owned();
    let config = emulator.sdk_config().await;
    let s3 = emulator.s3().await;
    s3.put_object()
        .bucket(&bucket)
        .key("mask-rcnn/x.txt")
        .body(b"data".to_vec().into())
        .send()
        .await
        .unwrap();

    let down = stackctl_aws(
        e,
        dir.path(),
        &["down", "--yes", "--delete-data", "--output", "json"],
    );
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    let result = result_of(&down);
    assert_eq!(result["status"], "DELETE_COMPLETE");
    let notes = result["notes"].to_string();
    assert!(
        notes.contains(&format!("deleted EFS file system {fs_id}")),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("deleted bucket {bucket}")),
        "{notes}"
    );
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err());
    let efs = aws_sdk_efs::Client::new(&config);
    assert!(
        efs.describe_file_systems()
            .file_system_id(&fs_id)
            .send()
            .await
            .is_err()
    );
}

/// A deployed template `down` cannot parse: every resource counts as kept (fail closed), so the
/// retained EFS survives, and `down` says why. The template is made unreadable by a proxy that
/// rewrites GetTemplate's answer; the emulator then leaves what it skips (see the sweep), which
/// `down` now refuses to guess about, so it ends in DELETE_FAILED and says what it left.
#[tokio::test(flavor = "multi_thread")]
async fn a_template_that_cannot_be_parsed_keeps_the_file_system() {
    use std::sync::Arc;

    use crate::support::fault_proxy::FaultProxy;

    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let up = stackctl_aws(
        Some(&emulator),
        dir.path(),
        &["up", "--yes", "--output", "json"],
    );
    assert_eq!(up.code, 0, "{}", up.stderr);
    let fs_id = result_of(&up)["outputs"]["EfsFileSystemId"]
        .as_str()
        .unwrap()
        .to_owned();
    let upstream = emulator.endpoint.trim_start_matches("http://").to_owned();
    let garble: crate::support::fault_proxy::Rewrite = Arc::new(|request: &str, body: String| {
        if !request.contains("Action=GetTemplate") {
            return body;
        }
        let (Some(start), Some(end)) = (body.find("<TemplateBody>"), body.find("</TemplateBody>"))
        else {
            return body;
        };
        format!(
            "{}<TemplateBody>Resources: [unclosed{}",
            &body[..start],
            &body[end..]
        )
    });
    let proxy = FaultProxy::start_with(upstream, 0, Some(garble));
    let down = stackctl_aws(
        None,
        dir.path(),
        &["down", "--yes", "--endpoint-url", &proxy.endpoint],
    );
    assert!(
        down.stderr.contains("could not be parsed"),
        "says why it keeps: {}",
        down.stderr
    );
    let config = emulator.sdk_config().await;
    let efs = aws_sdk_efs::Client::new(&config);
    let fs = efs
        .describe_file_systems()
        .file_system_id(&fs_id)
        .send()
        .await
        .unwrap();
    assert_eq!(fs.file_systems().len(), 1, "the file system survives down");
}
