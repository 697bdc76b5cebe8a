//! What is already in S3 under the data prefix: objects (size, ETag, time) and multipart uploads
//! that were started and never completed.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::DateTime;

use crate::aws::AwsError;

/// One object under the prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteObject {
    /// Size in bytes.
    pub size: u64,
    /// ETag as S3 lists it (quoted).
    pub etag: String,
    /// Last modification time.
    pub last_modified: Option<DateTime>,
}

/// Objects under `<prefix>/`, keyed by the path relative to the prefix.
#[derive(Debug, Clone, Default)]
pub struct RemoteListing {
    /// Objects by relative path.
    pub objects: BTreeMap<String, RemoteObject>,
}

impl RemoteListing {
    /// The newest modification time of any object.
    pub fn latest_change(&self) -> Option<DateTime> {
        self.objects
            .values()
            .filter_map(|o| o.last_modified)
            .max_by_key(|t| (t.secs(), t.subsec_nanos()))
    }

    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        self.objects.values().map(|o| o.size).sum()
    }

    /// Object count and bytes per top-level folder (objects directly under the prefix count as
    /// folder `.`).
    pub fn by_folder(&self) -> BTreeMap<String, (u64, u64)> {
        let mut folders: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (rel, object) in &self.objects {
            let folder = rel.split_once('/').map_or(".", |(top, _)| top);
            let entry = folders.entry(folder.to_owned()).or_default();
            entry.0 += 1;
            entry.1 += object.size;
        }
        folders
    }
}

/// The key prefix with one trailing slash.
pub fn key_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

/// Lists every object under `<prefix>/` (paginated, 1,000 keys a page).
pub async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<RemoteListing, AwsError> {
    let start = key_prefix(prefix);
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&start)
        .into_paginator()
        .send();
    let mut listing = RemoteListing::default();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("s3:ListObjectsV2", e))?;
        for object in page.contents() {
            let Some(rel) = object.key().and_then(|k| k.strip_prefix(&start)) else {
                continue;
            };
            if rel.is_empty() || rel.ends_with('/') {
                continue; // folder markers made by consoles
            }
            listing.objects.insert(
                rel.to_owned(),
                RemoteObject {
                    size: object.size().unwrap_or(0).max(0) as u64,
                    etag: object.e_tag().unwrap_or_default().to_owned(),
                    last_modified: object.last_modified().copied(),
                },
            );
        }
    }
    Ok(listing)
}

/// A multipart upload that was started and not completed.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenUpload {
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// When it started.
    pub initiated: Option<DateTime>,
}

/// Open multipart uploads whose key starts with `key_start`, oldest first. S3-compatible
/// servers without the API (`NotImplemented`, e.g. s3s-fs) have none to resume.
pub async fn open_uploads(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key_start: &str,
) -> Result<Vec<OpenUpload>, AwsError> {
    let mut uploads = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut id_marker: Option<String> = None;
    loop {
        let page = match s3
            .list_multipart_uploads()
            .bucket(bucket)
            .prefix(key_start)
            .set_key_marker(key_marker.take())
            .set_upload_id_marker(id_marker.take())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NotImplemented") => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(AwsError::from_sdk("s3:ListMultipartUploads", e)),
        };
        for upload in page.uploads() {
            if let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) {
                uploads.push(OpenUpload {
                    key: key.to_owned(),
                    upload_id: id.to_owned(),
                    initiated: upload.initiated().copied(),
                });
            }
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        id_marker = page.next_upload_id_marker().map(str::to_owned);
        if key_marker.is_none() {
            break;
        }
    }
    uploads.sort_by_key(|u| u.initiated.map(|t| (t.secs(), t.subsec_nanos())));
    Ok(uploads)
}
