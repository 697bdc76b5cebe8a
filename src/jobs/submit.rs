//! `job submit`: read the stack's outputs, build the request, estimate its cost, and create the
//! training job (or print the request with `--dry-run`).
//!
//! CreateTrainingJob has no idempotency token, and a name can be used once per account and
//! region ("Training job names must be unique within an AWS account and region", answered with
//! `ResourceInUse`; SageMaker API Reference, CreateTrainingJob). When the reply to an attempt is
//! lost after SageMaker created the job, the SDK's retry answers `ResourceInUse` for our own job.
//! So a `ResourceInUse` after more than one attempt is checked against the job of that name
//! (DescribeTrainingJob and ListTags): created since this submission started and equal to the
//! request in every field read back, it is ours and the submission succeeded; anything else is
//! an error that says what differs. On the first attempt `ResourceInUse` is always an error.

use std::time::{Duration, SystemTime};

use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;
use aws_sdk_sagemaker::types as sm;

use super::request::{StackFacts, TrainingJobRequest};
use crate::aws::{Attempts, Aws, AwsError};
use crate::deploy::stack;
use crate::outputs::StackOutput;

/// How far SageMaker's clock may be behind ours when a job is recognised as created by this
/// submission (SigV4 refuses requests signed more than 5 minutes off).
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Why the stack cannot serve a job.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// No stack.
    #[error("stack `{0}` does not exist; run `stackctl up` first")]
    NoStack(String),
    /// An output the job needs is missing.
    #[error("stack `{stack}` has no `{output}` output; was it created by stackctl?")]
    MissingOutput {
        /// Stack.
        stack: String,
        /// Output name.
        output: String,
    },
    /// AWS failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Reads what the job needs from the stack's outputs; `file_system_id` overrides the EFS or
