//! `stackctl up`: create or update the stack.

use crate::cli::{GlobalArgs, OutputFormat, UpArgs};
use crate::deploy::up::{UpProgress, UpRequest, up};
use crate::error::Error;
use crate::printer::Printer;
use crate::report::{self, Change};

/// Runs `up` with progress, then prints the outputs.
pub async fn run(global: &GlobalArgs, args: &UpArgs, printer: &mut Printer) -> Result<(), Error> {
    let (source, spec) = super::load_spec(global, printer)?;
    // Rendered before connecting: a template that cannot be rendered needs no AWS to say so.
    let rendered = super::render_spec(global, &spec)?;
    let reporter = report::for_output(global);
    let ask = |changes: &[Change]| {
        let risky = changes.iter().filter(|c| c.needs_confirmation).count();
        super::aws_context::ask(&format!(
            "{risky} change(s) above replace or delete stateful resources or change IAM. Go ahead?"
        ))
    };
    let interactive = super::aws_context::interactive(global);
    // Ctrl-C from here on says what this run changed: nothing before CreateStack or
    // ExecuteChangeSet (connecting, describing, the preflight, a change set being prepared).
    let progress = UpProgress::default();
    let name = spec.name.to_string();
    let outcome = crate::interrupt::until_interrupted(
        async {
            let aws = super::aws_context::connect(global, &spec).await?;
            // A new stack may reuse the data an earlier deployment of its name kept.
            let offer = super::reuse::offer(&aws, global, args, &source, &spec, printer).await?;
            let (spec, rendered) = match offer.reused {
                Some((_, reused)) => {
                    let rendered = super::render_spec(global, &reused)?;
                    (reused, rendered)
                }
                None => (spec.clone(), rendered),
            };
            super::preflight(&aws, &spec, printer).await?;
            let request = UpRequest {
                yes: args.yes,
                confirm: if interactive { Some(&ask) } else { None },
                termination_protection: args.termination_protection,
                continue_rollback: args.continue_rollback,
                progress: Some(&progress),
                described: offer.described,
                ..super::up_request(&spec, &rendered)
            };
            Ok(up(&aws, &request, reporter.as_ref()).await?)
        },
        async || {
            progress
                .stage()
                .interruption(&name)
                .with_globals(global)
                .into()
        },
    )
    .await?;
    reporter.finished(&outcome);
    if global.output == OutputFormat::Text && outcome.success {
        super::outputs::write_table(printer.out(), &outcome.outputs)?;
    }
    if outcome.success {
        Ok(())
    } else {
        Err(Error::OperationFailed {
            stack: outcome.stack,
            status: outcome.status,
        })
    }
}
