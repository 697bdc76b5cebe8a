//! `stackctl data stage` and `data status`.
//!
//! Order of `stage`: flags, the archive table and the local tree are checked before any AWS
//! call (bad input: exit 2, nothing changed); then the target is resolved with read-only calls
//! (stack outputs or the bucket), so a 20 GB download does not start towards a bucket that is
//! not there; then download, upload, EFS copy, FSx import.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use crate::aws::{Aws, AwsError};
use crate::cli::{Backbone, DataTarget, GlobalArgs, OutputFormat, StageArgs, StageTarget};
use crate::data::archives::ArchiveTable;
use crate::data::datasync::{self, EfsCopy};
use crate::data::download::{self, DownloadOptions, DownloadSummary};
use crate::data::fsx_import::{self, FsxImport};
use crate::data::local::{self, Requirements};
use crate::data::remote::{self, RemoteListing};
use crate::data::upload::{self, UploadOptions, UploadSummary};
use crate::data::{DataError, s3_url};
use crate::deploy::stack;
use crate::error::Error;
use crate::interrupt::{Interruption, this_command, until_interrupted};
use crate::jobs::profile::Profile;
use crate::outputs::StackOutput;
use crate::printer::Printer;
use crate::report::transfer::{self, TransferReporter, human_bytes};
use crate::spec::StackSpec;
use crate::spec::file::ModelName;

/// The models whose layouts staging checks (both read the same COCO tree).
const MODELS: [ModelName; 2] = [ModelName::Tensorpack, ModelName::AwsSamples];

/// The profiles whose layouts apply: the one asked for, or both Mask R-CNN models.
fn profiles(model: Option<ModelName>) -> Vec<Profile> {
    let models: Vec<ModelName> = model.map_or_else(|| MODELS.to_vec(), |m| vec![m]);
    models
        .iter()
        .map(|m| Profile::embedded(*m).expect("embedded profiles are valid"))
        .collect()
}

fn is_mask_rcnn(model: Option<ModelName>) -> bool {
    model.is_none_or(|m| MODELS.contains(&m))
}

fn weights_file(backbone: Backbone) -> String {
    match backbone {
        Backbone::R50 => "pretrained-models/ImageNet-R50-AlignPadding.npz",
        Backbone::R101 => "pretrained-models/ImageNet-R101-AlignPadding.npz",
    }
    .to_owned()
}

fn requirements(model: Option<ModelName>, backbones: &[Backbone]) -> Requirements {
    let profiles = profiles(model);
    // Backbone weights belong to the Mask R-CNN layout only.
    let extra: Vec<String> = match is_mask_rcnn(model) {
        true => backbones.iter().map(|b| weights_file(*b)).collect(),
        false => Vec::new(),
    };
    Requirements::from_layouts(profiles.iter().map(|p| &p.data_layout), &extra)
}

/// The prefix a model's data lives under when it has its own (`--prefix` still wins).
fn model_prefix(flags: &DataTarget) -> Option<String> {
    flags.prefix.clone().or_else(|| {
        flags
            .model
            .and_then(|m| profiles(Some(m.model())).pop())
            .and_then(|p| p.data_prefix)
    })
}

/// Where staged data lives, resolved from the stack or the flags.
struct Target {
    bucket: String,
    prefix: String,
    datasync_task: Option<String>,
    /// The stack's EFS file system (to say why there is no copy when it has no DataSync task).
    efs_id: Option<String>,
    fsx_id: Option<String>,
    /// True when resolved from a stack (EFS and FSx are only known then).
    from_stack: bool,
    /// The stack's DataPrefix output.
    stack_prefix: Option<String>,
}

