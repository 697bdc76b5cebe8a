//! The notebook's on-start script as every configuration of the render matrix renders it:
//! shellcheck finds nothing in it, and run under bash with stand-ins for the system commands
//! (mount, aws, the package managers...) and a temporary directory for /home/ec2-user it
//! returns at once, mounts EFS and FSx in the background at the documented paths, logs what
//! it could not mount instead of failing, and mounts nothing twice.
//!
//! What the script must respect comes from the AWS documentation:
//! - SageMaker API Reference, NotebookInstanceLifecycleHook: a lifecycle script that runs
//!   longer than 5 minutes fails and the notebook instance is not created or started;
//!   SageMaker Developer Guide, "Lifecycle configuration timeout": run long work in the
//!   background with nohup.
//! - FSx for Lustre User Guide, "Installing the Lustre client": `amazon-linux-extras install -y
//!   lustre` on Amazon Linux 2, `dnf install -y lustre-client` on Amazon Linux 2023;
//!   "Mounting from an Amazon EC2 instance": `mount -t lustre -o relatime,flock
//!   <dns name>@tcp:/<mount name> <dir>`.
//! - FSx API Reference, DescribeFileSystems / FileSystem.Lifecycle (CREATING, AVAILABLE,
//!   UPDATING, FAILED, ...).
//! - EFS User Guide, "Mounting on Amazon EC2 with the NFS client" (NFS 4.1 options).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::render_matrix::CONFIGS;
use crate::support::{assert_lint_clean, dev_tool, stackctl, write};

/// Values the test gives the `Fn::Sub` variables the script may name.
const SUB_SAMPLES: &[(&str, &str)] = &[
    ("AWS::Region", "us-east-1"),
    ("AWS::URLSuffix", "amazonaws.com"),
    ("EfsFileSystem", "fs-0123abcd"),
    ("FsxFileSystem", "fs-0123456789abcdef0"),
];

/// The line that fixes the notebook user's home; the behavioural tests rewrite it.
const HOME_LINE: &str = "NOTEBOOK_HOME=/home/ec2-user\n";

/// Where the script logs, relative to the home directory.
const LOG: &str = "SageMaker/stackctl-on-start.log";

/// The configurations without a notebook (and so without an on-start script).
const NO_NOTEBOOK: &[&str] = &["no-notebook", "minimal"];

/// The stack file body of a configuration of the matrix.
fn config(name: &str) -> &'static str {
    CONFIGS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no configuration {name} in the render matrix"))
        .1
}

/// The on-start script of one configuration, with `Fn::Sub` undone as CloudFormation would
/// (sample values for its variables, `${!x}` to `${x}`); `None` when it has no notebook.
fn on_start_script(name: &str, body: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.yaml", &format!("name: lint-{name}\n{body}"));
    let out = stackctl(dir.path(), &["render", "--stack", "s.yaml"]);
    assert_eq!(out.code, 0, "{name}: {}", out.stderr);
    let doc: serde_yaml::Value = serde_yaml::from_str(&out.stdout).unwrap();
    let config = doc["Resources"].get("NotebookLifecycleConfig")?;
    let content = &config["Properties"]["OnStart"][0]["Content"];
    let sub = intrinsic(intrinsic(content, "Base64"), "Sub")
        .as_str()
        .unwrap_or_else(|| {
            panic!("{name}: OnStart content is not Fn::Base64 of an Fn::Sub string")
        });
    Some(undo_sub(name, sub))
}

/// The argument of `Fn::<function>` written long (`Fn::Sub: x`) or short (`!Sub x`).
fn intrinsic<'a>(value: &'a serde_yaml::Value, function: &str) -> &'a serde_yaml::Value {
    match value {
        serde_yaml::Value::Tagged(t) if t.tag == function => &t.value,
        serde_yaml::Value::Mapping(m) if m.len() == 1 => m
            .get(format!("Fn::{function}"))
            .unwrap_or_else(|| panic!("expected Fn::{function}, got {value:?}")),
        _ => panic!("expected Fn::{function}, got {value:?}"),
    }
}

