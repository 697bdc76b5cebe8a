//! Test support: running the binary, finding the dev tools, the local AWS emulator and the
//! wire log of what the tests send it.

#![allow(dead_code)]

pub mod emulator;
pub mod fault_proxy;
pub mod wire_log;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one stackctl run produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the stackctl binary with `args` in `dir`, with no STACKCTL_* settings inherited.
#[track_caller]
pub fn stackctl(dir: &Path, args: &[&str]) -> Output {
    stackctl_with_stdin(dir, args, None)
}

/// Like [`stackctl`], with standard input.
#[track_caller]
pub fn stackctl_with_stdin(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackctl"));
    cmd.args(args).current_dir(dir);
    for var in ["STACKCTL_STACK", "STACKCTL_TEMPLATES", "STACKCTL_OUTPUT"] {
        cmd.env_remove(var);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("stackctl starts");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("stackctl runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A dev tool from the project's virtualenv (scripts/install-dev-tools.sh). Panics, never
/// skips, when it is missing.
#[track_caller]
pub fn dev_tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("STACKCTL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.is_file(),
        "{name} is not installed at {}; run scripts/install-dev-tools.sh (the README's test command does)",
        path.display()
    );
    path
}

/// Runs the linter `tool` with `args` in `dir`; fails the test with its output unless it exits
/// 0 (no finding).
#[track_caller]
pub fn assert_lint_clean(tool: &Path, args: &[String], dir: &Path) {
    let name = tool.file_name().unwrap_or_default().to_string_lossy();
    let lint = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{name} does not run: {e}"));
    assert!(
        lint.status.success(),
        "{name} found problems (exit {:?}):\n{}{}",
        lint.status.code(),
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).unwrap();
    }
    fs_err::write(&path, text).unwrap();
    path
}

/// Starts stackctl with test credentials (and no inherited stackctl or AWS settings) with
/// stdout and stderr piped, for tests that talk to it while it runs.
pub fn spawn_stackctl(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("STACKCTL_STACK")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stackctl starts")
}
