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
            return Err(AwsError::Service {
                operation: "DeleteObjects".to_owned(),
                code: first.code().unwrap_or("Unknown").to_owned(),
                message: format!(
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
            }
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