/// Substitutes `${Var}` with its sample and `${!Literal}` with `${Literal}`.
fn undo_sub(name: &str, text: &str) -> String {
    let samples: BTreeMap<&str, &str> = SUB_SAMPLES.iter().copied().collect();
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .unwrap_or_else(|| panic!("{name}: unterminated ${{ in the on-start script"))
            + start;
        let var = &rest[start + 2..end];
        match var.strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => out.push_str(samples.get(var).unwrap_or_else(|| {
                panic!("{name}: the on-start script names `${{{var}}}`, which has no sample value")
            })),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_configurations_on_start_script_passes_shellcheck() {
    let shellcheck = dev_tool("shellcheck");
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, body) in CONFIGS {
        let script = on_start_script(name, body);
        assert_eq!(
            script.is_none(),
            NO_NOTEBOOK.contains(name),
            "{name}: an on-start script exists exactly when the configuration has a notebook"
        );
        let Some(script) = script else { continue };
        assert!(script.starts_with("#!/bin/bash\n"), "{name}:\n{script}");
        let file = format!("{name}.sh");
        write(dir.path(), &file, &script);
        files.push(file);
    }
    assert_eq!(files.len(), CONFIGS.len() - NO_NOTEBOOK.len());

    // Every check at every severity (style included); a finding fails, unless the script
    // disables it inline with its reason.
    let mut args = vec!["--severity=style".to_owned(), "--format=gcc".to_owned()];
    args.extend(files);
    assert_lint_clean(&shellcheck, &args, dir.path());
}

/// A temporary notebook instance: the script with its home rewritten, stand-ins on PATH.
struct Notebook {
    _dir: tempfile::TempDir,
    home: PathBuf,
    bin: PathBuf,
    state: PathBuf,
    script: PathBuf,
}

/// Stand-ins for the commands the script runs as root. Each records its arguments in
/// `$STANDIN_STATE/calls`; `mount` records mount points that `mountpoint` then reports.
/// `STANDIN_MOUNT=fail` makes every mount fail (no DNS, deleted file system);
/// `STANDIN_AWS=denied` answers DescribeFileSystems with AccessDeniedException (the CLI's exit
/// code 254), `STANDIN_AWS=creating` answers CREATING once, then AVAILABLE.
const STANDINS: &[(&str, &str)] = &[
    (
        "mount",
        r#"if [ "${STANDIN_MOUNT:-ok}" = fail ]; then
  echo "mount.nfs4: Failed to resolve server: Name or service not known" >&2
  exit 32
fi
echo "${@: -1}" >>"$STANDIN_STATE/mounted""#,
    ),
    (
        "mountpoint",
        r#"grep -qxF -- "${@: -1}" "$STANDIN_STATE/mounted" 2>/dev/null"#,
    ),
    (
        "aws",
        r#"case "${STANDIN_AWS:-ok}" in
  denied)
    echo "An error occurred (AccessDeniedException) when calling the DescribeFileSystems operation: not authorized to perform: fsx:DescribeFileSystems" >&2
    exit 254 ;;
  creating)
    if [ ! -e "$STANDIN_STATE/described" ]; then
      : >"$STANDIN_STATE/described"
      printf 'CREATING\tNone\n'
      exit 0
    fi ;;
