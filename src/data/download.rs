//! `--download`: fetch the archives of the table into a work folder, resuming partial files
//! with HTTP range requests, verify each against its MD5 while it streams in, then extract it
//! (on a blocking thread, while the next file downloads) into `<work>/coco2017/`.
//!
//! Verification comes before extraction on purpose: bytes that fail their checksum never reach
//! the tree, let alone S3. Finished files leave a `.done` marker, so a second run fetches
//! nothing, and an interrupted one resumes where the partial file ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use md5::{Digest, Md5};
use tokio::task::JoinSet;

use crate::report::transfer::TransferReporter;

use super::DataError;
use super::archives::RemoteFile;

/// Where downloads go.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Work folder: `downloads/` (archives) and `coco2017/` (the tree) under it.
    pub work_dir: PathBuf,
    /// Mirror base URL replacing each URL's scheme and host.
    pub base_url: Option<String>,
}

/// What the download did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DownloadSummary {
    /// Files in the table (for the backbones asked).
    pub files: u64,
    /// Files fetched in this run.
    pub fetched: u64,
    /// Files already complete from an earlier run.
    pub already_done: u64,
    /// Bytes received in this run.
    pub bytes: u64,
    /// The tree that was built.
    pub tree: PathBuf,
}

/// Fetches, verifies and extracts `files`; returns the summary with the tree's root.
pub async fn fetch_all(
    files: &[&RemoteFile],
    opts: &DownloadOptions,
    progress: Arc<dyn TransferReporter>,
) -> Result<DownloadSummary, DataError> {
    let downloads = opts.work_dir.join("downloads");
    let tree = opts.work_dir.join("coco2017");
    for dir in [&downloads, &tree] {
        fs_err::create_dir_all(dir).map_err(|e| DataError::io("create", dir, e))?;
    }
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .read_timeout(std::time::Duration::from_secs(120))
        .build()
        .map_err(|e| DataError::Download {
            url: String::new(),
            source: e,
        })?;
    let mut summary = DownloadSummary {
        files: files.len() as u64,
        tree: tree.clone(),
        ..DownloadSummary::default()
    };
    let mut unpacking: JoinSet<Result<(), DataError>> = JoinSet::new();
    for file in files {
        let marker = downloads.join(format!("{}.done", file.name));
        if marker.exists() {
            summary.already_done += 1;
            continue;
        }
        let url = file.url_with_base(opts.base_url.as_deref());
        let archive = downloads.join(&file.name);
        // A verified file whose extraction was cut short is extracted again, not fetched again.
        if !archive.exists() {
            summary.bytes += fetch(&client, file, &url, &archive, progress.as_ref()).await?;
        }
        summary.fetched += 1;
        let (file, tree) = ((*file).clone(), tree.clone());
        unpacking.spawn_blocking(move || place(&file, &archive, &tree, &marker));
        while let Some(done) = unpacking.try_join_next() {
            done.expect("extraction does not panic")?;
        }
    }
    while let Some(done) = unpacking.join_next().await {
        done.expect("extraction does not panic")?;
    }
    Ok(summary)
}

