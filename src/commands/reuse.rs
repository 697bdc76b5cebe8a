//! `up` of a new stack whose name an earlier deployment used: offer to reuse the data bucket
//! and EFS file system that deployment kept, instead of creating empty ones and staging the
//! data again.
//!
//! The reuse is recorded in the stack file as `data.bucket` and `efs.existing_id` (the keys a
//! user would write by hand), so `render`, `plan` and every later `up` agree with what was
//! deployed. docs/decisions.md says why this and not a CloudFormation resource import.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::aws::Aws;
use crate::cli::{GlobalArgs, UpArgs};
use crate::deploy::kept::{self, Kept};
use crate::deploy::stack::{self, Phase, StackInfo};
use crate::error::Error;
use crate::printer::Printer;
use crate::spec::edit::{self, Edit};
use crate::spec::{LOCAL_STACK_FILE, SpecSource, StackSpec};

/// The comment after a key `up` wrote.
const WRITTEN_BY: &str = "reused from an earlier deployment (stackctl up --reuse-data)";

/// What a stack about to be created could reuse.
struct Reusable<'a> {
    bucket: Option<&'a Kept>,
    file_system: Option<&'a Kept>,
}

/// What [`offer`] decided.
pub(crate) struct Offer {
    /// The stack file rewritten to reuse the kept data; `None`: nothing to reuse, or new data
    /// was chosen.
    pub reused: Option<(SpecSource, StackSpec)>,
    /// The stack as described on the way (`Some(None)`: absent), for `up` to start from.
    pub described: Option<Option<StackInfo>>,
}

/// When the stack is about to be created and an earlier deployment of its name kept data the
/// spec would create anew, asks (or follows `--reuse-data`/`--new-data`) and returns the stack
/// file rewritten to reuse it.
pub(crate) async fn offer(
    aws: &Aws,
    global: &GlobalArgs,
    args: &UpArgs,
    source: &SpecSource,
    spec: &StackSpec,
    printer: &mut Printer,
) -> Result<Offer, Error> {
    let wants_bucket = spec.existing_bucket().is_none();
    let wants_fs = spec.efs.as_ref().is_some_and(|e| e.existing_id.is_none());
    if !(wants_bucket || wants_fs) {
        return Ok(Offer {
            reused: None,
            described: None,
        });
    }
    let described = stack::describe(aws, spec.name.as_str()).await?;
    let offer = |reused| Offer {
        reused,
        described: Some(described.clone()),
    };
    // A stack that exists has its storage; one whose first create rolled back kept nothing of
    // that create (RetainExceptOnCreate) and is created again.
    if described.as_ref().is_some_and(|info| {
        !matches!(
            info.phase(),
            Phase::RollbackComplete | Phase::ReviewInProgress | Phase::Deleted
        )
    }) {
        return Ok(offer(None));
    }
    // --reuse-data insists on looking; otherwise a refused lookup is said and `up` goes on.
    let found = if args.reuse_data {
        kept::find(aws, spec.name.as_str(), &BTreeSet::new()).await?
    } else {
        kept::find_lenient(aws, spec.name.as_str(), &BTreeSet::new()).await?
    };
    if let Some(why) = &found.lookup_error {
        printer.status(format_args!(
            "{why}; a new stack gets a new bucket and file system"
        ))?;
    }
    for u in &found.unreadable {
        printer.status(format_args!(
            "could not read the tags of bucket {u}; if it is kept data of `{}`, it is not offered",
            spec.name
        ))?;
    }
    let (bucket, file_system) = found.reusable(wants_bucket, wants_fs);
    let reusable = Reusable {
        bucket,
        file_system,
    };
    let chosen: Vec<&Kept> = [reusable.bucket, reusable.file_system]
        .into_iter()
        .flatten()
        .collect();
    if chosen.is_empty() {
        return Ok(offer(None));
    }
    let target = target_file(source);
    printer.status(format_args!(
        "an earlier deployment of stack `{}` kept its data:",
        spec.name
    ))?;
    for k in &chosen {
        printer.status(format_args!("  {}", k.line()))?;
    }
    for other in found.kept.iter().filter(|k| !chosen.contains(k)) {
        printer.status(format_args!(
            "  (also kept, not reused: {}; `stackctl down --delete-data` deletes it)",
            other.line()
        ))?;
    }
    let keys = keys_of(&reusable);
    let reuse = if args.reuse_data {
        true
    } else if args.new_data {
        false
    } else if super::aws_context::interactive(global) {
        super::aws_context::ask(&format!(
            "Reuse them? This writes {keys} into {}; no creates new, empty ones",
            target.display()
        ))
    } else {
        return Err(Error::KeptData(format!(
            "stack `{}` would create a new, empty data bucket or file system while the ones an earlier deployment kept still exist ({}). Choose: `stackctl up --reuse-data` uses them (and writes {keys} into {}), `stackctl up --new-data` creates new ones (the kept ones stay, and bill, until `stackctl down --delete-data`). Nothing was changed",
            spec.name,
            chosen
                .iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            target.display()
        )));
    };
    if !reuse {
        printer.status(format_args!(
            "creating a new bucket and file system; the kept ones stay (and bill) until `stackctl down --delete-data`"
        ))?;
        return Ok(offer(None));
    }
    let rewritten = rewrite(source, &reusable, &target)?;
    printer.status(format_args!(
        "wrote {keys} into {}; the new stack uses the kept data",
        target.display()
    ))?;
    Ok(offer(Some(rewritten)))
}

