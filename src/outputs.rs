//! The stack's outputs: the contract between the template and the job module.
//!
//! Names are defined here once. The outputs partial renders whatever list the render context
//! builds from this enum, and the job module reads the deployed stack's outputs by these names.
//!
//! There is no FSx mount name output on purpose: it is read from the live file system
//! (`fsx:DescribeFileSystems` on `FsxFileSystemId`), see docs/decisions.md.

use std::fmt;

/// One output of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StackOutput {
    /// The VPC (created or existing).
    VpcId,
    /// Comma-separated private subnet ids, for training jobs' VpcConfig.
    PrivateSubnetIds,
    /// The subnet of the FSx file system; jobs reading FSx must run there.
    FsxSubnetId,
    /// The security group shared by jobs, notebook, EFS and FSx.
    SecurityGroupId,
    /// EFS file system id (when EFS is enabled).
    EfsFileSystemId,
    /// FSx for Lustre file system id (when FSx is enabled).
    FsxFileSystemId,
    /// Notebook instance name (when the notebook is enabled).
    NotebookInstanceName,
    /// SageMaker execution role ARN.
    ExecutionRoleArn,
    /// Data bucket name.
    DataBucket,
    /// Data prefix inside the bucket.
    DataPrefix,
    /// DataSync task copying the data prefix from S3 to EFS (when EFS is enabled).
    DataSyncTaskArn,
}

impl StackOutput {
    /// Every output, in template order.
    pub const ALL: [StackOutput; 11] = [
        Self::VpcId,
        Self::PrivateSubnetIds,
        Self::FsxSubnetId,
        Self::SecurityGroupId,
        Self::EfsFileSystemId,
        Self::FsxFileSystemId,
        Self::NotebookInstanceName,
        Self::ExecutionRoleArn,
        Self::DataBucket,
        Self::DataPrefix,
        Self::DataSyncTaskArn,
    ];

    /// The output's logical name in the template.
    pub fn name(self) -> &'static str {
        match self {
            Self::VpcId => "VpcId",
            Self::PrivateSubnetIds => "PrivateSubnetIds",
            Self::FsxSubnetId => "FsxSubnetId",
            Self::SecurityGroupId => "SecurityGroupId",
            Self::EfsFileSystemId => "EfsFileSystemId",
            Self::FsxFileSystemId => "FsxFileSystemId",
            Self::NotebookInstanceName => "NotebookInstanceName",
            Self::ExecutionRoleArn => "ExecutionRoleArn",
            Self::DataBucket => "DataBucket",
            Self::DataPrefix => "DataPrefix",
            Self::DataSyncTaskArn => "DataSyncTaskArn",
        }
    }

    /// The output's description in the template.
    pub fn description(self) -> &'static str {
        match self {
            Self::VpcId => "VPC of the training stack",
            Self::PrivateSubnetIds => "Private subnets for training jobs (comma-separated)",
            Self::FsxSubnetId => "Subnet of the FSx for Lustre file system (and the notebook)",
            Self::SecurityGroupId => "Security group shared by jobs, notebook, EFS and FSx",
            Self::EfsFileSystemId => "EFS file system id",
            Self::FsxFileSystemId => "FSx for Lustre file system id",
            Self::NotebookInstanceName => "SageMaker notebook instance name",
            Self::ExecutionRoleArn => "SageMaker execution role ARN",
            Self::DataBucket => "S3 bucket with the training data",
            Self::DataPrefix => "Key prefix of the COCO 2017 data set in the bucket",
            Self::DataSyncTaskArn => "DataSync task that copies the data prefix from S3 to EFS",
        }
    }
}

impl fmt::Display for StackOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
