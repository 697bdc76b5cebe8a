//! What `job submit` checks before CreateTrainingJob (and with `--dry-run`): on AWS a job with
//! no data, no image or no quota fails only after its instances were provisioned and billed.
//!
//! - data: the channel's source holds the model's layout, with the layout check `data status`
//!   uses ([`Requirements`] over a ListObjectsV2 of the prefix). S3 channels read the prefix
//!   itself; FSx serves the bucket through its data repository link (`/` of the file system is
//!   the bucket's root), so the same prefix is listed. EFS has no API that lists its files:
//!   what is checked instead is its source, the prefix in S3, and the last run of the stack's
//!   DataSync task that copies it there.
//! - image: the image exists in ECR ([`super::image::check`]); an image AWS publishes (a
//!   built-in algorithm) cannot be looked up with the caller's ECR.
//! - quota: the account's SageMaker quota for the instance type (the spot one for spot jobs)
//!   covers the instance count; a quota that cannot be read is a warning.

use aws_sdk_datasync::primitives::{DateTime, DateTimeFormat};

use super::{Finding, image, quotas};
use crate::aws::Aws;
use crate::data::datasync;
use crate::data::local::Requirements;
use crate::data::remote::{self, RemoteListing};
use crate::data::s3_url;
use crate::jobs::profile::Profile;
use crate::jobs::request::{DataSourceKind, StackFacts};
use crate::spec::scalars::ImageUri;

/// Check name of the data layout.
pub const DATA: &str = "data";
/// Check name of the EFS copy.
pub const EFS_COPY: &str = "data.efs";

/// What a job is about to use.
#[derive(Debug, Clone)]
pub struct JobUse<'a> {
    /// The model's profile (its layout and channels).
    pub profile: &'a Profile,
    /// The stack's outputs, with the model's own data prefix applied.
    pub facts: &'a StackFacts,
    /// `--data`.
    pub data: DataSourceKind,
    /// Whether `--file-system-id` replaced the stack's file system.
    pub own_file_system: bool,
    /// Image URI.
    pub image: &'a str,
    /// True for an image from AWS's registry table (not in the caller's account).
    pub published_image: bool,
    /// Instance type.
    pub instance_type: &'a str,
    /// Instances.
    pub instance_count: u32,
    /// Managed spot (its quotas are separate).
    pub spot: bool,
    /// False with `--skip-data-check`.
    pub check_data: bool,
}

/// Every check for `job`; read-only, and an API that cannot be read is a warning.
pub async fn checks(aws: &Aws, job: &JobUse<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    if job.check_data {
        findings.extend(data(aws, job).await);
    } else {
        findings.push(Finding::unchecked(
            DATA,
            "skipped (--skip-data-check): the channel's data is assumed to be in place",
        ));
    }
    findings.push(image_check(aws, job).await);
    findings.push(quota_check(aws, job).await);
    findings
}

/// Where the layout is read for `--data` (a channel fixed to one source reads only that).
fn source(job: &JobUse<'_>) -> DataSourceKind {
    job.profile
        .channels
        .values()
        .find_map(|c| c.only_from)
        .unwrap_or(job.data)
}

/// The command that stages the model's layout to its prefix.
pub fn stage_command(profile: &Profile, source: DataSourceKind) -> String {
    let to = match source {
        DataSourceKind::S3 => "",
        DataSourceKind::Efs => " --to efs",
        DataSourceKind::Fsx => " --to fsx",
    };
    match profile.data_prefix {
        // The Mask R-CNN layout: the stack's DataPrefix, the default of `data stage`.
        None => format!(
            "`stackctl data stage --from DIR{to}` (an extracted COCO 2017 tree) or `stackctl data stage --download coco2017{to}`"
        ),
        Some(_) => format!("`stackctl data stage --model {} --from DIR`", profile.name),
    }
}

