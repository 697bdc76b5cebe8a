//! The stack file as written: serde types with defaults, one struct per section.
//!
//! Every struct denies unknown fields, so a typo is an error rather than a silently ignored key.
//! Defaults here must match `stacks/default.yaml` (a test checks that they do).
//!
//! The doc comments of the fields are also the descriptions of the JSON Schema (`stackctl
//! schema`) and the end of the `allowed:` line of an error (`schema.rs`): they say what the key
//! means and what the type alone cannot say.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::scalars::{
    AzCount, BucketName, Cidr, EfsId, FsxStorageGib, GitBranch, GitUrl, ImageUri, InstanceCount,
    InstanceType, MaxRunSeconds, NotebookVolumeGib, Region, S3Prefix, SecretArn, SecurityGroupId,
    StackName, SubnetId, TagKey, TagValue, TrainingVolumeGib, VpcId,
};

/// A stackctl stack file: one CloudFormation stack for distributed Mask R-CNN training
/// (docs/stack-file.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    /// The CloudFormation stack name, also the prefix of the names stackctl gives to resources.
    pub name: StackName,
    /// When absent, --region, AWS_REGION or the profile decide.
    #[serde(default)]
    pub region: Option<Region>,
    /// Stack tags; CloudFormation copies them to every resource that supports tags.
    #[serde(default)]
    #[schemars(schema_with = "tags_schema")]
    pub tags: BTreeMap<TagKey, TagValue>,
    /// Where the training data lives.
    #[serde(default)]
    pub data: DataSection,
    /// The VPC: the stack creates one (the keys other than existing), or uses an existing one
    /// (existing alone).
    #[serde(default)]
    pub network: NetworkSection,
    /// Amazon EFS.
    #[serde(default)]
    pub efs: EfsSection,
    /// Amazon FSx for Lustre, linked to the data bucket.
    #[serde(default)]
    pub fsx: FsxSection,
    /// The SageMaker notebook instance.
    #[serde(default)]
    pub notebook: NotebookSection,
    /// Defaults of stackctl job submit; each can be overridden per job.
    #[serde(default)]
    pub jobs: JobsSection,
}

/// The `data` section: where the training data lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// An existing bucket; when absent, the stack creates an encrypted bucket kept on delete.
    #[serde(default)]
    pub bucket: Option<BucketName>,
    /// Key prefix of the COCO 2017 data set in the bucket.
    #[serde(default = "default_prefix")]
    pub prefix: S3Prefix,
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            bucket: None,
            prefix: default_prefix(),
        }
    }
}

fn default_prefix() -> S3Prefix {
    "mask-rcnn/sagemaker/input/train"
        .parse()
        .expect("valid default prefix")
}

/// NAT gateway layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    /// One NAT gateway in the first availability zone, the cheapest.
    #[default]
    Single,
    /// One NAT gateway per availability zone, no cross-zone dependency.
    PerAz,
}

/// The `network` section: the VPC the stack creates, or an existing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct NetworkSection {
    /// CIDR block of the VPC the stack creates.
    // Optional in the file, so that `existing` alone can be told from defaults written out.
    #[serde(default)]
    #[schemars(default = "NetworkSection::default_vpc_cidr")]
    pub vpc_cidr: Option<Cidr>,
    /// Number of availability zones, one private subnet in each.
    #[serde(default)]
    #[schemars(default = "NetworkSection::default_azs")]
    pub availability_zones: Option<AzCount>,
    /// NAT gateway layout.
    #[serde(default)]
    #[schemars(default = "NetworkSection::default_nat")]
    pub nat: Option<NatMode>,
    /// Subnets for the NAT gateways, inside vpc_cidr and overlapping no other subnet: one for
    /// nat: single, one per zone for nat: per-az; computed from vpc_cidr when absent.
    #[serde(default)]
    pub public_subnet_cidrs: Option<Vec<Cidr>>,
    /// One subnet per availability zone, inside vpc_cidr and overlapping no other subnet;
    /// computed from vpc_cidr when absent.
    #[serde(default)]
    pub private_subnet_cidrs: Option<Vec<Cidr>>,
    /// An existing VPC to use instead of creating one; it excludes the other network keys.
    #[serde(default)]
    pub existing: Option<ExistingNetwork>,
}

impl NetworkSection {
    /// Default VPC CIDR of a created network.
    pub const DEFAULT_VPC_CIDR: &str = "172.30.0.0/16";
    /// Default number of availability zones.
    pub const DEFAULT_AZS: u8 = 3;

