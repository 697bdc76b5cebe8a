//! `stackctl plan`: validate, render and check; list the resources and outputs the stack would
//! have. (The change-set preview against a deployed stack needs credentials and comes with the
//! deploy engine.)

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::Error;
use crate::outputs::StackOutput;
use crate::printer::Printer;
use crate::render::TEMPLATE_BODY_LIMIT;
use crate::table::table;

/// Prints the offline plan.
pub fn run(global: &GlobalArgs, printer: &mut Printer) -> Result<(), Error> {
    let (source, spec) = super::load_spec(global)?;
    let rendered = super::render_spec(global, &spec)?;
    let checked = &rendered.checked;
    let description = |name: &str| {
        StackOutput::ALL
            .iter()
            .find(|o| o.name() == name)
            .map_or("", |o| o.description())
    };

    if global.output == OutputFormat::Json {
        let doc = serde_json::json!({
            "stack": spec.name,
            "file": source.display,
            "region": spec.region,
            "template_bytes": rendered.body.len(),
            "template_limit": TEMPLATE_BODY_LIMIT,
            "resources": checked.resources.iter()
                .map(|(id, ty)| serde_json::json!({"logical_id": id, "type": ty}))
                .collect::<Vec<_>>(),
            "outputs": checked.outputs.iter()
                .map(|name| serde_json::json!({"name": name, "description": description(name)}))
                .collect::<Vec<_>>(),
        });
        writeln!(printer.out(), "{doc}")?;
        return Ok(());
    }

    let out = printer.out();
    writeln!(
        out,
        "Stack `{}` from {}: template {} bytes (limit {TEMPLATE_BODY_LIMIT}), checked",
        spec.name,
        source.display,
        rendered.body.len()
    )?;
    writeln!(out, "\nResources ({}):", checked.resources.len())?;
    let rows: Vec<[String; 2]> = checked
        .resources
        .iter()
        .map(|(id, ty)| [id.clone(), ty.clone()])
        .collect();
    write!(out, "{}", table(["LOGICAL ID", "TYPE"], &rows))?;
    writeln!(out, "\nOutputs ({}):", checked.outputs.len())?;
    let rows: Vec<[String; 2]> = checked
        .outputs
        .iter()
        .map(|name| [name.clone(), description(name).to_owned()])
        .collect();
    write!(out, "{}", table(["NAME", "DESCRIPTION"], &rows))?;
    Ok(())
}
