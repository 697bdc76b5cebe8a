//! `stackctl image build|push` against the emulator's ECR, with a stand-in for docker (no
//! Docker engine runs on these machines) that records its arguments and standard input; and
//! the images' entrypoint run with a stand-in mpirun, to prove it keeps the training's exit
//! code and stderr.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;
use crate::support::root;

/// A `docker` that appends `ARGS: ...` and `STDIN: ...` lines to `log` and exits with `code`
/// when its first argument is `fail_on`.
fn fake_docker(dir: &Path, fail_on: &str, code: i32) -> std::path::PathBuf {
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
    for file in ["Dockerfile", "train", "sagemaker_mpi.py"] {
        let written =
            fs_err::read_to_string(dir.path().join("stackctl-image-tensorpack").join(file))
                .unwrap();
        let source = if file == "sagemaker_mpi.py" {
            "common/sagemaker_mpi.py".to_owned()
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
    assert!(
        none.stderr
            .contains("model `detectron2` has no image to build here"),
        "{}",
        none.stderr
    );
}

#[test]
fn the_entrypoint_keeps_the_training_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let tool = |name: &str, body: &str| {
        let path = dir.path().join(name);
        fs_err::write(&path, body).unwrap();
        fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    tool(
        "mpirun",
        "#!/bin/sh\necho \"ranks: $*\"\necho 'Traceback (most recent call last): boom' >&2\nexit 3\n",
    );
    // SageMaker hosts with 8 GPUs.
    tool(
        "nvidia-smi",
        "#!/bin/sh\nfor i in 0 1 2 3 4 5 6 7; do echo \"GPU $i: Tesla V100-SXM2-16GB (UUID: GPU-$i)\"; done\n",
    );
    // What SageMaker gives a custom image: files under /opt/ml (SAGEMAKER_BASE_DIR here).
    let base = dir.path().join("opt-ml");
    fs_err::create_dir_all(base.join("input/config")).unwrap();
    fs_err::write(
        base.join("input/config/resourceconfig.json"),
        r#"{"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}"#,
    )
    .unwrap();
    fs_err::write(
        base.join("input/config/hyperparameters.json"),
        r#"{"images_per_epoch": "120000", "batch_norm": "SyncBN", "config:TRAIN.GRADIENT_CLIP": "0.36"}"#,
    )
    .unwrap();
    for model in ["tensorpack", "aws-samples"] {
        let out = Command::new("python3")
            .arg(root().join("templates/images").join(model).join("train"))
            .env("PYTHONPATH", root().join("templates/images/common"))
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    dir.path().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
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
