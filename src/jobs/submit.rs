//! `job submit`: read the stack's outputs, build the request, estimate its cost, and create the
//! training job (or print the request with `--dry-run`).

use aws_sdk_sagemaker::types as sm;

use super::request::{StackFacts, TrainingJobRequest};
use crate::aws::{Aws, AwsError};
use crate::deploy::stack;

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

/// Creates the training job.
pub async fn create(aws: &Aws, request: &TrainingJobRequest) -> Result<String, AwsError> {
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
    let out = call
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateTrainingJob", e))?;
    Ok(out.training_job_arn().unwrap_or_default().to_owned())
}
