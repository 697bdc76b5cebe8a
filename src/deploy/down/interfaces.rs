//! Network interfaces that keep a subnet or the security group of the stack from being
//! deleted, classified by who holds them.
//!
//! Looked at only after DeleteStack has started (CloudFormation removes FSx, the EFS mount
//! targets, the notebook and DataSync together with their interfaces) and only in the
//! stack's own subnets: an interface elsewhere is never touched, at most named. Each one is
//! either *waited for* (a service of the stack is releasing it: a training job in the
//! stack's subnets, the notebook, EFS, FSx, DataSync, the NAT gateway, the S3 endpoint),
//! *deleted* (available, in the stack's subnets, and created for one of its resources or left
//! by a service that detached it), or a *blocker*: something the stack did not create (an
//! instance someone launched, another workload's interface), named with the deletion it
//! blocks and how to remove it, at once and without waiting.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, NetworkInterface, NetworkInterfaceStatus, NetworkInterfaceType};

use super::sweep::{SweepSettings, gone_ok};
use crate::aws::{Aws, AwsError};
use crate::report::Reporter;

/// What `down` knows of the stack when it looks at interfaces.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The account the stack lives in.
    pub account: String,
    /// The stack's own subnets (physical id to logical id). Empty with `network.existing`.
    pub subnets: BTreeMap<String, String>,
    /// The stack's own security group (physical id, logical id), if it created one.
    pub group: Option<(String, String)>,
    /// Ids of the stack's resources that interfaces name in their descriptions: EFS and FSx
    /// file systems, mount targets, NAT gateways, VPC endpoints.
    pub resource_ids: BTreeSet<String>,
    /// Interfaces the stack's resources held before the deletion (FSx, mount targets, the
    /// notebook, NAT gateways, the DataSync task), read from those resources.
    pub known_interfaces: BTreeSet<String>,
}

/// Who holds an interface, read from its type, requester, attachment and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A SageMaker training job's instance.
    TrainingJob,
    /// A SageMaker notebook instance.
    Notebook,
    /// An EFS mount target.
    Efs,
    /// An FSx file system.
    Fsx,
    /// DataSync.
    DataSync,
    /// A Lambda function.
    Lambda,
    /// A NAT gateway.
    NatGateway,
    /// An interface VPC endpoint.
    VpcEndpoint,
    /// An EC2 instance of this account.
    Instance(String),
    /// Nothing recognisable.
    Unknown,
}

/// What `down` does about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A service of the stack releases it; wait (bounded).
    Wait,
    /// Available and the stack's own: delete it.
    Delete,
    /// Not the stack's: stop and say how to remove it.
    Blocker(String),
}

/// One interface found in the stack's subnets or group.
#[derive(Debug, Clone)]
pub struct Found {
    /// `eni-...`.
    pub id: String,
    /// Who holds it.
    pub holder: Holder,
    /// What to do.
    pub verdict: Verdict,
    /// "subnet PrivateSubnet1 (subnet-...)" and/or "security group ...": what it blocks.
    pub blocks: String,
    /// Its description, status and owner, for the report.
    pub about: String,
}

/// Reads who holds `eni`.
pub fn holder_of(eni: &NetworkInterface, account: &str) -> Holder {
    let description = eni.description().unwrap_or_default().to_ascii_lowercase();
    let requester = eni.requester_id().unwrap_or_default().to_ascii_lowercase();
    // On the wire NAT gateways say `nat_gateway` (the model's enum says `natGateway`), and
    // `efs` is only in the filter list of the API reference: compare the text.
    match eni.interface_type().map(NetworkInterfaceType::as_str) {
        Some("natGateway" | "nat_gateway") => return Holder::NatGateway,
        Some("vpc_endpoint") => return Holder::VpcEndpoint,
        Some("lambda") => return Holder::Lambda,
        Some("efs") => return Holder::Efs,
        _ => {}
    }
    if let Some(attachment) = eni.attachment()
        && let Some(instance) = attachment.instance_id()
        && attachment.instance_owner_id() == Some(account)
    {
        return Holder::Instance(instance.to_owned());
    }
    let says = |words: &[&str]| {
        words
            .iter()
            .any(|w| description.contains(w) || requester.contains(w))
    };
    if says(&["efs mount target"]) {
        Holder::Efs
    } else if says(&["lustre", "fsx"]) {
        Holder::Fsx
    } else if says(&["datasync"]) {
        Holder::DataSync
    } else if says(&["notebook"]) {
        Holder::Notebook
    } else if says(&["sagemaker"]) {
        Holder::TrainingJob
    } else if says(&["nat gateway"]) {
        Holder::NatGateway
    } else if says(&["vpc endpoint"]) {
        Holder::VpcEndpoint
    } else if says(&["aws lambda"]) {
        Holder::Lambda
    } else {
        Holder::Unknown
    }
}

