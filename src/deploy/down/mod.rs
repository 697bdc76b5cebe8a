//! `down`: delete the stack so that it ends, orphans nothing that costs money, touches nothing
//! that is not the stack's own, and loses no data nobody asked to lose.
//!
//! 1. refuse while termination protection is on, or while training jobs run in the stack's
//!    subnets (unless `--force`); attach when a deletion already runs;
//! 2. record every physical resource and its deletion policy (strictly; undecidable keeps);
//! 3. end running work: `--force` stops the training jobs, and FSx data repository tasks and
//!    DataSync executions of the stack are cancelled, each waited for with a deadline;
//! 4. DeleteStack first, so CloudFormation removes FSx, mount targets, the notebook and
//!    DataSync with their interfaces; while it waits, a subnet or group whose deletion stalls
//!    is examined, and something that is not the stack's stops `down` at once, named;
//! 5. sweep what is left (see `sweep.rs`), clearing interfaces from the stack's own subnets
//!    only (see `interfaces.rs`), and delete the stack again if it ended in DELETE_FAILED;
//! 6. report what was kept with the command that deletes it, or delete it (`--delete-data`).
//!
//! Every call may be retried by the SDK after a lost answer; every step treats "already gone"
//! as done, so running `down` again is always safe.

pub mod bucket;
pub mod interfaces;
pub mod retention;
pub mod sweep;
mod work;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::interrupt::Interruption;

use aws_sdk_cloudformation::types::{StackStatus, TemplateStage};

use self::interfaces::{Cleared, Scope};
use self::retention::{Policies, Retention};
use self::sweep::{Recorded, SweepError, SweepSettings};
use super::DeployError;
use super::kept::{self, Kept, KeptKind};
use super::stack::{self, Phase, StackInfo};
use super::target::Target;
use super::up::Confirm;
use super::wait::{self, WaitSettings};
use crate::aws::{Aws, AwsError};
use crate::outputs::StackOutput;
use crate::report::{Change, Outcome, Reporter};

/// What `down` was asked to do.
pub struct DownRequest<'a> {
    /// Stack name.
    pub stack: &'a str,
    /// `--yes`.
    pub yes: bool,
    /// `--force`: stop the stack's training jobs, then delete.
    pub force: bool,
    /// `--delete-data`: also delete the retained file system and the data bucket.
    pub delete_data: bool,
    /// Asks the user on a terminal.
    pub confirm: Option<&'a Confirm<'a>>,
    /// Polling of the stack.
    pub wait: WaitSettings,
    /// Waits of the sweep.
    pub sweep: SweepSettings,
    /// How long a subnet or the security group may stay DELETE_IN_PROGRESS before `down`
    /// looks at what holds it.
    pub stall_after: Duration,
    /// How far `down` got (read by the caller after an interruption).
    pub progress: &'a Progress,
}

/// How far `down` got, so an interruption can say what goes on without it.
pub type Progress = super::progress::Progress<Stage>;

/// The stages of `down`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the stack; nothing changed yet.
    Looking,
    /// Stopping training jobs and cancelling tasks; the stack is not being deleted yet.
    StoppingWork,
    /// DeleteStack was called; CloudFormation goes on without stackctl.
    Deleting,
    /// Removing what the deletion left.
    Sweeping,
}

impl super::progress::Stage for Stage {
    const ORDER: &'static [Self] = &[
        Self::Looking,
        Self::StoppingWork,
        Self::Deleting,
        Self::Sweeping,
    ];
}

