//! `stackctl image build|push` against the emulator's ECR, with a stand-in for docker (no
//! Docker engine runs on these machines) that records its arguments and standard input; and
//! the images' entrypoint run with a stand-in mpirun, to prove it keeps the training's exit
//! code and stderr, sets the algo-N host name from any directory, passes SIGTERM on, and
//! resumes from the newest checkpoint; the Dockerfiles and shell entrypoint pass hadolint and
//! shellcheck.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;
use crate::support::root;

/// A `docker` that appends `ARGS: ...` and `STDIN: ...` lines to `log` and exits with `code`
/// when its first argument is `fail_on`.
pub(crate) fn fake_docker(dir: &Path, fail_on: &str, code: i32) -> PathBuf {
    let path = dir.join("docker");
    let log = dir.join("docker.log");
    fs_err::write(
        &path,
        format!(
            "#!/bin/sh\necho \"ARGS: $*\" >> '{log}'\nif [ \"$3\" = --password-stdin ] || [ \"$4\" = --password-stdin ]; then echo \"STDIN: $(cat)\" >> '{log}'; fi\nif [ \"$1\" = '{fail_on}' ]; then exit {code}; fi\nexit 0\n",
            log = log.display()
        ),
    )
    .unwrap();
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn push_creates_the_repository_logs_in_on_stdin_builds_and_pushes() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let ecr = aws_sdk_ecr::Client::new(&emulator.sdk_config().await);
    let token = ecr.get_authorization_token().send().await.unwrap();
    let data = &token.authorization_data()[0];
    let registry = data
        .proxy_endpoint()
        .unwrap()
        .trim_start_matches("https://")
        .to_owned();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data.authorization_token().unwrap())
        .unwrap();
    let password = String::from_utf8(decoded)
        .unwrap()
        .strip_prefix("AWS:")
        .unwrap()
        .to_owned();
    let uri = format!("{registry}/mask-rcnn-tensorpack:latest");
    let dlc = format!(
        "763104351884.dkr.ecr.{}",
        registry.split_once(".dkr.ecr.").unwrap().1
    );

    // --dry-run: the exact commands, nothing created, nothing run.
    let dry = stackctl_aws(
        e,
        dir.path(),
        &["image", "push", "--model", "tensorpack", "--dry-run"],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        dry.stdout.lines().collect::<Vec<_>>(),
        [
            format!("docker login --username AWS --password-stdin {dlc}"),
            format!(
                "docker build --build-arg REGION=us-east-1 --tag {uri} stackctl-image-tensorpack"
            ),
            format!("docker login --username AWS --password-stdin {registry}"),
            format!("docker push {uri}"),
        ]
    );
    assert!(
        dry.stderr
            .contains("would create ECR repository mask-rcnn-tensorpack"),
        "{}",
        dry.stderr
    );
    assert!(!dry.stdout.contains(&password) && !dry.stderr.contains(&password));
    assert!(
        ecr.describe_repositories()
            .send()
            .await
            .unwrap()
            .repositories()
            .is_empty()
    );
    assert!(!dir.path().join("stackctl-image-tensorpack").exists());

    // A real push with a stand-in docker.
    let docker = fake_docker(dir.path(), "never", 0);
    let push = stackctl_aws(
        e,
        dir.path(),
        &[
            "image",
            "push",
            "--model",
            "tensorpack",
            "--docker",
            docker.to_str().unwrap(),
        ],
    );
    assert_eq!(push.code, 0, "{}", push.stderr);
    // The URI on stdout is the default image of `job submit --model tensorpack` (tests/jobs.rs).
    assert_eq!(push.stdout.trim(), uri);
    assert_eq!(
        uri,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest"
    );
    let repos = ecr.describe_repositories().send().await.unwrap();
    let repo = &repos.repositories()[0];
    assert_eq!(repo.repository_name(), Some("mask-rcnn-tensorpack"));
    assert_eq!(
        repo.image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        Some(true)
    );
    let log = fs_err::read_to_string(dir.path().join("docker.log")).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            format!("ARGS: login --username AWS --password-stdin {dlc}"),
            format!("STDIN: {password}"),
            format!(
                "ARGS: build --build-arg REGION=us-east-1 --tag {uri} stackctl-image-tensorpack"
            ),
            format!("ARGS: login --username AWS --password-stdin {registry}"),
            format!("STDIN: {password}"),
            format!("ARGS: push {uri}"),
        ]
    );
    assert!(!push.stderr.contains(&password), "the password was printed");
    for file in ["Dockerfile", "train", "sagemaker_mpi.py", "entrypoint.sh"] {
        let written =
            fs_err::read_to_string(dir.path().join("stackctl-image-tensorpack").join(file))
                .unwrap();
        let source = if file == "sagemaker_mpi.py" || file == "entrypoint.sh" {
            format!("common/{file}")
        } else {
            format!("tensorpack/{file}")
        };
        assert_eq!(
            written,
            fs_err::read_to_string(root().join("templates/images").join(source)).unwrap()
        );
    }

    // A second push finds the repository; a failing build fails the command with its code.
    let failing = fake_docker(dir.path(), "build", 3);
    let again = stackctl_aws(
        e,
        dir.path(),
        &[
            "image",
            "push",
            "--model",
            "tensorpack",
            "--docker",
            failing.to_str().unwrap(),
        ],
    );
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        !again.stderr.contains("created ECR repository"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains(&format!(
            "--tag {uri} stackctl-image-tensorpack` exited with 3"
        )),
        "{}",
        again.stderr
    );
    assert_eq!(
        ecr.describe_repositories()
            .send()
            .await
            .unwrap()
            .repositories()
            .len(),
        1
    );

    // No image template: exit 2 before any AWS call (the endpoint does not exist).
    let none = crate::support::stackctl(
        dir.path(),
        &[
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            "image",
            "build",
            "--model",
            "detectron2",
        ],
    );
    assert_eq!(none.code, 2, "{}", none.stderr);
    // Not offered at all (issue 12, item 11): clap names the models that have an image.
    assert!(
        none.stderr
            .contains("invalid value 'detectron2' for '--model <MODEL>'")
            && none
                .stderr
                .contains("[possible values: tensorpack, aws-samples]"),
        "{}",
        none.stderr
    );
}

