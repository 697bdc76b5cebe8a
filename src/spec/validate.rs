//! Checks that span several fields, and the resolved [`StackSpec`] they produce.
//!
//! Everything here runs before any AWS call. Each problem becomes a [`Diagnostic`] located
//! through the [`LocationIndex`]; all problems are reported at once.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::diagnostic::Diagnostic;
use super::file::{
    DataSection, EfsThroughputMode, ExistingNetwork, FsxDeploymentType, GitRepo, JobsSection,
    NatMode, NetworkSection, NotebookPlatform, StackFile,
};
use super::locate::LocationIndex;
use super::scalars::{
    BucketName, Cidr, EfsId, FsxStorageGib, InstanceType, NotebookVolumeGib, Region, S3Prefix,
    StackName, TagKey, TagValue,
};

/// A stack file that passed every check, with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackSpec {
    /// CloudFormation stack name.
    pub name: StackName,
    /// Region, when the file sets one.
    pub region: Option<Region>,
    /// Stack tags.
    pub tags: BTreeMap<TagKey, TagValue>,
    /// Data bucket and prefix.
    pub data: DataSection,
    /// Created or existing network.
    pub network: Network,
    /// EFS, when enabled.
    pub efs: Option<Efs>,
    /// FSx for Lustre, when enabled.
    pub fsx: Option<Fsx>,
    /// Notebook instance, when enabled.
    pub notebook: Option<Notebook>,
    /// Job module defaults.
    pub jobs: JobsSection,
}

impl StackSpec {
    /// The existing data bucket, or None when the stack creates it.
    pub fn existing_bucket(&self) -> Option<&BucketName> {
        self.data.bucket.as_ref()
    }

    /// The data prefix.
    pub fn prefix(&self) -> &S3Prefix {
        &self.data.prefix
    }
}

/// The network the stack uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The stack creates a VPC.
    Create(CreatedNetwork),
    /// The stack uses an existing VPC.
    Existing(ExistingNetwork),
}

/// A VPC the stack creates, with its subnets laid out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatedNetwork {
    /// VPC CIDR.
    pub vpc_cidr: Cidr,
    /// NAT layout.
    pub nat: NatMode,
    /// Public subnets: one per NAT gateway, subnet `i` in zone `i`.
    pub public_subnets: Vec<Cidr>,
    /// Private subnets, subnet `i` in zone `i`.
    pub private_subnets: Vec<Cidr>,
}

/// EFS settings after defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Efs {
    /// Existing file system; None: the stack creates one.
    pub existing_id: Option<EfsId>,
    /// Keep a created file system on stack deletion or replacement.
    pub retain: bool,
    /// Throughput mode of a created file system.
    pub throughput_mode: EfsThroughputMode,
    /// Create a mount target in every private subnet.
    pub create_mount_targets: bool,
}

/// FSx settings after defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fsx {
    /// Deployment type.
    pub deployment_type: FsxDeploymentType,
    /// Capacity in GiB.
    pub storage_gib: u32,
    /// MB/s per TiB, PERSISTENT_2 only.
    pub per_unit_storage_throughput: Option<u32>,
    /// Automatic import from S3.
    pub auto_import: bool,
}

/// Notebook settings after defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notebook {
    /// Instance type.
    pub instance_type: InstanceType,
    /// Volume size.
    pub volume_gib: NotebookVolumeGib,
    /// Root access for notebook users.
    pub root_access: bool,
    /// Platform identifier.
    pub platform: NotebookPlatform,
    /// Optional git repository.
    pub git: Option<GitRepo>,
}

/// PERSISTENT_2 throughput values (MB/s per TiB).
pub const FSX_PERSISTENT2_THROUGHPUT: [u32; 4] = [125, 250, 500, 1000];

/// Tags a stack file may give. CloudFormation allows 50 stack tags and copies them to the
/// resources, where S3 and EFS allow 50 user tags too; stackctl adds `stackctl:managed-by` to
/// the stack, and `Name`, `stackctl:stack` and `stackctl:stack-id` to the bucket and the file
/// system (the `aws:` tags do not count).
pub const MAX_TAGS: usize = 46;

struct Checker<'a> {
    index: &'a LocationIndex,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(self.index.locate(path), path, message));
    }

    fn written(&self, path: &str) -> bool {
        self.index.contains(path)
    }
}

