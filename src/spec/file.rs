//! The stack file as written: serde types with defaults, one struct per section.
//!
//! Every struct denies unknown fields, so a typo is an error rather than a silently ignored key.
//! Defaults here must match `stacks/default.yaml` (a test checks that they do).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::scalars::{
    AzCount, BucketName, Cidr, EfsId, FsxStorageGib, GitBranch, GitUrl, ImageUri, InstanceCount,
    InstanceType, MaxRunSeconds, NotebookVolumeGib, Region, S3Prefix, SecretArn, SecurityGroupId,
    StackName, SubnetId, TagKey, TagValue, TrainingVolumeGib, VpcId,
};

/// A whole stack file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    /// CloudFormation stack name.
    pub name: StackName,
    /// Region; when absent, the AWS configuration chain decides.
    #[serde(default)]
    pub region: Option<Region>,
    /// Stack tags, propagated by CloudFormation to every resource that supports tags.
    #[serde(default)]
    pub tags: BTreeMap<TagKey, TagValue>,
    /// Where the training data lives.
    #[serde(default)]
    pub data: DataSection,
    /// The VPC: created, or an existing one.
    #[serde(default)]
    pub network: NetworkSection,
    /// Amazon EFS.
    #[serde(default)]
    pub efs: EfsSection,
    /// Amazon FSx for Lustre.
    #[serde(default)]
    pub fsx: FsxSection,
    /// SageMaker notebook instance.
    #[serde(default)]
    pub notebook: NotebookSection,
    /// Defaults for the job module.
    #[serde(default)]
    pub jobs: JobsSection,
}

/// `data:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Existing bucket; when absent the stack creates an encrypted bucket kept on delete.
    #[serde(default)]
    pub bucket: Option<BucketName>,
    /// Key prefix of the COCO data set in the bucket.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    /// One NAT gateway in the first availability zone (cheapest).
    #[default]
    Single,
    /// One NAT gateway per availability zone (no cross-AZ dependency).
    PerAz,
}

/// `network:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct NetworkSection {
    /// VPC CIDR block of the created VPC.
    #[serde(default)]
    pub vpc_cidr: Option<Cidr>,
    /// Number of availability zones (private subnets).
    #[serde(default)]
    pub availability_zones: Option<AzCount>,
    /// NAT gateway layout.
    #[serde(default)]
    pub nat: Option<NatMode>,
    /// Public subnet CIDRs; computed from `vpc_cidr` when absent.
    #[serde(default)]
    pub public_subnet_cidrs: Option<Vec<Cidr>>,
    /// Private subnet CIDRs; computed from `vpc_cidr` when absent.
    #[serde(default)]
    pub private_subnet_cidrs: Option<Vec<Cidr>>,
    /// Use an existing VPC instead of creating one.
    #[serde(default)]
    pub existing: Option<ExistingNetwork>,
}

impl NetworkSection {
    /// Default VPC CIDR of a created network.
    pub const DEFAULT_VPC_CIDR: &str = "172.30.0.0/16";
    /// Default number of availability zones.
    pub const DEFAULT_AZS: u8 = 3;
}

/// `network.existing:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingNetwork {
    /// The VPC.
    pub vpc_id: VpcId,
    /// Private subnets with a route to the internet (NAT) and to S3.
    pub private_subnet_ids: Vec<SubnetId>,
    /// Security group whose members may talk to each other.
    pub security_group_id: SecurityGroupId,
}

/// EFS throughput mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// `efs:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EfsSection {
    /// Whether the stack uses EFS at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Reuse this file system instead of creating one.
    #[serde(default)]
    pub existing_id: Option<EfsId>,
    /// Keep the created file system when the stack is deleted or the resource replaced.
    #[serde(default = "yes")]
    pub retain: bool,
    /// Throughput mode of a created file system.
    #[serde(default)]
    pub throughput_mode: EfsThroughputMode,
    /// Create a mount target in every private subnet.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// `fsx:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FsxSection {
    /// Whether the stack creates an FSx for Lustre file system.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// SCRATCH_2 or PERSISTENT_2.
    #[serde(default)]
    pub deployment_type: FsxDeploymentType,
    /// Storage capacity in GiB: 1200, 2400, then multiples of 2400.
    #[serde(default = "default_fsx_gib")]
    pub storage_gib: FsxStorageGib,
    /// PERSISTENT_2 throughput per TiB (MB/s): 125, 250, 500 or 1000.
    #[serde(default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// `notebook:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotebookSection {
    /// Whether the stack creates a notebook instance.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Instance type.
    #[serde(default = "default_notebook_type")]
    pub instance_type: InstanceType,
    /// ML storage volume size.
    #[serde(default = "default_notebook_volume")]
    pub volume_gib: NotebookVolumeGib,
    /// Give notebook users root.
    #[serde(default)]
    pub root_access: bool,
    /// Platform identifier.
    #[serde(default)]
    pub platform: NotebookPlatform,
    /// Git repository cloned into the notebook.
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

/// `notebook.git:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitRepo {
    /// https URL of the repository.
    pub url: GitUrl,
    /// Branch to check out.
    #[serde(default)]
    pub branch: Option<GitBranch>,
    /// Secrets Manager secret with `username` and `password` (a token) for a private repository.
    #[serde(default)]
    pub secret_arn: Option<SecretArn>,
}

/// `jobs:`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSection {
    /// Training instance type.
    #[serde(default = "default_job_type")]
    pub instance_type: InstanceType,
    /// Number of training instances.
    #[serde(default = "default_job_count")]
    pub instance_count: InstanceCount,
    /// ML storage volume per instance.
    #[serde(default = "default_job_volume")]
    pub volume_gib: TrainingVolumeGib,
    /// Maximum run time.
    #[serde(default = "default_max_run")]
    pub max_run_seconds: MaxRunSeconds,
    /// Image URI per model profile.
    #[serde(default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
