//! Where output goes. Commands never print directly: results go to `out` (stdout, meant for
//! pipes and scripts), status lines and diagnostics to `err` (stderr).

use std::fmt::Display;
use std::io::{self, Write};

/// The output sinks of one command run.
pub struct Printer {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    quiet: bool,
}

impl Printer {
    /// Standard output (buffered) and standard error.
    pub fn stdio(quiet: bool) -> Self {
        Self {
            out: Box::new(io::BufWriter::new(io::stdout())),
            err: Box::new(io::stderr()),
            quiet,
        }
    }

    /// Custom sinks, for tests.
    pub fn new(out: Box<dyn Write>, err: Box<dyn Write>, quiet: bool) -> Self {
        Self { out, err, quiet }
    }

    /// The result stream.
    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// The diagnostics stream; errors always go here, even with `--quiet`.
    pub fn err(&mut self) -> &mut dyn Write {
        &mut self.err
    }

    /// A status line on stderr, hidden by `--quiet`.
    pub fn status(&mut self, message: impl Display) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        writeln!(self.err, "{message}")
    }

    /// Flushes both streams.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }
}
