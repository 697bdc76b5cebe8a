//! `up`: bring the stack to the rendered template, whatever state it is in.
//!
//! - absent: create through a change set;
//! - stable: skip when the deployed template and tags equal the rendered ones (two API calls),
//!   else update through a change set;
//! - in progress (another `up`, a console user): attach and wait, then decide again;
//! - ROLLBACK_COMPLETE or REVIEW_IN_PROGRESS (a failed or never-executed first create): delete,
//!   then create, with a notice;
//! - UPDATE_ROLLBACK_FAILED: explain, or continue the rollback with `--continue-rollback`.

use std::collections::BTreeMap;

use crate::interrupt::Interruption;
use std::time::Instant;

use aws_sdk_cloudformation::types::{Capability, ChangeSetType, TemplateStage};

use super::DeployError;
use super::changeset;
use super::progress::Progress;
use super::root_cause;
use super::stack::{self, Phase, StackInfo};
use super::target::Target;
use super::wait::{self, STACK_TYPE, Settled, WaitSettings};
use crate::aws::{Attempts, Aws, AwsError};
use crate::report::{Change, Outcome, Reporter};

/// The tag stackctl puts on every stack it manages.
pub const MANAGED_TAG: (&str, &str) = ("stackctl:managed-by", "stackctl");

/// Asks the user to confirm a plan; true means go ahead.
pub type Confirm<'a> = dyn Fn(&[Change]) -> bool + Sync + 'a;

/// What `up` was asked to do.
pub struct UpRequest<'a> {
    /// Stack name.
    pub stack: &'a str,
    /// The rendered, checked template.
    pub body: &'a str,
    /// Its resources as (logical id, type), shown as the plan of a first create.
    pub resources: &'a [(String, String)],
    /// Stack tags (the stack file's plus stackctl's own).
    pub tags: Vec<(String, String)>,
    /// `--yes`: execute changes that need confirmation.
    pub yes: bool,
    /// Asks the user on a terminal; `None` when there is none.
    pub confirm: Option<&'a Confirm<'a>>,
    /// `--termination-protection`.
    pub termination_protection: bool,
    /// `--continue-rollback`.
    pub continue_rollback: bool,
    /// Polling.
    pub wait: WaitSettings,
    /// How far `up` got (read by the caller after an interruption); `None` when nobody asks.
    pub progress: Option<&'a UpProgress>,
    /// The stack as the caller described it just before (`Some(None)`: absent), which saves
    /// a call; `None`: `up` describes it.
    pub described: Option<Option<StackInfo>>,
}

/// How far `up` got, so an interruption can say whether anything was changed.
pub type UpProgress = Progress<UpStage>;

/// The stages of `up`. Only [`UpStage::Changing`] means this run asked CloudFormation to
/// change something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpStage {
    /// Connecting, reading the stack, checking, preparing a change set, asking: nothing was
    /// changed and no operation was started.
    Preparing,
    /// Waiting for an operation this run did not start (another `up`, a console user).
    Attached,
    /// A change was asked for (CreateStack, ExecuteChangeSet, ...) and not answered yet: it
    /// may or may not have reached CloudFormation.
    Requesting,
    /// CreateStack, ExecuteChangeSet, a recovery DeleteStack or ContinueUpdateRollback, or
    /// termination protection was asked for; CloudFormation goes on without stackctl.
    Changing,
}

impl super::progress::Stage for UpStage {
    const ORDER: &'static [Self] = &[
        Self::Preparing,
        Self::Attached,
        Self::Requesting,
        Self::Changing,
    ];
}

