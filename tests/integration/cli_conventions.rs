//! Everyday conventions of an AWS or Rust CLI (issue 13): `--no-progress`, `-v` traces that
//! never show a secret, one parse of the arguments (non-UTF-8, `-yq`), exit 4 without
//! credentials, and progress bars on a real terminal (tmux, started by the test).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;

/// Credentials distinctive enough to find anywhere in the output.
const SECRET: &str = "SecretKeyMustNeverShow0123456789abcdefXYZ";
const TOKEN: &str = "SessionTokenMustNeverShowFwoGZXIvYXdzEJr";

/// Runs stackctl against the emulator with [`SECRET`] and [`TOKEN`] as credentials.
fn with_secret_credentials(emulator: &Emulator, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .args(["--endpoint-url", &emulator.endpoint])
        .current_dir(dir)
        .env_remove("STACKCTL_STACK")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("RUST_LOG")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `-v` shows one line per AWS call of `up` (service, operation, status, latency, attempt,
/// request id); `-vv` adds the SDK's debug events; neither shows the secret key, the session
/// token or a signature; without `-v` nothing is traced.
#[test]
fn verbose_shows_every_aws_call_and_never_a_secret() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let (code, v) = with_secret_credentials(&emulator, dir.path(), &["up", "--yes", "-v"]);
    assert_eq!(code, 0, "{v}");
    let call = regex_lite::Regex::new(
        r"(?m)CloudFormation (\w+) status=(\d{3}) latency_ms=\d+ attempt=\d+ request_id=\S+$",
    )
    .unwrap();
    let operations: Vec<&str> = call
        .captures_iter(&v)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    for op in ["DescribeStacks", "CreateStack", "DescribeStackEvents"] {
        assert!(
            operations.contains(&op),
            "{op} not traced: {operations:?}\n{v}"
        );
    }
    assert!(
        v.contains("EC2 DescribeAvailabilityZones status=200"),
        "{v}"
    );

    let (code, vv) = with_secret_credentials(&emulator, dir.path(), &["status", "-vv"]);
    assert_eq!(code, 0, "{vv}");
    assert!(
        vv.contains("aws_smithy_runtime"),
        "no SDK debug events:\n{vv}"
    );
    assert!(
        vv.contains("CloudFormation DescribeStacks status=200"),
        "{vv}"
    );

    let (code, quiet) = with_secret_credentials(&emulator, dir.path(), &["status"]);
    assert_eq!(code, 0, "{quiet}");
    assert!(!quiet.contains("status=200"), "traced without -v:\n{quiet}");

    // RUST_LOG picks the events itself, and still cannot show the signer's.
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["status", "--endpoint-url", &emulator.endpoint])
        .current_dir(dir.path())
        .env_remove("STACKCTL_STACK")
        .env("RUST_LOG", "trace")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .output()
        .unwrap();
    let trace = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{trace}");
    assert!(
        trace.contains("TRACE"),
        "RUST_LOG=trace showed no trace events"
    );

    for (name, text) in [("-v", &v), ("-vv", &vv), ("RUST_LOG=trace", &trace)] {
        for secret in [SECRET, TOKEN, "Signature=", "AWS4-HMAC-SHA256 Credential"] {
            assert!(!text.contains(secret), "{name} shows `{secret}`:\n{text}");
        }
        assert!(
            !text.contains("aws_sigv4"),
            "{name} shows the signer's events"
        );
    }
}

/// No credentials anywhere: exit 4 with the hint, from the binary, before any call changes
/// anything.
#[test]
fn no_credentials_exit_4_with_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["status"][..], &["up", "--yes"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .args(args)
            .args(["--endpoint-url", "http://127.0.0.1:9"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", dir.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: no AWS credentials found")
                && stderr.contains(
                    "hint: run `aws configure` or `aws sso login`, or choose a configured profile"
                ),
            "{args:?}: {stderr}"
        );
    }
}

