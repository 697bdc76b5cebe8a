//! The stack file: reading, checking and resolving it into a [`StackSpec`].
//!
//! `stacks/default.yaml` is embedded in the binary and used whenever no `--stack FILE` is given.
//! A file goes through three steps, all before any AWS call:
//! 1. serde reads it into [`file::StackFile`]; each scalar type checks itself
//!    (`scalars.rs`), so syntax, type, unknown-key and single-value errors carry serde_yaml's
//!    line and column;
//! 2. `validate.rs` checks what spans several fields and fills in defaults;
//! 3. every problem is reported with file, line:column, field path and what is allowed.

mod diagnostic;
pub mod edit;
pub mod file;
mod locate;
pub mod scalars;
pub mod schema;
mod validate;

use std::path::Path;

pub use diagnostic::{Diagnostic, SpecError};
pub use locate::{Location, LocationIndex};
pub use validate::{CreatedNetwork, Efs, Fsx, Network, Notebook, StackSpec};

use file::StackFile;

/// The embedded default stack file, byte for byte what `stackctl init` writes.
pub const DEFAULT_STACK_FILE: &str = include_str!("../../stacks/default.yaml");

/// The stack file `stackctl init` writes and every command reads from the working directory
/// when `--stack` is not given.
pub const LOCAL_STACK_FILE: &str = "stackctl.yaml";

/// How the embedded default stack file is named in messages.
pub const DEFAULT_STACK_NAME: &str = "<embedded stacks/default.yaml>";

/// The text of a stack file and the name to use for it in messages.
#[derive(Debug, Clone)]
pub struct SpecSource {
    /// The path as the user gave it, or [`DEFAULT_STACK_NAME`].
    pub display: String,
    /// The file's contents.
    pub text: String,
    /// The file it was read from; `None` for the embedded default.
    pub path: Option<std::path::PathBuf>,
}

impl SpecSource {
    /// The embedded default stack file.
    pub fn embedded_default() -> Self {
        Self {
            display: DEFAULT_STACK_NAME.to_owned(),
            text: DEFAULT_STACK_FILE.to_owned(),
            path: None,
        }
    }

    /// Reads a stack file from disk.
    pub fn read(path: &Path) -> Result<Self, SpecError> {
        let text = fs_err::read_to_string(path).map_err(SpecError::Read)?;
        Ok(Self {
            display: path.display().to_string(),
            text,
            path: Some(path.to_owned()),
        })
    }

    /// Parses and validates the file.
    pub fn load(&self) -> Result<StackSpec, SpecError> {
        let index = LocationIndex::new(&self.text);
        let invalid = |diagnostics| SpecError::Invalid {
            file: self.display.clone(),
            diagnostics,
        };
        if is_blank(&self.text) {
            return Err(invalid(vec![Diagnostic::new(
                Location::START,
                "",
                "the stack file is empty; it needs at least `name:` (run `stackctl init` for a complete example)",
            )]));
        }
        let file = parse_all(&self.text, &index).map_err(invalid)?;
        validate::validate(file, &index).map_err(invalid)
    }
}

/// True when the text holds no YAML content, only whitespace, comments or document markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// The most problems one run reports from the type checks of the parse.
const MAX_PARSE_PROBLEMS: usize = 50;

/// Parses the file, reporting every type or value problem serde finds, not only the first:
/// after each one the offending field is taken out of the document and the parse repeated (a
/// syntax error stops at once; the checks after the parse all run anyway).
fn parse_all(text: &str, index: &LocationIndex) -> Result<StackFile, Vec<Diagnostic>> {
    let first = match parse(text, index) {
        Ok(file) => return Ok(file),
        Err(d) => d,
    };
    let Ok(mut doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Err(vec![first]);
    };
    if index.syntax_error().is_some() {
        return Err(vec![first]);
    }
    let mut found = vec![first];
    while found.len() < MAX_PARSE_PROBLEMS {
        let last = &found[found.len() - 1];
        if last.path.is_empty() || !remove_path(&mut doc, &last.path) {
            break;
        }
        let next = match serde_path_to_error::deserialize::<_, StackFile>(doc.clone()) {
            Ok(_) => break,
            Err(err) => diagnostic_of(err, index),
        };
        if found.iter().any(|d| d.path == next.path) {
            break;
        }
        found.push(next);
    }
    found.sort_by_key(|d| (d.location.line, d.location.column));
    Err(found)
}

/// Takes the field at `path` (`fsx.storage_gib`, `network.private_subnet_cidrs[1]`) out of
/// `doc`; false when there is no such field.
fn remove_path(doc: &mut serde_yaml::Value, path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else {
        return false;
    };
    let mut node = doc;
    for part in parts {
        let (key, item) = split_index(part);
        let Some(next) = node.get_mut(key) else {
            return false;
        };
        node = match item {
            Some(i) => match next.get_mut(i) {
                Some(n) => n,
                None => return false,
            },
            None => next,
        };
    }
    let (key, item) = split_index(last);
    match item {
        Some(i) => match node.get_mut(key).and_then(|v| v.as_sequence_mut()) {
            Some(seq) if i < seq.len() => {
                seq.remove(i);
                true
            }
            _ => false,
        },
        None => node.as_mapping_mut().and_then(|m| m.remove(key)).is_some(),
    }
}

