//! The upload to S3: many objects in flight, multipart for large files, memory that does not
//! grow with the number or size of files, and nothing sent that is already there.
//!
//! - The prefix is listed once; a file whose object has the same size and ETag (see
//!   [`super::etag`]) is skipped. Hashing happens only when sizes match, so a first upload
//!   reads each file once.
//! - Bodies stream from disk (the SDK's `ByteStream::read_from`, retryable), so memory is
//!   bounded by the number of requests in flight, not by file or part size.
//! - A large file resumes an open multipart upload of the same key: parts already there with
//!   the right size and MD5 are kept. When the upload cannot be continued (ListParts fails,
//!   S3 refuses the parts), it is aborted and the file uploaded afresh, once. Retries of throttling, 5xx and dropped connections are the
//!   SDK's (aws.rs).

use std::cmp::Reverse;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::aws::AwsError;
use crate::report::transfer::TransferReporter;

use super::DataError;
use super::etag::{self, FileDigest};
use super::local::{LocalFile, LocalTree};
use super::remote::{self, RemoteListing, RemoteObject};

/// Default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Where and how to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Bucket.
    pub bucket: String,
    /// Key prefix (without trailing slash).
    pub prefix: String,
    /// Requests in flight (objects, plus parts of large files).
    pub concurrency: usize,
    /// Part size and multipart threshold in bytes.
    pub part_size: u64,
}

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UploadSummary {
    /// Files in the local tree.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Files sent.
    pub uploaded_files: u64,
    /// Bytes sent (resumed parts not included).
    pub uploaded_bytes: u64,
    /// Files already there and identical.
    pub skipped_files: u64,
    /// Their bytes.
    pub skipped_bytes: u64,
    /// Parts of interrupted multipart uploads that were kept.
    pub resumed_parts: u64,
    /// Wall time.
    pub seconds: f64,
}

impl UploadSummary {
    /// Files per second over the whole run.
    pub fn files_per_second(&self) -> f64 {
        self.files as f64 / self.seconds.max(1e-9)
    }

    /// Mebibytes sent per second.
    pub fn mib_per_second(&self) -> f64 {
        self.uploaded_bytes as f64 / (1024.0 * 1024.0) / self.seconds.max(1e-9)
    }
}

struct Ctx {
    s3: aws_sdk_s3::Client,
    opts: UploadOptions,
    parts: Arc<Semaphore>,
    progress: Arc<dyn TransferReporter>,
    uploaded_bytes: AtomicU64,
    resumed_parts: AtomicU64,
}

enum Outcome {
    Skipped,
    Uploaded,
}

/// Uploads `tree` under `s3://bucket/prefix/`, skipping what `listing` (the caller's
/// [`remote::list`] of the prefix, which it also needs) shows is already there and identical.
pub async fn upload_with_listing(
    s3: &aws_sdk_s3::Client,
    tree: &LocalTree,
    listing: &RemoteListing,
    opts: &UploadOptions,
    progress: Arc<dyn TransferReporter>,
    started: Instant,
) -> Result<UploadSummary, DataError> {
    let result = upload_inner(s3, tree, listing, opts, progress.clone(), started).await;
    // Also on errors: a bar left ticking would draw over the error message.
    progress.end();
    result
}

