//! What a stack deletion left behind, removed with direct EC2/EFS calls in dependency order.
//!
//! CloudFormation can end a delete in DELETE_FAILED (a network interface SageMaker or EFS left
//! in a subnet, a resource changed by hand), and the local emulator skips NAT gateways, EIPs,
//! routes, route tables, internet gateways and VPC endpoints and then fails on the VPC. Either
//! way stackctl checks every physical resource it recorded before the delete and removes what
//! is left, reporting each step, so nothing that costs money (a NAT gateway, an EIP) is
//! orphaned silently.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, NetworkInterfaceStatus};

use crate::aws::{Aws, AwsError};
use crate::report::Reporter;

/// One resource of the stack as recorded before deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Physical id.
    pub physical_id: String,
    /// Kept by `DeletionPolicy: Retain`.
    pub retained: bool,
}

/// Bounds of the waits during a sweep.
#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// Between two checks of something that is going away.
    pub poll: Duration,
    /// Longest wait for a network interface someone else holds.
    pub eni_timeout: Duration,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            eni_timeout: Duration::from_secs(20 * 60),
        }
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn of_type<'a>(recorded: &'a [Recorded], ty: &str) -> impl Iterator<Item = &'a Recorded> + 'a {
    let ty = ty.to_owned();
    recorded
        .iter()
        .filter(move |r| r.resource_type == ty && !r.retained && !r.physical_id.is_empty())
}

/// A `vpc-id` filter for the stack's VPC (none when the stack uses an existing VPC, which
/// then lists everything; callers match ids).
fn vpc_filter(recorded: &[Recorded]) -> Option<Vec<Filter>> {
    vpc_id(recorded).map(|vpc| vec![filter("vpc-id", vpc)])
}

/// The VPC the stack created, if any.
pub fn vpc_id(recorded: &[Recorded]) -> Option<&str> {
    of_type(recorded, "AWS::EC2::VPC")
        .map(|r| r.physical_id.as_str())
        .next()
}

