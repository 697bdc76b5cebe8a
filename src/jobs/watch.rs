//! Watching a training job: waiting with status changes, the end-of-job summary (failure
//! reason, training vs billable time, spot savings, final metrics, log location, suspect
//! success), and stopping.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;
use serde::Serialize;

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

/// The largest number of log lines a suspect job's summary quotes as evidence.
pub const MAX_EVIDENCE: usize = 10;

/// What `job describe` and `job wait` report about a job, read once from DescribeTrainingJob
/// (and, for a Completed job, its logs); shown as text by [`JobSummary::write_text`] or
/// serialised as the JSON shape documented in docs/json-output.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobSummary {
    /// Job name.
    pub name: String,
    /// Job ARN.
    pub arn: Option<String>,
    /// TrainingJobStatus (`InProgress`, `Completed`, `Failed`, `Stopping`, `Stopped`).
    pub status: Option<String>,
    /// SecondaryStatus (`Starting`, `Downloading`, `Training`, ...).
    pub secondary_status: Option<String>,
    /// SageMaker's FailureReason.
    pub failure_reason: Option<String>,
    /// The ResourceConfig, when SageMaker gave one.
    pub instances: Option<Instances>,
    /// Managed spot training.
    pub spot: bool,
    /// StoppingCondition.MaxRuntimeInSeconds.
    pub max_run_seconds: Option<i32>,
    /// StoppingCondition.MaxWaitTimeInSeconds (spot only).
    pub max_wait_seconds: Option<i32>,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// Training start time (RFC 3339).
    pub started: Option<String>,
    /// Training end time (RFC 3339).
    pub ended: Option<String>,
    /// The input channels.
    pub channels: Vec<ChannelSummary>,
    /// Hyperparameters, sorted by name.
    pub hyperparameters: BTreeMap<String, String>,
    /// TrainingTimeInSeconds.
    pub training_seconds: Option<i32>,
    /// BillableTimeInSeconds.
    pub billable_seconds: Option<i32>,
    /// Spot savings in percent (one decimal), for spot jobs with both times.
    pub spot_savings_percent: Option<f64>,
    /// FinalMetricDataList.
    pub final_metrics: Vec<FinalMetric>,
    /// The CloudWatch Logs group of the job's streams.
    pub log_group: &'static str,
    /// The job's stream names, as a pattern (`NAME/algo-*`).
    pub log_streams: String,
    /// The model artifact: SageMaker's, or where it will be once the job completes.
    pub model_uri: Option<String>,
    /// True when SageMaker reports the model artifact written.
    pub model_ready: bool,
    /// True when the job Completed and its logs show no failure.
    pub succeeded: bool,
    /// True when SageMaker reports Completed but the logs show the training process failed.
    pub suspect: bool,
    /// The log lines that make the job suspect (at most [`MAX_EVIDENCE`]).
    pub failure_evidence: Vec<LogLine>,
}

/// A job's ResourceConfig.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instances {
    /// Instance type (`ml.p3.16xlarge`).
    pub instance_type: Option<String>,
    /// Instance count.
    pub count: Option<i32>,
    /// EBS volume per instance, GiB.
    pub volume_gib: Option<i32>,
}

/// One input channel and where it reads from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelSummary {
    /// Channel name (`train`).
    pub name: Option<String>,
    /// `s3` or `file_system`, by the channel's data source.
    pub source_type: Option<&'static str>,
    /// S3DataSource.S3Uri.
    pub s3_uri: Option<String>,
    /// S3DataSource.S3DataType (`S3Prefix`).
    pub s3_data_type: Option<String>,
    /// S3DataSource.S3DataDistributionType (`FullyReplicated`).
    pub s3_distribution: Option<String>,
    /// FileSystemDataSource.FileSystemType (`EFS`, `FSxLustre`).
    pub file_system_type: Option<String>,
    /// FileSystemDataSource.FileSystemId.
    pub file_system_id: Option<String>,
    /// FileSystemDataSource.DirectoryPath.
    pub directory_path: Option<String>,
}

/// One of SageMaker's final metric values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalMetric {
    /// Metric name.
    pub name: String,
    /// Its value.
    pub value: Option<f64>,
}

