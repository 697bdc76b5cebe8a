//! `stackctl render [--out FILE]`: print the CloudFormation template.

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::printer::Printer;

/// Renders the template to stdout or `out`.
pub fn run(global: &GlobalArgs, out: Option<&Path>, printer: &mut Printer) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let rendered = super::render_spec(global, &spec)?;
    match out {
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
    Ok(())
}
