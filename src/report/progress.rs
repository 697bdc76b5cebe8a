//! indicatif bars on a terminal: overall resources done of total, and one line per resource in
//! progress with its elapsed time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::deploy::target::Target;

use super::{Change, Outcome, Reporter, ResourceEvent, change_table, outcome_text};

/// Live bars on stderr.
pub struct ProgressReporter {
    multi: MultiProgress,
    overall: Mutex<Option<ProgressBar>>,
    resources: Mutex<HashMap<String, ProgressBar>>,
}

impl Default for ProgressReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressReporter {
    /// Bars drawn on stderr.
    pub fn new() -> Self {
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            overall: Mutex::new(None),
            resources: Mutex::new(HashMap::new()),
        }
    }

    fn println(&self, text: &str) {
        let _ = self.multi.println(text.trim_end());
    }
}

impl Reporter for ProgressReporter {
    fn target(&self, command: &str, stack: &str, target: &Target) {
        self.println(&target.line(command, stack));
    }

    fn notice(&self, message: &str) {
        self.println(&format!("notice: {message}"));
    }

    fn change_set(&self, changes: &[Change]) {
        self.println(&format!(
            "{}:\n{}",
            super::change_heading(changes),
            change_table(changes)
        ));
    }

    fn operation_started(&self, operation: &str, total: usize) {
        let bar = self.multi.add(ProgressBar::new(total as u64));
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} resources, {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(operation.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.overall.lock().expect("lock") = Some(bar);
    }

    fn resource_event(&self, e: &ResourceEvent) {
        let mut resources = self.resources.lock().expect("lock");
        if e.is_in_progress() {
            let bar = resources.entry(e.logical_id.clone()).or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            });
            bar.set_message(format!(
                "{} ({}) {}",
                e.logical_id, e.resource_type, e.status
            ));
        } else {
            if let Some(bar) = resources.remove(&e.logical_id) {
                bar.finish_and_clear();
            }
            // The stack's own events are not resources of the operation.
            if e.resource_type != crate::deploy::wait::STACK_TYPE
                && let Some(overall) = self.overall.lock().expect("lock").as_ref()
            {
                overall.inc(1);
            }
            let reason = e
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            self.println(&format!(
                "{} {} ({}){reason}",
                e.status, e.logical_id, e.resource_type
            ));
        }
    }

    fn heartbeat(&self, _: Duration, _: usize, _: usize, _: &[String]) {
        // The bars show elapsed time continuously.
    }

    fn finished(&self, outcome: &Outcome) {
        for (_, bar) in self.resources.lock().expect("lock").drain() {
            bar.finish_and_clear();
        }
        if let Some(bar) = self.overall.lock().expect("lock").take() {
            bar.finish_and_clear();
        }
        self.println(&outcome_text(outcome));
    }
}
