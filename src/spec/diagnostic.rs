//! Errors in a stack file, each pinned to a file, line, column and field path.

use std::fmt;
use std::path::PathBuf;

use super::locate::Location;

/// One problem in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the file.
    pub location: Location,
    /// Dotted field path (`network.vpc_cidr`); empty for the document itself.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What would be accepted.
    pub allowed: String,
}

impl Diagnostic {
    /// A problem at `path`, with the allowed values from the schema table.
    pub fn new(location: Location, path: impl Into<String>, message: impl Into<String>) -> Self {
        let path = path.into();
        let allowed = super::schema::allowed(&path).to_owned();
        Self {
            location,
            path,
            message: message.into(),
            allowed,
        }
    }

    /// Writes `file:line:col: path: message` and the allowed line.
    pub fn write(&self, file: &str, f: &mut impl fmt::Write) -> fmt::Result {
        let Location { line, column } = self.location;
        let field = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(
            f,
            "{file}:{line}:{column}: {field}: {}\n  allowed: {}",
            self.message, self.allowed
        )
    }
}

/// Why a stack file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read the stack file")]
    Read(#[source] std::io::Error),
    /// The file was read but is not a valid stack file.
    #[error("{}", render(.file, .diagnostics))]
    Invalid {
        /// The file as the user named it.
        file: String,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
    /// `stackctl init` would overwrite a file.
    #[error("`{}` already exists; pass --force to overwrite it", .0.display())]
    Exists(PathBuf),
}

fn render(file: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = match diagnostics.len() {
        1 => format!("invalid stack file `{file}`:\n"),
        n => format!("invalid stack file `{file}` ({n} problems):\n"),
    };
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = d.write(file, &mut out);
    }
    out
}