impl JobSummary {
    /// The summary of `d`; `lines` are its logs (read only for Completed jobs).
    pub fn new(d: &DescribeTrainingJobOutput, lines: &[LogLine]) -> Self {
        let name = d.training_job_name().unwrap_or_default().to_owned();
        let status = d.training_job_status().map(|s| s.as_str().to_owned());
        let spot = d.enable_managed_spot_training() == Some(true);
        let stopping = d.stopping_condition();
        let training_seconds = d.training_time_in_seconds();
        let billable_seconds = d.billable_time_in_seconds();
        let spot_savings_percent = match (training_seconds, billable_seconds) {
            (Some(t), Some(b)) if spot && t > 0 => {
                Some(((1.0 - f64::from(b) / f64::from(t)) * 1000.0).round() / 10.0)
            }
            _ => None,
        };
        let (model_uri, model_ready) = match (
            d.model_artifacts().and_then(|m| m.s3_model_artifacts()),
            d.output_data_config().and_then(|o| o.s3_output_path()),
        ) {
            (Some(model), _) => (Some(model.to_owned()), true),
            (None, Some(path)) => (Some(super::request::model_uri(path, &name)), false),
            (None, None) => (None, false),
        };
        let completed = status.as_deref() == Some("Completed");
        // The aws-samples entrypoint exits 0 even when training failed: the logs tell.
        let evidence: Vec<LogLine> = if completed {
            failure_evidence(lines)
                .into_iter()
                .take(MAX_EVIDENCE)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        Self {
            arn: d.training_job_arn().map(str::to_owned),
            secondary_status: d.secondary_status().map(|s| s.as_str().to_owned()),
            failure_reason: d.failure_reason().map(str::to_owned),
            instances: d.resource_config().map(|rc| Instances {
                instance_type: rc.instance_type().map(|t| t.as_str().to_owned()),
                count: rc.instance_count(),
                volume_gib: rc.volume_size_in_gb(),
            }),
            spot,
            max_run_seconds: stopping.and_then(|c| c.max_runtime_in_seconds()),
            max_wait_seconds: stopping.and_then(|c| c.max_wait_time_in_seconds()),
            created: d.creation_time().and_then(rfc3339),
            started: d.training_start_time().and_then(rfc3339),
            ended: d.training_end_time().and_then(rfc3339),
            channels: d.input_data_config().iter().map(channel_summary).collect(),
            hyperparameters: d
                .hyper_parameters()
                .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            training_seconds,
            billable_seconds,
            spot_savings_percent,
            final_metrics: d
                .final_metric_data_list()
                .iter()
                .map(|m| FinalMetric {
                    name: m.metric_name().unwrap_or_default().to_owned(),
                    // SageMaker sends a float32: through its shortest decimal text, 0.374
                    // stays 0.374 instead of becoming 0.37400001287460327.
                    value: m.value().and_then(|v| v.to_string().parse().ok()),
                })
                .collect(),
            log_group: LOG_GROUP,
            log_streams: format!("{name}/algo-*"),
            model_uri,
            model_ready,
            succeeded: completed && evidence.is_empty(),
            suspect: !evidence.is_empty(),
            failure_evidence: evidence,
            status,
            name,
        }
    }

    /// The summary as aligned `key: value` lines.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        writeln!(out, "job:       {}", self.name)?;
        writeln!(
            out,
            "status:    {} ({})",
            self.status.as_deref().unwrap_or("Unknown"),
            dash(&self.secondary_status)
        )?;
        if let Some(reason) = &self.failure_reason {
            writeln!(out, "failure:   {reason}")?;
        }
        if let Some(i) = &self.instances {
            writeln!(
                out,
                "instances: {} x {}, {} GiB volume each",
                i.count.unwrap_or_default(),
                dash(&i.instance_type),
                i.volume_gib.unwrap_or_default()
            )?;
        }
        writeln!(
            out,
            "capacity:  {}, at most {} s of training{}",
            if self.spot {
                "managed spot"
            } else {
                "on demand"
            },
            self.max_run_seconds
                .map_or("-".to_owned(), |s| s.to_string()),
            match self.max_wait_seconds {
                Some(w) if self.spot => format!(", {w} s with waiting for capacity"),
                _ => String::new(),
            }
        )?;
        writeln!(
            out,
            "started:   {}  ended: {}",
            dash(&self.started),
            dash(&self.ended)
        )?;
        for channel in &self.channels {
            writeln!(
                out,
                "channel:   {} <- {}",
                channel.name.as_deref().unwrap_or("-"),
                channel.source_text()
            )?;
        }
        for (k, v) in &self.hyperparameters {
            writeln!(out, "param:     {k} = {v}")?;
        }
        let seconds = |t: Option<i32>| t.map_or("-".to_owned(), |t| format!("{t} s"));
        writeln!(
            out,
            "time:      {} training, {} billable",
            seconds(self.training_seconds),
            seconds(self.billable_seconds)
        )?;
        if let Some(saved) = self.spot_savings_percent {
            writeln!(out, "spot:      {saved:.1}% saved")?;
        }
        for m in &self.final_metrics {
            writeln!(
                out,
                "metric:    {} = {}",
                m.name,
                m.value.unwrap_or_default()
            )?;
        }
        writeln!(
            out,
            "logs:      CloudWatch Logs group {}, streams {}",
            self.log_group, self.log_streams
        )?;
        match &self.model_uri {
            Some(model) if self.model_ready => writeln!(out, "model:     {model}")?,
            Some(model) => writeln!(out, "model:     {model} (once the job completes)")?,
            None => {}
        }
        if self.suspect {
            writeln!(
                out,
                "SUSPECT:   SageMaker reports Completed, but the logs show the training process failed:"
            )?;
            for l in &self.failure_evidence {
                writeln!(out, "  [{}] {}", l.host, l.message)?;
            }
        }
        Ok(())
    }
}

