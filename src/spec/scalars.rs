//! Validated scalar values of the stack file.
//!
//! Each type checks one field on its own while serde reads the file, so a bad value is reported
//! with the exact line and column serde_yaml knows. Checks that need more than one field live in
//! `validate.rs`.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// Declares a string newtype that is validated by `$check` when deserialized.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The value as written in the stack file.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $check(&value)?;
                Ok(Self(value))
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::try_from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Declares an integer newtype that must lie in `$min..=$max`.
macro_rules! ranged_int {
    ($(#[$doc:meta])* $name:ident, $int:ty, $min:expr, $max:expr, $unit:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "u64", into = "u64")]
        pub struct $name($int);

        impl $name {
            /// Smallest allowed value.
            pub const MIN: $int = $min;
            /// Largest allowed value.
            pub const MAX: $int = $max;

            /// The number.
            pub fn get(self) -> $int {
                self.0
            }
        }

        impl TryFrom<u64> for $name {
            type Error = String;
            fn try_from(value: u64) -> Result<Self, Self::Error> {
                if (u64::from($min)..=u64::from($max)).contains(&value) {
                    Ok(Self(value as $int))
                } else {
                    Err(format!(
                        "{value} is out of range: allowed is {}..={} {}",
                        $min, $max, $unit
                    ))
                }
            }
        }

        impl From<$name> for u64 {
            fn from(value: $name) -> u64 {
                u64::from(value.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

fn all_chars(s: &str, ok: impl Fn(char) -> bool) -> bool {
    s.chars().all(ok)
}

fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && all_chars(s, |c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// `prefix` followed by 8 or 17 lowercase hex digits, the two id lengths AWS has used.
fn check_aws_id(value: &str, prefix: &str, what: &str) -> Result<(), String> {
    match value.strip_prefix(prefix) {
        Some(hex) if (hex.len() == 8 || hex.len() == 17) && is_lower_hex(hex) => Ok(()),
        _ => Err(format!(
            "`{value}` is not a valid {what} id: expected `{prefix}` followed by 8 or 17 lowercase hex digits"
        )),
    }
}

fn check_stack_name(v: &str) -> Result<(), String> {
    // CloudFormation allows 128 characters, but the notebook instance, its lifecycle
    // configuration and code repository are named `<stack>-<suffix>` and SageMaker caps those at 63.
    let ok = (1..=StackName::MAX_LEN).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_alphabetic())
        && all_chars(v, |c| c.is_ascii_alphanumeric() || c == '-')
        && !v.ends_with('-')
        && !v.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not a valid stack name"))
    }
}

checked_string!(
    /// CloudFormation stack name, also the prefix of the names stackctl gives to resources.
    StackName,
    check_stack_name
);

impl StackName {
    /// Longest stack name: 63 (SageMaker name limit) minus the longest suffix, `-lifecycle`.
    pub const MAX_LEN: usize = 53;
}

fn check_region(v: &str) -> Result<(), String> {
    // e.g. us-west-2, eu-central-1, us-gov-west-1, ap-southeast-5, cn-north-1
    let parts: Vec<&str> = v.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && all_chars(parts[0], |c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && all_chars(p, |c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok();
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not an AWS region name"))
    }
}

checked_string!(
    /// AWS region name such as `us-west-2`.
    Region,
    check_region
);

fn check_tag_key(v: &str) -> Result<(), String> {
    if v.is_empty() || v.chars().count() > 128 {
        return Err(format!("tag key `{v}` must be 1 to 128 characters"));
    }
    if v.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!("tag key `{v}` uses the reserved `aws:` prefix"));
    }
    // stackctl finds kept data and its jobs by its own tags; a stack file must not fake them.
    if v.to_ascii_lowercase().starts_with("stackctl:") {
        return Err(format!(
            "tag key `{v}` uses the `stackctl:` prefix, which stackctl reserves for its own tags"
        ));
    }
    check_tag_chars(v, "key")
}

fn check_tag_value(v: &str) -> Result<(), String> {
    if v.chars().count() > 256 {
        return Err("tag value is longer than 256 characters".to_owned());
    }
    check_tag_chars(v, "value")
}

fn check_tag_chars(v: &str, what: &str) -> Result<(), String> {
    match v
        .chars()
        .find(|c| !(c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(*c)))
    {
        Some(c) => Err(format!("tag {what} `{v}` contains `{c}`")),
        None => Ok(()),
    }
}

checked_string!(
    /// Tag key: 1..128 characters, not starting with `aws:` or `stackctl:`.
    TagKey,
    check_tag_key
);
checked_string!(
    /// Tag value: up to 256 characters.
    TagValue,
    check_tag_value
);

fn check_bucket_name(v: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("`{v}` is not a valid S3 bucket name: {why}"));
    if !(3..=63).contains(&v.len()) {
        return fail("it must be 3 to 63 characters long");
    }
    if !all_chars(v, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
    }) {
        return fail("only lowercase letters, digits, `.` and `-` are allowed");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(v.chars().next()) || !edge_ok(v.chars().last()) {
        return fail("it must begin and end with a letter or digit");
    }
    if v.contains("..") || v.contains(".-") || v.contains("-.") {
        return fail("`..`, `.-` and `-.` are not allowed");
    }
    if v.parse::<Ipv4Addr>().is_ok() {
        return fail("it must not look like an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if v.starts_with(prefix) {
            return fail(&format!("the prefix `{prefix}` is reserved"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", "--x-s3", "--table-s3", ".mrap"] {
        if v.ends_with(suffix) {
            return fail(&format!("the suffix `{suffix}` is reserved"));
        }
    }
    Ok(())
}

checked_string!(
    /// S3 bucket name (general purpose bucket naming rules).
    BucketName,
    check_bucket_name
);

fn check_prefix(v: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("`{v}` is not a valid S3 key prefix: {why}"));
    if v.is_empty() || v.len() > 512 {
        return fail("it must be 1 to 512 characters long");
    }
    if v.starts_with('/') || v.ends_with('/') {
        return fail("write it without a leading or trailing `/`");
    }
    if v.contains("//") {
        return fail("empty path segments (`//`) are not allowed");
    }
    if v.split('/').any(|seg| seg == "." || seg == "..") {
        return fail("`.` and `..` segments are not allowed");
    }
    if !all_chars(v, |c| c.is_ascii_alphanumeric() || "/!-_.*'()".contains(c)) {
        return fail("only letters, digits and / ! - _ . * ' ( ) are allowed");
    }
    Ok(())
}

checked_string!(
    /// S3 key prefix without leading or trailing slash, safe in S3 keys and file-system paths.
    S3Prefix,
    check_prefix
);

checked_string!(
    /// VPC id (`vpc-` + 8 or 17 hex digits).
    VpcId,
    check_vpc_id
);
checked_string!(
    /// Subnet id (`subnet-` + 8 or 17 hex digits).
    SubnetId,
    check_subnet_id
);
checked_string!(
    /// Security group id (`sg-` + 8 or 17 hex digits).
    SecurityGroupId,
    check_sg_id
);
checked_string!(
    /// EFS file system id (`fs-` + 8 or 17 hex digits).
    EfsId,
    check_efs_id
);

fn check_vpc_id(v: &str) -> Result<(), String> {
    check_aws_id(v, "vpc-", "VPC")
}
fn check_subnet_id(v: &str) -> Result<(), String> {
    check_aws_id(v, "subnet-", "subnet")
}
fn check_sg_id(v: &str) -> Result<(), String> {
    check_aws_id(v, "sg-", "security group")
}
fn check_efs_id(v: &str) -> Result<(), String> {
    check_aws_id(v, "fs-", "EFS file system")
}

fn check_instance_type(v: &str) -> Result<(), String> {
    let mut parts = v.split('.');
    let ok = parts.next() == Some("ml")
        && parts.next().is_some_and(|family| {
            family.starts_with(|c: char| c.is_ascii_lowercase())
                && all_chars(family, |c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
                })
        })
        && parts.next().is_some_and(|size| {
            matches!(
                size,
                "nano" | "micro" | "small" | "medium" | "large" | "xlarge"
            ) || size.strip_suffix("xlarge").is_some_and(|n| {
                !n.is_empty() && !n.starts_with('0') && all_chars(n, |c| c.is_ascii_digit())
            })
        })
        && parts.next().is_none();
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not a SageMaker instance type"))
    }
}

checked_string!(
    /// SageMaker instance type such as `ml.p3.16xlarge`.
    InstanceType,
    check_instance_type
);

fn check_secret_arn(v: &str) -> Result<(), String> {
    // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>
    let parts: Vec<&str> = v.splitn(7, ':').collect();
    let ok = parts.len() == 7
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "secretsmanager"
        && check_region(parts[3]).is_ok()
        && parts[4].len() == 12
        && all_chars(parts[4], |c| c.is_ascii_digit())
        && parts[5] == "secret"
        && !parts[6].is_empty()
        && all_chars(parts[6], |c| {
            c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
        });
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not a Secrets Manager secret ARN"))
    }
}

checked_string!(
    /// ARN of a Secrets Manager secret (the git credentials live there, never in the template).
    SecretArn,
    check_secret_arn
);

fn check_git_url(v: &str) -> Result<(), String> {
    let Some(rest) = v.strip_prefix("https://") else {
        return Err(format!("`{v}` is not an https:// git URL"));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.len() == host.len() {
        return Err(format!("`{v}` has no repository path"));
    }
    if host.contains('@') {
        // Credentials in the URL would land in the template; they belong in Secrets Manager.
        return Err(
            "the git URL contains credentials (`user@`); put them in Secrets Manager and name the secret in `secret_arn`"
                .to_owned(),
        );
    }
    if v.len() > 1024 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the git URL must be at most 1024 characters without whitespace".to_owned());
    }
    Ok(())
}

checked_string!(
    /// https URL of a git repository for the notebook.
    GitUrl,
    check_git_url
);

fn check_git_branch(v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 1024
        && !v.starts_with(['-', '/', '.'])
        && !v.ends_with(['/', '.'])
        && !v.contains("..")
        && !v.contains("//")
        && !v.ends_with(".lock")
        && all_chars(v, |c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not a valid git branch name"))
    }
}

checked_string!(
    /// Git branch name.
    GitBranch,
    check_git_branch
);

fn check_image_uri(v: &str) -> Result<(), String> {
    let fail = || {
        Err(format!(
            "`{v}` is not a container image URI: expected REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]"
        ))
    };
    let Some((registry, rest)) = v.split_once('/') else {
        return fail();
    };
    if registry.is_empty()
        || !registry.contains('.')
        || !all_chars(registry, |c| c.is_ascii_alphanumeric() || ".-:".contains(c))
    {
        return fail();
    }
    let (repo, reference) = match rest.split_once('@') {
        Some((repo, digest)) => {
            let ok = digest
                .strip_prefix("sha256:")
                .is_some_and(|h| h.len() == 64 && is_lower_hex(h));
            if !ok {
                return fail();
            }
            (repo, None)
        }
        None => match rest.rsplit_once(':') {
            Some((repo, tag)) => (repo, Some(tag)),
            None => (rest, None),
        },
    };
    let repo_ok = !repo.is_empty()
        && repo.len() <= 256
        && repo.split('/').all(|seg| {
            !seg.is_empty()
                && all_chars(seg, |c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)
                })
        });
    let tag_ok = reference.is_none_or(|t| {
        (1..=128).contains(&t.len())
            && all_chars(t, |c| c.is_ascii_alphanumeric() || "._-".contains(c))
    });
    if repo_ok && tag_ok { Ok(()) } else { fail() }
}

