//! `stackctl render [--out FILE]`: print the CloudFormation template.

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::printer::Printer;

/// Renders the template to stdout or `out`; with `--output json`, stdout gets one object
/// instead, with the template in a string unless it went to `out` (docs/json-output.md).
pub fn run(global: &GlobalArgs, out: Option<&Path>, printer: &mut Printer) -> Result<(), Error> {
    let (source, spec) = super::load_spec(global, printer)?;
    let rendered = super::render_spec(global, &spec)?;
    let json = super::json(global);
    match out {
        None if json => {}
        None => printer.out().write_all(rendered.body.as_bytes())?,
        Some(path) => {
            fs_err::write(path, &rendered.body).map_err(|source| Error::WriteFile {
                path: path.to_owned(),
                source,
            })?;
            printer.status(format_args!(
                "wrote {} ({} bytes, {} resources)",
                path.display(),
                rendered.body.len(),
                rendered.checked.resources.len()
            ))?;
        }
    }
    if json {
        // A JSON caller gets JSON, never YAML: the template is a string field.
        let doc = serde_json::json!({
            "stack": spec.name,
            "file": source.display,
            "out": out,
            "bytes": rendered.body.len(),
            "resources": rendered.checked.resources.len(),
            "template": out.is_none().then_some(&rendered.body),
        });
        super::print_json(printer, &doc)?;
    }
    Ok(())
}
