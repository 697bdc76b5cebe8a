//! The data a stack of a given name kept: its data buckets and EFS file systems, found by their
//! tags, even after the stack (and CloudFormation's 90-day record of it) is gone.
//!
//! stackctl's [`STACK_TAG`], which the templates put on the bucket and the file system
//! themselves, names the stack that made them. A deployment from before that tag is
//! recognised by what CloudFormation put on it (CloudFormation User Guide, "Tag your
//! CloudFormation resources"; the emulator adds none of it): its `aws:cloudformation:stack-name`
//! *and* the stack tag stackctl puts on every stack it manages, propagated to the resource
//! ([`MANAGED_TAG`]), *and* the logical id stackctl's template gives it. The stack name alone
//! is not enough: any CloudFormation stack may have had that name. Anything else is never
//! touched: a bucket a person named in `data.bucket` is theirs.
//!
//! Which deployment made it ([`STACK_ID_TAG`], or CloudFormation's
//! `aws:cloudformation:stack-id`) groups a bucket and a file system kept together.
//!
//! Found with DescribeFileSystems (tags come with each file system) and ListBuckets limited to
//! the region (`BucketRegion`; the S3 API Reference: the request must go to that region's
//! endpoint, which the client does) followed by GetBucketTagging per bucket.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::primitives::DateTimeFormat;

use crate::aws::{Aws, AwsError};
use crate::deploy::up::MANAGED_TAG;

/// stackctl's tag on the data bucket and the file system: the name of the stack that made them.
pub const STACK_TAG: &str = "stackctl:stack";

/// stackctl's tag on the data bucket and the file system: the id of the stack that made them.
pub const STACK_ID_TAG: &str = "stackctl:stack-id";

/// CloudFormation's tag on a stack's resources: the stack's name.
pub const CFN_STACK_NAME_TAG: &str = "aws:cloudformation:stack-name";

/// CloudFormation's tag on a stack's resources: the stack's id.
const CFN_STACK_ID_TAG: &str = "aws:cloudformation:stack-id";

/// CloudFormation's tag on a stack's resources: the resource's logical id.
const CFN_LOGICAL_ID_TAG: &str = "aws:cloudformation:logical-id";

/// GetBucketTagging calls in flight at once.
const TAG_READS_IN_FLIGHT: usize = 16;

/// What kind of kept data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptKind {
    /// An S3 bucket (the stack's `DataBucket`).
    Bucket,
    /// An EFS file system (the stack's `EfsFileSystem`).
    FileSystem,
}

impl KeptKind {
    /// "data bucket" or "EFS file system".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Bucket => "data bucket",
            Self::FileSystem => "EFS file system",
        }
    }

    /// The kind a CloudFormation resource type is, if it is one.
    pub fn of_resource_type(ty: &str) -> Option<Self> {
        [Self::Bucket, Self::FileSystem]
            .into_iter()
            .find(|k| k.resource_type() == ty)
    }

    /// The CloudFormation resource type.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::Bucket => "AWS::S3::Bucket",
            Self::FileSystem => "AWS::EFS::FileSystem",
        }
    }

    /// Its logical id in stackctl's template.
    fn logical_id(self) -> &'static str {
        match self {
            Self::Bucket => crate::render::context::ids::DATA_BUCKET,
            Self::FileSystem => crate::render::context::ids::EFS,
        }
    }
}

/// One kept resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Kept {
    /// Bucket or file system.
    pub kind: KeptKind,
    /// Bucket name or file system id.
    pub id: String,
    /// When it was created (RFC 3339), if the API says.
    pub created: Option<String>,
    /// Its size in bytes (file systems: EFS's metered size), if the API says.
    pub size_bytes: Option<i64>,
    /// The stack (deployment) that made it, if its tags say.
    pub stack_id: Option<String>,
    /// False when it cannot be used now (a file system in the `error` or `updating` state).
    pub usable: bool,
}

impl Kept {
    /// `data bucket NAME (created ...)`.
    pub fn line(&self) -> String {
        let mut line = format!("{} {}", self.kind.describe(), self.id);
        let mut about = Vec::new();
        if let Some(created) = &self.created {
            about.push(format!("created {created}"));
        }
        if let Some(size) = self.size_bytes {
            about.push(crate::report::transfer::human_bytes(size.max(0) as u64));
        }
        if !about.is_empty() {
            line.push_str(&format!(" ({})", about.join(", ")));
        }
        line
    }
}