impl Stage {
    /// What an interruption at this stage leaves behind, and what to run.
    pub fn interruption(self, stack: &str) -> Interruption {
        match self {
            Self::Looking => Interruption::new(
                "before `down` changed anything",
                format!("nothing of stack `{stack}` was stopped or deleted"),
            )
            .then("start again", "stackctl down"),
            Self::StoppingWork => Interruption::new(
                format!("while ending the running work of stack `{stack}`"),
                "what was asked to stop goes on stopping on AWS, and the stack was not deleted",
            )
            .then("go on", "stackctl down"),
            Self::Deleting => Interruption::new(
                format!("while waiting for stack `{stack}` to be deleted"),
                "CloudFormation continues the deletion",
            )
            .then("re-attach (then it removes what is left and reports the kept data)", "stackctl down")
            .then("look", "stackctl status"),
            Self::Sweeping => Interruption::new(
                format!("while removing what the deletion of stack `{stack}` left behind"),
                "nothing runs on AWS for it; a second `down` finds the deleted stack's resources again and finishes",
            )
            .then("finish", "stackctl down"),
        }
    }
}

/// The default time a subnet or group may stay in DELETE_IN_PROGRESS before `down` looks.
pub const STALL_AFTER: Duration = Duration::from_secs(3 * 60);

