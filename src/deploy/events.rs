//! Incremental DescribeStackEvents: each poll reads only events newer than the last one seen,
//! usually one page, instead of re-reading the stack's whole history.

use std::collections::HashSet;

use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::StackEvent;

use crate::aws::{Aws, AwsError};
use crate::report::ResourceEvent;

/// Reads a stack's new events, oldest first.
#[derive(Debug)]
pub struct EventPoller {
    stack_id: String,
    since: Option<DateTime>,
    seen: HashSet<String>,
}

impl EventPoller {
    /// Events of `stack_id` from `since` (the operation's start as CloudFormation reported it,
    /// so local clock skew does not matter).
    pub fn new(stack_id: impl Into<String>, since: Option<DateTime>) -> Self {
        Self {
            stack_id: stack_id.into(),
            since,
            seen: HashSet::new(),
        }
    }

    /// Ignores events at or before every event read so far (used before an operation starts).
    pub fn mark_all_seen(&mut self, events: &[StackEvent]) {
        for e in events {
            if let Some(id) = e.event_id() {
                self.seen.insert(id.to_owned());
            }
        }
    }

    /// New events since the last poll, oldest first. Pages newest-first and stops at the first
    /// event already seen or older than the start.
    pub async fn poll(&mut self, aws: &Aws) -> Result<Vec<StackEvent>, AwsError> {
        let mut fresh = Vec::new();
        let mut pages = aws
            .cfn
            .describe_stack_events()
            .stack_name(&self.stack_id)
            .into_paginator()
            .send();
        'pages: while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    let err = AwsError::from_sdk("DescribeStackEvents", err);
                    // Some endpoints forget a deleted stack's events; the caller's
                    // DescribeStacks then sees the stack gone.
                    if err.code() == Some("ValidationError")
                        && err.message().is_some_and(|m| m.contains("does not exist"))
                    {
                        break 'pages;
                    }
                    return Err(err);
                }
            };
            for event in page.stack_events() {
                let id = event.event_id().unwrap_or_default();
                let too_old = match (self.since, event.timestamp()) {
                    (Some(since), Some(ts)) => ts.secs() < since.secs(),
                    _ => false,
                };
                if self.seen.contains(id) || too_old {
                    break 'pages;
                }
                fresh.push(event.clone());
            }
        }
        for e in &fresh {
            if let Some(id) = e.event_id() {
                self.seen.insert(id.to_owned());
            }
        }
        fresh.reverse();
        Ok(fresh)
    }
}

/// The reporter's view of an event.
pub fn view(event: &StackEvent) -> ResourceEvent {
    ResourceEvent {
        time: event
            .timestamp()
            .and_then(|t| {
                t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
                    .ok()
            })
            .unwrap_or_default(),
        logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: event.resource_type().unwrap_or_default().to_owned(),
        status: event
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: event
            .resource_status_reason()
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
    }
}