async fn upload_inner(
    s3: &aws_sdk_s3::Client,
    tree: &LocalTree,
    listing: &RemoteListing,
    opts: &UploadOptions,
    progress: Arc<dyn TransferReporter>,
    started: Instant,
) -> Result<UploadSummary, DataError> {
    let concurrency = opts.concurrency.max(1);
    let ctx = Arc::new(Ctx {
        s3: s3.clone(),
        opts: opts.clone(),
        parts: Arc::new(Semaphore::new(concurrency)),
        progress: progress.clone(),
        uploaded_bytes: AtomicU64::new(0),
        resumed_parts: AtomicU64::new(0),
    });
    let mut summary = UploadSummary {
        files: tree.files.len() as u64,
        bytes: tree.bytes(),
        ..UploadSummary::default()
    };
    progress.begin(
        &format!("upload to {}", super::s3_url(&opts.bucket, &opts.prefix)),
        summary.files,
        summary.bytes,
    );
    // Large files first: their parts keep the pipe full while small files fill the gaps.
    let mut order: Vec<&LocalFile> = tree.files.iter().collect();
    order.sort_by_key(|f| Reverse(f.len >= opts.part_size));

    let files = Arc::new(Semaphore::new(concurrency));
    let mut tasks: JoinSet<Result<(u64, Outcome), DataError>> = JoinSet::new();
    for file in order {
        let permit = files
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore is never closed");
        while let Some(done) = tasks.try_join_next() {
            tally(&mut summary, done)?;
        }
        let ctx = ctx.clone();
        let file = file.clone();
        let existing = listing.objects.get(&file.rel).cloned();
        tasks.spawn(async move {
            let outcome = sync_one(&ctx, &file, existing).await;
            drop(permit);
            outcome.map(|o| (file.len, o))
        });
    }
    while let Some(done) = tasks.join_next().await {
        tally(&mut summary, done)?;
    }
    summary.uploaded_bytes = ctx.uploaded_bytes.load(Ordering::Relaxed);
    summary.resumed_parts = ctx.resumed_parts.load(Ordering::Relaxed);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn tally(
    summary: &mut UploadSummary,
    done: Result<Result<(u64, Outcome), DataError>, tokio::task::JoinError>,
) -> Result<(), DataError> {
    let (len, outcome) = done.expect("upload tasks do not panic")?;
    match outcome {
        Outcome::Skipped => {
            summary.skipped_files += 1;
            summary.skipped_bytes += len;
        }
        Outcome::Uploaded => summary.uploaded_files += 1,
    }
    Ok(())
}

fn key_of(opts: &UploadOptions, rel: &str) -> String {
    format!("{}{rel}", remote::key_prefix(&opts.prefix))
}

fn content_type(rel: &str) -> &'static str {
    match rel
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if ext == "jpg" || ext == "jpeg" => "image/jpeg",
        Some(ext) if ext == "png" => "image/png",
        Some(ext) if ext == "json" => "application/json",
        Some(ext) if ext == "zip" || ext == "npz" => "application/zip",
        _ => "application/octet-stream",
    }
}

async fn hash(file: &LocalFile, part_sizes: Vec<u64>) -> Result<FileDigest, DataError> {
    let path = file.path.clone();
    tokio::task::spawn_blocking(move || etag::digest(&path, &part_sizes))
        .await
        .expect("hashing does not panic")
        .map_err(|e| DataError::io("read", &file.path, e))
}

async fn sync_one(
    ctx: &Ctx,
    file: &LocalFile,
    existing: Option<RemoteObject>,
) -> Result<Outcome, DataError> {
    let multipart = file.len >= ctx.opts.part_size;
    let part_size = etag::part_size(file.len, ctx.opts.part_size);
    if let Some(object) = existing.filter(|o| o.size == file.len) {
        let sizes = etag::candidate_part_sizes(file.len, part_size, &object.etag);
        let digest = hash(file, sizes).await?;
        if digest.matches(&object.etag) {
            ctx.progress.advance(file.len);
            ctx.progress.file_done();
            return Ok(Outcome::Skipped);
        }
    }
    let key = key_of(&ctx.opts, &file.rel);
    if multipart {
        upload_multipart(ctx, file, &key, part_size).await?;
    } else {
        let _permit = ctx
            .parts
            .acquire()
            .await
            .expect("semaphore is never closed");
        let body = body(file, 0, file.len).await?;
        ctx.s3
            .put_object()
            .bucket(&ctx.opts.bucket)
            .key(&key)
            .content_type(content_type(&file.rel))
            .content_length(file.len as i64)
            .body(body)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(format!("s3:PutObject {key}"), e))?;
        ctx.uploaded_bytes.fetch_add(file.len, Ordering::Relaxed);
        ctx.progress.advance(file.len);
    }
    ctx.progress.file_done();
    Ok(Outcome::Uploaded)
}

