//! The stack file's keys: what each allows and its default, in one table.
//!
//! Error messages take their "allowed" line from here, and a test checks that
//! docs/stack-file.md documents every key listed.

/// One key of the stack file.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Dotted path; `*` stands for a map key, `[]` for a list item.
    pub path: &'static str,
    /// What values are allowed.
    pub allowed: &'static str,
    /// The default, as written in the file, or `-` for required keys.
    pub default: &'static str,
}

macro_rules! fields {
    ($($path:literal => $allowed:literal, default $default:literal;)*) => {
        /// Every key of the stack file.
        pub const FIELDS: &[Field] = &[$(Field { path: $path, allowed: $allowed, default: $default }),*];
    };
}

fields! {
    "" => "a mapping with the keys name, region, tags, data, network, efs, fsx, notebook, jobs", default "-";
    "name" => "1 to 53 letters, digits and single hyphens, starting with a letter, not ending with a hyphen", default "-";
    "region" => "an AWS region name such as us-west-2; when absent the AWS configuration chain decides", default "(from the AWS config)";
    "tags" => "a mapping of at most 46 tag keys to values", default "{}";
    "tags.*" => "key: 1-128 characters, not starting with aws: or stackctl:; value: up to 256 characters; letters, digits, spaces and _ . : / = + - @", default "-";
    "data" => "a mapping with the keys bucket, prefix", default "{}";
    "data.bucket" => "an S3 bucket name (3-63 lowercase letters, digits, . and -); absent: the stack creates an encrypted bucket kept on delete", default "(created by the stack)";
    "data.prefix" => "an S3 key prefix without leading or trailing /, made of letters, digits and / ! - _ . * ' ( )", default "mask-rcnn/sagemaker/input/train";
    "network" => "a mapping with vpc_cidr, availability_zones, nat, public_subnet_cidrs, private_subnet_cidrs, or with existing alone", default "{}";
    "network.vpc_cidr" => "an IPv4 CIDR block /16 to /28 with zero host bits, e.g. 172.30.0.0/16", default "172.30.0.0/16";
    "network.availability_zones" => "an integer 2..=6; one private subnet per zone", default "3";
    "network.nat" => "single (one NAT gateway) or per-az (one per availability zone)", default "single";
    "network.public_subnet_cidrs" => "a list of CIDR blocks inside vpc_cidr, not overlapping: one entry for nat: single, one per zone for nat: per-az", default "(computed from vpc_cidr)";
    "network.public_subnet_cidrs[]" => "an IPv4 CIDR block /16 to /28 inside vpc_cidr, overlapping no other subnet", default "-";
    "network.private_subnet_cidrs" => "a list of availability_zones CIDR blocks inside vpc_cidr, not overlapping", default "(computed from vpc_cidr)";
    "network.private_subnet_cidrs[]" => "an IPv4 CIDR block /16 to /28 inside vpc_cidr, overlapping no other subnet", default "-";
    "network.existing" => "a mapping with vpc_id, private_subnet_ids, security_group_id; excludes the other network keys", default "(absent: create a VPC)";
    "network.existing.vpc_id" => "vpc- followed by 8 or 17 lowercase hex digits", default "-";
    "network.existing.private_subnet_ids" => "a list of 1 to 16 distinct subnet ids (subnet- followed by 8 or 17 lowercase hex digits)", default "-";
    "network.existing.private_subnet_ids[]" => "subnet- followed by 8 or 17 lowercase hex digits", default "-";
    "network.existing.security_group_id" => "sg- followed by 8 or 17 lowercase hex digits", default "-";
    "efs" => "a mapping with the keys enabled, existing_id, retain, throughput_mode, create_mount_targets", default "{}";
    "efs.enabled" => "true or false", default "true";
    "efs.existing_id" => "fs- followed by 8 or 17 lowercase hex digits", default "(absent: create a file system)";
    "efs.retain" => "true (keep the created file system when the stack is deleted) or false", default "true";
    "efs.throughput_mode" => "elastic or bursting", default "elastic";
    "efs.create_mount_targets" => "true or false; must be true when the stack creates the VPC", default "(true, except for an existing file system in an existing VPC)";
    "fsx" => "a mapping with the keys enabled, deployment_type, storage_gib, per_unit_storage_throughput, auto_import", default "{}";
    "fsx.enabled" => "true or false", default "true";
    "fsx.deployment_type" => "SCRATCH_2 or PERSISTENT_2", default "SCRATCH_2";
    "fsx.storage_gib" => "1200, 2400, or a multiple of 2400 up to 1048800 (GiB)", default "1200";
    "fsx.per_unit_storage_throughput" => "125, 250, 500 or 1000 (MB/s per TiB), only with PERSISTENT_2", default "(125 for PERSISTENT_2)";
    "fsx.auto_import" => "true (import new, changed and deleted S3 objects automatically) or false", default "true";
    "notebook" => "a mapping with the keys enabled, instance_type, volume_gib, root_access, platform, git", default "{}";
    "notebook.enabled" => "true or false", default "true";
    "notebook.instance_type" => "a SageMaker instance type: ml.<family>.<size>, e.g. ml.m5.2xlarge", default "ml.m5.2xlarge";
    "notebook.volume_gib" => "an integer 5..=16384 (GiB)", default "200";
    "notebook.root_access" => "true or false", default "false";
    "notebook.platform" => "notebook-al2023-v1 or notebook-al2-v3", default "notebook-al2023-v1";
    "notebook.git" => "a mapping with url and optional branch and secret_arn", default "(absent: no repository)";
    "notebook.git.url" => "an https:// git URL without credentials", default "-";
    "notebook.git.branch" => "a git branch name (letters, digits, - _ . /)", default "(the repository's default branch)";
    "notebook.git.secret_arn" => "a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) holding username and password", default "(absent: public repository)";
    "jobs" => "a mapping with the keys instance_type, instance_count, volume_gib, max_run_seconds, images", default "{}";
    "jobs.instance_type" => "a SageMaker instance type: ml.<family>.<size>, e.g. ml.p3.16xlarge", default "ml.p3.16xlarge";
    "jobs.instance_count" => "an integer 1..=100", default "4";
    "jobs.volume_gib" => "an integer 1..=16384 (GiB)", default "100";
    "jobs.max_run_seconds" => "an integer 1..=2419200 (28 days)", default "400000";
    "jobs.images" => "a mapping from model (tensorpack, aws-samples, detectron2, object-detection) to an image URI", default "{}";
    "jobs.images.*" => "REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn:latest", default "-";
}