/// What [`find`] found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Found {
    /// The stack's kept resources, newest first within each kind.
    pub kept: Vec<Kept>,
    /// Buckets in the region whose tags could not be read, with the reason (they may be the
    /// stack's; nothing is done to them).
    pub unreadable: Vec<String>,
    /// Why nothing could be looked for (a permission missing), when [`find_lenient`] went on
    /// without.
    pub lookup_error: Option<String>,
}

impl Found {
    /// What to reuse: the newest usable file system and the bucket of the same deployment
    /// (the one kept with it), or, without a file system, the newest bucket. A bucket of
    /// another deployment is not paired with it: S3's CreationDate is not the creation time
    /// (S3 API Reference, Bucket: it can change when the bucket's policy is edited).
    pub fn reusable(&self, bucket: bool, file_system: bool) -> (Option<&Kept>, Option<&Kept>) {
        let fs = self
            .kept
            .iter()
            .find(|k| file_system && k.kind == KeptKind::FileSystem && k.usable);
        let same = |k: &&Kept| match fs {
            Some(fs) => fs.stack_id.is_some() && k.stack_id == fs.stack_id,
            None => true,
        };
        let b = self
            .kept
            .iter()
            .filter(|k| bucket && k.kind == KeptKind::Bucket)
            .find(same)
            // The emulator (and deployments from before the stack-id tag) say no deployment:
            // then the newest bucket.
            .or_else(|| {
                self.kept.iter().find(|k| {
                    bucket
                        && k.kind == KeptKind::Bucket
                        && fs.is_none_or(|fs| fs.stack_id.is_none() && k.stack_id.is_none())
                })
            });
        (b, fs)
    }
}

/// The resource's tags.
type Tags<'t> = BTreeMap<&'t str, &'t str>;

/// True when `tags` say the resource is `kind` made by stackctl's stack `stack` (see the
/// module's documentation).
fn made_by(stack: &str, kind: KeptKind, tags: &Tags<'_>) -> bool {
    tags.get(STACK_TAG) == Some(&stack)
        || (tags.get(CFN_STACK_NAME_TAG) == Some(&stack)
            && tags.get(MANAGED_TAG.0) == Some(&MANAGED_TAG.1)
            && tags.get(CFN_LOGICAL_ID_TAG) == Some(&kind.logical_id()))
}

/// The deployment that made it.
fn stack_id_of(tags: &Tags<'_>) -> Option<String> {
    tags.get(STACK_ID_TAG)
        .or_else(|| tags.get(CFN_STACK_ID_TAG))
        .map(|s| (*s).to_owned())
}

/// The buckets and file systems in the region that stack `stack` made and that still exist,
/// except those in `in_use` (what a live stack of that name holds or uses).
pub async fn find(aws: &Aws, stack: &str, in_use: &BTreeSet<String>) -> Result<Found, AwsError> {
    let mut found = Found::default();
    let mut file_systems = Vec::new();
    let mut pages = aws.efs.describe_file_systems().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("DescribeFileSystems", e))?;
        for fs in page.file_systems() {
            let state = fs.life_cycle_state().as_str();
            let gone = matches!(state, "deleting" | "deleted");
            let tags: Tags<'_> = fs.tags().iter().map(|t| (t.key(), t.value())).collect();
            if gone
                || in_use.contains(fs.file_system_id())
                || !made_by(stack, KeptKind::FileSystem, &tags)
            {
                continue;
            }
            file_systems.push((
                fs.creation_time().secs(),
                Kept {
                    kind: KeptKind::FileSystem,
                    id: fs.file_system_id().to_owned(),
                    created: fs.creation_time().fmt(DateTimeFormat::DateTime).ok(),
                    size_bytes: fs.size_in_bytes().map(|s| s.value()),
                    stack_id: stack_id_of(&tags),
                    // EFS API Reference, CreateMountTarget: the file system must be available.
                    usable: state == "available",
                },
            ));
        }
    }

    let mut candidates = Vec::new();
    let mut pages = aws
        .s3
        .list_buckets()
        .bucket_region(&aws.region)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListBuckets", e))?;
        for b in page.buckets() {
            // An endpoint that ignores BucketRegion still says where each bucket is.
            let elsewhere = b.bucket_region().is_some_and(|r| r != aws.region);
            if let Some(name) = b.name()
                && !elsewhere
                && !in_use.contains(name)
            {
                candidates.push((name.to_owned(), b.creation_date().copied()));
            }
        }
    }
    let mut buckets = Vec::new();
    for chunk in candidates.chunks(TAG_READS_IN_FLIGHT) {
        let mut reads = tokio::task::JoinSet::new();
        for (name, created) in chunk.iter().cloned() {
            let s3 = aws.s3.clone();
            reads.spawn(async move {
                let tags = s3.get_bucket_tagging().bucket(&name).send().await;
                (name, created, tags)
            });
        }
        while let Some(read) = reads.join_next().await {
            let (name, created, tags) = match read {
                Ok(read) => read,
                Err(e) => {
                    found
                        .unreadable
                        .push(format!("a bucket's tags: the read failed: {e}"));
                    continue;
                }
            };
            let tags = match tags {
                Ok(out) => out.tag_set().to_vec(),
                Err(err) => {
                    let err = AwsError::from_sdk("GetBucketTagging", err);
                    match err.code() {
                        // No tags at all, or deleted since it was listed.
                        Some("NoSuchTagSet" | "NoSuchBucket") => continue,
                        _ => {
                            found.unreadable.push(format!("{name}: {err}"));
                            continue;
                        }
                    }
                }
            };
            let tags: Tags<'_> = tags.iter().map(|t| (t.key(), t.value())).collect();
            if made_by(stack, KeptKind::Bucket, &tags) {
                buckets.push((
                    created.map_or(0, |c| c.secs()),
                    Kept {
                        kind: KeptKind::Bucket,
                        id: name,
                        created: created.and_then(|c| c.fmt(DateTimeFormat::DateTime).ok()),
                        size_bytes: None,
                        stack_id: stack_id_of(&tags),
                        usable: true,
                    },
                ));
            }
        }
    }
    found.unreadable.sort();
    for mut group in [buckets, file_systems] {
        group.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        found.kept.extend(group.into_iter().map(|(_, k)| k));
    }
    Ok(found)
}