#[test]
fn the_entrypoint_keeps_the_training_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    tool(
        dir.path(),
        "mpirun",
        "#!/bin/sh\necho \"ranks: $*\"\necho 'Traceback (most recent call last): boom' >&2\nexit 3\n",
    );
    let base = dir.path().join("opt-ml");
    sagemaker_files(
        &base,
        dir.path(),
        r#"{"images_per_epoch": "120000", "batch_norm": "SyncBN", "config:TRAIN.GRADIENT_CLIP": "0.36"}"#,
    );
    for model in ["tensorpack", "aws-samples"] {
        let out = Command::new("python3")
            .arg(root().join("templates/images").join(model).join("train"))
            .env("PYTHONPATH", root().join("templates/images/common"))
            .env("PATH", path_with(dir.path()))
            .env("SAGEMAKER_BASE_DIR", &base)
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{model}: {stdout}");
        assert!(
            stdout.contains("Traceback (most recent call last): boom"),
            "{model}: stderr lost: {stdout}"
        );
        assert!(
            stdout.contains("training exited with 3"),
            "{model}: {stdout}"
        );
        assert!(
            stdout.contains("--host localhost:8 -np 8"),
            "{model}: {stdout}"
        );
        assert!(
            stdout.contains("BACKBONE.NORM=SyncBN"),
            "{model}: hyperparameters.json not read: {stdout}"
        );
        assert!(
            stdout.contains("TRAIN.GRADIENT_CLIP=0.36"),
            "{model}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("DATA.BASEDIR={}/input/data/train", base.display())),
            "{model}: {stdout}"
        );
        if model == "tensorpack" {
            assert!(stdout.contains("TRAIN.STEPS_PER_EPOCH=15000"), "{stdout}");
        }
    }
}

