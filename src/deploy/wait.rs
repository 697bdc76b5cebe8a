//! Waiting for a stack operation: one DescribeStackEvents call per poll interval (incremental,
//! so usually one page), a DescribeStacks every few polls as a safety net, and the terminal
//! state noticed on the first poll after it happens.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_cloudformation::primitives::DateTime;
use tokio::time::Instant;

use super::events::{EventPoller, view};
use super::stack::{self, Phase, StackInfo};
use crate::aws::{Aws, AwsError};
use crate::report::{Reporter, ResourceEvent};

/// The stack's own resource type in its events.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// Polling intervals.
#[derive(Debug, Clone, Copy)]
pub struct WaitSettings {
    /// Time between polls (one API call each).
    pub poll: Duration,
    /// Every how many polls DescribeStacks confirms the status.
    pub describe_every: u32,
    /// Heartbeat interval when nothing else is printed.
    pub heartbeat: Duration,
}

impl Default for WaitSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            describe_every: 10,
            heartbeat: Duration::from_secs(30),
        }
    }
}

/// How the wait ended.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The stack afterwards; `None` when it no longer exists.
    pub stack: Option<StackInfo>,
    /// Every event of the operation, oldest first.
    pub events: Vec<ResourceEvent>,
}

/// Waits until the stack `stack_id` (named `stack_name`) is no longer in progress, reporting
/// each event. `total` is the number of resources the operation is expected to touch.
pub async fn until_settled(
    aws: &Aws,
    stack_id: &str,
    stack_name: &str,
    since: Option<DateTime>,
    total: usize,
    reporter: &dyn Reporter,
    settings: WaitSettings,
) -> Result<Settled, AwsError> {
    let mut poller = EventPoller::new(stack_id, since);
    let started = Instant::now();
    let mut last_output = Instant::now();
    let mut events: Vec<ResourceEvent> = Vec::new();
    let mut in_progress: BTreeMap<String, ()> = BTreeMap::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut polls: u32 = 0;
    loop {
        let fresh = poller.poll(aws).await?;
        let mut terminal_seen = false;
        for event in &fresh {
            let v = view(event);
            let is_stack = v.resource_type == STACK_TYPE && v.logical_id == stack_name;
            if is_stack {
                terminal_seen |= stack::is_terminal(&v.status);
            } else if v.is_in_progress() {
                in_progress.insert(v.logical_id.clone(), ());
            } else {
                in_progress.remove(&v.logical_id);
                done.insert(v.logical_id.clone());
            }
            reporter.resource_event(&v);
            events.push(v);
            last_output = Instant::now();
        }
        polls += 1;
        if terminal_seen || polls % settings.describe_every.max(1) == 1 {
            let info = stack::describe(aws, stack_id).await?;
            let settled = info.as_ref().is_none_or(|s| s.phase() != Phase::InProgress);
            if settled {
                // A last read so no failure reason is lost.
                for event in poller.poll(aws).await? {
                    let v = view(&event);
                    reporter.resource_event(&v);
                    events.push(v);
                }
                return Ok(Settled {
                    stack: info,
                    events,
                });
            }
        }
        if last_output.elapsed() >= settings.heartbeat {
            let names: Vec<String> = in_progress.keys().cloned().collect();
            reporter.heartbeat(started.elapsed(), done.len(), total, &names);
            last_output = Instant::now();
        }
        tokio::time::sleep(settings.poll).await;
    }
}