/// Writes the summary of a job as text; `lines` are its logs (read only for Completed jobs).
/// True when the job really succeeded.
pub fn write_summary(
    d: &DescribeTrainingJobOutput,
    lines: &[LogLine],
    out: &mut dyn Write,
) -> io::Result<bool> {
    let summary = JobSummary::new(d, lines);
    summary.write_text(out)?;
    Ok(summary.succeeded)
}

/// A SageMaker time as RFC 3339.
fn rfc3339(t: &aws_sdk_sagemaker::primitives::DateTime) -> Option<String> {
    t.fmt(aws_sdk_sagemaker::primitives::DateTimeFormat::DateTime)
        .ok()
}

fn channel_summary(channel: &aws_sdk_sagemaker::types::Channel) -> ChannelSummary {
    let source = channel.data_source();
    let s3 = source.and_then(|s| s.s3_data_source());
    let fs = source.and_then(|s| s.file_system_data_source());
    ChannelSummary {
        name: channel.channel_name().map(str::to_owned),
        source_type: match (s3, fs) {
            (Some(_), _) => Some("s3"),
            (None, Some(_)) => Some("file_system"),
            (None, None) => None,
        },
        s3_uri: s3.and_then(|s| s.s3_uri()).map(str::to_owned),
        s3_data_type: s3
            .and_then(|s| s.s3_data_type())
            .map(|t| t.as_str().to_owned()),
        s3_distribution: s3
            .and_then(|s| s.s3_data_distribution_type())
            .map(|d| d.as_str().to_owned()),
        file_system_type: fs
            .and_then(|f| f.file_system_type())
            .map(|t| t.as_str().to_owned()),
        file_system_id: fs.and_then(|f| f.file_system_id()).map(str::to_owned),
        directory_path: fs.and_then(|f| f.directory_path()).map(str::to_owned),
    }
}

impl ChannelSummary {
    /// "s3://b/p/ (S3Prefix, FullyReplicated)", "EFS fs-... /path", "FSx fs-... /mount/path".
    fn source_text(&self) -> String {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        match self.source_type {
            Some("s3") => format!(
                "{} ({}{})",
                dash(&self.s3_uri),
                dash(&self.s3_data_type),
                self.s3_distribution
                    .as_deref()
                    .map(|d| format!(", {d}"))
                    .unwrap_or_default()
            ),
            Some(_) => format!(
                "{} {} {}",
                dash(&self.file_system_type),
                dash(&self.file_system_id),
                dash(&self.directory_path)
            ),
            None => "-".to_owned(),
        }
    }
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

    /// The JSON shape of docs/json-output.md: numbers as numbers (the float32 metric as its
    /// shortest decimal), times as RFC 3339, absent values null, evidence as log events.
    #[test]
    fn summary_json_has_numbers_times_and_nulls() {
        let mut d = answer(TrainingJobStatus::Completed, SecondaryStatus::Completed);
        d.enable_managed_spot_training = Some(true);
        d.training_time_in_seconds = Some(1000);
        d.billable_time_in_seconds = Some(333);
        d.training_start_time = Some(aws_sdk_sagemaker::primitives::DateTime::from_secs(
            1_795_000_000,
        ));
        d.final_metric_data_list = Some(vec![
            MetricData::builder()
                .metric_name("mAP(bbox)/IoU=0.5:0.95")
                .value(0.374)
                .build(),
        ]);
        let evidence = [LogLine {
            timestamp: 1_795_000_000_250,
            host: "algo-2".into(),
            message: "Traceback (most recent call last):".into(),
        }];
        let v = serde_json::to_value(JobSummary::new(&d, &evidence)).unwrap();
        assert_eq!(v["spot_savings_percent"], 66.7);
        assert_eq!(v["training_seconds"], 1000);
        assert_eq!(v["final_metrics"][0]["value"], 0.374);
        assert_eq!(v["started"], "2026-11-18T11:06:40Z");
        for absent in [
            "ended",
            "arn",
            "failure_reason",
            "instances",
            "max_run_seconds",
            "model_uri",
        ] {
            assert!(v.get(absent).is_some_and(|x| x.is_null()), "{absent}: {v}");
        }
        assert_eq!(v["channels"], serde_json::json!([]));
        assert_eq!(
            (v["succeeded"].clone(), v["suspect"].clone()),
            (false.into(), true.into())
        );
        assert_eq!(
            v["failure_evidence"],
            serde_json::json!([{"time": "2026-11-18T11:06:40.25Z", "host": "algo-2", "message": "Traceback (most recent call last):"}])
        );
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
