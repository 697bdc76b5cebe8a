//! The data a stack of a given name kept: its data buckets and EFS file systems, found by their
//! tags, even after the stack (and CloudFormation's 90-day record of it) is gone.
//!
//! Two tags say which stack made a resource: CloudFormation's own `aws:cloudformation:stack-name`
//! (CloudFormation User Guide, "Tag your CloudFormation resources": it adds it to every resource
//! that supports tags; the emulator does not) and stackctl's [`STACK_TAG`], which the templates
//! put on the bucket and the file system themselves. Either one is enough. A resource that
//! carries neither is never touched: a bucket a person named in `data.bucket` is theirs.
//!
//! Found with DescribeFileSystems (tags come with each file system) and ListBuckets limited to
//! the region (`BucketRegion`; the S3 API Reference: the request must go to that region's
//! endpoint, which the client does) followed by GetBucketTagging per bucket.

use std::collections::BTreeSet;

use aws_sdk_s3::primitives::DateTimeFormat;

use crate::aws::{Aws, AwsError};

/// stackctl's tag on the data bucket and the file system: the name of the stack that made them.
pub const STACK_TAG: &str = "stackctl:stack";

/// CloudFormation's tag on every taggable resource of a stack: the stack's name.
pub const CFN_STACK_NAME_TAG: &str = "aws:cloudformation:stack-name";

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

    /// The CloudFormation resource type.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::Bucket => "AWS::S3::Bucket",
            Self::FileSystem => "AWS::EFS::FileSystem",
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
}

impl Found {
    /// The newest kept resource of `kind`.
    pub fn newest(&self, kind: KeptKind) -> Option<&Kept> {
        self.kept.iter().find(|k| k.kind == kind)
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

/// True when `tags` say the resource was made by stack `stack`.
fn made_by<'t>(stack: &str, mut tags: impl Iterator<Item = (&'t str, &'t str)>) -> bool {
    tags.any(|(k, v)| (k == STACK_TAG || k == CFN_STACK_NAME_TAG) && v == stack)
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
            let gone = matches!(fs.life_cycle_state().as_str(), "deleting" | "deleted");
            let tags = fs.tags().iter().map(|t| (t.key(), t.value()));
            if gone || in_use.contains(fs.file_system_id()) || !made_by(stack, tags) {
                continue;
            }
            file_systems.push((
                fs.creation_time().secs(),
                Kept {
                    kind: KeptKind::FileSystem,
                    id: fs.file_system_id().to_owned(),
                    created: fs.creation_time().fmt(DateTimeFormat::DateTime).ok(),
                    size_bytes: fs.size_in_bytes().map(|s| s.value()),
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
            let Ok((name, created, tags)) = read else {
                continue;
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
            if made_by(stack, tags.iter().map(|t| (t.key(), t.value()))) {
                buckets.push((
                    created.map_or(0, |c| c.secs()),
                    Kept {
                        kind: KeptKind::Bucket,
                        id: name,
                        created: created.and_then(|c| c.fmt(DateTimeFormat::DateTime).ok()),
                        size_bytes: None,
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
        let locked = mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .match_requests(|r| r.bucket() == Some("locked"))
            .then_error(|| refused("AccessDenied"));
        let s3 = mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&list, &tags, &tags_new, &untagged, &locked]
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
                            .key(CFN_STACK_NAME_TAG)
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
            "newest first; deleting, other stacks', in-use and other regions' left out"
        );
        assert_eq!(
            found.newest(KeptKind::Bucket).unwrap().id,
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

    #[test]
    fn either_tag_names_the_stack() {
        assert!(made_by("a", [(STACK_TAG, "a")].into_iter()));
        assert!(made_by(
            "a",
            [("x", "y"), (CFN_STACK_NAME_TAG, "a")].into_iter()
        ));
        assert!(!made_by(
            "a",
            [(STACK_TAG, "ab"), ("Name", "a")].into_iter()
        ));
        assert!(!made_by("a", std::iter::empty()));
    }
}
