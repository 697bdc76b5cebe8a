//! The archive table of `--download coco2017` (templates/data/coco2017.yaml, or `--archives
//! FILE`): what to fetch, from where, its checksum, and where it goes in the staged tree.

use std::path::Path;

use serde::Deserialize;

use super::DataError;

/// The embedded table.
pub const COCO2017: &str = include_str!("../../templates/data/coco2017.yaml");

/// The table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveTable {
    /// Files, fetched in this order.
    pub files: Vec<RemoteFile>,
}

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteFile {
    /// File name (no `/`).
    pub name: String,
    /// `http://` or `https://` URL.
    pub url: String,
    /// Published MD5 (32 hex digits), when there is one.
    #[serde(default)]
    pub md5: Option<String>,
    /// Size in bytes, when known.
    #[serde(default)]
    pub size: Option<u64>,
    /// Unzip into the tree root (the archive holds the top-level folders).
    #[serde(default)]
    pub extract: bool,
    /// Otherwise: the folder of the tree it is placed in.
    #[serde(default)]
    pub to: Option<String>,
    /// Only fetched when this backbone is asked for (`--backbone r101`).
    #[serde(default)]
    pub backbone: Option<String>,
}

impl ArchiveTable {
    /// The embedded COCO 2017 table.
    pub fn embedded() -> Self {
        Self::parse(COCO2017, "embedded coco2017").expect("the embedded table is valid")
    }

    /// Reads a table file.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = fs_err::read_to_string(path).map_err(|e| DataError::Archives {
            path: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a table; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, DataError> {
        let fail = |message: String| DataError::Archives {
            path: origin.to_owned(),
            message,
        };
        let de = serde_yaml::Deserializer::from_str(text);
        let table: ArchiveTable = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at = inner
                .location()
                .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            // serde_yaml repeats the path and location; keep only its reason.
            let text = inner.to_string();
            let text = text.split(" at line ").next().unwrap_or(&text);
            let reason = text
                .split_once(": ")
                .filter(|(head, _)| path.starts_with(head))
                .map_or(text, |(_, r)| r);
            fail(format!("{at}field `{path}`: {reason}"))
        })?;
        let mut names = std::collections::BTreeSet::new();
        for (i, file) in table.files.iter().enumerate() {
            let field = |f: &str| format!("field `files[{i}].{f}`");
            if file.name.is_empty() || file.name.contains('/') || file.name.starts_with('.') {
                return Err(fail(format!(
                    "{}: `{}` must be a plain file name (no `/`, not hidden)",
                    field("name"),
                    file.name
                )));
            }
            if !names.insert(file.name.clone()) {
                return Err(fail(format!(
                    "{}: `{}` appears twice",
                    field("name"),
                    file.name
                )));
            }
            if !(file.url.starts_with("http://") || file.url.starts_with("https://")) {
                return Err(fail(format!(
                    "{}: `{}` must start with http:// or https://",
                    field("url"),
                    file.url
                )));
            }
            if let Some(md5) = &file.md5
                && (md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(fail(format!(
                    "{}: `{md5}` must be 32 hexadecimal digits",
                    field("md5")
                )));
            }
            match (&file.to, file.extract) {
                (Some(_), true) => {
                    return Err(fail(format!(
                        "{} and {}: give one (extract: true unzips into the tree root; to: places the file in a folder)",
                        field("extract"),
                        field("to")
                    )));
                }
                (None, false) => {
                    return Err(fail(format!(
                        "{}: missing; say where the file goes (or extract: true)",
                        field("to")
                    )));
                }
                (Some(to), false)
                    if to.is_empty()
                        || to.starts_with('/')
                        || to.split('/').any(|c| c.is_empty() || c == "." || c == "..") =>
                {
                    return Err(fail(format!(
                        "{}: `{to}` must be a relative folder without `.` or `..`",
                        field("to")
                    )));
                }
                _ => {}
            }
            if let Some(b) = &file.backbone
                && !["r50", "r101"].contains(&b.as_str())
            {
                return Err(fail(format!(
                    "{}: `{b}`; allowed: r50, r101",
                    field("backbone")
                )));
            }
        }
        Ok(table)
    }

    /// The files to fetch for these backbones (files without `backbone` are always fetched).
    pub fn selected(&self, backbones: &[String]) -> Vec<&RemoteFile> {
        self.files
            .iter()
            .filter(|f| f.backbone.as_ref().is_none_or(|b| backbones.contains(b)))
            .collect()
    }
}

impl RemoteFile {
    /// The URL, with scheme and host replaced by `base` when given (a mirror).
    pub fn url_with_base(&self, base: Option<&str>) -> String {
        let Some(base) = base else {
            return self.url.clone();
        };
        let after_scheme = self.url.split_once("://").map_or("", |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        format!("{}{path}", base.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_names_the_official_archives() {
        let table = ArchiveTable::embedded();
        let names: Vec<_> = table
            .selected(&["r50".into()])
            .iter()
            .map(|f| f.name.clone())
            .collect();
        assert_eq!(
            names,
            [
                "train2017.zip",
                "val2017.zip",
                "annotations_trainval2017.zip",
                "ImageNet-R50-AlignPadding.npz"
            ]
        );
        assert_eq!(table.selected(&["r50".into(), "r101".into()]).len(), 5);
    }

    #[test]
    fn a_mirror_keeps_the_path() {
        let table = ArchiveTable::embedded();
        assert_eq!(
            table.files[0].url_with_base(Some("http://127.0.0.1:9000/")),
            "http://127.0.0.1:9000/zips/train2017.zip"
        );
        assert_eq!(table.files[0].url_with_base(None), table.files[0].url);
    }

    #[test]
    fn errors_name_the_field_and_what_is_allowed() {
        let cases = [
            (
                "files:\n  - name: a.zip\n    url: ftp://x/a.zip\n    extract: true\n",
                "field `files[0].url`: `ftp://x/a.zip` must start with http:// or https://",
            ),
            (
                "files:\n  - name: a.zip\n    url: http://x/a.zip\n    md5: xyz\n    extract: true\n",
                "field `files[0].md5`: `xyz` must be 32 hexadecimal digits",
            ),
            (
                "files:\n  - name: a.zip\n    url: http://x/a.zip\n",
                "field `files[0].to`: missing",
            ),
            (
                "files:\n  - name: a.zip\n    url: http://x/a.zip\n    to: ../up\n",
                "`../up` must be a relative folder",
            ),
            (
                "files:\n  - name: a.zip\n    urll: http://x/a.zip\n",
                "line 3, column 5: field `files[0].urll`: unknown field `urll`, expected one of `name`, `url`, `md5`",
            ),
        ];
        for (text, want) in cases {
            let err = ArchiveTable::parse(text, "t.yaml").unwrap_err().to_string();
            assert!(err.contains(want), "{err}\nwanted: {want}");
            assert!(err.starts_with("archive table `t.yaml`: "), "{err}");
        }
    }
}
