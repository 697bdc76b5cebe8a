//! What AWS commands share: connecting with the global options and the terminal checks.

use std::io::IsTerminal;

use crate::aws::{Aws, AwsOptions};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::Error;
use crate::spec::StackSpec;

/// Clients configured from the global options and the stack file's region.
pub(crate) async fn connect(global: &GlobalArgs, spec: &StackSpec) -> Result<Aws, Error> {
    let options = AwsOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    Ok(Aws::connect(&options, spec.region.as_ref().map(|r| r.as_str())).await?)
}

/// True when a person can answer a question: text output and a terminal on stdin and stderr.
pub(crate) fn interactive(global: &GlobalArgs) -> bool {
    global.output == OutputFormat::Text
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
}

/// Asks a yes/no question on the terminal; anything but `y`/`yes` is no.
pub(crate) fn ask(question: &str) -> bool {
    use std::io::Write;
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