/// Decides what to do with `eni`, held by `holder`, for the stack `scope`.
///
/// An interface is the stack's when it is in one of the stack's subnets, is not an EC2
/// instance's or a Lambda function's, and either a resource of the stack held it before the
/// deletion, its description names one, or it is in the stack's own security group, which only
/// the stack's resources and jobs use (AWS documents no description or requester for a
/// training job's interfaces; they carry the job's subnets and group, the stack's).
pub fn verdict(eni: &NetworkInterface, holder: &Holder, scope: &Scope) -> Verdict {
    let id = eni.network_interface_id().unwrap_or_default();
    let description = eni.description().unwrap_or_default();
    let in_our_subnet = eni
        .subnet_id()
        .is_some_and(|s| scope.subnets.contains_key(s));
    let in_our_group = scope.group.as_ref().is_some_and(|(g, _)| {
        eni.groups()
            .iter()
            .any(|x| x.group_id() == Some(g.as_str()))
    });
    let known = scope.known_interfaces.contains(id)
        || scope
            .resource_ids
            .iter()
            .any(|r| !r.is_empty() && description.contains(r.as_str()));
    let managed = eni.requester_managed() == Some(true);
    let ours = in_our_subnet
        && !matches!(holder, Holder::Lambda | Holder::Instance(_))
        && (known || in_our_group);
    let available = eni.status() == Some(&NetworkInterfaceStatus::Available);
    if ours && !available {
        return Verdict::Wait;
    }
    // "If the service detached a network interface but didn't delete it, you can delete the
    // detached network interface" (EC2 user guide, requester-managed interfaces). One a person
    // made and left in the stack's group is theirs to delete, not stackctl's.
    if ours && (known || managed) {
        return Verdict::Delete;
    }
    Verdict::Blocker(match holder {
        Holder::Instance(instance) => format!(
            "EC2 instance {instance} uses it: terminate the instance (`aws ec2 terminate-instances --instance-ids {instance}`) or move it out of the subnet"
        ),
        Holder::Lambda => "a Lambda function uses it: remove this subnet from the function's VPC configuration (`aws lambda update-function-configuration --vpc-config ...`); Lambda then releases the interface".to_owned(),
        _ if !in_our_subnet => "it is outside the stack's subnets, so stackctl leaves it alone: remove the stack's security group from it, or delete what uses it".to_owned(),
        _ if available && !managed => format!(
            "nothing of the stack created it; if it is not needed delete it (`aws ec2 delete-network-interface --network-interface-id {id}`)"
        ),
        _ => "nothing of the stack created it and it is in use: remove what uses it (the description and requester above say what)".to_owned(),
    })
}

/// Every interface in the stack's subnets and its own security group, classified.
pub async fn survey(aws: &Aws, scope: &Scope) -> Result<Vec<Found>, AwsError> {
    let mut filters = Vec::new();
    if !scope.subnets.is_empty() {
        filters.push(
            Filter::builder()
                .name("subnet-id")
                .set_values(Some(scope.subnets.keys().cloned().collect()))
                .build(),
        );
    }
    if let Some((group, _)) = &scope.group {
        filters.push(Filter::builder().name("group-id").values(group).build());
    }
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    // One listing per filter: EC2 ANDs filters of one call, and we want the union.
    for f in filters {
        let mut pages = aws
            .ec2
            .describe_network_interfaces()
            .filters(f)
            .into_paginator()
            .items()
            .send();
        while let Some(eni) = pages.next().await {
            let eni = eni.map_err(|e| AwsError::from_sdk("DescribeNetworkInterfaces", e))?;
            let id = eni.network_interface_id().unwrap_or_default().to_owned();
            if id.is_empty() || found.contains_key(&id) {
                continue;
            }
            let holder = holder_of(&eni, &scope.account);
            let verdict = verdict(&eni, &holder, scope);
            found.insert(
                id.clone(),
                Found {
                    id,
                    blocks: blocks(&eni, scope),
                    about: about(&eni),
                    holder,
                    verdict,
                },
            );
        }
    }
    Ok(found.into_values().collect())
}

/// "subnet PrivateSubnet1 (subnet-...)", "security group SecurityGroup (sg-...)".
fn blocks(eni: &NetworkInterface, scope: &Scope) -> String {
    let mut parts = Vec::new();
    if let Some(subnet) = eni.subnet_id()
        && let Some(logical) = scope.subnets.get(subnet)
    {
        parts.push(format!("subnet {logical} ({subnet})"));
    }
    if let Some((group, logical)) = &scope.group
        && eni.groups().iter().any(|g| g.group_id() == Some(group))
    {
        parts.push(format!("security group {logical} ({group})"));
    }
    parts.join(" and ")
}

