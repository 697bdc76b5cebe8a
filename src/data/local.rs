//! The local tree to stage: walked once, checked against the models' layouts before anything
//! is uploaded, so a wrong folder name or a missing annotation file costs no transfer.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::jobs::profile::DataLayout;

use super::DataError;

/// Top-level folders accepted besides those the layouts name (COCO's test split).
const EXTRA_TOP_LEVEL: [&str; 1] = ["test2017"];
/// Symbolic links are followed (data often lives on another disk); this bounds loops.
const MAX_DEPTH: usize = 16;

/// What a staged tree must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    /// Files that must exist, relative to the root.
    pub files: BTreeSet<String>,
    /// Folders that must hold at least one file.
    pub folders: BTreeSet<String>,
    /// Top-level folder names accepted; anything else at the top is a mistake.
    pub top_level: BTreeSet<String>,
}

impl Requirements {
    /// The union of the given layouts plus extra required files (e.g. the R101 weights).
    pub fn from_layouts<'a>(
        layouts: impl IntoIterator<Item = &'a DataLayout>,
        extra_files: &[String],
    ) -> Self {
        let mut req = Self {
            files: BTreeSet::new(),
            folders: BTreeSet::new(),
            top_level: EXTRA_TOP_LEVEL.iter().map(|s| (*s).to_owned()).collect(),
        };
        for layout in layouts {
            req.files.extend(layout.files.iter().cloned());
            req.folders.extend(layout.folders.iter().cloned());
            req.top_level
                .extend(layout.top_level().into_iter().map(str::to_owned));
        }
        for file in extra_files {
            req.files.insert(file.clone());
            if let Some(top) = file.split('/').next() {
                req.top_level.insert(top.to_owned());
            }
        }
        req
    }

    /// What a set of keys (relative paths) lacks: missing files and empty folders.
    pub fn missing<'a>(&self, present: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let keys: BTreeSet<&str> = present.into_iter().collect();
        let mut missing: Vec<String> = self
            .files
            .iter()
            .filter(|f| !keys.contains(f.as_str()))
            .map(|f| format!("missing file `{f}`"))
            .collect();
        for folder in &self.folders {
            let start = format!("{folder}/");
            if !keys.iter().any(|k| k.starts_with(&start)) {
                missing.push(format!("missing folder `{folder}/` (or it has no files)"));
            }
        }
        missing
    }
}

/// One file to stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// Path relative to the root with `/` separators; the key suffix under the prefix.
    pub rel: String,
    /// The file on disk.
    pub path: PathBuf,
    /// Size in bytes.
    pub len: u64,
}

/// A checked tree.
#[derive(Debug, Clone)]
pub struct LocalTree {
    /// The root given with `--from`.
    pub root: PathBuf,
    /// Every file, in path order.
    pub files: Vec<LocalFile>,
}

impl LocalTree {
    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len).sum()
    }
}

