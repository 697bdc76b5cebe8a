//! The values a template sees, built only from a validated [`StackSpec`].
//!
//! Two kinds of values reach a template: typed scalars (quoted by the `yaml` helper) and
//! references, which are small YAML fragments built here (`!Ref Vpc`, `"sg-0123abcd"`), so the
//! partials need not know whether a resource is created or existing.

use serde::Serialize;

use crate::outputs::StackOutput;
use crate::spec::file::{FsxDeploymentType, NatMode};
use crate::spec::{Network, StackSpec};

/// Everything `stack.yaml.hbs` and its partials can use.
#[derive(Debug, Serialize)]
pub struct StackContext {
    /// Stack name.
    pub stack_name: String,
    /// The tag key naming the stack on the data it keeps ([`crate::deploy::kept::STACK_TAG`]).
    pub stack_tag: &'static str,
    /// The tag key naming the deployment ([`crate::deploy::kept::STACK_ID_TAG`]).
    pub stack_id_tag: &'static str,
    /// Template description.
    pub description: String,
    /// stackctl version that rendered the template.
    pub version: &'static str,
    /// Data prefix.
    pub prefix: String,
    /// References to resources that may be created or existing.
    pub refs: Refs,
    /// Created network, or null for an existing VPC.
    pub network: Option<NetworkCtx>,
    /// True when the stack creates the security group.
    pub security_group: bool,
    /// True when the stack creates the data bucket.
    pub bucket: bool,
    /// EFS, or null when disabled.
    pub efs: Option<EfsCtx>,
    /// FSx, or null when disabled.
    pub fsx: Option<FsxCtx>,
    /// The DataSync S3 -> EFS copy, or null when EFS is disabled.
    pub datasync: Option<DataSyncCtx>,
    /// Execution role policy inputs.
    pub iam: IamCtx,
    /// Notebook, or null when disabled.
    pub notebook: Option<NotebookCtx>,
    /// The stack outputs.
    pub outputs: Vec<OutputCtx>,
}

/// YAML fragments that name a resource, whether the stack creates it or not.
#[derive(Debug, Serialize)]
pub struct Refs {
    /// VPC id.
    pub vpc: String,
    /// Security group id.
    pub security_group: String,
    /// Private subnet ids, in zone order.
    pub private_subnets: Vec<String>,
    /// Subnet of FSx and the notebook (the first private subnet).
    pub fsx_subnet: String,
    /// Data bucket name.
    pub bucket: String,
    /// Data bucket ARN.
    pub bucket_arn: String,
    /// ARN pattern of every object in the bucket.
    pub bucket_objects_arn: String,
    /// ARN pattern of the objects under the data prefix.
    pub prefix_objects_arn: String,
    /// `s3://<bucket>/`, the data repository path of the FSx association.
    pub bucket_url: String,
    /// EFS id (null when EFS is disabled).
    pub efs: Option<String>,
    /// EFS ARN (null when EFS is disabled).
    pub efs_arn: Option<String>,
}

/// A created network.
#[derive(Debug, Serialize)]
pub struct NetworkCtx {
    /// VPC CIDR.
    pub vpc_cidr: String,
    /// Public subnets, each with its NAT gateway.
    pub public_subnets: Vec<SubnetCtx>,
    /// Private route tables, each routing through one NAT gateway.
    pub route_tables: Vec<RouteTableCtx>,
    /// Private subnets.
    pub private_subnets: Vec<SubnetCtx>,
}

/// One subnet of a created network.
#[derive(Debug, Serialize)]
pub struct SubnetCtx {
    /// Logical id.
    pub id: String,
    /// 1-based number for comments and names.
    pub number: usize,
    /// Name tag.
    pub name: String,
    /// CIDR.
    pub cidr: String,
    /// Index into `Fn::GetAZs`.
    pub az: usize,
    /// Logical id of the NAT gateway (public subnets).
    pub nat_id: String,
    /// Logical id of the route table (private subnets).
    pub route_table: String,
    /// True when FSx lives in this subnet.
    pub fsx: bool,
}

