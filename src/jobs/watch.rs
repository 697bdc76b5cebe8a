//! Watching a training job: waiting with status changes, the end-of-job summary (failure
//! reason, training vs billable time, spot savings, final metrics, log location, suspect
//! success), and stopping.

use std::io::{self, Write};
use std::time::Duration;

use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;

use super::logs::{LOG_GROUP, LogLine, failure_evidence};
use crate::aws::{Aws, AwsError};

/// How often `wait` asks SageMaker for the job's status.
pub const WAIT_POLL: Duration = Duration::from_secs(10);

/// True for statuses a job ends in.
pub fn is_final(status: &str) -> bool {
    matches!(status, "Completed" | "Failed" | "Stopped")
}

/// DescribeTrainingJob.
pub async fn describe(aws: &Aws, name: &str) -> Result<DescribeTrainingJobOutput, AwsError> {
    aws.sagemaker
        .describe_training_job()
        .training_job_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeTrainingJob", e))
}

/// Polls until the job ends, calling `on_change(elapsed seconds, secondary status)` whenever
/// the secondary status changes.
pub async fn wait_for(
    aws: &Aws,
    name: &str,
    mut on_change: impl FnMut(u64, &str),
) -> Result<DescribeTrainingJobOutput, AwsError> {
    let started = tokio::time::Instant::now();
    let mut last = String::new();
    loop {
        let d = describe(aws, name).await?;
        let secondary = d
            .secondary_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if secondary != last {
            on_change(started.elapsed().as_secs(), &secondary);
            last = secondary;
        }
        if is_final(
            d.training_job_status()
                .map(|s| s.as_str())
                .unwrap_or_default(),
        ) {
            return Ok(d);
        }
        tokio::time::sleep(WAIT_POLL).await;
    }
}

/// Asks SageMaker to stop a job.
pub async fn stop(aws: &Aws, name: &str) -> Result<(), AwsError> {
    aws.sagemaker
        .stop_training_job()
        .training_job_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("StopTrainingJob", e))?;
    Ok(())
}