/// Where the reuse is recorded: the stack file read, or, for the embedded default, a new
/// ./stackctl.yaml (which every later command then reads).
fn target_file(source: &SpecSource) -> PathBuf {
    source
        .path
        .clone()
        .unwrap_or_else(|| Path::new(".").join(LOCAL_STACK_FILE))
}

/// `data.bucket and efs.existing_id`, as far as they are written.
fn keys_of(r: &Reusable<'_>) -> String {
    let mut keys = Vec::new();
    if r.bucket.is_some() {
        keys.push("data.bucket");
    }
    if r.file_system.is_some() {
        keys.push("efs.existing_id");
    }
    keys.join(" and ")
}

/// The stack file with the reuse written in, checked by loading it again, then saved.
fn rewrite(
    source: &SpecSource,
    r: &Reusable<'_>,
    target: &Path,
) -> Result<(SpecSource, StackSpec), Error> {
    let mut edits = Vec::new();
    if let Some(b) = r.bucket {
        edits.push(Edit::Set {
            section: "data",
            key: "bucket",
            value: b.id.clone(),
            comment: WRITTEN_BY,
        });
    }
    if let Some(fs) = r.file_system {
        edits.push(Edit::Set {
            section: "efs",
            key: "existing_id",
            value: fs.id.clone(),
            comment: WRITTEN_BY,
        });
        // Keys the validator allows only for a file system the stack creates.
        for key in ["retain", "throughput_mode"] {
            edits.push(Edit::CommentOut {
                section: "efs",
                key,
                why: "applies only to a file system the stack creates",
            });
        }
    }
    let by_hand = || {
        let mut lines = Vec::new();
        if let Some(b) = r.bucket {
            lines.push(format!("data.bucket: {}", b.id));
        }
        if let Some(fs) = r.file_system {
            lines.push(format!("efs.existing_id: {}", fs.id));
        }
        lines.join(", ")
    };
    let text = edit::apply(&source.text, &edits).map_err(|e| {
        Error::KeptData(format!(
            "cannot record the reuse in {}: {e}; set {} there by hand, or pass --new-data",
            target.display(),
            by_hand()
        ))
    })?;
    let rewritten = SpecSource {
        display: target.display().to_string(),
        text,
        path: Some(target.to_owned()),
    };
    let spec = rewritten.load()?;
    let bucket_ok = r
        .bucket
        .is_none_or(|b| spec.existing_bucket().map(|x| x.as_str()) == Some(b.id.as_str()));
    let fs_ok = r.file_system.is_none_or(|fs| {
        spec.efs
            .as_ref()
            .and_then(|e| e.existing_id.as_ref())
            .map(|x| x.as_str())
            == Some(fs.id.as_str())
    });
    if !(bucket_ok && fs_ok) {
        return Err(Error::KeptData(format!(
            "cannot record the reuse in {}: the edited file does not read back as {}; set it there by hand, or pass --new-data",
            target.display(),
            by_hand()
        )));
    }
    write_replacing(target, &rewritten.text, source.path.is_none())?;
    Ok((rewritten, spec))
}

/// Writes through a temporary file and a rename, so an interruption leaves the old file or
/// the new one. A new file (`fresh`) must not exist yet.
fn write_replacing(target: &Path, text: &str, fresh: bool) -> Result<(), Error> {
    let err = |source| Error::WriteFile {
        path: target.to_owned(),
        source,
    };
    if fresh && target.exists() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "it appeared while `up` ran",
        )));
    }
    let tmp = target.with_extension("yaml.stackctl-tmp");
    fs_err::write(&tmp, text).map_err(err)?;
    fs_err::rename(&tmp, target).map_err(err)
}
