//! `stackctl completions SHELL`: the shell completion script, generated from the command tree.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;
use crate::printer::Printer;

/// Prints the completion script for `shell`; with `json`, one object with the script in a
/// string (docs/json-output.md).
pub fn run(shell: Shell, json: bool, printer: &mut Printer) -> Result<(), Error> {
    let script = script(shell);
    if json {
        let doc = serde_json::json!({
            "shell": shell.to_string(),
            "bytes": script.len(),
            "script": String::from_utf8_lossy(&script),
        });
        return super::print_json(printer, &doc);
    }
    printer.out().write_all(&script)?;
    Ok(())
}

/// The script, generated at call time (never at start-up: `--help` stays fast).
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "stackctl", &mut script);
    script
}