/// Walks `root` and checks it against `req`. Hidden entries (`.name`) are skipped. Every
/// problem is collected, so one run lists them all.
pub fn scan(root: &Path, req: &Requirements) -> Result<LocalTree, DataError> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    let meta = fs_err::metadata(root).map_err(|e| DataError::Layout {
        root: root.to_owned(),
        problems: vec![format!("cannot read the folder: {}", io_reason(&e))],
    })?;
    if !meta.is_dir() {
        return Err(DataError::Layout {
            root: root.to_owned(),
            problems: vec!["not a folder; --from takes the folder that holds train2017/, val2017/, annotations/ and pretrained-models/".to_owned()],
        });
    }
    let allowed = req
        .top_level
        .iter()
        .map(|s| format!("{s}/"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut visited = std::collections::HashSet::new();
    for entry in read_dir_sorted(root, "", &mut problems) {
        let (name, path) = entry;
        let kind = kind_of(&path);
        match kind {
            Ok(Kind::Dir) if req.top_level.contains(&name) => {
                walk(&path, &name, 1, &mut visited, &mut files, &mut problems);
            }
            Ok(Kind::Dir) => problems.push(format!(
                "unexpected folder `{name}/` at the top level{}; allowed: {allowed}",
                did_you_mean(&name, &req.top_level)
            )),
            Ok(Kind::File(_)) => problems.push(format!(
                "unexpected file `{name}` at the top level; only folders belong there ({allowed}); move it away"
            )),
            Ok(Kind::Other) => problems.push(format!("`{name}` is not a file or folder")),
            Err(e) => problems.push(format!("cannot read `{name}`: {}", io_reason(&e))),
        }
    }
    let rels: Vec<&str> = files.iter().map(|f: &LocalFile| f.rel.as_str()).collect();
    problems.extend(req.missing(rels.iter().copied()));
    for file in &files {
        if file.rel.starts_with("annotations/") && file.rel.ends_with(".json") {
            check_json_start(file, &mut problems);
        }
    }
    if !problems.is_empty() {
        return Err(DataError::Layout {
            root: root.to_owned(),
            problems,
        });
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(LocalTree {
        root: root.to_owned(),
        files,
    })
}

enum Kind {
    Dir,
    File(u64),
    Other,
}

/// Follows symbolic links; a dangling link is an error.
fn kind_of(path: &Path) -> std::io::Result<Kind> {
    let meta = fs_err::metadata(path)?;
    Ok(if meta.is_dir() {
        Kind::Dir
    } else if meta.is_file() {
        Kind::File(meta.len())
    } else {
        Kind::Other
    })
}

fn read_dir_sorted(dir: &Path, rel: &str, problems: &mut Vec<String>) -> Vec<(String, PathBuf)> {
    let shown = if rel.is_empty() { "." } else { rel };
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!("cannot list `{shown}/`: {}", io_reason(&e)));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    problems.push(format!(
                        "`{shown}/{}`: the name is not UTF-8 and cannot be an S3 key",
                        entry.file_name().to_string_lossy()
                    ));
                    continue;
                };
                if !name.starts_with('.') {
                    out.push((name, entry.path()));
                }
            }
            Err(e) => problems.push(format!("cannot list `{shown}/`: {}", io_reason(&e))),
        }
    }
    out.sort();
    out
}

fn walk(
    dir: &Path,
    rel: &str,
    depth: usize,
    visited: &mut std::collections::HashSet<PathBuf>,
    files: &mut Vec<LocalFile>,
    problems: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        problems.push(format!(
            "`{rel}/` is nested more than {MAX_DEPTH} levels deep"
        ));
        return;
    }
    // A folder reached twice (a symbolic link back up the tree) would be listed forever.
    match fs_err::canonicalize(dir) {
        Ok(real) => {
            if !visited.insert(real) {
                problems.push(format!(
                    "`{rel}/` leads to a folder already in the tree (a symbolic link loop?)"
                ));
                return;
            }
        }
        Err(e) => {
            problems.push(format!("cannot read `{rel}/`: {}", io_reason(&e)));
            return;
        }
    }
    for (name, path) in read_dir_sorted(dir, rel, problems) {
        let child = format!("{rel}/{name}");
        match kind_of(&path) {
            Ok(Kind::Dir) => walk(&path, &child, depth + 1, visited, files, problems),
            Ok(Kind::File(len)) => match fs_err::File::open(&path) {
                Ok(_) => files.push(LocalFile {
                    rel: child,
                    path,
                    len,
                }),
                Err(e) => problems.push(format!("cannot read `{child}`: {}", io_reason(&e))),
            },
            Ok(Kind::Other) => problems.push(format!(
                "`{child}` is not a regular file (a device, socket or pipe)"
            )),
            Err(e) => problems.push(format!("cannot read `{child}`: {}", io_reason(&e))),
        }
    }
}

/// A COCO annotation file is one JSON object; anything else (an HTML error page saved by a
/// download tool, a truncated file) is caught here, cheaply, by its first bytes.
fn check_json_start(file: &LocalFile, problems: &mut Vec<String>) {
    let mut head = [0u8; 64];
    let read = fs_err::File::open(&file.path).and_then(|mut f| f.read(&mut head));
    match read {
        Ok(n) => {
            let first = head[..n].iter().find(|b| !b.is_ascii_whitespace());
            if first != Some(&b'{') {
                problems.push(format!(
                    "`{}` is not a COCO annotation file: it does not start with a JSON object ({} bytes)",
                    file.rel, file.len
                ));
            }
        }
        Err(e) => problems.push(format!("cannot read `{}`: {}", file.rel, io_reason(&e))),
    }
}

fn did_you_mean(name: &str, candidates: &BTreeSet<String>) -> String {
    crate::suggest::closest(name, candidates.iter().map(String::as_str), 0.7)
        .map(|c| format!(" (did you mean `{c}/`?)"))
        .unwrap_or_default()
}

