//! The one error type commands return, its exit code, and how it is shown.

use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;

use crate::aws::AwsError;
use crate::data::DataError;
use crate::deploy::DeployError;
use crate::exit_code::ExitStatus;
use crate::render::{CheckError, RenderError};
use crate::spec::SpecError;

/// Everything that can end a command early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stack file is unreadable or invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The template could not be rendered or failed its checks.
    #[error("cannot render the CloudFormation template for stack `{stack}`")]
    Render {
        /// Stack name.
        stack: String,
        /// Why.
        #[source]
        source: RenderError,
    },
    /// Writing an output file failed.
    #[error("cannot write `{}`", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Writing to stdout or stderr failed.
    #[error("cannot write output")]
    Output(#[from] io::Error),
    /// AWS could not be used or refused a call.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A stack operation could not run or did not finish.
    #[error(transparent)]
    Deploy(DeployError),
    /// The stack does not exist (for commands that need it).
    #[error("stack `{0}` does not exist")]
    NoStack(String),
    /// A job cannot be built from the stack (missing stack or output).
    #[error("{0}")]
    Job(String),
    /// Ctrl-C during a long operation (stack, job, staging, DataSync, import): what goes on on
    /// AWS and what to run (exit 130 on every path).
    #[error("{0}")]
    Interrupted(crate::interrupt::Interruption),
    /// The job's options break the profile's schema or SageMaker's limits.
    #[error("invalid training job:\n  {}", .0.join("\n  "))]
    JobInput(Vec<String>),
    /// Data staging could not run or did not finish.
    #[error(transparent)]
    Data(DataError),
    /// A training image could not be built or pushed.
    #[error(transparent)]
    Image(crate::image::ImageError),
    /// A flag that cannot go with `--output json` (or STACKCTL_OUTPUT=json); nothing was done.
    #[error("--output json cannot go with {flag}: {reason}")]
    JsonConflict {
        /// The flag, as given (`--format env`).
        flag: String,
        /// Why, and what works instead.
        reason: String,
    },
    /// A preflight check found that the operation would fail; nothing was changed.
    #[error("preflight: {}", .0.iter().filter(|f| f.severity == crate::preflight::Severity::Fatal).map(|f| format!("{}\n  fix: {}", f.message, f.fix.as_deref().unwrap_or(""))).collect::<Vec<_>>().join("\n"))]
    Preflight(Vec<crate::preflight::Finding>),
    /// `stackctl doctor` found fatal problems (already listed with their fixes).
    #[error("doctor: {0} fatal finding(s); nothing was changed")]
    DoctorFatal(usize),
    /// `up` of a new stack found data an earlier deployment kept and cannot decide, or record,
    /// whether to reuse it; nothing was changed.
    #[error("{0}")]
    KeptData(String),
    /// The operation ran and ended in a failed state (already reported in detail).
    #[error("stack `{stack}` ended in {status}")]
    OperationFailed {
        /// Stack name.
        stack: String,
        /// Final status.
        status: String,
    },
}

impl From<crate::interrupt::Interruption> for Error {
    fn from(interruption: crate::interrupt::Interruption) -> Self {
        Self::Interrupted(interruption)
    }
}

impl From<crate::image::ImageError> for Error {
    fn from(err: crate::image::ImageError) -> Self {
        match err {
            crate::image::ImageError::Aws(aws) => Self::Aws(aws),
            other => Self::Image(other),
        }
    }
}

impl From<DataError> for Error {
    fn from(err: DataError) -> Self {
        match err {
            DataError::Aws(aws) => Self::Aws(aws),
            other => Self::Data(other),
        }
    }
}

impl From<DeployError> for Error {
    fn from(err: DeployError) -> Self {
        match err {
            DeployError::Aws(aws) => Self::Aws(aws),
            other => Self::Deploy(other),
        }
    }
}

