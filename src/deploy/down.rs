//! `down`: delete the stack without ending in DELETE_FAILED and without losing data nobody
//! asked to lose.
//!
//! 1. refuse while termination protection is on (and say how to lift it), or while training
//!    jobs run in the stack's subnets (unless `--force`);
//! 2. record every physical resource and which ones the template retains;
//! 3. clear network interfaces that do not belong to the stack's own resources from its subnets
//!    and security group: delete those that are available and ours, wait (bounded, reported)
//!    for the others;
//! 4. delete the stack and wait; then check every recorded resource and remove what is left
//!    (see `sweep.rs`), and delete the stack again if CloudFormation ended in DELETE_FAILED;
//! 5. report what was kept (retained EFS, the data bucket) with the command that deletes it, or
//!    delete it with `--delete-data`.

use std::collections::BTreeSet;
use std::time::Instant;

use aws_sdk_cloudformation::types::TemplateStage;
use aws_sdk_ec2::types::Filter;

use super::DeployError;
use super::stack::{self, Phase};
use super::sweep::{self, Recorded, SweepSettings};
use super::up::Confirm;
use super::wait::{self, WaitSettings};
use crate::aws::{Aws, AwsError};
use crate::report::{Change, Outcome, Reporter};

/// What `down` was asked to do.
pub struct DownRequest<'a> {
    /// Stack name.
    pub stack: &'a str,
    /// `--yes`.
    pub yes: bool,
    /// `--force`: delete even while training jobs run.
    pub force: bool,
    /// `--delete-data`: also delete the retained file system and the data bucket.
    pub delete_data: bool,
    /// Asks the user on a terminal.
    pub confirm: Option<&'a Confirm<'a>>,
    /// Polling of the stack.
    pub wait: WaitSettings,
    /// Waits of the sweep.
    pub sweep: SweepSettings,
}

