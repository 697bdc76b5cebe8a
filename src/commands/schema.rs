//! `stackctl schema [--out FILE]`: the JSON Schema of the stack file, for editors
//! (docs/stack-file.md, "In an editor").

use std::path::Path;

use crate::error::Error;
use crate::printer::Printer;
use crate::spec::schema::{SCHEMA_MODELINE, json_schema, json_schema_text};

/// Prints the schema, or writes it to `out`; with `json`, one object whose `schema` is the
/// schema itself unless it went to `out` (docs/json-output.md).
pub fn run(out: Option<&Path>, json: bool, printer: &mut Printer) -> Result<(), Error> {
    let text = json_schema_text();
    match out {
        None if json => {}
        None => printer.out().write_all(text.as_bytes())?,
        Some(path) => {
            write(path, &text)?;
            printer.status(format_args!(
                "wrote {} ({} bytes); a stack file beside it names it in its first line: {SCHEMA_MODELINE}",
                path.display(),
                text.len()
            ))?;
        }
    }
    if json {
        let doc = serde_json::json!({
            "out": out,
            "bytes": text.len(),
            "schema": out.is_none().then(json_schema),
        });
        super::print_json(printer, &doc)?;
    }
    Ok(())
}

/// Writes the schema text to `path` (also `init`'s copy beside the stack file).
pub fn write(path: &Path, text: &str) -> Result<(), Error> {
    fs_err::write(path, text).map_err(|source| Error::WriteFile {
        path: path.to_owned(),
        source,
    })
}