async fn resolve(aws: &Aws, spec: &StackSpec, flags: &DataTarget) -> Result<Target, Error> {
    if let Some(bucket) = &flags.bucket {
        aws.s3
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_not_found() => Error::Data(DataError::Usage(format!(
                    "bucket `{bucket}` does not exist (or is not visible to these credentials)"
                ))),
                _ => Error::Aws(AwsError::from_sdk("s3:HeadBucket", e)),
            })?;
        return Ok(Target {
            bucket: bucket.clone(),
            prefix: model_prefix(flags).unwrap_or_else(|| spec.prefix().to_string()),
            datasync_task: None,
            efs_id: None,
            fsx_id: None,
            from_stack: false,
            stack_prefix: None,
        });
    }
    let name = spec.name.as_str();
    let info = stack::describe(aws, name)
        .await?
        .ok_or_else(|| Error::NoStack(name.to_owned()))?;
    let output = |o: StackOutput| info.outputs.get(o.name()).cloned();
    let bucket = output(StackOutput::DataBucket).ok_or_else(|| {
        Error::Job(format!(
            "stack `{name}` has no `DataBucket` output; was it created by stackctl?"
        ))
    })?;
    Ok(Target {
        bucket,
        prefix: model_prefix(flags)
            .or_else(|| output(StackOutput::DataPrefix))
            .unwrap_or_else(|| spec.prefix().to_string()),
        datasync_task: output(StackOutput::DataSyncTaskArn),
        efs_id: output(StackOutput::EfsFileSystemId),
        fsx_id: output(StackOutput::FsxFileSystemId),
        from_stack: true,
        stack_prefix: output(StackOutput::DataPrefix),
    })
}

/// Everything `stage` did, for the text and JSON results.
#[derive(Debug, Default, Serialize)]
struct StageResult {
    bucket: String,
    prefix: String,
    download: Option<DownloadSummary>,
    s3: Option<UploadSummary>,
    efs: Option<EfsCopy>,
    fsx: Option<FsxImport>,
    notes: Vec<String>,
    seconds: f64,
}

