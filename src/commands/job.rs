//! `stackctl job ...`: training jobs on the stack.

use crate::cli::{GlobalArgs, JobModel, SubmitArgs};
use crate::cost::{Prices, training_ceiling};
use crate::error::Error;
use crate::interrupt::Interruption;
use crate::jobs::profile::Profile;
use crate::jobs::request::{self, DataSourceKind, JobOptions, MAX_RUN_SECONDS};
use crate::jobs::submit::{self, SubmitError};
use crate::preflight::Severity;
use crate::preflight::job::JobUse;
use crate::printer::Printer;
use crate::spec::file::ModelName;

/// `job submit`.
pub async fn submit(
    global: &GlobalArgs,
    args: &SubmitArgs,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let model = args.model.model();
    let profile = Profile::embedded(model).map_err(|e| Error::Job(e.to_string()))?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let facts = submit::stack_facts(
        &aws,
        spec.name.as_str(),
        args.file_system_id.as_deref(),
        args.data == DataSourceKind::Fsx,
    )
    .await
    .map_err(|e| match e {
        SubmitError::Aws(a) => Error::Aws(a),
        other => Error::Job(other.to_string()),
    })?;
    let mut facts = facts;
    if let Some(prefix) = &profile.data_prefix {
        // (A channel fixed to one source says so itself, more precisely, when the request is built.)
        let fixed_source = profile.channels.values().any(|c| c.only_from.is_some());
        if args.data == DataSourceKind::Efs && *prefix != facts.prefix && !fixed_source {
            return Err(Error::JobInput(vec![format!(
                "--data efs: model `{}` reads {prefix}/, and EFS holds only the stack's DataPrefix ({}/, copied by its DataSync task); use --data s3 or fsx",
                profile.name, facts.prefix
            )]));
        }
        facts.prefix = prefix.clone();
    }
    let published_image =
        !spec.jobs.images.contains_key(&model) && profile.image.registry.is_some();
    let image = match spec.jobs.images.get(&model) {
        Some(uri) => uri.to_string(),
        None => match &profile.image.registry {
            Some(table) => submit::registry_image(table, &aws.region, &profile.image)
                .map_err(|e| Error::JobInput(vec![e]))?,
            None => submit::default_image(
                &facts.role_arn,
                &aws.region,
                &profile.image.repository,
                &profile.image.tag,
            ),
        },
    };
    let defaults = instance_defaults(&spec, &profile, model);
    let max_run = args.max_run.unwrap_or(defaults.max_run_seconds);
    let spot = args.spot || (profile.spot && !args.on_demand);
    if !spot && args.max_wait.is_some() {
        return Err(Error::JobInput(vec![
            "--max-wait applies to spot jobs; add --spot".to_owned(),
        ]));
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_name(spec.name.as_str(), &profile.name));
    let options = JobOptions {
        name,
        image,
        data: args.data,
        overrides: args.params.clone(),
        instance_type: args
            .instance_type
            .as_ref()
            .map_or_else(|| defaults.instance_type.clone(), ToString::to_string),
        instance_count: args.instance_count.unwrap_or(defaults.count),
        volume_gib: defaults.volume_gib,
        max_run_seconds: max_run,
        spot: spot.then(|| {
            args.max_wait
                .unwrap_or_else(|| max_run.saturating_mul(2).min(MAX_RUN_SECONDS))
        }),
    };
    let request = request::build(&profile, &facts, &options).map_err(Error::JobInput)?;
    let checks = JobUse {
        profile: &profile,
        facts: &facts,
        data: args.data,
        own_file_system: args.file_system_id.is_some(),
        image: &options.image,
        published_image,
        instance_type: &options.instance_type,
        instance_count: options.instance_count,
        spot: options.spot.is_some(),
        check_data: !args.skip_data_check,
    };
    before_launch(&aws, &checks, args.dry_run, printer).await?;

    let prices = Prices::embedded();
    let cost = match training_ceiling(
        &prices,
        &options.instance_type,
        options.instance_count,
        max_run,
    ) {
        Some(c) if options.spot.is_some() => format!(
            "estimated cost: at most {} {} on demand ({} x {} for up to {max_run} s); managed spot bills the time actually used at the spot price, usually far less",
            crate::cost::money(c),
            prices.currency,
            options.instance_count,
            options.instance_type
        ),
        Some(c) => format!(
            "estimated cost: at most {} {} ({} x {} for up to {max_run} s; billed for the time actually used)",
            crate::cost::money(c),
            prices.currency,
            options.instance_count,
            options.instance_type
        ),
        None => format!(
            "estimated cost: {} is not in the price table",
            options.instance_type
        ),
    };
    printer.status(format_args!(
        "{cost} [an estimate: {} prices of {}, recorded {}]",
        prices.currency, prices.region, prices.recorded
    ))?;

    let name = &request.training_job_name;
    let model = request::model_uri(&request.output_data_config.s3_output_path, name);
    let json = super::json(global);
    if args.dry_run {
        if json {
            let doc = submitted_json(name, None, &model, Some(&request));
            return super::print_json(printer, &doc);
        }
        let text = serde_json::to_string_pretty(&request).unwrap_or_default();
        writeln!(printer.out(), "{text}")?;
        return Ok(());
    }
    let arn = submit::create(&aws, &request).await?;
    if json {
        super::print_json(printer, &submitted_json(name, Some(&arn), &model, None))?;
    } else {
        writeln!(printer.out(), "{name}")?;
    }
    printer.status(format_args!(
        "submitted {arn}\nthe model will be written to {model}"
    ))?;
    if args.wait {
        // The submission is on stdout already: a wait cut short leaves the name to script on.
        printer.flush()?;
        let summary = wait_with(global, &aws, name, printer).await?;
        print_summary(global, &summary, printer)?;
        return succeeded(&summary);
    }
    printer.status(format_args!(
        "wait for it with:  stackctl job wait {name}\nfollow its logs:   stackctl job logs {name} --follow"
    ))?;
    Ok(())
}

