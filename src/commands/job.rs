//! `stackctl job ...`: training jobs on the stack.

use crate::cli::{GlobalArgs, JobModel, SubmitArgs};
use crate::cost::{Prices, training_ceiling};
use crate::error::Error;
use crate::jobs::profile::Profile;
use crate::jobs::request::{self, DataSourceKind, JobOptions, MAX_RUN_SECONDS};
use crate::jobs::submit::{self, SubmitError};
use crate::printer::Printer;
use crate::spec::file::ModelName;

/// `job submit`.
pub async fn submit(
    global: &GlobalArgs,
    args: &SubmitArgs,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global)?;
    let model = match args.model {
        JobModel::Tensorpack => ModelName::Tensorpack,
        JobModel::AwsSamples => ModelName::AwsSamples,
    };
    let profile = Profile::embedded(model)
        .expect("Mask R-CNN models have embedded profiles")
        .map_err(|e| Error::Job(e.to_string()))?;
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
    let image = spec.jobs.images.get(&model).map_or_else(
        || {
            submit::default_image(
                &facts.role_arn,
                &aws.region,
                &profile.image.repository,
                &profile.image.tag,
            )
        },
        ToString::to_string,
    );
    let max_run = args.max_run.unwrap_or(spec.jobs.max_run_seconds.get());
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
            .clone()
            .unwrap_or_else(|| spec.jobs.instance_type.to_string()),
        instance_count: args
            .instance_count
            .unwrap_or(spec.jobs.instance_count.get()),
        volume_gib: spec.jobs.volume_gib.get(),
        max_run_seconds: max_run,
        spot: args.spot.then(|| {
            args.max_wait
                .unwrap_or_else(|| max_run.saturating_mul(2).min(MAX_RUN_SECONDS))
        }),
    };
    let request = request::build(&profile, &facts, &options).map_err(Error::JobInput)?;

    let prices = Prices::embedded();
    let cost = match training_ceiling(
        &prices,
        &options.instance_type,
        options.instance_count,
        max_run,
    ) {
        Some(c) if options.spot.is_some() => format!(
            "estimated cost: at most {c:.2} {} on demand ({} x {} for up to {max_run} s); managed spot bills the time actually used at the spot price, usually far less",
            prices.currency, options.instance_count, options.instance_type
        ),
        Some(c) => format!(
            "estimated cost: at most {c:.2} {} ({} x {} for up to {max_run} s; billed for the time actually used)",
            prices.currency, options.instance_count, options.instance_type
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

    if args.dry_run {
        let json = serde_json::to_string_pretty(&request).unwrap_or_default();
        writeln!(printer.out(), "{json}")?;
        return Ok(());
    }
    let arn = submit::create(&aws, &request).await?;
    writeln!(printer.out(), "{}", request.training_job_name)?;
    printer.status(format_args!(
        "submitted {arn}\nfollow it with: aws sagemaker describe-training-job --training-job-name {}",
        request.training_job_name
    ))?;
    Ok(())
}

/// `<stack>-<model>-<YYYYMMDD-HHMMSS>`, or without the stack when that is too long.
fn default_name(stack: &str, model: &str) -> String {
    let now = aws_smithy_types_now();
    let name = format!("{stack}-{model}-{now}");
    if name.len() <= request::MAX_JOB_NAME {
        name
    } else {
        format!("{model}-{now}")
    }
}

fn aws_smithy_types_now() -> String {
    let now = aws_sdk_sagemaker::primitives::DateTime::from(std::time::SystemTime::now());
    let text = now
        .fmt(aws_sdk_sagemaker::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default();
    // 2026-11-22T01:30:00Z -> 20261122-013000
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    format!(
        "{}-{}",
        &digits[..8.min(digits.len())],
        &digits[8.min(digits.len())..14.min(digits.len())]
    )
}
