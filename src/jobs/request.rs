//! A CreateTrainingJob request built from a profile, overrides and the stack's outputs, as one
//! serializable value: `--dry-run` prints exactly this, and the SDK call is made from it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::profile::Profile;
use crate::outputs::StackOutput;

/// Longest training job name.
pub const MAX_JOB_NAME: usize = 63;

/// Where every job of a bucket writes: `s3://BUCKET/jobs`; a job's model is then
/// `s3://BUCKET/jobs/NAME/output/model.tar.gz` and its checkpoints `.../jobs/NAME/checkpoints`.
pub fn jobs_prefix(bucket: &str) -> String {
    format!("s3://{bucket}/jobs")
}

/// Where SageMaker puts the model of job `name` writing to `s3_output_path`.
pub fn model_uri(s3_output_path: &str, name: &str) -> String {
    format!(
        "{}/{name}/output/model.tar.gz",
        s3_output_path.trim_end_matches('/')
    )
}
/// SageMaker accepts 1 to 16 subnets.
pub const MAX_SUBNETS: usize = 16;
/// SageMaker accepts 1 to 5 security groups.
pub const MAX_SECURITY_GROUPS: usize = 5;
/// Longest run: 28 days.
pub const MAX_RUN_SECONDS: u32 = 28 * 24 * 3600;
/// Where a spot job's image writes checkpoints (`CheckpointConfig.LocalPath`; SageMaker's default
/// too, sent anyway so the request says it). The images' `sagemaker_mpi.checkpoint_dir()` is
/// the same directory.
pub const CHECKPOINT_LOCAL_PATH: &str = "/opt/ml/checkpoints";

/// Where the training data is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSourceKind {
    /// The data bucket's prefix (S3Prefix, File mode).
    S3,
    /// The EFS file system at `/<prefix>`, read-only.
    Efs,
    /// FSx for Lustre at `/<mount name>/<prefix>`, read-only; jobs run in the FSx subnet.
    Fsx,
}

impl DataSourceKind {
    /// `s3`, `efs` or `fsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Efs => "efs",
            Self::Fsx => "fsx",
        }
    }
}

/// What the stack provides (from its outputs and, for FSx, the file system itself).
#[derive(Debug, Clone)]
pub struct StackFacts {
    /// Stack name (tagged on the job).
    pub stack: String,
    /// ExecutionRoleArn.
    pub role_arn: String,
    /// PrivateSubnetIds.
    pub subnets: Vec<String>,
    /// SecurityGroupId.
    pub security_group: String,
    /// DataBucket.
    pub bucket: String,
    /// DataPrefix.
    pub prefix: String,
    /// FsxSubnetId.
    pub fsx_subnet: Option<String>,
    /// EFS id (output or `--file-system-id`).
    pub efs_id: Option<String>,
    /// FSx id (output or `--file-system-id`).
    pub fsx_id: Option<String>,
    /// FSx mount name, read from the file system.
    pub fsx_mount_name: Option<String>,
    /// DataSyncTaskArn: the task that copies the DataPrefix from S3 to EFS (its last run is
    /// what `job submit` can check of EFS, whose files no AWS API lists).
    pub datasync_task: Option<String>,
}

/// What the user asked for, after defaults.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Job name.
    pub name: String,
    /// Image URI.
    pub image: String,
    /// Data source.
    pub data: DataSourceKind,
    /// Hyperparameter overrides.
    pub overrides: Vec<(String, String)>,
    /// Instance type.
    pub instance_type: String,
    /// Instance count.
    pub instance_count: u32,
    /// Volume per instance.
    pub volume_gib: u32,
    /// Maximum run time.
    pub max_run_seconds: u32,
    /// Managed spot, with the longest wait (defaults to twice the run time, capped at 28 days).
    pub spot: Option<u32>,
}

/// The request, in the API's own field names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrainingJobRequest {
    /// Name.
    pub training_job_name: String,
    /// Hyperparameters.
    pub hyper_parameters: BTreeMap<String, String>,
    /// Image and metrics.
    pub algorithm_specification: AlgorithmSpecification,
    /// Execution role.
    pub role_arn: String,
    /// Channels.
    pub input_data_config: Vec<Channel>,
    /// Output location.
    pub output_data_config: OutputDataConfig,
    /// Instances.
    pub resource_config: ResourceConfig,
    /// Subnets and groups.
    pub vpc_config: VpcConfig,
    /// Time limits.
    pub stopping_condition: StoppingCondition,
    /// Managed spot.
    pub enable_managed_spot_training: bool,
    /// Checkpoints (spot only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_config: Option<CheckpointConfig>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// `AlgorithmSpecification`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlgorithmSpecification {
    /// Image URI.
    pub training_image: String,
    /// Always `File`.
    pub training_input_mode: String,
    /// Metric definitions (none for built-in algorithms, which publish their own and refuse
    /// definitions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metric_definitions: Vec<MetricDefinition>,
}