/// Removes whatever of `recorded` still exists (retained resources excepted). Returns a line
/// per action taken.
pub async fn sweep(
    aws: &Aws,
    recorded: &[Recorded],
    account: &str,
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<Vec<String>, AwsError> {
    let mut actions = Vec::new();
    let mut did = |line: String, reporter: &dyn Reporter| {
        reporter.notice(&line);
        actions.push(line);
    };
    let ec2 = &aws.ec2;

    // 1. NAT gateways (they cost money and hold an EIP and a network interface).
    let nat_ids: Vec<String> = of_type(recorded, "AWS::EC2::NatGateway")
        .map(|r| r.physical_id.clone())
        .collect();
    if !nat_ids.is_empty() {
        let nats = ec2
            .describe_nat_gateways()
            .set_nat_gateway_ids(Some(nat_ids.clone()))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeNatGateways", err))?;
        for nat in nats.nat_gateways() {
            let state = nat.state().map(|s| s.as_str()).unwrap_or_default();
            if state == "deleted" || state == "deleting" {
                continue;
            }
            let id = nat.nat_gateway_id().unwrap_or_default();
            gone_ok(
                ec2.delete_nat_gateway()
                    .nat_gateway_id(id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteNatGateway", err)),
            )?;
            did(
                format!("deleted NAT gateway {id} (left by the stack deletion)"),
                reporter,
            );
        }
        // Its EIP and network interface are released only once it is gone.
        loop {
            let nats = ec2
                .describe_nat_gateways()
                .set_nat_gateway_ids(Some(nat_ids.clone()))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("DescribeNatGateways", err))?;
            let pending = nats
                .nat_gateways()
                .iter()
                .any(|n| n.state().is_some_and(|s| s.as_str() != "deleted"));
            if !pending {
                break;
            }
            tokio::time::sleep(settings.poll).await;
        }
    }

    // 2. VPC endpoints.
    for r in of_type(recorded, "AWS::EC2::VPCEndpoint") {
        // Listed by VPC and matched here: filters by id are not supported everywhere.
        let exists = ec2
            .describe_vpc_endpoints()
            .set_filters(vpc_filter(recorded))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeVpcEndpoints", err))?
            .vpc_endpoints()
            .iter()
            .any(|v| {
                v.vpc_endpoint_id() == Some(r.physical_id.as_str())
                    && v.state()
                        .is_none_or(|s| !s.as_str().eq_ignore_ascii_case("deleted"))
            });
        if exists {
            gone_ok(
                ec2.delete_vpc_endpoints()
                    .vpc_endpoint_ids(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteVpcEndpoints", err)),
            )?;
            did(
                format!("deleted VPC endpoint {} ({})", r.physical_id, r.logical_id),
                reporter,
            );
        }
    }

    // 3. EFS mount targets (a retained file system keeps its data, not its mount targets).
    for r in of_type(recorded, "AWS::EFS::MountTarget") {
        let exists = match aws
            .efs
            .describe_mount_targets()
            .mount_target_id(&r.physical_id)
            .send()
            .await
        {
            Ok(out) => !out.mount_targets().is_empty(),
            Err(err) => {
                let err = AwsError::from_sdk("DescribeMountTargets", err);
                if err.code() == Some("MountTargetNotFound") {
                    false
                } else {
                    return Err(err);
                }
            }
        };
        if exists {
            gone_ok(
                aws.efs
                    .delete_mount_target()
                    .mount_target_id(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteMountTarget", err)),
            )?;
            did(
                format!(
                    "deleted EFS mount target {} ({})",
                    r.physical_id, r.logical_id
                ),
                reporter,
            );
        }
    }

    // 4. Network interfaces still in the VPC.
    if let Some(vpc) = vpc_id(recorded)
        && vpc_exists(aws, vpc).await?
    {
        let cleared = clear_network_interfaces(
            aws,
            &[filter("vpc-id", vpc)],
            &BTreeSet::new(),
            account,
            reporter,
            settings,
        )
        .await?;
        for line in cleared {
            did(line, &NoReport);
        }
    }

    // 5. Elastic IPs (the physical id is the public IP).
    for r in of_type(recorded, "AWS::EC2::EIP") {
        let addresses = ec2
            .describe_addresses()
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeAddresses", err))?;
        let stack_addresses = addresses.addresses().iter().filter(|a| {
            a.public_ip() == Some(r.physical_id.as_str())
                || a.allocation_id() == Some(r.physical_id.as_str())
        });
        for a in stack_addresses {
            if let Some(alloc) = a.allocation_id() {
                gone_ok(
                    ec2.release_address()
                        .allocation_id(alloc)
                        .send()
                        .await
                        .map_err(|err| AwsError::from_sdk("ReleaseAddress", err)),
                )?;
                did(
                    format!(
                        "released Elastic IP {} ({alloc}, {})",
                        r.physical_id, r.logical_id
                    ),
                    reporter,
                );
            }
        }
    }

    // 6. Route tables: drop subnet associations, then the table (its routes go with it).
    for r in of_type(recorded, "AWS::EC2::RouteTable") {
        let tables = ec2
            .describe_route_tables()
            .set_filters(vpc_filter(recorded))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeRouteTables", err))?;
        let stack_tables = tables
            .route_tables()
            .iter()
            .filter(|t| t.route_table_id() == Some(r.physical_id.as_str()));
        for table in stack_tables {
            for assoc in table.associations() {
                if assoc.main() != Some(true)
                    && let Some(id) = assoc.route_table_association_id()
                {
                    gone_ok(
                        ec2.disassociate_route_table()
                            .association_id(id)
                            .send()
                            .await
                            .map_err(|err| AwsError::from_sdk("DisassociateRouteTable", err)),
                    )?;
                }
            }
            gone_ok(
                ec2.delete_route_table()
                    .route_table_id(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteRouteTable", err)),
            )?;
            did(
                format!("deleted route table {} ({})", r.physical_id, r.logical_id),
                reporter,
            );
        }
    }

    // 7. Internet gateways: detach, then delete.
    for r in of_type(recorded, "AWS::EC2::InternetGateway") {
        let gateways = ec2
            .describe_internet_gateways()
            .internet_gateway_ids(&r.physical_id)
            .send()
            .await;
        let gateways = match gateways {
            Ok(g) => g,
            Err(err) => {
                let err = AwsError::from_sdk("DescribeInternetGateways", err);
                if err.code() == Some("InvalidInternetGatewayID.NotFound") {
                    continue;
                }
                return Err(err);
            }
        };
        for gw in gateways.internet_gateways() {
            for attachment in gw.attachments() {
                if let Some(vpc) = attachment.vpc_id() {
                    gone_ok(
                        ec2.detach_internet_gateway()
                            .internet_gateway_id(&r.physical_id)
                            .vpc_id(vpc)
                            .send()
                            .await
                            .map_err(|err| AwsError::from_sdk("DetachInternetGateway", err)),
                    )?;
                }
            }
            gone_ok(
                ec2.delete_internet_gateway()
                    .internet_gateway_id(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteInternetGateway", err)),
            )?;
            did(
                format!(
                    "deleted internet gateway {} ({})",
                    r.physical_id, r.logical_id
                ),
                reporter,
            );
        }
    }

    // 8. Subnets, 9. security groups, 10. the VPC.
    for r in of_type(recorded, "AWS::EC2::Subnet") {
        let exists = !ec2
            .describe_subnets()
            .filters(filter("subnet-id", &r.physical_id))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeSubnets", err))?
            .subnets()
            .is_empty();
        if exists {
            gone_ok(
                ec2.delete_subnet()
                    .subnet_id(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteSubnet", err)),
            )?;
            did(
                format!("deleted subnet {} ({})", r.physical_id, r.logical_id),
                reporter,
            );
        }
    }
    for r in of_type(recorded, "AWS::EC2::SecurityGroup") {
        let exists = !ec2
            .describe_security_groups()
            .filters(filter("group-id", &r.physical_id))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DescribeSecurityGroups", err))?
            .security_groups()
            .is_empty();
        if exists {
            gone_ok(
                ec2.delete_security_group()
                    .group_id(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteSecurityGroup", err)),
            )?;
            did(
                format!(
                    "deleted security group {} ({})",
                    r.physical_id, r.logical_id
                ),
                reporter,
            );
        }
    }
    if let Some(vpc) = vpc_id(recorded)
        && vpc_exists(aws, vpc).await?
    {
        gone_ok(
            ec2.delete_vpc()
                .vpc_id(vpc)
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("DeleteVpc", err)),
        )?;
        did(format!("deleted VPC {vpc}"), reporter);
    }

    // 11. A file system the stack should have deleted (retain: false).
    for r in of_type(recorded, "AWS::EFS::FileSystem") {
        if efs_exists(aws, &r.physical_id).await? {
            gone_ok(
                aws.efs
                    .delete_file_system()
                    .file_system_id(&r.physical_id)
                    .send()
                    .await
                    .map_err(|err| AwsError::from_sdk("DeleteFileSystem", err)),
            )?;
            did(
                format!(
                    "deleted EFS file system {} ({})",
                    r.physical_id, r.logical_id
                ),
                reporter,
            );
        }
    }
    Ok(actions)
}

/// True when an error says the thing is already gone (a retried delete whose first answer
/// was lost, or something deleted meanwhile).
pub fn is_gone(err: &AwsError) -> bool {
    err.code().is_some_and(|c| {
        c.contains("NotFound") || c == "NoSuchBucket" || c == "InvalidAllocationID.NotFound"
    })
}

/// Ok for success and for "already gone".
pub fn gone_ok<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_gone(&err) => Ok(()),
        Err(err) => Err(err),
    }
}

/// A reporter that drops everything (for lines already reported).
struct NoReport;

impl Reporter for NoReport {
    fn notice(&self, _: &str) {}
    fn change_set(&self, _: &[crate::report::Change]) {}
    fn operation_started(&self, _: &str, _: usize) {}
    fn resource_event(&self, _: &crate::report::ResourceEvent) {}
    fn heartbeat(&self, _: Duration, _: usize, _: usize, _: &[String]) {}
    fn finished(&self, _: &crate::report::Outcome) {}
}

/// True when the VPC exists.
async fn vpc_exists(aws: &Aws, vpc: &str) -> Result<bool, AwsError> {
    Ok(!aws
        .ec2
        .describe_vpcs()
        .filters(filter("vpc-id", vpc))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("DescribeVpcs", err))?
        .vpcs()
        .is_empty())
}

/// True when the EFS file system exists.
pub async fn efs_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    match aws
        .efs
        .describe_file_systems()
        .file_system_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(!out.file_systems().is_empty()),
        Err(err) => {
            let err = AwsError::from_sdk("DescribeFileSystems", err);
            if err.code() == Some("FileSystemNotFound") {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

/// Network interfaces matching `filters`, except those in `expected` (which belong to
/// resources the stack deletes itself): deletes those that are `available` and owned by
/// `account`, and waits (bounded, reporting) for the others to go.
pub async fn clear_network_interfaces(
    aws: &Aws,
    filters: &[Filter],
    expected: &BTreeSet<String>,
    account: &str,
    reporter: &dyn Reporter,
    settings: SweepSettings,
) -> Result<Vec<String>, AwsError> {
    let mut actions = Vec::new();
    let started = tokio::time::Instant::now();
    let mut announced: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut blocking = Vec::new();
        let mut pages = aws
            .ec2
            .describe_network_interfaces()
            .set_filters(Some(filters.to_vec()))
            .into_paginator()
            .items()
            .send();
        while let Some(eni) = pages.next().await {
            let eni = eni.map_err(|err| AwsError::from_sdk("DescribeNetworkInterfaces", err))?;
            let id = eni.network_interface_id().unwrap_or_default().to_owned();
            if expected.contains(&id) {
                continue;
            }
            let whose = describe_owner(&eni);
            let available = eni.status() == Some(&NetworkInterfaceStatus::Available);
            if available && eni.owner_id() == Some(account) {
                match aws
                    .ec2
                    .delete_network_interface()
                    .network_interface_id(&id)
                    .send()
                    .await
                {
                    Ok(_) => {
                        let line = format!(
                            "deleted network interface {id} ({whose}): it was available and ours"
                        );
                        reporter.notice(&line);
                        actions.push(line);
                        continue;
                    }
                    Err(err) => {
                        let err = AwsError::from_sdk("DeleteNetworkInterface", err);
                        // Already gone, or held by a service (requester-managed): wait for it.
                        if err.code() == Some("InvalidNetworkInterfaceID.NotFound") {
                            continue;
                        }
                    }
                }
            }
            if announced.insert(id.clone()) {
                reporter.notice(&format!(
                    "waiting for network interface {id} ({whose}, {}); it blocks deleting the subnets and the security group",
                    eni.status().map(|s| s.as_str()).unwrap_or("unknown")
                ));
            }
            blocking.push(id);
        }
        if blocking.is_empty() {
            if !announced.is_empty() {
                let line = format!(
                    "network interface(s) {} gone",
                    announced.iter().cloned().collect::<Vec<_>>().join(", ")
                );
                reporter.notice(&line);
                actions.push(line);
            }
            return Ok(actions);
        }
        if started.elapsed() >= settings.eni_timeout {
            return Err(AwsError::Service {
                operation: "waiting for network interfaces".to_owned(),
                code: "Timeout".to_owned(),
                message: format!(
                    "{} still exist after {} s: {}; delete them (or what holds them) and run `stackctl down` again",
                    blocking.len(),
                    settings.eni_timeout.as_secs(),
                    blocking.join(", ")
                ),
            });
        }
        reporter.heartbeat(started.elapsed(), 0, blocking.len(), &blocking);
        tokio::time::sleep(settings.poll).await;
    }
}

/// "requested by SageMaker, attached to i-0123" and the like.
fn describe_owner(eni: &aws_sdk_ec2::types::NetworkInterface) -> String {
    let mut parts = Vec::new();
    match eni.description() {
        Some(d) if !d.is_empty() => parts.push(format!("\"{d}\"")),
        _ => {}
    }
    if eni.requester_managed() == Some(true) {
        parts.push(format!(
            "managed by {}",
            eni.requester_id().unwrap_or("an AWS service")
        ));
    }
    if let Some(instance) = eni.attachment().and_then(|a| a.instance_id()) {
        parts.push(format!("attached to {instance}"));
    }
    if let Some(owner) = eni.owner_id() {
        parts.push(format!("owner {owner}"));
    }
    if parts.is_empty() {
        "no description".to_owned()
    } else {
        parts.join(", ")
    }
}
