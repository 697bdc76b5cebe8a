//! Small, checked edits of a stack file's text that keep its comments: set a key of a
//! top-level block mapping, or comment one out. Used by `up` to record the reuse of kept data
//! (`data.bucket`, `efs.existing_id`) where the user reads it, in their stack file.
//!
//! Only block mappings at the top level are edited (the form `stackctl init` writes); anything
//! else (a flow mapping `data: {...}`, a key in an anchor) is refused, and the caller says
//! which lines to add by hand. The caller parses the result again and checks that it says what
//! was meant before writing it.

/// One edit of a top-level section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit<'a> {
    /// `section.key: value` (value is a plain scalar that needs no quoting: validated ids).
    Set {
        /// Top-level key.
        section: &'a str,
        /// Key inside it.
        key: &'a str,
        /// The value as written.
        value: String,
        /// A comment after the value.
        comment: &'a str,
    },
    /// Comment out `section.key` if it is written (a key the new value excludes).
    CommentOut {
        /// Top-level key.
        section: &'a str,
        /// Key inside it.
        key: &'a str,
        /// Why, appended as a comment.
        why: &'a str,
    },
}

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{section}` is not a block mapping at the top level of the file (line {line})")]
pub struct EditError {
    /// The section.
    pub section: String,
    /// Its line (1-based), or 0 when not found.
    pub line: usize,
}

/// The section's header line index and the range of its child lines.
struct Section {
    header: usize,
    /// First line after the section (the next top-level key, or the end).
    end: usize,
    /// Indentation of its children (two spaces when it has none yet).
    indent: usize,
}

fn is_content(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `key:` followed by nothing but a comment.
fn is_block_header(line: &str, key: &str) -> Option<bool> {
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    let rest = rest.trim_start();
    Some(rest.is_empty() || rest.starts_with('#'))
}

fn find_section(lines: &[&str], section: &str) -> Result<Option<Section>, EditError> {
    let Some(header) = lines
        .iter()
        .position(|l| is_block_header(l, section).is_some())
    else {
        return Ok(None);
    };
    if is_block_header(lines[header], section) != Some(true) {
        return Err(EditError {
            section: section.to_owned(),
            line: header + 1,
        });
    }
    let end = (header + 1..lines.len())
        .find(|&i| is_content(lines[i]) && indent_of(lines[i]) == 0)
        .unwrap_or(lines.len());
    let indent = (header + 1..end)
        .find(|&i| is_content(lines[i]))
        .map_or(2, |i| indent_of(lines[i]));
    Ok(Some(Section {
        header,
        end,
        indent,
    }))
}

/// The line of `key` directly inside the section, if written.
fn find_key(lines: &[&str], s: &Section, key: &str) -> Option<usize> {
    (s.header + 1..s.end).find(|&i| {
        is_content(lines[i])
            && indent_of(lines[i]) == s.indent
            && lines[i]
                .trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.starts_with(':'))
    })
}

/// Applies `edits` in order to `text`.
pub fn apply(text: &str, edits: &[Edit<'_>]) -> Result<String, EditError> {
    let mut owned: Vec<String> = text.lines().map(str::to_owned).collect();
    for edit in edits {
        let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
        match edit {
            Edit::Set {
                section,
                key,
                value,
                comment,
            } => {
                let line = format!("{key}: {value}  # {comment}");
                match find_section(&lines, section)? {
                    None => {
                        owned.push(format!("{section}:"));
                        owned.push(format!("  {line}"));
                    }
                    Some(s) => {
                        let pad = " ".repeat(s.indent);
                        match find_key(&lines, &s, key) {
                            Some(i) => owned[i] = format!("{pad}{line}"),
                            None => owned.insert(s.header + 1, format!("{pad}{line}")),
                        }
                    }
                }
            }
            Edit::CommentOut { section, key, why } => {
                if let Some(s) = find_section(&lines, section)?
                    && let Some(i) = find_key(&lines, &s, key)
                {
                    let pad = " ".repeat(s.indent);
                    owned[i] = format!("{pad}# {}  # {why}", owned[i].trim_start());
                }
            }
        }
    }
    let mut out = owned.join("\n");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set<'a>(section: &'a str, key: &'a str, value: &str) -> Edit<'a> {
        Edit::Set {
            section,
            key,
            value: value.to_owned(),
            comment: "reused",
        }
    }

    #[test]
    fn sets_a_key_under_its_section_and_keeps_comments() {
        let text = "name: a\n# about data\ndata:\n  # the bucket\n  # bucket: x\n  prefix: p\nefs:\n  enabled: true\n  retain: true\n";
        let out = apply(
            text,
            &[
                set("data", "bucket", "b-1"),
                set("efs", "existing_id", "fs-12345678"),
                Edit::CommentOut {
                    section: "efs",
                    key: "retain",
                    why: "not for an existing file system",
                },
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "name: a\n# about data\ndata:\n  bucket: b-1  # reused\n  # the bucket\n  # bucket: x\n  prefix: p\nefs:\n  existing_id: fs-12345678  # reused\n  enabled: true\n  # retain: true  # not for an existing file system\n"
        );
    }

    #[test]
    fn replaces_a_written_key_and_adds_a_missing_section() {
        let out = apply(
            "data:\n    bucket:\n",
            &[
                set("data", "bucket", "b"),
                set("efs", "existing_id", "fs-1"),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "data:\n    bucket: b  # reused\nefs:\n  existing_id: fs-1  # reused\n"
        );
    }

    #[test]
    fn refuses_a_flow_mapping() {
        let err = apply(
            "name: a\ndata: {prefix: p}\n",
            &[set("data", "bucket", "b")],
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string().contains("`data` is not a block mapping"),
            "{err}"
        );
    }

    #[test]
    fn a_nested_key_of_the_same_name_is_not_a_section() {
        let out = apply("network:\n  data: 1\n", &[set("data", "bucket", "b")]).unwrap();
        assert_eq!(out, "network:\n  data: 1\ndata:\n  bucket: b  # reused\n");
    }
}
