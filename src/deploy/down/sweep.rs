//! What a stack deletion left behind, removed with direct calls in dependency order.
//!
//! CloudFormation can end a delete in DELETE_FAILED (an interface a service is slow to
//! release, a resource changed by hand), and the local emulator skips NAT gateways, EIPs,
//! routes, route tables, internet gateways and VPC endpoints and then fails on the VPC. Either
//! way `down` checks every physical resource it recorded before the delete and removes what is
//! left, so nothing that costs money (a NAT gateway, an EIP) is orphaned silently.
//!
//! The sweep is one table: for each resource type, in [`ORDER`], *describe* (does it still
//! exist?), *decide* (only resources whose deletion policy is `Delete`), *delete*, and
//! *verify* (wait, with a deadline, until it is gone). Every call may be a retry whose first
//! answer was lost, so "not found", "not attached" and "already deleted" count as done.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters as _;

use super::interfaces::{self, Cleared, Scope};
use super::retention::Retention;
use crate::aws::{Aws, AwsError};
use crate::report::Reporter;

/// One resource of the stack as recorded before deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Physical id (empty when the resource was never created).
    pub physical_id: String,
    /// What the deployed template says happens to it.
    pub retention: Retention,
    /// CloudFormation reports it DELETE_COMPLETE (a rolled-back create, an earlier deletion).
    pub deleted: bool,
}

/// Bounds of the waits of `down`.
#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// Between two checks of something that is going away.
    pub poll: Duration,
    /// Longest wait for network interfaces a service of the stack releases.
    pub eni_timeout: Duration,
    /// Longest wait for one resource to go after its deletion (NAT gateway, mount target,
    /// training job stopping, task cancelled).
    pub resource_timeout: Duration,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            eni_timeout: Duration::from_secs(20 * 60),
            resource_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// Resource types the sweep removes, in the order it removes them: what holds an interface or
/// an address first, the VPC last, then a file system the template did not keep.
pub const ORDER: [&str; 11] = [
    NAT_GATEWAY,
    "AWS::EC2::VPCEndpoint",
    "AWS::EFS::MountTarget",
    INTERFACES,
    "AWS::EC2::EIP",
    "AWS::EC2::RouteTable",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::Subnet",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::VPC",
    "AWS::EFS::FileSystem",
];

const NAT_GATEWAY: &str = "AWS::EC2::NatGateway";

/// Not a resource type: the step that clears network interfaces from the stack's subnets.
const INTERFACES: &str = "(network interfaces)";

/// Why the sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Something that is not the stack's blocks its subnets or group.
    #[error(transparent)]
    Blocked(#[from] interfaces::Blocked),
    /// A resource did not go within its deadline.
    #[error("{what} still exists after {} s: {detail}", waited.as_secs())]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        waited: Duration,
        /// What is left and what to do.
        detail: String,
    },
}

/// Removes whatever of `recorded` still exists and may be swept. Returns a line per action.
pub async fn sweep(
    aws: &Aws,
    recorded: &[Recorded],
    scope: &Scope,
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<Vec<String>, SweepError> {
    let mut actions = Vec::new();
    for step in ORDER {
        if step == INTERFACES {
            if scope.subnets.is_empty() && scope.group.is_none() {
                continue;
            }
            match interfaces::clear(aws, scope, reporter, settings, true).await? {
                Cleared::Clear(lines) => actions.extend(lines),
                Cleared::Blocked(blocked) => return Err(blocked.into()),
                Cleared::TimedOut(left) => {
                    return Err(SweepError::Timeout {
                        what: format!("network interface(s) {}", left.join(", ")),
                        waited: settings.eni_timeout,
                        detail: "the services holding them did not release them; run `stackctl down` again later (or raise --eni-timeout)".to_owned(),
                    });
                }
            }
            continue;
        }
        for r in recorded
            .iter()
            .filter(|r| r.resource_type == step && !r.physical_id.is_empty())
        {
            if !r.retention.sweepable() || !exists(aws, r).await? {
                continue;
            }
            remove(aws, r).await?;
            verify_gone(aws, r, reporter, settings).await?;
            let line = format!(
                "deleted {} {} ({}): the stack deletion left it",
                r.resource_type, r.physical_id, r.logical_id
            );
            reporter.notice(&line);
            actions.push(line);
        }
    }
    Ok(actions)
}

/// Resources the sweep knows that still exist but are not its to delete (kept, snapshotted or
/// undecided), for the report.
pub async fn left_alone<'a>(
    aws: &Aws,
    recorded: &'a [Recorded],
) -> Result<Vec<&'a Recorded>, AwsError> {
    let mut left = Vec::new();
    for r in recorded.iter().filter(|r| {
        !r.retention.sweepable()
            && !r.physical_id.is_empty()
            && ORDER.contains(&r.resource_type.as_str())
    }) {
        if exists(aws, r).await? {
            left.push(r);
        }
    }
    Ok(left)
}