impl UpStage {
    /// What an interruption at this stage leaves behind, and what to run.
    pub fn interruption(self, stack: &str) -> Interruption {
        let cancel = format!("aws cloudformation cancel-update-stack --stack-name {stack}");
        match self {
            Self::Preparing => Interruption::new(
                "before `up` changed anything",
                format!("no operation was started and stack `{stack}` was not created, updated or deleted (a change set being prepared is never executed)"),
            )
            .then("start again", "stackctl up"),
            Self::Attached => Interruption::new(
                format!("while waiting for stack `{stack}`, busy with an operation this run did not start (stackctl changed nothing)"),
                "CloudFormation continues the operation",
            )
            .then("re-attach", "stackctl up")
            .then("look", "stackctl status"),
            Self::Requesting => Interruption::new(
                format!("while asking CloudFormation to change stack `{stack}`, before it answered"),
                "the change may or may not have started",
            )
            .then("look", "stackctl status")
            .then("re-attach or start again", "stackctl up"),
            Self::Changing => Interruption::new(
                format!("while waiting for stack `{stack}`"),
                "CloudFormation continues the operation",
            )
            .then("re-attach", "stackctl up")
            .then("stop an update (it rolls back)", cancel)
            .then("look", "stackctl status"),
        }
    }
}

impl UpRequest<'_> {
    fn enter(&self, stage: UpStage) {
        if let Some(progress) = self.progress {
            // Once something was changed, waiting on it is still "changing".
            if !(progress.stage() == UpStage::Changing && stage != UpStage::Changing) {
                progress.enter(stage);
            }
        }
    }

    /// Back from waiting on someone else's operation.
    fn done_waiting(&self) {
        if let Some(progress) = self.progress
            && progress.stage() == UpStage::Attached
        {
            progress.enter(UpStage::Preparing);
        }
    }
}

/// Stack tags for a stack file's tags.
pub fn stack_tags<K: ToString, V: ToString>(spec_tags: &BTreeMap<K, V>) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = spec_tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tags.push((MANAGED_TAG.0.to_owned(), MANAGED_TAG.1.to_owned()));
    tags.sort();
    tags
}

/// What `plan` found against the deployed stack.
#[derive(Debug, Clone)]
pub enum Preview {
    /// No stack yet: `up` creates every resource.
    Create(Vec<Change>),
    /// The stack matches the template and tags.
    NoChanges,
    /// The change set `up` would execute.
    Update(Vec<Change>),
}

/// The change set `up` would run, without running it, and where: a preview change set is
/// created, read and deleted again. A stack that does not exist yet is previewed from the
/// template alone (a CREATE change set would leave a REVIEW_IN_PROGRESS stack behind).
pub async fn preview(aws: &Aws, req: &UpRequest<'_>) -> Result<(Preview, Target), DeployError> {
    let info = stack::describe(aws, req.stack).await?;
    let target = Target::resolve(aws, info.as_ref().map(|i| i.id.as_str())).await?;
    let Some(info) = info else {
        return Ok((Preview::Create(planned_creates(req)), target));
    };
    if info.phase() != Phase::Stable {
        return Err(DeployError::BadState {
            stack: req.stack.to_owned(),
            status: info.status.as_str().to_owned(),
            explanation: "a change set can be previewed only for a stack that is not busy or failed; `stackctl up` handles this state".to_owned(),
        });
    }
    if unchanged(aws, &info, req).await? {
        return Ok((Preview::NoChanges, target));
    }
    let preview = match changeset::create(
        aws,
        req.stack,
        req.body,
        &req.tags,
        ChangeSetType::Update,
        req.wait.poll,
    )
    .await?
    {
        None => Preview::NoChanges,
        Some(prepared) => {
            changeset::delete(aws, req.stack, &prepared.name).await?;
            Preview::Update(prepared.changes)
        }
    };
    Ok((preview, target))
}

/// Every resource of the template as an Add.
fn planned_creates(req: &UpRequest<'_>) -> Vec<Change> {
    req.resources
        .iter()
        .map(|(id, ty)| Change {
            action: "Add".to_owned(),
            logical_id: id.clone(),
            resource_type: ty.clone(),
            replacement: None,
            causes: Vec::new(),
            needs_confirmation: changeset::needs_confirmation("Add", ty, None),
        })
        .collect()
}

