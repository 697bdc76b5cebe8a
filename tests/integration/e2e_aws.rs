//! The real-account acceptance test, off by default: `STACKCTL_E2E_AWS=1` with credentials
//! and a region in the environment (docs/testing.md gives its cost and duration).
//!
//! It proves what no emulator can: the smallest variant of the stack (no FSx, no EFS, one
//! NAT, the smallest notebook) is created by CloudFormation, `doctor` passes on it, a short
//! training job of the built-in object detection algorithm runs inside the stack's VPC with
//! the stack's role (interfaces created in the stack's subnets, the algorithm image pulled,
//! the channel read from the data bucket), and `down --delete-data` leaves nothing tagged
//! with the stack. The job is given a tiny stand-in channel, so the algorithm itself fails
//! on the data: the test asserts it got that far (an algorithm error, not an access or
//! network error), which is what the stack is responsible for.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{Output, stackctl, write};

/// Set to 1 to run against the account the environment's credentials belong to.
const SWITCH: &str = "STACKCTL_E2E_AWS";

#[track_caller]
fn ok(out: &Output, what: &str) {
    assert_eq!(out.code, 0, "{what}:\n{}\n{}", out.stdout, out.stderr);
}

#[test]
// The test says on its own output whether it ran (not silent), and what `down` did.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn real_account_up_doctor_job_down() {
    if std::env::var(SWITCH).as_deref() != Ok("1") {
        // Printed, not silent: a run without the switch says so in the test output.
        println!(
            "e2e_aws: {SWITCH} is not 1; the real-account acceptance test did not run (docs/testing.md)"
        );
        return;
    }
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("stackctl-e2e-{stamp}");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "stack.yaml",
        &format!(
            "name: {name}\nnetwork:\n  availability_zones: 2\n  nat: single\nefs:\n  enabled: false\nfsx:\n  enabled: false\nnotebook:\n  instance_type: ml.t3.medium\n  volume_gib: 5\n"
        ),
    );
    let run = |args: &[&str]| {
        let mut all = vec!["--stack", "stack.yaml"];
        all.extend_from_slice(args);
        stackctl(dir.path(), &all)
    };

    ok(&run(&["validate"]), "validate");
    ok(&run(&["plan"]), "plan");
    let up = run(&["up", "--yes"]);
    // Whatever happens next, the stack is deleted again.
    struct Down<'a>(&'a std::path::Path);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let out = stackctl(
                self.0,
                &[
                    "--stack",
                    "stack.yaml",
                    "down",
                    "--yes",
                    "--delete-data",
                    "--force",
                ],
            );
            eprintln!("down: exit {}\n{}\n{}", out.code, out.stdout, out.stderr);
        }
    }
    let _down = Down(dir.path());
    ok(&up, "up");
    ok(&run(&["doctor"]), "doctor");

    // A stand-in channel: two small files under the algorithm's train/ and validation/.
    let data = dir.path().join("od");
    for split in ["train", "validation"] {
        fs_err::create_dir_all(data.join(split)).unwrap();
        fs_err::write(data.join(split).join("part.rec"), [0u8; 1024]).unwrap();
    }
    ok(
        &run(&[
            "data",
            "stage",
            "--from",
            data.to_str().unwrap(),
            "--model",
            "object-detection",
            "--to",
            "s3",
        ]),
        "data stage",
    );
    let job = format!("e2e-{stamp}");
    let instance =
        std::env::var("STACKCTL_E2E_INSTANCE_TYPE").unwrap_or_else(|_| "ml.g4dn.xlarge".to_owned());
    ok(
        &run(&[
            "job",
            "submit",
            "--model",
            "object-detection",
            "--name",
            &job,
            "--instance-type",
            &instance,
            "--instance-count",
            "1",
            "--on-demand",
            "-p",
            "epochs=1",
            "-p",
            "num_training_samples=1",
        ]),
        "job submit",
    );
    // `job wait` prints the summary (text: `status:` and `failure:` lines) and exits 1 unless
    // the job succeeded; the stand-in data makes the algorithm fail.
    let wait = run(&["job", "wait", &job]);
    let field = |name: &str| {
        wait.stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let status = field("status:");
    let reason = field("failure:");
    assert!(
        status.starts_with("Completed") || status.starts_with("Failed"),
        "{}\n{}",
        wait.stdout,
        wait.stderr
    );
    // The stack's part worked when the job reached the algorithm: no access or network error.
    for stack_fault in [
        "AccessDenied",
        "not authorized",
        "unable to assume",
        "NetworkInterface",
        "subnet",
        "security group",
    ] {
        assert!(
            !reason.contains(stack_fault),
            "the job failed on the stack, not the algorithm: {reason}"
        );
    }

    let down = run(&["down", "--yes", "--delete-data"]);
    ok(&down, "down");
    // Nothing tagged with the stack remains: no EC2 resource carries CloudFormation's
    // stack-name tag (EC2 API reference, DescribeTags: filter `key` and `value`).
    let left = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let tags = ec2
            .describe_tags()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("key")
                    .values("aws:cloudformation:stack-name")
                    .build(),
            )
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("value")
                    .values(&name)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeTags");
        tags.tags()
            .iter()
            .map(|t| {
                format!(
                    "{:?} {}",
                    t.resource_type(),
                    t.resource_id().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
    });
    assert!(left.is_empty(), "still tagged with {name}: {left:?}");
    let status = run(&["status", "--output", "json"]);
    assert!(
        status.stdout.contains("\"ABSENT\""),
        "the stack still exists:\n{}",
        status.stdout
    );
}
