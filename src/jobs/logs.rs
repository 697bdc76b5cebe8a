//! Training job logs: every host's CloudWatch stream (`/aws/sagemaker/TrainingJobs`,
//! `<job>/algo-N-...`) merged in time order with a host prefix. Each stream is read with
//! GetLogEvents from its last forward token (the same token twice means the end for now);
//! streams that appear later are picked up on the next round.

use std::collections::BTreeMap;

use crate::aws::{Aws, AwsError};

/// SageMaker's log group for training jobs.
pub const LOG_GROUP: &str = "/aws/sagemaker/TrainingJobs";

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogLine {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Host (`algo-1`), from the stream name.
    pub host: String,
    /// The message.
    pub message: String,
}

/// Milliseconds since the epoch as RFC 3339 (`2026-12-02T03:05:00.123Z`).
pub fn rfc3339_millis(ms: i64) -> String {
    aws_sdk_sagemaker::primitives::DateTime::from_millis(ms)
        .fmt(aws_sdk_sagemaker::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// The JSON shape of one log event (`job logs --output json`, a suspect job's evidence):
/// `{"time": RFC 3339, "host": "algo-1", "message": "..."}`.
impl serde::Serialize for LogLine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("LogLine", 3)?;
        s.serialize_field("time", &rfc3339_millis(self.timestamp))?;
        s.serialize_field("host", &self.host)?;
        s.serialize_field("message", &self.message)?;
        s.end()
    }
}

/// Reads a job's streams incrementally.
#[derive(Debug, Default)]
pub struct LogReader {
    tokens: BTreeMap<String, Option<String>>,
    /// Only this host's stream (`algo-2`).
    host: Option<String>,
    /// Only events from this time on (milliseconds since the epoch; GetLogEvents startTime).
    start_ms: Option<i64>,
    /// Streams seen so far (to tell "no streams yet" from "nothing new").
    streams_seen: usize,
}

/// What `job logs` was asked to show.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// `--since`: only the last this long.
    pub since: Option<std::time::Duration>,
    /// `--tail N`: only the last N lines of the first read.
    pub tail: Option<usize>,
    /// `--host algo-N`.
    pub host: Option<String>,
}

/// `mask-rcnn-1/algo-1-1700000000` -> `algo-1`.
pub fn host_of(stream: &str) -> String {
    let tail = stream.rsplit_once('/').map_or(stream, |(_, t)| t);
    let mut parts = tail.splitn(3, '-');
    match (parts.next(), parts.next()) {
        (Some(a), Some(n)) => format!("{a}-{n}"),
        _ => tail.to_owned(),
    }
}

impl LogReader {
    /// A reader limited to `filter`'s host and time (the tail is the caller's: it applies to
    /// the first read only).
    pub fn with_filter(filter: &LogFilter) -> Self {
        let start_ms = filter.since.map(|since| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            now.saturating_sub(since).as_millis() as i64
        });
        Self {
            host: filter.host.clone(),
            start_ms,
            ..Self::default()
        }
    }

    /// How many of the job's log streams (one per host) exist so far.
    pub fn streams_seen(&self) -> usize {
        self.streams_seen
    }

    /// New lines of `job` since the last call, merged in time order. Missing group or
    /// streams (the job has not logged yet) are no lines, not an error.
    pub async fn poll(&mut self, aws: &Aws, job: &str) -> Result<Vec<LogLine>, AwsError> {
        let mut streams = Vec::new();
        let mut pages = aws
            .logs
            .describe_log_streams()
            .log_group_name(LOG_GROUP)
            .log_stream_name_prefix(format!("{job}/"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => streams.extend(
                    page.log_streams()
                        .iter()
                        .filter_map(|s| s.log_stream_name().map(str::to_owned)),
                ),
                Err(err) => {
                    let err = AwsError::from_sdk("DescribeLogStreams", err);
                    if err.code() == Some("ResourceNotFoundException") {
                        return Ok(Vec::new());
                    }
                    return Err(err);
                }
            }
        }
        if let Some(only) = &self.host {
            streams.retain(|s| host_of(s) == *only);
        }
        self.streams_seen = self.streams_seen.max(streams.len());
        let mut lines = Vec::new();
        for stream in streams {
            let host = host_of(&stream);
            loop {
                let token = self.tokens.get(&stream).cloned().flatten();
                let out = aws
                    .logs
                    .get_log_events()
                    .log_group_name(LOG_GROUP)
                    .log_stream_name(&stream)
                    .start_from_head(true)
                    .set_start_time(self.start_ms)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetLogEvents", e))?;
                let events = out.events();
                lines.extend(events.iter().map(|e| LogLine {
                    timestamp: e.timestamp().unwrap_or_default(),
                    host: host.clone(),
                    message: e.message().unwrap_or_default().trim_end().to_owned(),
                }));
                let next = out.next_forward_token().map(str::to_owned);
                let at_end = events.is_empty() || next == token;
                self.tokens.insert(stream.clone(), next);
                if at_end {
                    break;
                }
            }
        }
        lines.sort();
        Ok(lines)
    }
}

/// Log lines that show the training process failed even when SageMaker says Completed (the
/// aws-samples entrypoint forces exit code 0 after mpirun).
pub fn failure_evidence(lines: &[LogLine]) -> Vec<&LogLine> {
    const MARKERS: &[&str] = &[
        "Traceback (most recent call last)",
        "mpirun noticed that process",
        "exited on signal",
        "Primary job  terminated normally, but 1 process returned",
        "CUDA out of memory",
        "ResourceExhaustedError",
        "Segmentation fault",
        "Killed",
    ];
    lines
        .iter()
        .filter(|l| MARKERS.iter().any(|m| l.message.contains(m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_failure_evidence() {
        assert_eq!(host_of("job-1/algo-2-1700000000"), "algo-2");
        assert_eq!(host_of("job-1/algo-10-1700000000"), "algo-10");
        let lines = vec![
            LogLine {
                timestamp: 1,
                host: "algo-1".into(),
                message: "step 1".into(),
            },
            LogLine {
                timestamp: 2,
                host: "algo-2".into(),
                message: "Traceback (most recent call last):".into(),
            },
            LogLine {
                timestamp: 3,
                host: "algo-1".into(),
                message: "mpirun noticed that process rank 3 exited".into(),
            },
        ];
        let evidence: Vec<i64> = failure_evidence(&lines)
            .iter()
            .map(|l| l.timestamp)
            .collect();
        assert_eq!(evidence, [2, 3]);
    }
}
