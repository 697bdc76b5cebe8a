//! Progress of transfers (uploads, downloads, copies) in files and bytes: an indicatif bar with
//! rate and ETA on a terminal, a plain line every few seconds otherwise, nothing for JSON.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{GlobalArgs, OutputFormat};

/// Receives the progress of one transfer at a time. Called from many tasks at once.
pub trait TransferReporter: Send + Sync {
    /// A transfer starts: `files` files (0 when unknown) and `bytes` bytes (0 when unknown).
    fn begin(&self, what: &str, files: u64, bytes: u64);
    /// `bytes` more bytes are done (sent, received, or found identical).
    fn advance(&self, bytes: u64);
    /// Sets the absolute progress (for services that report totals, like DataSync).
    fn set(&self, files: u64, bytes: u64, total_bytes: u64);
    /// One more file is done.
    fn file_done(&self);
    /// A line of text above the bar.
    fn note(&self, text: &str);
    /// The transfer ended.
    fn end(&self);
}

/// Picks the reporter for the output format and terminal.
pub fn for_output(global: &GlobalArgs) -> Box<dyn TransferReporter> {
    match global.output {
        OutputFormat::Json => Box::new(Silent),
        OutputFormat::Text if global.quiet => Box::new(Silent),
        OutputFormat::Text if global.progress_bars() => Box::new(Bar::new()),
        OutputFormat::Text => Box::new(Plain::new(
            Box::new(std::io::stderr()),
            Duration::from_secs(10),
        )),
    }
}

/// Reports nothing.
pub struct Silent;

impl TransferReporter for Silent {
    fn begin(&self, _: &str, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
    fn set(&self, _: u64, _: u64, _: u64) {}
    fn file_done(&self) {}
    fn note(&self, _: &str) {}
    fn end(&self) {}
}

#[derive(Default)]
struct Counts {
    files: AtomicU64,
    files_total: AtomicU64,
    bytes: AtomicU64,
    bytes_total: AtomicU64,
}

impl Counts {
    fn reset(&self, files: u64, bytes: u64) {
        self.files.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        self.files_total.store(files, Ordering::Relaxed);
        self.bytes_total.store(bytes, Ordering::Relaxed);
    }

    fn files_text(&self) -> String {
        let done = self.files.load(Ordering::Relaxed);
        match self.files_total.load(Ordering::Relaxed) {
            0 => format!("{done} files"),
            total => format!("{done}/{total} files"),
        }
    }
}

/// An indicatif bar on stderr.
pub struct Bar {
    bar: ProgressBar,
    counts: Counts,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:24}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {prefix}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self {
            bar,
            counts: Counts::default(),
        }
    }
}

