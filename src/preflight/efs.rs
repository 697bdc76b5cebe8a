//! An existing EFS file system: it has mount targets in one VPC at a time, so the stack's VPC
//! must be the one its mount targets are in (or it must have none).

use super::Finding;
use crate::aws::AwsError;
use crate::spec::Network;

/// Check name.
pub const CHECK: &str = "efs.existing_id";

/// Reads the mount targets of `id` (EFS API reference, DescribeMountTargets; each mount
/// target's `VpcId`) and compares their VPC with the stack's network. `deployed_vpc` is the
/// VPC a deployed stack created (its `VpcId` output): its own mount targets are there.
pub async fn check_existing(
    efs: &aws_sdk_efs::Client,
    id: &str,
    network: &Network,
    create_mount_targets: bool,
    deployed_vpc: Option<&str>,
) -> Result<Finding, AwsError> {
    let mut vpcs: Vec<String> = Vec::new();
    let mut marker = None;
    loop {
        let out = match efs
            .describe_mount_targets()
            .file_system_id(id)
            .set_marker(marker)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = AwsError::from_sdk("efs:DescribeMountTargets", e);
                if err.code() == Some("FileSystemNotFound") {
                    return Ok(Finding::fatal(
                        CHECK,
                        format!("EFS file system {id} does not exist in this account and region"),
                        "correct efs.existing_id, or remove it to let the stack create a file system",
                    ));
                }
                return Err(err);
            }
        };
        // Mount targets on their way out hold no VPC (the wait is CloudFormation's).
        for mt in out
            .mount_targets()
            .iter()
            .filter(|m| !matches!(m.life_cycle_state().as_str(), "deleting" | "deleted"))
        {
            if let Some(vpc) = mt.vpc_id()
                && !vpcs.iter().any(|v| v == vpc)
            {
                vpcs.push(vpc.to_owned());
            }
        }
        marker = out.next_marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    Ok(judge(
        id,
        &vpcs,
        network,
        create_mount_targets,
        deployed_vpc,
    ))
}

