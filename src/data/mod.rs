//! Data staging: the COCO 2017 layout into S3 (a parallel, resumable upload), EFS (a DataSync
//! task run) and FSx for Lustre (an import task), and `data status`.
//!
//! The layout both Mask R-CNN images read is `<prefix>/{train2017/, val2017/, annotations/,
//! pretrained-models/}`; each model profile says which files and folders it needs
//! ([`crate::jobs::profile::DataLayout`]). See docs/data.md.

pub mod archives;
pub mod datasync;
pub mod download;
pub mod etag;
pub mod fsx_import;
pub mod local;
pub mod remote;
pub mod upload;

use std::io;
use std::path::PathBuf;

use crate::aws::AwsError;

/// How often DataSync executions and FSx import tasks are polled. Both take minutes at least,
/// and each poll is one cheap Describe call.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Why staging could not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The local tree does not have the layout (bad input, nothing uploaded).
    #[error("`{}` is not a usable COCO 2017 tree ({} problem{}):\n  {}", root.display(), problems.len(), if problems.len() == 1 { "" } else { "s" }, list(problems))]
    Layout {
        /// The tree's root.
        root: PathBuf,
        /// One line per problem, each naming its path.
        problems: Vec<String>,
    },
    /// Flags that do not fit together, or name something that does not exist (bad input).
    #[error("{0}")]
    Usage(String),
    /// The archive table is invalid (bad input).
    #[error("archive table `{path}`: {message}")]
    Archives {
        /// The file (or `embedded`).
        path: String,
        /// What is wrong, with the field.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done (read, write, create, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// An HTTP download failed.
    #[error("cannot download {url}")]
    Download {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("cannot download {url}: HTTP {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A downloaded file does not match its published checksum or size.
    #[error(
        "`{name}` from {url} is corrupt: {what} is {actual}, expected {expected}; the file was deleted, run the command again to download it anew"
    )]
    Corrupt {
        /// File name.
        name: String,
        /// Where it came from.
        url: String,
        /// `MD5` or `size`.
        what: &'static str,
        /// What was computed.
        actual: String,
        /// What the table says.
        expected: String,
    },
    /// An archive could not be extracted.
    #[error("cannot extract `{}`", path.display())]
    Extract {
        /// The archive.
        path: PathBuf,
        /// Why.
        #[source]
        source: zip::result::ZipError,
    },
    /// AWS could not be used or refused a call.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The data in S3 is not complete enough to copy or import (bad input).
    #[error(
        "s3://{bucket}/{prefix}/ does not hold the layout yet:\n  {}",
        list(missing)
    )]
    Incomplete {
        /// Bucket.
        bucket: String,
        /// Prefix.
        prefix: String,
        /// What is missing.
        missing: Vec<String>,
    },
    /// The DataSync copy to EFS ended in an error.
    #[error("the copy to EFS ({execution}) failed: {code}: {detail}")]
    CopyFailed {
        /// Task execution ARN.
        execution: String,
        /// DataSync's error code.
        code: String,
        /// DataSync's detail.
        detail: String,
    },
    /// The FSx import task failed or was cancelled.
    #[error("the FSx import task {task} ended {status}: {message}")]
    ImportFailed {
        /// Task id.
        task: String,
        /// Final lifecycle.
        status: String,
        /// FSx's failure message.
        message: String,
    },
}

/// At most this many problems are listed; the rest are counted.
const MAX_LISTED: usize = 25;

fn list(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n  ");
    if items.len() > MAX_LISTED {
        text.push_str(&format!("\n  ... and {} more", items.len() - MAX_LISTED));
    }
    text
}

impl DataError {
    /// True for errors in what the user gave (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Layout { .. } | Self::Usage(_) | Self::Archives { .. } | Self::Incomplete { .. }
        )
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// `s3://bucket/prefix/`.
pub fn s3_url(bucket: &str, prefix: &str) -> String {
    format!("s3://{bucket}/{}/", prefix.trim_matches('/'))
}
