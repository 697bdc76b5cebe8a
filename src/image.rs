//! `stackctl image build|push`: the training images of the Mask R-CNN models
//! (templates/images/<model>/), built with docker and pushed to the caller's ECR repository of
//! the model's profile, the image `job submit` uses by default.
//!
//! The ECR part is the AWS SDK (repository created if missing, encrypted and scanned on push;
//! an authorization token); docker is run as a child process. The registry password goes to
//! `docker login --password-stdin` on standard input: it is never in an argument, a log line
//! or the dry run.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::aws::AwsError;
use crate::spec::file::ModelName;

/// Where AWS's deep learning containers (the images' base) live.
pub const DLC_ACCOUNT: &str = "763104351884";

const COMMON: &str = include_str!("../templates/images/common/sagemaker_mpi.py");
const ENTRYPOINT: &str = include_str!("../templates/images/common/entrypoint.sh");
const TENSORPACK_DOCKERFILE: &str = include_str!("../templates/images/tensorpack/Dockerfile");
const TENSORPACK_TRAIN: &str = include_str!("../templates/images/tensorpack/train");
const AWS_SAMPLES_DOCKERFILE: &str = include_str!("../templates/images/aws-samples/Dockerfile");
const AWS_SAMPLES_TRAIN: &str = include_str!("../templates/images/aws-samples/train");

/// Why an image could not be built or pushed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The model has no image template (bad input).
    #[error(
        "model `{0}` has no image to build here (images: tensorpack, aws-samples; detectron2 uses the detectron2-sagemaker tutorial's image, object-detection AWS's built-in one)"
    )]
    NoTemplate(String),
    /// AWS refused or could not be reached.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// ECR answered without a usable token.
    #[error("ECR returned no usable authorization token")]
    NoToken,
    /// Writing the build context failed.
    #[error("cannot write the build context `{}`", path.display())]
    Context {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// docker could not be started.
    #[error("cannot run `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A docker command failed.
    #[error("`{command}` exited with {code}")]
    Docker {
        /// The command line (no secret in it).
        command: String,
        /// Its exit code (-1: killed by a signal).
        code: i32,
    },
}

/// The files of a model's build context, by name.
pub fn context_files(model: ModelName) -> Result<[(&'static str, &'static str); 4], ImageError> {
    match model {
        ModelName::Tensorpack => Ok([
            ("Dockerfile", TENSORPACK_DOCKERFILE),
            ("train", TENSORPACK_TRAIN),
            ("sagemaker_mpi.py", COMMON),
            ("entrypoint.sh", ENTRYPOINT),
        ]),
        ModelName::AwsSamples => Ok([
            ("Dockerfile", AWS_SAMPLES_DOCKERFILE),
            ("train", AWS_SAMPLES_TRAIN),
            ("sagemaker_mpi.py", COMMON),
            ("entrypoint.sh", ENTRYPOINT),
        ]),
        other => Err(ImageError::NoTemplate(other.as_str().to_owned())),
    }
}

/// Writes the build context into `dir` (created if missing).
pub fn write_context(model: ModelName, dir: &Path) -> Result<(), ImageError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| ImageError::Context { path, source }
    };
    fs_err::create_dir_all(dir).map_err(err(dir))?;
    for (name, text) in context_files(model)? {
        let path = dir.join(name);
        fs_err::write(&path, text).map_err(err(&path))?;
    }
    Ok(())
}

/// The registry login: host and password (never printed).
pub struct Login {
    /// `<account>.dkr.ecr.<region>.amazonaws.com`.
    pub registry: String,
    /// The password of user `AWS`.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("registry", &self.registry)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// Gets an ECR authorization token; it is valid for every registry of the region the caller
/// may pull from (its own, and the deep learning containers').
pub async fn login(ecr: &aws_sdk_ecr::Client) -> Result<Login, ImageError> {
    let out = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecr:GetAuthorizationToken", e))?;
    let data = out
        .authorization_data()
        .first()
        .ok_or(ImageError::NoToken)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data.authorization_token().unwrap_or_default())
        .map_err(|_| ImageError::NoToken)?;
    let text = String::from_utf8(decoded).map_err(|_| ImageError::NoToken)?;
    let password = text
        .strip_prefix("AWS:")
        .ok_or(ImageError::NoToken)?
        .to_owned();
    let registry = data
        .proxy_endpoint()
        .unwrap_or_default()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned();
    if registry.is_empty() {
        return Err(ImageError::NoToken);
    }
    Ok(Login { registry, password })
}