/// Writes the summary of a job; `lines` are its logs (read only for Completed jobs). True
/// when the job really succeeded.
pub fn write_summary(
    d: &DescribeTrainingJobOutput,
    lines: &[LogLine],
    out: &mut dyn Write,
) -> io::Result<bool> {
    let name = d.training_job_name().unwrap_or_default();
    let status = d
        .training_job_status()
        .map(|s| s.as_str())
        .unwrap_or("Unknown");
    writeln!(out, "job:       {name}")?;
    writeln!(
        out,
        "status:    {status} ({})",
        d.secondary_status().map(|s| s.as_str()).unwrap_or("-")
    )?;
    if let Some(reason) = d.failure_reason() {
        writeln!(out, "failure:   {reason}")?;
    }
    if let Some(rc) = d.resource_config() {
        writeln!(
            out,
            "instances: {} x {}, {} GiB volume each",
            rc.instance_count().unwrap_or_default(),
            rc.instance_type().map(|t| t.as_str()).unwrap_or("-"),
            rc.volume_size_in_gb().unwrap_or_default()
        )?;
    }
    let spot = d.enable_managed_spot_training() == Some(true);
    let stopping = d.stopping_condition();
    writeln!(
        out,
        "capacity:  {}, at most {} s of training{}",
        if spot { "managed spot" } else { "on demand" },
        stopping
            .and_then(|c| c.max_runtime_in_seconds())
            .map_or("-".to_owned(), |s| s.to_string()),
        match stopping.and_then(|c| c.max_wait_time_in_seconds()) {
            Some(w) if spot => format!(", {w} s with waiting for capacity"),
            _ => String::new(),
        }
    )?;
    let time = |t: Option<&aws_sdk_sagemaker::primitives::DateTime>| {
        t.and_then(|t| {
            t.fmt(aws_sdk_sagemaker::primitives::DateTimeFormat::DateTime)
                .ok()
        })
        .unwrap_or_else(|| "-".to_owned())
    };
    writeln!(
        out,
        "started:   {}  ended: {}",
        time(d.training_start_time()),
        time(d.training_end_time())
    )?;
    for channel in d.input_data_config() {
        writeln!(
            out,
            "channel:   {} <- {}",
            channel.channel_name().unwrap_or("-"),
            channel_source(channel)
        )?;
    }
    if let Some(params) = d.hyper_parameters().filter(|p| !p.is_empty()) {
        let mut pairs: Vec<_> = params.iter().collect();
        pairs.sort();
        for (k, v) in pairs {
            writeln!(out, "param:     {k} = {v}")?;
        }
    }
    let training = d.training_time_in_seconds();
    let billable = d.billable_time_in_seconds();
    writeln!(
        out,
        "time:      {} training, {} billable",
        training.map_or("-".to_owned(), |t| format!("{t} s")),
        billable.map_or("-".to_owned(), |t| format!("{t} s"))
    )?;
    if d.enable_managed_spot_training() == Some(true)
        && let (Some(t), Some(b)) = (training, billable)
        && t > 0
    {
        writeln!(
            out,
            "spot:      {:.1}% saved",
            (1.0 - f64::from(b) / f64::from(t)) * 100.0
        )?;
    }
    for m in d.final_metric_data_list() {
        writeln!(
            out,
            "metric:    {} = {}",
            m.metric_name().unwrap_or_default(),
            m.value().unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "logs:      CloudWatch Logs group {LOG_GROUP}, streams {name}/algo-*"
    )?;
    match (
        d.model_artifacts().and_then(|m| m.s3_model_artifacts()),
        d.output_data_config().and_then(|o| o.s3_output_path()),
    ) {
        (Some(model), _) => writeln!(out, "model:     {model}")?,
        (None, Some(path)) => writeln!(
            out,
            "model:     {} (once the job completes)",
            super::request::model_uri(path, name)
        )?,
        (None, None) => {}
    }
    let mut ok = status == "Completed";
    if ok {
        // The aws-samples entrypoint exits 0 even when training failed: the logs tell.
        let evidence = failure_evidence(lines);
        if !evidence.is_empty() {
            ok = false;
            writeln!(
                out,
                "SUSPECT:   SageMaker reports Completed, but the logs show the training process failed:"
            )?;
            for l in evidence.iter().take(10) {
                writeln!(out, "  [{}] {}", l.host, l.message)?;
            }
        }
    }
    Ok(ok)
}

/// "s3://b/p/ (S3Prefix, FullyReplicated)", "EFS fs-... /path", "FSx fs-... /mount/path".
fn channel_source(channel: &aws_sdk_sagemaker::types::Channel) -> String {
    let Some(source) = channel.data_source() else {
        return "-".to_owned();
    };
    if let Some(s3) = source.s3_data_source() {
        return format!(
            "{} ({}{})",
            s3.s3_uri().unwrap_or("-"),
            s3.s3_data_type().map(|t| t.as_str()).unwrap_or("-"),
            s3.s3_data_distribution_type()
                .map(|d| format!(", {}", d.as_str()))
                .unwrap_or_default()
        );
    }
    if let Some(fs) = source.file_system_data_source() {
        return format!(
            "{} {} {}",
            fs.file_system_type().map(|t| t.as_str()).unwrap_or("-"),
            fs.file_system_id().unwrap_or("-"),
            fs.directory_path().unwrap_or("-")
        );
    }
    "-".to_owned()
}

#[cfg(test)]
mod tests {
    //! DescribeTrainingJob sequences shaped like real answers, with `aws-smithy-mocks`: the
    //! emulator completes jobs at once and cannot stop them.

    use aws_sdk_sagemaker::Client;
    use aws_sdk_sagemaker::operation::stop_training_job::StopTrainingJobOutput;
    use aws_sdk_sagemaker::types::{MetricData, SecondaryStatus, TrainingJobStatus};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn answer(status: TrainingJobStatus, secondary: SecondaryStatus) -> DescribeTrainingJobOutput {
        DescribeTrainingJobOutput::builder()
            .training_job_name("job-1")
            .training_job_status(status)
            .secondary_status(secondary)
            .build()
    }

    fn aws_with(sagemaker: Client) -> Aws {
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
                .build(),
        );
        Aws::with_cloudformation_and_sagemaker(cfn, sagemaker)
    }

    #[tokio::test(start_paused = true)]
    async fn wait_reports_each_secondary_status_and_the_failure() {
        let rule = mock!(Client::describe_training_job)
            .sequence()
            .output(|| answer(TrainingJobStatus::InProgress, SecondaryStatus::Starting))
            .output(|| answer(TrainingJobStatus::InProgress, SecondaryStatus::Downloading))
            .output(|| answer(TrainingJobStatus::InProgress, SecondaryStatus::Training))
            .times(3)
            .output(|| {
                let mut d = answer(TrainingJobStatus::Failed, SecondaryStatus::Failed);
                d.failure_reason =
                    Some("AlgorithmError: ExecuteUserScriptError: exit code 1".into());
                d.training_time_in_seconds = Some(1200);
                d.billable_time_in_seconds = Some(1200);
                d
            })
            .build();
        let aws = aws_with(mock_client!(
            aws_sdk_sagemaker,
            RuleMode::Sequential,
            [&rule]
        ));
        let mut seen = Vec::new();
        let d = wait_for(&aws, "job-1", |secs, s| seen.push(format!("{secs} {s}")))
            .await
            .unwrap();
        assert_eq!(
            seen,
            ["0 Starting", "10 Downloading", "20 Training", "50 Failed"]
        );
        let mut text = Vec::new();
        assert!(!write_summary(&d, &[], &mut text).unwrap());
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("status:    Failed (Failed)"), "{text}");
        assert!(
            text.contains("failure:   AlgorithmError: ExecuteUserScriptError: exit code 1"),
            "{text}"
        );
        assert!(
            text.contains("time:      1200 s training, 1200 s billable"),
            "{text}"
        );
    }

    #[test]
    fn spot_savings_and_final_metrics() {
        let mut d = answer(TrainingJobStatus::Completed, SecondaryStatus::Completed);
        d.enable_managed_spot_training = Some(true);
        d.training_time_in_seconds = Some(1000);
        d.billable_time_in_seconds = Some(300);
        d.final_metric_data_list = Some(vec![
            MetricData::builder()
                .metric_name("mAP(bbox)/IoU=0.5:0.95")
                .value(0.374)
                .build(),
        ]);
        let mut text = Vec::new();
        assert!(write_summary(&d, &[], &mut text).unwrap());
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("spot:      70.0% saved"), "{text}");
        assert!(
            text.contains("metric:    mAP(bbox)/IoU=0.5:0.95 = 0.374"),
            "{text}"
        );
        let suspect = [LogLine {
            timestamp: 1,
            host: "algo-3".into(),
            message: "mpirun noticed that process rank 9 exited on signal 9".into(),
        }];
        let mut text = Vec::new();
        assert!(!write_summary(&d, &suspect, &mut text).unwrap());
        assert!(String::from_utf8(text).unwrap().contains("SUSPECT:"));
    }

    #[tokio::test]
    async fn stop_asks_sagemaker_once() {
        let rule = mock!(Client::stop_training_job)
            .match_requests(|r| r.training_job_name() == Some("job-1"))
            .then_output(|| StopTrainingJobOutput::builder().build());
        let aws = aws_with(mock_client!(aws_sdk_sagemaker, [&rule]));
        stop(&aws, "job-1").await.unwrap();
        assert_eq!(rule.num_calls(), 1);
    }
}