/// The `job submit --output json` object (docs/json-output.md): `arn` is null with
/// `--dry-run`, `request` (the CreateTrainingJob request) null without it.
fn submitted_json(
    name: &str,
    arn: Option<&str>,
    model_uri: &str,
    request: Option<&request::TrainingJobRequest>,
) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "arn": arn,
        "model_uri": model_uri,
        "dry_run": request.is_some(),
        "request": request,
    })
}

/// The checks before CreateTrainingJob (`--dry-run` runs them too): a fatal finding stops the
/// submission (exit 2) with its fix; the others are status lines, a warning with its fix.
async fn before_launch(
    aws: &Aws,
    job: &JobUse<'_>,
    dry_run: bool,
    printer: &mut Printer,
) -> Result<(), Error> {
    let findings = crate::preflight::job::checks(aws, job).await;
    if crate::preflight::any_fatal(&findings) {
        return Err(Error::Preflight(findings));
    }
    let when = if dry_run {
        "dry run, checked as a submission would be"
    } else {
        "checked before launching"
    };
    for f in &findings {
        printer.status(format_args!(
            "{when}: {} {}: {}",
            f.severity.label(),
            f.check,
            f.message
        ))?;
        if f.severity == Severity::Warn
            && let Some(fix) = &f.fix
        {
            printer.status(format_args!("  fix: {fix}"))?;
        }
    }
    Ok(())
}

/// `<stack>-<model>-<YYYYMMDD-HHMMSS>-<mmm><xx>` (milliseconds and 8 bits from the clock's
/// nanoseconds and the process id, so two submissions in one second, even from two shells, get
/// different names; SageMaker refuses a second job of the same name), or without the stack
/// when that is too long.
fn default_name(stack: &str, model: &str) -> String {
    let now = std::time::SystemTime::now();
    let stamp = name_stamp(now, std::process::id());
    let name = format!("{stack}-{model}-{stamp}");
    if name.len() <= request::MAX_JOB_NAME {
        name
    } else {
        format!("{model}-{stamp}")
    }
}