/// `MetricDefinition`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDefinition {
    /// Name.
    pub name: String,
    /// Regex.
    pub regex: String,
}

/// `Channel`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Channel {
    /// Channel name.
    pub channel_name: String,
    /// Source.
    pub data_source: DataSource,
    /// Content type, when the profile fixes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `DataSource`: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataSource {
    /// S3 prefix.
    #[serde(rename = "S3DataSource", skip_serializing_if = "Option::is_none")]
    pub s3_data_source: Option<S3DataSource>,
    /// EFS or FSx.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_data_source: Option<FileSystemDataSource>,
}

/// `S3DataSource`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct S3DataSource {
    /// `S3Prefix`.
    #[serde(rename = "S3DataType")]
    pub s3_data_type: String,
    /// `s3://bucket/prefix/`.
    #[serde(rename = "S3Uri")]
    pub s3_uri: String,
    /// `FullyReplicated`.
    #[serde(rename = "S3DataDistributionType")]
    pub s3_data_distribution_type: String,
}

/// `FileSystemDataSource`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FileSystemDataSource {
    /// File system id.
    pub file_system_id: String,
    /// `ro`.
    pub file_system_access_mode: String,
    /// `EFS` or `FSxLustre`.
    pub file_system_type: String,
    /// Absolute path.
    pub directory_path: String,
}

/// `OutputDataConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputDataConfig {
    /// `s3://bucket/...`.
    #[serde(rename = "S3OutputPath")]
    pub s3_output_path: String,
}

/// `ResourceConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceConfig {
    /// Instance type.
    #[serde(rename = "InstanceType")]
    pub instance_type: String,
    /// Count.
    #[serde(rename = "InstanceCount")]
    pub instance_count: u32,
    /// Volume.
    #[serde(rename = "VolumeSizeInGB")]
    pub volume_size_in_gb: u32,
}

/// `VpcConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    /// Groups.
    pub security_group_ids: Vec<String>,
    /// Subnets.
    pub subnets: Vec<String>,
}

/// `StoppingCondition`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoppingCondition {
    /// Longest run.
    pub max_runtime_in_seconds: u32,
    /// Longest wait including spot interruptions (spot only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wait_time_in_seconds: Option<u32>,
}

/// `CheckpointConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointConfig {
    /// `s3://bucket/...`.
    #[serde(rename = "S3Uri")]
    pub s3_uri: String,
    /// The directory in the container that SageMaker syncs with `s3_uri`.
    #[serde(rename = "LocalPath")]
    pub local_path: String,
}

/// `Tag`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// Checks a training job name: 1-63 letters, digits and hyphens, not starting or ending with a
/// hyphen (the API pattern `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`).
pub fn check_job_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_JOB_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid training job name: 1 to {MAX_JOB_NAME} letters, digits and hyphens, starting and ending with a letter or digit"
        ))
    }
}