/// `cidrs[1]` -> (`cidrs`, Some(1)); `name` -> (`name`, None).
fn split_index(part: &str) -> (&str, Option<usize>) {
    match part.split_once('[') {
        Some((key, rest)) => (key, rest.trim_end_matches(']').parse().ok()),
        None => (part, None),
    }
}

fn parse(text: &str, index: &LocationIndex) -> Result<StackFile, Diagnostic> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|err| diagnostic_of(err, index))
}

/// A diagnostic for a serde error, placed by the location index where serde gives no position.
fn diagnostic_of(
    err: serde_path_to_error::Error<serde_yaml::Error>,
    index: &LocationIndex,
) -> Diagnostic {
    {
        // A file that is not YAML at all: the event parser's message and position are the
        // precise ones.
        if let Some(syntax) = index.syntax_error() {
            let mut d = Diagnostic::new(
                syntax.location,
                syntax.path.clone(),
                format!("YAML syntax error: {}", syntax.message),
            );
            d.allowed = SYNTAX_ALLOWED.to_owned();
            return d;
        }
        // serde_path_to_error writes `.` for the root and `?` for a map key it cannot name.
        let raw_path = err.path().to_string();
        let unnamed_key = raw_path.ends_with(".?");
        let path = match raw_path {
            p if p == "." => String::new(),
            p => p.trim_end_matches(".?").to_owned(),
        };
        let inner = err.into_inner();
        let mut message = inner.to_string();
        // serde_yaml writes "<path>: <message> at line L column C"; the path and position are
        // reported separately.
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        if let Some((prefix, rest)) = message.split_once(": ")
            && (path == prefix || path.starts_with(&format!("{prefix}.")))
        {
            message = rest.to_owned();
        }
        let (mut path, mut message, unknown_key) = unknown_field_path(path, message);
        add_did_you_mean(&path, &mut message, unknown_key);
        let serde_location = inner.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        // serde_yaml places errors raised after a value was read at its key. Point at the value
        // where the index knows it, at the key for unknown or unreadable keys.
        let location = if unknown_key {
            index.locate_key(&path)
        } else if unnamed_key {
            // The key itself is wrong: say what the mapping allows as keys.
            let allowed = schema::allowed(&path).to_owned();
            if let Some(key) = serde_location.and_then(|l| index.key_on_line(&path, l.line)) {
                path = key.to_owned();
            }
            let mut d = Diagnostic::new(index.locate_key(&path), path, message);
            d.allowed = allowed;
            return d;
        } else if schema::is_map_key(&path) {
            serde_location.unwrap_or_else(|| index.locate(&path))
        } else if index.contains(&path) {
            index.locate(&path)
        } else {
            serde_location.unwrap_or_else(|| index.locate(&path))
        };
        Diagnostic::new(location, path, message)
    }
}

/// "unknown field `notbook`; did you mean `notebook`?": serde's list of the keys gives way to
/// the closest one (the `allowed:` line lists them all); an unknown enumeration value gets the
/// closest one added.
fn add_did_you_mean(path: &str, message: &mut String, unknown_key: bool) {
    let word_after = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        Some(rest.split_once('`')?.0.to_owned())
    };
    if unknown_key {
        let Some(key) = word_after("unknown field `") else {
            return;
        };
        let parent = path.strip_suffix(key.as_str()).unwrap_or_default();
        let parent = parent.strip_suffix('.').unwrap_or(parent);
        *message = format!("unknown field `{key}`");
        if let Some(name) = schema::did_you_mean(parent, &key, true) {
            message.push_str(&format!("; did you mean `{name}`?"));
        }
    } else if let Some(value) = word_after("unknown variant `")
        // The value of a key, or (reported at the mapping) a key of a mapping like jobs.images.
        && let Some(name) = schema::did_you_mean(path, &value, false)
            .or_else(|| schema::did_you_mean(&format!("{path}.*"), &value, false))
    {
        message.push_str(&format!("; did you mean `{name}`?"));
    }
}

/// What a syntax error's "allowed" line says.
const SYNTAX_ALLOWED: &str = "well-formed YAML: `key: value` mappings, `- item` or `[a, b]` lists, closed quotes and brackets, spaces (not tabs) for indentation";

/// serde reports an unknown key at its parent's path; name the key itself. The flag says
/// whether the message is about an unknown key.
fn unknown_field_path(path: String, message: String) -> (String, String, bool) {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return (path, message, false);
    };
    let Some((key, _)) = rest.split_once('`') else {
        return (path, message, false);
    };
    let full = if path.is_empty() {
        key.to_owned()
    } else if path.ends_with(&format!(".{key}")) || path == key {
        path
    } else {
        format!("{path}.{key}")
    };
    (full, message, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_is_valid_and_matches_serde_defaults() {
        let spec = SpecSource::embedded_default().load().unwrap();
        let minimal = SpecSource {
            display: "min".into(),
            text: format!("name: {}\n", spec.name),
            path: None,
        }
        .load()
        .unwrap();
        assert_eq!(
            spec, minimal,
            "stacks/default.yaml must spell out the defaults"
        );
    }

    #[test]
    fn blank_files_are_rejected() {
        let src = SpecSource {
            display: "x.yaml".into(),
            text: "# nothing\n---\n".into(),
            path: None,
        };
        assert!(matches!(src.load(), Err(SpecError::Invalid { .. })));
    }
}
