//! `stackctl init [PATH]`: write the default stack file, comments included, and beside it the
//! JSON Schema its first line names (`# yaml-language-server: $schema=./stackctl.schema.json`).

use std::path::Path;

use crate::error::Error;
use crate::printer::Printer;
use crate::spec::schema::{SCHEMA_FILE, json_schema_text};
use crate::spec::{DEFAULT_STACK_FILE, LOCAL_STACK_FILE, SpecError};

/// Writes the embedded default stack file to `path` (`-` for stdout) and the schema file
/// beside it (not for `-`: stdout gets the one document); with `json`, stdout gets one object
/// instead, the file's text in a string for `-` (docs/json-output.md).
pub fn run(path: &Path, force: bool, json: bool, printer: &mut Printer) -> Result<(), Error> {
    let to_stdout = path == Path::new("-");
    let schema = (!to_stdout).then(|| path.with_file_name(SCHEMA_FILE));
    let doc = || {
        serde_json::json!({
            "path": (!to_stdout).then_some(path),
            "bytes": DEFAULT_STACK_FILE.len(),
            "stack_file": to_stdout.then_some(DEFAULT_STACK_FILE),
            "schema": schema,
        })
    };
    if to_stdout {
        printer.status(format_args!(
            "its first line names ./{SCHEMA_FILE} for editors; write that with `stackctl schema --out {SCHEMA_FILE}` beside the file"
        ))?;
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
    // Generated, so always rewritten: a copy from an older stackctl is refreshed here.
    let schema = schema.as_deref().expect("a path");
    super::schema::write(schema, &json_schema_text())?;
    let wrote = format!(
        "wrote {} and {} (its JSON Schema, for editors)",
        path.display(),
        schema.display()
    );
    if path == Path::new(LOCAL_STACK_FILE) || path == Path::new(".").join(LOCAL_STACK_FILE) {
        printer.status(format_args!(
            "{wrote}; edit it, then run `stackctl plan` and `stackctl up` in this directory (every command here reads ./{LOCAL_STACK_FILE})"
        ))?;
    } else {
        printer.status(format_args!(
            "{wrote}; edit it, then run `stackctl plan --stack {}`",
            path.display()
        ))?;
    }
    if json {
        super::print_json(printer, &doc())?;
    }
    Ok(())
}