checked_string!(
    /// Container image URI, e.g. an ECR repository with a tag.
    ImageUri,
    check_image_uri
);

/// The parts of a private ECR image URI
/// (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrImage<'a> {
    /// Registry id (the account).
    pub account: &'a str,
    /// Region of the registry.
    pub region: &'a str,
    /// Repository name.
    pub repository: &'a str,
    /// The tag (`latest` when none is given) or digest.
    pub reference: EcrReference<'a>,
}

/// How an ECR image URI names the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcrReference<'a> {
    /// `:tag`, or `latest` when the URI has none.
    Tag(&'a str),
    /// `@sha256:...`.
    Digest(&'a str),
}

impl ImageUri {
    /// The registry, repository and tag or digest, when this is a private ECR registry URI.
    pub fn ecr(&self) -> Option<EcrImage<'_>> {
        let (registry, rest) = self.0.split_once('/')?;
        let mut labels = registry.split('.');
        let account = labels.next()?;
        if labels.next()? != "dkr" || labels.next()? != "ecr" {
            return None;
        }
        let region = labels.next()?;
        let (repository, reference) = match rest.split_once('@') {
            Some((repo, digest)) => (repo, EcrReference::Digest(digest)),
            None => match rest.rsplit_once(':') {
                Some((repo, tag)) => (repo, EcrReference::Tag(tag)),
                None => (rest, EcrReference::Tag("latest")),
            },
        };
        Some(EcrImage {
            account,
            region,
            repository,
            reference,
        })
    }

    /// The ECR repository ARN this URI points at, when it is an ECR private registry URI
    /// (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>`).
    pub fn ecr_repository_arn(&self) -> Option<String> {
        let EcrImage {
            account,
            region,
            repository,
            ..
        } = self.ecr()?;
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.contains("-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        Some(format!(
            "arn:{partition}:ecr:{region}:{account}:repository/{repository}"
        ))
    }
}