/// Arguments are parsed once, by clap, from the OS strings: a non-UTF-8 argument is a usage
/// error (exit 2) or a path, never a panic; short flags combine (`-yq` is quiet).
#[test]
fn arguments_are_parsed_once_from_os_strings() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("STACKCTL_STACK")
            .output()
            .unwrap()
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);

    // As a command or a String value: clap's usage error, exit 2.
    for args in [
        vec![bad],
        vec![os("job"), os("describe"), bad],
        vec![os("--region"), bad, os("status")],
    ] {
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // As a path: the file is looked for and named.
    let out = run(&[os("--stack"), bad, os("validate")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot read the stack file"), "{stderr}");
    assert!(stderr.contains("caf\u{fffd}"), "{stderr}");

    // `-yq`: quiet, so not even the stack-file line; the command still runs (no region: 4).
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["up", "-yq"])
        .current_dir(dir.path())
        .env_remove("STACKCTL_STACK")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        !stderr.contains("using stack"),
        "-yq was not quiet:\n{stderr}"
    );
    let loud = stackctl_aws(None, dir.path(), &["validate", "-q"]);
    assert!(!loud.stderr.contains("using stack"), "{}", loud.stderr);
}

/// A tmux server of the test's own (its own socket), killed when dropped.
struct Terminal {
    socket: String,
}

