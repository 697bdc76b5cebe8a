//! `stackctl validate`: check the stack file only.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::Error;
use crate::printer::Printer;

/// Validates the stack file and says so.
pub fn run(global: &GlobalArgs, printer: &mut Printer) -> Result<(), Error> {
    let (source, spec) = super::load_spec(global, printer)?;
    match global.output {
        OutputFormat::Json => {
            let doc = serde_json::json!({
                "valid": true,
                "file": source.display,
                "stack": spec.name,
                "spec": spec,
            });
            writeln!(printer.out(), "{doc}")?;
        }
        OutputFormat::Text => {
            writeln!(
                printer.out(),
                "{}: valid stack file for stack `{}`",
                source.display,
                spec.name
            )?;
        }
    }
    Ok(())
}