/// An IPv4 CIDR block whose prefix length is allowed for a VPC or subnet (/16 to /28) and whose
/// host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr(Ipv4Net);

impl Cidr {
    /// Longest prefix AWS allows for a VPC or subnet.
    pub const MAX_PREFIX: u8 = 28;
    /// Shortest prefix AWS allows for a VPC or subnet.
    pub const MIN_PREFIX: u8 = 16;

    /// The network.
    pub fn net(self) -> Ipv4Net {
        self.0
    }

    /// Wraps a network computed by stackctl (not read from a file).
    pub(crate) fn from_net(net: Ipv4Net) -> Self {
        Self(net)
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let net: Ipv4Net = value
            .parse()
            .map_err(|_| format!("`{value}` is not an IPv4 CIDR block"))?;
        if !(Self::MIN_PREFIX..=Self::MAX_PREFIX).contains(&net.prefix_len()) {
            return Err(format!(
                "`{value}` has prefix length /{}; AWS allows /{} to /{}",
                net.prefix_len(),
                Self::MIN_PREFIX,
                Self::MAX_PREFIX
            ));
        }
        if net.trunc() != net {
            return Err(format!(
                "`{value}` has host bits set; the network address is {}",
                net.trunc()
            ));
        }
        Ok(Self(net))
    }
}

