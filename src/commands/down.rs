//! `stackctl down`: delete the stack, keep (or with --delete-data delete) the data.

use crate::cli::{DownArgs, GlobalArgs};
use crate::deploy::down::sweep::SweepSettings;
use crate::deploy::down::{DownRequest, Progress, STALL_AFTER, down};
use crate::deploy::wait::WaitSettings;
use crate::error::Error;
use crate::printer::Printer;
use crate::report::{self, Change};

/// Runs `down` with progress.
pub async fn run(global: &GlobalArgs, args: &DownArgs, printer: &mut Printer) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let reporter = report::for_output(global);
    let delete_data = args.delete_data;
    let ask = |plan: &[Change]| {
        let data = if delete_data {
            ", INCLUDING the retained file system and the data bucket"
        } else {
            ""
        };
        super::aws_context::ask(&format!(
            "Delete stack `{}` and {} resources{data}?",
            spec.name,
            plan.len()
        ))
    };
    let progress = Progress::default();
    let request = DownRequest {
        stack: spec.name.as_str(),
        yes: args.yes,
        force: args.force,
        delete_data: args.delete_data,
        confirm: if super::aws_context::interactive(global) {
            Some(&ask)
        } else {
            None
        },
        wait: WaitSettings::default(),
        sweep: SweepSettings {
            eni_timeout: std::time::Duration::from_secs(args.eni_timeout),
            ..SweepSettings::default()
        },
        stall_after: STALL_AFTER,
        progress: &progress,
    };
    // Ctrl-C while connecting is still "nothing changed" (Stage::Looking).
    let outcome = crate::interrupt::until_interrupted(
        async {
            let aws = super::aws_context::connect(global, &spec).await?;
            Ok(down(&aws, &request, reporter.as_ref()).await?)
        },
        async || {
            progress
                .stage()
                .interruption(spec.name.as_str())
                .with_globals(global)
                .into()
        },
    )
    .await?;
    reporter.finished(&outcome);
    Ok(())
}