async fn data(aws: &Aws, job: &JobUse<'_>) -> Vec<Finding> {
    let facts = job.facts;
    let source = source(job);
    let url = s3_url(&facts.bucket, &facts.prefix);
    let skip = "or pass --skip-data-check when the data was staged by other means";
    let listing = match remote::list(&aws.s3, &facts.bucket, &facts.prefix).await {
        Ok(listing) => listing,
        Err(e) => {
            return vec![Finding::warn(
                DATA,
                format!("cannot list {url}: {e}"),
                "allow s3:ListBucket on the data bucket, or check the data with `stackctl data status`",
            )];
        }
    };
    let via = match source {
        DataSourceKind::S3 => String::new(),
        // A file system given with --file-system-id is assumed linked as the stack's is.
        DataSourceKind::Fsx => format!(
            " (FSx {} serves the bucket through its data repository link{})",
            facts.fsx_id.as_deref().unwrap_or("-"),
            if job.own_file_system {
                ", assumed to be the stack bucket's root as for the stack's own"
            } else {
                ""
            }
        ),
        DataSourceKind::Efs => " (the source the stack's DataSync task copies to EFS)".to_owned(),
    };
    let missing = Requirements::from_layouts([&job.profile.data_layout], &[])
        .missing(listing.objects.keys().map(String::as_str));
    let mut findings = vec![if missing.is_empty() {
        Finding::ok(
            DATA,
            format!(
                "{url}{via} holds the {} layout ({} objects)",
                job.profile.name,
                listing.objects.len()
            ),
        )
    } else {
        Finding::fatal(
            DATA,
            format!(
                "{url}{via} does not hold the {} layout:\n    {}",
                job.profile.name,
                missing.join("\n    ")
            ),
            format!(
                "stage it with {}, {skip}",
                stage_command(job.profile, DataSourceKind::S3)
            ),
        )
    }];
    if source == DataSourceKind::Efs && missing.is_empty() {
        findings.push(efs_copy(aws, job, &listing).await);
    }
    findings
}

/// What can be known of EFS: the last copy of the S3 prefix by the stack's DataSync task.
async fn efs_copy(aws: &Aws, job: &JobUse<'_>, listing: &RemoteListing) -> Finding {
    let facts = job.facts;
    let fs = facts.efs_id.as_deref().unwrap_or("-");
    let no_api = format!("EFS {fs}: no AWS API lists the files of a file system");
    let task = match (&facts.datasync_task, job.own_file_system) {
        (_, true) => {
            return Finding::unchecked(
                EFS_COPY,
                format!(
                    "{no_api}, and --file-system-id names one the stack's DataSync task does not fill; only its S3 source was checked"
                ),
            );
        }
        (None, false) => {
            return Finding::unchecked(
                EFS_COPY,
                format!(
                    "{no_api}, and the stack has no DataSync task whose last copy would show the data reached it; only its S3 source was checked"
                ),
            );
        }
        (Some(task), false) => task,
    };
    let stage = stage_command(job.profile, DataSourceKind::Efs);
    let skip = "or pass --skip-data-check when EFS was filled by other means";
    let last = match datasync::last_execution(&aws.datasync, task).await {
        Ok(last) => last,
        Err(e) => {
            return Finding::warn(
                EFS_COPY,
                format!("cannot read the last copy to EFS {fs}: {e}"),
                "allow datasync:ListTaskExecutions and datasync:DescribeTaskExecution, or check with `stackctl data status`",
            );
        }
    };
    let Some(last) = last else {
        return Finding::fatal(
            EFS_COPY,
            format!(
                "EFS {fs} was never filled: the stack's DataSync task has not copied the data prefix to it"
            ),
            format!("copy it with {stage}, {skip}"),
        );
    };
    match last.status.as_str() {
        "SUCCESS" => {}
        "ERROR" => {
            return Finding::fatal(
                EFS_COPY,
                format!(
                    "the last copy to EFS {fs} ({}) failed: {}",
                    last.execution_arn,
                    last.error.as_deref().unwrap_or("no detail")
                ),
                format!("copy it again with {stage}, {skip}"),
            );
        }
        running => {
            return Finding::fatal(
                EFS_COPY,
                format!(
                    "the copy to EFS {fs} ({}) is still {running}: a job started now reads a partial tree",
                    last.execution_arn
                ),
                format!("wait for it (`stackctl data status` shows it), {skip}"),
            );
        }
    }
    let started = last
        .started
        .as_deref()
        .and_then(|s| DateTime::from_str(s, DateTimeFormat::DateTime).ok());
    match (started, listing.latest_change()) {
        (Some(copied), Some(changed)) if changed.secs() > copied.secs() => Finding::warn(
            EFS_COPY,
            format!(
                "EFS {fs} was last filled at {}, before the newest change in S3: the job may read older data",
                last.started.as_deref().unwrap_or("-")
            ),
            format!("copy it again with {stage}"),
        ),
        _ => Finding::ok(
            EFS_COPY,
            format!(
                "EFS {fs}: the last copy ({}, {} files) succeeded after the newest change in S3",
                last.started.as_deref().unwrap_or("-"),
                last.files
            ),
        ),
    }
}

async fn image_check(aws: &Aws, job: &JobUse<'_>) -> Finding {
    let model = job.profile.name.as_str();
    if job.published_image {
        return Finding::unchecked(
            image::CHECK,
            format!(
                "{model}: {} is published by AWS (a built-in algorithm); ECR answers only for the caller's registries",
                job.image
            ),
        );
    }
    match job.image.parse::<ImageUri>() {
        Ok(uri) => image::check(&aws.ecr, model, &uri).await,
        Err(e) => Finding::unchecked(image::CHECK, format!("{model}: {e}")),
    }
}