impl Terminal {
    fn new(name: &str) -> Self {
        let tmux = Command::new("tmux").arg("-V").output();
        assert!(
            tmux.is_ok_and(|o| o.status.success()),
            "tmux is not installed; scripts/install-dev-tools.sh installs it"
        );
        Self {
            socket: format!("stackctl-{name}-{}", std::process::id()),
        }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `script` (bash) in a new 150x50 window and returns every screen seen while it ran
    /// (captured every 40 ms) and the last one, which ends with `exit=N` (the script's status;
    /// `return` leaves it early).
    fn run(&self, dir: &Path, script: &str) -> (Vec<String>, String) {
        let done = dir.join("done");
        let _ = fs_err::remove_file(&done);
        let path = dir.join("run.sh");
        fs_err::write(
            &path,
            format!(
                "run() {{\n{script}\n}}\nrun\necho \"exit=$?\"\ntouch '{}'\nsleep 600\n",
                done.display()
            ),
        )
        .unwrap();
        let out = self.tmux(&[
            "new-session",
            "-d",
            "-x",
            "150",
            "-y",
            "50",
            "bash",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(240);
        let mut screens = Vec::new();
        while !done.exists() {
            assert!(
                Instant::now() < deadline,
                "the command did not end in 240 s"
            );
            let shot = self.tmux(&["capture-pane", "-p"]);
            screens.push(String::from_utf8_lossy(&shot.stdout).into_owned());
            std::thread::sleep(Duration::from_millis(40));
        }
        std::thread::sleep(Duration::from_millis(200));
        let last = String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p"]).stdout).into_owned();
        let _ = self.tmux(&["kill-session"]);
        (screens, last)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The lines of a screen up to `exit=N`, without trailing blanks.
fn screen_lines(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| l.starts_with("exit="))
        .unwrap_or(lines.len());
    lines[..end].to_vec()
}

/// On a real terminal `up` and `data stage` draw bars (the stack's resources, the bytes sent)
/// and end on a clean final line: no bar left over. With `--no-progress` (and
/// STACKCTL_NO_PROGRESS=1) the same commands, and `job wait` and `down`, print plain lines only.
#[tokio::test(flavor = "multi_thread")]
async fn bars_on_a_terminal_and_plain_lines_with_no_progress() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let term = Terminal::new("bars");
    let bin = env!("CARGO_BIN_EXE_stackctl");
    let env = format!(
        "cd '{}'; unset STACKCTL_STACK STACKCTL_NO_PROGRESS AWS_PROFILE RUST_LOG\n\
         export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
         AWS_ENDPOINT_URL='{}' AWS_CONFIG_FILE=none AWS_SHARED_CREDENTIALS_FILE=none",
        dir.path().display(),
        emulator.endpoint
    );
    let resources_bar = regex_lite::Regex::new(r"\[[=> ]{30}\] \d+/\d+ resources").unwrap();
    // A bar of bytes: `[====>   ] 1.00 MiB/40.00 MiB`.
    let bytes_bar = regex_lite::Regex::new(r"\[[=> ]{24}\] [\d.]+ \w?i?B/[\d.]+ \w?i?B").unwrap();

    let (screens, last) = term.run(dir.path(), &format!("{env}\n'{bin}' up --yes"));
    assert!(
        screens.iter().any(|s| resources_bar.is_match(s)),
        "no resources bar was drawn during `up`:\n{last}"
    );
    let lines = screen_lines(&last);
    assert!(last.contains("exit=0"), "{last}");
    assert!(
        !resources_bar.is_match(&last),
        "a bar was left on screen:\n{last}"
    );
    assert!(
        lines.iter().any(|l| l.contains(": CREATE_COMPLETE in ")),
        "no outcome line:\n{last}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("VpcId") || l.contains(' ')),
        "the final line is not clean: {:?}",
        lines.last()
    );

    // Enough bytes that the upload takes a while: 40 files of 1 MiB each.
    let tree = dir.path().join("coco");
    for split in ["train2017", "val2017"] {
        for i in 0..20 {
            crate::support::write(&tree, &format!("{split}/{i:012}.jpg"), &"x".repeat(1 << 20));
        }
    }
    for rel in [
        "annotations/instances_train2017.json",
        "annotations/instances_val2017.json",
    ] {
        crate::support::write(&tree, rel, "{}");
    }
    crate::support::write(
        &tree,
        "pretrained-models/ImageNet-R50-AlignPadding.npz",
        "x",
    );
    let (screens, last) = term.run(
        dir.path(),
        &format!(
            "{env}\n'{bin}' data stage --to s3 --concurrency 1 --part-size 5 --from '{}'",
            tree.display()
        ),
    );
    assert!(last.contains("exit=0"), "{last}");
    assert!(
        screens.iter().any(|s| bytes_bar.is_match(s)),
        "no transfer bar was drawn during `data stage`:\n{last}"
    );
    assert!(
        !bytes_bar.is_match(&last),
        "a bar was left on screen:\n{last}"
    );

    // The same on the same terminal with --no-progress: plain lines only (and a job to wait
    // for: its data and image staged as the job tests do).
    crate::jobs::stage_job_inputs(&emulator, dir.path()).await;
    for i in 0..5 {
        crate::support::write(&tree, &format!("val2017/new-{i}.jpg"), &"y".repeat(1 << 20));
    }
    let script = format!(
        "{env}\n\
         '{bin}' data stage --no-progress --to s3 --concurrency 1 --part-size 5 --from '{tree}' || return 1\n\
         STACKCTL_NO_PROGRESS=1 '{bin}' up --yes || return 1\n\
         '{bin}' job submit --model tensorpack --name tmux-1 --no-progress >/dev/null || return 1\n\
         '{bin}' job wait tmux-1 --no-progress || return 1\n\
         '{bin}' down --yes --no-progress",
        tree = tree.display()
    );
    let (screens, last) = term.run(dir.path(), &script);
    assert!(last.contains("exit=0"), "{last}");
    for s in &screens {
        assert!(
            !resources_bar.is_match(s) && !bytes_bar.is_match(s),
            "a bar with --no-progress:\n{s}"
        );
    }
    let all = screens.join("\n");
    for plain in ["s  Completed", "DELETE_COMPLETE", "NO_CHANGES"] {
        assert!(all.contains(plain), "{plain}:\n{last}");
    }
}

/// `--no-progress` is a global flag every long command takes (up, down, data stage, job wait);
/// without a terminal they print plain lines either way, and the flag changes no result.
#[tokio::test(flavor = "multi_thread")]
async fn no_progress_is_taken_by_every_long_command() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--no-progress"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(up.stderr.contains("CREATE_COMPLETE"), "{}", up.stderr);
    crate::jobs::stage_job_inputs(&emulator, dir.path()).await;
    let tree = dir.path().join("extra");
    crate::support::write(&tree, "train2017/a.jpg", "x");
    let stage = stackctl_aws(
        e,
        dir.path(),
        &[
            "data",
            "stage",
            "--no-progress",
            "--to",
            "s3",
            "--prefix",
            "extra",
            "--from",
            tree.to_str().unwrap(),
        ],
    );
    // The layout check refuses the partial tree the same way with or without bars.
    assert_eq!(stage.code, 2, "{}", stage.stderr);
    let submit = stackctl_aws(
        e,
        dir.path(),
        &["job", "submit", "--model", "tensorpack", "--name", "np-1"],
    );
    assert_eq!(submit.code, 0, "{}", submit.stderr);
    let wait = stackctl_aws(e, dir.path(), &["job", "wait", "np-1", "--no-progress"]);
    assert_eq!(wait.code, 0, "{}", wait.stderr);
    let down = stackctl_aws(e, dir.path(), &["down", "--yes", "--no-progress"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(down.stderr.contains("DELETE_COMPLETE"), "{}", down.stderr);
}