fn judge(
    id: &str,
    vpcs: &[String],
    network: &Network,
    create_mount_targets: bool,
    deployed_vpc: Option<&str>,
) -> Finding {
    let elsewhere = vpcs.iter().find(|v| Some(v.as_str()) != deployed_vpc);
    match (network, vpcs.first()) {
        (Network::Create(_), Some(_)) if elsewhere.is_none() => Finding::ok(
            CHECK,
            format!(
                "EFS file system {id} has its mount targets in the VPC the stack created, {}",
                deployed_vpc.unwrap_or_default()
            ),
        ),
        (Network::Create(_), Some(_)) => {
            let vpc = elsewhere.expect("checked above");
            Finding::fatal(
                CHECK,
                format!(
                    "EFS file system {id} has mount targets in {vpc}; the stack creates a new VPC, and a file system has mount targets in one VPC at a time, so creating them would fail and roll back"
                ),
                format!(
                    "use that VPC (network.existing with vpc_id: {vpc}), or delete the file system's mount targets first"
                ),
            )
        }
        (Network::Existing(existing), _) if vpcs.iter().any(|v| v != existing.vpc_id.as_str()) => {
            let other = vpcs
                .iter()
                .find(|v| *v != existing.vpc_id.as_str())
                .expect("checked above");
            Finding::fatal(
                CHECK,
                format!(
                    "EFS file system {id} has mount targets in {other}, not in the stack's VPC {}",
                    existing.vpc_id
                ),
                format!(
                    "set network.existing.vpc_id to {other}, or delete the file system's mount targets in {other}"
                ),
            )
        }
        (Network::Existing(existing), None) if !create_mount_targets => Finding::fatal(
            CHECK,
            format!(
                "EFS file system {id} has no mount targets, and efs.create_mount_targets is false: nothing in {} could mount it",
                existing.vpc_id
            ),
            "set efs.create_mount_targets: true",
        ),
        (_, Some(vpc)) => Finding::ok(
            CHECK,
            format!("EFS file system {id} has its mount targets in the stack's VPC {vpc}"),
        ),
        (_, None) => Finding::ok(
            CHECK,
            format!(
                "EFS file system {id} exists and has no mount targets yet; the stack creates them"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    //! Against SDK mocks shaped like the EFS API reference's DescribeMountTargets answer
    //! (MountTargets[].VpcId) and its FileSystemNotFound error (HTTP 404).
    use super::*;
    use crate::preflight::Severity;
    use aws_sdk_efs::operation::describe_mount_targets::{
        DescribeMountTargetsError, DescribeMountTargetsOutput,
    };
    use aws_sdk_efs::types::MountTargetDescription;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const FS: &str = "fs-0123456789abcdef0";

    fn created() -> Network {
        let spec = crate::spec::SpecSource::embedded_default().load().unwrap();
        spec.network
    }

    fn mount_targets_in(vpc: &str) -> aws_sdk_efs::Client {
        let vpc = vpc.to_owned();
        let rule = mock!(aws_sdk_efs::Client::describe_mount_targets).then_output(move || {
            DescribeMountTargetsOutput::builder()
                .mount_targets(
                    MountTargetDescription::builder()
                        .mount_target_id("fsmt-0123456789abcdef0")
                        .file_system_id(FS)
                        .subnet_id("subnet-0123456789abcdef0")
                        .life_cycle_state(aws_sdk_efs::types::LifeCycleState::Available)
                        .vpc_id(&vpc)
                        .build()
                        .unwrap(),
                )
                .build()
        });
        mock_client!(aws_sdk_efs, RuleMode::MatchAny, [&rule])
    }

    #[tokio::test]
    async fn mount_targets_in_another_vpc_refuse_a_new_vpc_naming_it() {
        let client = mount_targets_in("vpc-0aaaaaaaaaaaaaaaa");
        let f = check_existing(&client, FS, &created(), true, None)
            .await
            .unwrap();
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
        assert!(f.message.contains("vpc-0aaaaaaaaaaaaaaaa"), "{f:?}");
        // Another deployed VPC does not make them the stack's.
        let f = check_existing(&client, FS, &created(), true, Some("vpc-0bbbbbbbbbbbbbbbb"))
            .await
            .unwrap();
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
    }

    /// A stack that reuses a kept file system (`up --reuse-data`) and created its VPC: on the
    /// next `up` the mount targets it made are in that VPC, which is fine.
    #[tokio::test]
    async fn mount_targets_in_the_vpc_the_deployed_stack_created_are_its_own() {
        let client = mount_targets_in("vpc-0aaaaaaaaaaaaaaaa");
        let f = check_existing(&client, FS, &created(), true, Some("vpc-0aaaaaaaaaaaaaaaa"))
            .await
            .unwrap();
        assert_eq!(f.severity, Severity::Ok, "{f:?}");
        assert!(f.message.contains("the VPC the stack created"), "{f:?}");
    }

    #[tokio::test]
    async fn mount_targets_in_the_existing_vpc_are_fine_and_elsewhere_are_not() {
        let existing = |vpc: &str| {
            Network::Existing(crate::spec::file::ExistingNetwork {
                vpc_id: vpc.parse().unwrap(),
                private_subnet_ids: vec!["subnet-0123456789abcdef0".parse().unwrap()],
                security_group_id: "sg-0123456789abcdef0".parse().unwrap(),
            })
        };
        let client = mount_targets_in("vpc-0aaaaaaaaaaaaaaaa");
        let same = check_existing(&client, FS, &existing("vpc-0aaaaaaaaaaaaaaaa"), false, None)
            .await
            .unwrap();
        assert_eq!(same.severity, Severity::Ok, "{same:?}");
        let other = check_existing(&client, FS, &existing("vpc-0bbbbbbbbbbbbbbbb"), false, None)
            .await
            .unwrap();
        assert_eq!(other.severity, Severity::Fatal, "{other:?}");
        assert!(other.message.contains("vpc-0aaaaaaaaaaaaaaaa"));
    }

    #[tokio::test]
    async fn a_file_system_that_does_not_exist_is_fatal() {
        let rule = mock!(aws_sdk_efs::Client::describe_mount_targets).then_error(|| {
            DescribeMountTargetsError::FileSystemNotFound(
                aws_sdk_efs::types::error::FileSystemNotFound::builder()
                    .error_code("FileSystemNotFound")
                    .message("File system 'fs-0123456789abcdef0' does not exist.")
                    .meta(
                        aws_sdk_efs::error::ErrorMetadata::builder()
                            .code("FileSystemNotFound")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
        });
        let client = mock_client!(aws_sdk_efs, RuleMode::MatchAny, [&rule]);
        let f = check_existing(&client, FS, &created(), true, None)
            .await
            .unwrap();
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
        assert!(f.message.contains("does not exist"), "{f:?}");
    }
}