/// `20261122-013000-12345`: UTC date and time, then milliseconds and two hex digits.
fn name_stamp(now: std::time::SystemTime, pid: u32) -> String {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let text = aws_sdk_sagemaker::primitives::DateTime::from(now)
        .fmt(aws_sdk_sagemaker::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default();
    // 2026-11-22T01:30:00Z -> 20261122-013000
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    // Multiplicative hashing spreads the nanoseconds and the pid over the top byte.
    let mixed = u64::from(since.subsec_nanos()).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(pid).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let salt = (mixed >> 56) as u8;
    format!(
        "{}-{}-{:03}{salt:02x}",
        &digits[..8.min(digits.len())],
        &digits[8.min(digits.len())..14.min(digits.len())],
        since.subsec_millis()
    )
}

use std::path::Path;
use std::time::Duration;

use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;

use crate::aws::{Aws, AwsError};
use crate::jobs::logs::{LogLine, LogReader};
use crate::jobs::metrics;
use crate::jobs::watch::{self, JobSummary};

fn model_of_tag(value: &str) -> Option<ModelName> {
    match value {
        "tensorpack" => Some(ModelName::Tensorpack),
        "aws-samples" => Some(ModelName::AwsSamples),
        "detectron2" => Some(ModelName::Detectron2),
        "object-detection" => Some(ModelName::ObjectDetection),
        _ => None,
    }
}

async fn describe_job(aws: &Aws, name: &str) -> Result<DescribeTrainingJobOutput, Error> {
    Ok(watch::describe(aws, name).await?)
}

async fn tags_of(
    aws: &Aws,
    arn: &str,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let out = aws
        .sagemaker
        .list_tags()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| Error::Aws(AwsError::from_sdk("ListTags", e)))?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect())
}

async fn connect_for_jobs(
    global: &GlobalArgs,
    printer: &mut Printer,
) -> Result<(crate::spec::StackSpec, Aws), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let aws = super::aws_context::connect(global, &spec).await?;
    Ok((spec, aws))
}

/// `job list`.
pub async fn list(global: &GlobalArgs, max: usize, printer: &mut Printer) -> Result<(), Error> {
    let (spec, aws) = connect_for_jobs(global, printer).await?;
    let mut rows = Vec::new();
    let mut pages = aws
        .sagemaker
        .list_training_jobs()
        .sort_by(aws_sdk_sagemaker::types::SortBy::CreationTime)
        .sort_order(aws_sdk_sagemaker::types::SortOrder::Descending)
        .into_paginator()
        .items()
        .send();
    let mut seen = 0;
    while let Some(job) = pages.next().await {
        let job = job.map_err(|e| Error::Aws(AwsError::from_sdk("ListTrainingJobs", e)))?;
        seen += 1;
        if seen > max {
            break;
        }
        let tags = tags_of(&aws, job.training_job_arn().unwrap_or_default()).await?;
        if tags.get("stackctl:stack").map(String::as_str) != Some(spec.name.as_str()) {
            continue;
        }
        let d = describe_job(&aws, job.training_job_name().unwrap_or_default()).await?;
        rows.push(JobRow {
            name: d.training_job_name().unwrap_or_default().to_owned(),
            model: tags.get("stackctl:model").cloned(),
            status: d.training_job_status().map(|s| s.as_str().to_owned()),
            secondary_status: d.secondary_status().map(|s| s.as_str().to_owned()),
            created: d.creation_time().and_then(|t| {
                t.fmt(aws_sdk_sagemaker::primitives::DateTimeFormat::DateTime)
                    .ok()
            }),
            training_seconds: d.training_time_in_seconds(),
            billable_seconds: d.billable_time_in_seconds(),
        });
    }
    if super::json(global) {
        return super::print_json(printer, &rows);
    }
    let seconds = |t: Option<i32>| t.map_or("-".to_owned(), |s| format!("{s} s"));
    let text: Vec<[String; 6]> = rows
        .into_iter()
        .map(|r| {
            [
                r.name,
                r.model.unwrap_or_default(),
                r.status.unwrap_or_default(),
                r.secondary_status.unwrap_or_default(),
                seconds(r.training_seconds),
                seconds(r.billable_seconds),
            ]
        })
        .collect();
    write!(
        printer.out(),
        "{}",
        crate::table::table(
            [
                "NAME",
                "MODEL",
                "STATUS",
                "SECONDARY",
                "DURATION",
                "BILLABLE"
            ],
            &text
        )
    )?;
    Ok(())
}

/// One job of `job list` (the `--output json` array's element, docs/json-output.md).
#[derive(serde::Serialize)]
struct JobRow {
    name: String,
    /// The stackctl:model tag.
    model: Option<String>,
    status: Option<String>,
    secondary_status: Option<String>,
    /// Creation time (RFC 3339).
    created: Option<String>,
    training_seconds: Option<i32>,
    billable_seconds: Option<i32>,
}