/// Builds and checks the request. Every problem is reported at once.
pub fn build(
    profile: &Profile,
    facts: &StackFacts,
    options: &JobOptions,
) -> Result<TrainingJobRequest, Vec<String>> {
    let mut problems = Vec::new();
    if let Err(e) = check_job_name(&options.name) {
        problems.push(e);
    }
    let hyper_parameters = match profile.hyperparameters(&options.overrides) {
        Ok(h) => h,
        Err(super::profile::ProfileError::Hyperparameters { problems: p, .. }) => {
            problems.extend(p);
            BTreeMap::new()
        }
        Err(other) => {
            problems.push(other.to_string());
            BTreeMap::new()
        }
    };
    if !(1..=MAX_RUN_SECONDS).contains(&options.max_run_seconds) {
        problems.push(format!(
            "max run {} s: SageMaker allows 1 to {MAX_RUN_SECONDS} (28 days)",
            options.max_run_seconds
        ));
    }
    if let Some(wait) = options.spot {
        if wait < options.max_run_seconds {
            problems.push(format!(
                "--max-wait {wait} s is shorter than the max run {} s; managed spot needs MaxWaitTimeInSeconds >= MaxRuntimeInSeconds",
                options.max_run_seconds
            ));
        }
        if wait > MAX_RUN_SECONDS {
            problems.push(format!(
                "--max-wait {wait} s: at most {MAX_RUN_SECONDS} (28 days)"
            ));
        }
    }
    if !(1..=100).contains(&options.instance_count) {
        problems.push(format!(
            "instance count {}: allowed is 1..=100",
            options.instance_count
        ));
    }

    let root = facts.prefix.trim_matches('/');
    for (name, channel) in profile.channels.iter().filter(|(_, c)| c.required) {
        if let Some(only) = channel.only_from
            && only != options.data
        {
            problems.push(format!(
                "--data {}: channel `{name}` of model `{}` is read from {} only (content type {})",
                options.data.as_str(),
                profile.name,
                only.as_str(),
                channel.content_type.as_deref().unwrap_or("unspecified")
            ));
        }
    }
    let mut channels = Vec::new();
    let mut subnets = facts.subnets.clone();
    for (name, channel) in profile.channels.iter().filter(|(_, c)| c.required) {
        let prefix = match &channel.path {
            Some(path) => format!("{root}/{path}"),
            None => root.to_owned(),
        };
        let (source, channel_subnets) = data_source(&mut problems, facts, options.data, &prefix);
        subnets = channel_subnets;
        channels.push(Channel {
            channel_name: name.clone(),
            data_source: source,
            content_type: channel.content_type.clone(),
        });
    }
    if !(1..=MAX_SUBNETS).contains(&subnets.len()) {
        problems.push(format!(
            "{} subnets: SageMaker accepts 1 to {MAX_SUBNETS}",
            subnets.len()
        ));
    }
    if !problems.is_empty() {
        // Each channel reports a missing file system; say it once.
        let mut seen = std::collections::BTreeSet::new();
        problems.retain(|p| seen.insert(p.clone()));
        return Err(problems);
    }

    let job_root = format!("{}/{}", jobs_prefix(&facts.bucket), options.name);
    Ok(TrainingJobRequest {
        training_job_name: options.name.clone(),
        hyper_parameters,
        algorithm_specification: AlgorithmSpecification {
            training_image: options.image.clone(),
            training_input_mode: "File".to_owned(),
            metric_definitions: profile
                .metrics
                .iter()
                .map(|m| MetricDefinition {
                    name: m.name.clone(),
                    regex: m.regex.clone(),
                })
                .collect(),
        },
        role_arn: facts.role_arn.clone(),
        input_data_config: channels,
        // SageMaker writes the model to "S3OutputPath/TrainingJobName/output/model.tar.gz"
        // (API reference, OutputDataConfig and ModelArtifacts), so the path is the jobs prefix
        // and the model lands at s3://BUCKET/jobs/NAME/output/model.tar.gz, beside the
        // checkpoints.
        output_data_config: OutputDataConfig {
            s3_output_path: jobs_prefix(&facts.bucket),
        },
        resource_config: ResourceConfig {
            instance_type: options.instance_type.clone(),
            instance_count: options.instance_count,
            volume_size_in_gb: options.volume_gib,
        },
        vpc_config: VpcConfig {
            security_group_ids: vec![facts.security_group.clone()],
            subnets,
        },
        stopping_condition: StoppingCondition {
            max_runtime_in_seconds: options.max_run_seconds,
            max_wait_time_in_seconds: options.spot,
        },
        enable_managed_spot_training: options.spot.is_some(),
        checkpoint_config: options
            .spot
            .filter(|_| profile.checkpoints)
            .map(|_| CheckpointConfig {
                s3_uri: format!("{job_root}/checkpoints"),
                local_path: CHECKPOINT_LOCAL_PATH.to_owned(),
            }),
        tags: vec![
            Tag {
                key: "stackctl:stack".to_owned(),
                value: facts.stack.clone(),
            },
            Tag {
                key: "stackctl:model".to_owned(),
                value: profile.name.clone(),
            },
        ],
    })
}

