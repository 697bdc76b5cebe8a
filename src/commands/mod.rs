//! One module per command; each takes resolved arguments and a [`Printer`].

mod aws_context;
pub mod data;
pub mod doctor;
pub mod down;
pub mod image;
pub mod init;
pub mod job;
pub mod outputs;
pub mod plan;
pub mod render;
pub mod status;
pub mod up;
pub mod validate;

use crate::cli::GlobalArgs;
use crate::deploy::up::{UpRequest, stack_tags};
use crate::deploy::wait::WaitSettings;
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

/// The cheap read-only preflight checks before `plan` previews or `up` changes anything;
/// fatal findings stop the command (exit 2), the others are shown as status lines.
pub(crate) async fn preflight(
    aws: &crate::aws::Aws,
    spec: &StackSpec,
    printer: &mut crate::printer::Printer,
) -> Result<Vec<crate::preflight::Finding>, Error> {
    let findings = crate::preflight::deploy_checks(aws, spec).await?;
    if crate::preflight::any_fatal(&findings) {
        return Err(Error::Preflight(findings));
    }
    for f in &findings {
        printer.status(format_args!("preflight {}: {}", f.check, f.message))?;
    }
    Ok(findings)
}

/// The `up` request for a rendered stack, with nothing confirmed and default polling; `up`
/// and `plan` adjust what their flags say.
pub(crate) fn up_request<'a>(spec: &'a StackSpec, rendered: &'a Rendered) -> UpRequest<'a> {
    UpRequest {
        stack: spec.name.as_str(),
        body: &rendered.body,
        resources: &rendered.checked.resources,
        tags: stack_tags(&spec.tags),
        yes: false,
        confirm: None,
        termination_protection: false,
        continue_rollback: false,
        wait: WaitSettings::default(),
    }
}