/// FSx id. The FSx mount name is read from the file system itself.
pub async fn stack_facts(
    aws: &Aws,
    stack_name: &str,
    file_system_id: Option<&str>,
    fsx: bool,
) -> Result<StackFacts, SubmitError> {
    let info = stack::describe(aws, stack_name)
        .await?
        .ok_or_else(|| SubmitError::NoStack(stack_name.to_owned()))?;
    let need = |key: &str| {
        info.outputs
            .get(key)
            .cloned()
            .ok_or_else(|| SubmitError::MissingOutput {
                stack: stack_name.to_owned(),
                output: key.to_owned(),
            })
    };
    let mut facts = StackFacts {
        stack: stack_name.to_owned(),
        role_arn: need("ExecutionRoleArn")?,
        subnets: need("PrivateSubnetIds")?
            .split(',')
            .map(str::to_owned)
            .collect(),
        security_group: need("SecurityGroupId")?,
        bucket: need("DataBucket")?,
        prefix: need("DataPrefix")?,
        fsx_subnet: info.outputs.get("FsxSubnetId").cloned(),
        efs_id: info.outputs.get("EfsFileSystemId").cloned(),
        fsx_id: info.outputs.get("FsxFileSystemId").cloned(),
        fsx_mount_name: None,
        datasync_task: info
            .outputs
            .get(StackOutput::DataSyncTaskArn.name())
            .cloned(),
    };
    if let Some(id) = file_system_id {
        if fsx {
            facts.fsx_id = Some(id.to_owned());
        } else {
            facts.efs_id = Some(id.to_owned());
        }
    }
    if fsx && let Some(id) = facts.fsx_id.clone() {
        let out = aws
            .fsx
            .describe_file_systems()
            .file_system_ids(&id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeFileSystems", e))?;
        let lustre = out
            .file_systems()
            .first()
            .and_then(|f| f.lustre_configuration());
        facts.fsx_mount_name = lustre
            .and_then(|l| l.mount_name())
            .map(str::to_owned)
            .or_else(|| {
                // SCRATCH_1 file systems always mount as `fsx` (FSx for Lustre docs); the API may
                // leave the field out for them.
                lustre
                    .and_then(|l| l.deployment_type())
                    .filter(|d| d.as_str() == "SCRATCH_1")
                    .map(|_| "fsx".to_owned())
            });
    }
    Ok(facts)
}

/// The default image of a profile in the stack's account (from the role ARN) and region.
pub fn default_image(role_arn: &str, region: &str, repository: &str, tag: &str) -> String {
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    ecr_image_uri(account, region, repository, tag)
}

/// `<account>.dkr.ecr.<region>.<domain>/<repository>:<tag>`.
pub fn ecr_image_uri(account: &str, region: &str, repository: &str, tag: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{account}.dkr.ecr.{region}.{suffix}/{repository}:{tag}")
}

/// Registry accounts per region for images AWS publishes (templates/jobs/registries.yaml).
const REGISTRIES: &str = include_str!("../../templates/jobs/registries.yaml");

/// The URI of an image AWS publishes, from the registry `table` for `region`.
pub fn registry_image(
    table: &str,
    region: &str,
    image: &super::profile::ImageDefault,
) -> Result<String, String> {
    let tables: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        serde_yaml::from_str(REGISTRIES).expect("the embedded registry table parses");
    let accounts = tables
        .get(table)
        .ok_or_else(|| format!("no registry table `{table}` in templates/jobs/registries.yaml"))?;
    let account = accounts.get(region).ok_or_else(|| {
        format!(
            "image `{}`: no registry for region {region}; known regions: {} (or set jobs.images in the stack file)",
            image.repository,
            accounts.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })?;
    Ok(ecr_image_uri(
        account,
        region,
        &image.repository,
        &image.tag,
    ))
}

/// Creates the training job and returns its ARN. A retried create that finds its own job (see
/// the module documentation) succeeds.
pub async fn create(aws: &Aws, request: &TrainingJobRequest) -> Result<String, AwsError> {
    let attempts = Attempts::default();
    let started = SystemTime::now();
    let sent = create_call(aws, request)
        .customize()
        .interceptor(attempts.clone())
        .send()
        .await;
    let err = match sent {
        Ok(out) => return Ok(out.training_job_arn().unwrap_or_default().to_owned()),
        Err(e) => AwsError::from_sdk("CreateTrainingJob", e),
    };
    if err.code() != Some("ResourceInUse") || !attempts.retried() {
        return Err(err);
    }
    let name = &request.training_job_name;
    let job = aws
        .sagemaker
        .describe_training_job()
        .training_job_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeTrainingJob", e))?;
    let arn = job.training_job_arn().unwrap_or_default().to_owned();
    let tags = aws
        .sagemaker
        .list_tags()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTags", e))?;
    let tags: Vec<(String, String)> = tags
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect();
    let differences = differences(request, &job, &tags, started);
    if differences.is_empty() {
        return Ok(arn);
    }
    Err(AwsError::service(
        "CreateTrainingJob",
        "ResourceInUse",
        format!(
            "{}; it is not the job this command submitted ({}); choose another --name",
            err.message()
                .unwrap_or("a training job with this name already exists"),
            differences.join("; ")
        ),
    ))
}

/// How the job SageMaker describes differs from `request`, sent at `started`: empty when it is
/// the job this request created. Compares what SageMaker reads back (not the metric
/// definitions or the environment, which DescribeTrainingJob may leave out).
pub fn differences(
    request: &TrainingJobRequest,
    job: &DescribeTrainingJobOutput,
    tags: &[(String, String)],
    started: SystemTime,
) -> Vec<String> {
    let r = request;
    let mut found = Vec::new();
    fn differ(found: &mut Vec<String>, what: &str, want: String, got: String) {
        if want != got {
            found.push(format!("{what}: {got}, not {want}"));
        }
    }
    match job.creation_time().map(|t| SystemTime::try_from(*t)) {
        Some(Ok(created)) if created + CLOCK_SKEW >= started => {}
        Some(Ok(created)) => found.push(format!(
            "created {} s before this submission",
            started
                .duration_since(created)
                .unwrap_or_default()
                .as_secs()
        )),
        _ => found.push("no creation time".to_owned()),
    }
    let spec = job.algorithm_specification();
    differ(
        &mut found,
        "image",
        r.algorithm_specification.training_image.clone(),
        spec.and_then(|a| a.training_image())
            .unwrap_or_default()
            .to_owned(),
    );
    differ(
        &mut found,
        "role",
        r.role_arn.clone(),
        job.role_arn().unwrap_or_default().to_owned(),
    );
    let hyper: std::collections::BTreeMap<String, String> = job
        .hyper_parameters()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if hyper != r.hyper_parameters {
        found.push("hyperparameters differ".to_owned());
    }
    let rc = job.resource_config();
    differ(
        &mut found,
        "instances",
        format!(
            "{} x {} with {} GiB",
            r.resource_config.instance_count,
            r.resource_config.instance_type,
            r.resource_config.volume_size_in_gb
        ),
        format!(
            "{} x {} with {} GiB",
            rc.and_then(|c| c.instance_count()).unwrap_or_default(),
            rc.and_then(|c| c.instance_type())
                .map(|t| t.as_str())
                .unwrap_or_default(),
            rc.and_then(|c| c.volume_size_in_gb()).unwrap_or_default()
        ),
    );
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.join(",")
    };
    let vpc = job.vpc_config();
    differ(
        &mut found,
        "subnets",
        sorted(r.vpc_config.subnets.clone()),
        sorted(vpc.map(|v| v.subnets().to_vec()).unwrap_or_default()),
    );
    differ(
        &mut found,
        "security groups",
        sorted(r.vpc_config.security_group_ids.clone()),
        sorted(
            vpc.map(|v| v.security_group_ids().to_vec())
                .unwrap_or_default(),
        ),
    );
    differ(
        &mut found,
        "channels",
        r.input_data_config
            .iter()
            .map(|c| c.channel_name.clone())
            .collect::<Vec<_>>()
            .join(","),
        job.input_data_config()
            .iter()
            .filter_map(|c| c.channel_name())
            .collect::<Vec<_>>()
            .join(","),
    );
    differ(
        &mut found,
        "output path",
        r.output_data_config.s3_output_path.clone(),
        job.output_data_config()
            .and_then(|o| o.s3_output_path())
            .unwrap_or_default()
            .to_owned(),
    );
    differ(
        &mut found,
        "max runtime",
        r.stopping_condition.max_runtime_in_seconds.to_string(),
        job.stopping_condition()
            .and_then(|s| s.max_runtime_in_seconds())
            .unwrap_or_default()
            .to_string(),
    );
    differ(
        &mut found,
        "managed spot",
        r.enable_managed_spot_training.to_string(),
        job.enable_managed_spot_training()
            .unwrap_or_default()
            .to_string(),
    );
    for tag in &r.tags {
        let got = tags
            .iter()
            .find(|(k, _)| *k == tag.key)
            .map(|(_, v)| v.clone());
        differ(
            &mut found,
            &format!("tag {}", tag.key),
            tag.value.clone(),
            got.unwrap_or_else(|| "(absent)".to_owned()),
        );
    }
    found
}

/// The CreateTrainingJob call for `request`.
fn create_call(
    aws: &Aws,
    request: &TrainingJobRequest,
) -> aws_sdk_sagemaker::operation::create_training_job::builders::CreateTrainingJobFluentBuilder {
    let r = request;
    let channels: Vec<sm::Channel> = r
        .input_data_config
        .iter()
        .map(|c| {
            let mut source = sm::DataSource::builder();
            if let Some(s3) = &c.data_source.s3_data_source {
                source = source.s3_data_source(
                    sm::S3DataSource::builder()
                        .s3_data_type(sm::S3DataType::from(s3.s3_data_type.as_str()))
                        .s3_uri(&s3.s3_uri)
                        .s3_data_distribution_type(sm::S3DataDistribution::from(
                            s3.s3_data_distribution_type.as_str(),
                        ))
                        .build(),
                );
            }
            if let Some(fs) = &c.data_source.file_system_data_source {
                source = source.file_system_data_source(
                    sm::FileSystemDataSource::builder()
                        .file_system_id(&fs.file_system_id)
                        .file_system_access_mode(sm::FileSystemAccessMode::from(
                            fs.file_system_access_mode.as_str(),
                        ))
                        .file_system_type(sm::FileSystemType::from(fs.file_system_type.as_str()))
                        .directory_path(&fs.directory_path)
                        .build(),
                );
            }
            sm::Channel::builder()
                .channel_name(&c.channel_name)
                .data_source(source.build())
                .set_content_type(c.content_type.clone())
                .build()
        })
        .collect();
    let mut call = aws
        .sagemaker
        .create_training_job()
        .training_job_name(&r.training_job_name)
        .set_hyper_parameters(Some(r.hyper_parameters.clone().into_iter().collect()))
        .algorithm_specification(
            sm::AlgorithmSpecification::builder()
                .training_image(&r.algorithm_specification.training_image)
                .training_input_mode(sm::TrainingInputMode::from(
                    r.algorithm_specification.training_input_mode.as_str(),
                ))
                .set_metric_definitions(
                    // Built-in algorithms refuse metric definitions: send none, not [].
                    (!r.algorithm_specification.metric_definitions.is_empty()).then(|| {
                        r.algorithm_specification
                            .metric_definitions
                            .iter()
                            .map(|m| {
                                sm::MetricDefinition::builder()
                                    .name(&m.name)
                                    .regex(&m.regex)
                                    .build()
                            })
                            .collect()
                    }),
                )
                .build(),
        )
        .role_arn(&r.role_arn)
        .set_input_data_config(Some(channels))
        .output_data_config(
            sm::OutputDataConfig::builder()
                .s3_output_path(&r.output_data_config.s3_output_path)
                .build(),
        )
        .resource_config(
            sm::ResourceConfig::builder()
                .instance_type(sm::TrainingInstanceType::from(
                    r.resource_config.instance_type.as_str(),
                ))
                .instance_count(i32::try_from(r.resource_config.instance_count).unwrap_or(i32::MAX))
                .volume_size_in_gb(
                    i32::try_from(r.resource_config.volume_size_in_gb).unwrap_or(i32::MAX),
                )
                .build(),
        )
        .vpc_config(
            sm::VpcConfig::builder()
                .set_security_group_ids(Some(r.vpc_config.security_group_ids.clone()))
                .set_subnets(Some(r.vpc_config.subnets.clone()))
                .build(),
        )
        .stopping_condition(
            sm::StoppingCondition::builder()
                .max_runtime_in_seconds(
                    i32::try_from(r.stopping_condition.max_runtime_in_seconds).unwrap_or(i32::MAX),
                )
                .set_max_wait_time_in_seconds(
                    r.stopping_condition
                        .max_wait_time_in_seconds
                        .map(|w| i32::try_from(w).unwrap_or(i32::MAX)),
                )
                .build(),
        )
        .enable_managed_spot_training(r.enable_managed_spot_training)
        .set_tags(Some(
            r.tags
                .iter()
                .map(|t| sm::Tag::builder().key(&t.key).value(&t.value).build())
                .collect(),
        ));
    if let Some(cp) = &r.checkpoint_config {
        call = call.checkpoint_config(
            sm::CheckpointConfig::builder()
                .s3_uri(&cp.s3_uri)
                .local_path(&cp.local_path)
                .build(),
        );
    }
    call
}

#[cfg(test)]
mod tests {
    //! A CreateTrainingJob retried after its reply was lost, with `aws-smithy-mocks` sequences
    //! shaped like SageMaker's answers: a name already in use answers `ResourceInUse` ("Training
    //! job names must be unique within an AWS account and region, and a training job with this
    //! name already exists (ARN)"; SageMaker API Reference, CreateTrainingJob, Errors).

    use aws_sdk_sagemaker::Client;
    use aws_sdk_sagemaker::config::retry::RetryConfig;
    use aws_sdk_sagemaker::error::ErrorMetadata;
    use aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobError;
    use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
    use aws_sdk_sagemaker::primitives::DateTime;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::jobs::profile::Profile;
    use crate::jobs::request::{self, DataSourceKind, JobOptions};
    use crate::spec::file::ModelName;

    const ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1";

    fn job_request() -> TrainingJobRequest {
        let facts = StackFacts {
            stack: "mask-rcnn".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            subnets: vec!["subnet-01".into(), "subnet-02".into()],
            security_group: "sg-01".into(),
            bucket: "data-bucket".into(),
            prefix: "mask-rcnn/sagemaker/input/train".into(),
            fsx_subnet: None,
            efs_id: Some("fs-0123abcd".into()),
            fsx_id: None,
            fsx_mount_name: None,
            datasync_task: None,
        };
        let options = JobOptions {
            name: "job-1".into(),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest"
                .into(),
            data: DataSourceKind::Efs,
            overrides: Vec::new(),
            instance_type: "ml.p3.16xlarge".into(),
            instance_count: 2,
            volume_gib: 100,
            max_run_seconds: 3600,
            spot: None,
        };
        let profile = Profile::embedded(ModelName::Tensorpack).unwrap();
        request::build(&profile, &facts, &options).unwrap()
    }

    /// What DescribeTrainingJob reads back for `r`, created at `created`.
    fn described(r: &TrainingJobRequest, created: SystemTime) -> DescribeTrainingJobOutput {
        DescribeTrainingJobOutput::builder()
            .training_job_name(&r.training_job_name)
            .training_job_arn(ARN)
            .creation_time(DateTime::from(created))
            .algorithm_specification(
                sm::AlgorithmSpecification::builder()
                    .training_image(&r.algorithm_specification.training_image)
                    .training_input_mode(sm::TrainingInputMode::File)
                    .build(),
            )
            .role_arn(&r.role_arn)
            .set_hyper_parameters(Some(r.hyper_parameters.clone().into_iter().collect()))
            .set_input_data_config(Some(
                r.input_data_config
                    .iter()
                    .map(|c| {
                        sm::Channel::builder()
                            .channel_name(&c.channel_name)
                            .data_source(sm::DataSource::builder().build())
                            .build()
                    })
                    .collect(),
            ))
            .output_data_config(
                sm::OutputDataConfig::builder()
                    .s3_output_path(&r.output_data_config.s3_output_path)
                    .build(),
            )
            .resource_config(
                sm::ResourceConfig::builder()
                    .instance_type(sm::TrainingInstanceType::from(
                        r.resource_config.instance_type.as_str(),
                    ))
                    .instance_count(r.resource_config.instance_count as i32)
                    .volume_size_in_gb(r.resource_config.volume_size_in_gb as i32)
                    .build(),
            )
            .vpc_config(
                sm::VpcConfig::builder()
                    .set_security_group_ids(Some(r.vpc_config.security_group_ids.clone()))
                    .set_subnets(Some(r.vpc_config.subnets.clone()))
                    .build(),
            )
            .stopping_condition(
                sm::StoppingCondition::builder()
                    .max_runtime_in_seconds(r.stopping_condition.max_runtime_in_seconds as i32)
                    .build(),
            )
            .enable_managed_spot_training(r.enable_managed_spot_training)
            .build()
    }

    fn tags_of(r: &TrainingJobRequest) -> Vec<(String, String)> {
        r.tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect()
    }

    fn in_use() -> CreateTrainingJobError {
        CreateTrainingJobError::generic(
            ErrorMetadata::builder()
                .code("ResourceInUse")
                .message(format!("Training job names must be unique within an AWS account and region, and a training job with this name already exists ({ARN})"))
                .build(),
        )
    }

    fn aws_with(sagemaker: Client) -> Aws {
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
                .build(),
        );
        Aws::with_cloudformation_and_sagemaker(cfn, sagemaker)
    }

    /// CreateTrainingJob answers `first` then (on the SDK's retry) `then`; the job of that name
    /// reads back as `job`.
    fn client(
        retried: bool,
        job: DescribeTrainingJobOutput,
        tags: Vec<(String, String)>,
    ) -> (Client, aws_smithy_mocks::Rule) {
        let create = if retried {
            // The first attempt's reply was lost (a 500 stands in for it), the retry finds the job.
            mock!(Client::create_training_job)
                .sequence()
                .http_status(500, None)
                .error(in_use)
                .build()
        } else {
            mock!(Client::create_training_job).then_error(in_use)
        };
        let describe = mock!(Client::describe_training_job).then_output(move || job.clone());
        let list_tags = mock!(Client::list_tags).then_output(move || {
            ListTagsOutput::builder()
                .set_tags(Some(
                    tags.iter()
                        .map(|(k, v)| sm::Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .build()
        });
        let client = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            [&create, &describe, &list_tags],
            |b| b.retry_config(RetryConfig::standard().with_max_attempts(3))
        );
        (client, describe)
    }

    #[tokio::test(start_paused = true)]
    async fn a_retried_create_that_finds_its_own_job_succeeds() {
        let r = job_request();
        let (client, _) = client(true, described(&r, SystemTime::now()), tags_of(&r));
        let arn = create(&aws_with(client), &r).await.unwrap();
        assert_eq!(arn, ARN);
    }

    #[tokio::test(start_paused = true)]
    async fn resource_in_use_on_the_first_attempt_is_another_job() {
        let r = job_request();
        let (client, describe) = client(false, described(&r, SystemTime::now()), tags_of(&r));
        let err = create(&aws_with(client), &r).await.unwrap_err();
        assert_eq!(err.code(), Some("ResourceInUse"));
        assert_eq!(
            describe.num_calls(),
            0,
            "nothing to compare: it was never ours"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retried_create_that_finds_a_different_job_fails_naming_the_difference() {
        let r = job_request();
        let mut job = described(&r, SystemTime::now());
        job.algorithm_specification = Some(
            sm::AlgorithmSpecification::builder()
                .training_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1")
                .training_input_mode(sm::TrainingInputMode::File)
                .build(),
        );
        let (client, _) = client(true, job, tags_of(&r));
        let err = create(&aws_with(client), &r).await.unwrap_err();
        assert_eq!(err.code(), Some("ResourceInUse"));
        let message = err.message().unwrap();
        assert!(
            message.contains("it is not the job this command submitted (image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1, not 123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest)"),
            "{message}"
        );
        assert!(message.ends_with("choose another --name"), "{message}");
    }

    #[test]
    fn a_job_is_ours_only_if_created_since_the_submission_with_the_same_request() {
        let r = job_request();
        let now = SystemTime::now();
        assert_eq!(
            differences(&r, &described(&r, now), &tags_of(&r), now),
            Vec::<String>::new()
        );
        // Within the clock skew allowed.
        let skewed = now - Duration::from_secs(60);
        assert!(differences(&r, &described(&r, skewed), &tags_of(&r), now).is_empty());
        // A day old: an earlier submission with the same name.
        let old = now - Duration::from_secs(86_400);
        assert_eq!(
            differences(&r, &described(&r, old), &tags_of(&r), now),
            ["created 86400 s before this submission"]
        );
        // Another model's tag, another instance count.
        let mut tags = tags_of(&r);
        for t in &mut tags {
            if t.0 == "stackctl:model" {
                t.1 = "aws-samples".into();
            }
        }
        let mut job = described(&r, now);
        job.resource_config = Some(
            sm::ResourceConfig::builder()
                .instance_type(sm::TrainingInstanceType::from("ml.p3.16xlarge"))
                .instance_count(4)
                .volume_size_in_gb(100)
                .build(),
        );
        assert_eq!(
            differences(&r, &job, &tags, now),
            [
                "instances: 4 x ml.p3.16xlarge with 100 GiB, not 2 x ml.p3.16xlarge with 100 GiB",
                "tag stackctl:model: aws-samples, not tensorpack",
            ]
        );
    }
}