/// Runs `down`.
pub async fn down(
    aws: &Aws,
    req: &DownRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<Outcome, DeployError> {
    let started = Instant::now();
    let found = stack::describe(aws, req.stack).await?;
    // Gone: the last deletion of this name, if CloudFormation still lists one (90 days).
    let deleted = match &found {
        Some(_) => None,
        None => last_deleted(aws, req.stack).await?,
    };
    let target = Target::resolve(
        aws,
        found.as_ref().map(|i| i.id.as_str()).or(deleted.as_deref()),
    )
    .await?;
    reporter.target("down", req.stack, &target);
    let outcome = |status: &str, notes: Vec<String>| Outcome {
        stack: req.stack.to_owned(),
        target: target.clone(),
        status: status.to_owned(),
        success: true,
        outputs: Default::default(),
        duration_seconds: started.elapsed().as_secs_f64(),
        api_calls: aws.counter().calls(),
        failures: Vec::new(),
        notes,
    };

    let Some(mut info) = found else {
        // Gone: check what the last deletion of this name left (an interrupted sweep, kept
        // data).
        let Some(id) = deleted else {
            // No record left (never created, or deleted more than 90 days ago): the tags
            // still tell what it kept.
            let earlier = earlier_kept(aws, req.stack, &[], req.delete_data, reporter).await?;
            if earlier.is_empty() {
                return Ok(outcome(
                    "ABSENT",
                    vec![format!(
                        "stack `{}` does not exist; nothing to delete",
                        req.stack
                    )],
                ));
            }
            if req.delete_data && !req.yes {
                confirm(req, &plan_of(&[], &earlier, true))?;
            }
            req.progress.enter(Stage::Sweeping);
            let mut notes = vec![format!(
                "stack `{}` does not exist; it kept data that its tags still name",
                req.stack
            )];
            notes.extend(handle_kept(aws, req, &kept_data(&[], &earlier, req.stack)).await?);
            return Ok(outcome("ABSENT", notes));
        };
        reporter.notice(&format!(
            "stack `{}` does not exist (it was deleted); checking what it left behind",
            req.stack
        ));
        let recorded = record(aws, &id, true).await?;
        let earlier = earlier_kept(aws, req.stack, &recorded, req.delete_data, reporter).await?;
        if req.delete_data && !req.yes {
            confirm(req, &plan_of(&recorded, &earlier, true))?;
        }
        req.progress.enter(Stage::Sweeping);
        let known = known_interfaces(aws, &recorded, None).await;
        let scope = scope_of(&recorded, account_of(&id), &BTreeMap::new(), &known);
        let mut notes = vec![format!(
            "stack `{}` does not exist; it was deleted before",
            req.stack
        )];
        notes.extend(after_delete(aws, req, &recorded, &earlier, &scope, reporter).await?);
        return Ok(outcome("DELETE_COMPLETE", notes));
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
    if info.status == StackStatus::DeleteInProgress {
        reporter.notice(&format!(
            "stack `{}` is already being deleted; attaching to that deletion",
            req.stack
        ));
    } else if info.phase() == Phase::InProgress {
        reporter.notice(&format!(
            "stack `{}` is {}; waiting for that operation first",
            req.stack,
            info.status.as_str()
        ));
        let now = aws_sdk_cloudformation::primitives::DateTime::from(std::time::SystemTime::now());
        let settled =
            wait::until_settled(aws, &info.id, req.stack, Some(now), 0, reporter, req.wait).await?;
        match settled.stack {
            Some(s) if s.status != StackStatus::DeleteComplete => info = s,
            _ => {
                return Ok(outcome(
                    "DELETE_COMPLETE",
                    vec!["the stack was deleted by the operation that was running".to_owned()],
                ));
            }
        }
    }

    let recorded = record(aws, &info.id, false).await?;
    // The stack's jobs: run with its role, or in a subnet or group it created. With
    // `network.existing` the subnets and group are shared, so only the role tells.
    let jobs = work::running_jobs(
        aws,
        &ids_of(&recorded, "AWS::EC2::Subnet").into_iter().collect(),
        ids_of(&recorded, "AWS::EC2::SecurityGroup")
            .first()
            .map(String::as_str),
        info.outputs
            .get(StackOutput::ExecutionRoleArn.name())
            .map(String::as_str),
    )
    .await?;
    let running: Vec<&str> = jobs
        .iter()
        .filter(|j| j.running)
        .map(|j| j.name.as_str())
        .collect();
    if !running.is_empty() && !req.force {
        return Err(DeployError::BadState {
            stack: req.stack.to_owned(),
            status: info.status.as_str().to_owned(),
            explanation: format!(
                "training jobs of the stack are running: {}. Stop them (`stackctl job stop NAME`), or pass --force to stop them and delete",
                running.join(", ")
            ),
        });
    }

    // The plan: what goes, what stays.
    let earlier = earlier_kept(aws, req.stack, &recorded, req.delete_data, reporter).await?;
    let plan = plan_of(&recorded, &earlier, req.delete_data);
    reporter.change_set(&plan);
    for kept in recorded.iter().filter(|r| r.retention.kept()) {
        reporter.notice(&format!(
            "keeps {} {} ({}): {}",
            kept.resource_type,
            kept.physical_id,
            kept.logical_id,
            kept.retention.reason()
        ));
    }
    for k in &earlier {
        reporter.notice(&format!(
            "{} was kept by an earlier deployment of `{}` (found by its tags); {}",
            k.line(),
            req.stack,
            if req.delete_data {
                "--delete-data deletes it too"
            } else {
                "kept"
            }
        ));
    }
    if !req.yes {
        confirm(req, &plan)?;
    }

    // Running work first: it would block the deletion or survive it.
    req.progress.enter(Stage::StoppingWork);
    let swept = |e: SweepError| sweep_error(req.stack, e);
    if !jobs.is_empty() {
        work::stop_jobs(aws, &jobs, reporter, req.sweep)
            .await
            .map_err(swept)?;
    }
    work::cancel_fsx_tasks(
        aws,
        &ids_of(&recorded, "AWS::FSx::FileSystem"),
        reporter,
        req.sweep,
    )
    .await
    .map_err(swept)?;
    work::cancel_datasync_executions(
        aws,
        &ids_of(&recorded, "AWS::DataSync::Task"),
        reporter,
        req.sweep,
    )
    .await
    .map_err(swept)?;

    // What the stack's resources hold now, so their interfaces are known for what they are
    // if the deletion stalls.
    let known = known_interfaces(
        aws,
        &recorded,
        info.outputs.get(StackOutput::NotebookInstanceName.name()),
    )
    .await;
    let scope = scope_of(&recorded, account_of(&info.id), &info.outputs, &known);

    req.progress.enter(Stage::Deleting);
    let going = recorded.iter().filter(|r| !r.retention.kept()).count();
    // A deletion already running is attached to, not requested again.
    let first = if info.status == StackStatus::DeleteInProgress {
        wait_for_delete(aws, &info, going, req, &scope, reporter).await?
    } else {
        delete_and_wait(aws, &info, going, req, &scope, reporter).await?
    };
    req.progress.enter(Stage::Sweeping);
    let mut notes = Vec::new();
    if let Some(reason) = &first {
        reporter.notice(&format!(
            "the stack deletion failed ({reason}); removing what blocks it, then deleting again"
        ));
    }
    notes.extend(after_delete(aws, req, &recorded, &earlier, &scope, reporter).await?);
    if first.is_some() {
        req.progress.enter(Stage::Deleting);
        if let Some(reason) = delete_and_wait(aws, &info, going, req, &scope, reporter).await? {
            return Err(DeployError::Failed {
                stack: req.stack.to_owned(),
                status: format!("DELETE_FAILED: {reason}"),
            });
        }
    }
    Ok(outcome("DELETE_COMPLETE", notes))
}

/// Sweep, then report (or with `--delete-data` delete) the kept data; the notes to return.
async fn after_delete(
    aws: &Aws,
    req: &DownRequest<'_>,
    recorded: &[Recorded],
    earlier: &[Kept],
    scope: &Scope,
    reporter: &dyn Reporter,
) -> Result<Vec<String>, DeployError> {
    let mut notes = Vec::new();
    let swept = sweep::sweep(aws, recorded, scope, reporter, req.sweep)
        .await
        .map_err(|e| sweep_error(req.stack, e))?;
    if !swept.is_empty() {
        notes.push(format!(
            "removed {} resource(s) the stack deletion left behind (each reported above)",
            swept.len()
        ));
    }
    for left in sweep::left_alone(aws, recorded).await? {
        if !matches!(left.resource_type.as_str(), "AWS::EFS::FileSystem") {
            let line = format!(
                "left {} {} ({}) in place: {}",
                left.resource_type,
                left.physical_id,
                left.logical_id,
                left.retention.reason()
            );
            reporter.notice(&line);
            notes.push(line);
        }
    }
    notes.extend(handle_kept(aws, req, &kept_data(recorded, earlier, req.stack)).await?);
    Ok(notes)
}

/// One piece of kept data that `down` reports, or with `--delete-data` deletes.
struct KeptData {
    kind: KeptKind,
    id: String,
    /// Why it is kept: the logical id and policy, or the earlier deployment.
    why: String,
}

/// The kept data of the recorded stack, then what earlier deployments kept.
fn kept_data(recorded: &[Recorded], earlier: &[Kept], stack: &str) -> Vec<KeptData> {
    let recorded = recorded
        .iter()
        .filter(|r| r.retention.kept() && !r.physical_id.is_empty())
        .filter_map(|r| {
            let kind = KeptKind::of_resource_type(&r.resource_type)?;
            Some(KeptData {
                kind,
                id: r.physical_id.clone(),
                why: format!("{}, {}", r.logical_id, r.retention.reason()),
            })
        });
    let earlier = earlier.iter().map(|k| KeptData {
        kind: k.kind,
        id: k.id.clone(),
        why: format!("kept by an earlier deployment of `{stack}`, found by its tags"),
    });
    recorded.chain(earlier).collect()
}

/// Reports each piece of kept data that still exists with the command that deletes it, or
/// with `--delete-data` deletes it; the notes to return.
async fn handle_kept(
    aws: &Aws,
    req: &DownRequest<'_>,
    kept: &[KeptData],
) -> Result<Vec<String>, DeployError> {
    let mut notes = Vec::new();
    if req.delete_data {
        // A file system mounted from somewhere else (another stack's `efs.existing_id`, a VPC
        // of someone's) is not deleted, and nothing else is either: said, not waited on.
        let mut blockers = Vec::new();
        for k in kept.iter().filter(|k| k.kind == KeptKind::FileSystem) {
            let mounted = sweep::mount_targets_in_use(aws, &k.id).await?;
            if !mounted.is_empty() {
                blockers.push(format!(
                    "EFS file system {} ({}) has mount targets in use: {}; it is mounted elsewhere, so `--delete-data` deletes no data yet. Delete them first (aws efs delete-mount-target --mount-target-id ID)",
                    k.id,
                    k.why,
                    mounted.join(", ")
                ));
            }
        }
        if !blockers.is_empty() {
            return Err(DeployError::Blocked {
                stack: req.stack.to_owned(),
                blockers,
            });
        }
    }
    for k in kept {
        match k.kind {
            KeptKind::FileSystem if sweep::file_system_exists(aws, &k.id).await? => {
                if req.delete_data {
                    sweep::delete_file_system_waiting(aws, &k.id, req.sweep)
                        .await
                        .map_err(|e| sweep_error(req.stack, e))?;
                    notes.push(format!("deleted EFS file system {} (--delete-data)", k.id));
                } else {
                    notes.push(format!(
                        "kept EFS file system {} ({}); delete it with: stackctl down --delete-data (or aws efs delete-file-system --file-system-id {})",
                        k.id, k.why, k.id
                    ));
                }
            }
            KeptKind::FileSystem => {}
            KeptKind::Bucket => {
                if req.delete_data {
                    let removed = bucket::delete_bucket(aws, &k.id, req.sweep)
                        .await
                        .map_err(|e| sweep_error(req.stack, e))?;
                    notes.push(format!(
                        "deleted bucket {} and its {removed} object versions (--delete-data)",
                        k.id
                    ));
                } else if bucket::exists(aws, &k.id).await? {
                    notes.push(format!(
                        "kept data bucket {} ({}); delete it with: stackctl down --delete-data (or aws s3 rb s3://{} --force)",
                        k.id, k.why, k.id
                    ));
                }
            }
        }
    }
    Ok(notes)
}

/// What earlier deployments of this stack name kept (found by tags) that the recorded stack
/// does not list; tags that could not be read are said.
async fn earlier_kept(
    aws: &Aws,
    stack: &str,
    recorded: &[Recorded],
    delete_data: bool,
    reporter: &dyn Reporter,
) -> Result<Vec<Kept>, AwsError> {
    let listed: BTreeSet<String> = recorded
        .iter()
        .filter(|r| KeptKind::of_resource_type(&r.resource_type).is_some())
        .map(|r| r.physical_id.clone())
        .collect();
    // --delete-data insists on looking; a report goes on without, saying so.
    let found = if delete_data {
        kept::find(aws, stack, &listed).await?
    } else {
        kept::find_lenient(aws, stack, &listed).await?
    };
    if let Some(why) = &found.lookup_error {
        reporter.notice(&format!(
            "{why}; data earlier deployments of `{stack}` kept is not reported"
        ));
    }
    if !found.unreadable.is_empty() {
        reporter.notice(&format!(
            "could not read the tags of {} in the region, so a bucket of `{stack}` among them would not be found: {}",
            crate::report::count(found.unreadable.len(), "bucket", "buckets"),
            found.unreadable.join("; ")
        ));
    }
    Ok(found.kept)
}

/// Asks, or refuses without a terminal.
fn confirm(req: &DownRequest<'_>, plan: &[Change]) -> Result<(), DeployError> {
    if req.confirm.is_some_and(|ask| ask(plan)) {
        return Ok(());
    }
    Err(match req.confirm {
        Some(_) => DeployError::Declined,
        None => DeployError::NeedsConfirmation(format!(
            "deleting stack `{}` and its {} resources",
            req.stack,
            plan.len()
        )),
    })
}

/// The resources that go: those the template does not keep, and with `--delete-data` the kept
/// ones too.
fn plan_of(recorded: &[Recorded], earlier: &[Kept], delete_data: bool) -> Vec<Change> {
    let earlier = earlier.iter().filter(|_| delete_data).map(|k| Change {
        action: "Remove".to_owned(),
        logical_id: k.id.clone(),
        resource_type: k.kind.resource_type().to_owned(),
        replacement: None,
        causes: vec![
            "--delete-data".to_owned(),
            "kept by an earlier deployment".to_owned(),
        ],
        needs_confirmation: true,
    });
    recorded
        .iter()
        .filter(|r| !r.retention.kept() || delete_data)
        .map(|r| Change {
            action: "Remove".to_owned(),
            logical_id: r.logical_id.clone(),
            resource_type: r.resource_type.clone(),
            replacement: None,
            causes: if r.retention.kept() {
                vec!["--delete-data".to_owned()]
            } else {
                Vec::new()
            },
            needs_confirmation: true,
        })
        .chain(earlier)
        .collect()
}

fn sweep_error(stack: &str, err: SweepError) -> DeployError {
    match err {
        SweepError::Aws(aws) => DeployError::Aws(aws),
        SweepError::Blocked(blocked) => DeployError::Blocked {
            stack: stack.to_owned(),
            blockers: blocked.lines,
        },
        timeout @ SweepError::Timeout { .. } => DeployError::Stuck {
            stack: stack.to_owned(),
            detail: timeout.to_string(),
        },
    }
}

/// The account of a stack ARN.
fn account_of(stack_id: &str) -> &str {
    stack_id.split(':').nth(4).unwrap_or_default()
}

/// Physical ids of the recorded resources of type `ty` that CloudFormation has not deleted.
fn ids_of(recorded: &[Recorded], ty: &str) -> Vec<String> {
    recorded
        .iter()
        .filter(|r| r.resource_type == ty && !r.physical_id.is_empty() && !r.deleted)
        .map(|r| r.physical_id.clone())
        .collect()
}

/// The stack as the interface examination sees it. Only subnets the stack created count as
/// its own: with `network.existing` there are none, and nothing is touched.
fn scope_of(
    recorded: &[Recorded],
    account: &str,
    outputs: &BTreeMap<String, String>,
    known: &BTreeSet<String>,
) -> Scope {
    fn of<'r>(recorded: &'r [Recorded], ty: &'r str) -> impl Iterator<Item = &'r Recorded> {
        recorded
            .iter()
            .filter(move |r| r.resource_type == ty && !r.physical_id.is_empty())
    }
    let mut resource_ids: BTreeSet<String> = [
        "AWS::EFS::FileSystem",
        "AWS::EFS::MountTarget",
        "AWS::FSx::FileSystem",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCEndpoint",
    ]
    .iter()
    .flat_map(|ty| of(recorded, ty).map(|r| r.physical_id.clone()))
    .collect();
    // A file system the stack mounts but did not create is still the stack's to release.
    resource_ids.extend(outputs.get(StackOutput::EfsFileSystemId.name()).cloned());
    Scope {
        account: account.to_owned(),
        subnets: of(recorded, "AWS::EC2::Subnet")
            .map(|r| (r.physical_id.clone(), r.logical_id.clone()))
            .collect(),
        group: of(recorded, "AWS::EC2::SecurityGroup")
            .map(|r| (r.physical_id.clone(), r.logical_id.clone()))
            .next(),
        resource_ids,
        known_interfaces: known.clone(),
    }
}

/// Interfaces the stack's resources hold (EFS mount targets, FSx, NAT gateways, the notebook).
/// Best effort: a resource that cannot be described is left to the description rules.
async fn known_interfaces(
    aws: &Aws,
    recorded: &[Recorded],
    notebook: Option<&String>,
) -> BTreeSet<String> {
    let mut enis = BTreeSet::new();
    for id in ids_of(recorded, "AWS::EFS::MountTarget") {
        if let Ok(out) = aws
            .efs
            .describe_mount_targets()
            .mount_target_id(&id)
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
    let fsx = ids_of(recorded, "AWS::FSx::FileSystem");
    if !fsx.is_empty()
        && let Ok(out) = aws
            .fsx
            .describe_file_systems()
            .set_file_system_ids(Some(fsx))
            .send()
            .await
    {
        enis.extend(
            out.file_systems()
                .iter()
                .flat_map(|f| f.network_interface_ids().iter().cloned()),
        );
    }
    let nats = ids_of(recorded, "AWS::EC2::NatGateway");
    if !nats.is_empty()
        && let Ok(out) = aws
            .ec2
            .describe_nat_gateways()
            .set_nat_gateway_ids(Some(nats))
            .send()
            .await
    {
        enis.extend(
            out.nat_gateways()
                .iter()
                .flat_map(|n| n.nat_gateway_addresses())
                .filter_map(|a| a.network_interface_id().map(str::to_owned)),
        );
    }
    // DataSync names the interfaces it made for a task (DescribeTask, Source/Destination
    // NetworkInterfaceArns: arn:aws:ec2:REGION:ACCOUNT:network-interface/eni-...).
    for task in ids_of(recorded, "AWS::DataSync::Task") {
        if let Ok(out) = aws.datasync.describe_task().task_arn(&task).send().await {
            enis.extend(
                out.source_network_interface_arns()
                    .iter()
                    .chain(out.destination_network_interface_arns())
                    .filter_map(|arn| arn.rsplit('/').next().map(str::to_owned)),
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
    enis
}

/// The stack's resources with what the deployed template says happens to each.
/// `deleted` says the stack itself is gone: its Elastic IPs are then left alone, because an
/// address can be allocated again (to this account too) and only the public IP is recorded.
async fn record(aws: &Aws, stack_id: &str, deleted: bool) -> Result<Vec<Recorded>, AwsError> {
    let template = aws
        .cfn
        .get_template()
        .stack_name(stack_id)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetTemplate", e))?;
    let policies = Policies::parse(template.template_body());
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
            let resource_type = r.resource_type().unwrap_or_default().to_owned();
            let retention = if deleted && resource_type == "AWS::EC2::EIP" {
                Retention::Undecided(
                    "the stack is deleted, and an Elastic IP's address alone does not prove it is still the stack's".to_owned(),
                )
            } else {
                policies.of(logical)
            };
            recorded.push(Recorded {
                logical_id: logical.to_owned(),
                resource_type,
                physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                retention,
                deleted: r.resource_status()
                    == Some(&aws_sdk_cloudformation::types::ResourceStatus::DeleteComplete),
            });
        }
    }
    Ok(recorded)
}

/// The id of the most recently deleted stack named `name`, if CloudFormation still lists one.
async fn last_deleted(aws: &Aws, name: &str) -> Result<Option<String>, AwsError> {
    let mut newest: Option<(i64, String)> = None;
    let mut pages = aws
        .cfn
        .list_stacks()
        .stack_status_filter(StackStatus::DeleteComplete)
        .into_paginator()
        .items()
        .send();
    while let Some(s) = pages.next().await {
        let s = s.map_err(|e| AwsError::from_sdk("ListStacks", e))?;
        if s.stack_name() != Some(name) {
            continue;
        }
        let when = s
            .deletion_time()
            .or(s.creation_time())
            .map_or(0, |t| t.secs());
        if newest.as_ref().is_none_or(|(t, _)| when > *t)
            && let Some(id) = s.stack_id()
        {
            newest = Some((when, id.to_owned()));
        }
    }
    Ok(newest.map(|(_, id)| id))
}

/// DeleteStack and wait. `None` when the stack is gone (or the emulator failed synchronously
/// and the sweep takes over); `Some(reason)` when it ended in DELETE_FAILED.
async fn delete_and_wait(
    aws: &Aws,
    info: &StackInfo,
    total: usize,
    req: &DownRequest<'_>,
    scope: &Scope,
    reporter: &dyn Reporter,
) -> Result<Option<String>, DeployError> {
    if let Err(err) = aws.cfn.delete_stack().stack_name(&info.id).send().await {
        let err = AwsError::from_sdk("DeleteStack", err);
        // The emulator deletes synchronously and fails on the VPC (or, when its first answer
        // was lost and the SDK retried, on something the first call already deleted): the
        // sweep checks what is left either way. A stack already gone is fine too.
        let stack_gone = err.code() == Some("ValidationError")
            && err.message().is_some_and(|m| m.contains("does not exist"));
        if err.code() == Some("DependencyViolation") || sweep::is_gone(&err) || stack_gone {
            reporter.notice(&format!(
                "CloudFormation could not delete everything ({}); removing what is left directly",
                err.message().unwrap_or_default()
            ));
            return Ok(None);
        }
        return Err(err.into());
    }
    wait_for_delete(aws, info, total, req, scope, reporter).await
}

/// Waits for the deletion of the stack (started by this `down` or another); as
/// [`delete_and_wait`].
async fn wait_for_delete(
    aws: &Aws,
    info: &StackInfo,
    total: usize,
    req: &DownRequest<'_>,
    scope: &Scope,
    reporter: &dyn Reporter,
) -> Result<Option<String>, DeployError> {
    let now = aws_sdk_cloudformation::primitives::DateTime::from(std::time::SystemTime::now());
    reporter.operation_started("delete", total);
    let settled = tokio::select! {
        settled = wait::until_settled(aws, &info.id, req.stack, Some(now), total, reporter, req.wait) => settled?,
        blocked = watch_stalls(aws, &info.id, req, scope, reporter) => return Err(blocked),
    };
    match settled.stack {
        Some(s) if s.status == StackStatus::DeleteFailed => {
            let ranked = super::root_cause::rank(&settled.events, wait::STACK_TYPE);
            let reason = ranked
                .first()
                .map(|e| {
                    format!(
                        "{} {}: {}",
                        e.resource_type,
                        e.logical_id,
                        e.reason.as_deref().unwrap_or("no reason given")
                    )
                })
                .or(s.reason.clone())
                .unwrap_or_else(|| "no reason given".to_owned());
            Ok(Some(reason))
        }
        _ => Ok(None),
    }
}

/// While CloudFormation deletes: when a subnet or the security group has been deleting for
/// longer than `stall_after`, looks at the interfaces in the stack's subnets (deleting the
/// stack's available ones) and returns as soon as something that is not the stack's holds
/// one. Never returns otherwise; the stack wait ends it.
async fn watch_stalls(
    aws: &Aws,
    stack_id: &str,
    req: &DownRequest<'_>,
    scope: &Scope,
    reporter: &dyn Reporter,
) -> DeployError {
    if scope.subnets.is_empty() && scope.group.is_none() {
        return std::future::pending().await;
    }
    let check_every = req
        .stall_after
        .min(Duration::from_secs(60))
        .max(Duration::from_secs(1));
    tokio::time::sleep(req.stall_after).await;
    loop {
        match stalled(aws, stack_id, req.stall_after).await {
            Ok(true) => {
                match interfaces::clear(aws, scope, reporter, req.sweep, false).await {
                    Ok(Cleared::Blocked(blocked)) => {
                        let mut blockers = blocked.lines;
                        blockers.push("CloudFormation goes on trying and will end the deletion in DELETE_FAILED".to_owned());
                        return DeployError::Blocked {
                            stack: req.stack.to_owned(),
                            blockers,
                        };
                    }
                    Ok(_) => {}
                    Err(err) => return err.into(),
                }
            }
            Ok(false) => {}
            Err(err) => return err.into(),
        }
        tokio::time::sleep(check_every).await;
    }
}

/// True when a subnet or security group of the stack has been DELETE_IN_PROGRESS for longer
/// than `after`.
async fn stalled(aws: &Aws, stack_id: &str, after: Duration) -> Result<bool, AwsError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut pages = aws
        .cfn
        .list_stack_resources()
        .stack_name(stack_id)
        .into_paginator()
        .items()
        .send();
    while let Some(r) = pages.next().await {
        let r = r.map_err(|e| AwsError::from_sdk("ListStackResources", e))?;
        let network = matches!(
            r.resource_type(),
            Some("AWS::EC2::Subnet" | "AWS::EC2::SecurityGroup")
        );
        let deleting = r.resource_status().map(|s| s.as_str()) == Some("DELETE_IN_PROGRESS");
        let since = r.last_updated_timestamp().map_or(now, |t| t.secs());
        if network && deleting && now - since >= after.as_secs() as i64 {
            return Ok(true);
        }
    }
    Ok(false)
}