    fn default_vpc_cidr() -> Option<Cidr> {
        Some(Cidr::try_from(Self::DEFAULT_VPC_CIDR.to_owned()).expect("valid default"))
    }
    fn default_azs() -> Option<AzCount> {
        Some(AzCount::try_from(u64::from(Self::DEFAULT_AZS)).expect("valid default"))
    }
    fn default_nat() -> Option<NatMode> {
        Some(NatMode::default())
    }
}

/// `network.existing`: a VPC the stack uses instead of creating one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExistingNetwork {
    /// The VPC.
    pub vpc_id: VpcId,
    /// Private subnets with a route to the internet (NAT) and to S3; FSx and the notebook go
    /// into the first.
    #[schemars(length(min = 1, max = ExistingNetwork::MAX_SUBNETS), extend("uniqueItems" = true))]
    pub private_subnet_ids: Vec<SubnetId>,
    /// Security group whose members may talk to each other.
    pub security_group_id: SecurityGroupId,
}

impl ExistingNetwork {
    /// The most subnets SageMaker takes for a training job or notebook.
    pub const MAX_SUBNETS: usize = 16;
}

/// EFS throughput mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EfsThroughputMode {
    /// Pay per byte transferred; scales with the workload.
    #[default]
    Elastic,
    /// Throughput grows with the amount stored.
    Bursting,
}

impl EfsThroughputMode {
    /// The CloudFormation value.
    pub fn as_cfn(self) -> &'static str {
        match self {
            Self::Elastic => "elastic",
            Self::Bursting => "bursting",
        }
    }
}

/// The `efs` section: an EFS file system, created or existing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EfsSection {
    /// Whether the stack uses EFS at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// An existing file system to use instead of creating one.
    #[serde(default)]
    pub existing_id: Option<EfsId>,
    /// Keep the created file system when the stack is deleted or the resource replaced.
    #[serde(default = "yes")]
    pub retain: bool,
    /// Throughput mode of a created file system.
    #[serde(default)]
    pub throughput_mode: EfsThroughputMode,
    /// Create a mount target in every private subnet; must be true when the stack creates the
    /// VPC; when absent, true except for an existing file system in an existing VPC.
    #[serde(default)]
    pub create_mount_targets: Option<bool>,
}

impl Default for EfsSection {
    fn default() -> Self {
        Self {
            enabled: true,
            existing_id: None,
            retain: true,
            throughput_mode: EfsThroughputMode::default(),
            create_mount_targets: None,
        }
    }
}

/// FSx for Lustre deployment type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum FsxDeploymentType {
    /// Scratch file system: no replication, cheapest; a cache of the S3 data.
    #[default]
    #[serde(rename = "SCRATCH_2")]
    Scratch2,
    /// Persistent file system with replicated storage and a data repository association.
    #[serde(rename = "PERSISTENT_2")]
    Persistent2,
}

impl FsxDeploymentType {
    /// The CloudFormation / API value.
    pub fn as_cfn(self) -> &'static str {
        match self {
            Self::Scratch2 => "SCRATCH_2",
            Self::Persistent2 => "PERSISTENT_2",
        }
    }
}

/// The `fsx` section: an FSx for Lustre file system linked to the data bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FsxSection {
    /// Whether the stack creates an FSx for Lustre file system.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How the file system stores data.
    #[serde(default)]
    pub deployment_type: FsxDeploymentType,
    /// Storage capacity.
    #[serde(default = "default_fsx_gib")]
    pub storage_gib: FsxStorageGib,
    /// Throughput in MB/s per TiB of storage, only with PERSISTENT_2, the lowest when absent.
    #[serde(default)]
    #[schemars(schema_with = "throughput_schema")]
    pub per_unit_storage_throughput: Option<u32>,
    /// Import new, changed and deleted S3 objects automatically.
    #[serde(default = "yes")]
    pub auto_import: bool,
}

fn default_fsx_gib() -> FsxStorageGib {
    FsxStorageGib::try_from(1200).expect("valid default")
}

impl Default for FsxSection {
    fn default() -> Self {
        Self {
            enabled: true,
            deployment_type: FsxDeploymentType::default(),
            storage_gib: default_fsx_gib(),
            per_unit_storage_throughput: None,
            auto_import: true,
        }
    }
}

/// Notebook platform (operating system and Jupyter version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum NotebookPlatform {
    /// Amazon Linux 2023, JupyterLab 4.
    #[default]
    #[serde(rename = "notebook-al2023-v1")]
    Al2023V1,
    /// Amazon Linux 2, JupyterLab 3.
    #[serde(rename = "notebook-al2-v3")]
    Al2V3,
}

impl NotebookPlatform {
    /// The CloudFormation value.
    pub fn as_cfn(self) -> &'static str {
        match self {
            Self::Al2023V1 => "notebook-al2023-v1",
            Self::Al2V3 => "notebook-al2-v3",
        }
    }
}