/// Runs the cross-field checks on a parsed file.
pub fn validate(file: StackFile, index: &LocationIndex) -> Result<StackSpec, Vec<Diagnostic>> {
    let mut c = Checker {
        index,
        problems: Vec::new(),
    };

    if file.tags.len() > MAX_TAGS {
        c.fail(
            "tags",
            format!(
                "{} tags given; at most {MAX_TAGS} (CloudFormation's 50 less the 4 stackctl puts on the bucket and the file system)",
                file.tags.len()
            ),
        );
    }

    let network = check_network(&mut c, &file.network);
    let efs = check_efs(&mut c, &file, &network);
    let fsx = check_fsx(&mut c, &file);
    let notebook = check_notebook(&mut c, &file);
    check_images(&mut c, &file);

    if !c.problems.is_empty() {
        c.problems
            .sort_by_key(|d| (d.location.line, d.location.column));
        return Err(c.problems);
    }
    Ok(StackSpec {
        name: file.name,
        region: file.region,
        tags: file.tags,
        data: file.data,
        network: network.expect("no problems implies a network"),
        efs,
        fsx,
        notebook,
        jobs: file.jobs,
    })
}

fn check_network(c: &mut Checker<'_>, n: &NetworkSection) -> Option<Network> {
    if let Some(existing) = &n.existing {
        let mut ok = true;
        for key in [
            "vpc_cidr",
            "availability_zones",
            "nat",
            "public_subnet_cidrs",
            "private_subnet_cidrs",
        ] {
            let path = format!("network.{key}");
            if c.written(&path) {
                c.fail(
                    &path,
                    format!("`{path}` cannot be combined with `network.existing`: an existing VPC brings its own subnets"),
                );
                ok = false;
            }
        }
        let ids = &existing.private_subnet_ids;
        if ids.is_empty() || ids.len() > ExistingNetwork::MAX_SUBNETS {
            c.fail(
                "network.existing.private_subnet_ids",
                format!(
                    "{} subnets given; SageMaker accepts 1 to {}",
                    ids.len(),
                    ExistingNetwork::MAX_SUBNETS
                ),
            );
            ok = false;
        }
        for (i, id) in ids.iter().enumerate() {
            if let Some(first) = ids[..i].iter().position(|other| other == id) {
                c.fail(
                    &format!("network.existing.private_subnet_ids[{i}]"),
                    format!("`{id}` is listed twice (also item {first})"),
                );
                ok = false;
            }
        }
        return ok.then(|| Network::Existing(existing.clone()));
    }

    let vpc = n.vpc_cidr.unwrap_or_else(|| {
        NetworkSection::DEFAULT_VPC_CIDR
            .to_owned()
            .try_into()
            .expect("valid")
    });
    let azs = usize::from(
        n.availability_zones
            .map_or(NetworkSection::DEFAULT_AZS, |a| a.get()),
    );
    let nat = n.nat.unwrap_or_default();
    let publics_wanted = match nat {
        NatMode::Single => 1,
        NatMode::PerAz => azs,
    };

    let mut ok = true;
    let private = match &n.private_subnet_cidrs {
        Some(list) if list.len() != azs => {
            c.fail(
                "network.private_subnet_cidrs",
                format!(
                    "{} private subnets given for availability_zones: {azs}; give exactly one per zone",
                    list.len()
                ),
            );
            ok = false;
            list.clone()
        }
        Some(list) => list.clone(),
        None => Vec::new(),
    };
    let public = match &n.public_subnet_cidrs {
        Some(list) if list.len() != publics_wanted => {
            let why = match nat {
                NatMode::Single => "nat: single needs exactly 1 public subnet".to_owned(),
                NatMode::PerAz => format!("nat: per-az needs one public subnet per zone ({azs})"),
            };
            c.fail(
                "network.public_subnet_cidrs",
                format!("{} public subnets given; {why}", list.len()),
            );
            ok = false;
            list.clone()
        }
        Some(list) => list.clone(),
        None => Vec::new(),
    };

    // Explicit subnets: inside the VPC and pairwise disjoint.
    let mut seen: Vec<(String, Ipv4Net)> = Vec::new();
    for (list, key) in [
        (&public, "network.public_subnet_cidrs"),
        (&private, "network.private_subnet_cidrs"),
    ] {
        for (i, cidr) in list.iter().enumerate() {
            let path = format!("{key}[{i}]");
            let net = cidr.net();
            if !vpc.net().contains(&net) {
                c.fail(
                    &path,
                    format!("subnet {net} is outside the VPC {}", vpc.net()),
                );
                ok = false;
                continue;
            }
            if let Some((other, other_net)) = seen
                .iter()
                .find(|(_, o)| o.contains(&net) || net.contains(o))
            {
                c.fail(
                    &path,
                    format!("subnet {net} overlaps {other} ({other_net})"),
                );
                ok = false;
            }
            seen.push((path, net));
        }
    }

    let need = Need {
        private: if n.private_subnet_cidrs.is_some() {
            0
        } else {
            azs
        },
        public: if n.public_subnet_cidrs.is_some() {
            0
        } else {
            publics_wanted
        },
    };
    let (private, public) = match carve(vpc.net(), azs, publics_wanted, need, &seen) {
        Ok((p, q)) => (
            if need.private == 0 { private } else { p },
            if need.public == 0 { public } else { q },
        ),
        Err(message) => {
            c.fail("network.vpc_cidr", message);
            return None;
        }
    };

    ok.then_some(Network::Create(CreatedNetwork {
        vpc_cidr: vpc,
        nat,
        public_subnets: public,
        private_subnets: private,
    }))
}