/// One private route table.
#[derive(Debug, Serialize)]
pub struct RouteTableCtx {
    /// Logical id.
    pub id: String,
    /// Name tag.
    pub name: String,
    /// NAT gateway logical id.
    pub nat_id: String,
}

/// EFS.
#[derive(Debug, Serialize)]
pub struct EfsCtx {
    /// The stack creates the file system.
    pub create: bool,
    /// `RetainExceptOnCreate` (kept, except when the create that made it rolls back) or
    /// `Delete`.
    pub deletion_policy: &'static str,
    /// `Retain` or `Delete` (UpdateReplacePolicy has no RetainExceptOnCreate).
    pub update_replace_policy: &'static str,
    /// `elastic` or `bursting`.
    pub throughput_mode: &'static str,
    /// Mount targets to create.
    pub mount_targets: Vec<MountTargetCtx>,
}

/// One EFS mount target.
#[derive(Debug, Serialize)]
pub struct MountTargetCtx {
    /// Logical id.
    pub id: String,
    /// Subnet reference.
    pub subnet: String,
    /// Logical ids to wait for.
    pub depends_on: Vec<String>,
}

/// The DataSync locations and task that copy the data prefix from S3 to EFS.
#[derive(Debug, Serialize)]
pub struct DataSyncCtx {
    /// `!Sub` ARN of the subnet DataSync's network interfaces go in (the first private one).
    pub subnet_arn: String,
    /// `!Sub` ARN of the security group they use.
    pub security_group_arn: String,
    /// Logical ids to wait for (the EFS mount target in that subnet).
    pub depends_on: Vec<String>,
}

/// FSx for Lustre.
#[derive(Debug, Serialize)]
pub struct FsxCtx {
    /// SCRATCH_2 (no per-unit throughput) rather than PERSISTENT_2.
    pub scratch: bool,
    /// Deployment type.
    pub deployment_type: &'static str,
    /// Capacity in GiB.
    pub storage_gib: u32,
    /// PERSISTENT_2 throughput.
    pub per_unit_storage_throughput: Option<u32>,
    /// Automatic import.
    pub auto_import: bool,
    /// Logical ids to wait for.
    pub depends_on: Vec<String>,
}

/// Inputs of the execution role's policy.
#[derive(Debug, Serialize)]
pub struct IamCtx {
    /// ECR repository ARNs (YAML fragments) jobs may pull from.
    pub ecr_repositories: Vec<String>,
    /// Secret with the notebook's git credentials.
    pub git_secret_arn: Option<String>,
    /// ARN of the stack's VPC (`!Sub`), the `ec2:Vpc` condition of the interface actions.
    pub vpc_arn: String,
    /// ARNs of the private subnets (`!Sub`): the only subnets training jobs create
    /// interfaces in, and the `ec2:Subnet` condition of the interface actions.
    pub subnet_arns: Vec<String>,
    /// ARN of the shared security group (`!Sub`).
    pub security_group_arn: String,
}

/// The notebook instance. It, its lifecycle configuration and its code repository have no
/// custom names: CloudFormation names them, so it can replace them when a property that
/// requires replacement (subnet, security groups, platform) changes; the name is the
/// `NotebookInstanceName` output.
#[derive(Debug, Serialize)]
pub struct NotebookCtx {
    /// `Name` tag of the instance.
    pub name_tag: String,
    /// Instance type.
    pub instance_type: String,
    /// Platform identifier.
    pub platform: &'static str,
    /// `Enabled` or `Disabled`.
    pub root_access: &'static str,
    /// Volume size.
    pub volume_gib: u32,
    /// Git repository.
    pub git: Option<GitCtx>,
    /// The rendered on-start script (a `Fn::Sub` string).
    pub on_start_script: String,
    /// Logical ids to wait for.
    pub depends_on: Vec<String>,
}

/// The notebook's git repository.
#[derive(Debug, Serialize)]
pub struct GitCtx {
    /// URL.
    pub url: String,
    /// Branch.
    pub branch: Option<String>,
    /// Secret ARN.
    pub secret_arn: Option<String>,
}

/// One stack output.
#[derive(Debug, Serialize)]
pub struct OutputCtx {
    /// Output name.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Value (YAML fragment).
    pub value: String,
}