/// The summary, reading the logs of a Completed job for evidence of failure.
async fn summary(aws: &Aws, d: &DescribeTrainingJobOutput) -> Result<JobSummary, Error> {
    let lines = if d.training_job_status().map(|s| s.as_str()) == Some("Completed") {
        LogReader::default()
            .poll(aws, d.training_job_name().unwrap_or_default())
            .await?
    } else {
        Vec::new()
    };
    Ok(JobSummary::new(d, &lines))
}

/// The summary as text, or as one JSON object.
fn print_summary(
    global: &GlobalArgs,
    summary: &JobSummary,
    printer: &mut Printer,
) -> Result<(), Error> {
    if super::json(global) {
        return super::print_json(printer, summary);
    }
    Ok(summary.write_text(printer.out())?)
}

/// Exit 1 unless the job really succeeded (after its summary is printed).
fn succeeded(summary: &JobSummary) -> Result<(), Error> {
    if summary.succeeded {
        Ok(())
    } else {
        Err(Error::Job(format!(
            "training job `{}` did not succeed",
            summary.name
        )))
    }
}

/// `job describe`.
pub async fn describe(global: &GlobalArgs, name: &str, printer: &mut Printer) -> Result<(), Error> {
    let (_, aws) = connect_for_jobs(global, printer).await?;
    let d = describe_job(&aws, name).await?;
    print_summary(global, &summary(&aws, &d).await?, printer)
}

/// `job wait`: secondary status changes with elapsed time, then the summary.
pub async fn wait(global: &GlobalArgs, name: &str, printer: &mut Printer) -> Result<(), Error> {
    let (_, aws) = connect_for_jobs(global, printer).await?;
    let summary = wait_with(global, &aws, name, printer).await?;
    print_summary(global, &summary, printer)?;
    succeeded(&summary)
}

/// Waits for the job to end (status changes on stderr) and reads its summary.
async fn wait_with(
    global: &GlobalArgs,
    aws: &Aws,
    name: &str,
    printer: &mut Printer,
) -> Result<JobSummary, Error> {
    let waited = crate::interrupt::until_interrupted(
        async {
            Ok(watch::wait_for(aws, name, |secs, status| {
                let _ = printer.status(format_args!("{secs:>6} s  {status}"));
            })
            .await?)
        },
        async || interrupted(global, aws, name).await,
    )
    .await?;
    summary(aws, &waited).await
}

/// Ctrl-C during `wait`: ask on a terminal whether to stop the job; either way the error says
/// what goes on and exits 130.
async fn interrupted(global: &GlobalArgs, aws: &Aws, name: &str) -> Error {
    let mut said = Interruption::training_job(name, "waiting for");
    if super::aws_context::interactive(global)
        && super::aws_context::ask(&format!("\nstop training job `{name}` too?"))
    {
        if let Err(e) = stop_job(aws, name).await {
            return e;
        }
        said = Interruption::new(
            format!("while waiting for training job `{name}`"),
            "SageMaker was asked to stop it, which takes a few minutes",
        )
        .then("look", format!("stackctl job describe {name}"));
    }
    said.with_globals(global).into()
}

async fn stop_job(aws: &Aws, name: &str) -> Result<(), Error> {
    Ok(watch::stop(aws, name).await?)
}

/// `job stop`.
pub async fn stop(global: &GlobalArgs, name: &str, printer: &mut Printer) -> Result<(), Error> {
    let (_, aws) = connect_for_jobs(global, printer).await?;
    stop_job(&aws, name).await?;
    if super::json(global) {
        super::print_json(
            printer,
            &serde_json::json!({"name": name, "stop_requested": true}),
        )?;
    }
    printer.status(format_args!(
        "asked SageMaker to stop `{name}`; it stops within a few minutes (`stackctl job describe {name}` shows when)"
    ))?;
    Ok(())
}