/// Describe: true while the resource exists (and is not on its way out, for NAT gateways).
pub async fn exists(aws: &Aws, r: &Recorded) -> Result<bool, AwsError> {
    let ec2 = &aws.ec2;
    let id = r.physical_id.as_str();
    let found = match r.resource_type.as_str() {
        NAT_GATEWAY => ec2
            .describe_nat_gateways()
            .nat_gateway_ids(id)
            .send()
            .await
            // `deleting` still holds its Elastic IP and interface: wait for it below.
            .map(|o| {
                o.nat_gateways()
                    .iter()
                    .any(|n| n.state().is_some_and(|s| s.as_str() != "deleted"))
            })
            .map_err(|e| AwsError::from_sdk("DescribeNatGateways", e)),
        "AWS::EC2::VPCEndpoint" => ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
            .map(|o| {
                o.vpc_endpoints().iter().any(|v| {
                    v.state()
                        .is_none_or(|s| !s.as_str().eq_ignore_ascii_case("deleted"))
                })
            })
            .map_err(|e| AwsError::from_sdk("DescribeVpcEndpoints", e)),
        "AWS::EFS::MountTarget" => aws
            .efs
            .describe_mount_targets()
            .mount_target_id(id)
            .send()
            .await
            .map(|o| !o.mount_targets().is_empty())
            .map_err(|e| AwsError::from_sdk("DescribeMountTargets", e)),
        "AWS::EFS::FileSystem" => return file_system_exists(aws, id).await,
        "AWS::EC2::EIP" => Ok(address_of(aws, id).await?.is_some()),
        "AWS::EC2::RouteTable" => ec2
            .describe_route_tables()
            .route_table_ids(id)
            .send()
            .await
            .map(|o| !o.route_tables().is_empty())
            .map_err(|e| AwsError::from_sdk("DescribeRouteTables", e)),
        "AWS::EC2::InternetGateway" => ec2
            .describe_internet_gateways()
            .internet_gateway_ids(id)
            .send()
            .await
            .map(|o| !o.internet_gateways().is_empty())
            .map_err(|e| AwsError::from_sdk("DescribeInternetGateways", e)),
        "AWS::EC2::Subnet" => ec2
            .describe_subnets()
            .subnet_ids(id)
            .send()
            .await
            .map(|o| !o.subnets().is_empty())
            .map_err(|e| AwsError::from_sdk("DescribeSubnets", e)),
        "AWS::EC2::SecurityGroup" => ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .map(|o| !o.security_groups().is_empty())
            .map_err(|e| AwsError::from_sdk("DescribeSecurityGroups", e)),
        "AWS::EC2::VPC" => ec2
            .describe_vpcs()
            .vpc_ids(id)
            .send()
            .await
            .map(|o| !o.vpcs().is_empty())
            .map_err(|e| AwsError::from_sdk("DescribeVpcs", e)),
        _ => Ok(false),
    };
    match found {
        Err(err) if is_gone(&err) => Ok(false),
        other => other,
    }
}

/// True when the EFS file system exists (in any state but gone).
pub async fn file_system_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    match aws
        .efs
        .describe_file_systems()
        .file_system_id(id)
        .send()
        .await
    {
        Ok(o) => Ok(!o.file_systems().is_empty()),
        Err(e) => {
            let err = AwsError::from_sdk("DescribeFileSystems", e);
            if is_gone(&err) { Ok(false) } else { Err(err) }
        }
    }
}

/// The file system's mount targets that are not going away (EFS API Reference,
/// DescribeMountTargets: LifeCycleState), as `fsmt-... in vpc-...`.
pub async fn mount_targets_in_use(aws: &Aws, id: &str) -> Result<Vec<String>, AwsError> {
    let out = match aws
        .efs
        .describe_mount_targets()
        .file_system_id(id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let err = AwsError::from_sdk("DescribeMountTargets", e);
            return if is_gone(&err) {
                Ok(Vec::new())
            } else {
                Err(err)
            };
        }
    };
    Ok(out
        .mount_targets()
        .iter()
        .filter(|m| !matches!(m.life_cycle_state().as_str(), "deleting" | "deleted"))
        .map(|m| {
            format!(
                "{} in {}",
                m.mount_target_id(),
                m.vpc_id().unwrap_or("an unnamed VPC")
            )
        })
        .collect())
}

