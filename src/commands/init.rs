//! `stackctl init [PATH]`: write the default stack file, comments included.

use std::path::Path;

use crate::error::Error;
use crate::printer::Printer;
use crate::spec::{DEFAULT_STACK_FILE, LOCAL_STACK_FILE, SpecError};

/// Writes the embedded default stack file to `path` (`-` for stdout); with `json`, stdout
/// gets one object instead, the file's text in a string for `-` (docs/json-output.md).
pub fn run(path: &Path, force: bool, json: bool, printer: &mut Printer) -> Result<(), Error> {
    let to_stdout = path == Path::new("-");
    let doc = || {
        serde_json::json!({
            "path": (!to_stdout).then_some(path),
            "bytes": DEFAULT_STACK_FILE.len(),
            "stack_file": to_stdout.then_some(DEFAULT_STACK_FILE),
        })
    };
    if to_stdout {
        if json {
            return super::print_json(printer, &doc());
        }
        printer.out().write_all(DEFAULT_STACK_FILE.as_bytes())?;
        return Ok(());
    }
    if path.exists() && !force {
        return Err(SpecError::Exists(path.to_owned()).into());
    }
    fs_err::write(path, DEFAULT_STACK_FILE).map_err(|source| Error::WriteFile {
        path: path.to_owned(),
        source,
    })?;
    if path == Path::new(LOCAL_STACK_FILE) || path == Path::new(".").join(LOCAL_STACK_FILE) {
        printer.status(format_args!(
            "wrote {}; edit it, then run `stackctl plan` and `stackctl up` in this directory (every command here reads ./{LOCAL_STACK_FILE})",
            path.display()
        ))?;
    } else {
        printer.status(format_args!(
            "wrote {}; edit it, then run `stackctl plan --stack {}`",
            path.display(),
            path.display()
        ))?;
    }
    if json {
        super::print_json(printer, &doc())?;
    }
    Ok(())
}
