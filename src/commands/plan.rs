//! `stackctl plan`: validate, render and check; list the resources and outputs the stack has;
//! estimate its cost; and, unless `--offline`, preview the change set `up` would run against
//! the deployed stack (the preview change set is deleted again).

use std::io::Write;

use crate::cli::{GlobalArgs, OutputFormat, PlanArgs};
use crate::cost::{Estimate, Prices, estimate};
use crate::deploy::target::Target;
use crate::deploy::up::{Preview, preview};
use crate::error::Error;
use crate::exit_code::ExitStatus;
use crate::outputs::StackOutput;
use crate::printer::Printer;
use crate::render::TEMPLATE_BODY_LIMIT;
use crate::report::{Change, change_table};
use crate::table::table;

/// Prints the plan; `Changes` with `--detailed-exitcode` when the stack would change.
pub fn run(
    global: &GlobalArgs,
    args: &PlanArgs,
    printer: &mut Printer,
) -> Result<ExitStatus, Error> {
    let (source, spec) = super::load_spec(global, printer)?;
    let rendered = super::render_spec(global, &spec)?;
    let checked = &rendered.checked;
    let cost = estimate(&spec, &Prices::embedded());

    let (preview, findings, target) = if args.offline {
        printer.status(
            "preflight: skipped (--offline): zones and an existing EFS file system are not checked",
        )?;
        let target = Target {
            account: None,
            region: global
                .region
                .clone()
                .or_else(|| spec.region.as_ref().map(|r| r.as_str().to_owned())),
            endpoint: global
                .endpoint_url
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok()),
        };
        (None, Vec::new(), target)
    } else {
        let request = super::up_request(&spec, &rendered);
        let (p, f, t) = crate::block_on(async {
            let aws = super::aws_context::connect(global, &spec).await?;
            let findings = super::preflight(&aws, &spec, printer).await?;
            let (preview, target) = preview(&aws, &request).await?;
            Ok::<_, Error>((preview, findings, target))
        })?;
        (Some(p), f, t)
    };
    printer.status(target.line("plan", spec.name.as_str()))?;
    let changes = matches!(preview, Some(Preview::Create(_) | Preview::Update(_)));
    let description = |name: &str| {
        StackOutput::ALL
            .iter()
            .find(|o| o.name() == name)
            .map_or("", |o| o.description())
    };

    if global.output == OutputFormat::Json {
        let (kind, list): (&str, &[Change]) = match &preview {
            None => ("offline", &[]),
            Some(Preview::NoChanges) => ("no_changes", &[]),
            Some(Preview::Create(c)) => ("create", c),
            Some(Preview::Update(c)) => ("update", c),
        };
        let doc = serde_json::json!({
            "stack": spec.name,
            "file": source.display,
            "account": target.account,
            "region": target.region,
            "endpoint": target.endpoint,
            "template_bytes": rendered.body.len(),
            "template_limit": TEMPLATE_BODY_LIMIT,
            "resources": checked.resources.iter()
                .map(|(id, ty)| serde_json::json!({"logical_id": id, "type": ty}))
                .collect::<Vec<_>>(),
            "outputs": checked.outputs.iter()
                .map(|name| serde_json::json!({"name": name, "description": description(name)}))
                .collect::<Vec<_>>(),
            "cost_estimate": cost,
            "preview": {"kind": kind, "changes": list},
            "preflight": findings,
        });
        writeln!(printer.out(), "{doc}")?;
    } else {
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
            .map(|n| [n.clone(), description(n).to_owned()])
            .collect();
        write!(out, "{}", table(["NAME", "DESCRIPTION"], &rows))?;
        write_cost(out, &cost)?;
        match &preview {
            None => writeln!(out, "\nChanges: not previewed (--offline)")?,
            Some(Preview::NoChanges) => {
                writeln!(out, "\nChanges: none; the deployed stack matches")?
            }
            Some(Preview::Create(c)) => {
                writeln!(
                    out,
                    "\nChanges: the stack does not exist; `stackctl up` creates {} resources",
                    c.len()
                )?;
                write!(out, "{}", change_table(c))?;
            }
            Some(Preview::Update(c)) => {
                writeln!(
                    out,
                    "\nChanges ({}): the change set `stackctl up` would execute",
                    c.len()
                )?;
                write!(out, "{}", change_table(c))?;
            }
        }
    }
    Ok(if changes && args.detailed_exitcode {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

fn write_cost(out: &mut dyn Write, cost: &Estimate) -> std::io::Result<()> {
    let heading = format!("Estimated cost (an estimate: {}):", cost.basis);
    writeln!(out)?;
    for line in crate::table::wrap(&heading, crate::table::WIDTH) {
        writeln!(out, "{line}")?;
    }
    let money = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), crate::cost::money);
    let mut rows: Vec<[String; 4]> = cost
        .lines
        .iter()
        .map(|l| {
            [
                l.item.clone(),
                money(l.hourly),
                money(l.monthly),
                l.note.clone(),
            ]
        })
        .collect();
    rows.push([
        "total".to_owned(),
        crate::cost::money(cost.hourly_total),
        crate::cost::money(cost.monthly_total),
        "while the stack exists, before data and traffic".to_owned(),
    ]);
    write!(
        out,
        "{}",
        table(["ITEM", "PER HOUR", "PER MONTH", "NOTE"], &rows)
    )
}