/// How many subnets of each kind `carve` must find (0 when the file lists them).
#[derive(Debug, Clone, Copy)]
struct Need {
    private: usize,
    public: usize,
}

/// Lays out the subnets of a VPC with `azs` private and `publics` public subnets, returning the
/// ones `need` asks for and avoiding `taken` (explicitly listed) subnets.
///
/// Private subnets take the first equal blocks (VPC split into the next power of two above
/// `azs`); public subnets are cut from the last block, /24 or smaller where room allows.
fn carve(
    vpc: Ipv4Net,
    azs: usize,
    publics: usize,
    need: Need,
    taken: &[(String, Ipv4Net)],
) -> Result<(Vec<Cidr>, Vec<Cidr>), String> {
    let bits = |n: usize| -> u8 { n.next_power_of_two().trailing_zeros() as u8 };
    let private_prefix = vpc.prefix_len() + bits(azs + 1);
    let public_prefix =
        (private_prefix + bits(publics)).max((vpc.prefix_len() + 8).min(Cidr::MAX_PREFIX));
    let too_small = || {
        format!(
            "the VPC {vpc} is too small for {azs} private and {publics} public subnets of at least /{} each; use a larger block (e.g. /16) or list the subnet CIDRs explicitly",
            Cidr::MAX_PREFIX
        )
    };
    if private_prefix > Cidr::MAX_PREFIX || public_prefix > Cidr::MAX_PREFIX {
        return Err(too_small());
    }
    let free = |net: &Ipv4Net| {
        !taken
            .iter()
            .any(|(_, t)| t.contains(net) || net.contains(t))
    };
    let blocks: Vec<Ipv4Net> = vpc
        .subnets(private_prefix)
        .map_err(|_| too_small())?
        .collect();
    let last = *blocks.last().ok_or_else(too_small)?;
    let private: Vec<Cidr> = blocks[..blocks.len() - 1]
        .iter()
        .copied()
        .filter(free)
        .take(need.private)
        .map(Cidr::from_net)
        .collect();
    let public: Vec<Cidr> = last
        .subnets(public_prefix)
        .map_err(|_| too_small())?
        .filter(free)
        .take(need.public)
        .map(Cidr::from_net)
        .collect();
    if private.len() < need.private || public.len() < need.public {
        return Err(too_small());
    }
    Ok((private, public))
}

fn check_efs(c: &mut Checker<'_>, file: &StackFile, network: &Option<Network>) -> Option<Efs> {
    let e = &file.efs;
    if !e.enabled {
        if e.existing_id.is_some() {
            c.fail(
                "efs.existing_id",
                "an existing file system is given but `efs.enabled` is false; remove one of the two",
            );
        }
        return None;
    }
    let existing_vpc = matches!(network, Some(Network::Existing(_)));
    if e.existing_id.is_some() {
        for key in ["retain", "throughput_mode"] {
            let path = format!("efs.{key}");
            if c.written(&path) {
                c.fail(
                    &path,
                    format!("`{path}` applies only to a file system the stack creates, not to `efs.existing_id`"),
                );
            }
        }
    }
    // An existing file system in an existing VPC usually has its mount targets already.
    let all_existing = existing_vpc && e.existing_id.is_some();
    let create_mount_targets = e.create_mount_targets.unwrap_or(!all_existing);
    if !create_mount_targets && !all_existing {
        c.fail(
            "efs.create_mount_targets",
            "mount targets can be skipped only for an existing file system in an existing VPC; a file system without mount targets in the stack's subnets cannot be mounted",
        );
    }
    Some(Efs {
        existing_id: e.existing_id.clone(),
        retain: e.retain,
        throughput_mode: e.throughput_mode,
        create_mount_targets,
    })
}

