//! Faults between stackctl and AWS are absorbed: through a proxy that fails 40 % of requests at
//! random (throttling, 500s, connections reset before the request reached the server, replies
//! lost after the server applied it; `support::fault_proxy`), `up`, a second `up`, both Mask
//! R-CNN job submissions and `down` all exit 0, nothing is created twice, and after `down`
//! only the retained data is left. One test per seed, so the seeds run in parallel and a
//! failure names its seed; the emulator is checked directly, never through the proxy.
//!
//! On every seed the first attempt of each non-idempotent create (CreateStack,
//! CreateTrainingJob) loses its reply after the emulator applied it, so the retry always meets
//! "already exists" (the emulator ignores CloudFormation's ClientRequestToken, and SageMaker
//! has none; scripts/moto-server.py makes a reused training job name fail as on AWS).

use std::time::Instant;

use aws_sdk_ec2::types::NatGatewayState;

use crate::deploy_up::{result_of, stackctl_aws};
use crate::support::Output;
use crate::support::emulator::Emulator;
use crate::support::fault_proxy::{Fault, FaultProxy};

/// The fault rate of every run.
const RATE: f64 = 0.4;

/// The stack's name in the embedded default stack file.
const STACK: &str = "mask-rcnn";

/// Creates whose first reply is always lost (after the emulator applied them).
const LOST_FIRST_REPLIES: [(&str, Fault); 2] = [
    ("CreateStack", Fault::DropAfter),
    ("CreateTrainingJob", Fault::DropAfter),
];

