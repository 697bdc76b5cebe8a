//! `stackctl outputs`: the stack's outputs as a table, JSON, or `export` lines for `eval`.

use std::collections::BTreeMap;
use std::io::Write;

use crate::cli::{GlobalArgs, OutputsFormat};
use crate::deploy::stack;
use crate::error::Error;
use crate::printer::Printer;

/// Prints the outputs of the deployed stack.
pub async fn run(
    global: &GlobalArgs,
    format: Option<OutputsFormat>,
    printer: &mut Printer,
) -> Result<(), Error> {
    // Decided before anything is read: a conflict is bad input, not a failure half-way.
    let format = resolve_format(format, super::json(global))?;
    let (_, spec) = super::load_spec(global, printer)?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let info = stack::describe(&aws, spec.name.as_str())
        .await?
        .ok_or_else(|| Error::NoStack(spec.name.to_string()))?;
    match format {
        OutputsFormat::Table => write_table(printer.out(), &info.outputs)?,
        OutputsFormat::Json => super::print_json(printer, &info.outputs)?,
        OutputsFormat::Env => {
            let out = printer.out();
            for (key, value) in &info.outputs {
                writeln!(out, "export {}={}", env_name(key), shell_quote(value))?;
            }
        }
    }
    Ok(())
}

/// `--format` against the global `--output`: `--output json` means `--format json`, and
/// takes no other (table and env lines are not JSON); without it `--format` decides, table
/// by default.
fn resolve_format(format: Option<OutputsFormat>, json: bool) -> Result<OutputsFormat, Error> {
    match (format, json) {
        (None, true) | (Some(OutputsFormat::Json), _) => Ok(OutputsFormat::Json),
        (Some(other), true) => {
            let (flag, what) = match other {
                OutputsFormat::Env => ("env", "`export NAME='value'` lines for eval"),
                _ => ("table", "aligned text"),
            };
            Err(Error::JsonConflict {
                flag: format!("--format {flag}"),
                reason: format!(
                    "it prints {what}, not JSON; use --format json (or leave --format out), or drop --output json (and STACKCTL_OUTPUT=json) for {flag}"
                ),
            })
        }
        (None, false) => Ok(OutputsFormat::Table),
        (Some(other), false) => Ok(other),
    }
}

/// NAME VALUE lines.
pub(crate) fn write_table(
    out: &mut dyn Write,
    outputs: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let rows: Vec<[String; 2]> = outputs
        .iter()
        .map(|(k, v)| [k.clone(), v.clone()])
        .collect();
    write!(out, "{}", crate::table::table(["OUTPUT", "VALUE"], &rows))
}

/// `PrivateSubnetIds` -> `PRIVATE_SUBNET_IDS`.
pub fn env_name(key: &str) -> String {
    let mut name = String::with_capacity(key.len() + 4);
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = i > 0
            && c.is_ascii_uppercase()
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_digit()
                || chars.get(i + 1).is_some_and(char::is_ascii_lowercase)
                    && chars[i - 1].is_ascii_uppercase());
        if boundary {
            name.push('_');
        }
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_uppercase());
        } else {
            name.push('_');
        }
    }
    name
}

/// Single-quotes a value for POSIX shells.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_output_json_are_reconciled() {
        use OutputsFormat::{Env, Json, Table};
        assert_eq!(resolve_format(None, false).unwrap(), Table);
        assert_eq!(resolve_format(None, true).unwrap(), Json);
        assert_eq!(resolve_format(Some(Json), true).unwrap(), Json);
        assert_eq!(resolve_format(Some(Env), false).unwrap(), Env);
        for (format, flag) in [(Env, "--format env"), (Table, "--format table")] {
            let err = resolve_format(Some(format), true).unwrap_err();
            assert_eq!(err.exit_status(), crate::exit_code::ExitStatus::BadInput);
            let text = err.to_string();
            assert!(
                text.contains(flag) && text.contains("--format json"),
                "{text}"
            );
        }
    }

    #[test]
    fn env_names_and_quoting() {
        assert_eq!(env_name("VpcId"), "VPC_ID");
        assert_eq!(env_name("PrivateSubnetIds"), "PRIVATE_SUBNET_IDS");
        assert_eq!(env_name("EfsFileSystemId"), "EFS_FILE_SYSTEM_ID");
        assert_eq!(env_name("ExecutionRoleArn"), "EXECUTION_ROLE_ARN");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