/// Runs `up` and returns how it ended. A stack that ends in a failed state is an `Outcome`
/// with `success: false`, not an error.
pub async fn up(
    aws: &Aws,
    req: &UpRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<Outcome, DeployError> {
    let started = Instant::now();
    req.enter(UpStage::Preparing);
    let mut current = match &req.described {
        Some(described) => described.clone(),
        None => stack::describe(aws, req.stack).await?,
    };
    let target = Target::resolve(aws, current.as_ref().map(|i| i.id.as_str())).await?;
    reporter.target("up", req.stack, &target);
    let outcome =
        |status: &str, success: bool, info: Option<&StackInfo>, failures, notes| Outcome {
            stack: req.stack.to_owned(),
            target: target.clone(),
            status: status.to_owned(),
            success,
            outputs: info.map(|i| i.outputs.clone()).unwrap_or_default(),
            duration_seconds: started.elapsed().as_secs_f64(),
            api_calls: aws.counter().calls(),
            failures,
            notes,
        };

    // At most a few recovery rounds: attach, delete a failed first create, continue a rollback.
    for _ in 0..4 {
        let Some(info) = current.clone() else { break };
        match info.phase() {
            Phase::Stable | Phase::Deleted => break,
            Phase::InProgress => {
                reporter.notice(&format!(
                    "stack `{}` is {} (another operation is running); waiting for it to finish",
                    req.stack,
                    info.status.as_str()
                ));
                req.enter(UpStage::Attached);
                let settled = attach(aws, &info, reporter, req.wait).await?;
                req.done_waiting();
                current = settled.stack;
            }
            Phase::RollbackComplete | Phase::ReviewInProgress => {
                reporter.notice(&format!(
                    "stack `{}` is {} (its first create failed or was never executed); deleting it and creating it again",
                    req.stack,
                    info.status.as_str()
                ));
                req.enter(UpStage::Requesting);
                aws.cfn
                    .delete_stack()
                    .stack_name(&info.id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DeleteStack", e))?;
                req.enter(UpStage::Changing);
                let settled =
                    wait::until_settled(aws, &info.id, req.stack, None, 0, reporter, req.wait)
                        .await?;
                current = settled.stack;
            }
            Phase::UpdateRollbackFailed if req.continue_rollback => {
                reporter.notice(&format!(
                    "continuing the failed rollback of stack `{}`",
                    req.stack
                ));
                req.enter(UpStage::Requesting);
                aws.cfn
                    .continue_update_rollback()
                    .stack_name(&info.id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ContinueUpdateRollback", e))?;
                req.enter(UpStage::Changing);
                let settled = attach(aws, &info, reporter, req.wait).await?;
                current = settled.stack;
            }
            Phase::UpdateRollbackFailed => {
                return Err(DeployError::BadState {
                    stack: req.stack.to_owned(),
                    status: info.status.as_str().to_owned(),
                    explanation: format!(
                        "an update failed and so did its rollback ({}). Fix what the reason names (often a resource changed or deleted outside CloudFormation), then run `stackctl up --continue-rollback`",
                        info.reason.as_deref().unwrap_or("no reason given")
                    ),
                });
            }
            Phase::DeleteFailed => {
                return Err(DeployError::BadState {
                    stack: req.stack.to_owned(),
                    status: info.status.as_str().to_owned(),
                    explanation:
                        "a delete failed; run `stackctl down` to finish it, then `stackctl up`"
                            .to_owned(),
                });
            }
        }
    }

    let kind = match &current {
        None => ChangeSetType::Create,
        Some(info) if info.phase() == Phase::InProgress => {
            return Err(DeployError::BadState {
                stack: req.stack.to_owned(),
                status: info.status.as_str().to_owned(),
                explanation: "it is still busy after waiting; try again later".to_owned(),
            });
        }
        Some(info) => {
            if unchanged(aws, info, req).await? {
                if req.termination_protection && !info.termination_protection {
                    req.enter(UpStage::Requesting);
                    set_termination_protection(aws, &info.id).await?;
                }
                return Ok(outcome(
                    "NO_CHANGES",
                    true,
                    Some(info),
                    Vec::new(),
                    Vec::new(),
                ));
            }
            ChangeSetType::Update
        }
    };

    if kind == ChangeSetType::Create {
        return create(aws, req, reporter, started, &target).await;
    }

    let Some(prepared) =
        changeset::create(aws, req.stack, req.body, &req.tags, kind, req.wait.poll).await?
    else {
        return Ok(outcome(
            "NO_CHANGES",
            true,
            current.as_ref(),
            Vec::new(),
            Vec::new(),
        ));
    };
    reporter.change_set(&prepared.changes);
    if let Err(err) = confirm(req, &prepared.changes) {
        changeset::delete(aws, req.stack, &prepared.name).await?;
        return Err(err);
    }
    req.enter(UpStage::Requesting);
    if req.termination_protection {
        set_termination_protection(aws, &prepared.stack_id).await?;
        req.enter(UpStage::Changing);
    }
    if let Err(err) = aws
        .cfn
        .execute_change_set()
        .stack_name(req.stack)
        .change_set_name(&prepared.name)
        .send()
        .await
    {
        let err = AwsError::from_sdk("ExecuteChangeSet", err);
        // A retried call whose first answer was lost finds the change set already running.
        if err.code() != Some("InvalidChangeSetStatus") {
            return Err(err.into());
        }
    }
    req.enter(UpStage::Changing);
    reporter.operation_started("update", prepared.changes.len());
    let settled = wait::until_settled(
        aws,
        &prepared.stack_id,
        req.stack,
        prepared.creation_time,
        prepared.changes.len(),
        reporter,
        req.wait,
    )
    .await?;
    Ok(finish(
        aws,
        req,
        settled,
        "UPDATE_COMPLETE",
        started,
        &target,
    ))
}

/// A first create: the plan is the rendered template itself (every resource is added), so it
/// is shown from there and the stack is created directly. (A CREATE change set would show the
/// same list, at the price of a REVIEW_IN_PROGRESS stack left behind by a declined plan.)
async fn create(
    aws: &Aws,
    req: &UpRequest<'_>,
    reporter: &dyn Reporter,
    started: Instant,
    target: &Target,
) -> Result<Outcome, DeployError> {
    let changes = planned_creates(req);
    reporter.change_set(&changes);
    confirm(req, &changes)?;
    req.enter(UpStage::Requesting);

    let token = changeset::new_name();
    let attempts = Attempts::default();
    let sent = aws
        .cfn
        .create_stack()
        .stack_name(req.stack)
        .template_body(req.body)
        .capabilities(Capability::CapabilityIam)
        .enable_termination_protection(req.termination_protection)
        // The SDK sends the same token on its retries, so CloudFormation drops duplicates.
        .client_request_token(&token)
        .set_tags(Some(changeset::sdk_tags(&req.tags)))
        .customize()
        .interceptor(attempts.clone())
        .send()
        .await;
    let stack_id = match sent {
        Ok(out) => out.stack_id().unwrap_or(req.stack).to_owned(),
        Err(err) => {
            let err = AwsError::from_sdk("CreateStack", err);
            if err.code() != Some("AlreadyExistsException") {
                return Err(err.into());
            }
            // The stack was absent a moment ago. After a retry this may be our own CreateStack
            // whose first answer was lost (endpoints that ignore the token answer AlreadyExists);
            // on the first attempt it cannot be. Make sure before attaching to it.
            let ours = if attempts.retried() {
                own_new_stack(aws, req, &token).await?
            } else {
                None
            };
            ours.ok_or_else(|| DeployError::BadState {
                stack: req.stack.to_owned(),
                status: "ALREADY_EXISTS".to_owned(),
                explanation:
                    "another client created a stack with this name just now; run `stackctl status`"
                        .to_owned(),
            })?
        }
    };
    req.enter(UpStage::Changing);
    reporter.operation_started("create", changes.len());
    let settled = wait::until_settled(
        aws,
        &stack_id,
        req.stack,
        None,
        changes.len(),
        reporter,
        req.wait,
    )
    .await?;
    Ok(finish(
        aws,
        req,
        settled,
        "CREATE_COMPLETE",
        started,
        target,
    ))
}

/// The id of the stack named `req.stack` if our CreateStack (client request token `token`)
/// created it. CloudFormation gives every event of an operation the operation's client request
/// token (API Reference, StackEvent): when the events carry tokens, ours must be among them.
/// Endpoints that ignore the token (the emulator) write none; then the stack must carry exactly
/// our template and tags.
async fn own_new_stack(
    aws: &Aws,
    req: &UpRequest<'_>,
    token: &str,
) -> Result<Option<String>, AwsError> {
    let Some(info) = stack::describe(aws, req.stack).await? else {
        return Ok(None);
    };
    let events = aws
        .cfn
        .describe_stack_events()
        .stack_name(&info.id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeStackEvents", e))?;
    let tokens: Vec<&str> = events
        .stack_events()
        .iter()
        .filter_map(|e| e.client_request_token())
        .filter(|t| !t.is_empty())
        .collect();
    if !tokens.is_empty() {
        return Ok(tokens.contains(&token).then_some(info.id));
    }
    Ok(unchanged(aws, &info, req).await?.then_some(info.id))
}

/// Applies the confirmation rule to a plan.
fn confirm(req: &UpRequest<'_>, changes: &[Change]) -> Result<(), DeployError> {
    let risky: Vec<&Change> = changes.iter().filter(|c| c.needs_confirmation).collect();
    if risky.is_empty() || req.yes {
        return Ok(());
    }
    match req.confirm {
        Some(ask) if ask(changes) => Ok(()),
        Some(_) => Err(DeployError::Declined),
        None => {
            let what: Vec<String> = risky
                .iter()
                .map(|c| format!("{} {} {}", c.action, c.logical_id, c.resource_type))
                .collect();
            Err(DeployError::NeedsConfirmation(format!(
                "the plan replaces or deletes stateful resources or changes IAM ({})",
                what.join("; ")
            )))
        }
    }
}

/// The outcome of a finished create or update.
fn finish(
    aws: &Aws,
    req: &UpRequest<'_>,
    settled: Settled,
    goal: &str,
    started: Instant,
    target: &Target,
) -> Outcome {
    let status = settled
        .stack
        .as_ref()
        .map_or("DELETE_COMPLETE".to_owned(), |s| {
            s.status.as_str().to_owned()
        });
    let success = status == goal;
    let mut notes = Vec::new();
    if !success && goal == "CREATE_COMPLETE" {
        notes.push(
            "the first create rolled back; the next `stackctl up` deletes the failed stack and creates it again"
                .to_owned(),
        );
    }
    let failures = if success {
        Vec::new()
    } else {
        root_cause::rank(&settled.events, STACK_TYPE)
    };
    if let Some(why) = failures.first().and_then(root_cause::explain) {
        notes.push(why.to_owned());
    }
    Outcome {
        stack: req.stack.to_owned(),
        target: target.clone(),
        status,
        success,
        outputs: settled
            .stack
            .as_ref()
            .map(|i| i.outputs.clone())
            .unwrap_or_default(),
        duration_seconds: started.elapsed().as_secs_f64(),
        api_calls: aws.counter().calls(),
        failures,
        notes,
    }
}

/// Waits for an operation someone else started.
async fn attach(
    aws: &Aws,
    info: &StackInfo,
    reporter: &dyn Reporter,
    settings: WaitSettings,
) -> Result<Settled, AwsError> {
    // Events before now are history, not progress.
    let now = aws_sdk_cloudformation::primitives::DateTime::from(std::time::SystemTime::now());
    wait::until_settled(aws, &info.id, &info.name, Some(now), 0, reporter, settings).await
}

/// True when the deployed template and tags are exactly what `up` would deploy.
pub(crate) async fn unchanged(
    aws: &Aws,
    info: &StackInfo,
    req: &UpRequest<'_>,
) -> Result<bool, AwsError> {
    let want_tags: BTreeMap<String, String> = req.tags.iter().cloned().collect();
    if info.tags != want_tags {
        return Ok(false);
    }
    let deployed = aws
        .cfn
        .get_template()
        .stack_name(&info.id)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetTemplate", e))?;
    Ok(deployed.template_body() == Some(req.body))
}

async fn set_termination_protection(aws: &Aws, stack_id: &str) -> Result<(), AwsError> {
    aws.cfn
        .update_termination_protection()
        .stack_name(stack_id)
        .enable_termination_protection(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateTerminationProtection", e))?;
    Ok(())
}
