//! Exit codes, documented in docs/exit-codes.md and `stackctl --help`.

use std::process::ExitCode;

/// What a stackctl process tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success.
    Success,
    /// 1: the operation failed (stack rolled back, job failed, AWS refused, I/O error).
    Failure,
    /// 2: bad input (stack file, template, flags); nothing was changed.
    BadInput,
    /// 3: `plan --detailed-exitcode` found changes.
    Changes,
    /// 4: no credentials, no region, or the endpoint is unreachable.
    NoCredentials,
    /// 130: interrupted; the AWS-side operation continues.
    Interrupted,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::BadInput => 2,
            Self::Changes => 3,
            Self::NoCredentials => 4,
            Self::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// The exit code table shown at the end of `stackctl --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    the operation failed (stack rolled back, job failed, AWS refused)
  2    bad input (stack file, template, flags); nothing was changed
  3    plan --detailed-exitcode found changes
  4    no credentials or region, or the endpoint is unreachable
  130  interrupted; the AWS-side operation continues (re-run to attach)";
