//! One module per command; each takes resolved arguments and a [`Printer`].

mod aws_context;
pub mod completions;
pub mod data;
pub mod doctor;
pub mod down;
pub mod image;
pub mod init;
pub mod job;
pub mod man;
pub mod outputs;
pub mod plan;
pub mod render;
mod reuse;
pub mod schema;
pub mod status;
pub mod up;
pub mod validate;

use crate::cli::GlobalArgs;
use crate::deploy::up::{UpRequest, stack_tags};
use crate::deploy::wait::WaitSettings;
use crate::error::Error;
use crate::printer::Printer;
use crate::render::{Rendered, Renderer};
use crate::spec::{LOCAL_STACK_FILE, SpecSource, StackSpec};

use std::path::Path;

/// True when the results go to stdout as JSON (`--output json`, docs/json-output.md).
pub(crate) fn json(global: &GlobalArgs) -> bool {
    global.output == crate::cli::OutputFormat::Json
}

/// Writes `value` as one line of JSON on stdout: every `--output json` result is one document
/// per line, so a later error object (see `error_json` in lib.rs) is one more line.
pub(crate) fn print_json(
    printer: &mut Printer,
    value: &impl serde::Serialize,
) -> Result<(), Error> {
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    writeln!(printer.out(), "{text}")?;
    Ok(())
}

/// Reads and validates the stack file every command uses, and says on stderr which one it is
/// (hidden by `--quiet`): `--stack` (or STACKCTL_STACK), else `./stackctl.yaml` when there is
/// one (the file `stackctl init` writes), else the embedded default. The one place that
/// decides.
pub(crate) fn load_spec(
    global: &GlobalArgs,
    printer: &mut Printer,
) -> Result<(SpecSource, StackSpec), Error> {
    let local = Path::new(".").join(LOCAL_STACK_FILE);
    let (source, from) = match &global.stack {
        Some(path) => (SpecSource::read(path)?, path.display().to_string()),
        // exists, not is_file: a ./stackctl.yaml that cannot be read is an error, not a
        // reason to deploy the default instead.
        None if local.exists() => (SpecSource::read(&local)?, local.display().to_string()),
        None => (
            SpecSource::embedded_default(),
            format!("the embedded default (no ./{LOCAL_STACK_FILE} here)"),
        ),
    };
    let spec = source.load()?;
    printer.status(format_args!("using stack `{}` from {from}", spec.name))?;
    if let Some(path) = &source.path
        && let Some(stale) = crate::spec::schema::stale_copy(path, &source.text)
    {
        printer.status(format_args!(
            "{} (which the stack file's $schema line names) is not this stackctl's schema; editors check against an old one: refresh it with `stackctl schema --out {}`",
            stale.display(),
            stale.display()
        ))?;
    }
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
        progress: None,
        described: None,
    }
}
