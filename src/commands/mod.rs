//! One module per command; each takes resolved arguments and a [`Printer`].

mod aws_context;
pub mod down;
pub mod init;
pub mod outputs;
pub mod plan;
pub mod render;
pub mod status;
pub mod up;
pub mod validate;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::render::{Rendered, Renderer};
use crate::spec::{SpecSource, StackSpec};

/// Reads the stack file named by `--stack`, or the embedded default, and validates it.
pub(crate) fn load_spec(global: &GlobalArgs) -> Result<(SpecSource, StackSpec), Error> {
    let source = match &global.stack {
        Some(path) => SpecSource::read(path)?,
        None => SpecSource::embedded_default(),
    };
    let spec = source.load()?;
    Ok((source, spec))
}

/// Renders and checks the template for `spec` with the templates `--templates` selects.
pub(crate) fn render_spec(global: &GlobalArgs, spec: &StackSpec) -> Result<Rendered, Error> {
    let err = |source| Error::Render {
        stack: spec.name.to_string(),
        source,
    };
    Renderer::new(global.templates.as_deref())
        .map_err(err)?
        .render(spec)
        .map_err(err)
}