impl From<Cidr> for String {
    fn from(value: Cidr) -> String {
        value.0.to_string()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

ranged_int!(
    /// Number of availability zones the network spans.
    AzCount,
    u8,
    2u8,
    6u8,
    "availability zones"
);
ranged_int!(
    /// Size of an ML storage volume in GiB (SageMaker: 5..16384 for notebooks).
    NotebookVolumeGib,
    u32,
    5u32,
    16384u32,
    "GiB"
);
ranged_int!(
    /// Size of a training instance's ML storage volume in GiB.
    TrainingVolumeGib,
    u32,
    1u32,
    16384u32,
    "GiB"
);
ranged_int!(
    /// Number of training instances.
    InstanceCount,
    u32,
    1u32,
    100u32,
    "instances"
);
ranged_int!(
    /// Maximum training run time in seconds (SageMaker: at most 28 days).
    MaxRunSeconds,
    u32,
    1u32,
    2_419_200u32,
    "seconds (28 days)"
);
ranged_int!(
    /// FSx for Lustre storage capacity in GiB; the step rule is checked in `validate.rs`.
    FsxStorageGib,
    u32,
    1200u32,
    1_048_800u32,
    "GiB"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_ids_accept_8_and_17_hex_digits_only() {
        assert!(EfsId::from_str("fs-0123abcd").is_ok());
        assert!(EfsId::from_str("fs-0123456789abcdef0").is_ok());
        assert!(EfsId::from_str("fs-0123abc").is_err());
        assert!(EfsId::from_str("fs-0123ABCD").is_err());
        assert!(EfsId::from_str("fs-0123456789abcdef").is_err());
        assert!(SubnetId::from_str("sg-0123abcd").is_err());
    }

    #[test]
    fn cidr_rules() {
        assert!(Cidr::try_from("10.0.0.0/16".to_owned()).is_ok());
        assert!(Cidr::try_from("10.0.0.0/15".to_owned()).is_err());
        assert!(Cidr::try_from("10.0.0.0/29".to_owned()).is_err());
        assert!(Cidr::try_from("10.0.0.1/16".to_owned()).is_err());
        assert!(Cidr::try_from("10.0.0/16".to_owned()).is_err());
    }

    #[test]
    fn bucket_names() {
        for ok in ["my-bucket", "a.b.c", "abc", "0abc9"] {
            assert!(BucketName::from_str(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "a_b",
        ] {
            assert!(BucketName::from_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instance_types() {
        for ok in [
            "ml.p3.16xlarge",
            "ml.m5.2xlarge",
            "ml.t3.medium",
            "ml.p6-b200.48xlarge",
        ] {
            assert!(InstanceType::from_str(ok).is_ok(), "{ok}");
        }
        for bad in [
            "p3.16xlarge",
            "ml.p3",
            "ml.p3.16xl",
            "ml.P3.large",
            "ml.p3.016xlarge",
        ] {
            assert!(InstanceType::from_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_uris_and_their_repository_arns() {
        let uri =
            ImageUri::from_str("123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn/tp:1.0")
                .unwrap();
        assert_eq!(
            uri.ecr_repository_arn().unwrap(),
            "arn:aws:ecr:us-west-2:123456789012:repository/mask-rcnn/tp"
        );
        let parts = uri.ecr().unwrap();
        assert_eq!(
            (
                parts.account,
                parts.region,
                parts.repository,
                parts.reference
            ),
            (
                "123456789012",
                "us-west-2",
                "mask-rcnn/tp",
                EcrReference::Tag("1.0")
            )
        );
        let untagged =
            ImageUri::from_str("123456789012.dkr.ecr.us-west-2.amazonaws.com/tp").unwrap();
        assert_eq!(
            untagged.ecr().unwrap().reference,
            EcrReference::Tag("latest")
        );
        assert!(ImageUri::from_str("docker.io/library/ubuntu:22.04").is_ok());
        assert!(
            ImageUri::from_str("docker.io/library/ubuntu:22.04")
                .unwrap()
                .ecr()
                .is_none()
        );
        assert!(ImageUri::from_str("ubuntu").is_err());
        assert!(ImageUri::from_str("reg.example.com/Upper:1").is_err());
        assert!(ImageUri::from_str("reg.example.com/x@sha256:abc").is_err());
    }

    #[test]
    fn regions_and_secrets() {
        for ok in ["us-west-2", "us-gov-west-1", "ap-southeast-5"] {
            assert!(Region::from_str(ok).is_ok(), "{ok}");
        }
        for bad in ["us-west", "uswest2", "US-west-2"] {
            assert!(Region::from_str(bad).is_err(), "{bad}");
        }
        assert!(
            SecretArn::from_str("arn:aws:secretsmanager:us-west-2:123456789012:secret:git-AbCd12")
                .is_ok()
        );
        assert!(SecretArn::from_str("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn ranges() {
        assert!(NotebookVolumeGib::try_from(4).is_err());
        assert!(NotebookVolumeGib::try_from(16384).is_ok());
        assert!(MaxRunSeconds::try_from(2_419_201).is_err());
        assert!(AzCount::try_from(1).is_err());
    }
}