/// Runs `down`.
pub async fn down(
    aws: &Aws,
    req: &DownRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<Outcome, DeployError> {
    let started = Instant::now();
    let outcome = |status: &str, notes: Vec<String>| Outcome {
        stack: req.stack.to_owned(),
        status: status.to_owned(),
        success: true,
        outputs: Default::default(),
        duration_seconds: started.elapsed().as_secs_f64(),
        api_calls: aws.counter().calls(),
        failures: Vec::new(),
        notes,
    };

    let Some(mut info) = stack::describe(aws, req.stack).await? else {
        return Ok(outcome(
            "ABSENT",
            vec![format!(
                "stack `{}` does not exist; nothing to delete",
                req.stack
            )],
        ));
    };
    if info.termination_protection {
        return Err(DeployError::BadState {
            stack: req.stack.to_owned(),
            status: info.status.as_str().to_owned(),
            explanation: format!(
                "termination protection is on. Lift it with `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {}`, then run `stackctl down` again",
                req.stack
            ),
        });
    }
    if info.phase() == Phase::InProgress {
        reporter.notice(&format!(
            "stack `{}` is {}; waiting for that operation first",
            req.stack,
            info.status.as_str()
        ));
        let now = aws_sdk_cloudformation::primitives::DateTime::from(std::time::SystemTime::now());
        let settled =
            wait::until_settled(aws, &info.id, req.stack, Some(now), 0, reporter, req.wait).await?;
        match settled.stack {
            Some(s) => info = s,
            None => {
                return Ok(outcome(
                    "DELETE_COMPLETE",
                    vec!["the stack was deleted by the operation that was running".to_owned()],
                ));
            }
        }
    }
    let account = info.id.split(':').nth(4).unwrap_or_default().to_owned();

    let recorded = record(aws, &info.id).await?;
    let subnets: Vec<String> = recorded
        .iter()
        .filter(|r| r.resource_type == "AWS::EC2::Subnet")
        .map(|r| r.physical_id.clone())
        .collect();
    let private_subnets: BTreeSet<String> = info
        .outputs
        .get("PrivateSubnetIds")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|| subnets.iter().cloned().collect());
    let security_group = info.outputs.get("SecurityGroupId").cloned();

    let jobs = running_jobs(aws, &private_subnets, security_group.as_deref()).await?;
    if !jobs.is_empty() && !req.force {
        return Err(DeployError::BadState {
            stack: req.stack.to_owned(),
            status: info.status.as_str().to_owned(),
            explanation: format!(
                "training jobs are running in its subnets: {}. Stop them (`stackctl job stop NAME`) or pass --force",
                jobs.join(", ")
            ),
        });
    }

    // The plan: what goes, what stays.
    let plan: Vec<Change> = recorded
        .iter()
        .filter(|r| !r.retained || req.delete_data)
        .map(|r| Change {
            action: "Remove".to_owned(),
            logical_id: r.logical_id.clone(),
            resource_type: r.resource_type.clone(),
            replacement: None,
            causes: if r.retained {
                vec!["--delete-data".to_owned()]
            } else {
                Vec::new()
            },
            needs_confirmation: true,
        })
        .collect();
    reporter.change_set(&plan);
    for kept in recorded.iter().filter(|r| r.retained && !req.delete_data) {
        reporter.notice(&format!(
            "keeps {} {} ({}): retained by the template",
            kept.resource_type, kept.physical_id, kept.logical_id
        ));
    }
    if !req.yes {
        let ok = req.confirm.is_some_and(|ask| ask(&plan));
        if !ok {
            return Err(match req.confirm {
                Some(_) => DeployError::Declined,
                None => DeployError::NeedsConfirmation(format!(
                    "deleting stack `{}` and its {} resources",
                    req.stack,
                    plan.len()
                )),
            });
        }
    }

    // Network interfaces that are not the stack's own block the subnets and the group.
    let expected = stack_enis(aws, &recorded, info.outputs.get("NotebookInstanceName")).await?;
    let mut notes = Vec::new();
    if !subnets.is_empty() {
        let by_subnet = Filter::builder()
            .name("subnet-id")
            .set_values(Some(subnets.clone()))
            .build();
        sweep::clear_network_interfaces(
            aws,
            &[by_subnet],
            &expected,
            &account,
            reporter,
            req.sweep,
        )
        .await?;
    }
    if let Some(sg) = &security_group {
        let by_group = Filter::builder().name("group-id").values(sg).build();
        sweep::clear_network_interfaces(aws, &[by_group], &expected, &account, reporter, req.sweep)
            .await?;
    }

    let going = recorded.iter().filter(|r| !r.retained).count();
    let mut status = delete_and_wait(aws, &info.id, going, req, reporter).await?;
    let swept = sweep::sweep(aws, &recorded, &account, reporter, req.sweep).await?;
    if !swept.is_empty() {
        notes.push(format!(
            "removed {} resource(s) the stack deletion left behind (each reported above)",
            swept.len()
        ));
    }
    if status == "DELETE_FAILED" {
        reporter.notice("deleting the stack again now that what blocked it is gone");
        status = delete_and_wait(aws, &info.id, going, req, reporter).await?;
        if status == "DELETE_FAILED" {
            return Err(DeployError::Failed {
                stack: req.stack.to_owned(),
                status,
            });
        }
    }

    // What was kept, and how to delete it.
    for kept in recorded.iter().filter(|r| r.retained) {
        match kept.resource_type.as_str() {
            "AWS::EFS::FileSystem" if sweep::efs_exists(aws, &kept.physical_id).await? => {
                if req.delete_data {
                    delete_file_system(aws, &kept.physical_id, req.sweep).await?;
                    notes.push(format!(
                        "deleted EFS file system {} (--delete-data)",
                        kept.physical_id
                    ));
                } else {
                    notes.push(format!(
                        "kept EFS file system {} ({}); delete it with: aws efs delete-file-system --file-system-id {}",
                        kept.physical_id, kept.logical_id, kept.physical_id
                    ));
                }
            }
            "AWS::S3::Bucket" => {
                if req.delete_data {
                    let removed = super::bucket::delete_bucket(aws, &kept.physical_id).await?;
                    notes.push(format!(
                        "deleted bucket {} and its {removed} object versions (--delete-data)",
                        kept.physical_id
                    ));
                } else if super::bucket::exists(aws, &kept.physical_id).await? {
                    notes.push(format!(
                        "kept data bucket {} ({}); delete it with: aws s3 rb s3://{} --force",
                        kept.physical_id, kept.logical_id, kept.physical_id
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(outcome("DELETE_COMPLETE", notes))
}

/// Resource types that hold data: kept when the deployed template cannot be read.
const DATA_TYPES: [&str; 2] = ["AWS::S3::Bucket", "AWS::EFS::FileSystem"];

/// Whether CloudFormation keeps `logical` when the stack is deleted, by its `DeletionPolicy`
/// in the deployed template (`template` is None when it could not be parsed). Fails closed:
/// `Retain`, `RetainExceptOnCreate` (the CloudFormation reference: "behaves like Retain for
/// stack operations, except for the stack operation that initially created the resource"),
/// `Snapshot` and any value not known here count as kept, and so does every data-holding
/// resource of a template that cannot be read; only `Delete` or no policy at all is deleted.
pub(crate) fn retained_by(
    template: Option<&serde_yaml::Value>,
    logical: &str,
    resource_type: &str,
) -> bool {
    let Some(doc) = template else {
        return DATA_TYPES.contains(&resource_type);
    };
    match &doc["Resources"][logical]["DeletionPolicy"] {
        serde_yaml::Value::Null => false,
        serde_yaml::Value::String(policy) => policy != "Delete",
        // A policy this code cannot read (an intrinsic function, say): keep it.
        _ => true,
    }
}

/// The stack's resources, with those the template's `DeletionPolicy` keeps marked.
async fn record(aws: &Aws, stack_id: &str) -> Result<Vec<Recorded>, AwsError> {
    let template = aws
        .cfn
        .get_template()
        .stack_name(stack_id)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetTemplate", e))?;
    let doc: Option<serde_yaml::Value> = template
        .template_body()
        .and_then(|body| serde_yaml::from_str(body).ok())
        .filter(|d: &serde_yaml::Value| d["Resources"].is_mapping());
    let retained = |logical: &str, ty: &str| retained_by(doc.as_ref(), logical, ty);
    let mut recorded = Vec::new();
    let mut pages = aws
        .cfn
        .list_stack_resources()
        .stack_name(stack_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListStackResources", e))?;
        for r in page.stack_resource_summaries() {
            let logical = r.logical_resource_id().unwrap_or_default();
            // The emulator lists resource types it skipped as empty entries.
            if logical.is_empty() {
                continue;
            }
            recorded.push(Recorded {
                logical_id: logical.to_owned(),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                retained: retained(logical, r.resource_type().unwrap_or_default()),
            });
        }
    }
    Ok(recorded)
}

/// Names of training jobs in progress whose VPC config uses the stack's subnets or group.
async fn running_jobs(
    aws: &Aws,
    subnets: &BTreeSet<String>,
    group: Option<&str>,
) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = aws
        .sagemaker
        .list_training_jobs()
        .status_equals(aws_sdk_sagemaker::types::TrainingJobStatus::InProgress)
        .into_paginator()
        .items()
        .send();
    while let Some(job) = pages.next().await {
        let job = job.map_err(|e| AwsError::from_sdk("ListTrainingJobs", e))?;
        let name = job.training_job_name().unwrap_or_default();
        let described = aws
            .sagemaker
            .describe_training_job()
            .training_job_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeTrainingJob", e))?;
        let ours = described.vpc_config().is_some_and(|v| {
            v.subnets().iter().any(|s| subnets.contains(s))
                || group.is_some_and(|g| v.security_group_ids().iter().any(|s| s == g))
        });
        if ours {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// Network interfaces of resources the stack deletes itself (EFS mount targets, NAT gateways,
/// the notebook): the stack deletion takes care of them.
async fn stack_enis(
    aws: &Aws,
    recorded: &[Recorded],
    notebook: Option<&String>,
) -> Result<BTreeSet<String>, AwsError> {
    let mut enis = BTreeSet::new();
    for r in recorded
        .iter()
        .filter(|r| r.resource_type == "AWS::EFS::MountTarget")
    {
        if let Ok(out) = aws
            .efs
            .describe_mount_targets()
            .mount_target_id(&r.physical_id)
            .send()
            .await
        {
            enis.extend(
                out.mount_targets()
                    .iter()
                    .filter_map(|m| m.network_interface_id().map(str::to_owned)),
            );
        }
    }
    let nats: Vec<String> = recorded
        .iter()
        .filter(|r| r.resource_type == "AWS::EC2::NatGateway")
        .map(|r| r.physical_id.clone())
        .collect();
    if !nats.is_empty() {
        let out = aws
            .ec2
            .describe_nat_gateways()
            .set_nat_gateway_ids(Some(nats))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeNatGateways", e))?;
        for nat in out.nat_gateways() {
            enis.extend(
                nat.nat_gateway_addresses()
                    .iter()
                    .filter_map(|a| a.network_interface_id().map(str::to_owned)),
            );
        }
    }
    if let Some(name) = notebook
        && let Ok(out) = aws
            .sagemaker
            .describe_notebook_instance()
            .notebook_instance_name(name)
            .send()
            .await
    {
        enis.extend(out.network_interface_id().map(str::to_owned));
    }
    Ok(enis)
}

/// DeleteStack and wait; the final status (`DELETE_COMPLETE` when the stack is gone).
async fn delete_and_wait(
    aws: &Aws,
    stack_id: &str,
    total: usize,
    req: &DownRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<String, DeployError> {
    if let Err(err) = aws.cfn.delete_stack().stack_name(stack_id).send().await {
        let err = AwsError::from_sdk("DeleteStack", err);
        // The emulator deletes synchronously and fails on the VPC (or, when its first answer
        // was lost and the SDK retried, on something the first call already deleted): what is
        // left is checked and swept below either way. A stack already gone is fine too.
        let stack_gone = err.code() == Some("ValidationError")
            && err.message().is_some_and(|m| m.contains("does not exist"));
        if err.code() == Some("DependencyViolation") || sweep::is_gone(&err) || stack_gone {
            reporter.notice(&format!(
                "CloudFormation could not delete everything ({}); removing what is left directly",
                err.message().unwrap_or_default()
            ));
        } else {
            return Err(err.into());
        }
    }
    reporter.operation_started("delete", total);
    let now = aws_sdk_cloudformation::primitives::DateTime::from(std::time::SystemTime::now());
    let settled = wait::until_settled(
        aws,
        stack_id,
        req.stack,
        Some(now),
        total,
        reporter,
        req.wait,
    )
    .await?;
    Ok(settled.stack.map_or("DELETE_COMPLETE".to_owned(), |s| {
        s.status.as_str().to_owned()
    }))
}

/// Deletes an EFS file system whose mount targets are gone (or going).
async fn delete_file_system(aws: &Aws, id: &str, settings: SweepSettings) -> Result<(), AwsError> {
    loop {
        let targets = aws
            .efs
            .describe_mount_targets()
            .file_system_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeMountTargets", e))?;
        if targets.mount_targets().is_empty() {
            break;
        }
        for t in targets.mount_targets() {
            let _ = aws
                .efs
                .delete_mount_target()
                .mount_target_id(t.mount_target_id())
                .send()
                .await;
        }
        tokio::time::sleep(settings.poll).await;
    }
    sweep::gone_ok(
        aws.efs
            .delete_file_system()
            .file_system_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteFileSystem", e)),
    )
}