/// A body that streams `len` bytes at `offset` from the file; the SDK reopens it on retry.
async fn body(file: &LocalFile, offset: u64, len: u64) -> Result<ByteStream, DataError> {
    ByteStream::read_from()
        .path(&file.path)
        .offset(offset)
        .length(Length::Exact(len))
        .build()
        .await
        .map_err(|e| DataError::io("read", &file.path, std::io::Error::other(e)))
}

/// One part already uploaded: number, ETag and CRC32.
#[derive(Debug, Clone)]
struct DonePart {
    number: i32,
    etag: String,
    crc32: Option<String>,
}

/// Uploads one large file in parts: it continues the key's open upload when there is one (see
/// [`resume`]); when continuing fails for any reason that is not the environment's (ListParts
/// refused or unreadable, parts S3 will not combine, the upload gone), the upload is aborted
/// and the file is uploaded afresh, once, with one line saying so.
async fn upload_multipart(
    ctx: &Ctx,
    file: &LocalFile,
    key: &str,
    part_size: u64,
) -> Result<(), DataError> {
    let s3 = &ctx.s3;
    let bucket = &ctx.opts.bucket;
    if let Some(upload_id) = newest_open_upload(ctx, key).await? {
        match resume(ctx, file, key, part_size, &upload_id).await {
            Ok(()) => return Ok(()),
            Err(DataError::Aws(err)) if !err.is_environment() => {
                ctx.progress.note(&format!(
                    "{key}: cannot continue the interrupted upload ({}); aborted it, uploading the file afresh",
                    one_line(&err)
                ));
                abort(s3, bucket, key, &upload_id).await?;
            }
            Err(other) => return Err(other),
        }
    }
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(content_type(&file.rel))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(format!("s3:CreateMultipartUpload {key}"), e))?;
    let upload_id = created.upload_id().unwrap_or_default().to_owned();
    send_parts_and_complete(ctx, file, key, part_size, &upload_id, Vec::new()).await
}

/// The error and its causes on one line, for a note.
fn one_line(err: &AwsError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(&format!(": {line}"));
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}

/// Continues the open upload `upload_id`: keeps the parts that fit (see [`kept_parts`]), sends
/// the rest and completes it. The kept parts are counted as resumed only when it succeeds.
async fn resume(
    ctx: &Ctx,
    file: &LocalFile,
    key: &str,
    part_size: u64,
    upload_id: &str,
) -> Result<(), DataError> {
    let done = kept_parts(ctx, file, key, part_size, upload_id).await?;
    let kept = done.len() as u64;
    send_parts_and_complete(ctx, file, key, part_size, upload_id, done).await?;
    ctx.resumed_parts.fetch_add(kept, Ordering::Relaxed);
    Ok(())
}

async fn send_parts_and_complete(
    ctx: &Ctx,
    file: &LocalFile,
    key: &str,
    part_size: u64,
    upload_id: &str,
    mut done: Vec<DonePart>,
) -> Result<(), DataError> {
    let s3 = &ctx.s3;
    let bucket = &ctx.opts.bucket;
    let count = etag::part_count(file.len, part_size);
    let part_len = |n: u64| part_size.min(file.len - (n - 1) * part_size);
    for part in &done {
        ctx.progress.advance(part_len(part.number as u64));
    }
    let have: std::collections::BTreeSet<i32> = done.iter().map(|p| p.number).collect();

    let mut parts: JoinSet<Result<DonePart, DataError>> = JoinSet::new();
    let finish = |part: DonePart, done: &mut Vec<DonePart>| {
        ctx.uploaded_bytes
            .fetch_add(part_len(part.number as u64), Ordering::Relaxed);
        done.push(part);
    };
    for number in 1..=count {
        if have.contains(&(number as i32)) {
            continue;
        }
        let permit = ctx
            .parts
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore is never closed");
        let (s3, bucket, key, upload_id, file) = (
            s3.clone(),
            bucket.clone(),
            key.to_owned(),
            upload_id.to_owned(),
            file.clone(),
        );
        let len = part_len(number);
        let progress = ctx.progress.clone();
        parts.spawn(async move {
            let body = body(&file, (number - 1) * part_size, len).await?;
            let sent = s3
                .upload_part()
                .bucket(&bucket)
                .key(&key)
                .upload_id(&upload_id)
                .part_number(number as i32)
                .content_length(len as i64)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .body(body)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(format!("s3:UploadPart {key} part {number}"), e))?;
            drop(permit);
            progress.advance(len);
            Ok(DonePart {
                number: number as i32,
                etag: sent.e_tag().unwrap_or_default().to_owned(),
                crc32: sent.checksum_crc32().map(str::to_owned),
            })
        });
        while let Some(result) = parts.try_join_next() {
            finish(result.expect("part tasks do not panic")?, &mut done);
        }
    }
    while let Some(result) = parts.join_next().await {
        finish(result.expect("part tasks do not panic")?, &mut done);
    }
    done.sort_by_key(|p| p.number);
    let completed = CompletedMultipartUpload::builder()
        .set_parts(Some(
            done.iter()
                .map(|p| {
                    CompletedPart::builder()
                        .part_number(p.number)
                        .e_tag(&p.etag)
                        .set_checksum_crc32(p.crc32.clone())
                        .build()
                })
                .collect(),
        ))
        .build();
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(completed)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(format!("s3:CompleteMultipartUpload {key}"), e))?;
    Ok(())
}

