//! Ctrl-C during a long operation: one error for all of them, and one way to wait for work or
//! Ctrl-C, whichever comes first.
//!
//! stackctl never cancels AWS work on Ctrl-C: a stack operation, a training job, a DataSync copy
//! and an FSx import all go on without it. So the error says what was interrupted, what keeps
//! running on AWS, and the exact commands to re-attach or to stop it; the exit code is always
//! 130 ([`crate::exit_code::ExitStatus::Interrupted`]).

use std::fmt;
use std::future::Future;

use serde::Serialize;

use crate::error::Error;

/// What an interruption left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interruption {
    /// When it came, with its preposition: `while waiting for training job `x``, `before `up`
    /// changed anything`.
    pub during: String,
    /// What goes on without stackctl (or what was not changed), as a sentence.
    pub left: String,
    /// What to run next, in order: re-attach first, then stop, then look.
    pub next: Vec<NextStep>,
}

/// One command to run after an interruption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    /// What it does: `re-attach`, `stop it`, `look`, `resume`.
    pub purpose: &'static str,
    /// The exact command line.
    pub command: String,
}

impl Interruption {
    /// An interruption `during` (with its preposition), leaving `left`.
    pub fn new(during: impl Into<String>, left: impl Into<String>) -> Self {
        Self {
            during: during.into(),
            left: left.into(),
            next: Vec::new(),
        }
    }

    /// Adds a command to run next.
    #[must_use]
    pub fn then(mut self, purpose: &'static str, command: impl Into<String>) -> Self {
        self.next.push(NextStep {
            purpose,
            command: command.into(),
        });
        self
    }

    /// The same, with the global options of this run (`--stack`, `--templates`, `--region`,
    /// `--profile`, `--endpoint-url`) in every `stackctl` command, so each one acts on the
    /// same stack, account and region when pasted.
    #[must_use]
    pub fn with_globals(mut self, global: &crate::cli::GlobalArgs) -> Self {
        let mut flags = Vec::new();
        let path =
            |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        for (flag, value) in [
            ("--stack", path(&global.stack)),
            ("--templates", path(&global.templates)),
            ("--region", global.region.clone()),
            ("--profile", global.profile.clone()),
            ("--endpoint-url", global.endpoint_url.clone()),
        ] {
            if let Some(value) = value {
                flags.push(flag.to_owned());
                flags.push(value);
            }
        }
        if flags.is_empty() {
            return self;
        }
        let globals = command_line(flags.into_iter());
        let globals = globals.strip_prefix("stackctl").unwrap_or(&globals);
        for step in &mut self.next {
            if let Some(rest) = step.command.strip_prefix("stackctl ") {
                step.command = format!("stackctl{globals} {rest}");
            }
        }
        self
    }

    /// Ctrl-C while waiting for a training job, which SageMaker keeps running.
    pub fn training_job(name: &str, during: &str) -> Self {
        Self::new(
            format!("while {during} training job `{name}`"),
            "the training job keeps running on SageMaker (and keeps costing) until it ends or is stopped",
        )
        .then("re-attach", format!("stackctl job wait {name}"))
        .then("stop it", format!("stackctl job stop {name}"))
    }
}

impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted {}: {}", self.during, self.left)?;
        let width = self.next.iter().map(|n| n.purpose.len()).max().unwrap_or(0);
        for step in &self.next {
            write!(
                f,
                "\n  {:<width$}  {}",
                format!("{}:", step.purpose),
                step.command,
                width = width + 1
            )?;
        }
        Ok(())
    }
}

/// The command line this process was started with, as `stackctl ...` to paste into a shell
/// (words that need it single-quoted): "run the same command again" made exact.
pub fn this_command() -> String {
    command_line(
        std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned()),
    )
}

fn command_line(args: impl Iterator<Item = String>) -> String {
    let plain = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c))
    };
    std::iter::once("stackctl".to_owned())
        .chain(args.map(|w| {
            if plain(&w) {
                w
            } else {
                crate::commands::outputs::shell_quote(&w)
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `work` until it ends or Ctrl-C comes, whichever is first; on Ctrl-C, `interrupted`
/// (which may ask a question or call AWS, e.g. to stop a job on request) makes the error.
/// The one place stackctl listens for Ctrl-C.
pub async fn until_interrupted<T>(
    work: impl Future<Output = Result<T, Error>>,
    interrupted: impl AsyncFnOnce() -> Error,
) -> Result<T, Error> {
    tokio::select! {
        result = work => result,
        Ok(()) = tokio::signal::ctrl_c() => Err(interrupted().await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_pastes_back_into_a_shell() {
        let words = [
            "data",
            "stage",
            "--from",
            "/tmp/my coco",
            "--prefix=a'b",
            "",
        ];
        assert_eq!(
            command_line(words.iter().map(|w| w.to_string())),
            r#"stackctl data stage --from '/tmp/my coco' '--prefix=a'\''b' ''"#
        );
    }

    #[test]
    fn commands_keep_the_global_options() {
        use clap::Parser;
        let cli = crate::cli::Cli::parse_from([
            "stackctl",
            "--stack",
            "my stack.yaml",
            "--region",
            "eu-west-1",
            "job",
            "wait",
            "x",
        ]);
        let i = Interruption::training_job("x", "waiting for")
            .then(
                "look",
                "aws sagemaker describe-training-job --training-job-name x",
            )
            .with_globals(&cli.global);
        assert_eq!(
            i.next[0].command,
            "stackctl --stack 'my stack.yaml' --region eu-west-1 job wait x"
        );
        assert_eq!(
            i.next[2].command,
            "aws sagemaker describe-training-job --training-job-name x"
        );
    }

    #[test]
    fn says_what_runs_on_and_the_commands_aligned() {
        let text = Interruption::training_job("demo-1", "waiting for").to_string();
        assert_eq!(
            text,
            "interrupted while waiting for training job `demo-1`: the training job keeps running on SageMaker (and keeps costing) until it ends or is stopped\n  \
             re-attach:  stackctl job wait demo-1\n  \
             stop it:    stackctl job stop demo-1"
        );
        assert_eq!(
            Interruption::new("while x", "nothing changed").to_string(),
            "interrupted while x: nothing changed"
        );
    }
}