async fn quota_check(aws: &Aws, job: &JobUse<'_>) -> Finding {
    // Spot capacity has quotas of its own ("ml.p3.16xlarge for spot training job usage").
    let usage = if job.spot {
        "for spot training job usage"
    } else {
        "for training job usage"
    };
    match quotas::sagemaker_quotas(&aws.quotas).await {
        Ok(q) => quotas::check(
            quotas::TRAINING,
            &q,
            job.instance_type,
            usage,
            job.instance_count,
        ),
        Err(e) => Finding::warn(
            quotas::TRAINING,
            format!("cannot read the SageMaker quotas: {e}"),
            "allow servicequotas:ListServiceQuotas, or check the quota in the Service Quotas console",
        ),
    }
}

#[cfg(test)]
mod tests {
    //! What the emulator cannot answer, with `aws-smithy-mocks` replies shaped like the API
    //! references: Service Quotas' ListServiceQuotas (`Quotas[]` with `QuotaName`, `QuotaCode`,
    //! `Value`; spot training has quotas of its own, named "<type> for spot training job
    //! usage"), and DataSync's ListTaskExecutions / DescribeTaskExecution (`Status` SUCCESS or
    //! ERROR, `StartTime`, `Result.ErrorCode` and `ErrorDetail`).

    use std::collections::BTreeMap;

    use aws_sdk_datasync::operation::describe_task_execution::DescribeTaskExecutionOutput;
    use aws_sdk_datasync::operation::list_task_executions::ListTaskExecutionsOutput;
    use aws_sdk_datasync::types::{
        TaskExecutionListEntry, TaskExecutionResultDetail, TaskExecutionStatus,
    };
    use aws_sdk_servicequotas::error::ErrorMetadata;
    use aws_sdk_servicequotas::operation::list_aws_default_service_quotas::ListAwsDefaultServiceQuotasOutput;
    use aws_sdk_servicequotas::operation::list_service_quotas::{
        ListServiceQuotasError, ListServiceQuotasOutput,
    };
    use aws_sdk_servicequotas::types::ServiceQuota;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::data::remote::RemoteObject;
    use crate::preflight::Severity;
    use crate::spec::file::ModelName;

    const TASK: &str = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0";
    const EXEC: &str =
        "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0/execution/exec-1";

    fn facts() -> StackFacts {
        StackFacts {
            stack: "mask-rcnn".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            subnets: vec!["subnet-01".into()],
            security_group: "sg-01".into(),
            bucket: "data-bucket".into(),
            prefix: "mask-rcnn/sagemaker/input/train".into(),
            fsx_subnet: None,
            efs_id: Some("fs-0123abcd".into()),
            fsx_id: None,
            fsx_mount_name: None,
            datasync_task: Some(TASK.into()),
        }
    }

    fn job<'a>(profile: &'a Profile, facts: &'a StackFacts, spot: bool) -> JobUse<'a> {
        JobUse {
            profile,
            facts,
            data: DataSourceKind::Efs,
            own_file_system: false,
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest",
            published_image: false,
            instance_type: "ml.p3.16xlarge",
            instance_count: 4,
            spot,
            check_data: true,
        }
    }