#[tokio::test(flavor = "multi_thread")]
async fn up_jobs_and_down_through_faults_seed_1() {
    full_cycle_through_faults(1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_jobs_and_down_through_faults_seed_2() {
    full_cycle_through_faults(2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_jobs_and_down_through_faults_seed_3() {
    full_cycle_through_faults(3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_jobs_and_down_through_faults_seed_4() {
    full_cycle_through_faults(4).await;
}

/// One run of a step through the proxy: exit 0, or a failure naming the seed, the step, its
/// output and the requests (with their faults) that led up to the end.
struct Run<'a> {
    seed: u64,
    proxy: &'a FaultProxy,
    dir: &'a std::path::Path,
    timings: Vec<(String, f64, usize)>,
}

impl Run<'_> {
    #[track_caller]
    fn step(&mut self, name: &str, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--endpoint-url", &self.proxy.endpoint]);
        let (started, faults_before) = (Instant::now(), self.proxy.faults());
        let out = stackctl_aws(None, self.dir, &all);
        let faults = self.proxy.faults() - faults_before;
        self.timings
            .push((name.to_owned(), started.elapsed().as_secs_f64(), faults));
        assert_eq!(
            out.code,
            0,
            "seed {}: `{name}` ({}) failed through faults at rate {RATE}:\n--- stdout\n{}\n--- stderr\n{}\n--- the last requests (proxy trace)\n{}",
            self.seed,
            args.join(" "),
            out.stdout,
            out.stderr,
            self.proxy.trace_tail(40)
        );
        out
    }
}

async fn full_cycle_through_faults(seed: u64) {
    let started = Instant::now();
    let emulator = Emulator::start();
    let upstream = emulator.endpoint.trim_start_matches("http://").to_owned();
    let proxy = FaultProxy::random_pinned(upstream, RATE, seed, &LOST_FIRST_REPLIES);
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run {
        seed,
        proxy: &proxy,
        dir: dir.path(),
        timings: Vec::new(),
    };

    let up = run.step("up", &["up", "--yes", "--output", "json"]);
    let outputs = result_of(&up)["outputs"].clone();
    let again = run.step("up (again)", &["up", "--output", "json"]);
    assert_eq!(
        result_of(&again)["status"],
        "NO_CHANGES",
        "seed {seed}: {}",
        again.stdout
    );

    // What `job submit` checks before launching (data, images), staged past the proxy.
    crate::jobs::stage_job_inputs(&emulator, dir.path()).await;
    // Both Mask R-CNN models, as the jobs tests submit them: tensorpack reading EFS, aws-samples
    // on managed spot reading S3.
    let tensorpack = format!("tp-faults-{seed}");
    let aws_samples = format!("as-faults-{seed}");
    let tp = run.step(
        "job submit tensorpack",
        &[
            "job",
            "submit",
            "--model",
            "tensorpack",
            "--data",
            "efs",
            "--name",
            &tensorpack,
        ],
    );
    assert_eq!(tp.stdout.trim(), tensorpack);
    let samples = run.step(
        "job submit aws-samples",
        &[
            "job",
            "submit",
            "--model",
            "aws-samples",
            "--spot",
            "--name",
            &aws_samples,
        ],
    );
    assert_eq!(samples.stdout.trim(), aws_samples);

    // The pinned lost replies happened, and each was followed by a retry that met our own work.
    for (operation, _) in LOST_FIRST_REPLIES {
        let trace = proxy.trace.lock().unwrap();
        let attempts: Vec<_> = trace
            .iter()
            .filter(|t| t.operation.ends_with(operation))
            .map(|t| t.fault)
            .collect();
        let lost = attempts
            .iter()
            .filter(|f| **f == Some(Fault::DropAfter))
            .count();
        assert!(
            lost >= 1 && attempts.len() > lost,
            "seed {seed}: {operation}: attempts {attempts:?}"
        );
    }

    // Checked directly against the emulator while the stack exists: one of each.
    let config = emulator.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let efs = aws_sdk_efs::Client::new(&config);
    let sm = aws_sdk_sagemaker::Client::new(&config);
    let s3 = emulator.s3().await;
    let stacks = cfn.list_stacks().send().await.unwrap();
    let live: Vec<_> = stacks
        .stack_summaries()
        .iter()
        .filter(|s| {
            s.stack_name() == Some(STACK)
                && s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE")
        })
        .collect();
    assert_eq!(live.len(), 1, "seed {seed}: stacks: {live:?}");
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let ours: Vec<_> = vpcs
        .vpcs()
        .iter()
        .filter(|v| v.is_default() != Some(true))
        .collect();
    assert_eq!(ours.len(), 1, "seed {seed}: VPCs: {ours:?}");
    assert_eq!(
        ours[0].vpc_id(),
        outputs["VpcId"].as_str(),
        "seed {seed}: the VPC is the stack's"
    );
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert_eq!(
        nats.nat_gateways().len(),
        1,
        "seed {seed}: NAT gateways: {:?}",
        nats.nat_gateways()
    );
    let file_systems = efs.describe_file_systems().send().await.unwrap();
    assert_eq!(
        file_systems.file_systems().len(),
        1,
        "seed {seed}: {:?}",
        file_systems.file_systems()
    );
    let jobs = sm.list_training_jobs().send().await.unwrap();
    let mut names: Vec<&str> = jobs
        .training_job_summaries()
        .iter()
        .filter_map(|j| j.training_job_name())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [aws_samples.as_str(), tensorpack.as_str()],
        "seed {seed}: each job created exactly once"
    );

    // DOWN STEP. `down` (src/deploy/down.rs, sweep.rs, bucket.rs) is being rewritten for issue
    // 11. Until then it fails on some seeds (seed 1 here): a DetachInternetGateway retried after
    // its reply was lost answers Gateway.NotAttached and `down` gives up (issue 11, item 5: a
    // retried detach that finds it detached is done). The assertion stays.
    run.step("down", &["down", "--yes"]);

    // After down: nothing left but the retained data (the EFS file system, the data bucket).
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "seed {seed}: VPCs left: {:?}",
        vpcs.vpcs()
    );
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| n.state() == Some(&NatGatewayState::Deleted)),
        "seed {seed}: NAT gateways left: {:?}",
        nats.nat_gateways()
    );
    let addresses = ec2.describe_addresses().send().await.unwrap();
    assert!(
        addresses.addresses().is_empty(),
        "seed {seed}: Elastic IPs left: {:?}",
        addresses.addresses()
    );
    let stacks = cfn.list_stacks().send().await.unwrap();
    assert!(
        stacks
            .stack_summaries()
            .iter()
            .all(|s| s.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE")),
        "seed {seed}: stacks left: {:?}",
        stacks.stack_summaries()
    );
    let file_systems = efs.describe_file_systems().send().await.unwrap();
    assert_eq!(
        file_systems.file_systems().len(),
        1,
        "seed {seed}: the retained file system, and only it: {:?}",
        file_systems.file_systems()
    );
    let bucket = outputs["DataBucket"].as_str().unwrap();
    let buckets = s3.list_buckets().send().await.unwrap();
    let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(
        names,
        [bucket],
        "seed {seed}: the retained data bucket, and only it"
    );
    let notebooks = sm.list_notebook_instances().send().await.unwrap();
    assert!(
        notebooks.notebook_instances().is_empty(),
        "seed {seed}: notebooks left: {:?}",
        notebooks.notebook_instances()
    );

    // The faults were there: every kind, several times, in this run.
    for (kind, n) in proxy.counts.by_kind() {
        assert!(
            n >= 2,
            "seed {seed}: the proxy injected only {n} `{kind}` faults; the run proves nothing"
        );
    }
    let summary: Vec<String> = run
        .timings
        .iter()
        .map(|(step, secs, faults)| format!("{step}: {secs:.1} s, {faults} faults"))
        .collect();
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "seed {seed}: {:.1} s in all; {}; {:?}, {} capped",
            started.elapsed().as_secs_f64(),
            summary.join("; "),
            proxy.counts.by_kind(),
            proxy
                .counts
                .capped
                .load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

/// The SDK's retry quota (token bucket) lasts a long session at rate 0.4. One `up` on AWS polls
/// CloudFormation about once a second for 20-30 minutes; the emulator finishes at once, so the
/// session is played here as 800 operations on one client, against a stand-in that answers
/// every ListStacks at once (the faults are the proxy's; what the server does does not matter).
/// With the SDK's default quota (500 tokens, about 1.7 lost per operation at this rate) the SDK
/// stops retrying after about 300 operations and calls fail; stackctl's clients
/// (`Aws::from_config`, src/aws.rs) do not.
#[tokio::test(flavor = "multi_thread")]
async fn the_retry_quota_lasts_a_long_session_at_rate_0_4() {
    use aws_sdk_cloudformation::config::retry::{RetryConfig, RetryPartition};

    const OPERATIONS: usize = 800;
    let server = list_stacks_stand_in();
    let proxy = FaultProxy::random(server, RATE, 7);
    // The attempts are stackctl's (src/aws.rs); the backoff is cut to milliseconds so the
    // session takes seconds.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region("us-east-1")
        .endpoint_url(&proxy.endpoint)
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(stackctl::aws::MAX_ATTEMPTS)
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_max_backoff(std::time::Duration::from_millis(5)),
        )
        .load()
        .await;
    async fn session(cfn: &aws_sdk_cloudformation::Client) -> (usize, Option<String>) {
        let mut failed = (0, None);
        for _ in 0..OPERATIONS {
            if let Err(e) = cfn.list_stacks().send().await {
                failed.0 += 1;
                failed.1.get_or_insert_with(|| format!("{e:?}"));
            }
        }
        failed
    }

    let aws = stackctl::aws::Aws::from_config(&config).unwrap();
    let (failed, first) = session(&aws.cfn).await;
    assert_eq!(
        failed, 0,
        "{failed} of {OPERATIONS} operations failed through faults at rate {RATE}; the first: {first:?}"
    );

    // The same session on a client with the SDK's default quota (a partition of its own, so no
    // other test's client shares it) runs dry: the test measures what the setting changes.
    let default = aws_sdk_cloudformation::Client::from_conf(
        aws_sdk_cloudformation::config::Builder::from(&config)
            .retry_partition(RetryPartition::new("default-quota-for-comparison"))
            .build(),
    );
    let (failed, _) = session(&default).await;
    assert!(
        failed > 0,
        "the SDK's default retry quota lasted {OPERATIONS} operations at rate {RATE}; the test no longer proves the setting matters"
    );
}

/// A server on 127.0.0.1 that answers every request with an empty ListStacks result; returns
/// its `host:port`.
fn list_stacks_stand_in() -> String {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                if crate::support::fault_proxy::read_request(&mut conn).is_some() {
                    let body = "<ListStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><ListStacksResult><StackSummaries/></ListStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListStacksResponse>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(answer.as_bytes());
                }
            });
        }
    });
    address
}

/// More seeds, on request (a soak run; docs/testing.md): `STACKCTL_FAULT_SEEDS=5..45 cargo test
/// --test integration deploy_faults::more_seeds -- --nocapture` runs seeds 5 to 44 one after
/// the other. Without the variable it says so and does nothing.
#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::print_stdout)]
async fn more_seeds() {
    let Ok(range) = std::env::var("STACKCTL_FAULT_SEEDS") else {
        // Printed, not silent: a run without the variable says so in the test output.
        println!(
            "deploy_faults::more_seeds: STACKCTL_FAULT_SEEDS=A..B is not set; no extra seeds ran"
        );
        return;
    };
    let (a, b) = range
        .split_once("..")
        .expect("STACKCTL_FAULT_SEEDS=A..B, e.g. 5..45");
    for seed in a.parse::<u64>().unwrap()..b.parse::<u64>().unwrap() {
        full_cycle_through_faults(seed).await;
    }
}