/// Creates the repository when it does not exist; returns true when it was created.
pub async fn ensure_repository(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    model: &str,
    create: bool,
) -> Result<bool, ImageError> {
    match ecr
        .describe_repositories()
        .repository_names(repository)
        .send()
        .await
    {
        Ok(_) => return Ok(false),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_not_found_exception()) => {}
        Err(e) => return Err(AwsError::from_sdk("ecr:DescribeRepositories", e).into()),
    }
    if !create {
        return Ok(true);
    }
    use aws_sdk_ecr::types::{
        EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
        Tag,
    };
    let created = ecr
        .create_repository()
        .repository_name(repository)
        .image_tag_mutability(ImageTagMutability::Mutable)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::Aes256)
                .build()
                .expect("encryption type is set"),
        )
        .tags(
            Tag::builder()
                .key("stackctl:model")
                .value(model)
                .build()
                .expect("key and value are set"),
        )
        .send()
        .await;
    match created {
        Ok(_) => Ok(true),
        // Created meanwhile by another run (or by a retry whose answer was lost).
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_already_exists_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(AwsError::from_sdk("ecr:CreateRepository", e).into()),
    }
}

/// One docker invocation, and whether the registry password goes to its standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerCommand {
    /// Arguments after `docker`.
    pub args: Vec<String>,
    /// Feed the password on stdin (`docker login --password-stdin`).
    pub password_on_stdin: bool,
}

impl DockerCommand {
    /// The command line as a shell would show it (no secret in it).
    pub fn display(&self, docker: &str) -> String {
        std::iter::once(docker.to_owned())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The docker commands that build (and push) `uri` from `context` in `region`.
pub fn docker_commands(
    registry: &str,
    region: &str,
    uri: &str,
    context: &Path,
    push: bool,
) -> Vec<DockerCommand> {
    let suffix = registry.split_once(".dkr.ecr.").map_or("", |(_, s)| s);
    let dlc = format!("{DLC_ACCOUNT}.dkr.ecr.{suffix}");
    let login = |host: &str| DockerCommand {
        args: vec![
            "login".into(),
            "--username".into(),
            "AWS".into(),
            "--password-stdin".into(),
            host.into(),
        ],
        password_on_stdin: true,
    };
    let mut commands = vec![
        login(&dlc),
        DockerCommand {
            args: vec![
                "build".into(),
                "--build-arg".into(),
                format!("REGION={region}"),
                "--tag".into(),
                uri.into(),
                context.display().to_string(),
            ],
            password_on_stdin: false,
        },
    ];
    if push {
        commands.push(login(registry));
        commands.push(DockerCommand {
            args: vec!["push".into(), uri.into()],
            password_on_stdin: false,
        });
    }
    commands
}

/// Runs one docker command, with the password on stdin when it asks for it.
pub fn run_docker(docker: &str, command: &DockerCommand, password: &str) -> Result<(), ImageError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(docker);
    cmd.args(&command.args).stdin(if command.password_on_stdin {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    // docker's own output goes to stderr: stdout carries only the image URI, for
    // `IMAGE=$(stackctl image push ...)`.
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stdout(Stdio::from(fd));
        }
    }
    let mut child = cmd.spawn().map_err(|source| ImageError::Spawn {
        program: docker.to_owned(),
        source,
    })?;
    if command.password_on_stdin
        && let Some(mut stdin) = child.stdin.take()
    {
        // A docker that exits early closes the pipe; its exit code says why.
        let _ = stdin.write_all(password.as_bytes());
    }
    let status = child.wait().map_err(|source| ImageError::Spawn {
        program: docker.to_owned(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(ImageError::Docker {
            command: command.display(docker),
            code: status.code().unwrap_or(-1),
        })
    }
}