/// `job logs [--follow] [--since D] [--tail N] [--host algo-N]`.
pub async fn logs(
    global: &GlobalArgs,
    name: &str,
    follow: bool,
    filter: &crate::jobs::logs::LogFilter,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, aws) = connect_for_jobs(global, printer).await?;
    // A job that does not exist is said so, rather than shown as "no logs".
    let d = describe_job(&aws, name).await?;
    let mut reader = LogReader::with_filter(filter);
    let mut first = reader.poll(&aws, name).await?;
    if let Some(n) = filter.tail {
        let skip = first.len().saturating_sub(n);
        first.drain(..skip);
    }
    let json = super::json(global);
    let mut printed = first.len();
    for line in &first {
        write_log_line(printer, line, json)?;
    }
    printer.out().flush()?;
    let mut status = d
        .training_job_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let ended = |status: &str| matches!(status, "Completed" | "Failed" | "Stopped");
    if follow && !ended(&status) {
        let following = async {
            while !ended(&status) {
                tokio::time::sleep(Duration::from_secs(5)).await;
                status = describe_job(&aws, name)
                    .await?
                    .training_job_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
                // After the end, this is the last read.
                for line in reader.poll(&aws, name).await? {
                    write_log_line(printer, &line, json)?;
                    printed += 1;
                }
                printer.out().flush()?;
            }
            Ok(())
        };
        crate::interrupt::until_interrupted(following, async || {
            Interruption::new(
                format!("while following the logs of training job `{name}`"),
                "the training job keeps running on SageMaker until it ends or is stopped",
            )
            .then("re-attach", format!("stackctl job logs {name} --follow"))
            .then("stop it", format!("stackctl job stop {name}"))
            .with_globals(global)
            .into()
        })
        .await?;
    }
    if printed == 0 {
        let which = filter
            .host
            .as_deref()
            .map(|h| format!(" of {h}"))
            .unwrap_or_default();
        let why = if reader.streams_seen() == 0 {
            format!(
                "job `{name}` ({status}) has no log streams{which} yet: SageMaker writes them once its instances run the container"
            )
        } else {
            format!("job `{name}` ({status}) has no log lines{which} to show for these options")
        };
        printer.status(format_args!("{why}"))?;
    }
    Ok(())
}

/// `[algo-1] message`, or with `--output json` one NDJSON object per line.
fn write_log_line(printer: &mut Printer, line: &LogLine, json: bool) -> Result<(), Error> {
    if json {
        return super::print_json(printer, line);
    }
    writeln!(printer.out(), "[{}] {}", line.host, line.message)?;
    Ok(())
}

/// `job metrics [--plot FILE]`.
pub async fn metrics(
    global: &GlobalArgs,
    name: &str,
    plot: Option<&Path>,
    model: Option<JobModel>,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, aws) = connect_for_jobs(global, printer).await?;
    let model = match model {
        Some(m) => m.model(),
        None => {
            let d = describe_job(&aws, name).await?;
            let tags = tags_of(&aws, d.training_job_arn().unwrap_or_default()).await?;
            tags.get("stackctl:model")
                .and_then(|m| model_of_tag(m))
                .ok_or_else(|| {
                    Error::Job(format!(
                        "job `{name}` has no stackctl:model tag; pass --model"
                    ))
                })?
        }
    };
    let profile = Profile::embedded(model).map_err(|e| Error::Job(e.to_string()))?;
    let mut reader = LogReader::default();
    let lines = reader.poll(&aws, name).await?;
    let by_host = metrics::extract_by_host(&profile, &lines);
    let series = metrics::merged(&by_host);
    let json = super::json(global);
    if series.is_empty() {
        let read = if reader.streams_seen() == 0 {
            "it has no log streams yet".to_owned()
        } else {
            format!(
                "none of its {} log lines matches the {} metrics of the {} profile",
                lines.len(),
                profile.metrics.len(),
                profile.name
            )
        };
        let plot = if plot.is_some() {
            "; no plot written"
        } else {
            ""
        };
        printer.status(format_args!(
            "job `{name}` has no metric values yet: {read}{plot}"
        ))?;
        if json {
            super::print_json(printer, &metrics::json(name, &profile.name, &by_host, None))?;
        }
        return Ok(());
    }
    if let Some(path) = plot {
        fs_err::write(path, metrics::svg(name, &by_host)).map_err(|source| Error::WriteFile {
            path: path.to_owned(),
            source,
        })?;
        printer.status(format_args!("wrote {}", path.display()))?;
    }
    if json {
        return super::print_json(printer, &metrics::json(name, &profile.name, &by_host, plot));
    }
    let rows: Vec<[String; 3]> = series
        .iter()
        .map(|(n, points)| {
            let (_, last) = points.last().copied().unwrap_or_default();
            [n.clone(), format!("{last}"), points.len().to_string()]
        })
        .collect();
    write!(
        printer.out(),
        "{}",
        crate::table::table(["METRIC", "LATEST", "VALUES"], &rows)
    )?;
    Ok(())
}

