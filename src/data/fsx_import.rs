//! FSx for Lustre: the file system is linked to the data bucket through a data repository
//! association (file system path `/` to `s3://<bucket>/`, with auto-import), for SCRATCH_2 and
//! PERSISTENT_2 alike. New objects show up lazily; an import task
//! (IMPORT_METADATA_FROM_REPOSITORY on the data prefix) makes the whole tree visible before a
//! job starts. It runs when objects changed since the last successful import, or with --force.
//!
//! The FSx API reference (CreateDataRepositoryTask, `Paths`) says that for import tasks the
//! paths are locations in the linked S3 bucket, `s3://bucket-name/prefix/`, not file system
//! paths (those are for export and release tasks); see [`import_path`].

use std::sync::Arc;

use aws_sdk_fsx::primitives::DateTime;
use aws_sdk_fsx::types::{
    CompletionReport, DataRepositoryTask, DataRepositoryTaskFilter, DataRepositoryTaskFilterName,
    DataRepositoryTaskLifecycle, DataRepositoryTaskType,
};
use serde::Serialize;

use crate::aws::AwsError;
use crate::report::transfer::TransferReporter;

use super::{DataError, POLL_INTERVAL};

/// What the FSx step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsxImport {
    /// Import task id.
    pub task_id: String,
    /// `imported`, `attached` (another run had started it), `started` (--no-wait), `up-to-date`.
    pub action: &'static str,
    /// Final (or current) lifecycle.
    pub lifecycle: String,
    /// Files the task processed.
    pub files: i64,
}

/// The last import task, as `data status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastImport {
    /// Task id.
    pub task_id: String,
    /// Lifecycle.
    pub lifecycle: String,
    /// End time (RFC 3339), when ended.
    pub ended: Option<String>,
    /// Files processed.
    pub files: i64,
    /// FSx's failure message.
    pub error: Option<String>,
}

fn time_key(t: &DateTime) -> (i64, u32) {
    (t.secs(), t.subsec_nanos())
}

fn is_running(task: &DataRepositoryTask) -> bool {
    matches!(
        task.lifecycle(),
        Some(DataRepositoryTaskLifecycle::Pending | DataRepositoryTaskLifecycle::Executing)
    )
}

/// Import tasks of the file system, newest first.
async fn import_tasks(
    client: &aws_sdk_fsx::Client,
    file_system_id: &str,
) -> Result<Vec<DataRepositoryTask>, AwsError> {
    let mut pages = client
        .describe_data_repository_tasks()
        .filters(
            DataRepositoryTaskFilter::builder()
                .name(DataRepositoryTaskFilterName::FileSystemId)
                .values(file_system_id)
                .build(),
        )
        .into_paginator()
        .send();
    let mut tasks = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("fsx:DescribeDataRepositoryTasks", e))?;
        // There is no task-type filter: keep the imports here.
        tasks.extend(
            page.data_repository_tasks()
                .iter()
                .filter(|t| t.r#type() == Some(&DataRepositoryTaskType::Import))
                .cloned(),
        );
    }
    tasks.sort_by_key(|t| std::cmp::Reverse(t.creation_time().map(time_key)));
    Ok(tasks)
}

fn files_of(task: &DataRepositoryTask) -> i64 {
    task.status()
        .and_then(|s| s.succeeded_count().or(s.total_count()))
        .unwrap_or(0)
}

/// The newest import task of the file system, if any.
pub async fn last_import(
    client: &aws_sdk_fsx::Client,
    file_system_id: &str,
) -> Result<Option<LastImport>, AwsError> {
    Ok(import_tasks(client, file_system_id)
        .await?
        .first()
        .map(|t| LastImport {
            task_id: t.task_id().unwrap_or_default().to_owned(),
            lifecycle: t
                .lifecycle()
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            ended: t.end_time().and_then(|e| {
                e.fmt(aws_sdk_fsx::primitives::DateTimeFormat::DateTime)
                    .ok()
            }),
            files: files_of(t),
            error: t
                .failure_details()
                .and_then(|f| f.message())
                .map(str::to_owned),
        }))
}

/// The `Paths` entry of an import task for `prefix` of `bucket`: an S3 URI ending in `/`, so
/// `train` does not also import `train2017/` (FSx API reference, CreateDataRepositoryTask:
/// "For import tasks, the list contains paths in the Amazon S3 bucket ... in the format
/// s3://bucket-name/prefix"). An empty prefix imports the whole bucket.
pub fn import_path(bucket: &str, prefix: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        format!("s3://{bucket}/")
    } else {
        format!("s3://{bucket}/{prefix}/")
    }
}