/// Description, status, requester and attachment of an interface.
fn about(eni: &NetworkInterface) -> String {
    let mut parts = Vec::new();
    if let Some(d) = eni.description().filter(|d| !d.is_empty()) {
        parts.push(format!("\"{d}\""));
    }
    parts.push(
        eni.status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "unknown status".to_owned()),
    );
    if eni.requester_managed() == Some(true) {
        parts.push(format!(
            "managed by {}",
            eni.requester_id().unwrap_or("an AWS service")
        ));
    }
    if let Some(instance) = eni.attachment().and_then(|a| a.instance_id()) {
        parts.push(format!("attached to {instance}"));
    }
    if let Some(subnet) = eni.subnet_id() {
        parts.push(format!("in {subnet}"));
    }
    parts.join(", ")
}

/// DeleteNetworkInterface answers for an interface in use: the EC2 error code list names
/// `InvalidNetworkInterface.InUse` and says `InvalidParameterValue` may come instead (which is
/// what EC2 answers in practice); `OperationNotPermitted` for a service's attachment.
const IN_USE: [&str; 3] = [
    "InvalidNetworkInterface.InUse",
    "InvalidParameterValue",
    "OperationNotPermitted",
];

/// Interfaces that block deleting the stack and are not its own.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", lines.join("\n"))]
pub struct Blocked {
    /// One line per blocker: the interface, what it blocks, how to remove it.
    pub lines: Vec<String>,
}

/// How clearing ended.
#[derive(Debug)]
pub enum Cleared {
    /// Nothing is left in the stack's subnets and group.
    Clear(Vec<String>),
    /// Something that is not the stack's holds an interface there.
    Blocked(Blocked),
    /// The stack's own interfaces did not go within the deadline.
    TimedOut(Vec<String>),
}

/// Deletes the stack's available interfaces, waits (bounded, reporting) for those its
/// services release, and stops at once on a blocker. With `wait` false it looks once.
pub async fn clear(
    aws: &Aws,
    scope: &Scope,
    reporter: &dyn Reporter,
    settings: SweepSettings,
    wait: bool,
) -> Result<Cleared, AwsError> {
    let started = tokio::time::Instant::now();
    let mut actions = Vec::new();
    let mut announced: BTreeSet<String> = BTreeSet::new();
    loop {
        let found = survey(aws, scope).await?;
        let blockers: Vec<String> = found
            .iter()
            .filter_map(|f| match &f.verdict {
                Verdict::Blocker(how) => Some(format!(
                    "network interface {} ({}) blocks deleting {}: {how}",
                    f.id, f.about, f.blocks
                )),
                _ => None,
            })
            .collect();
        if !blockers.is_empty() {
            return Ok(Cleared::Blocked(Blocked { lines: blockers }));
        }
        let mut waiting = Vec::new();
        for f in &found {
            match f.verdict {
                Verdict::Delete => {
                    let deleted = gone_ok(
                        aws.ec2
                            .delete_network_interface()
                            .network_interface_id(&f.id)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("DeleteNetworkInterface", e)),
                    );
                    match deleted {
                        Ok(()) => {}
                        // Attached again meanwhile, or still held by its service: wait.
                        Err(err) if IN_USE.contains(&err.code().unwrap_or_default()) => {
                            waiting.push(f.id.clone());
                            continue;
                        }
                        Err(err) => return Err(err),
                    }
                    let line = format!(
                        "deleted network interface {} ({}): available and the stack's own",
                        f.id, f.about
                    );
                    reporter.notice(&line);
                    actions.push(line);
                }
                Verdict::Wait => {
                    if announced.insert(f.id.clone()) {
                        reporter.notice(&format!(
                            "waiting for {} to release network interface {} ({}); it blocks deleting {}",
                            holder_name(&f.holder),
                            f.id,
                            f.about,
                            f.blocks
                        ));
                    }
                    waiting.push(f.id.clone());
                }
                Verdict::Blocker(_) => unreachable!("returned above"),
            }
        }
        if waiting.is_empty() {
            if !announced.is_empty() {
                let line = format!(
                    "network interface(s) {} released",
                    announced.iter().cloned().collect::<Vec<_>>().join(", ")
                );
                reporter.notice(&line);
                actions.push(line);
            }
            return Ok(Cleared::Clear(actions));
        }
        if !wait {
            return Ok(Cleared::Clear(actions));
        }
        if started.elapsed() >= settings.eni_timeout {
            return Ok(Cleared::TimedOut(waiting));
        }
        reporter.heartbeat(started.elapsed(), 0, waiting.len(), &waiting);
        tokio::time::sleep(settings.poll).await;
    }
}

/// "SageMaker (a training job)" and the like.
fn holder_name(holder: &Holder) -> &'static str {
    match holder {
        Holder::TrainingJob => "SageMaker (a training job in the stack's subnets)",
        Holder::Notebook => "SageMaker (the notebook instance)",
        Holder::Efs => "EFS (a mount target)",
        Holder::Fsx => "FSx (the Lustre file system)",
        Holder::DataSync => "DataSync (the EFS location)",
        Holder::NatGateway => "the NAT gateway",
        Holder::VpcEndpoint => "the VPC endpoint",
        Holder::Lambda => "Lambda",
        Holder::Instance(_) => "an EC2 instance",
        Holder::Unknown => "an AWS service",
    }
}