/// The newest open upload of exactly this key; older ones are aborted.
async fn newest_open_upload(ctx: &Ctx, key: &str) -> Result<Option<String>, DataError> {
    let s3 = &ctx.s3;
    let bucket = &ctx.opts.bucket;
    let mut open: Vec<_> = remote::open_uploads(s3, bucket, key)
        .await?
        .into_iter()
        .filter(|u| u.key == key)
        .collect();
    let Some(newest) = open.pop() else {
        return Ok(None);
    };
    for stale in open {
        abort(s3, bucket, key, &stale.upload_id).await?;
    }
    Ok(Some(newest.upload_id))
}

/// The parts of the open upload worth keeping: those whose size and MD5 match the local file
/// at `part_size`. Only uploads started with a CRC32 (as stackctl starts them) can be
/// continued; any other is an error, so the caller starts afresh.
async fn kept_parts(
    ctx: &Ctx,
    file: &LocalFile,
    key: &str,
    part_size: u64,
    upload_id: &str,
) -> Result<Vec<DonePart>, DataError> {
    let s3 = &ctx.s3;
    let bucket = &ctx.opts.bucket;
    let mut listed = Vec::new();
    let mut algorithm = None;
    let mut pages = s3
        .list_parts()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(format!("s3:ListParts {key}"), e))?;
        algorithm = algorithm.or(page.checksum_algorithm().cloned());
        listed.extend(page.parts().iter().cloned());
    }
    if algorithm != Some(ChecksumAlgorithm::Crc32) {
        // Started by another tool (or without a checksum): its parts cannot be mixed with
        // CRC32 parts.
        return Err(AwsError::service(
            format!("s3:ListParts {key}"),
            "ChecksumMismatch",
            format!(
                "the upload was started with checksum {}, not CRC32",
                algorithm.as_ref().map(|a| a.as_str()).unwrap_or("none")
            ),
        )
        .into());
    }
    if listed.is_empty() {
        return Ok(Vec::new());
    }
    let digest = hash(file, vec![part_size]).await?;
    let local = &digest.parts[0].1;
    let count = etag::part_count(file.len, part_size);
    Ok(listed
        .iter()
        .filter_map(|p| {
            let number = p.part_number()?;
            let index = usize::try_from(number).ok()?.checked_sub(1)?;
            let expected_len = part_size.min(file.len.checked_sub(index as u64 * part_size)?);
            let fits = (number as u64) <= count
                && p.size() == Some(expected_len as i64)
                && local.get(index).map(String::as_str)
                    == p.e_tag().map(etag::normalize).as_deref();
            fits.then(|| DonePart {
                number,
                etag: p.e_tag().unwrap_or_default().to_owned(),
                crc32: p.checksum_crc32().map(str::to_owned),
            })
        })
        .collect())
}

async fn abort(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<(), DataError> {
    match s3
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // Already gone (completed or aborted by someone else): nothing to clean up.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_upload()) => Ok(()),
        Err(e) => Err(AwsError::from_sdk(format!("s3:AbortMultipartUpload {key}"), e).into()),
    }
}
