//! Change sets: create one, wait for it, read every page of its changes, and judge which
//! changes need the user's confirmation.

use std::time::Duration;

use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, RequiresRecreation, Tag,
};

use crate::aws::{Aws, AwsError};
use crate::report::Change;

/// Resource types whose replacement or removal loses data or a user's work.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::EFS::FileSystem",
    "AWS::FSx::FileSystem",
    "AWS::S3::Bucket",
    "AWS::SageMaker::NotebookInstance",
];

/// A change set ready to execute.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Change set name.
    pub name: String,
    /// Stack ARN.
    pub stack_id: String,
    /// Every change, all pages.
    pub changes: Vec<Change>,
    /// When CloudFormation created it (the start of the operation's event range).
    pub creation_time: Option<DateTime>,
}

impl Prepared {
    /// Changes that need confirmation.
    pub fn risky(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.needs_confirmation)
            .collect()
    }
}

/// True when a change must be confirmed: a stateful resource replaced or removed, or IAM.
pub fn needs_confirmation(action: &str, resource_type: &str, replacement: Option<&str>) -> bool {
    let stateful = STATEFUL_TYPES.contains(&resource_type)
        && (action == "Remove" || matches!(replacement, Some("True" | "Conditional")));
    stateful || resource_type.starts_with("AWS::IAM::")
}

/// Stack tags as the SDK takes them.
pub fn sdk_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// A change set name unique to this run.
pub fn new_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("stackctl-{nanos:x}")
}