/// Downloads `url` to `dest` (via `dest.part`), resuming a partial file, and verifies it.
/// Returns the bytes received.
async fn fetch(
    client: &reqwest::Client,
    file: &RemoteFile,
    url: &str,
    dest: &Path,
    progress: &dyn TransferReporter,
) -> Result<u64, DataError> {
    let part = dest.with_file_name(format!("{}.part", file.name));
    let download_err = |e: reqwest::Error| DataError::Download {
        url: url.to_owned(),
        source: e,
    };
    // The MD5 covers the whole file: hash what an earlier run left before appending.
    let mut hasher = Md5::new();
    let mut have = 0u64;
    if part.exists() {
        let mut f = fs_err::File::open(&part).map_err(|e| DataError::io("read", &part, e))?;
        have = std::io::copy(&mut f, &mut HashWriter(&mut hasher))
            .map_err(|e| DataError::io("read", &part, e))?;
    }
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let mut response = request.send().await.map_err(download_err)?;
    let status = response.status();
    // A partial answer must continue exactly where the file ends.
    let resumes_here = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split('-').next())
        .and_then(|start| start.parse::<u64>().ok())
        == Some(have);
    if (status == reqwest::StatusCode::PARTIAL_CONTENT && !resumes_here)
        || (status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE && file.md5.is_none())
    {
        // Not a continuation we can trust (or nothing to check it against): start over.
        fs_err::remove_file(&part).map_err(|e| DataError::io("remove", &part, e))?;
        return Box::pin(fetch(client, file, url, dest, progress)).await;
    }
    let mut out = if status == reqwest::StatusCode::PARTIAL_CONTENT && have > 0 {
        fs_err::OpenOptions::new()
            .append(true)
            .open(&part)
            .map_err(|e| DataError::io("write", &part, e))?
    } else if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
        // The partial file may already be whole; its MD5 decides.
        return finish(file, url, &part, dest, hasher, have).map(|()| 0);
    } else if status.is_success() {
        // The server ignored the range (or there was none): start over.
        hasher = Md5::new();
        have = 0;
        fs_err::File::create(&part).map_err(|e| DataError::io("write", &part, e))?
    } else {
        return Err(DataError::HttpStatus {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    };
    let total = response.content_length().map(|n| n + have).or(file.size);
    progress.begin(&format!("download {}", file.name), 1, total.unwrap_or(0));
    progress.advance(have);
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(download_err)? {
        out.write_all(&chunk)
            .map_err(|e| DataError::io("write", &part, e))?;
        hasher.update(&chunk);
        received += chunk.len() as u64;
        progress.advance(chunk.len() as u64);
    }
    out.sync_all()
        .map_err(|e| DataError::io("write", &part, e))?;
    drop(out);
    progress.file_done();
    progress.end();
    finish(file, url, &part, dest, hasher, have + received)?;
    Ok(received)
}

/// Checks size and MD5, then renames the partial file; a corrupt file is deleted.
fn finish(
    file: &RemoteFile,
    url: &str,
    part: &Path,
    dest: &Path,
    hasher: Md5,
    len: u64,
) -> Result<(), DataError> {
    let corrupt = |what, actual: String, expected: String| {
        let _ = fs_err::remove_file(part);
        DataError::Corrupt {
            name: file.name.clone(),
            url: url.to_owned(),
            what,
            actual,
            expected,
        }
    };
    if let Some(size) = file.size
        && size != len
    {
        return Err(corrupt("size", len.to_string(), size.to_string()));
    }
    let md5: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(expected) = &file.md5
        && !expected.eq_ignore_ascii_case(&md5)
    {
        return Err(corrupt("MD5", md5, expected.to_ascii_lowercase()));
    }
    fs_err::rename(part, dest).map_err(|e| DataError::io("rename", part, e))
}

/// Extracts an archive into the tree, or moves a plain file into its folder (checking that a
/// `.npz` is a readable archive, since no checksum is published for the weights). Blocking.
fn place(file: &RemoteFile, archive: &Path, tree: &Path, marker: &Path) -> Result<(), DataError> {
    let extract_err = |source| DataError::Extract {
        path: archive.to_owned(),
        source,
    };
    if file.extract {
        let reader = fs_err::File::open(archive).map_err(|e| DataError::io("read", archive, e))?;
        let mut zip = zip::ZipArchive::new(reader.into_file()).map_err(extract_err)?;
        // `extract` refuses entries that would land outside `tree` and checks each CRC-32.
        zip.extract(tree).map_err(extract_err)?;
        fs_err::remove_file(archive).map_err(|e| DataError::io("remove", archive, e))?;
    } else {
        if file.name.ends_with(".npz") {
            let reader =
                fs_err::File::open(archive).map_err(|e| DataError::io("read", archive, e))?;
            zip::ZipArchive::new(reader.into_file()).map_err(extract_err)?;
        }
        let folder = tree.join(file.to.as_deref().unwrap_or("."));
        fs_err::create_dir_all(&folder).map_err(|e| DataError::io("create", &folder, e))?;
        let dest = folder.join(&file.name);
        fs_err::rename(archive, &dest).map_err(|e| DataError::io("rename", archive, e))?;
    }
    fs_err::write(marker, b"").map_err(|e| DataError::io("write", marker, e))
}

struct HashWriter<'a>(&'a mut Md5);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