/// Maps a concrete path (`network.private_subnet_cidrs[2]`, `tags.Owner`) to its table pattern.
pub fn pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' {
            for d in chars.by_ref() {
                if d == ']' {
                    break;
                }
            }
            out.push(']');
        }
    }
    for map in ["tags.", "jobs.images."] {
        if let Some(rest) = out.strip_prefix(map)
            && !rest.is_empty()
            && !rest.contains('.')
        {
            return format!("{map}*");
        }
    }
    out
}

/// True when the last part of `path` is a key of a free-form mapping (`tags.Owner`), where
/// serde's own position (the key) is the precise one.
pub fn is_map_key(path: &str) -> bool {
    pattern(path).ends_with(".*")
}

/// The table entry for a concrete path, if it is a known key.
pub fn field(path: &str) -> Option<&'static Field> {
    let pattern = pattern(path);
    FIELDS.iter().find(|f| f.path == pattern)
}

/// What is allowed at `path`; for an unknown key, what the enclosing mapping allows.
pub fn allowed(path: &str) -> &'static str {
    let mut path = path;
    loop {
        if let Some(f) = field(path) {
            return f.allowed;
        }
        match path.rfind(['.', '[']) {
            Some(cut) => path = &path[..cut],
            None if !path.is_empty() => path = "",
            None => return FIELDS[0].allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(
            pattern("network.private_subnet_cidrs[2]"),
            "network.private_subnet_cidrs[]"
        );
        assert_eq!(pattern("tags.Owner"), "tags.*");
        assert_eq!(pattern("jobs.images.tensorpack"), "jobs.images.*");
        assert_eq!(pattern("jobs.instance_type"), "jobs.instance_type");
    }

    #[test]
    fn unknown_keys_fall_back_to_their_section() {
        assert_eq!(allowed("efs.bogus"), field("efs").unwrap().allowed);
        assert_eq!(allowed("bogus"), FIELDS[0].allowed);
    }
}