/// The longest wait for CloudFormation to compute a change set (it usually takes seconds; a
/// stack with hundreds of resources or nested stacks, a minute or two).
pub const CHANGE_SET_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// Creates a change set and waits (up to [`CHANGE_SET_DEADLINE`]) until it can be executed. `None` means CloudFormation found
/// nothing to change (the change set is deleted again).
pub async fn create(
    aws: &Aws,
    stack: &str,
    body: &str,
    tags: &[(String, String)],
    kind: ChangeSetType,
    poll: Duration,
) -> Result<Option<Prepared>, AwsError> {
    let name = new_name();
    let request = aws
        .cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        // The same token on the SDK's retries lets CloudFormation drop duplicates.
        .client_token(&name)
        .template_body(body)
        .capabilities(Capability::CapabilityIam)
        .change_set_type(kind)
        .set_tags(Some(sdk_tags(tags)));
    if let Err(err) = request.send().await {
        let err = AwsError::from_sdk("CreateChangeSet", err);
        // A retried request whose first answer was lost: the change set is ours.
        if err.code() != Some("AlreadyExistsException") {
            return Err(err);
        }
    }

    let started = tokio::time::Instant::now();
    loop {
        let out = aws
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(&name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeChangeSet", e))?;
        if started.elapsed() >= CHANGE_SET_DEADLINE
            && !matches!(
                out.status(),
                Some(ChangeSetStatus::CreateComplete | ChangeSetStatus::Failed)
            )
        {
            return Err(AwsError::service(
                "CreateChangeSet",
                "ChangeSetTimeout",
                format!(
                    "change set {name} of stack {stack} is still {} after {} s; nothing was executed. Look at it with `aws cloudformation describe-change-set --stack-name {stack} --change-set-name {name}`, then run `stackctl up` again",
                    out.status().map(|s| s.as_str()).unwrap_or("unknown"),
                    CHANGE_SET_DEADLINE.as_secs()
                ),
            ));
        }
        match out.status() {
            Some(ChangeSetStatus::CreateComplete) => break,
            Some(ChangeSetStatus::Failed) => {
                let reason = out.status_reason().unwrap_or_default().to_owned();
                if reason.contains("didn't contain changes")
                    || reason.contains("No updates are to be performed")
                {
                    delete(aws, stack, &name).await?;
                    return Ok(None);
                }
                return Err(AwsError::service(
                    "CreateChangeSet",
                    "ChangeSetFailed",
                    reason,
                ));
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
    read(aws, stack, &name).await.map(Some)
}

/// Reads every page of a change set.
pub async fn read(aws: &Aws, stack: &str, name: &str) -> Result<Prepared, AwsError> {
    let mut changes = Vec::new();
    let mut next: Option<String> = None;
    let (mut stack_id, mut creation_time);
    loop {
        let out = aws
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeChangeSet", e))?;
        stack_id = out.stack_id().unwrap_or_default().to_owned();
        creation_time = out.creation_time().copied();
        for change in out.changes() {
            let Some(rc) = change.resource_change() else {
                continue;
            };
            let action = rc
                .action()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default();
            let resource_type = rc.resource_type().unwrap_or_default().to_owned();
            let replacement = rc.replacement().map(|r| r.as_str().to_owned());
            let mut causes: Vec<String> = Vec::new();
            for detail in rc.details() {
                let Some(target) = detail.target() else {
                    continue;
                };
                let recreates = !matches!(
                    target.requires_recreation(),
                    Some(RequiresRecreation::Never) | None
                );
                let name = target
                    .name()
                    .map(str::to_owned)
                    .or_else(|| target.attribute().map(|a| a.as_str().to_owned()))
                    .unwrap_or_default();
                let name = if recreates {
                    format!("{name} (recreates)")
                } else {
                    name
                };
                if !name.is_empty() && !causes.contains(&name) {
                    causes.push(name);
                }
            }
            changes.push(Change {
                needs_confirmation: needs_confirmation(
                    &action,
                    &resource_type,
                    replacement.as_deref(),
                ),
                action,
                logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type,
                replacement,
                causes,
            });
        }
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    Ok(Prepared {
        name: name.to_owned(),
        stack_id,
        changes,
        creation_time,
    })
}

/// Deletes a change set (a preview, or one the user declined).
pub async fn delete(aws: &Aws, stack: &str, name: &str) -> Result<(), AwsError> {
    aws.cfn
        .delete_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DeleteChangeSet", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::needs_confirmation;

    #[test]
    fn confirmation_rules() {
        assert!(needs_confirmation(
            "Modify",
            "AWS::EFS::FileSystem",
            Some("True")
        ));
        assert!(needs_confirmation(
            "Modify",
            "AWS::FSx::FileSystem",
            Some("Conditional")
        ));
        assert!(needs_confirmation("Remove", "AWS::S3::Bucket", None));
        assert!(needs_confirmation("Add", "AWS::IAM::Role", None));
        assert!(!needs_confirmation(
            "Modify",
            "AWS::SageMaker::NotebookInstance",
            Some("False")
        ));
        assert!(!needs_confirmation("Remove", "AWS::EC2::Route", None));
        assert!(!needs_confirmation("Add", "AWS::EFS::FileSystem", None));
    }

    /// A change set CloudFormation never finishes computing (DescribeChangeSet keeps answering
    /// CREATE_IN_PROGRESS, as it does while it works): the wait ends at the deadline, names the
    /// change set, and executes nothing.
    #[tokio::test(start_paused = true)]
    async fn a_change_set_that_never_finishes_ends_at_the_deadline() {
        use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
        use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
        use aws_sdk_cloudformation::types::{ChangeSetStatus, ChangeSetType};
        use aws_smithy_mocks::{RuleMode, mock, mock_client};

        let create = mock!(aws_sdk_cloudformation::Client::create_change_set).then_output(|| {
            CreateChangeSetOutput::builder()
                .id("arn:aws:cloudformation:us-east-1:123456789012:changeSet/stackctl-1/1")
                .build()
        });
        let describe =
            mock!(aws_sdk_cloudformation::Client::describe_change_set).then_output(|| {
                DescribeChangeSetOutput::builder()
                    .status(ChangeSetStatus::CreateInProgress)
                    .build()
            });
        let cfn = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&create, &describe]
        );
        let aws = crate::aws::Aws::with_cloudformation(cfn);
        let started = tokio::time::Instant::now();
        let err = super::create(
            &aws,
            "demo",
            "Resources: {}",
            &[],
            ChangeSetType::Update,
            std::time::Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Some("ChangeSetTimeout"), "{err}");
        assert!(err.to_string().contains("CREATE_IN_PROGRESS"), "{err}");
        assert!(started.elapsed() >= super::CHANGE_SET_DEADLINE);
        assert!(
            describe.num_calls() > 500,
            "kept polling until the deadline"
        );
    }
}
