//! A stack as stackctl sees it: status classified into what `up` and `down` can do next.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::{Stack, StackStatus};

use crate::aws::{Aws, AwsError};

/// What a stack's status allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// An operation is running; wait for it.
    InProgress,
    /// Complete and updatable.
    Stable,
    /// A first create failed and rolled back: it can only be deleted.
    RollbackComplete,
    /// Created by a change set that was never executed.
    ReviewInProgress,
    /// An update's rollback failed; needs `continue-update-rollback`.
    UpdateRollbackFailed,
    /// A delete failed.
    DeleteFailed,
    /// Deleted.
    Deleted,
}

/// Classifies a status.
pub fn phase(status: &StackStatus) -> Phase {
    let s = status.as_str();
    match s {
        "REVIEW_IN_PROGRESS" => Phase::ReviewInProgress,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Phase::RollbackComplete,
        "UPDATE_ROLLBACK_FAILED" => Phase::UpdateRollbackFailed,
        "DELETE_FAILED" => Phase::DeleteFailed,
        "DELETE_COMPLETE" => Phase::Deleted,
        _ if s.ends_with("_IN_PROGRESS") => Phase::InProgress,
        _ => Phase::Stable,
    }
}

/// True for statuses an operation ends in.
pub fn is_terminal(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

/// The parts of DescribeStacks stackctl uses.
#[derive(Debug, Clone)]
pub struct StackInfo {
    /// Stack ARN (stable across deletion, unlike the name).
    pub id: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: StackStatus,
    /// Status reason.
    pub reason: Option<String>,
    /// Outputs by key.
    pub outputs: BTreeMap<String, String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Termination protection.
    pub termination_protection: bool,
    /// Drift status, when known.
    pub drift: Option<String>,
}

impl StackInfo {
    fn from_sdk(stack: &Stack) -> Self {
        Self {
            id: stack.stack_id().unwrap_or_default().to_owned(),
            name: stack.stack_name().unwrap_or_default().to_owned(),
            status: stack
                .stack_status()
                .cloned()
                .unwrap_or(StackStatus::from("UNKNOWN")),
            reason: stack.stack_status_reason().map(str::to_owned),
            outputs: stack
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
                .collect(),
            tags: stack
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
            termination_protection: stack.enable_termination_protection().unwrap_or(false),
            drift: stack
                .drift_information()
                .and_then(|d| d.stack_drift_status())
                .map(|s| s.as_str().to_owned()),
        }
    }

    /// The phase of its status.
    pub fn phase(&self) -> Phase {
        phase(&self.status)
    }
}

/// DescribeStacks for one stack by name or ARN; `None` when it does not exist.
pub async fn describe(aws: &Aws, name_or_id: &str) -> Result<Option<StackInfo>, AwsError> {
    match aws
        .cfn
        .describe_stacks()
        .stack_name(name_or_id)
        .send()
        .await
    {
        Ok(out) => Ok(out.stacks().first().map(StackInfo::from_sdk).filter(|s| {
            // A deleted stack looked up by ARN still answers; treat it as absent.
            s.phase() != Phase::Deleted
        })),
        Err(err) => {
            let err = AwsError::from_sdk("DescribeStacks", err);
            if err.code() == Some("ValidationError")
                && err.message().is_some_and(|m| m.contains("does not exist"))
            {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases() {
        let p = |s: &str| phase(&StackStatus::from(s));
        assert_eq!(p("CREATE_COMPLETE"), Phase::Stable);
        assert_eq!(p("UPDATE_ROLLBACK_COMPLETE"), Phase::Stable);
        assert_eq!(p("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"), Phase::InProgress);
        assert_eq!(p("REVIEW_IN_PROGRESS"), Phase::ReviewInProgress);
        assert_eq!(p("ROLLBACK_COMPLETE"), Phase::RollbackComplete);
        assert_eq!(p("UPDATE_ROLLBACK_FAILED"), Phase::UpdateRollbackFailed);
        assert_eq!(p("DELETE_FAILED"), Phase::DeleteFailed);
        assert!(is_terminal("UPDATE_COMPLETE") && !is_terminal("DELETE_IN_PROGRESS"));
    }
}