/// `data stage`.
pub async fn stage(
    global: &GlobalArgs,
    args: &StageArgs,
    printer: &mut Printer,
) -> Result<(), Error> {
    let started = Instant::now();
    let (_, spec) = super::load_spec(global, printer)?;
    let usage = |m: &str| Error::Data(DataError::Usage(m.to_owned()));
    let has_source = args.from.is_some() || args.download.is_some();
    if args.target.bucket.is_some() && matches!(args.to, StageTarget::Efs | StageTarget::Fsx) {
        return Err(usage(
            "--to efs and --to fsx need the stack (its DataSync task and file system); --bucket stages to S3 only",
        ));
    }
    if !has_source && args.to == StageTarget::S3 {
        return Err(usage(
            "nothing to upload: give --from DIR (an extracted COCO 2017 tree) or --download coco2017",
        ));
    }
    let mut backbones = args.backbones.clone();
    if !backbones.contains(&Backbone::R50) {
        backbones.push(Backbone::R50);
    }
    let model = args.target.model.map(|m| m.model());
    if args.download.is_some() && !is_mask_rcnn(model) {
        return Err(usage(
            "--download builds the Mask R-CNN COCO tree; for detectron2 stage it with --prefix detectron2/coco and no --model",
        ));
    }
    let req = requirements(model, &backbones);
    let table = match (&args.download, &args.archives) {
        (None, _) => None,
        (Some(_), Some(path)) => Some(ArchiveTable::load(path)?),
        (Some(_), None) => Some(ArchiveTable::embedded()),
    };
    let mut tree = match &args.from {
        Some(dir) => Some(local::scan(dir, &req)?),
        None => None,
    };

    let aws = super::aws_context::connect(global, &spec).await?;
    let target = resolve(&aws, &spec, &args.target).await?;
    // The DataSync task copies the stack's DataPrefix only; another prefix is S3 (and FSx,
    // which links the whole bucket, lazily).
    let own_prefix =
        target.from_stack && target.stack_prefix.as_deref() != Some(target.prefix.as_str());
    if own_prefix && matches!(args.to, StageTarget::Efs | StageTarget::Fsx) {
        return Err(usage(
            "the prefix differs from the stack's DataPrefix, which its DataSync task and FSx import read; use --to s3 (or all) for it",
        ));
    }
    let to = if own_prefix { StageTarget::S3 } else { args.to };
    let progress: Arc<dyn TransferReporter> = Arc::from(transfer::for_output(global));
    let mut result = StageResult {
        bucket: target.bucket.clone(),
        prefix: target.prefix.clone(),
        ..StageResult::default()
    };

    if let Some(table) = &table {
        let names: Vec<String> = backbones.iter().map(|b| b.as_str().to_owned()).collect();
        let files = table.selected(&names);
        let opts = DownloadOptions {
            work_dir: args.work_dir.clone(),
            base_url: args.download_url.clone(),
        };
        let summary = until_interrupted(
            async { Ok(download::fetch_all(&files, &opts, progress.clone()).await?) },
            async || {
                Interruption::new(
                    "while downloading the archives",
                    format!(
                        "nothing runs on AWS for it; the partial files stay in {} and the next run resumes them",
                        args.work_dir.join("downloads").display()
                    ),
                )
                .then("resume", this_command())
                .into()
            },
        )
        .await?;
        tree = Some(local::scan(&summary.tree, &req)?);
        result.download = Some(summary);
    }

    let listing_started = Instant::now();
    let mut uploaded_now = None;
    let listing = remote::list(&aws.s3, &target.bucket, &target.prefix).await?;
    // Given a source, S3 is always the first stop: EFS and FSx are filled from it.
    if let Some(tree) = &tree {
        let opts = UploadOptions {
            bucket: target.bucket.clone(),
            prefix: target.prefix.clone(),
            concurrency: usize::from(args.concurrency),
            part_size: args.part_size * crate::data::etag::MIB,
        };
        let summary = until_interrupted(
            async {
                Ok(upload::upload_with_listing(
                    &aws.s3,
                    tree,
                    &listing,
                    &opts,
                    progress.clone(),
                    listing_started,
                )
                .await?)
            },
            async || {
                Interruption::new(
                    format!("while uploading to s3://{}/{}", target.bucket, target.prefix),
                    "the upload stopped (nothing runs on AWS for it); the next run skips the files already there and resumes a large file from its last part",
                )
                .then("resume", this_command())
                .into()
            },
        )
        .await?;
        // No second listing: the tree passed the same layout check, so the prefix is complete,
        // and this run's uploads are dated `now` below.
        if summary.uploaded_files > 0 {
            // S3 dates a multipart object by its upload's start, which can be older than the
            // last copy; what this run sent is newer than anything copied before it.
            uploaded_now = Some(aws_sdk_s3::primitives::DateTime::from(
                std::time::SystemTime::now(),
            ));
        }
        result.s3 = Some(summary);
    }

    if own_prefix {
        result.notes.push(format!(
            "{}/ is not the stack's DataPrefix: staged to S3 only (FSx sees it through the bucket link)",
            target.prefix
        ));
    }
    let want_efs = matches!(to, StageTarget::Efs | StageTarget::All) && target.from_stack;
    let want_fsx = matches!(to, StageTarget::Fsx | StageTarget::All) && target.from_stack;
    if (want_efs || want_fsx) && tree.is_none() {
        let missing = req.missing(listing.objects.keys().map(String::as_str));
        if !missing.is_empty() {
            return Err(Error::Data(DataError::Incomplete {
                bucket: target.bucket.clone(),
                prefix: target.prefix.clone(),
                missing,
            }));
        }
    }
    let latest = match (listing.latest_change(), uploaded_now) {
        (Some(a), Some(b)) => Some(if a.secs() >= b.secs() { a } else { b }),
        (a, b) => a.or(b),
    };
    if want_efs {
        match &target.datasync_task {
            Some(task) => {
                let copy = until_interrupted(
                    async {
                        Ok(datasync::copy_to_efs(
                            &aws.datasync,
                            task,
                            latest,
                            args.force,
                            !args.no_wait,
                            progress.clone(),
                        )
                        .await?)
                    },
                    async || {
                        Interruption::new(
                            "while copying to EFS",
                            "the copy keeps running in DataSync",
                        )
                        .then("look (and find its execution ARN)", "stackctl data status")
                        .then("re-attach", "stackctl data stage --to efs")
                        .then(
                            "stop it",
                            "aws datasync cancel-task-execution --task-execution-arn ARN",
                        )
                        .with_globals(global)
                        .into()
                    },
                )
                .await?;
                result.efs = Some(copy);
            }
            None if args.to == StageTarget::Efs => {
                return Err(usage(&format!(
                    "stack `{}` has no DataSync task (EFS disabled, or the stack predates it: run `stackctl up`)",
                    spec.name
                )));
            }
            None => result
                .notes
                .push("EFS: no DataSync task in the stack; nothing copied".to_owned()),
        }
    }
    if want_fsx {
        match &target.fsx_id {
            Some(fs) => {
                let import = until_interrupted(
                    async {
                        Ok(fsx_import::import(
                            &aws.fsx,
                            fs,
                            &target.bucket,
                            &target.prefix,
                            latest,
                            args.force,
                            !args.no_wait,
                            progress.clone(),
                        )
                        .await?)
                    },
                    async || {
                        Interruption::new(
                            "while importing into FSx",
                            "the import task keeps running in FSx",
                        )
                        .then("look (and find its task id)", "stackctl data status")
                        .then("re-attach", "stackctl data stage --to fsx")
                        .then(
                            "stop it",
                            "aws fsx cancel-data-repository-task --task-id TASK_ID",
                        )
                        .with_globals(global)
                        .into()
                    },
                )
                .await?;
                result.fsx = Some(import);
            }
            None if args.to == StageTarget::Fsx => {
                return Err(usage(&format!(
                    "stack `{}` has no FSx file system (fsx.enabled is false?)",
                    spec.name
                )));
            }
            None => result
                .notes
                .push("FSx: no file system in the stack; nothing imported".to_owned()),
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    print_stage(&result, global.output, printer)
}

fn print_stage(
    result: &StageResult,
    format: OutputFormat,
    printer: &mut Printer,
) -> Result<(), Error> {
    let out = printer.out();
    if format == OutputFormat::Json {
        writeln!(out, "{}", serde_json::to_string(result).unwrap_or_default())?;
        return Ok(());
    }
    let url = s3_url(&result.bucket, &result.prefix);
    if let Some(d) = &result.download {
        writeln!(
            out,
            "download: {} files, {} fetched ({}), {} already complete; tree at {}",
            d.files,
            d.fetched,
            human_bytes(d.bytes),
            d.already_done,
            d.tree.display()
        )?;
    }
    if let Some(s) = &result.s3 {
        writeln!(
            out,
            "{url}: {} files ({}): {} uploaded ({}), {} already there, {} parts resumed; {:.1} s, {:.0} files/s, {:.1} MiB/s",
            s.files,
            human_bytes(s.bytes),
            s.uploaded_files,
            human_bytes(s.uploaded_bytes),
            s.skipped_files,
            s.resumed_parts,
            s.seconds,
            s.files_per_second(),
            s.mib_per_second()
        )?;
    }
    if let Some(e) = &result.efs {
        writeln!(
            out,
            "efs: {} ({}): {} files, {}",
            e.action,
            e.execution_arn,
            e.files,
            human_bytes(e.bytes.max(0) as u64)
        )?;
    }
    if let Some(f) = &result.fsx {
        writeln!(
            out,
            "fsx: {} (import task {}, {}): {} files",
            f.action, f.task_id, f.lifecycle, f.files
        )?;
    }
    for note in &result.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// One model's layout check in `data status`.
#[derive(Debug, Serialize)]
struct ModelLayout {
    model: String,
    complete: bool,
    missing: Vec<String>,
}

/// `data status`.
pub async fn status(
    global: &GlobalArgs,
    flags: &DataTarget,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let target = resolve(&aws, &spec, flags).await?;
    let listing = remote::list(&aws.s3, &target.bucket, &target.prefix).await?;
    let mut unreadable = Vec::new();
    let open =
        match remote::open_uploads(&aws.s3, &target.bucket, &remote::key_prefix(&target.prefix))
            .await
        {
            Ok(open) => Some(open.len()),
            Err(e) => {
                unreadable.push(format!("open multipart uploads: {e}"));
                None
            }
        };
    let models: Vec<ModelLayout> = profiles(flags.model.map(|m| m.model()))
        .iter()
        .map(|p| {
            let missing = Requirements::from_layouts([&p.data_layout], &[])
                .missing(listing.objects.keys().map(String::as_str));
            ModelLayout {
                model: p.name.clone(),
                complete: missing.is_empty(),
                missing,
            }
        })
        .collect();
    // EFS and FSx are read independently: one that cannot be read is reported, not fatal.
    let efs = match &target.datasync_task {
        Some(task) => match datasync::last_execution(&aws.datasync, task).await {
            Ok(last) => json!({ "task": task, "last_copy": last }),
            Err(e) => {
                unreadable.push(format!("EFS copy: {e}"));
                json!({ "task": task, "error": e.to_string() })
            }
        },
        // EFS without a DataSync task: a stack from before the copy existed.
        None => match &target.efs_id {
            Some(fs) => json!({
                "file_system_id": fs,
                "unavailable": format!("the stack has EFS {fs} but no DataSyncTaskArn output, so there is no task to copy with (a stack created before the copy existed gets it from `stackctl up`)"),
            }),
            None => serde_json::Value::Null,
        },
    };
    let fsx = match &target.fsx_id {
        Some(fs) => match fsx_import::last_import(&aws.fsx, fs).await {
            Ok(last) => json!({ "file_system_id": fs, "last_import": last }),
            Err(e) => {
                unreadable.push(format!("FSx import: {e}"));
                json!({ "file_system_id": fs, "error": e.to_string() })
            }
        },
        None => serde_json::Value::Null,
    };
    let out = printer.out();
    if global.output == OutputFormat::Json {
        let folders: serde_json::Map<String, serde_json::Value> = listing
            .by_folder()
            .into_iter()
            .map(|(k, (n, b))| (k, json!({ "objects": n, "bytes": b })))
            .collect();
        writeln!(
            out,
            "{}",
            json!({
                "bucket": target.bucket,
                "prefix": target.prefix,
                "objects": listing.objects.len(),
                "bytes": listing.bytes(),
                "folders": folders,
                "open_multipart_uploads": open,
                "models": models,
                "efs": efs,
                "fsx": fsx,
            })
        )?;
    } else {
        write_status_text(out, &target, &listing, open, &models, &efs, &fsx)?;
    }
    match unreadable.is_empty() {
        true => Ok(()),
        false => Err(Error::Job(format!(
            "could not read all of the data status:\n  {}",
            unreadable.join("\n  ")
        ))),
    }
}

fn write_status_text(
    out: &mut dyn Write,
    target: &Target,
    listing: &RemoteListing,
    open_uploads: Option<usize>,
    models: &[ModelLayout],
    efs: &serde_json::Value,
    fsx: &serde_json::Value,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} objects, {}",
        s3_url(&target.bucket, &target.prefix),
        listing.objects.len(),
        human_bytes(listing.bytes())
    )?;
    let rows: Vec<[String; 3]> = listing
        .by_folder()
        .into_iter()
        .map(|(folder, (n, b))| [format!("{folder}/"), n.to_string(), human_bytes(b)])
        .collect();
    if !rows.is_empty() {
        write!(
            out,
            "{}",
            crate::table::table(["FOLDER", "OBJECTS", "BYTES"], &rows)
        )?;
    }
    if open_uploads.is_none() {
        writeln!(out, "open multipart uploads: unknown (see the error below)")?;
    }
    if let Some(open_uploads) = open_uploads.filter(|n| *n > 0) {
        writeln!(
            out,
            "{open_uploads} multipart upload(s) not completed: `stackctl data stage` again resumes them (the bucket's lifecycle rule removes them after 7 days)"
        )?;
    }
    for m in models {
        if m.complete {
            writeln!(out, "layout for {}: complete", m.model)?;
        } else {
            writeln!(
                out,
                "layout for {}: incomplete: {}",
                m.model,
                m.missing.join("; ")
            )?;
        }
    }
    let describe = |v: &serde_json::Value, key: &str, what: &str| -> String {
        if v.is_null() {
            return format!("{what}: not in this stack");
        }
        if let Some(e) = v.get("error") {
            return format!("{what}: unknown ({})", e.as_str().unwrap_or_default());
        }
        if let Some(why) = v.get("unavailable") {
            return format!("{what}: unavailable: {}", why.as_str().unwrap_or_default());
        }
        match v.get(key) {
            Some(serde_json::Value::Null) | None => format!("{what}: never run"),
            Some(last) => format!("{what}: {}", compact(last)),
        }
    };
    writeln!(out, "{}", describe(efs, "last_copy", "EFS copy"))?;
    writeln!(out, "{}", describe(fsx, "last_import", "FSx import"))
}

fn compact(value: &serde_json::Value) -> String {
    value
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k} {s}"),
                    other => format!("{k} {other}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
