//! The data bucket, for `down --delete-data`: empty it (every object version) and delete it.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

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
/// were deleted.
pub async fn delete_bucket(aws: &Aws, bucket: &str) -> Result<usize, AwsError> {
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
        removed += ids.len();
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| AwsError::Other {
                operation: "DeleteObjects".into(),
                source: Box::new(e),
            })?;
        aws.s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteObjects", e))?;
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