impl TransferReporter for Bar {
    fn begin(&self, what: &str, files: u64, bytes: u64) {
        self.counts.reset(files, bytes);
        self.bar.reset();
        self.bar.set_length(bytes);
        self.bar.set_position(0);
        self.bar.set_message(what.to_owned());
        self.bar.set_prefix(self.counts.files_text());
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn set(&self, files: u64, bytes: u64, total_bytes: u64) {
        self.counts.files.store(files, Ordering::Relaxed);
        if total_bytes > 0 {
            self.bar.set_length(total_bytes);
        }
        self.bar.set_position(bytes);
        self.bar.set_prefix(self.counts.files_text());
    }

    fn file_done(&self) {
        self.counts.files.fetch_add(1, Ordering::Relaxed);
        self.bar.set_prefix(self.counts.files_text());
    }

    fn note(&self, text: &str) {
        self.bar.println(text);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}

/// Plain lines: one at the start, one every `every`, one at the end.
pub struct Plain {
    out: Mutex<Box<dyn Write + Send>>,
    every: Duration,
    counts: Counts,
    state: Mutex<PlainState>,
}

struct PlainState {
    what: String,
    started: Instant,
    last_line: Instant,
}

impl Plain {
    /// Lines on `out`, at most one per `every` while the transfer runs.
    pub fn new(out: Box<dyn Write + Send>, every: Duration) -> Self {
        let now = Instant::now();
        Self {
            out: Mutex::new(out),
            every,
            counts: Counts::default(),
            state: Mutex::new(PlainState {
                what: String::new(),
                started: now,
                last_line: now,
            }),
        }
    }

    fn line(&self, text: &str) {
        let mut out = self.out.lock().expect("reporter lock");
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn progress_line(&self, state: &PlainState) -> String {
        let bytes = self.counts.bytes.load(Ordering::Relaxed);
        let total = self.counts.bytes_total.load(Ordering::Relaxed);
        let secs = state.started.elapsed().as_secs_f64().max(1e-3);
        let rate = bytes as f64 / secs;
        let mut text = format!(
            "{}: {}, {}",
            state.what,
            self.counts.files_text(),
            human_bytes(bytes)
        );
        if total > 0 {
            text.push_str(&format!(" of {}", human_bytes(total)));
        }
        text.push_str(&format!(", {}/s", human_bytes(rate as u64)));
        if total > bytes && rate > 0.0 {
            text.push_str(&format!(", eta {:.0} s", (total - bytes) as f64 / rate));
        }
        text
    }

    fn maybe_line(&self) {
        let mut state = self.state.lock().expect("reporter lock");
        if state.last_line.elapsed() >= self.every {
            state.last_line = Instant::now();
            let text = self.progress_line(&state);
            drop(state);
            self.line(&text);
        }
    }
}

impl TransferReporter for Plain {
    fn begin(&self, what: &str, files: u64, bytes: u64) {
        self.counts.reset(files, bytes);
        let mut state = self.state.lock().expect("reporter lock");
        state.what = what.to_owned();
        state.started = Instant::now();
        state.last_line = state.started;
        drop(state);
        let mut text = format!("{what}: starting");
        if files > 0 {
            text.push_str(&format!(", {files} files"));
        }
        if bytes > 0 {
            text.push_str(&format!(", {}", human_bytes(bytes)));
        }
        self.line(&text);
    }

    fn advance(&self, bytes: u64) {
        self.counts.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.maybe_line();
    }

    fn set(&self, files: u64, bytes: u64, total_bytes: u64) {
        self.counts.files.store(files, Ordering::Relaxed);
        self.counts.bytes.store(bytes, Ordering::Relaxed);
        if total_bytes > 0 {
            self.counts
                .bytes_total
                .store(total_bytes, Ordering::Relaxed);
        }
        self.maybe_line();
    }

    fn file_done(&self) {
        self.counts.files.fetch_add(1, Ordering::Relaxed);
        self.maybe_line();
    }

    fn note(&self, text: &str) {
        self.line(text);
    }

    fn end(&self) {
        let state = self.state.lock().expect("reporter lock");
        let text = format!(
            "{} in {:.1} s",
            self.progress_line(&state),
            state.started.elapsed().as_secs_f64()
        );
        drop(state);
        self.line(&text);
    }
}

/// Bytes in binary units, one decimal (`1.5 GiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_count_files_and_bytes() {
        let sink = Sink::default();
        let plain = Plain::new(Box::new(sink.clone()), Duration::ZERO);
        plain.begin("upload", 2, 3 * 1024 * 1024);
        plain.advance(1024 * 1024);
        plain.file_done();
        plain.end();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "upload: starting, 2 files, 3.0 MiB");
        assert!(
            lines[1].starts_with("upload: 0/2 files, 1.0 MiB of 3.0 MiB, "),
            "{text}"
        );
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("upload: 1/2 files, 1.0 MiB of 3.0 MiB"),
            "{text}"
        );
        assert!(lines.last().unwrap().contains(" in "), "{text}");
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(450 * 1024 * 1024), "450.0 MiB");
    }
}