fn check_fsx(c: &mut Checker<'_>, file: &StackFile) -> Option<Fsx> {
    let f = &file.fsx;
    if !f.enabled {
        return None;
    }
    let gib = f.storage_gib.get();
    if !f.storage_gib.is_offered() {
        let (first, step) = (FsxStorageGib::MIN, FsxStorageGib::STEP);
        let below = if gib < step { first } else { gib / step * step };
        c.fail(
            "fsx.storage_gib",
            format!(
                "{gib} GiB is not a valid capacity for {}: it must be {first}, {step} or a multiple of {step} (nearest: {below} or {})",
                f.deployment_type.as_cfn(),
                (gib / step + 1) * step
            ),
        );
    }
    let throughput = match (f.deployment_type, f.per_unit_storage_throughput) {
        (FsxDeploymentType::Scratch2, Some(_)) => {
            c.fail(
                "fsx.per_unit_storage_throughput",
                "per_unit_storage_throughput applies only to PERSISTENT_2; SCRATCH_2 has a fixed 200 MB/s per TiB",
            );
            None
        }
        (FsxDeploymentType::Scratch2, None) => None,
        (FsxDeploymentType::Persistent2, Some(t)) if !FSX_PERSISTENT2_THROUGHPUT.contains(&t) => {
            c.fail(
                "fsx.per_unit_storage_throughput",
                format!("{t} MB/s per TiB is not offered for PERSISTENT_2"),
            );
            None
        }
        (FsxDeploymentType::Persistent2, t) => Some(t.unwrap_or(FSX_PERSISTENT2_THROUGHPUT[0])),
    };
    Some(Fsx {
        deployment_type: f.deployment_type,
        storage_gib: gib,
        per_unit_storage_throughput: throughput,
        auto_import: f.auto_import,
    })
}

fn check_notebook(c: &mut Checker<'_>, file: &StackFile) -> Option<Notebook> {
    let n = &file.notebook;
    if !n.enabled {
        return None;
    }
    if let (Some(region), Some(git)) = (&file.region, &n.git)
        && let Some(arn) = &git.secret_arn
    {
        let secret_region = arn.as_str().split(':').nth(3).unwrap_or_default();
        if secret_region != region.as_str() {
            c.fail(
                    "notebook.git.secret_arn",
                    format!(
                        "the secret is in {secret_region} but the stack is in {region}; SageMaker reads git credentials from the stack's region"
                    ),
                );
        }
    }
    Some(Notebook {
        instance_type: n.instance_type.clone(),
        volume_gib: n.volume_gib,
        root_access: n.root_access,
        platform: n.platform,
        git: n.git.clone(),
    })
}

fn check_images(c: &mut Checker<'_>, file: &StackFile) {
    let Some(region) = &file.region else { return };
    for (model, uri) in &file.jobs.images {
        let Some(arn) = uri.ecr_repository_arn() else {
            continue;
        };
        let image_region = arn.split(':').nth(3).unwrap_or_default();
        if image_region != region.as_str() {
            let key = serde_yaml::to_value(model)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            c.fail(
                &format!("jobs.images.{key}"),
                format!(
                    "the image is in ECR in {image_region} but the stack is in {region}; SageMaker pulls training images from the job's region only"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL3_1: Need = Need {
        private: 3,
        public: 1,
    };

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn carves_the_default_vpc() {
        let (private, public) = carve(net("172.30.0.0/16"), 3, 1, ALL3_1, &[]).unwrap();
        let private: Vec<String> = private.iter().map(ToString::to_string).collect();
        let public: Vec<String> = public.iter().map(ToString::to_string).collect();
        assert_eq!(
            private,
            ["172.30.0.0/18", "172.30.64.0/18", "172.30.128.0/18"]
        );
        assert_eq!(public, ["172.30.192.0/24"]);
    }

    #[test]
    fn carves_the_seed_vpc_and_per_az_publics() {
        let (private, public) = carve(net("172.30.0.0/25"), 3, 1, ALL3_1, &[]).unwrap();
        assert_eq!(private[2].to_string(), "172.30.0.64/27");
        assert_eq!(public[0].to_string(), "172.30.0.96/28");
        let all3_3 = Need {
            private: 3,
            public: 3,
        };
        let (_, public) = carve(net("10.0.0.0/16"), 3, 3, all3_3, &[]).unwrap();
        assert_eq!(public.len(), 3);
        assert!(carve(net("172.30.0.0/25"), 3, 3, all3_3, &[]).is_err());
        assert!(
            carve(
                net("10.0.0.0/28"),
                2,
                1,
                Need {
                    private: 2,
                    public: 1
                },
                &[]
            )
            .is_err()
        );
    }

    #[test]
    fn carves_around_explicit_subnets() {
        let taken = [("x".to_owned(), net("172.30.0.0/18"))];
        let need = Need {
            private: 0,
            public: 1,
        };
        let (private, public) = carve(net("172.30.0.0/16"), 3, 1, need, &taken).unwrap();
        assert!(private.is_empty());
        assert_eq!(public[0].to_string(), "172.30.192.0/24");
    }
}
