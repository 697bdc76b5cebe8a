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
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
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