/// The `notebook` section: a SageMaker notebook instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotebookSection {
    /// Whether the stack creates a notebook instance.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Instance type of the notebook.
    #[serde(default = "default_notebook_type")]
    pub instance_type: InstanceType,
    /// Size of its ML storage volume.
    #[serde(default = "default_notebook_volume")]
    pub volume_gib: NotebookVolumeGib,
    /// Give notebook users root (the on-start script runs as root either way).
    #[serde(default)]
    pub root_access: bool,
    /// Operating system and JupyterLab version.
    #[serde(default)]
    pub platform: NotebookPlatform,
    /// A git repository cloned into the notebook.
    #[serde(default)]
    pub git: Option<GitRepo>,
}

fn default_notebook_type() -> InstanceType {
    "ml.m5.2xlarge".parse().expect("valid default")
}

fn default_notebook_volume() -> NotebookVolumeGib {
    NotebookVolumeGib::try_from(200).expect("valid default")
}

impl Default for NotebookSection {
    fn default() -> Self {
        Self {
            enabled: true,
            instance_type: default_notebook_type(),
            volume_gib: default_notebook_volume(),
            root_access: false,
            platform: NotebookPlatform::default(),
            git: None,
        }
    }
}

/// `notebook.git`: a git repository cloned into the notebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitRepo {
    /// The repository.
    pub url: GitUrl,
    /// Branch to check out; when absent, the repository's default branch.
    #[serde(default)]
    pub branch: Option<GitBranch>,
    /// For a private repository: a secret holding username and password (a token), in the
    /// stack's region when region is set.
    #[serde(default)]
    pub secret_arn: Option<SecretArn>,
}

/// The `jobs` section: defaults of `stackctl job submit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobsSection {
    /// Training instance type.
    #[serde(default = "default_job_type")]
    pub instance_type: InstanceType,
    /// Number of training instances.
    #[serde(default = "default_job_count")]
    pub instance_count: InstanceCount,
    /// Size of each instance's ML storage volume.
    #[serde(default = "default_job_volume")]
    pub volume_gib: TrainingVolumeGib,
    /// Longest a training job may run.
    #[serde(default = "default_max_run")]
    pub max_run_seconds: MaxRunSeconds,
    /// The image of each model; a model not listed uses its default ECR repository in the
    /// account and region.
    #[serde(default)]
    #[schemars(schema_with = "map_schema::<ModelName, ImageUri>")]
    pub images: BTreeMap<ModelName, ImageUri>,
}

fn default_job_type() -> InstanceType {
    "ml.p3.16xlarge".parse().expect("valid default")
}
fn default_job_count() -> InstanceCount {
    InstanceCount::try_from(4).expect("valid default")
}
fn default_job_volume() -> TrainingVolumeGib {
    TrainingVolumeGib::try_from(100).expect("valid default")
}
fn default_max_run() -> MaxRunSeconds {
    MaxRunSeconds::try_from(400_000).expect("valid default")
}

impl Default for JobsSection {
    fn default() -> Self {
        Self {
            instance_type: default_job_type(),
            instance_count: default_job_count(),
            volume_gib: default_job_volume(),
            max_run_seconds: default_max_run(),
            images: BTreeMap::new(),
        }
    }
}

/// A model profile of the job module.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[schemars(title = "model")]
pub enum ModelName {
    /// TensorPack Mask/Faster-RCNN.
    Tensorpack,
    /// The optimized aws-samples Mask R-CNN.
    AwsSamples,
    /// Detectron2 on PyTorch.
    Detectron2,
    /// The SageMaker built-in object detection algorithm.
    ObjectDetection,
}

impl ModelName {
    /// The name as stack files and profiles write it (`aws-samples`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tensorpack => "tensorpack",
            Self::AwsSamples => "aws-samples",
            Self::Detectron2 => "detectron2",
            Self::ObjectDetection => "object-detection",
        }
    }
}

fn yes() -> bool {
    true
}

/// A mapping as the stack file takes it: any key the key type allows, each to a value (serde
/// reads maps so; schemars would list enum keys as separate properties).
fn map_schema<K: JsonSchema, V: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": generator.subschema_for::<K>(),
        "additionalProperties": generator.subschema_for::<V>(),
    })
}

fn tags_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = map_schema::<TagKey, TagValue>(generator);
    schema.insert("maxProperties".into(), super::validate::MAX_TAGS.into());
    schema
}

fn throughput_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            { "type": "integer", "enum": super::validate::FSX_PERSISTENT2_THROUGHPUT },
            { "type": "null" },
        ],
    })
}
