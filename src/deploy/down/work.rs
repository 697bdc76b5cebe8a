//! Work running on the stack that would block or survive its deletion, ended before
//! DeleteStack: FSx data repository tasks ("You cannot delete an FSx for Lustre file system if
//! there are data repository tasks for the file system in the PENDING or EXECUTING states",
//! FSx API reference, DataRepositoryTask), DataSync task executions (they hold the EFS
//! location's interfaces), and, with `--force`, training jobs in the stack's subnets.

use std::collections::BTreeSet;

use aws_sdk_datasync::types::TaskExecutionStatus;
use aws_sdk_fsx::types::{
    DataRepositoryTaskFilter, DataRepositoryTaskFilterName, DataRepositoryTaskLifecycle,
};
use aws_sdk_sagemaker::client::Waiters as _;
use aws_sdk_sagemaker::types::TrainingJobStatus;

use super::sweep::{SweepError, SweepSettings};
use crate::aws::{Aws, AwsError};
use crate::report::Reporter;

/// A training job of the stack that has not ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its name.
    pub name: String,
    /// InProgress (true) or already Stopping (false).
    pub running: bool,
}

/// Training jobs in progress or stopping that are the stack's: run with its execution role
/// (`role`), or with a subnet or security group the stack created (`subnets`, `group`).
pub async fn running_jobs(
    aws: &Aws,
    subnets: &BTreeSet<String>,
    group: Option<&str>,
    role: Option<&str>,
) -> Result<Vec<Job>, AwsError> {
    let mut jobs = Vec::new();
    for status in [TrainingJobStatus::InProgress, TrainingJobStatus::Stopping] {
        let mut pages = aws
            .sagemaker
            .list_training_jobs()
            .status_equals(status.clone())
            .into_paginator()
            .items()
            .send();
        while let Some(job) = pages.next().await {
            let job = job.map_err(|e| AwsError::from_sdk("ListTrainingJobs", e))?;
            let name = job.training_job_name().unwrap_or_default();
            let described = aws
                .sagemaker
                .describe_training_job()
                .training_job_name(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeTrainingJob", e))?;
            let by_role = role.is_some_and(|r| described.role_arn() == Some(r));
            let by_network = described.vpc_config().is_some_and(|v| {
                v.subnets().iter().any(|s| subnets.contains(s))
                    || group.is_some_and(|g| v.security_group_ids().iter().any(|s| s == g))
            });
            if by_role || by_network {
                jobs.push(Job {
                    name: name.to_owned(),
                    running: status == TrainingJobStatus::InProgress,
                });
            }
        }
    }
    Ok(jobs)
}

/// StopTrainingJob for each running one of `jobs`, then waits until each is Stopped (or
/// ended otherwise), including those that were already stopping.
pub async fn stop_jobs(
    aws: &Aws,
    jobs: &[Job],
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<(), SweepError> {
    for name in jobs.iter().filter(|j| j.running).map(|j| &j.name) {
        if let Err(err) = aws
            .sagemaker
            .stop_training_job()
            .training_job_name(name)
            .send()
            .await
        {
            let err = AwsError::from_sdk("StopTrainingJob", err);
            // A retry after a lost answer, or a job that ended meanwhile: SageMaker answers
            // "ValidationException: The request was rejected because the training job is in
            // status Stopped." Whether it still runs is decided by the wait below.
            if err.code() != Some("ValidationException") {
                return Err(err.into());
            }
        }
        reporter.notice(&format!(
            "stopping training job {name} (--force); SageMaker gives it 120 s to save its work"
        ));
    }
    for name in jobs.iter().map(|j| &j.name) {
        // The SDK's TrainingJobCompletedOrStopped waiter (DescribeTrainingJob: Completed or
        // Stopped is success, Failed a failure state, which also means it no longer runs).
        let waited = aws
            .sagemaker
            .wait_until_training_job_completed_or_stopped()
            .training_job_name(name)
            .wait(settings.resource_timeout)
            .await;
        if waited.is_err() {
            let status = aws
                .sagemaker
                .describe_training_job()
                .training_job_name(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeTrainingJob", e))?
                .training_job_status()
                .cloned();
            if matches!(
                status,
                Some(TrainingJobStatus::InProgress | TrainingJobStatus::Stopping)
            ) {
                return Err(SweepError::Timeout {
                    what: format!("training job {name}"),
                    waited: settings.resource_timeout,
                    detail: format!(
                        "it is still {}; nothing of the stack was deleted. Run `stackctl down --force` again later",
                        status.map(|s| s.as_str().to_owned()).unwrap_or_default()
                    ),
                });
            }
        }
        reporter.notice(&format!("training job {name} stopped"));
    }
    Ok(())
}

/// Cancels the PENDING and EXECUTING data repository tasks of the file systems `fs_ids` and
/// waits until none is left running.
pub async fn cancel_fsx_tasks(
    aws: &Aws,
    fs_ids: &[String],
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<(), SweepError> {
    if fs_ids.is_empty() {
        return Ok(());
    }
    let started = tokio::time::Instant::now();
    let mut cancelled: BTreeSet<String> = BTreeSet::new();
    loop {
        let running = running_fsx_tasks(aws, fs_ids).await?;
        if running.is_empty() {
            return Ok(());
        }
        for (task, lifecycle) in &running {
            if *lifecycle == DataRepositoryTaskLifecycle::Canceling || cancelled.contains(task) {
                continue;
            }
            match aws
                .fsx
                .cancel_data_repository_task()
                .task_id(task)
                .send()
                .await
            {
                Ok(_) => {}
                Err(err) => {
                    let err = AwsError::from_sdk("CancelDataRepositoryTask", err);
                    // "The data repository task could not be canceled because the task has
                    // already ended": a retry, or it finished meanwhile.
                    if !matches!(
                        err.code(),
                        Some("DataRepositoryTaskEnded" | "DataRepositoryTaskNotFound")
                    ) {
                        return Err(err.into());
                    }
                }
            }
            cancelled.insert(task.clone());
            reporter.notice(&format!(
                "cancelled FSx data repository task {task} ({}); FSx cannot be deleted while it runs",
                lifecycle.as_str()
            ));
        }
        if started.elapsed() >= settings.resource_timeout {
            return Err(not_ended(
                "FSx data repository task(s)",
                running.iter().map(|(id, _)| id.as_str()),
                settings,
            ));
        }
        tokio::time::sleep(settings.poll).await;
    }
}

/// Tasks of `fs_ids` that are PENDING, EXECUTING or CANCELING.
async fn running_fsx_tasks(
    aws: &Aws,
    fs_ids: &[String],
) -> Result<Vec<(String, DataRepositoryTaskLifecycle)>, AwsError> {
    let filter = DataRepositoryTaskFilter::builder()
        .name(DataRepositoryTaskFilterName::FileSystemId)
        .set_values(Some(fs_ids.to_vec()))
        .build();
    let mut running = Vec::new();
    let mut pages = aws
        .fsx
        .describe_data_repository_tasks()
        .filters(filter)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page.map_err(|e| AwsError::from_sdk("DescribeDataRepositoryTasks", e)) {
            Ok(page) => page,
            // The file system is gone (a rolled-back create, an earlier deletion): no task runs.
            Err(err) if err.code() == Some("FileSystemNotFound") => break,
            Err(err) => return Err(err),
        };
        for task in page.data_repository_tasks() {
            let Some(lifecycle) = task.lifecycle() else {
                continue;
            };
            if matches!(
                lifecycle,
                DataRepositoryTaskLifecycle::Pending
                    | DataRepositoryTaskLifecycle::Executing
                    | DataRepositoryTaskLifecycle::Canceling
            ) && let Some(id) = task.task_id()
            {
                running.push((id.to_owned(), lifecycle.clone()));
            }
        }
    }
    Ok(running)
}

/// Cancels the running executions of the DataSync tasks `task_arns` and waits until each has
/// ended (DataSync has no CANCELLED status: a cancelled execution ends in ERROR).
pub async fn cancel_datasync_executions(
    aws: &Aws,
    task_arns: &[String],
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<(), SweepError> {
    let started = tokio::time::Instant::now();
    let mut cancelled: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut running = Vec::new();
        for task in task_arns {
            let mut pages = aws
                .datasync
                .list_task_executions()
                .task_arn(task)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ListTaskExecutions", e))?;
                for e in page.task_executions() {
                    let done = matches!(
                        e.status(),
                        Some(TaskExecutionStatus::Success | TaskExecutionStatus::Error) | None
                    );
                    if !done && let Some(arn) = e.task_execution_arn() {
                        running.push((arn.to_owned(), e.status().cloned()));
                    }
                }
            }
        }
        if running.is_empty() {
            return Ok(());
        }
        for (arn, status) in &running {
            if status.as_ref() == Some(&TaskExecutionStatus::Cancelling) || cancelled.contains(arn)
            {
                continue;
            }
            if let Err(err) = aws
                .datasync
                .cancel_task_execution()
                .task_execution_arn(arn)
                .send()
                .await
            {
                let err = AwsError::from_sdk("CancelTaskExecution", err);
                // What DataSync answers for an execution that already ended is not documented
                // (InvalidRequestException is its only client error): accept the refusal only
                // when the execution has in fact ended.
                if err.code() != Some("InvalidRequestException")
                    || !execution_ended(aws, arn).await?
                {
                    return Err(err.into());
                }
            }
            cancelled.insert(arn.clone());
            reporter.notice(&format!(
                "cancelled DataSync task execution {arn}; it holds the EFS location's network interfaces"
            ));
        }
        if started.elapsed() >= settings.resource_timeout {
            return Err(not_ended(
                "DataSync task execution(s)",
                running.iter().map(|(id, _)| id.as_str()),
                settings,
            ));
        }
        tokio::time::sleep(settings.poll).await;
    }
}

/// The deadline passed with `ids` of `kind` cancelled but not ended.
fn not_ended<'a>(
    kind: &str,
    ids: impl Iterator<Item = &'a str>,
    settings: SweepSettings,
) -> SweepError {
    SweepError::Timeout {
        what: format!("{kind} {}", ids.collect::<Vec<_>>().join(", ")),
        waited: settings.resource_timeout,
        detail: "they were cancelled but have not ended; nothing of the stack was deleted. Run `stackctl down` again later".to_owned(),
    }
}

/// True when the DataSync task execution `arn` has ended (SUCCESS or ERROR).
async fn execution_ended(aws: &Aws, arn: &str) -> Result<bool, AwsError> {
    let out = aws
        .datasync
        .describe_task_execution()
        .task_execution_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeTaskExecution", e))?;
    Ok(matches!(
        out.status(),
        Some(TaskExecutionStatus::Success | TaskExecutionStatus::Error)
    ))
}
