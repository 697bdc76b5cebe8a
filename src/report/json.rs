//! NDJSON on stdout: one object per event, then one `result` object.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use crate::deploy::target::Target;

use super::{Change, Outcome, Reporter, ResourceEvent};

/// Writes one JSON object per line.
pub struct JsonReporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonReporter {
    /// NDJSON on stdout.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    /// NDJSON on any sink (tests).
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    fn emit(&self, value: serde_json::Value) {
        let mut out = self.out.lock().expect("reporter lock");
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }
}

impl Reporter for JsonReporter {
    fn target(&self, command: &str, stack: &str, target: &Target) {
        let mut value = serde_json::to_value(target).unwrap_or_default();
        value["event"] = json!("target");
        value["command"] = json!(command);
        value["stack"] = json!(stack);
        self.emit(value);
    }

    fn notice(&self, message: &str) {
        self.emit(json!({"event": "notice", "message": message}));
    }

    fn change_set(&self, changes: &[Change]) {
        self.emit(json!({"event": "change_set", "changes": changes}));
    }

    fn operation_started(&self, operation: &str, total: usize) {
        self.emit(json!({"event": "operation", "operation": operation, "total": total}));
    }

    fn resource_event(&self, e: &ResourceEvent) {
        let mut value = serde_json::to_value(e).unwrap_or_default();
        value["event"] = json!("resource");
        self.emit(value);
    }

    fn heartbeat(&self, elapsed: Duration, done: usize, total: usize, in_progress: &[String]) {
        self.emit(json!({
            "event": "heartbeat",
            "elapsed_seconds": elapsed.as_secs(),
            "done": done,
            "total": total,
            "in_progress": in_progress,
        }));
    }

    fn finished(&self, outcome: &Outcome) {
        let mut value = serde_json::to_value(outcome).unwrap_or_default();
        value["event"] = json!("result");
        self.emit(value);
    }
}