/// What the on-start script template sees.
#[derive(Debug, Serialize)]
pub struct OnStartContext {
    /// Stack name.
    pub stack_name: String,
    /// EFS id as a `Fn::Sub` string (`${EfsFileSystem}` or a literal id), or null.
    pub efs_id: Option<String>,
    /// True when FSx is mounted.
    pub fsx: bool,
    /// The command that installs the Lustre client on the notebook's platform.
    pub lustre_install: &'static str,
}

/// The Lustre client's install command per notebook platform, as the FSx for Lustre User Guide
/// ("Installing the Lustre client") gives it: Amazon Linux 2 takes it from
/// amazon-linux-extras, Amazon Linux 2023 from its own dnf repository.
fn lustre_install(platform: crate::spec::file::NotebookPlatform) -> &'static str {
    use crate::spec::file::NotebookPlatform;
    match platform {
        NotebookPlatform::Al2V3 => "amazon-linux-extras install -y lustre",
        NotebookPlatform::Al2023V1 => "dnf install -y lustre-client",
    }
}

/// A JSON-quoted string, which is also a valid YAML scalar.
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn sub(s: &str) -> String {
    format!("!Sub {}", quote(s))
}

fn get_att(resource: &str, attribute: &str) -> String {
    format!("!GetAtt {resource}.{attribute}")
}

fn reference(id: &str) -> String {
    format!("!Ref {id}")
}

/// `!Sub` ARN of an EC2 resource of this account and region; `id` is a literal id or a
/// `Fn::Sub` reference such as `${PrivateSubnet1}`.
fn ec2_arn(kind: &str, id: &str) -> String {
    sub(&format!(
        "arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/{id}"
    ))
}

/// The network's ids as `Fn::Sub` text: literal ids of an existing network, references to the
/// created one.
struct NetworkIds {
    vpc: String,
    security_group: String,
    private_subnets: Vec<String>,
}