/// The OS reason without the path (the message names the path relative to the root).
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    // fs-err prefixes "failed to open file `...`: "; keep the OS reason only.
    text.rsplit_once(": ")
        .map(|(_, reason)| reason.to_owned())
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> DataLayout {
        DataLayout {
            files: vec![
                "annotations/instances_train2017.json".into(),
                "pretrained-models/ImageNet-R50-AlignPadding.npz".into(),
            ],
            folders: vec!["train2017".into()],
        }
    }

    fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, body) in files {
            let path = dir.path().join(rel);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, body).unwrap();
        }
        dir
    }

    #[test]
    fn a_complete_tree_lists_every_file_in_order_and_skips_hidden_ones() {
        let dir = tree(&[
            ("train2017/b.jpg", b"bb"),
            ("train2017/a.jpg", b"a"),
            ("train2017/.DS_Store", b"x"),
            ("annotations/instances_train2017.json", b" {}"),
            ("pretrained-models/ImageNet-R50-AlignPadding.npz", b"PK"),
        ]);
        let req = Requirements::from_layouts([&layout()], &[]);
        let tree = scan(dir.path(), &req).unwrap();
        let rels: Vec<_> = tree.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "annotations/instances_train2017.json",
                "pretrained-models/ImageNet-R50-AlignPadding.npz",
                "train2017/a.jpg",
                "train2017/b.jpg"
            ]
        );
        assert_eq!(tree.bytes(), 3 + 2 + 1 + 2);
    }

    #[test]
    fn every_problem_is_listed_with_its_path() {
        let dir = tree(&[
            ("train/a.jpg", b"a"),
            ("annotations/instances_train2017.json", b"<html>"),
            ("notes.txt", b"x"),
        ]);
        let req = Requirements::from_layouts([&layout()], &[]);
        let err = scan(dir.path(), &req).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(
                "unexpected folder `train/` at the top level (did you mean `train2017/`?)"
            ),
            "{text}"
        );
        assert!(text.contains("unexpected file `notes.txt`"), "{text}");
        assert!(
            text.contains("missing file `pretrained-models/ImageNet-R50-AlignPadding.npz`"),
            "{text}"
        );
        assert!(text.contains("missing folder `train2017/`"), "{text}");
        assert!(
            text.contains("`annotations/instances_train2017.json` is not a COCO annotation file"),
            "{text}"
        );
        assert!(err.is_bad_input());
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_named() {
        let dir = tree(&[
            ("train2017/a.jpg", b"a"),
            ("annotations/instances_train2017.json", b"{}"),
            ("pretrained-models/ImageNet-R50-AlignPadding.npz", b"PK"),
        ]);
        std::os::unix::fs::symlink("/nonexistent/b.jpg", dir.path().join("train2017/b.jpg"))
            .unwrap();
        let req = Requirements::from_layouts([&layout()], &[]);
        let text = scan(dir.path(), &req).unwrap_err().to_string();
        assert!(
            text.contains("cannot read `train2017/b.jpg`: No such file or directory"),
            "{text}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_loop_is_reported_once() {
        let dir = tree(&[
            ("train2017/a.jpg", b"a"),
            ("annotations/instances_train2017.json", b"{}"),
            ("pretrained-models/ImageNet-R50-AlignPadding.npz", b"PK"),
        ]);
        std::os::unix::fs::symlink("..", dir.path().join("train2017/up")).unwrap();
        let req = Requirements::from_layouts([&layout()], &[]);
        let err = scan(dir.path(), &req).unwrap_err();
        let DataError::Layout { problems, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            problems.iter().any(|p| p.contains("a symbolic link loop")),
            "{problems:?}"
        );
        assert!(problems.len() < 10, "{problems:?}");
    }

    #[test]
    fn extra_files_are_required_too() {
        let req = Requirements::from_layouts(
            [&layout()],
            &["pretrained-models/ImageNet-R101-AlignPadding.npz".to_owned()],
        );
        let missing = req.missing([
            "annotations/instances_train2017.json",
            "pretrained-models/ImageNet-R50-AlignPadding.npz",
            "train2017/x.jpg",
        ]);
        assert_eq!(
            missing,
            ["missing file `pretrained-models/ImageNet-R101-AlignPadding.npz`"]
        );
    }
}