/// `job render --target mpijob`.
pub fn render(
    global: &GlobalArgs,
    args: &crate::cli::RenderJobArgs,
    printer: &mut Printer,
) -> Result<(), Error> {
    use crate::jobs::mpijob::{self, MpiJobOptions};
    let (_, spec) = super::load_spec(global, printer)?;
    let model = args.model.model();
    let profile = Profile::embedded(model).map_err(|e| Error::Job(e.to_string()))?;
    let defaults = instance_defaults(&spec, &profile, model);
    let image = match (&args.image, spec.jobs.images.get(&model)) {
        (Some(image), _) => image.clone(),
        (None, Some(uri)) => uri.to_string(),
        (None, None) => {
            return Err(Error::JobInput(vec![format!(
                "--image: the MPIJob needs an image URI (or jobs.images.{} in the stack file); `stackctl image push --model {}` builds and pushes one",
                profile.name, profile.name
            )]));
        }
    };
    let options = MpiJobOptions {
        name: args.name.clone().unwrap_or_else(|| profile.name.clone()),
        namespace: args.namespace.clone(),
        image,
        instance_type: args
            .instance_type
            .clone()
            .unwrap_or_else(|| defaults.instance_type.clone()),
        nodes: args.instance_count.unwrap_or(defaults.count),
        shared_fs: args.shared_fs,
        pvc: args.pvc.clone(),
        data_path: args
            .data_path
            .clone()
            .or_else(|| profile.data_prefix.clone())
            .unwrap_or_else(|| spec.prefix().to_string()),
        overrides: args.params.clone(),
        backoff_limit: args.backoff_limit,
    };
    let manifest = mpijob::render(&profile, &options).map_err(Error::JobInput)?;
    match &args.out {
        Some(path) => fs_err::write(path, &manifest).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?,
        None if super::json(global) => {}
        None => printer.out().write_all(manifest.as_bytes())?,
    }
    if super::json(global) {
        // The manifest in a string: a JSON caller gets JSON, never YAML (docs/json-output.md).
        let doc = serde_json::json!({
            "name": options.name,
            "namespace": options.namespace,
            "out": args.out,
            "bytes": manifest.len(),
            "manifest": args.out.is_none().then_some(&manifest),
        });
        super::print_json(printer, &doc)?;
    }
    Ok(())
}

/// Instance defaults of a job before flags.
struct InstanceDefaults {
    instance_type: String,
    count: u32,
    volume_gib: u32,
    max_run_seconds: u32,
}

/// The stack file's `jobs.*` defaults are for the Mask R-CNN models; the other profiles bring
/// their own (object detection runs on one ml.p3.2xlarge for an hour).
fn instance_defaults(
    spec: &crate::spec::StackSpec,
    profile: &Profile,
    model: ModelName,
) -> InstanceDefaults {
    if matches!(model, ModelName::Tensorpack | ModelName::AwsSamples) {
        InstanceDefaults {
            instance_type: spec.jobs.instance_type.to_string(),
            count: spec.jobs.instance_count.get(),
            volume_gib: spec.jobs.volume_gib.get(),
            max_run_seconds: spec.jobs.max_run_seconds.get(),
        }
    } else {
        InstanceDefaults {
            instance_type: profile.instance.instance_type.clone(),
            count: profile.instance.count,
            volume_gib: profile.instance.volume_gib,
            max_run_seconds: profile.instance.max_run_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::{default_name, name_stamp};
    use crate::jobs::request::check_job_name;

    /// Two submissions in the same second (issue 12: SageMaker refused the second one) get
    /// different names, from one process or two; every default name is a valid job name.
    #[test]
    fn default_names_differ_within_one_second_and_are_valid() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let same_second = [
            name_stamp(t, 100),
            name_stamp(t + Duration::from_millis(1), 100),
            name_stamp(t + Duration::from_millis(999), 100),
            name_stamp(t, 101),
        ];
        for (i, a) in same_second.iter().enumerate() {
            assert_eq!(a.len(), "20261122-013000-12345".len(), "{a}");
            for b in &same_second[i + 1..] {
                assert_ne!(a, b);
            }
        }
        for stack in ["mask-rcnn", &"s".repeat(40)] {
            let name = default_name(stack, "aws-samples");
            check_job_name(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let now = name_stamp(SystemTime::now(), std::process::id());
        assert_eq!(now.len(), "20261122-013000-12345".len(), "{now}");
    }
}