/// Like [`find`] for commands that only report kept data (`status`, `up` without
/// `--reuse-data`, `down` without `--delete-data`): a refused lookup (a policy without
/// `s3:ListAllMyBuckets` or `elasticfilesystem:DescribeFileSystems`) is said in
/// [`Found::lookup_error`] instead of failing the command. No credentials or no endpoint still
/// fail.
pub async fn find_lenient(
    aws: &Aws,
    stack: &str,
    in_use: &BTreeSet<String>,
) -> Result<Found, AwsError> {
    match find(aws, stack, in_use).await {
        Ok(found) => Ok(found),
        Err(err) if err.is_environment() => Err(err),
        Err(err) => Ok(Found {
            lookup_error: Some(format!("could not look for kept data: {err}")),
            ..Found::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingError;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn tag(k: &str, v: &str) -> aws_sdk_s3::types::Tag {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    }

    fn refused(code: &str) -> GetBucketTaggingError {
        GetBucketTaggingError::generic(
            aws_sdk_s3::error::ErrorMetadata::builder()
                .code(code)
                .message("refused")
                .build(),
        )
    }

    /// On AWS, CloudFormation's own `aws:cloudformation:stack-name` tag is on the bucket and
    /// the file system (CloudFormation User Guide, "Tag your CloudFormation resources"), which
    /// the emulator does not add; S3 answers GetBucketTagging with `NoSuchTagSet` for a bucket
    /// without tags and AccessDenied where a bucket policy refuses (S3 API Reference,
    /// GetBucketTagging). ListBuckets says each bucket's region (`BucketRegion`).
    #[tokio::test]
    async fn finds_by_either_tag_and_says_which_buckets_it_could_not_read() {
        let list = mock!(aws_sdk_s3::Client::list_buckets).then_output(|| {
            let b = |name: &str, region: &str, secs: i64| {
                aws_sdk_s3::types::Bucket::builder()
                    .name(name)
                    .bucket_region(region)
                    .creation_date(aws_sdk_s3::primitives::DateTime::from_secs(secs))
                    .build()
            };
            aws_sdk_s3::operation::list_buckets::ListBucketsOutput::builder()
                .buckets(b("demo-databucket-old", "us-east-1", 1_000))
                .buckets(b("demo-databucket-new", "us-east-1", 2_000))
                .buckets(b("untagged", "us-east-1", 3_000))
                .buckets(b("demo-someone-elses", "us-east-1", 3_500))
                .buckets(b("locked", "us-east-1", 4_000))
                .buckets(b("in-use", "us-east-1", 5_000))
                .buckets(b("demo-elsewhere", "eu-west-1", 6_000))
                .build()
        });
        let tags = mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .match_requests(|r| r.bucket() == Some("demo-databucket-old"))
            .then_output(|| {
                aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput::builder()
                    .tag_set(tag(CFN_STACK_NAME_TAG, "demo"))
                    .tag_set(tag(CFN_LOGICAL_ID_TAG, "DataBucket"))
                    .tag_set(tag(
                        CFN_STACK_ID_TAG,
                        "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/1",
                    ))
                    .tag_set(tag(MANAGED_TAG.0, MANAGED_TAG.1))
                    .build()
                    .unwrap()
            });
        let tags_new = mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .match_requests(|r| r.bucket() == Some("demo-databucket-new"))
            .then_output(|| {
                aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput::builder()
                    .tag_set(tag(STACK_TAG, "demo"))
                    .tag_set(tag("Name", "demo-data"))
                    .build()
                    .unwrap()
            });
        let untagged = mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .match_requests(|r| r.bucket() == Some("untagged"))
            .then_error(|| refused("NoSuchTagSet"));
        // Another tool's stack that was once called `demo` too: not stackctl's.
        let namesake = mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .match_requests(|r| r.bucket() == Some("demo-someone-elses"))
            .then_output(|| {
                aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput::builder()
                    .tag_set(tag(CFN_STACK_NAME_TAG, "demo"))
                    .tag_set(tag(CFN_LOGICAL_ID_TAG, "DataBucket"))
                    .build()
                    .unwrap()
            });
        let locked = mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .match_requests(|r| r.bucket() == Some("locked"))
            .then_error(|| refused("AccessDenied"));
        let s3 = mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&list, &tags, &tags_new, &untagged, &namesake, &locked]
        );
        let fs = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(|| {
            let fs = |id: &str, state: aws_sdk_efs::types::LifeCycleState, stack: &str| {
                aws_sdk_efs::types::FileSystemDescription::builder()
                    .owner_id("123456789012")
                    .creation_token(id)
                    .file_system_id(id)
                    .creation_time(aws_sdk_efs::primitives::DateTime::from_secs(1_000))
                    .life_cycle_state(state)
                    .number_of_mount_targets(0)
                    .size_in_bytes(
                        aws_sdk_efs::types::FileSystemSize::builder()
                            .value(6144)
                            .build(),
                    )
                    .performance_mode(aws_sdk_efs::types::PerformanceMode::GeneralPurpose)
                    .tags(
                        aws_sdk_efs::types::Tag::builder()
                            .key(STACK_TAG)
                            .value(stack)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap()
            };
            aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput::builder()
                .file_systems(fs(
                    "fs-0aaaaaaa",
                    aws_sdk_efs::types::LifeCycleState::Available,
                    "demo",
                ))
                .file_systems(fs(
                    "fs-0bbbbbbb",
                    aws_sdk_efs::types::LifeCycleState::Deleting,
                    "demo",
                ))
                .file_systems(fs(
                    "fs-0ccccccc",
                    aws_sdk_efs::types::LifeCycleState::Available,
                    "other",
                ))
                .build()
        });
        let efs = mock_client!(aws_sdk_efs, RuleMode::MatchAny, [&fs]);
        let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, []);
        let mut aws = Aws::with_cloudformation(cfn);
        aws.s3 = s3;
        aws.efs = efs;

        let in_use = BTreeSet::from(["in-use".to_owned()]);
        let found = find(&aws, "demo", &in_use).await.unwrap();
        let ids: Vec<(KeptKind, &str)> =
            found.kept.iter().map(|k| (k.kind, k.id.as_str())).collect();
        assert_eq!(
            ids,
            vec![
                (KeptKind::Bucket, "demo-databucket-new"),
                (KeptKind::Bucket, "demo-databucket-old"),
                (KeptKind::FileSystem, "fs-0aaaaaaa"),
            ],
            "newest first; deleting, other stacks', a namesake's, in-use and other regions' left out"
        );
        assert_eq!(
            found.kept[1].stack_id.as_deref(),
            Some("arn:aws:cloudformation:us-east-1:123456789012:stack/demo/1")
        );
        assert_eq!(
            found.reusable(true, false).0.unwrap().id,
            "demo-databucket-new"
        );
        assert_eq!(found.kept[2].size_bytes, Some(6144));
        assert_eq!(found.unreadable.len(), 1, "{:?}", found.unreadable);
        assert!(
            found.unreadable[0].starts_with("locked: "),
            "{:?}",
            found.unreadable
        );
        assert!(
            found.unreadable[0].contains("AccessDenied"),
            "{:?}",
            found.unreadable
        );
    }

    /// A policy without `s3:ListAllMyBuckets` (S3 API Reference, ListBuckets: AccessDenied): a report goes on and says so; `find` itself fails.
    #[tokio::test]
    async fn a_refused_lookup_is_said_by_the_lenient_find_and_fails_the_strict_one() {
        let fs = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(|| {
            aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput::builder()
                .build()
        });
        let denied = mock!(aws_sdk_s3::Client::list_buckets).then_error(|| {
            aws_sdk_s3::operation::list_buckets::ListBucketsError::generic(
                aws_sdk_s3::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("Access Denied")
                    .build(),
            )
        });
        let mut aws =
            Aws::with_cloudformation(mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, []));
        aws.efs = mock_client!(aws_sdk_efs, RuleMode::MatchAny, [&fs]);
        aws.s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&denied]);
        let none = BTreeSet::new();
        let found = find_lenient(&aws, "demo", &none).await.unwrap();
        let why = found.lookup_error.expect("said");
        assert!(why.contains("AccessDenied"), "{why}");
        assert!(found.kept.is_empty());
        assert!(find(&aws, "demo", &none).await.is_err());
    }

    fn kept(kind: KeptKind, id: &str, stack_id: Option<&str>, usable: bool) -> Kept {
        Kept {
            kind,
            id: id.to_owned(),
            created: None,
            size_bytes: None,
            stack_id: stack_id.map(str::to_owned),
            usable,
        }
    }

    #[test]
    fn the_reused_bucket_is_the_one_kept_with_the_file_system() {
        use KeptKind::{Bucket, FileSystem};
        let found = Found {
            kept: vec![
                kept(Bucket, "b-newer", Some("s2"), true),
                kept(Bucket, "b-older", Some("s1"), true),
                kept(FileSystem, "fs-broken", Some("s2"), false),
                kept(FileSystem, "fs-1", Some("s1"), true),
            ],
            ..Found::default()
        };
        let (b, fs) = found.reusable(true, true);
        assert_eq!(
            fs.map(|k| k.id.as_str()),
            Some("fs-1"),
            "an unusable one is skipped"
        );
        assert_eq!(
            b.map(|k| k.id.as_str()),
            Some("b-older"),
            "the same deployment's"
        );
        let (b, fs) = found.reusable(true, false);
        assert_eq!((b.map(|k| k.id.as_str()), fs), (Some("b-newer"), None));
        // Without deployment ids (the emulator): the newest of each.
        let bare = Found {
            kept: vec![
                kept(Bucket, "b", None, true),
                kept(FileSystem, "fs", None, true),
            ],
            ..Found::default()
        };
        let (b, fs) = bare.reusable(true, true);
        assert_eq!(
            (b.unwrap().id.as_str(), fs.unwrap().id.as_str()),
            ("b", "fs")
        );
        // A bucket of another deployment is not paired with the file system.
        let other = Found {
            kept: vec![
                kept(Bucket, "b", Some("s9"), true),
                kept(FileSystem, "fs", Some("s1"), true),
            ],
            ..Found::default()
        };
        assert_eq!(other.reusable(true, true).0, None);
    }

    #[test]
    fn stackctls_tag_or_cloudformations_with_the_managed_tag_and_logical_id_name_the_stack() {
        let tags = |pairs: &[(&'static str, &'static str)]| {
            pairs.iter().copied().collect::<Tags<'static>>()
        };
        let b = KeptKind::Bucket;
        assert!(made_by("a", b, &tags(&[(STACK_TAG, "a")])));
        assert!(!made_by("a", b, &tags(&[(STACK_TAG, "ab"), ("Name", "a")])));
        assert!(!made_by("a", b, &tags(&[])));
        let cfn = [
            (CFN_STACK_NAME_TAG, "a"),
            (MANAGED_TAG.0, MANAGED_TAG.1),
            (CFN_LOGICAL_ID_TAG, "DataBucket"),
        ];
        assert!(made_by("a", b, &tags(&cfn)));
        assert!(
            !made_by("a", KeptKind::FileSystem, &tags(&cfn)),
            "the logical id of another resource"
        );
        assert!(
            !made_by("a", b, &tags(&cfn[..1])),
            "a stack name alone: any stack may have had that name"
        );
        assert!(
            !made_by("a", b, &tags(&[cfn[0], cfn[2]])),
            "not a stackctl stack"
        );
    }
}
