//! `stackctl doctor`: every preflight check for the stack file, read-only.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::Error;
use crate::preflight::{self, Severity};
use crate::printer::Printer;

/// Runs the checks and prints each finding (text lines or one JSON document); exit 1 when one
/// is fatal.
pub async fn run(global: &GlobalArgs, printer: &mut Printer) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let findings = preflight::doctor(&aws, &spec).await?;
    let fatal = findings
        .iter()
        .filter(|f| f.severity == Severity::Fatal)
        .count();
    match global.output {
        OutputFormat::Json => {
            let doc = serde_json::json!({
                "stack": spec.name.as_str(),
                "region": aws.region,
                "ok": fatal == 0,
                "findings": findings,
            });
            writeln!(printer.out(), "{doc}")?;
        }
        OutputFormat::Text => preflight::write_text(printer.out(), &findings)?,
    }
    if fatal > 0 {
        return Err(Error::DoctorFatal(fatal));
    }
    Ok(())
}