/// The data source of one channel reading `prefix` from `kind`, and the subnets the job must
/// run in; problems are added to `problems`.
fn data_source(
    problems: &mut Vec<String>,
    facts: &StackFacts,
    kind: DataSourceKind,
    prefix: &str,
) -> (DataSource, Vec<String>) {
    match kind {
        DataSourceKind::S3 => (
            DataSource {
                s3_data_source: Some(S3DataSource {
                    s3_data_type: "S3Prefix".to_owned(),
                    s3_uri: format!("s3://{}/{prefix}/", facts.bucket),
                    s3_data_distribution_type: "FullyReplicated".to_owned(),
                }),
                file_system_data_source: None,
            },
            facts.subnets.clone(),
        ),
        DataSourceKind::Efs => {
            let id = facts.efs_id.clone().unwrap_or_else(|| {
                problems.push("--data efs: the stack has no EFS file system (efs.enabled is false); pass --file-system-id".to_owned());
                String::new()
            });
            (
                DataSource {
                    s3_data_source: None,
                    file_system_data_source: Some(FileSystemDataSource {
                        file_system_id: id,
                        file_system_access_mode: "ro".to_owned(),
                        file_system_type: "EFS".to_owned(),
                        directory_path: format!("/{prefix}"),
                    }),
                },
                facts.subnets.clone(),
            )
        }
        DataSourceKind::Fsx => {
            // No id: one problem that says why (not a second one about the empty id's mount name).
            let (id, mount) = match (&facts.fsx_id, &facts.fsx_mount_name) {
                (None, _) => {
                    problems.push(format!(
                        "--data fsx: stack `{}` has no FSx for Lustre file system (no {} output); set `fsx.enabled: true` in the stack file and run `stackctl up`, or pass --file-system-id",
                        facts.stack,
                        StackOutput::FsxFileSystemId.name()
                    ));
                    (String::new(), String::new())
                }
                (Some(id), None) => {
                    problems.push(format!(
                        "--data fsx: file system {id} has no Lustre mount name (DescribeFileSystems returned none); is it an FSx for Lustre file system?"
                    ));
                    (id.clone(), String::new())
                }
                (Some(id), Some(mount)) => (id.clone(), mount.clone()),
            };
            // FSx lives in one subnet; jobs reading it must run there.
            let subnets = facts
                .fsx_subnet
                .clone()
                .map_or_else(|| facts.subnets.clone(), |s| vec![s]);
            (
                DataSource {
                    s3_data_source: None,
                    file_system_data_source: Some(FileSystemDataSource {
                        file_system_id: id,
                        file_system_access_mode: "ro".to_owned(),
                        file_system_type: "FSxLustre".to_owned(),
                        directory_path: format!("/{mount}/{prefix}"),
                    }),
                },
                subnets,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::file::ModelName;

    fn facts() -> StackFacts {
        StackFacts {
            stack: "mask-rcnn".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            subnets: vec!["subnet-01".into(), "subnet-02".into(), "subnet-03".into()],
            security_group: "sg-01".into(),
            bucket: "data-bucket".into(),
            prefix: "mask-rcnn/sagemaker/input/train".into(),
            fsx_subnet: Some("subnet-01".into()),
            efs_id: Some("fs-0123abcd".into()),
            fsx_id: Some("fs-0fedcba987654321f".into()),
            fsx_mount_name: Some("abcdefgh".into()),
            datasync_task: None,
        }
    }

    fn options(data: DataSourceKind) -> JobOptions {
        JobOptions {
            name: "job-1".into(),
            image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn-tensorpack:latest"
                .into(),
            data,
            overrides: Vec::new(),
            instance_type: "ml.p3.16xlarge".into(),
            instance_count: 4,
            volume_gib: 100,
            max_run_seconds: 400_000,
            spot: None,
        }
    }

    fn profile() -> Profile {
        Profile::embedded(ModelName::Tensorpack).unwrap()
    }

    #[test]
    fn fsx_reads_under_the_mount_name_from_the_fsx_subnet_only() {
        let r = build(&profile(), &facts(), &options(DataSourceKind::Fsx)).unwrap();
        let fs = r.input_data_config[0]
            .data_source
            .file_system_data_source
            .as_ref()
            .unwrap();
        assert_eq!(fs.file_system_type, "FSxLustre");
        assert_eq!(
            fs.directory_path,
            "/abcdefgh/mask-rcnn/sagemaker/input/train"
        );
        assert_eq!(fs.file_system_access_mode, "ro");
        assert_eq!(r.vpc_config.subnets, ["subnet-01"]);
    }

    #[test]
    fn efs_and_s3_channels() {
        let r = build(&profile(), &facts(), &options(DataSourceKind::Efs)).unwrap();
        let fs = r.input_data_config[0]
            .data_source
            .file_system_data_source
            .as_ref()
            .unwrap();
        assert_eq!(
            (fs.file_system_id.as_str(), fs.directory_path.as_str()),
            ("fs-0123abcd", "/mask-rcnn/sagemaker/input/train")
        );
        assert_eq!(r.vpc_config.subnets.len(), 3);
        let r = build(&profile(), &facts(), &options(DataSourceKind::S3)).unwrap();
        let s3 = r.input_data_config[0]
            .data_source
            .s3_data_source
            .as_ref()
            .unwrap();
        assert_eq!(
            s3.s3_uri,
            "s3://data-bucket/mask-rcnn/sagemaker/input/train/"
        );
        assert_eq!(r.output_data_config.s3_output_path, "s3://data-bucket/jobs");
        assert!(!r.enable_managed_spot_training && r.checkpoint_config.is_none());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["ResourceConfig"]["VolumeSizeInGB"], 100);
        assert_eq!(
            json["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"],
            "S3Prefix"
        );
        assert_eq!(
            json["AlgorithmSpecification"]["MetricDefinitions"]
                .as_array()
                .unwrap()
                .len(),
            22
        );
    }

    #[test]
    fn spot_sets_wait_and_checkpoints_only_for_images_that_resume() {
        let mut spot = options(DataSourceKind::S3);
        spot.spot = Some(800_000);
        let want = CheckpointConfig {
            s3_uri: "s3://data-bucket/jobs/job-1/checkpoints".into(),
            local_path: "/opt/ml/checkpoints".into(),
        };
        // The two images that save to /opt/ml/checkpoints and resume (templates/images/).
        for model in [ModelName::Tensorpack, ModelName::AwsSamples] {
            let profile = Profile::embedded(model).unwrap();
            let r = build(&profile, &facts(), &spot).unwrap();
            assert!(r.enable_managed_spot_training);
            assert_eq!(r.stopping_condition.max_wait_time_in_seconds, Some(800_000));
            assert_eq!(r.checkpoint_config.as_ref(), Some(&want), "{model:?}");
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json["CheckpointConfig"]["LocalPath"], "/opt/ml/checkpoints");
            // On demand nothing is interrupted: no checkpoints to sync.
            let r = build(&profile, &facts(), &options(DataSourceKind::S3)).unwrap();
            assert!(r.checkpoint_config.is_none(), "{model:?}");
        }
        // detectron2's image keeps its own output directory: nothing to restore.
        let d2 = Profile::embedded(ModelName::Detectron2).unwrap();
        assert!(
            build(&d2, &facts(), &spot)
                .unwrap()
                .checkpoint_config
                .is_none()
        );
    }

    #[test]
    fn every_limit_is_checked_before_the_call() {
        let mut f = facts();
        f.subnets = (0..17).map(|i| format!("subnet-{i}")).collect();
        f.fsx_mount_name = None;
        let mut o = options(DataSourceKind::S3);
        o.name = "-bad_name".into();
        o.max_run_seconds = MAX_RUN_SECONDS + 1;
        o.spot = Some(10);
        o.instance_count = 0;
        o.overrides = vec![("nope".into(), "1".into())];
        let problems = build(&profile(), &f, &o).unwrap_err().join("\n");
        for needle in [
            "not a valid training job name",
            "unknown hyperparameter `nope`",
            "SageMaker allows 1 to 2419200",
            "MaxWaitTimeInSeconds >= MaxRuntimeInSeconds",
            "instance count 0",
            "17 subnets",
        ] {
            assert!(problems.contains(needle), "{needle}:\n{problems}");
        }
        let fsx = build(&profile(), &f, &options(DataSourceKind::Fsx))
            .unwrap_err()
            .join("\n");
        assert!(
            fsx.contains("file system fs-0fedcba987654321f has no Lustre mount name"),
            "{fsx}"
        );
        assert!(
            check_job_name(&"a".repeat(64)).is_err() && check_job_name(&"a".repeat(63)).is_ok()
        );
    }

    #[test]
    fn fsx_data_on_a_stack_without_fsx_names_the_missing_file_system() {
        let mut f = facts();
        f.fsx_id = None;
        f.fsx_mount_name = None;
        let problems = build(&profile(), &f, &options(DataSourceKind::Fsx)).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        for needle in [
            "stack `mask-rcnn` has no FSx for Lustre file system (no FsxFileSystemId output)",
            "`fsx.enabled: true` in the stack file",
            "`stackctl up`",
        ] {
            assert!(problems[0].contains(needle), "{needle}: {}", problems[0]);
        }
        assert!(!problems[0].contains("mount name"), "{}", problems[0]);
    }
}
