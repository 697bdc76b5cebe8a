//! `stackctl status`: stack status, resources with their status, drift, last failure.

use std::collections::BTreeSet;
use std::io::Write;

use crate::aws::AwsError;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::deploy::{events, kept, stack};
use crate::error::Error;
use crate::printer::Printer;

/// Prints the stack's state.
pub async fn run(global: &GlobalArgs, printer: &mut Printer) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let Some(info) = stack::describe(&aws, spec.name.as_str()).await? else {
        let found = kept::find_lenient(&aws, spec.name.as_str(), &BTreeSet::new()).await?;
        if global.output == OutputFormat::Json {
            writeln!(
                printer.out(),
                "{}",
                // The same keys as for a deployed stack: absent values are null, not missing.
                serde_json::json!({
                    "stack": spec.name,
                    "id": null,
                    "status": "ABSENT",
                    "reason": null,
                    "drift": null,
                    "termination_protection": null,
                    "resources": [],
                    "last_failure": null,
                    "kept_data": found.kept,
                    "unreadable_buckets": found.unreadable,
                    "kept_data_error": found.lookup_error,
                })
            )?;
        } else {
            writeln!(printer.out(), "stack `{}` does not exist", spec.name)?;
            write_kept(printer.out(), spec.name.as_str(), &found)?;
        }
        return Ok(());
    };
    let mut resources = Vec::new();
    let mut pages = aws
        .cfn
        .list_stack_resources()
        .stack_name(&info.id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListStackResources", e))?;
        for r in page.stack_resource_summaries() {
            resources.push([
                r.logical_resource_id().unwrap_or_default().to_owned(),
                r.resource_type().unwrap_or_default().to_owned(),
                r.resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                r.physical_resource_id().unwrap_or_default().to_owned(),
            ]);
        }
    }
    // The most recent failure, from the newest page of events.
    let last_failure = aws
        .cfn
        .describe_stack_events()
        .stack_name(&info.id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeStackEvents", e))?
        .stack_events()
        .iter()
        .map(events::view)
        .find(|e| e.is_failure());

    // What earlier deployments of this name kept; what this stack holds or uses is its own.
    let in_use: BTreeSet<String> = resources
        .iter()
        .map(|r| r[3].clone())
        .chain(info.outputs.values().cloned())
        .collect();
    let found = kept::find_lenient(&aws, spec.name.as_str(), &in_use).await?;

    let out = printer.out();
    if global.output == OutputFormat::Json {
        let doc = serde_json::json!({
            "stack": info.name,
            "id": info.id,
            "status": info.status.as_str(),
            "reason": info.reason,
            "drift": info.drift,
            "termination_protection": info.termination_protection,
            "resources": resources.iter().map(|r| serde_json::json!({
                "logical_id": r[0], "type": r[1], "status": r[2], "physical_id": r[3],
            })).collect::<Vec<_>>(),
            "last_failure": last_failure,
            "kept_data": found.kept,
            "unreadable_buckets": found.unreadable,
            "kept_data_error": found.lookup_error,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(out, "stack:   {} ({})", info.name, info.id)?;
    writeln!(
        out,
        "status:  {}{}",
        info.status.as_str(),
        info.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "drift:   {}",
        info.drift.as_deref().unwrap_or("unknown (never detected)")
    )?;
    writeln!(
        out,
        "termination protection: {}",
        if info.termination_protection {
            "on"
        } else {
            "off"
        }
    )?;
    if let Some(f) = &last_failure {
        writeln!(
            out,
            "last failure: {} {} ({}) at {}: {}",
            f.status,
            f.logical_id,
            f.resource_type,
            f.time,
            f.reason.as_deref().unwrap_or("no reason given")
        )?;
    }
    writeln!(out, "\nResources ({}):", resources.len())?;
    write!(
        out,
        "{}",
        crate::table::table(["LOGICAL ID", "TYPE", "STATUS", "PHYSICAL ID"], &resources)
    )?;
    write_kept(out, spec.name.as_str(), &found)?;
    Ok(())
}

/// The data earlier deployments of `stack` kept, with what to do about it.
fn write_kept(out: &mut dyn Write, stack: &str, found: &kept::Found) -> std::io::Result<()> {
    if !found.kept.is_empty() {
        writeln!(
            out,
            "\nKept by earlier deployments of `{stack}` (still billed; `stackctl up` of a new stack offers to reuse them, `stackctl down --delete-data` deletes them):"
        )?;
        for k in &found.kept {
            writeln!(out, "  {}", k.line())?;
        }
    }
    if let Some(why) = &found.lookup_error {
        writeln!(out, "\n{why}")?;
    }
    if !found.unreadable.is_empty() {
        writeln!(
            out,
            "\nCould not read the tags of {} (a bucket kept by `{stack}` among them is not listed):",
            crate::report::count(found.unreadable.len(), "bucket", "buckets")
        )?;
        for u in &found.unreadable {
            writeln!(out, "  {u}")?;
        }
    }
    Ok(())
}
