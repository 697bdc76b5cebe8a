//! Validated scalar values of the stack file.
//!
//! Each type checks one field on its own while serde reads the file, so a bad value is reported
//! with the exact line and column serde_yaml knows. Checks that need more than one field live in
//! `validate.rs`.
//!
//! Each type also says what it accepts as a JSON Schema (`stackctl schema`): its pattern, length
//! or range sits next to its check, and a test compares the two on samples
//! (`schemas_agree_with_the_checks`).

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// What the JSON Schema of a checked string says: the words error messages and editors show,
/// and the pattern (ECMA 262 syntax that regex-lite, Python and JavaScript read alike) that
/// accepts exactly what the check accepts.
#[derive(Debug, Clone)]
pub struct StringSchema {
    /// A short noun (`subnet id`), for lists and mappings of it.
    pub title: &'static str,
    /// What is allowed, in words (the `allowed:` line of an error).
    pub description: &'static str,
    /// The whole value must match it (anchored).
    pub pattern: Cow<'static, str>,
    /// The value must not match it anywhere (reserved prefixes, `..`).
    pub not_pattern: Option<&'static str>,
    /// Longest allowed value, in characters.
    pub max_length: Option<usize>,
    /// A valid value, shown where the field has no default.
    pub example: Option<&'static str>,
}

impl StringSchema {
    fn new(title: &'static str, description: &'static str, pattern: &'static str) -> Self {
        Self {
            title,
            description,
            pattern: Cow::Borrowed(pattern),
            not_pattern: None,
            max_length: None,
            example: None,
        }
    }

    fn not(mut self, pattern: &'static str) -> Self {
        self.not_pattern = Some(pattern);
        self
    }

    fn max_length(mut self, max: usize) -> Self {
        self.max_length = Some(max);
        self
    }

    fn example(mut self, example: &'static str) -> Self {
        self.example = Some(example);
        self
    }

    /// The JSON Schema.
    pub fn to_schema(&self) -> Schema {
        let mut schema = json_schema!({
            "type": "string",
            "title": self.title,
            "description": self.description,
            "pattern": self.pattern,
        });
        if let Some(not) = self.not_pattern {
            schema.insert("not".into(), serde_json::json!({ "pattern": not }));
        }
        if let Some(max) = self.max_length {
            schema.insert("maxLength".into(), max.into());
        }
        if let Some(example) = self.example {
            schema.insert("examples".into(), serde_json::json!([example]));
        }
        schema
    }

    /// Whether a JSON Schema validator accepts a value, evaluated with regex-lite.
    #[cfg(test)]
    fn matcher(&self) -> impl Fn(&str) -> bool + '_ {
        let re = |p: &str| regex_lite::Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        let pattern = re(&self.pattern);
        let not = self.not_pattern.map(re);
        move |value| {
            pattern.is_match(value)
                && not.as_ref().is_none_or(|n| !n.is_match(value))
                && self
                    .max_length
                    .is_none_or(|max| value.chars().count() <= max)
        }
    }
}

/// Declares a string newtype that is validated by `$check` when deserialized.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path, $schema:expr) => {
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

        impl $name {
            /// What the JSON Schema says about the value.
            pub fn string_schema() -> StringSchema {
                $schema
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                Self::string_schema().to_schema()
            }
        }
    };
}

/// Declares an integer newtype that must lie in `$min..=$max`.
macro_rules! ranged_int {
    ($(#[$doc:meta])* $name:ident, $int:ty, $min:expr, $max:expr, $unit:expr) => {
        ranged_int!($(#[$doc])* $name, $int, $min, $max, $unit, custom_schema);

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "integer",
                    "minimum": Self::MIN,
                    "maximum": Self::MAX,
                    "description": format!("an integer {}..={} {}", Self::MIN, Self::MAX, Self::UNIT),
                })
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, $int:ty, $min:expr, $max:expr, $unit:expr, custom_schema) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "u64", into = "u64")]
        pub struct $name($int);

        impl $name {
            /// Smallest allowed value.
            pub const MIN: $int = $min;
            /// Largest allowed value.
            pub const MAX: $int = $max;
            /// What the number counts, as error messages say it.
            pub const UNIT: &str = $unit;

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
                        $min, $max, Self::UNIT
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
    check_stack_name,
    StringSchema::new(
        "stack name",
        "1 to 53 letters, digits and single hyphens, starting with a letter, not ending with a hyphen",
        // Each hyphen is followed by a letter or digit: none at the end, none doubled.
        "^[A-Za-z](-?[A-Za-z0-9])*$",
    )
    .max_length(StackName::MAX_LEN)
    .example("mask-rcnn")
);