impl Error {
    /// The exit status this error maps to.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Spec(SpecError::Read(_) | SpecError::Invalid { .. } | SpecError::Exists(_)) => {
                ExitStatus::BadInput
            }
            Self::Render { .. } => ExitStatus::BadInput,
            Self::WriteFile { .. } | Self::Output(_) => ExitStatus::Failure,
            Self::Aws(aws) if aws.is_environment() => ExitStatus::NoCredentials,
            Self::Aws(_)
            | Self::NoStack(_)
            | Self::OperationFailed { .. }
            | Self::Job(_)
            | Self::DoctorFatal(_) => ExitStatus::Failure,
            Self::JobInput(_)
            | Self::Preflight(_)
            | Self::KeptData(_)
            | Self::JsonConflict { .. } => ExitStatus::BadInput,
            Self::Interrupted(_) => ExitStatus::Interrupted,
            Self::Data(data) if data.is_bad_input() => ExitStatus::BadInput,
            Self::Data(_) => ExitStatus::Failure,
            Self::Image(crate::image::ImageError::NoTemplate(_)) => ExitStatus::BadInput,
            Self::Image(_) => ExitStatus::Failure,
            Self::Deploy(DeployError::NeedsConfirmation(_)) => ExitStatus::BadInput,
            Self::Deploy(_) => ExitStatus::Failure,
        }
    }

    /// True when the error is a closed pipe (`stackctl render | head`), which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let mut source: Option<&(dyn StdError + 'static)> = Some(self);
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<io::Error>()
                && io.kind() == io::ErrorKind::BrokenPipe
            {
                return true;
            }
            source = err.source();
        }
        false
    }

    /// A suggestion for the user, when there is a likely fix.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Spec(SpecError::Invalid { .. }) => Some(
                "`stackctl init` writes a complete, commented stack file; docs/stack-file.md lists every key".to_owned(),
            ),
            Self::Spec(SpecError::Read(_)) => {
                Some("pass an existing file with --stack, or omit --stack to use ./stackctl.yaml (or, without one, the embedded default)".to_owned())
            }
            Self::Render { source, .. } => match source {
                RenderError::Check(CheckError::TooLarge { .. }) => Some(
                    "use fewer availability zones or NAT gateways, or move customised template text into fewer resources".to_owned(),
                ),
                RenderError::Compile { .. } | RenderError::Render { .. } | RenderError::Check(_) => Some(
                    "if you pass --templates, compare your files with the embedded ones in templates/ of the stackctl source".to_owned(),
                ),
                _ => None,
            },
            Self::Aws(AwsError::NoRegion) => Some(
                "pass --region, set `region:` in the stack file, or export AWS_REGION (`plan --offline` needs no AWS at all)".to_owned(),
            ),
            Self::Aws(AwsError::NoCredentialsFound) => Some(
                "run `aws configure` or `aws sso login`, or choose a configured profile with --profile NAME or AWS_PROFILE".to_owned(),
            ),
            Self::Aws(AwsError::NoCredentials { .. }) => Some(
                "configure credentials (aws configure, AWS_PROFILE, SSO login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)".to_owned(),
            ),
            Self::Aws(AwsError::Unreachable { .. }) => Some(
                "check the network, the region, and --endpoint-url / AWS_ENDPOINT_URL".to_owned(),
            ),
            Self::NoStack(_) => Some("run `stackctl up` with the same stack file (the line `using stack ...` above names it) to create it (or stage to a bucket directly with `stackctl data stage --bucket B`)".to_owned()),
            Self::Image(crate::image::ImageError::Spawn { .. }) => Some(
                "install docker and start a Docker engine, or pass --docker PROGRAM; --dry-run prints the commands without running them".to_owned(),
            ),
            Self::Data(DataError::Layout { .. }) => Some(
                "nothing was uploaded; fix the tree (docs/data.md shows the layout) or use --download coco2017".to_owned(),
            ),
            Self::Data(DataError::Incomplete { .. }) => Some(
                "stage the data to S3 first: `stackctl data stage --from DIR` or `--download coco2017`".to_owned(),
            ),
            Self::Data(DataError::Download { .. } | DataError::HttpStatus { .. }) => Some(
                "run the same command again to resume; --download-url points at a mirror".to_owned(),
            ),
            Self::Deploy(DeployError::NeedsConfirmation(_)) => Some(
                "nothing was changed; review the plan above and re-run with --yes to go ahead".to_owned(),
            ),
            _ => None,
        }
    }

    /// The full message: the error, each cause, and the hint.
    pub fn report(&self) -> String {
        let mut text = format!("error: {self}");
        let mut source = self.source();
        let mut last = self.to_string();
        while let Some(cause) = source {
            let line = cause.to_string();
            // Some errors repeat their source in their own message; show each text once.
            if !last.contains(&line) {
                text.push_str(&format!("\n  caused by: {line}"));
            }
            last = line;
            source = cause.source();
        }
        if let Some(hint) = self.hint() {
            text.push_str(&format!("\nhint: {hint}"));
        }
        text
    }
}
