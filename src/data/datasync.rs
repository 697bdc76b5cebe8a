//! S3 -> EFS with the stack's DataSync task (`DataSyncTaskArn`): EFS is reachable only inside
//! the VPC, so the copy runs as a managed task execution in the stack's subnet and security
//! group, started and watched from here; nobody logs into the notebook.
//!
//! One execution at a time: a running execution (started by another `stage`) is attached to
//! rather than queued behind. A copy is skipped when the last successful one started after the
//! newest object under the prefix was written, unless `--force`.

use std::sync::Arc;

use aws_sdk_datasync::primitives::DateTime;
use aws_sdk_datasync::types::TaskExecutionStatus;
use serde::Serialize;

use crate::aws::AwsError;
use crate::report::transfer::TransferReporter;

use super::{DataError, POLL_INTERVAL};

/// What the EFS step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EfsCopy {
    /// The task execution (the one run, attached to, or the successful one that made the copy
    /// unnecessary).
    pub execution_arn: String,
    /// `copied`, `attached` (another run had started it), `started` (--no-wait), `up-to-date`.
    pub action: &'static str,
    /// DataSync's final status (`SUCCESS`), or the current one with --no-wait.
    pub status: String,
    /// Files transferred.
    pub files: i64,
    /// Bytes transferred.
    pub bytes: i64,
}

/// The last execution of a task, as `data status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastExecution {
    /// Execution ARN.
    pub execution_arn: String,
    /// Status.
    pub status: String,
    /// Start time (RFC 3339).
    pub started: Option<String>,
    /// Files transferred.
    pub files: i64,
    /// Bytes transferred.
    pub bytes: i64,
    /// Error code and detail, for failed executions.
    pub error: Option<String>,
}

fn running(status: &TaskExecutionStatus) -> bool {
    !matches!(
        status,
        TaskExecutionStatus::Success | TaskExecutionStatus::Error
    )
}

async fn executions(
    client: &aws_sdk_datasync::Client,
    task_arn: &str,
) -> Result<Vec<(String, TaskExecutionStatus)>, AwsError> {
    let mut pages = client
        .list_task_executions()
        .task_arn(task_arn)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("datasync:ListTaskExecutions", e))?;
        for e in page.task_executions() {
            if let (Some(arn), Some(status)) = (e.task_execution_arn(), e.status()) {
                out.push((arn.to_owned(), status.clone()));
            }
        }
    }
    Ok(out)
}

async fn describe(
    client: &aws_sdk_datasync::Client,
    arn: &str,
) -> Result<
    aws_sdk_datasync::operation::describe_task_execution::DescribeTaskExecutionOutput,
    AwsError,
> {
    client
        .describe_task_execution()
        .task_execution_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("datasync:DescribeTaskExecution", e))
}

fn time_key(t: &DateTime) -> (i64, u32) {
    (t.secs(), t.subsec_nanos())
}

/// The most recent execution of the task (by start time), if any.
pub async fn last_execution(
    client: &aws_sdk_datasync::Client,
    task_arn: &str,
) -> Result<Option<LastExecution>, AwsError> {
    let mut newest: Option<(DateTime, LastExecution)> = None;
    // Executions are listed oldest first; the last few are enough to find the newest.
    let listed = executions(client, task_arn).await?;
    for (arn, _) in listed.iter().rev().take(10) {
        let out = describe(client, arn).await?;
        let Some(start) = out.start_time().copied() else {
            continue;
        };
        let entry = LastExecution {
            execution_arn: arn.clone(),
            status: out
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            started: start
                .fmt(aws_sdk_datasync::primitives::DateTimeFormat::DateTime)
                .ok(),
            files: out.files_transferred(),
            bytes: out.bytes_transferred(),
            error: out.result().and_then(|r| {
                r.error_code()
                    .map(|c| format!("{c}: {}", r.error_detail().unwrap_or_default()))
            }),
        };
        if newest
            .as_ref()
            .is_none_or(|(t, _)| time_key(&start) > time_key(t))
        {
            newest = Some((start, entry));
        }
    }
    Ok(newest.map(|(_, e)| e))
}

/// Copies the data prefix to EFS with the task, unless EFS is already up to date with
/// `latest_change` (the newest object under the prefix). With `wait` false, returns once the
/// execution has started.
pub async fn copy_to_efs(
    client: &aws_sdk_datasync::Client,
    task_arn: &str,
    latest_change: Option<DateTime>,
    force: bool,
    wait: bool,
    progress: Arc<dyn TransferReporter>,
) -> Result<EfsCopy, DataError> {
    let listed = executions(client, task_arn).await?;
    let (arn, action) = if let Some((arn, _)) = listed.iter().find(|(_, s)| running(s)) {
        progress.note(&format!(
            "a copy to EFS is already running ({arn}); following it"
        ));
        (arn.clone(), "attached")
    } else {
        if !force
            && let Some(change) = latest_change
            && let Some(done) = last_success_after(client, &listed, &change).await?
        {
            return Ok(done);
        }
        (start(client, task_arn).await?, "copied")
    };
    if !wait {
        let out = describe(client, &arn).await?;
        return Ok(EfsCopy {
            execution_arn: arn,
            action: if action == "copied" {
                "started"
            } else {
                action
            },
            status: out
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            files: out.files_transferred(),
            bytes: out.bytes_transferred(),
        });
    }
    progress.begin("copy to EFS (DataSync)", 0, 0);
    let done = follow(client, &arn, action, progress.as_ref()).await?;
    // An execution another run had started may have listed S3 before our newest objects.
    let started_before_change = matches!(
        (done.1, latest_change),
        (Some(start), Some(change)) if time_key(&start) <= time_key(&change)
    );
    if action == "attached" && started_before_change {
        progress
            .note("the copy that was followed started before the newest objects; copying again");
        let arn = start(client, task_arn).await?;
        return Ok(follow(client, &arn, "copied", progress.as_ref()).await?.0);
    }
    Ok(done.0)
}