impl NetworkIds {
    fn new(spec: &StackSpec, network: Option<&NetworkCtx>) -> Self {
        match (&spec.network, network) {
            (Network::Existing(x), _) => Self {
                vpc: x.vpc_id.to_string(),
                security_group: x.security_group_id.to_string(),
                private_subnets: x
                    .private_subnet_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
            (Network::Create(_), Some(n)) => Self {
                vpc: "${Vpc}".to_owned(),
                security_group: format!("${{{}.GroupId}}", ids::SECURITY_GROUP),
                private_subnets: n
                    .private_subnets
                    .iter()
                    .map(|s| format!("${{{}}}", s.id))
                    .collect(),
            },
            (Network::Create(_), None) => unreachable!("a created network has a context"),
        }
    }
}

/// Deletion and update-replace policies (CloudFormation user guide, DeletionPolicy and
/// UpdateReplacePolicy attributes).
pub mod policy {
    /// Kept when the stack is deleted or the resource replaced.
    pub const RETAIN: &str = "Retain";
    /// Kept like `Retain`, except when the operation that created it rolls back: a failed
    /// first `up` leaves no orphaned bucket or file system behind.
    pub const RETAIN_EXCEPT_ON_CREATE: &str = "RetainExceptOnCreate";
    /// Deleted with the stack.
    pub const DELETE: &str = "Delete";
}

/// Logical ids used by more than one partial.
pub mod ids {
    /// The security group.
    pub const SECURITY_GROUP: &str = "SecurityGroup";
    /// Its self-referencing ingress rule.
    pub const SECURITY_GROUP_INGRESS: &str = "SecurityGroupIngressSelf";
    /// Its self-referencing egress rule.
    pub const SECURITY_GROUP_EGRESS: &str = "SecurityGroupEgressSelf";
    /// The execution role's policy.
    pub const ROLE_POLICY: &str = "ExecutionRolePolicy";
    /// The S3 gateway endpoint.
    pub const S3_ENDPOINT: &str = "S3GatewayEndpoint";
    /// The data bucket.
    pub const DATA_BUCKET: &str = "DataBucket";
    /// The EFS file system.
    pub const EFS: &str = "EfsFileSystem";
    /// The FSx file system.
    pub const FSX: &str = "FsxFileSystem";
    /// The notebook instance.
    pub const NOTEBOOK: &str = "NotebookInstance";
    /// The execution role.
    pub const ROLE: &str = "ExecutionRole";
    /// The DataSync task that copies the data prefix from S3 to EFS.
    pub const DATASYNC_TASK: &str = "DataSyncTask";
}

impl StackContext {
    /// Builds the context; `on_start` renders the notebook's on-start script.
    pub fn new<E>(
        spec: &StackSpec,
        on_start: impl FnOnce(&OnStartContext) -> Result<String, E>,
    ) -> Result<Self, E> {
        let name = spec.name.as_str();
        let network = match &spec.network {
            Network::Create(n) => Some(network_ctx(name, n, spec.fsx.is_some())),
            Network::Existing(_) => None,
        };
        let refs = refs(spec, network.as_ref());
        // The rules of the created group, which FSx checks when it is created.
        let sg_rules: Vec<String> = match network {
            Some(_) => vec![
                ids::SECURITY_GROUP_INGRESS.to_owned(),
                ids::SECURITY_GROUP_EGRESS.to_owned(),
            ],
            None => Vec::new(),
        };

        let efs = spec.efs.as_ref().map(|e| EfsCtx {
            create: e.existing_id.is_none(),
            deletion_policy: if e.retain {
                policy::RETAIN_EXCEPT_ON_CREATE
            } else {
                policy::DELETE
            },
            update_replace_policy: if e.retain {
                policy::RETAIN
            } else {
                policy::DELETE
            },
            throughput_mode: e.throughput_mode.as_cfn(),
            mount_targets: if e.create_mount_targets {
                refs.private_subnets
                    .iter()
                    .enumerate()
                    .map(|(i, subnet)| MountTargetCtx {
                        id: format!("EfsMountTarget{}", i + 1),
                        subnet: subnet.clone(),
                        depends_on: network
                            .as_ref()
                            .map(|n| {
                                vec![
                                    format!("{}RouteTableAssociation", n.private_subnets[i].id),
                                    ids::SECURITY_GROUP_INGRESS.to_owned(),
                                ]
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        });

        let net_ids = NetworkIds::new(spec, network.as_ref());
        let datasync = efs.as_ref().map(|e| DataSyncCtx {
            subnet_arn: ec2_arn("subnet", &net_ids.private_subnets[0]),
            security_group_arn: ec2_arn("security-group", &net_ids.security_group),
            depends_on: e
                .mount_targets
                .first()
                .map(|m| m.id.clone())
                .into_iter()
                .collect(),
        });

        let fsx = spec.fsx.as_ref().map(|f| FsxCtx {
            scratch: f.deployment_type == FsxDeploymentType::Scratch2,
            deployment_type: f.deployment_type.as_cfn(),
            storage_gib: f.storage_gib,
            per_unit_storage_throughput: f.per_unit_storage_throughput,
            auto_import: f.auto_import,
            // FSx checks at creation that the group admits Lustre traffic from itself, in and
            // out (the FSx for Lustre user guide, "File system access control with Amazon VPC").
            depends_on: sg_rules.clone(),
        });

        let mut ecr_repositories = vec![sub(
            "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*",
        )];
        for uri in spec.jobs.images.values() {
            if let Some(arn) = uri.ecr_repository_arn() {
                let arn = quote(&arn);
                if !ecr_repositories.contains(&arn) {
                    ecr_repositories.push(arn);
                }
            }
        }
        let git_secret_arn = spec
            .notebook
            .as_ref()
            .and_then(|n| n.git.as_ref())
            .and_then(|g| g.secret_arn.as_ref())
            .map(ToString::to_string);
        let iam = IamCtx {
            ecr_repositories,
            git_secret_arn,
            vpc_arn: ec2_arn("vpc", &net_ids.vpc),
            subnet_arns: net_ids
                .private_subnets
                .iter()
                .map(|s| ec2_arn("subnet", s))
                .collect(),
            security_group_arn: ec2_arn("security-group", &net_ids.security_group),
        };

        let notebook = match &spec.notebook {
            None => None,
            Some(n) => {
                let script = on_start(&OnStartContext {
                    stack_name: name.to_owned(),
                    efs_id: spec.efs.as_ref().map(|e| match &e.existing_id {
                        Some(id) => id.to_string(),
                        None => format!("${{{}}}", ids::EFS),
                    }),
                    fsx: spec.fsx.is_some(),
                    lustre_install: lustre_install(n.platform),
                })?;
                // The on-start script calls FSx with the execution role: its policy must exist
                // before the notebook starts.
                let mut depends_on: Vec<String> = vec![ids::ROLE_POLICY.to_owned()];
                depends_on.extend(
                    efs.iter()
                        .flat_map(|e| e.mount_targets.iter().map(|m| m.id.clone())),
                );
                if let Some(net) = &network {
                    // The on-start script installs the Lustre client through the NAT.
                    depends_on.push(format!(
                        "{}RouteTableAssociation",
                        net.private_subnets[0].id
                    ));
                    depends_on.push(format!("{}DefaultRoute", net.route_tables[0].id));
                    depends_on.push(ids::S3_ENDPOINT.to_owned());
                }
                Some(NotebookCtx {
                    name_tag: format!("{name}-notebook"),
                    instance_type: n.instance_type.to_string(),
                    platform: n.platform.as_cfn(),
                    root_access: if n.root_access { "Enabled" } else { "Disabled" },
                    volume_gib: n.volume_gib.get(),
                    git: n.git.as_ref().map(|g| GitCtx {
                        url: g.url.to_string(),
                        branch: g.branch.as_ref().map(ToString::to_string),
                        secret_arn: g.secret_arn.as_ref().map(ToString::to_string),
                    }),
                    on_start_script: script,
                    depends_on,
                })
            }
        };

        let outputs = StackOutput::ALL
            .iter()
            .filter_map(|&o| {
                output_value(o, spec, &refs).map(|value| OutputCtx {
                    name: o.name(),
                    description: o.description(),
                    value,
                })
            })
            .collect();

        Ok(Self {
            stack_name: name.to_owned(),
            stack_tag: crate::deploy::kept::STACK_TAG,
            stack_id_tag: crate::deploy::kept::STACK_ID_TAG,
            description: format!(
                "stackctl {name}: VPC, shared file systems, notebook and IAM role for distributed Mask R-CNN training"
            ),
            version: env!("CARGO_PKG_VERSION"),
            prefix: spec.prefix().to_string(),
            security_group: network.is_some(),
            bucket: spec.existing_bucket().is_none(),
            network,
            refs,
            efs,
            fsx,
            datasync,
            iam,
            notebook,
            outputs,
        })
    }
}

fn network_ctx(stack: &str, n: &crate::spec::CreatedNetwork, fsx: bool) -> NetworkCtx {
    let public_subnets: Vec<SubnetCtx> = n
        .public_subnets
        .iter()
        .enumerate()
        .map(|(i, cidr)| SubnetCtx {
            id: format!("PublicSubnet{}", i + 1),
            number: i + 1,
            name: format!("{stack}-public-{}", i + 1),
            cidr: cidr.to_string(),
            az: i,
            nat_id: format!("NatGateway{}", i + 1),
            route_table: "PublicRouteTable".to_owned(),
            fsx: false,
        })
        .collect();
    let route_tables: Vec<RouteTableCtx> = public_subnets
        .iter()
        .map(|p| RouteTableCtx {
            id: format!("PrivateRouteTable{}", p.number),
            name: format!("{stack}-private-{}", p.number),
            nat_id: p.nat_id.clone(),
        })
        .collect();
    let private_subnets = n
        .private_subnets
        .iter()
        .enumerate()
        .map(|(i, cidr)| SubnetCtx {
            id: format!("PrivateSubnet{}", i + 1),
            number: i + 1,
            name: format!("{stack}-private-{}", i + 1),
            cidr: cidr.to_string(),
            az: i,
            nat_id: String::new(),
            route_table: match n.nat {
                NatMode::Single => route_tables[0].id.clone(),
                NatMode::PerAz => route_tables[i].id.clone(),
            },
            fsx: fsx && i == 0,
        })
        .collect();
    NetworkCtx {
        vpc_cidr: n.vpc_cidr.to_string(),
        public_subnets,
        route_tables,
        private_subnets,
    }
}

fn refs(spec: &StackSpec, network: Option<&NetworkCtx>) -> Refs {
    let (vpc, security_group, private_subnets): (String, String, Vec<String>) =
        match (&spec.network, network) {
            (Network::Existing(e), _) => (
                quote(e.vpc_id.as_str()),
                quote(e.security_group_id.as_str()),
                e.private_subnet_ids
                    .iter()
                    .map(|s| quote(s.as_str()))
                    .collect(),
            ),
            (Network::Create(_), Some(n)) => (
                reference("Vpc"),
                get_att(ids::SECURITY_GROUP, "GroupId"),
                n.private_subnets.iter().map(|s| reference(&s.id)).collect(),
            ),
            (Network::Create(_), None) => unreachable!("a created network has a context"),
        };
    let fsx_subnet = private_subnets[0].clone();
    let (bucket, bucket_arn, bucket_objects_arn, bucket_url) = match spec.existing_bucket() {
        Some(b) => (
            quote(b.as_str()),
            sub(&format!("arn:${{AWS::Partition}}:s3:::{b}")),
            sub(&format!("arn:${{AWS::Partition}}:s3:::{b}/*")),
            quote(&format!("s3://{b}/")),
        ),
        None => (
            reference(ids::DATA_BUCKET),
            get_att(ids::DATA_BUCKET, "Arn"),
            sub(&format!("${{{}.Arn}}/*", ids::DATA_BUCKET)),
            sub(&format!("s3://${{{}}}/", ids::DATA_BUCKET)),
        ),
    };
    let prefix_objects_arn = match spec.existing_bucket() {
        Some(b) => sub(&format!(
            "arn:${{AWS::Partition}}:s3:::{b}/{}/*",
            spec.prefix()
        )),
        None => sub(&format!(
            "${{{}.Arn}}/{}/*",
            ids::DATA_BUCKET,
            spec.prefix()
        )),
    };
    let (efs, efs_arn) = match &spec.efs {
        None => (None, None),
        Some(e) => {
            let id_sub = match &e.existing_id {
                Some(id) => id.to_string(),
                None => format!("${{{}}}", ids::EFS),
            };
            (
                Some(match &e.existing_id {
                    Some(id) => quote(id.as_str()),
                    None => reference(ids::EFS),
                }),
                Some(sub(&format!(
                    "arn:${{AWS::Partition}}:elasticfilesystem:${{AWS::Region}}:${{AWS::AccountId}}:file-system/{id_sub}"
                ))),
            )
        }
    };
    Refs {
        vpc,
        security_group,
        private_subnets,
        fsx_subnet,
        bucket,
        bucket_arn,
        bucket_objects_arn,
        prefix_objects_arn,
        bucket_url,
        efs,
        efs_arn,
    }
}

fn output_value(output: StackOutput, spec: &StackSpec, refs: &Refs) -> Option<String> {
    Some(match output {
        StackOutput::VpcId => refs.vpc.clone(),
        StackOutput::PrivateSubnetIds => {
            format!("!Join [\",\", [{}]]", refs.private_subnets.join(", "))
        }
        StackOutput::FsxSubnetId => refs.fsx_subnet.clone(),
        StackOutput::SecurityGroupId => refs.security_group.clone(),
        StackOutput::EfsFileSystemId => refs.efs.clone()?,
        StackOutput::FsxFileSystemId => {
            spec.fsx.as_ref()?;
            reference(ids::FSX)
        }
        StackOutput::NotebookInstanceName => {
            spec.notebook.as_ref()?;
            get_att(ids::NOTEBOOK, "NotebookInstanceName")
        }
        StackOutput::ExecutionRoleArn => get_att(ids::ROLE, "Arn"),
        StackOutput::DataBucket => refs.bucket.clone(),
        StackOutput::DataPrefix => quote(spec.prefix().as_str()),
        StackOutput::DataSyncTaskArn => {
            spec.efs.as_ref()?;
            reference(ids::DATASYNC_TASK)
        }
    })
}
