//! Where each field of a YAML document is: a map from field path (`network.vpc_cidr`,
//! `network.private_subnet_cidrs[1]`) to line and column.
//!
//! serde_yaml reports positions only for errors it raises itself; checks that span several fields
//! run after deserialization and look their positions up here.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column in the stack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl Location {
    /// The start of the file, for errors about the document as a whole.
    pub const START: Location = Location { line: 1, column: 1 };
}

/// Positions of the keys and values of one YAML document.
#[derive(Debug, Default)]
pub struct LocationIndex {
    values: HashMap<String, Location>,
    keys: HashMap<String, Location>,
    syntax_error: Option<SyntaxError>,
}

/// Where the YAML parser stopped, and why.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Position of the error.
    pub location: Location,
    /// Path of the field being read when the parser stopped.
    pub path: String,
    /// The parser's message.
    pub message: String,
}

impl LocationIndex {
    /// Indexes `text`. A document that does not parse gives an empty index; serde_yaml reports the
    /// syntax error itself.
    pub fn new(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        // Only the first document matters: serde_yaml rejects a stream of several.
        if let Err(err) = parser.load(&mut builder, false) {
            let path = builder.current_path();
            builder.index.syntax_error = Some(SyntaxError {
                location: location(*err.marker()),
                path,
                message: err.info().to_owned(),
            });
        }
        builder.index
    }

    /// The syntax error that stopped indexing, if any.
    pub fn syntax_error(&self) -> Option<&SyntaxError> {
        self.syntax_error.as_ref()
    }

    /// The written field under `prefix` (`prefix.<key>`) whose key is on `line`.
    pub fn key_on_line(&self, prefix: &str, line: usize) -> Option<&str> {
        let start = format!("{prefix}.");
        self.keys
            .iter()
            .filter(|(path, loc)| {
                loc.line == line
                    && path
                        .strip_prefix(&start)
                        .is_some_and(|rest| !rest.contains(['.', '[']))
            })
            .map(|(path, _)| path.as_str())
            .next()
    }

    /// The position of the scalar value at `path`, or of the key that names a mapping or list,
    /// or of the nearest enclosing field that is written in the file.
    pub fn locate(&self, path: &str) -> Location {
        let mut path = path;
        loop {
            if path.is_empty() {
                return Location::START;
            }
            if let Some(loc) = self.values.get(path).or_else(|| self.keys.get(path)) {
                return *loc;
            }
            match parent(path) {
                Some(p) => path = p,
                None => return Location::START,
            }
        }
    }

    /// The position of the key that names the field at `path`, falling back like [`Self::locate`].
    pub fn locate_key(&self, path: &str) -> Location {
        self.keys
            .get(path)
            .copied()
            .unwrap_or_else(|| self.locate(path))
    }

    /// Whether the field at `path` is written in the file (rather than defaulted).
    pub fn contains(&self, path: &str) -> bool {
        self.values.contains_key(path) || self.keys.contains_key(path)
    }
}

/// `a.b[2].c` -> `a.b[2]` -> `a.b` -> `a` -> `` -> None.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Builder {
    index: LocationIndex,
    stack: Vec<Frame>,
}

impl Builder {
    /// Path of the field being read: the pending key, the next list item, or the container.
    fn current_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Map { path, key: None }) => path.clone(),
            Some(Frame::Map { path, key: Some(k) }) => child(path, k),
            Some(Frame::Seq { path, index }) => format!("{path}[{index}]"),
        }
    }

    /// Path of the value that starts now, or None when the event is a mapping key.
    fn value_path(&mut self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map { path, key: Some(k) }) => Some(child(path, k)),
            Some(Frame::Seq { path, index }) => Some(format!("{path}[{index}]")),
        }
    }

    /// A value (scalar or whole container) at the top frame is complete.
    fn finish_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }
}

fn location(mark: Marker) -> Location {
    Location {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => match self.value_path() {
                Some(path) => {
                    self.index.values.insert(path, location(mark));
                    self.finish_value();
                }
                None => {
                    if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                        self.index.keys.insert(child(path, &text), location(mark));
                        *key = Some(text);
                    }
                }
            },
            Event::Alias(_) => {
                if let Some(path) = self.value_path() {
                    self.index.values.insert(path, location(mark));
                    self.finish_value();
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A container used as a mapping key is not valid in a stack file; give it a
                // placeholder path so indexing carries on.
                let path = self.value_path().unwrap_or_else(|| "?".to_owned());
                // A mapping value is located by its key (a block mapping's start mark is not
                // where a reader looks); a list item by its own start.
                if matches!(self.stack.last(), Some(Frame::Seq { .. })) {
                    self.index
                        .values
                        .entry(path.clone())
                        .or_insert(location(mark));
                }
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = self.stack.last_mut()
                {
                    *key = Some("?".to_owned());
                }
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.finish_value();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
name: demo
network:
  vpc_cidr: 10.0.0.0/16
  private_subnet_cidrs:
    - 10.0.0.0/20
    - 10.0.16.0/20
tags: {a: b}
";

    #[test]
    fn finds_values_keys_and_list_items() {
        let idx = LocationIndex::new(DOC);
        assert_eq!(idx.locate("name"), Location { line: 1, column: 7 });
        assert_eq!(
            idx.locate("network.vpc_cidr"),
            Location {
                line: 3,
                column: 13
            }
        );
        assert_eq!(
            idx.locate_key("network.vpc_cidr"),
            Location { line: 3, column: 3 }
        );
        assert_eq!(
            idx.locate("network.private_subnet_cidrs[1]"),
            Location { line: 6, column: 7 }
        );
        assert_eq!(
            idx.locate("tags.a"),
            Location {
                line: 7,
                column: 11
            }
        );
    }

    #[test]
    fn records_syntax_errors_with_the_field_being_read() {
        let idx = LocationIndex::new("name: x\nnetwork:\n  nat: \"open\n");
        let err = idx.syntax_error().expect("a syntax error");
        assert_eq!(err.path, "network.nat");
        assert!(err.message.contains("quoted scalar"), "{}", err.message);
        assert!(LocationIndex::new(DOC).syntax_error().is_none());
    }

    #[test]
    fn falls_back_to_the_nearest_written_parent() {
        let idx = LocationIndex::new(DOC);
        assert_eq!(idx.locate("network.nat"), idx.locate("network"));
        assert_eq!(idx.locate("fsx.storage_gib"), Location::START);
        assert!(!idx.contains("fsx"));
        assert!(idx.contains("network.private_subnet_cidrs[0]"));
    }
}