/// Delete: one idempotent removal (a retried call that finds the thing gone succeeded).
async fn remove(aws: &Aws, r: &Recorded) -> Result<(), AwsError> {
    let ec2 = &aws.ec2;
    let id = r.physical_id.as_str();
    match r.resource_type.as_str() {
        NAT_GATEWAY => gone_ok(
            ec2.delete_nat_gateway()
                .nat_gateway_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteNatGateway", e)),
        ),
        "AWS::EC2::VPCEndpoint" => {
            let out = match ec2
                .delete_vpc_endpoints()
                .vpc_endpoint_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteVpcEndpoints", e))
            {
                Ok(out) => out,
                // A retry whose first call worked (the emulator then answers for the route it
                // already removed); the verify step below confirms the endpoint is gone.
                Err(err) if is_gone(&err) => return Ok(()),
                Err(err) => return Err(err),
            };
            // The API reports per-endpoint failures in `Unsuccessful`, not as an error.
            match out.unsuccessful().iter().find_map(|u| u.error()) {
                Some(e) if !e.code().unwrap_or_default().contains("NotFound") => {
                    Err(AwsError::service(
                        "DeleteVpcEndpoints",
                        e.code().unwrap_or("Unknown").to_owned(),
                        e.message().unwrap_or_default().to_owned(),
                    ))
                }
                _ => Ok(()),
            }
        }
        "AWS::EFS::MountTarget" => gone_ok(
            aws.efs
                .delete_mount_target()
                .mount_target_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteMountTarget", e)),
        ),
        "AWS::EFS::FileSystem" => delete_file_system(aws, id).await,
        "AWS::EC2::EIP" => match address_of(aws, id).await? {
            Some(allocation) => gone_ok(
                ec2.release_address()
                    .allocation_id(allocation)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ReleaseAddress", e)),
            ),
            None => Ok(()),
        },
        "AWS::EC2::RouteTable" => {
            let tables = ec2
                .describe_route_tables()
                .route_table_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeRouteTables", e));
            let tables = match tables {
                Err(err) if is_gone(&err) => return Ok(()),
                other => other?,
            };
            for assoc in tables.route_tables().iter().flat_map(|t| t.associations()) {
                if assoc.main() != Some(true)
                    && let Some(aid) = assoc.route_table_association_id()
                {
                    gone_ok(
                        ec2.disassociate_route_table()
                            .association_id(aid)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("DisassociateRouteTable", e)),
                    )?;
                }
            }
            gone_ok(
                ec2.delete_route_table()
                    .route_table_id(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DeleteRouteTable", e)),
            )
        }
        "AWS::EC2::InternetGateway" => {
            let gateways = ec2
                .describe_internet_gateways()
                .internet_gateway_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeInternetGateways", e));
            let gateways = match gateways {
                Err(err) if is_gone(&err) => return Ok(()),
                other => other?,
            };
            for gw in gateways.internet_gateways() {
                for vpc in gw.attachments().iter().filter_map(|a| a.vpc_id()) {
                    detach(aws, id, vpc).await?;
                }
            }
            gone_ok(
                ec2.delete_internet_gateway()
                    .internet_gateway_id(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DeleteInternetGateway", e)),
            )
        }
        "AWS::EC2::Subnet" => gone_ok(
            ec2.delete_subnet()
                .subnet_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteSubnet", e)),
        ),
        "AWS::EC2::SecurityGroup" => gone_ok(
            ec2.delete_security_group()
                .group_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteSecurityGroup", e)),
        ),
        "AWS::EC2::VPC" => gone_ok(
            ec2.delete_vpc()
                .vpc_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteVpc", e)),
        ),
        _ => Ok(()),
    }
}

/// Verify: waits until `r` is gone, up to the resource deadline. NAT gateways and mount
/// targets go asynchronously; the others are gone when their delete call returns.
async fn verify_gone(
    aws: &Aws,
    r: &Recorded,
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<(), SweepError> {
    let what = format!("{} {} ({})", r.resource_type, r.physical_id, r.logical_id);
    if r.resource_type == NAT_GATEWAY {
        reporter.notice(&format!(
            "waiting for NAT gateway {} to be deleted (up to {} s; usually a minute or two)",
            r.physical_id,
            settings.resource_timeout.as_secs()
        ));
        // The SDK's NatGatewayDeleted waiter: state `deleted`, or NatGatewayNotFound.
        return aws
            .ec2
            .wait_until_nat_gateway_deleted()
            .nat_gateway_ids(&r.physical_id)
            .wait(settings.resource_timeout)
            .await
            .map(|_| ())
            .map_err(|e| SweepError::Timeout {
                what,
                waited: settings.resource_timeout,
                detail: format!(
                    "the NAT gateway did not reach `deleted` ({}); its Elastic IP and interface are released only then. Run `stackctl down` again",
                    aws_sdk_ec2::error::DisplayErrorContext(&e)
                ),
            });
    }
    let started = tokio::time::Instant::now();
    while exists(aws, r).await? {
        if started.elapsed() >= settings.resource_timeout {
            return Err(SweepError::Timeout {
                what,
                waited: settings.resource_timeout,
                detail: "it was deleted but is still listed; run `stackctl down` again".to_owned(),
            });
        }
        tokio::time::sleep(settings.poll).await;
    }
    Ok(())
}

/// Deletes an EFS file system: its mount targets first (EFS refuses while any exist), each
/// waited for with the caller's deadline by the mount-target step; here they are listed and
/// removed, then the file system.
pub async fn delete_file_system(aws: &Aws, id: &str) -> Result<(), AwsError> {
    let targets = aws
        .efs
        .describe_mount_targets()
        .file_system_id(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeMountTargets", e));
    let targets = match targets {
        Err(err) if is_gone(&err) => return Ok(()),
        other => other?,
    };
    for t in targets.mount_targets() {
        gone_ok(
            aws.efs
                .delete_mount_target()
                .mount_target_id(t.mount_target_id())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DeleteMountTarget", e)),
        )?;
    }
    gone_ok(
        aws.efs
            .delete_file_system()
            .file_system_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteFileSystem", e)),
    )
}

/// Deletes an EFS file system and its mount targets, waiting (bounded) for the mount targets
/// to go, since EFS refuses to delete a file system that still has any (`FileSystemInUse`).
pub async fn delete_file_system_waiting(
    aws: &Aws,
    id: &str,
    settings: SweepSettings,
) -> Result<(), SweepError> {
    let started = tokio::time::Instant::now();
    loop {
        match delete_file_system(aws, id).await {
            Ok(()) => return Ok(()),
            Err(err) if err.code() == Some("FileSystemInUse") => {
                if started.elapsed() >= settings.resource_timeout {
                    return Err(SweepError::Timeout {
                        what: format!("EFS file system {id}"),
                        waited: settings.resource_timeout,
                        detail: "its mount targets are still being deleted; run `stackctl down --delete-data` again".to_owned(),
                    });
                }
                tokio::time::sleep(settings.poll).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// The allocation id of the stack's Elastic IP (its physical id is the public IP, or the
/// allocation id), if it still exists.
async fn address_of(aws: &Aws, physical: &str) -> Result<Option<String>, AwsError> {
    let out = aws
        .ec2
        .describe_addresses()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddresses", e))?;
    Ok(out
        .addresses()
        .iter()
        .find(|a| a.public_ip() == Some(physical) || a.allocation_id() == Some(physical))
        .and_then(|a| a.allocation_id().map(str::to_owned)))
}

/// DetachInternetGateway; `Gateway.NotAttached` after a retry means the first call worked.
async fn detach(aws: &Aws, gateway: &str, vpc: &str) -> Result<(), AwsError> {
    gone_ok(
        aws.ec2
            .detach_internet_gateway()
            .internet_gateway_id(gateway)
            .vpc_id(vpc)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DetachInternetGateway", e)),
    )
}

/// Error codes besides every `*NotFound` one (the EC2 API reference's error code list:
/// `InvalidSubnetID.NotFound`, `InvalidVpcID.NotFound`, `NatGatewayNotFound`, ...; EFS's
/// `MountTargetNotFound` and `FileSystemNotFound`) that mean "already done".
const GONE_CODES: [&str; 3] = ["Gateway.NotAttached", "NoSuchBucket", "NoSuchKey"];

/// True when an error says the thing is already gone (a retried delete whose first answer
/// was lost, or something deleted meanwhile).
pub fn is_gone(err: &AwsError) -> bool {
    err.code()
        .is_some_and(|c| c.contains("NotFound") || GONE_CODES.contains(&c))
}

/// Ok for success and for "already gone".
pub fn gone_ok<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_gone(&err) => Ok(()),
        Err(err) => Err(err),
    }
}
