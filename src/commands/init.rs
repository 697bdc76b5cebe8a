//! `stackctl init [PATH]`: write the default stack file, comments included.

use std::path::Path;

use crate::error::Error;
use crate::printer::Printer;
use crate::spec::{DEFAULT_STACK_FILE, LOCAL_STACK_FILE, SpecError};

/// Writes the embedded default stack file to `path` (`-` for stdout).
pub fn run(path: &Path, force: bool, printer: &mut Printer) -> Result<(), Error> {
    if path == Path::new("-") {
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
    Ok(())
}