    fn aws() -> Aws {
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
                .build(),
        );
        Aws::with_cloudformation(cfn)
    }

    fn quota(name: &str, code: &str, value: f64) -> ServiceQuota {
        ServiceQuota::builder()
            .service_code("sagemaker")
            .quota_name(name)
            .quota_code(code)
            .value(value)
            .build()
    }

    #[tokio::test]
    async fn a_spot_job_is_held_to_the_spot_quota_and_an_unreadable_quota_is_a_warning() {
        let listed = mock!(aws_sdk_servicequotas::Client::list_service_quotas).then_output(|| {
            ListServiceQuotasOutput::builder()
                .quotas(quota(
                    "ml.p3.16xlarge for training job usage",
                    "L-2DC4A4A6",
                    8.0,
                ))
                .quotas(quota(
                    "ml.p3.16xlarge for spot training job usage",
                    "L-4E2B8B8E",
                    2.0,
                ))
                .build()
        });
        let defaults = mock!(aws_sdk_servicequotas::Client::list_aws_default_service_quotas)
            .then_output(|| ListAwsDefaultServiceQuotasOutput::builder().build());
        let mut aws = aws();
        aws.quotas = mock_client!(
            aws_sdk_servicequotas,
            RuleMode::MatchAny,
            [&listed, &defaults]
        );
        let profile = Profile::embedded(ModelName::Tensorpack).unwrap();
        let facts = facts();
        let spot = quota_check(&aws, &job(&profile, &facts, true)).await;
        assert_eq!(spot.severity, Severity::Fatal, "{spot:?}");
        assert_eq!(
            spot.message,
            "\"ml.p3.16xlarge for spot training job usage\" (L-4E2B8B8E) is 2, but 4 instance(s) are needed"
        );
        assert!(
            spot.fix
                .unwrap()
                .contains("--quota-code L-4E2B8B8E --desired-value 4")
        );
        let on_demand = quota_check(&aws, &job(&profile, &facts, false)).await;
        assert_eq!(on_demand.severity, Severity::Ok, "{on_demand:?}");

        let denied = mock!(aws_sdk_servicequotas::Client::list_service_quotas).then_error(|| {
            ListServiceQuotasError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized to perform servicequotas:ListServiceQuotas")
                    .build(),
            )
        });
        aws.quotas = mock_client!(aws_sdk_servicequotas, RuleMode::MatchAny, [&denied]);
        let unread = quota_check(&aws, &job(&profile, &facts, false)).await;
        assert_eq!(unread.severity, Severity::Warn, "{unread:?}");
        assert!(
            unread.message.contains("AccessDeniedException"),
            "{unread:?}"
        );
    }

    fn listing(changed_secs: i64) -> RemoteListing {
        let mut objects = BTreeMap::new();
        objects.insert(
            "train2017/a.jpg".to_owned(),
            RemoteObject {
                size: 1,
                etag: "\"e\"".into(),
                last_modified: Some(aws_sdk_s3::primitives::DateTime::from_secs(changed_secs)),
            },
        );
        RemoteListing { objects }
    }

    /// The last copy of the task: `None` for a task never run.
    fn datasync(last: Option<(TaskExecutionStatus, i64)>) -> aws_sdk_datasync::Client {
        let entries: Vec<TaskExecutionListEntry> = last
            .iter()
            .map(|(s, _)| {
                TaskExecutionListEntry::builder()
                    .task_execution_arn(EXEC)
                    .status(s.clone())
                    .build()
            })
            .collect();
        let listed = mock!(aws_sdk_datasync::Client::list_task_executions)
            .match_requests(|r| r.task_arn() == Some(TASK))
            .then_output(move || {
                ListTaskExecutionsOutput::builder()
                    .set_task_executions(Some(entries.clone()))
                    .build()
            });
        let described =
            mock!(aws_sdk_datasync::Client::describe_task_execution).then_output(move || {
                let (status, started) = last.clone().expect("described only when listed");
                let mut out = DescribeTaskExecutionOutput::builder()
                    .task_execution_arn(EXEC)
                    .status(status.clone())
                    .start_time(DateTime::from_secs(started))
                    .files_transferred(361);
                if status == TaskExecutionStatus::Error {
                    out = out.result(
                        TaskExecutionResultDetail::builder()
                            .error_code("NfsMountFailed")
                            .error_detail("mount.nfs: Connection timed out")
                            .build(),
                    );
                }
                out.build()
            });
        mock_client!(aws_sdk_datasync, RuleMode::MatchAny, [&listed, &described])
    }

    #[tokio::test]
    async fn efs_is_checked_by_the_last_copy_of_the_stacks_datasync_task() {
        let profile = Profile::embedded(ModelName::Tensorpack).unwrap();
        let facts = facts();
        let job = job(&profile, &facts, false);
        let mut aws = aws();
        let changed = 1_795_000_000;

        aws.datasync = datasync(None);
        let never = efs_copy(&aws, &job, &listing(changed)).await;
        assert_eq!(never.severity, Severity::Fatal, "{never:?}");
        assert!(
            never.message.contains("EFS fs-0123abcd was never filled"),
            "{never:?}"
        );
        assert!(
            never
                .fix
                .unwrap()
                .contains("`stackctl data stage --from DIR --to efs`"),
        );

        aws.datasync = datasync(Some((TaskExecutionStatus::Error, changed + 60)));
        let failed = efs_copy(&aws, &job, &listing(changed)).await;
        assert_eq!(failed.severity, Severity::Fatal, "{failed:?}");
        assert!(
            failed
                .message
                .ends_with("failed: NfsMountFailed: mount.nfs: Connection timed out"),
            "{failed:?}"
        );

        aws.datasync = datasync(Some((TaskExecutionStatus::Transferring, changed + 60)));
        let running = efs_copy(&aws, &job, &listing(changed)).await;
        assert_eq!(running.severity, Severity::Fatal, "{running:?}");
        assert!(
            running.message.contains("is still TRANSFERRING"),
            "{running:?}"
        );

        aws.datasync = datasync(Some((TaskExecutionStatus::Success, changed + 60)));
        let copied = efs_copy(&aws, &job, &listing(changed)).await;
        assert_eq!(copied.severity, Severity::Ok, "{copied:?}");
        assert!(copied.message.contains("361 files"), "{copied:?}");

        // S3 changed after the last copy: EFS may hold older data.
        let stale = efs_copy(&aws, &job, &listing(changed + 3600)).await;
        assert_eq!(stale.severity, Severity::Warn, "{stale:?}");
    }
}
