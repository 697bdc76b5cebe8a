//! Progress and results of long operations. Domain code talks to the [`Reporter`] trait;
//! three implementations render it: indicatif bars on a terminal ([`progress`]), one plain line
//! per event otherwise ([`plain`]), and NDJSON with `--output json` ([`json`]).

pub mod json;
pub mod plain;
pub mod progress;
pub mod transfer;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat};

/// One CloudFormation resource event, as stackctl shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceEvent {
    /// Event time (RFC 3339).
    pub time: String,
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Status, e.g. `CREATE_IN_PROGRESS`.
    pub status: String,
    /// CloudFormation's reason, if any.
    pub reason: Option<String>,
}

impl ResourceEvent {
    /// True for `*_FAILED` statuses.
    pub fn is_failure(&self) -> bool {
        self.status.ends_with("_FAILED")
    }

    /// True for `*_IN_PROGRESS` statuses.
    pub fn is_in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Add, Modify, Remove, Import or Dynamic.
    pub action: String,
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// True, False or Conditional (Modify only).
    pub replacement: Option<String>,
    /// Properties whose change causes the replacement or modification.
    pub causes: Vec<String>,
    /// True when this change needs confirmation (stateful replacement or removal, IAM).
    pub needs_confirmation: bool,
}

/// How an operation ended.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Stack name.
    pub stack: String,
    /// The account, region and endpoint it acted on.
    #[serde(flatten)]
    pub target: crate::deploy::target::Target,
    /// Final stack status, or `NO_CHANGES`, `DELETED`, `ABSENT`.
    pub status: String,
    /// True when the operation reached its goal.
    pub success: bool,
    /// Stack outputs.
    pub outputs: BTreeMap<String, String>,
    /// Wall time in seconds.
    pub duration_seconds: f64,
    /// AWS API operations this run made.
    pub api_calls: u64,
    /// The root cause of a failure, first.
    pub failures: Vec<ResourceEvent>,
    /// Things worth knowing afterwards (kept resources, commands to run).
    pub notes: Vec<String>,
}

/// Receives the progress of a stack operation.
pub trait Reporter: Send + Sync {
    /// Where `command` acts on `stack`, said before it asks or changes anything.
    fn target(&self, command: &str, stack: &str, target: &crate::deploy::target::Target);
    /// Something the user should know (a recovery step, a decision).
    fn notice(&self, message: &str);
    /// The change set about to be executed.
    fn change_set(&self, changes: &[Change]);
    /// An operation starts; `total` resources are expected to change.
    fn operation_started(&self, operation: &str, total: usize);
    /// A resource event arrived.
    fn resource_event(&self, event: &ResourceEvent);
    /// Still waiting; called about every 30 s without other output.
    fn heartbeat(&self, elapsed: Duration, done: usize, total: usize, in_progress: &[String]);
    /// The operation ended.
    fn finished(&self, outcome: &Outcome);
}

/// Picks the reporter for the output format, the flags and the terminal
/// ([`GlobalArgs::progress_bars`]).
pub fn for_output(global: &GlobalArgs) -> Box<dyn Reporter> {
    match global.output {
        OutputFormat::Json => Box::new(json::JsonReporter::stdout()),
        OutputFormat::Text if global.progress_bars() => Box::new(progress::ProgressReporter::new()),
        OutputFormat::Text => Box::new(plain::PlainReporter::stderr(global.quiet)),
    }
}

/// `1 resource`, `28 resources`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a list of changes is: a plain create or delete says so, anything else is a change set.
pub fn change_heading(changes: &[Change]) -> String {
    let all = |action: &str| !changes.is_empty() && changes.iter().all(|c| c.action == action);
    if all("Add") {
        format!("creates {}", count(changes.len(), "resource", "resources"))
    } else if all("Remove") {
        format!("deletes {}", count(changes.len(), "resource", "resources"))
    } else {
        format!("change set ({})", count(changes.len(), "change", "changes"))
    }
}

/// The change set as a table (used by the plain and progress reporters and by `plan`). Rows
/// that need confirmation are marked `*` once, explained in a note under the table.
pub fn change_table(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "  (no resource changes)\n".to_owned();
    }
    let rows: Vec<[String; 5]> = changes
        .iter()
        .map(|c| {
            [
                if c.needs_confirmation {
                    format!("{}*", c.action)
                } else {
                    c.action.clone()
                },
                c.logical_id.clone(),
                c.resource_type.clone(),
                c.replacement.clone().unwrap_or_else(|| "-".to_owned()),
                c.causes.join(", "),
            ]
        })
        .collect();
    let mut text = crate::table::table(
        ["ACTION", "LOGICAL ID", "TYPE", "REPLACEMENT", "CAUSED BY"],
        &rows,
    );
    let confirm = changes.iter().filter(|c| c.needs_confirmation).count();
    if confirm > 0 {
        text.push_str(&format!(
            "  * needs confirmation ({}: IAM, or a stateful resource replaced or removed)\n",
            count(confirm, "change", "changes")
        ));
    }
    text
}

/// A short human summary of an outcome, shared by the text reporters.
pub fn outcome_text(outcome: &Outcome) -> String {
    let mut text = format!(
        "{}: {} in {:.1} s ({} API calls)\n",
        outcome.stack, outcome.status, outcome.duration_seconds, outcome.api_calls
    );
    if let Some((root, rest)) = outcome.failures.split_first() {
        text.push_str(&format!(
            "root cause: {} ({}) {}: {}\n",
            root.logical_id,
            root.resource_type,
            root.status,
            root.reason.as_deref().unwrap_or("no reason given")
        ));
        for f in rest {
            text.push_str(&format!(
                "  then: {} ({}) {}: {}\n",
                f.logical_id,
                f.resource_type,
                f.status,
                f.reason.as_deref().unwrap_or("")
            ));
        }
    }
    for note in &outcome.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text
}