/// Starts an execution of the task; returns its ARN.
async fn start(client: &aws_sdk_datasync::Client, task_arn: &str) -> Result<String, AwsError> {
    let started = client
        .start_task_execution()
        .task_arn(task_arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("datasync:StartTaskExecution", e))?;
    Ok(started.task_execution_arn().unwrap_or_default().to_owned())
}

/// Polls an execution until it ends; returns the result and the execution's start time.
async fn follow(
    client: &aws_sdk_datasync::Client,
    arn: &str,
    action: &'static str,
    progress: &dyn TransferReporter,
) -> Result<(EfsCopy, Option<DateTime>), DataError> {
    let arn = arn.to_owned();
    loop {
        let out = describe(client, &arn).await?;
        progress.set(
            out.files_transferred().max(0) as u64,
            out.bytes_transferred().max(0) as u64,
            out.estimated_bytes_to_transfer().max(0) as u64,
        );
        match out.status() {
            Some(TaskExecutionStatus::Success) => {
                progress.end();
                return Ok((
                    EfsCopy {
                        execution_arn: arn,
                        action,
                        status: "SUCCESS".to_owned(),
                        files: out.files_transferred(),
                        bytes: out.bytes_transferred(),
                    },
                    out.start_time().copied(),
                ));
            }
            Some(TaskExecutionStatus::Error) => {
                progress.end();
                let result = out.result();
                return Err(DataError::CopyFailed {
                    execution: arn,
                    code: result
                        .and_then(|r| r.error_code())
                        .unwrap_or("unknown")
                        .to_owned(),
                    detail: result
                        .and_then(|r| r.error_detail())
                        .unwrap_or("DataSync gave no detail")
                        .to_owned(),
                });
            }
            _ => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// The newest successful execution that started after `change`, as an up-to-date result.
async fn last_success_after(
    client: &aws_sdk_datasync::Client,
    listed: &[(String, TaskExecutionStatus)],
    change: &DateTime,
) -> Result<Option<EfsCopy>, AwsError> {
    for (arn, _) in listed
        .iter()
        .rev()
        .filter(|(_, s)| *s == TaskExecutionStatus::Success)
        .take(10)
    {
        let out = describe(client, arn).await?;
        if out
            .start_time()
            .is_some_and(|start| time_key(start) > time_key(change))
        {
            return Ok(Some(EfsCopy {
                execution_arn: arn.clone(),
                action: "up-to-date",
                status: "SUCCESS".to_owned(),
                files: 0,
                bytes: 0,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    //! DataSync against SDK-level mocks: moto answers CreateLocationEfs and ListTaskExecutions
    //! with 500 and skips AWS::DataSync::* in templates, so the EFS path cannot run there.
    use super::*;
    use crate::report::transfer::Silent;
    use aws_sdk_datasync::operation::describe_task_execution::DescribeTaskExecutionOutput;
    use aws_sdk_datasync::operation::list_task_executions::ListTaskExecutionsOutput;
    use aws_sdk_datasync::operation::start_task_execution::StartTaskExecutionOutput;
    use aws_sdk_datasync::types::{TaskExecutionListEntry, TaskExecutionResultDetail};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const TASK: &str = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0";
    const EXEC: &str =
        "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0/execution/exec-1";

    fn list(entries: &[(&str, TaskExecutionStatus)]) -> ListTaskExecutionsOutput {
        ListTaskExecutionsOutput::builder()
            .set_task_executions(Some(
                entries
                    .iter()
                    .map(|(arn, s)| {
                        TaskExecutionListEntry::builder()
                            .task_execution_arn(*arn)
                            .status(s.clone())
                            .build()
                    })
                    .collect(),
            ))
            .build()
    }

    fn status(s: TaskExecutionStatus, bytes: i64) -> DescribeTaskExecutionOutput {
        DescribeTaskExecutionOutput::builder()
            .task_execution_arn(EXEC)
            .status(s)
            .start_time(DateTime::from_secs(2_000))
            .bytes_transferred(bytes)
            .files_transferred(bytes / 10)
            .estimated_bytes_to_transfer(300)
            .build()
    }

    #[tokio::test(start_paused = true)]
    async fn starts_an_execution_and_waits_for_success() {
        let listed = mock!(aws_sdk_datasync::Client::list_task_executions)
            .match_requests(|r| r.task_arn() == Some(TASK))
            .then_output(|| list(&[]));
        let start = mock!(aws_sdk_datasync::Client::start_task_execution)
            .match_requests(|r| r.task_arn() == Some(TASK))
            .then_output(|| {
                StartTaskExecutionOutput::builder()
                    .task_execution_arn(EXEC)
                    .build()
            });
        let describe = mock!(aws_sdk_datasync::Client::describe_task_execution)
            .sequence()
            .output(|| status(TaskExecutionStatus::Launching, 0))
            .output(|| status(TaskExecutionStatus::Transferring, 100))
            .output(|| status(TaskExecutionStatus::Verifying, 300))
            .output(|| status(TaskExecutionStatus::Success, 300))
            .build();
        let client = mock_client!(
            aws_sdk_datasync,
            RuleMode::MatchAny,
            [&listed, &start, &describe]
        );
        let before = tokio::time::Instant::now();
        let copy = copy_to_efs(
            &client,
            TASK,
            Some(DateTime::from_secs(1_000)),
            false,
            true,
            Arc::new(Silent),
        )
        .await
        .unwrap();
        assert_eq!(copy.action, "copied");
        assert_eq!(copy.status, "SUCCESS");
        assert_eq!(copy.bytes, 300);
        assert_eq!(start.num_calls(), 1);
        assert_eq!(describe.num_calls(), 4);
        // Three waits of the poll interval, no busy loop.
        assert_eq!(before.elapsed(), POLL_INTERVAL * 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_execution_reports_datasyncs_error() {
        let listed =
            mock!(aws_sdk_datasync::Client::list_task_executions).then_output(|| list(&[]));
        let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_output(|| {
            StartTaskExecutionOutput::builder()
                .task_execution_arn(EXEC)
                .build()
        });
        let describe = mock!(aws_sdk_datasync::Client::describe_task_execution).then_output(|| {
            DescribeTaskExecutionOutput::builder()
                .task_execution_arn(EXEC)
                .status(TaskExecutionStatus::Error)
                .result(
                    TaskExecutionResultDetail::builder()
                        .error_code("NfsMountFailed")
                        .error_detail("mount.nfs: Connection timed out")
                        .build(),
                )
                .build()
        });
        let client = mock_client!(
            aws_sdk_datasync,
            RuleMode::MatchAny,
            [&listed, &start, &describe]
        );
        let err = copy_to_efs(&client, TASK, None, false, true, Arc::new(Silent))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the copy to EFS ({EXEC}) failed: NfsMountFailed: mount.nfs: Connection timed out"
            )
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_execution_is_followed_not_duplicated() {
        let listed = mock!(aws_sdk_datasync::Client::list_task_executions)
            .then_output(|| list(&[(EXEC, TaskExecutionStatus::Transferring)]));
        let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_output(|| {
            StartTaskExecutionOutput::builder()
                .task_execution_arn("other")
                .build()
        });
        let describe = mock!(aws_sdk_datasync::Client::describe_task_execution)
            .sequence()
            .output(|| status(TaskExecutionStatus::Transferring, 100))
            .output(|| status(TaskExecutionStatus::Success, 300))
            .build();
        let client = mock_client!(
            aws_sdk_datasync,
            RuleMode::MatchAny,
            [&listed, &start, &describe]
        );
        let copy = copy_to_efs(&client, TASK, None, true, true, Arc::new(Silent))
            .await
            .unwrap();
        assert_eq!(copy.action, "attached");
        assert_eq!(copy.execution_arn, EXEC);
        assert_eq!(start.num_calls(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_changed_since_the_last_copy_means_no_copy() {
        let listed = mock!(aws_sdk_datasync::Client::list_task_executions)
            .then_output(|| list(&[(EXEC, TaskExecutionStatus::Success)]));
        let start = mock!(aws_sdk_datasync::Client::start_task_execution).then_output(|| {
            StartTaskExecutionOutput::builder()
                .task_execution_arn("other")
                .build()
        });
        let describe = mock!(aws_sdk_datasync::Client::describe_task_execution)
            .then_output(|| status(TaskExecutionStatus::Success, 300));
        let client = mock_client!(
            aws_sdk_datasync,
            RuleMode::MatchAny,
            [&listed, &start, &describe]
        );
        // The last copy started at t=2000; the newest object is from t=1000.
        let copy = copy_to_efs(
            &client,
            TASK,
            Some(DateTime::from_secs(1_000)),
            false,
            true,
            Arc::new(Silent),
        )
        .await
        .unwrap();
        assert_eq!(copy.action, "up-to-date");
        assert_eq!(start.num_calls(), 0);
        // An object newer than the last copy starts a new one.
        let copy = copy_to_efs(
            &client,
            TASK,
            Some(DateTime::from_secs(3_000)),
            false,
            false,
            Arc::new(Silent),
        )
        .await
        .unwrap();
        assert_eq!(copy.action, "started");
        assert_eq!(start.num_calls(), 1);
    }
}
