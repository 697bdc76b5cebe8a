//! The data bucket, for `down --delete-data`: empty it (every object version) and delete it.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::sweep::{SweepError, SweepSettings};
use crate::aws::{Aws, AwsError};

/// True when the bucket exists.
pub async fn exists(aws: &Aws, bucket: &str) -> Result<bool, AwsError> {
    match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(err) => {
            let err = AwsError::from_sdk("HeadBucket", err);
            if matches!(err.code(), Some("NotFound" | "NoSuchBucket" | "404")) {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

/// Deletes every object version and delete marker, then the bucket. Returns how many versions
/// were deleted. DeleteObjects answers per key: any key it could not delete (object lock,
/// AccessDenied, ...) ends the emptying with an error naming the key, instead of sending it
/// again forever; the whole emptying has the sweep's resource deadline.
pub async fn delete_bucket(
    aws: &Aws,
    bucket: &str,
    settings: SweepSettings,
) -> Result<usize, SweepError> {
    let started = tokio::time::Instant::now();
    if !exists(aws, bucket).await? {
        return Ok(0);
    }
    let mut removed = 0;
    loop {
        let page = aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListObjectVersions", e))?;
        let ids: Vec<ObjectIdentifier> = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if ids.is_empty() {
            break;
        }
        if started.elapsed() >= settings.resource_timeout {
            return Err(SweepError::Timeout {
                what: format!("bucket {bucket}"),
                waited: settings.resource_timeout,
                detail: format!(
                    "{removed} object versions deleted so far and more are listed; run `stackctl down --delete-data` again"
                ),
            });
        }
        let asked = ids.len();
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| AwsError::Other {
                operation: "DeleteObjects".into(),
                source: Box::new(e),
            })?;
        let out = aws
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteObjects", e))?;
        // With Quiet, the answer lists only the keys that could not be deleted (S3 API
        // reference, DeleteObjects: Error with Key, VersionId, Code, Message).
        if let Some(first) = out.errors().first() {
            return Err(AwsError::service(
                "DeleteObjects",
                first.code().unwrap_or("Unknown").to_owned(),
                format!(
                    "bucket {bucket} cannot be emptied: object `{}`{} was not deleted: {}{}",
                    first.key().unwrap_or_default(),
                    first
                        .version_id()
                        .map(|v| format!(" (version {v})"))
                        .unwrap_or_default(),
                    first.message().unwrap_or("no message"),
                    match out.errors().len() {
                        1 => String::new(),
                        n => format!(" (and {} more keys)", n - 1),
                    }
                ),
            )
            .into());
        }
        removed += asked;
    }
    super::sweep::gone_ok(
        aws.s3
            .delete_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteBucket", e)),
    )?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
    use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
    use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
    use aws_sdk_s3::types::{Error as S3Error, ObjectVersion};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    /// An object version under object lock cannot be deleted: DeleteObjects answers 200 with an
    /// `Error` entry for it (S3 API reference, DeleteObjects: Key, VersionId, Code, Message;
    /// with Quiet only the failures are listed). The emptying ends with an error naming the
    /// key instead of sending it again forever.
    #[tokio::test]
    async fn an_object_that_cannot_be_deleted_ends_the_emptying_with_its_key() {
        let head = mock!(aws_sdk_s3::Client::head_bucket)
            .then_output(|| HeadBucketOutput::builder().build());
        let list = mock!(aws_sdk_s3::Client::list_object_versions).then_output(|| {
            ListObjectVersionsOutput::builder()
                .versions(
                    ObjectVersion::builder()
                        .key("mask-rcnn/train/locked.jpg")
                        .version_id("3HL4kqtJlcpXroDTDmJ")
                        .build(),
                )
                .versions(
                    ObjectVersion::builder()
                        .key("mask-rcnn/train/free.jpg")
                        .version_id("UIORUnfnd89493jJFJ")
                        .build(),
                )
                .build()
        });
        let delete = mock!(aws_sdk_s3::Client::delete_objects).then_output(|| {
            DeleteObjectsOutput::builder()
                .errors(
                    S3Error::builder()
                        .key("mask-rcnn/train/locked.jpg")
                        .version_id("3HL4kqtJlcpXroDTDmJ")
                        .code("AccessDenied")
                        .message("Access Denied because object protected by object lock.")
                        .build(),
                )
                .build()
        });
        let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head, &list, &delete]);
        let mut aws = Aws::with_cloudformation(aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
                .build(),
        ));
        aws.s3 = s3;
        let err = delete_bucket(&aws, "data-bucket", SweepSettings::default())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mask-rcnn/train/locked.jpg"), "{text}");
        assert!(
            text.contains("AccessDenied") && text.contains("object lock"),
            "{text}"
        );
        assert_eq!(delete.num_calls(), 1, "not sent again");
    }
}
