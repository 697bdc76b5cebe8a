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
    format: OutputsFormat,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let info = stack::describe(&aws, spec.name.as_str())
        .await?
        .ok_or_else(|| Error::NoStack(spec.name.to_string()))?;
    let out = printer.out();
    match format {
        OutputsFormat::Table => write_table(out, &info.outputs)?,
        OutputsFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string(&info.outputs).unwrap_or_default()
        )?,
        OutputsFormat::Env => {
            for (key, value) in &info.outputs {
                writeln!(out, "export {}={}", env_name(key), shell_quote(value))?;
            }
        }
    }
    Ok(())
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
    fn env_names_and_quoting() {
        assert_eq!(env_name("VpcId"), "VPC_ID");
        assert_eq!(env_name("PrivateSubnetIds"), "PRIVATE_SUBNET_IDS");
        assert_eq!(env_name("EfsFileSystemId"), "EFS_FILE_SYSTEM_ID");
        assert_eq!(env_name("ExecutionRoleArn"), "EXECUTION_ROLE_ARN");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
