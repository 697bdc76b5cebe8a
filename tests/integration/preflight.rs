//! Preflight through the binary: no credentials anywhere ends fast with exit 4 and one line.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs stackctl with an empty environment (HOME an empty directory, no AWS_* variables).
fn bare(dir: &std::path::Path, imds_disabled: bool, args: &[&str]) -> (i32, String, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackctl"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if imds_disabled {
        cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    }
    let start = Instant::now();
    let out = cmd.output().expect("stackctl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn no_credentials_exits_4_at_once_with_one_line_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["status"][..], &["plan"], &["up", "--yes"]] {
        let (code, stderr, took) = bare(dir.path(), true, args);
        assert_eq!(code, 4, "{args:?}: {stderr}");
        // The error and its hint besides the line naming the stack file (issues 12 and 13).
        let lines: Vec<&str> = stderr
            .trim()
            .lines()
            .filter(|l| !l.starts_with("using stack "))
            .collect();
        assert_eq!(lines.len(), 2, "{args:?}: {stderr}");
        assert!(lines[1].starts_with("hint: "), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 3, "{args:?}: {stderr}");
        for word in [
            "no AWS credentials found",
            "aws configure",
            "aws sso login",
            "--profile",
            "AWS_PROFILE",
        ] {
            assert!(stderr.contains(word), "{args:?}: {word} missing: {stderr}");
        }
        assert!(took < Duration::from_secs(3), "{args:?} took {took:?}");
    }
}

#[test]
fn no_credentials_ends_quickly_even_when_instance_metadata_is_tried() {
    // IMDS is unreachable here; the short IMDS timeout keeps the wait bounded.
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, took) = bare(dir.path(), false, &["status"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
}

/// `stackctl doctor` against the emulator: the default stack file passes (what moto can
/// answer; it has no Service Quotas for SageMaker, which becomes a warning), and an existing
/// VPC whose subnet has no NAT route and whose group does not admit itself is fatal (exit 1)
/// with both fixes, read-only.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_the_default_and_names_what_an_existing_vpc_lacks() {
    use crate::deploy_up::stackctl_aws;
    use crate::support::emulator::Emulator;
    use crate::support::write;

    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let ok = stackctl_aws(Some(&emulator), dir.path(), &["doctor", "--output", "json"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let doc: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    let checks: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for check in [
        "identity",
        "region",
        "zones",
        "quota.training",
        "offering.notebook",
    ] {
        assert!(checks.contains(&check), "{check} missing: {checks:?}");
    }
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("account 123456789012")
    );

    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.9.1.0/24")
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
        .group_name("doctor-test")
        .description("admits nothing")
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    write(
        dir.path(),
        "existing.yaml",
        &format!(
            "name: doctor\nnetwork:\n  existing:\n    vpc_id: {vpc}\n    private_subnet_ids: [{subnet}]\n    security_group_id: {sg}\nfsx:\n  enabled: false\n"
        ),
    );
    let bad = stackctl_aws(
        Some(&emulator),
        dir.path(),
        &["--stack", "existing.yaml", "doctor"],
    );
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    assert!(
        bad.stdout.contains(&format!("subnet {subnet}")),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("no 0.0.0.0/0 route to a NAT gateway"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains(&format!("{sg} does not admit itself")),
        "{}",
        bad.stdout
    );
    assert!(bad.stderr.contains("fatal finding"), "{}", bad.stderr);
}
