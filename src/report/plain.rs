//! One plain line per event, for logs and pipes (no terminal).

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::deploy::target::Target;

use super::{Change, Outcome, Reporter, ResourceEvent, change_table, outcome_text};

/// Writes plain lines to a sink (stderr by default).
pub struct PlainReporter {
    out: Mutex<Box<dyn Write + Send>>,
    quiet: bool,
}

impl PlainReporter {
    /// Lines on stderr; `quiet` keeps only failures and the outcome.
    pub fn stderr(quiet: bool) -> Self {
        Self::new(Box::new(std::io::stderr()), quiet)
    }

    /// Lines on any sink (tests).
    pub fn new(out: Box<dyn Write + Send>, quiet: bool) -> Self {
        Self {
            out: Mutex::new(out),
            quiet,
        }
    }

    fn line(&self, text: &str) {
        let mut out = self.out.lock().expect("reporter lock");
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }
}

impl Reporter for PlainReporter {
    fn target(&self, command: &str, stack: &str, target: &Target) {
        if !self.quiet {
            self.line(&target.line(command, stack));
        }
    }

    fn notice(&self, message: &str) {
        self.line(&format!("notice: {message}"));
    }

    fn change_set(&self, changes: &[Change]) {
        if !self.quiet {
            self.line(&format!(
                "{}:\n{}",
                super::change_heading(changes),
                change_table(changes)
            ));
        }
    }

    fn operation_started(&self, operation: &str, total: usize) {
        if !self.quiet {
            self.line(&format!("{operation}: {total} resources to change"));
        }
    }

    fn resource_event(&self, e: &ResourceEvent) {
        if self.quiet && !e.is_failure() {
            return;
        }
        let reason = e
            .reason
            .as_deref()
            .map(|r| format!("  {r}"))
            .unwrap_or_default();
        self.line(&format!(
            "{}  {:<28} {:<40} {}{reason}",
            e.time, e.status, e.resource_type, e.logical_id
        ));
    }

    fn heartbeat(&self, elapsed: Duration, done: usize, total: usize, in_progress: &[String]) {
        if !self.quiet {
            let what = if in_progress.is_empty() {
                String::new()
            } else {
                format!("; in progress: {}", in_progress.join(", "))
            };
            self.line(&format!(
                "still waiting after {} s: {done} of {total} resources done{what}",
                elapsed.as_secs()
            ));
        }
    }

    fn finished(&self, outcome: &Outcome) {
        self.line(&outcome_text(outcome));
    }
}