/// Imports `prefix` of `bucket` into the file system unless it is up to date with
/// `latest_change`.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    client: &aws_sdk_fsx::Client,
    file_system_id: &str,
    bucket: &str,
    prefix: &str,
    latest_change: Option<DateTime>,
    force: bool,
    wait: bool,
    progress: Arc<dyn TransferReporter>,
) -> Result<FsxImport, DataError> {
    let tasks = import_tasks(client, file_system_id).await?;
    let (task_id, action) = if let Some(running) = tasks.iter().find(|t| is_running(t)) {
        let id = running.task_id().unwrap_or_default().to_owned();
        progress.note(&format!(
            "an FSx import is already running ({id}); following it"
        ));
        (id, "attached")
    } else {
        let newest_success = tasks
            .iter()
            .find(|t| t.lifecycle() == Some(&DataRepositoryTaskLifecycle::Succeeded));
        if !force
            && let (Some(change), Some(done)) = (latest_change, newest_success)
            && done
                .end_time()
                .is_some_and(|end| time_key(end) > time_key(&change))
        {
            return Ok(FsxImport {
                task_id: done.task_id().unwrap_or_default().to_owned(),
                action: "up-to-date",
                lifecycle: "SUCCEEDED".to_owned(),
                files: files_of(done),
            });
        }
        let created = client
            .create_data_repository_task()
            .r#type(DataRepositoryTaskType::Import)
            .file_system_id(file_system_id)
            .paths(import_path(bucket, prefix))
            .report(CompletionReport::builder().enabled(false).build())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("fsx:CreateDataRepositoryTask", e))?;
        let id = created
            .data_repository_task()
            .and_then(|t| t.task_id())
            .unwrap_or_default()
            .to_owned();
        (id, "imported")
    };
    if wait {
        progress.begin("FSx import", 0, 0);
    }
    loop {
        let task = describe(client, &task_id).await?;
        let lifecycle = task.lifecycle().cloned();
        let files = files_of(&task);
        if !wait {
            return Ok(FsxImport {
                task_id,
                action: if action == "imported" {
                    "started"
                } else {
                    action
                },
                lifecycle: lifecycle.map(|l| l.as_str().to_owned()).unwrap_or_default(),
                files,
            });
        }
        progress.set(files.max(0) as u64, 0, 0);
        match lifecycle {
            Some(DataRepositoryTaskLifecycle::Succeeded) => {
                progress.end();
                return Ok(FsxImport {
                    task_id,
                    action,
                    lifecycle: "SUCCEEDED".to_owned(),
                    files,
                });
            }
            Some(
                l @ (DataRepositoryTaskLifecycle::Failed | DataRepositoryTaskLifecycle::Canceled),
            ) => {
                progress.end();
                return Err(DataError::ImportFailed {
                    task: task_id,
                    status: l.as_str().to_owned(),
                    message: task
                        .failure_details()
                        .and_then(|f| f.message())
                        .unwrap_or("FSx gave no detail")
                        .to_owned(),
                });
            }
            _ => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

async fn describe(
    client: &aws_sdk_fsx::Client,
    task_id: &str,
) -> Result<DataRepositoryTask, AwsError> {
    let out = client
        .describe_data_repository_tasks()
        .task_ids(task_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("fsx:DescribeDataRepositoryTasks", e))?;
    out.data_repository_tasks().first().cloned().ok_or_else(|| {
        AwsError::service(
            "fsx:DescribeDataRepositoryTasks",
            "DataRepositoryTaskNotFound",
            format!("task {task_id} is not listed"),
        )
    })
}

#[cfg(test)]
mod tests {
    //! FSx import tasks against SDK-level mocks: moto's FSx answers data repository task calls
    //! with 500 (and skips AWS::FSx::FileSystem in templates).
    use super::*;
    use crate::report::transfer::Silent;
    use aws_sdk_fsx::operation::create_data_repository_task::CreateDataRepositoryTaskOutput;
    use aws_sdk_fsx::operation::describe_data_repository_tasks::DescribeDataRepositoryTasksOutput;
    use aws_sdk_fsx::types::{DataRepositoryTaskFailureDetails, DataRepositoryTaskStatus};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const FS: &str = "fs-0123456789abcdef0";

    fn task(
        id: &str,
        lifecycle: DataRepositoryTaskLifecycle,
        end: Option<i64>,
    ) -> DataRepositoryTask {
        DataRepositoryTask::builder()
            .task_id(id)
            .lifecycle(lifecycle)
            .r#type(DataRepositoryTaskType::Import)
            .creation_time(DateTime::from_secs(end.unwrap_or(5_000) - 100))
            .set_end_time(end.map(DateTime::from_secs))
            .file_system_id(FS)
            .status(
                DataRepositoryTaskStatus::builder()
                    .total_count(120)
                    .succeeded_count(120)
                    .build(),
            )
            .build()
    }

    fn listed(tasks: Vec<DataRepositoryTask>) -> DescribeDataRepositoryTasksOutput {
        DescribeDataRepositoryTasksOutput::builder()
            .set_data_repository_tasks(Some(tasks))
            .build()
    }

    #[tokio::test(start_paused = true)]
    async fn changed_objects_start_an_import_of_the_prefix_and_wait() {
        let history = mock!(aws_sdk_fsx::Client::describe_data_repository_tasks)
            .match_requests(|r| r.task_ids().is_empty())
            .then_output(|| {
                listed(vec![task(
                    "task-old",
                    DataRepositoryTaskLifecycle::Succeeded,
                    Some(1_000),
                )])
            });
        let create = mock!(aws_sdk_fsx::Client::create_data_repository_task)
            .match_requests(|r| {
                // The FSx API reference, CreateDataRepositoryTask: import paths are S3 URIs in
                // the linked bucket (s3://bucket-name/prefix/), not file system paths.
                r.file_system_id() == Some(FS)
                    && r.paths() == ["s3://coco-data/mask-rcnn/sagemaker/input/train/"]
                    && r.r#type() == Some(&DataRepositoryTaskType::Import)
                    && r.report().is_some_and(|c| c.enabled() == Some(false))
            })
            .then_output(|| {
                CreateDataRepositoryTaskOutput::builder()
                    .data_repository_task(task(
                        "task-new",
                        DataRepositoryTaskLifecycle::Pending,
                        None,
                    ))
                    .build()
            });
        let poll = mock!(aws_sdk_fsx::Client::describe_data_repository_tasks)
            .match_requests(|r| r.task_ids() == ["task-new"])
            .sequence()
            .output(|| {
                listed(vec![task(
                    "task-new",
                    DataRepositoryTaskLifecycle::Executing,
                    None,
                )])
            })
            .output(|| {
                listed(vec![task(
                    "task-new",
                    DataRepositoryTaskLifecycle::Succeeded,
                    Some(3_000),
                )])
            })
            .build();
        let client = mock_client!(aws_sdk_fsx, RuleMode::MatchAny, [&history, &create, &poll]);
        let started = tokio::time::Instant::now();
        let done = import(
            &client,
            FS,
            "coco-data",
            "/mask-rcnn/sagemaker/input/train/",
            Some(DateTime::from_secs(2_000)),
            false,
            true,
            Arc::new(Silent),
        )
        .await
        .unwrap();
        assert_eq!(done.action, "imported");
        assert_eq!(done.task_id, "task-new");
        assert_eq!(done.files, 120);
        assert_eq!(create.num_calls(), 1);
        assert_eq!(started.elapsed(), POLL_INTERVAL);
    }

    #[test]
    fn import_paths_are_s3_uris_of_the_prefix() {
        assert_eq!(import_path("b", "coco/2017"), "s3://b/coco/2017/");
        assert_eq!(import_path("b", "/coco/"), "s3://b/coco/");
        assert_eq!(import_path("b", ""), "s3://b/");
    }

    #[tokio::test(start_paused = true)]
    async fn an_import_after_the_last_change_is_enough() {
        let history =
            mock!(aws_sdk_fsx::Client::describe_data_repository_tasks).then_output(|| {
                listed(vec![task(
                    "task-old",
                    DataRepositoryTaskLifecycle::Succeeded,
                    Some(3_000),
                )])
            });
        let create = mock!(aws_sdk_fsx::Client::create_data_repository_task)
            .then_output(|| CreateDataRepositoryTaskOutput::builder().build());
        let client = mock_client!(aws_sdk_fsx, RuleMode::MatchAny, [&history, &create]);
        let done = import(
            &client,
            FS,
            "coco-data",
            "p",
            Some(DateTime::from_secs(2_000)),
            false,
            true,
            Arc::new(Silent),
        )
        .await
        .unwrap();
        assert_eq!(done.action, "up-to-date");
        assert_eq!(done.task_id, "task-old");
        assert_eq!(create.num_calls(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_import_says_why() {
        let failed = || {
            let mut t = task("task-new", DataRepositoryTaskLifecycle::Failed, Some(3_000));
            t.failure_details = Some(
                DataRepositoryTaskFailureDetails::builder()
                    .message("The data repository is not accessible")
                    .build(),
            );
            t
        };
        let history = mock!(aws_sdk_fsx::Client::describe_data_repository_tasks)
            .match_requests(|r| r.task_ids().is_empty())
            .then_output(|| listed(vec![]));
        let create = mock!(aws_sdk_fsx::Client::create_data_repository_task).then_output(|| {
            CreateDataRepositoryTaskOutput::builder()
                .data_repository_task(task("task-new", DataRepositoryTaskLifecycle::Pending, None))
                .build()
        });
        let poll = mock!(aws_sdk_fsx::Client::describe_data_repository_tasks)
            .match_requests(|r| r.task_ids() == ["task-new"])
            .then_output(move || listed(vec![failed()]));
        let client = mock_client!(aws_sdk_fsx, RuleMode::MatchAny, [&history, &create, &poll]);
        let err = import(
            &client,
            FS,
            "coco-data",
            "p",
            None,
            true,
            true,
            Arc::new(Silent),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the FSx import task task-new ended FAILED: The data repository is not accessible"
        );
    }
}
