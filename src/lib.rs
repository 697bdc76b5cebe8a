//! stackctl: bootstrap an AWS account for distributed Mask R-CNN training, run the training,
//! and tear it all down again.
//!
//! Data flows one way: stack file -> validated [`spec::StackSpec`] -> rendered CloudFormation
//! template ([`render`]) -> deploy engine -> stack outputs ([`outputs`]) -> job module.
//! `main.rs` only calls [`main`].

pub mod aws;
pub mod cli;
pub mod commands;
pub mod cost;
pub mod data;
pub mod deploy;
pub mod error;
pub mod exit_code;
pub mod image;
pub mod interrupt;
pub mod jobs;
pub mod outputs;
pub mod preflight;
pub mod printer;
pub mod render;
pub mod report;
pub mod spec;
pub mod suggest;
pub mod table;
pub mod trace;

use std::ffi::OsString;

use cli::{Cli, Command, OutputFormat};
use error::Error;
use exit_code::ExitStatus;
use printer::Printer;
use spec::SpecError;

/// Parses `args` (once, with clap, as `OsString`s: a non-UTF-8 argument is a usage error or a
/// path, never a panic), builds the printer and the trace from the parsed flags (so `-yq` is
/// quiet), runs the command, reports any error, and returns the exit status.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitStatus {
    let parsed = <Cli as clap::CommandFactory>::command()
        .try_get_matches_from(args)
        .and_then(|matches| {
            cli::refuse_inapplicable(&matches)?;
            <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // clap formats help, version and usage errors; usage errors are bad input (2).
            let mut printer = Printer::stdio(false);
            let text = err.render().to_string();
            let status = if err.use_stderr() {
                let _ = write!(printer.err(), "{text}");
                ExitStatus::BadInput
            } else {
                let _ = write!(printer.out(), "{text}");
                ExitStatus::Success
            };
            let _ = printer.flush();
            return status;
        }
    };
    trace::init(cli.global.verbose);
    let mut printer = Printer::stdio(cli.global.quiet);
    let printer = &mut printer;
    let json = cli.global.output == OutputFormat::Json;
    let result = dispatch(&cli, printer);
    let status = match result {
        Ok(status) => status,
        Err(err) if err.is_broken_pipe() => ExitStatus::Success,
        Err(err) => {
            let status = err.exit_status();
            if json {
                let _ = writeln!(printer.out(), "{}", error_json(&err, status));
            }
            let _ = writeln!(printer.err(), "{}", err.report());
            status
        }
    };
    match printer.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe && status == ExitStatus::Success => {
            ExitStatus::Failure
        }
        _ => status,
    }
}

fn dispatch(cli: &Cli, printer: &mut Printer) -> Result<ExitStatus, Error> {
    if let Command::Plan(args) = &cli.command {
        return commands::plan::run(&cli.global, args, printer);
    }
    match &cli.command {
        Command::Init { path, force } => {
            commands::init::run(path, *force, commands::json(&cli.global), printer)
        }
        Command::Validate => commands::validate::run(&cli.global, printer),
        Command::Render { out } => commands::render::run(&cli.global, out.as_deref(), printer),
        Command::Plan(_) => unreachable!("handled above"),
        Command::Up(args) => block_on(commands::up::run(&cli.global, args, printer)),
        Command::Down(args) => block_on(commands::down::run(&cli.global, args, printer)),
        Command::Job(job) => {
            use cli::JobCommand as J;
            let g = &cli.global;
            match job {
                J::Submit(args) => block_on(commands::job::submit(g, args, printer)),
                J::List { max } => block_on(commands::job::list(g, *max, printer)),
                J::Describe { name } => block_on(commands::job::describe(g, name, printer)),
                J::Wait { name } => block_on(commands::job::wait(g, name, printer)),
                J::Logs {
                    name,
                    follow,
                    since,
                    tail,
                    host,
                } => {
                    let filter = crate::jobs::logs::LogFilter {
                        since: *since,
                        tail: *tail,
                        host: host.clone(),
                    };
                    block_on(commands::job::logs(g, name, *follow, &filter, printer))
                }
                J::Metrics { name, plot, model } => block_on(commands::job::metrics(
                    g,
                    name,
                    plot.as_deref(),
                    *model,
                    printer,
                )),
                J::Stop { name } => block_on(commands::job::stop(g, name, printer)),
                J::Render(args) => commands::job::render(g, args, printer),
            }
        }
        Command::Data(data) => match data {
            cli::DataCommand::Stage(args) => {
                block_on(commands::data::stage(&cli.global, args, printer))
            }
            cli::DataCommand::Status(target) => {
                block_on(commands::data::status(&cli.global, target, printer))
            }
        },
        Command::Image(image) => match image {
            cli::ImageCommand::Build(args) => {
                block_on(commands::image::run(&cli.global, args, false, printer))
            }
            cli::ImageCommand::Push(args) => {
                block_on(commands::image::run(&cli.global, args, true, printer))
            }
        },
        Command::Status => block_on(commands::status::run(&cli.global, printer)),
        Command::Doctor => block_on(commands::doctor::run(&cli.global, printer)),
        Command::Outputs { format } => {
            block_on(commands::outputs::run(&cli.global, *format, printer))
        }
        Command::Completions { shell } => {
            commands::completions::run(*shell, commands::json(&cli.global), printer)
        }
        Command::Man { dir } => {
            commands::man::run(dir.as_deref(), commands::json(&cli.global), printer)
        }
        Command::Schema { out } => {
            commands::schema::run(out.as_deref(), commands::json(&cli.global), printer)
        }
    }
    .map(|()| ExitStatus::Success)
}

/// Runs an AWS command on a runtime built only for commands that need one, so `--help`,
/// `render` and `plan` start without it.
pub(crate) fn block_on<T, F: std::future::Future<Output = Result<T, Error>>>(
    future: F,
) -> Result<T, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(future);
    // A blocking task (an archive being extracted when Ctrl-C came) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

/// The error as one JSON document, for `--output json` callers.
fn error_json(err: &Error, status: ExitStatus) -> serde_json::Value {
    let diagnostics = match err {
        Error::Spec(SpecError::Invalid { file, diagnostics }) => diagnostics
            .iter()
            .map(|d| {
                serde_json::json!({
                    "file": file,
                    "line": d.location.line,
                    "column": d.location.column,
                    "path": d.path,
                    "message": d.message,
                    "allowed": d.allowed,
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut value = serde_json::json!({
        "ok": false,
        "exit_code": status.code(),
        "error": err.report(),
        "diagnostics": diagnostics,
    });
    if let Error::Interrupted(interruption) = err {
        value["interruption"] = serde_json::to_value(interruption).unwrap_or_default();
    }
    value
}

/// The binary's entry point.
pub fn main() -> std::process::ExitCode {
    run(std::env::args_os()).into()
}