/// Writes an executable `dir/name`.
fn tool(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs_err::write(&path, body).unwrap();
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// PATH with `dir` first.
fn path_with(dir: &Path) -> String {
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// What SageMaker gives a custom image (files under /opt/ml, SAGEMAKER_BASE_DIR here): one
/// host with 8 GPUs (a stand-in nvidia-smi in `bin`) and the given hyperparameters.
fn sagemaker_files(base: &Path, bin: &Path, hyperparameters: &str) {
    fs_err::create_dir_all(base.join("input/config")).unwrap();
    fs_err::write(
        base.join("input/config/resourceconfig.json"),
        r#"{"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}"#,
    )
    .unwrap();
    fs_err::write(
        base.join("input/config/hyperparameters.json"),
        hyperparameters,
    )
    .unwrap();
    tool(
        bin,
        "nvidia-smi",
        "#!/bin/sh\nfor i in 0 1 2 3 4 5 6 7; do echo \"GPU $i: Tesla V100-SXM2-16GB (UUID: GPU-$i)\"; done\n",
    );
}

/// The interpreter itself, not a version manager's shim script.
fn python() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The deep learning container's hostname helper source (/changehostname.c in the
/// tensorflow-training and pytorch-training SageMaker images, aws/deep-learning-containers):
/// its entrypoint replaces PLACEHOLDER_HOSTNAME with resourceconfig.json's current_host
/// (quoted, as jq prints it) and preloads the compiled library.
const CHANGEHOSTNAME_C: &str = r#"#include <stdio.h>
#include <string.h>

int gethostname(char *name, size_t len)
{
  const char *val = PLACEHOLDER_HOSTNAME;
  strncpy(name, val, len);
  return 0;
}
"#;

/// SageMaker's StopTrainingJob (API reference: "SageMaker sends the algorithm the SIGTERM
/// signal, which delays job termination for 120 seconds") and spot interruptions signal the
/// container's PID 1, the image's ENTRYPOINT. It must exec `train`, whose handler passes the
/// signal to mpirun; the deep learning container's own entrypoint runs `train` as a child, so
/// the signal never reaches the training. Run here from a directory that is not /, with the
/// DLC's hostname helper source, to prove the host name is algo-1 wherever the image starts.
#[test]
fn the_entrypoint_sets_the_algo_host_name_and_passes_sigterm_to_the_training() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let work = dir.path().join("work");
    fs_err::create_dir_all(&bin).unwrap();
    fs_err::create_dir_all(&work).unwrap();
    let base = dir.path().join("opt-ml");
    sagemaker_files(&base, &bin, "{}");
    let ready = dir.path().join("ready");
    let log = dir.path().join("trainer.log");
    // The stand-in training: reports its host name, then waits (at most 30 s) for SIGTERM.
    tool(
        &bin,
        "mpirun",
        &format!(
            "#!/bin/sh\necho \"host: $({python} -c 'import socket; print(socket.gethostname())')\"\ntrap 'echo \"trainer got TERM\" >> {log}; exit 143' TERM\ntouch {ready}\ni=0\nwhile [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n",
            python = python(),
            log = log.display(),
            ready = ready.display(),
        ),
    );
    // `train` on PATH as in the image (/usr/local/bin/train), here the tensorpack one.
    tool(
        &bin,
        "train",
        &format!(
            "#!/bin/sh\nexec {} {} \"$@\"\n",
            python(),
            root().join("templates/images/tensorpack/train").display()
        ),
    );
    let c_source = dir.path().join("changehostname.c");
    fs_err::write(&c_source, CHANGEHOSTNAME_C).unwrap();
    let output = dir.path().join("output");
    let mut child = Command::new("bash")
        .arg(root().join("templates/images/common/entrypoint.sh"))
        .arg("train")
        .current_dir(&work)
        .env("PATH", path_with(&bin))
        .env("PYTHONPATH", root().join("templates/images/common"))
        .env("SAGEMAKER_BASE_DIR", &base)
        .env("STACKCTL_CHANGEHOSTNAME_C", &c_source)
        .stdout(fs_err::File::create(&output).unwrap().into_parts().0)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!(
                "the stand-in training never started:\n{}",
                fs_err::read_to_string(&output).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // What SageMaker does: SIGTERM to the process it started.
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the entrypoint did not end within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = fs_err::read_to_string(&output).unwrap();
    let trainer = fs_err::read_to_string(&log).unwrap_or_default();
    assert!(
        trainer.contains("trainer got TERM"),
        "SIGTERM did not reach the training (status {status:?}):\n{stdout}"
    );
    assert_eq!(status.code(), Some(143), "{stdout}");
    assert!(stdout.contains("training exited with 143"), "{stdout}");
    assert!(
        stdout.contains("host: algo-1"),
        "gethostname() is not the SageMaker host name:\n{stdout}"
    );
}

/// Managed spot (SageMaker developer guide, "Use checkpoints in Amazon SageMaker AI"):
/// SageMaker copies CheckpointConfig.LocalPath to S3 while the job runs and copies it back
/// before a restarted job starts. The entrypoint resumes from the highest step there (not the
/// newest file time: a restore does not keep them), in a fresh log directory (tensorpack's
/// --logdir deletes an existing one), with the epoch after it as TRAIN.STARTING_EPOCH.
#[test]
fn the_entrypoint_resumes_from_the_newest_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs_err::create_dir_all(&bin).unwrap();
    tool(&bin, "mpirun", "#!/bin/sh\necho \"ranks: $*\"\nexit 0\n");
    // 120000 images per epoch on 8 GPUs: tensorpack 15000 steps per epoch (one image per GPU
    // and step), aws-samples 3750 (4 images per GPU and step).
    for (model, epoch_after_30000) in [("tensorpack", 3), ("aws-samples", 9)] {
        let base = dir.path().join(format!("opt-ml-{model}"));
        sagemaker_files(
            &base,
            &bin,
            r#"{"images_per_epoch": "120000", "load_model": "pretrained/model.ckpt"}"#,
        );
        let run = || {
            let out = Command::new("python3")
                .arg(root().join("templates/images").join(model).join("train"))
                .env("PYTHONPATH", root().join("templates/images/common"))
                .env("PATH", path_with(&bin))
                .env("SAGEMAKER_BASE_DIR", &base)
                .output()
                .expect("python3 runs");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert_eq!(out.status.code(), Some(0), "{model}: {stdout}");
            stdout
                .lines()
                .find_map(|l| l.strip_prefix("ranks: "))
                .unwrap_or_else(|| panic!("{model}: mpirun not run:\n{stdout}"))
                .split(' ')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let checkpoints = base.join("checkpoints");
        let has = |args: &[String], want: &str| args.iter().any(|a| a == want);
        let logdir = |args: &[String]| {
            let i = args.iter().position(|a| a == "--logdir").unwrap();
            args[i + 1].clone()
        };

        // No CheckpointConfig (on demand): the log directory as before, the user's --load.
        let args = run();
        assert_eq!(
            logdir(&args),
            format!("{}/model/train_log", base.display()),
            "{model}"
        );
        assert!(
            has(
                &args,
                &format!(
                    "--load={}/input/data/train/pretrained/model.ckpt",
                    base.display()
                )
            ),
            "{model}: {args:?}"
        );
        assert!(
            !args.iter().any(|a| a.starts_with("TRAIN.STARTING_EPOCH")),
            "{model}"
        );

        // A spot job's first start: SageMaker created the empty local path.
        fs_err::create_dir_all(&checkpoints).unwrap();
        let args = run();
        assert_eq!(
            logdir(&args),
            format!("{}/run-1", checkpoints.display()),
            "{model}"
        );
        assert!(
            !args.iter().any(|a| a.starts_with("TRAIN.STARTING_EPOCH")),
            "{model}: nothing to resume from: {args:?}"
        );
        if model == "tensorpack" {
            assert!(has(&args, "TRAIN.CHECKPOINT_PERIOD=1"), "{args:?}");
        }

        // A restart after an interruption: two earlier runs' checkpoints were restored.
        for file in [
            "run-1/model-7500.index",
            "run-1/model-7500.data-00000-of-00001",
            "run-2/model-22500.index",
            "run-2/model-22500.data-00000-of-00001",
            "run-2/model-30000.index",
            "run-2/model-30000.data-00000-of-00001",
            // A save cut short by the interruption: data without its index is not a checkpoint.
            "run-2/model-33750.data-00000-of-00001",
            "run-2/checkpoint",
        ] {
            crate::support::write(&checkpoints, file, file);
        }
        let args = run();
        let newest = format!("{}/run-2/model-30000", checkpoints.display());
        assert!(has(&args, &format!("--load={newest}")), "{model}: {args:?}");
        assert!(
            !args.iter().any(|a| a.contains("pretrained/model.ckpt")),
            "{model}: the checkpoint replaces load_model: {args:?}"
        );
        assert!(
            has(&args, &format!("TRAIN.STARTING_EPOCH={epoch_after_30000}")),
            "{model}: {args:?}"
        );
        assert_eq!(
            logdir(&args),
            format!("{}/run-3", checkpoints.display()),
            "{model}: a fresh directory, or tensorpack deletes the checkpoints"
        );
        // Finished: the newest checkpoint is also the model SageMaker uploads.
        let model_dir = base.join("model");
        for file in ["model-30000.index", "model-30000.data-00000-of-00001"] {
            assert!(model_dir.join(file).is_file(), "{model}: {file}");
        }
        assert!(
            fs_err::read_to_string(model_dir.join("checkpoint"))
                .unwrap()
                .contains("model_checkpoint_path: \"model-30000\""),
            "{model}"
        );
    }
}

/// Both Dockerfiles start from / and through the exec entrypoint (defect 13), and the shared
/// entrypoint ends in `exec "$@"`.
#[test]
fn the_dockerfiles_work_from_root_through_the_exec_entrypoint() {
    let entrypoint =
        fs_err::read_to_string(root().join("templates/images/common/entrypoint.sh")).unwrap();
    assert_eq!(
        entrypoint.lines().rfind(|l| !l.trim().is_empty()),
        Some("exec \"$@\""),
        "the entrypoint must exec the command, so it becomes PID 1"
    );
    for model in ["tensorpack", "aws-samples"] {
        let text = fs_err::read_to_string(
            root()
                .join("templates/images")
                .join(model)
                .join("Dockerfile"),
        )
        .unwrap();
        let instructions: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && !l.is_empty())
            .collect();
        let last = |keyword: &str| {
            instructions
                .iter()
                .rfind(|l| l.starts_with(keyword))
                .copied()
                .unwrap_or_else(|| panic!("{model}: no {keyword}"))
        };
        assert_eq!(last("WORKDIR "), "WORKDIR /", "{model}");
        assert_eq!(
            last("ENTRYPOINT "),
            r#"ENTRYPOINT ["/usr/local/bin/stackctl-entrypoint"]"#,
            "{model}: exec form, no shell in between"
        );
        assert!(
            instructions.contains(&"COPY entrypoint.sh /usr/local/bin/stackctl-entrypoint"),
            "{model}"
        );
    }
    let aws_samples =
        fs_err::read_to_string(root().join("templates/images/aws-samples/Dockerfile")).unwrap();
    assert!(
        aws_samples.contains("s/every_k_epochs=20)/every_k_epochs=1)/"),
        "aws-samples saves only every 20 epochs unless patched"
    );
}

/// hadolint on both Dockerfiles and shellcheck on every shell script of the images (the
/// Python entrypoints are not shell): no finding, or one justified inline.
#[test]
fn hadolint_and_shellcheck_find_nothing_in_the_images() {
    let images = root().join("templates/images");
    let mut findings = Vec::new();
    let mut shell_scripts = 0;
    let mut dockerfiles = 0;
    for entry in walk(&images) {
        let text = fs_err::read_to_string(&entry).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let tool = if entry.file_name().is_some_and(|n| n == "Dockerfile") {
            dockerfiles += 1;
            "hadolint"
        } else if first.starts_with("#!") && (first.ends_with("sh") || first.contains("bash")) {
            shell_scripts += 1;
            "shellcheck"
        } else {
            continue;
        };
        let out = Command::new(crate::support::dev_tool(tool))
            .arg(&entry)
            .output()
            .unwrap_or_else(|e| panic!("{tool} does not run: {e}"));
        if !out.status.success() || !out.stdout.is_empty() {
            findings.push(format!(
                "{tool} {}:\n{}{}",
                entry.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert_eq!(dockerfiles, 2, "both Dockerfiles checked");
    assert!(shell_scripts >= 1, "the shell entrypoint checked");
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}