esac
printf 'AVAILABLE\tabcdef12\n'"#,
    ),
    // Package installs are slow; the foreground must not wait for them.
    ("dnf", r#""$REAL_SLEEP" 2"#),
    ("amazon-linux-extras", r#""$REAL_SLEEP" 2"#),
    ("chown", ""),
    ("sleep", ""),
];

impl Notebook {
    fn new(config_name: &str) -> Self {
        let script = on_start_script(config_name, config(config_name)).unwrap();
        assert_eq!(
            script.matches(HOME_LINE).count(),
            1,
            "the script sets the notebook home once, on a line of its own"
        );
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let bin = dir.path().join("bin");
        let state = dir.path().join("state");
        for d in [&home.join("SageMaker"), &bin, &state] {
            fs_err::create_dir_all(d).unwrap();
        }
        for (name, body) in STANDINS {
            let path = write(
                &bin,
                name,
                &format!("#!/bin/bash\necho \"{name} $*\" >>\"$STANDIN_STATE/calls\"\n{body}\n"),
            );
            use std::os::unix::fs::PermissionsExt;
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let script_path = write(
            dir.path(),
            "on-start.sh",
            &script.replace(HOME_LINE, &format!("NOTEBOOK_HOME={}\n", home.display())),
        );
        Self {
            _dir: dir,
            home,
            bin,
            state,
            script: script_path,
        }
    }

    /// Runs the script as SageMaker would, with `env`; returns how long the foreground took
    /// and its standard output. Waiting for the output also waits for any process still
    /// holding it, so a background part that kept it open would count as foreground.
    fn start(&self, env: &[(&str, &str)]) -> (Duration, String) {
        let path = std::env::var("PATH").unwrap();
        let started = Instant::now();
        let out = Command::new("bash")
            .arg(&self.script)
            .env("PATH", format!("{}:{path}", self.bin.display()))
            .env("STANDIN_STATE", &self.state)
            .env("REAL_SLEEP", real_sleep(&path))
            .envs(env.iter().copied())
            .output()
            .expect("bash runs");
        let took = started.elapsed();
        assert!(
            out.status.success(),
            "the on-start script exited {:?}:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        (took, String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The log once the background part has finished.
    fn finished_log(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = fs_err::read_to_string(self.home.join(LOG)).unwrap_or_default();
            if log.contains("stackctl on-start: finished") {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the background part did not finish in 30 s; log so far:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The commands run so far, one per line, with the given name.
    fn calls(&self, command: &str) -> Vec<String> {
        fs_err::read_to_string(self.state.join("calls"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split(' ').next() == Some(command))
            .map(str::to_owned)
            .collect()
    }

    fn path(&self, relative: &str) -> String {
        self.home.join(relative).display().to_string()
    }
}

/// The real `sleep`, for stand-ins that must take time while `sleep` itself is stood in.
fn real_sleep(path: &str) -> PathBuf {
    std::env::split_paths(path)
        .map(|d| d.join("sleep"))
        .find(|p| p.is_file())
        .expect("sleep is on PATH")
}

#[test]
fn on_start_returns_at_once_and_logs_what_it_cannot_mount() {
    // Default platform: Amazon Linux 2023. Every mount fails, the FSx describe is denied.
    let nb = Notebook::new("default");
    let (took, stdout) = nb.start(&[("STANDIN_MOUNT", "fail"), ("STANDIN_AWS", "denied")]);
    assert!(
        took < Duration::from_secs(1),
        "the foreground took {took:?}; the slow part must run in the background"
    );
    assert!(stdout.contains(&nb.path(LOG)), "{stdout}");
    assert!(
        Path::new(&nb.path(LOG)).is_file(),
        "the log exists when the foreground returns"
    );
    assert_eq!(
        nb.calls("chown").first().map(String::as_str),
        Some(format!("chown -h ec2-user:ec2-user {}", nb.path(LOG)).as_str()),
        "the log is the notebook user's"
    );

    let log = nb.finished_log();
    assert!(log.contains("mount attempt 30 of 30 failed"), "{log}");
    assert!(log.contains("Failed to resolve server"), "{log}");
    assert!(log.contains("EFS fs-0123abcd is not mounted"), "{log}");
    assert!(log.contains("AccessDeniedException"), "{log}");
    assert!(
        log.contains("FSx fs-0123456789abcdef0 is not mounted"),
        "{log}"
    );
    assert_eq!(nb.calls("dnf"), ["dnf install -y lustre-client"]);
    assert!(nb.calls("amazon-linux-extras").is_empty());
    // A denial is not retried; nothing is mounted, so nothing is linked or given away.
    assert_eq!(nb.calls("aws").len(), 1);
    assert!(nb.calls("mount").iter().all(|c| c.contains("-t nfs4")));
    assert!(!Path::new(&nb.path("efs")).exists());
    assert!(!Path::new(&nb.path("fsx")).exists());
    assert_eq!(nb.calls("chown").len(), 1, "{:?}", nb.calls("chown"));
}

#[test]
fn on_start_mounts_efs_and_fsx_under_sagemaker_once() {
    // Amazon Linux 2; FSx still CREATING at the first describe.
    let nb = Notebook::new("with-git");
    let (took, _) = nb.start(&[("STANDIN_AWS", "creating")]);
    assert!(
        took < Duration::from_secs(1),
        "the foreground took {took:?}"
    );
    let log = nb.finished_log();

    let efs = nb.path("SageMaker/efs");
    let fsx = nb.path("SageMaker/fsx");
    let mut mounts = nb.calls("mount");
    mounts.sort();
    assert_eq!(
        mounts,
        [
            format!(
                "mount -t lustre -o relatime,flock fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com@tcp:/abcdef12 {fsx}"
            ),
            format!(
                "mount -t nfs4 -o nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport fs-0123abcd.efs.us-east-1.amazonaws.com:/ {efs}"
            ),
        ],
        "{log}"
    );
    assert_eq!(
        nb.calls("amazon-linux-extras"),
        ["amazon-linux-extras install -y lustre"]
    );
    assert!(nb.calls("dnf").is_empty());
    let describe = "aws fsx describe-file-systems --region us-east-1 --file-system-ids fs-0123456789abcdef0 --query FileSystems[0].[Lifecycle,LustreConfiguration.MountName] --output text";
    assert_eq!(nb.calls("aws"), [describe, describe], "{log}");
    assert!(log.contains("not available yet"), "{log}");
    for (mount, link) in [(&efs, "efs"), (&fsx, "fsx")] {
        assert!(
            nb.calls("chown")
                .contains(&format!("chown -h ec2-user:ec2-user {mount}")),
            "{:?}",
            nb.calls("chown")
        );
        // DESIGN.md's paths lead to the mounts.
        assert_eq!(
            fs_err::read_link(nb.home.join(link)).unwrap(),
            PathBuf::from(mount)
        );
    }

    // A second start finds both mounted and mounts nothing.
    fs_err::remove_file(nb.state.join("calls")).unwrap();
    nb.start(&[]);
    let log = nb.finished_log();
    assert!(nb.calls("mount").is_empty(), "{:?}", nb.calls("mount"));
    assert!(nb.calls("amazon-linux-extras").is_empty());
    assert!(log.contains("EFS fs-0123abcd is already mounted"), "{log}");
    assert!(
        log.contains("FSx fs-0123456789abcdef0 is already mounted"),
        "{log}"
    );
}

#[test]
fn on_start_mounts_and_logs_nowhere_the_notebook_user_points_it() {
    // The notebook user (no root by default) owns ~/SageMaker and could plant links there to
    // make root mount over, or append to, a file of the system's.
    let nb = Notebook::new("no-fsx");
    let victim = nb.home.join("victim");
    fs_err::create_dir_all(&victim).unwrap();
    let victim_file = nb.home.join("victim.txt");
    fs_err::write(&victim_file, "untouched\n").unwrap();
    std::os::unix::fs::symlink(&victim, nb.home.join("SageMaker/efs")).unwrap();
    std::os::unix::fs::symlink(&victim_file, nb.home.join(LOG)).unwrap();

    nb.start(&[]);
    let log = nb.finished_log();
    let efs = nb.home.join("SageMaker/efs");
    assert!(
        efs.is_dir() && !efs.is_symlink(),
        "the mount point is a real directory"
    );
    assert_eq!(
        nb.calls("mount")
            .last()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap(),
        efs.display().to_string()
    );
    assert!(!nb.home.join(LOG).is_symlink());
    assert_eq!(fs_err::read_to_string(&victim_file).unwrap(), "untouched\n");
    assert!(log.contains("replacing"), "{log}");
}