impl StackName {
    /// Longest stack name: 63 (SageMaker name limit) minus the longest suffix, `-lifecycle`.
    pub const MAX_LEN: usize = 53;
}

/// The pattern of a region name, unanchored, for [`Region`] and inside [`SecretArn`].
macro_rules! region_pattern {
    () => {
        "[a-z]{2}(-[a-z]+)+-[0-9]{1,2}"
    };
}

fn check_region(v: &str) -> Result<(), String> {
    // e.g. us-west-2, eu-central-1, us-gov-west-1, ap-southeast-5, cn-north-1
    let parts: Vec<&str> = v.split('-').collect();
    let last = parts[parts.len() - 1];
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && all_chars(parts[0], |c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && all_chars(p, |c| c.is_ascii_lowercase()))
        && (1..=2).contains(&last.len())
        && all_chars(last, |c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not an AWS region name"))
    }
}

checked_string!(
    /// AWS region name such as `us-west-2`.
    Region,
    check_region,
    StringSchema::new(
        "AWS region",
        "an AWS region name",
        concat!("^", region_pattern!(), "$")
    )
    .example("us-west-2")
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

/// The characters of tag keys and values: exact for ASCII; other characters (letters and
/// digits of other scripts, which the check accepts) are left to `stackctl validate`.
macro_rules! tag_chars {
    () => {
        r"[A-Za-z0-9\x09-\x0D _.:/=+@-]|[^\x00-\x7F]"
    };
}

checked_string!(
    /// Tag key: 1..128 characters, not starting with `aws:` or `stackctl:`.
    TagKey,
    check_tag_key,
    StringSchema::new(
        "tag key",
        "1 to 128 characters, not starting with aws: or stackctl:; letters, digits, spaces and _ . : / = + - @",
        concat!("^(", tag_chars!(), ")+$"),
    )
    .not("^[aA][wW][sS]:|^[sS][tT][aA][cC][kK][cC][tT][lL]:")
    .max_length(128)
);
checked_string!(
    /// Tag value: up to 256 characters.
    TagValue,
    check_tag_value,
    StringSchema::new(
        "tag value",
        "up to 256 characters; letters, digits, spaces and _ . : / = + - @",
        concat!("^(", tag_chars!(), ")*$"),
    )
    .max_length(256)
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
    check_bucket_name,
    StringSchema::new(
        "S3 bucket name",
        "an S3 bucket name: 3 to 63 lowercase letters, digits, . and -, starting and ending with a letter or digit, not like an IP address, without a reserved prefix (xn--, sthree-, amzn-s3-demo-) or suffix (-s3alias, --ol-s3, --x-s3, --table-s3, .mrap)",
        "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    )
    .not(concat!(
        r"\.\.|\.-|-\.|^xn--|^sthree-|^amzn-s3-demo-|-s3alias$|--ol-s3$|--x-s3$|--table-s3$|\.mrap$",
        // An IPv4 address as Rust reads one: four decimal octets, no leading zeros.
        r"|^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
    ))
    .example("my-training-data")
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
    check_prefix,
    StringSchema::new(
        "S3 key prefix",
        "an S3 key prefix without leading or trailing /, made of letters, digits and / ! - _ . * ' ( ), at most 512 characters, without . or .. segments",
        r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$",
    )
    .not(r"(^|/)\.\.?(/|$)")
    .max_length(512)
);

checked_string!(
    /// VPC id (`vpc-` + 8 or 17 hex digits).
    VpcId,
    check_vpc_id,
    StringSchema::new(
        "VPC id",
        "vpc- followed by 8 or 17 lowercase hex digits",
        "^vpc-([0-9a-f]{8}|[0-9a-f]{17})$",
    )
    .example("vpc-0123456789abcdef0")
);
checked_string!(
    /// Subnet id (`subnet-` + 8 or 17 hex digits).
    SubnetId,
    check_subnet_id,
    StringSchema::new(
        "subnet id",
        "subnet- followed by 8 or 17 lowercase hex digits",
        "^subnet-([0-9a-f]{8}|[0-9a-f]{17})$",
    )
    .example("subnet-0123456789abcdef0")
);
checked_string!(
    /// Security group id (`sg-` + 8 or 17 hex digits).
    SecurityGroupId,
    check_sg_id,
    StringSchema::new(
        "security group id",
        "sg- followed by 8 or 17 lowercase hex digits",
        "^sg-([0-9a-f]{8}|[0-9a-f]{17})$",
    )
    .example("sg-0123456789abcdef0")
);
checked_string!(
    /// EFS file system id (`fs-` + 8 or 17 hex digits).
    EfsId,
    check_efs_id,
    StringSchema::new(
        "EFS file system id",
        "fs- followed by 8 or 17 lowercase hex digits",
        "^fs-([0-9a-f]{8}|[0-9a-f]{17})$",
    )
    .example("fs-0123456789abcdef0")
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
    check_instance_type,
    StringSchema::new(
        "SageMaker instance type",
        "a SageMaker instance type: ml.<family>.<size>",
        "^ml\\.[a-z][a-z0-9-]*\\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge)$",
    )
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
    check_secret_arn,
    StringSchema::new(
        "Secrets Manager secret ARN",
        "a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
        concat!(
            "^arn:aws[^:]*:secretsmanager:",
            region_pattern!(),
            ":[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$"
        ),
    )
    .example("arn:aws:secretsmanager:us-west-2:123456789012:secret:git-token-AbCdEf")
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
    if v.chars().count() > 1024 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the git URL must be at most 1024 characters without whitespace".to_owned());
    }
    Ok(())
}

/// What Rust's `char::is_whitespace` or `char::is_control` is true for, as a class body.
macro_rules! space_or_control {
    () => {
        r"\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

checked_string!(
    /// https URL of a git repository for the notebook.
    GitUrl,
    check_git_url,
    StringSchema::new(
        "git URL",
        "an https:// git URL without credentials (user@), at most 1024 characters",
        concat!(
            "^https://[^/@",
            space_or_control!(),
            "]+/[^",
            space_or_control!(),
            "]*$"
        ),
    )
    .max_length(1024)
    .example("https://github.com/aws/amazon-sagemaker-examples.git")
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
    check_git_branch,
    StringSchema::new(
        "git branch",
        "a git branch name (letters, digits, - _ . /), not starting with - / or ., not ending with / . or .lock, without .. or //",
        "^[A-Za-z0-9_]([A-Za-z0-9_./-]*[A-Za-z0-9_-])?$",
    )
    .not(r"\.\.|//|\.lock$")
    .max_length(1024)
    .example("main")
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
    check_image_uri,
    StringSchema::new(
        "image URI",
        "REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]",
        r"^[A-Za-z0-9:-]*\.[A-Za-z0-9.:-]*/[a-z0-9._-]+(/[a-z0-9._-]+)*(:[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})?$",
    )
    // A repository name longer than 256 characters.
    .not(r"^[^/]*/[a-z0-9._/-]{257}")
    .example("123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn:latest")
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
        // ipnet reads `010.0.0.0/16` as 10.0.0.0/16; other tools read a leading zero as octal.
        if net.to_string() != value {
            return Err(format!("`{value}` has leading zeros; write it as {net}"));
        }
        Ok(Self(net))
    }
}

impl From<Cidr> for String {
    fn from(value: Cidr) -> String {
        value.0.to_string()
    }
}

impl Cidr {
    /// What the JSON Schema says: the prefix lengths and zero host bits spelled out as one
    /// pattern, each allowed prefix length with the values its last two octets can take.
    pub fn string_schema() -> StringSchema {
        const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
        let multiples = |step: usize| {
            (0..256)
                .step_by(step)
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("|")
        };
        let mut cases = Vec::new();
        for prefix in Self::MIN_PREFIX..=Self::MAX_PREFIX {
            let case = match prefix {
                ..=24 => format!("({})\\.0", multiples(1 << (24 - prefix))),
                _ => format!("{OCTET}\\.({})", multiples(1 << (32 - prefix))),
            };
            cases.push(format!("{case}/{prefix}"));
        }
        StringSchema {
            pattern: Cow::Owned(format!("^{OCTET}\\.{OCTET}\\.({})$", cases.join("|"))),
            ..StringSchema::new(
                "CIDR block",
                "an IPv4 CIDR block /16 to /28 with zero host bits",
                "",
            )
        }
    }
}

impl JsonSchema for Cidr {
    fn schema_name() -> Cow<'static, str> {
        "Cidr".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        Self::string_schema().to_schema()
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
    "GiB",
    custom_schema
);

impl FsxStorageGib {
    /// Above the smallest capacity, capacities grow in steps of this many GiB.
    pub const STEP: u32 = 2400;

    /// Whether FSx offers the capacity (1200, 2400 or a multiple of 2400).
    pub fn is_offered(self) -> bool {
        self.0 == Self::MIN || self.0.is_multiple_of(Self::STEP)
    }
}

impl JsonSchema for FsxStorageGib {
    fn schema_name() -> Cow<'static, str> {
        "FsxStorageGib".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": Self::MIN,
            "maximum": Self::MAX,
            "anyOf": [{ "const": Self::MIN }, { "multipleOf": Self::STEP }],
            "description": format!(
                "{}, {} or a multiple of {} up to {} {}",
                Self::MIN, Self::STEP, Self::STEP, Self::MAX, Self::UNIT
            ),
        })
    }
}

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

    /// Each checked string's JSON Schema accepts what its check accepts, on samples chosen at
    /// the edges of each rule (the integration test `schema` runs a real validator).
    #[test]
    fn schemas_agree_with_the_checks() {
        fn agree<T: FromStr>(schema: StringSchema, samples: &[&str]) {
            let mut verdicts = (0, 0);
            let accepts = schema.matcher();
            for sample in samples {
                let checked = T::from_str(sample).is_ok();
                assert_eq!(
                    accepts(sample),
                    checked,
                    "{}: `{sample}` (the check says {checked})",
                    schema.title
                );
                if checked {
                    verdicts.0 += 1
                } else {
                    verdicts.1 += 1
                }
            }
            assert!(
                verdicts.0 > 0 && verdicts.1 > 0,
                "{}: samples of both kinds",
                schema.title
            );
        }
        let long = |n: usize| "a".repeat(n);
        let (l53, l54) = (long(53), long(54));
        agree::<StackName>(
            StackName::string_schema(),
            &[
                "a",
                "mask-rcnn",
                "a1-b2",
                &l53,
                &l54,
                "",
                "9lives",
                "a-",
                "a--b",
                "a_b",
                "-a",
                "é",
            ],
        );
        agree::<Region>(
            Region::string_schema(),
            &[
                "us-west-2",
                "us-gov-west-1",
                "ap-southeast-5",
                "eu-central-12",
                "us-west",
                "uswest2",
                "US-west-2",
                "us-west-+2",
                "us-west-123",
                "u-west-2",
                "us--2",
                "us-west-2a",
            ],
        );
        let (k128, k129) = (long(128), long(129));
        agree::<TagKey>(
            TagKey::string_schema(),
            &[
                "team",
                "a b",
                "x_.:/=+-@",
                "Équipe",
                &k128,
                &k129,
                "",
                "aws:x",
                "AWS:x",
                "StackCtl:stack",
                "stackctl-x",
                "a!b",
                "a#b",
                "a\tb",
            ],
        );
        let (v256, v257) = (long(256), long(257));
        agree::<TagValue>(
            TagValue::string_schema(),
            &["", "ml platform", &v256, &v257, "a,b", "50%"],
        );
        let (b63, b64) = (long(63), long(64));
        agree::<BucketName>(
            BucketName::string_schema(),
            &[
                "abc",
                "my-bucket",
                "a.b.c",
                "0abc9",
                "a--b",
                &b63,
                &b64,
                "ab",
                "My-Bucket",
                "-abc",
                "abc-",
                "a..b",
                "a.-b",
                "a-.b",
                "192.168.1.1",
                "256.1.1.1",
                "01.1.1.1",
                "1.2.3",
                "xn--abc",
                "sthree-x",
                "amzn-s3-demo-x",
                "abc-s3alias",
                "ab--ol-s3",
                "ab--x-s3",
                "ab--table-s3",
                "ab.mrap",
                "a_b",
            ],
        );
        let (p512, p513) = (long(512), long(513));
        agree::<S3Prefix>(
            S3Prefix::string_schema(),
            &[
                "mask-rcnn/sagemaker/input/train",
                "a",
                "x!_.*'()-",
                "a/.b",
                "a./b",
                &p512,
                &p513,
                "",
                "/a",
                "a/",
                "a//b",
                ".",
                "..",
                "a/./b",
                "a/..",
                "a b",
                "a~b",
            ],
        );
        agree::<VpcId>(
            VpcId::string_schema(),
            &[
                "vpc-0123abcd",
                "vpc-0123456789abcdef0",
                "vpc-0123456789ab",
                "vpc-0123abc",
                "vpc-0123ABCD",
                "sg-0123abcd",
            ],
        );
        agree::<SubnetId>(
            SubnetId::string_schema(),
            &["subnet-0123abcd", "subnet-0123456789abcdef", "subnet-xyz"],
        );
        agree::<SecurityGroupId>(
            SecurityGroupId::string_schema(),
            &["sg-0123abcd", "sg-0123abcdx"],
        );
        agree::<EfsId>(
            EfsId::string_schema(),
            &[
                "fs-0123abcd",
                "fs-0123456789abcdef0",
                "fs-12345",
                " fs-0123abcd",
            ],
        );
        agree::<InstanceType>(
            InstanceType::string_schema(),
            &[
                "ml.p3.16xlarge",
                "ml.m5.2xlarge",
                "ml.t3.medium",
                "ml.p6-b200.48xlarge",
                "ml.c5.xlarge",
                "p3.16xlarge",
                "ml.p3",
                "ml.p3.16xl",
                "ml.P3.large",
                "ml.p3.016xlarge",
                "ml.3p.large",
                "ml.p3.large.x",
                "ml.p3.xlargexlarge",
            ],
        );
        agree::<SecretArn>(
            SecretArn::string_schema(),
            &[
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:git-AbCd12",
                "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b_c+=.@-",
                "arn:aws:s3:::bucket",
                "arn:aws:secretsmanager:uswest2:123456789012:secret:x",
                "arn:aws:secretsmanager:us-west-2:12345678901:secret:x",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:a:b",
                "arn:gcp:secretsmanager:us-west-2:123456789012:secret:x",
            ],
        );
        let url_max = format!("https://h/{}", long(1014));
        let url_over = format!("https://h/{}", long(1015));
        agree::<GitUrl>(
            GitUrl::string_schema(),
            &[
                "https://github.com/org/repo.git",
                "https://h/",
                "https://h/a@b",
                &url_max,
                &url_over,
                "http://github.com/org/repo",
                "https://github.com",
                "https://user:token@github.com/org/repo.git",
                "https:///repo",
                "https://h/a b",
                "https://h/a\u{a0}b",
                "https://h/a\u{85}b",
                "https://h/a\u{feff}b",
                "https://h/\u{7f}",
            ],
        );
        let (g1024, g1025) = (long(1024), long(1025));
        agree::<GitBranch>(
            GitBranch::string_schema(),
            &[
                "main",
                "feature/x-1",
                "a",
                "_a",
                "v1.0",
                &g1024,
                &g1025,
                "",
                "-a",
                "/a",
                ".a",
                "a/",
                "a.",
                "a..b",
                "a//b",
                "a.lock",
                "a b",
                "a~b",
            ],
        );
        let repo256 = format!("r.io/{}", long(256));
        let repo257 = format!("r.io/{}", long(257));
        let digest = format!("r.io/x@sha256:{}", "0".repeat(64));
        let tag128 = format!("r.io/x:{}", long(128));
        let tag129 = format!("r.io/x:{}", long(129));
        agree::<ImageUri>(
            ImageUri::string_schema(),
            &[
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn/tp:1.0",
                "docker.io/library/ubuntu:22.04",
                "reg.io:5000/a/b",
                &digest,
                &repo256,
                &repo257,
                &tag128,
                &tag129,
                "ubuntu",
                "reg/x",
                "reg.example.com/Upper:1",
                "reg.example.com/x@sha256:abc",
                "r.io/x:",
                "r.io/x:a:b",
                "r.io/x:t@sha256:0",
                "r.io//x",
                "r.io/x/",
                "r_x.io/x",
            ],
        );
    }

    /// The CIDR pattern, against the check, for every allowed prefix length and every value of
    /// the last two octets the host bits depend on.
    #[test]
    fn the_cidr_pattern_spells_out_the_host_bits() {
        let schema = Cidr::string_schema();
        let accepts = schema.matcher();
        let mut accepted = 0;
        for prefix in 14..=30 {
            for third in 0..=255 {
                for fourth in [0, 1, 8, 16, 32, 64, 128, 240, 255] {
                    let value = format!("10.1.{third}.{fourth}/{prefix}");
                    let checked = Cidr::try_from(value.clone()).is_ok();
                    assert_eq!(accepts(&value), checked, "`{value}`");
                    accepted += usize::from(checked);
                }
            }
        }
        assert!(accepted > 500, "{accepted}");
        for odd in [
            "10.0.0.0",
            "10.0.0/16",
            "010.0.0.0/16",
            "10.0.0.0/016",
            "256.0.0.0/16",
            "10.0.0.0/ 16",
        ] {
            assert!(
                !accepts(odd) && Cidr::try_from(odd.to_owned()).is_err(),
                "{odd}"
            );
        }
    }

    #[test]
    fn ranges() {
        assert!(NotebookVolumeGib::try_from(4).is_err());
        assert!(NotebookVolumeGib::try_from(16384).is_ok());
        assert!(MaxRunSeconds::try_from(2_419_201).is_err());
        assert!(AzCount::try_from(1).is_err());
    }
}
