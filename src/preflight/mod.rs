//! Preflight checks: read-only questions to AWS before `plan`, `up` and `job submit` change
//! anything, and all of them in `stackctl doctor`. Each check yields [`Finding`]s with a fix;
//! docs/deploy.md ("Preflight") lists the checks and what each cannot check.

pub mod efs;
pub mod image;
pub mod job;
pub mod network;
pub mod quotas;
pub mod zones;

use std::io::{self, Write};

use serde::Serialize;

use crate::aws::{Aws, AwsError};
use crate::spec::{Network, StackSpec};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The check passed.
    Ok,
    /// Worth a look; does not stop anything.
    Warn,
    /// No API answers this; the finding says why.
    Unchecked,
    /// The operation would fail; stop before changing anything.
    Fatal,
}

impl Severity {
    /// `ok`, `warn`, `cannot check` or `FATAL`, as findings are printed.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Unchecked => "cannot check",
            Self::Fatal => "FATAL",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Which check (e.g. `zones`, `quota.training`).
    pub check: &'static str,
    /// How bad.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// What to do about it, when something needs doing (null in JSON otherwise).
    pub fix: Option<String>,
}

impl Finding {
    /// A passed check.
    pub fn ok(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Ok,
            message: message.into(),
            fix: None,
        }
    }

    /// A check that cannot be made, and why.
    pub fn unchecked(check: &'static str, why: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Unchecked,
            message: why.into(),
            fix: None,
        }
    }

    /// A failed check with its fix.
    pub fn fatal(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Fatal,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    /// A warning with its fix.
    pub fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Warn,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
}

/// True when any finding is fatal.
pub fn any_fatal(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Fatal)
}

/// One line per finding (`ok`, `warn`, `cannot check`, `FATAL`), the fix indented below.
pub fn write_text(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        writeln!(
            out,
            "{:<12} {:<18} {}",
            f.severity.label(),
            f.check,
            f.message
        )?;
        if let Some(fix) = &f.fix {
            writeln!(out, "{:<12} {:<18} fix: {fix}", "", "")?;
        }
    }
    Ok(())
}

/// The cheap checks `plan` and `up` run before any change: the zones a created VPC needs, and
/// an existing EFS file system's mount targets.
pub async fn deploy_checks(aws: &Aws, spec: &StackSpec) -> Result<Vec<Finding>, AwsError> {
    let mut findings = Vec::new();
    if let Network::Create(created) = &spec.network {
        let zones = zones::available_zones(&aws.ec2).await?;
        findings.push(zones::check(
            created.private_subnets.len(),
            &zones,
            &aws.region,
        ));
    }
    if let Some(efs) = &spec.efs
        && let Some(id) = &efs.existing_id
    {
        // A deployed stack's own mount targets are in the VPC it created.
        let deployed_vpc = match &spec.network {
            Network::Create(_) => crate::deploy::stack::describe(aws, spec.name.as_str())
                .await?
                .and_then(|s| {
                    s.outputs
                        .get(crate::outputs::StackOutput::VpcId.name())
                        .cloned()
                }),
            Network::Existing(_) => None,
        };
        findings.push(
            efs::check_existing(
                &aws.efs,
                id.as_str(),
                &spec.network,
                efs.create_mount_targets,
                deployed_vpc.as_deref(),
            )
            .await?,
        );
    }
    Ok(findings)
}

/// Every check `stackctl doctor` makes for `spec`: who and where, the deploy checks, an
/// existing VPC's routes and group, the SageMaker quotas, the images in ECR, and what no API
/// can answer. Read-only; an API that cannot be read becomes a warning, not an abort.
pub async fn doctor(aws: &Aws, spec: &StackSpec) -> Result<Vec<Finding>, AwsError> {
    let mut findings = Vec::new();
    // STS API reference, GetCallerIdentity: needs no permission.
    match aws.sts.get_caller_identity().send().await {
        Ok(me) => findings.push(Finding::ok(
            "identity",
            format!(
                "account {} as {}",
                me.account().unwrap_or("?"),
                me.arn().unwrap_or("?")
            ),
        )),
        Err(e) => findings.push(Finding::fatal(
            "identity",
            format!(
                "sts:GetCallerIdentity failed: {}",
                AwsError::from_sdk("sts:GetCallerIdentity", e)
            ),
            "check the credentials (aws sts get-caller-identity) and --profile / AWS_PROFILE",
        )),
    }
    findings.push(Finding::ok("region", format!("region {}", aws.region)));
    findings.extend(deploy_checks(aws, spec).await?);

    if let Network::Existing(x) = &spec.network {
        for subnet in &x.private_subnet_ids {
            let table = network::route_table(&aws.ec2, x.vpc_id.as_str(), subnet.as_str()).await?;
            findings.push(network::check_routes(subnet.as_str(), table.as_ref()));
        }
        findings.push(network::check_group(&aws.ec2, x.security_group_id.as_str()).await?);
    }

    match quotas::sagemaker_quotas(&aws.quotas).await {
        Ok(q) => {
            findings.push(quotas::check(
                quotas::TRAINING,
                &q,
                spec.jobs.instance_type.as_str(),
                "for training job usage",
                spec.jobs.instance_count.get(),
            ));
            if let Some(n) = &spec.notebook {
                findings.push(quotas::check(
                    quotas::NOTEBOOK,
                    &q,
                    n.instance_type.as_str(),
                    "for notebook instance usage",
                    1,
                ));
            }
        }
        Err(e) => findings.push(Finding::warn(
            quotas::TRAINING,
            format!("cannot read the SageMaker quotas: {e}"),
            "allow servicequotas:ListServiceQuotas, or check the quotas in the Service Quotas console",
        )),
    }

    for (model, uri) in &spec.jobs.images {
        findings.push(image::check(&aws.ecr, model.as_str(), uri).await);
    }
    if spec.notebook.is_some() {
        findings.push(Finding::unchecked(
            "offering.notebook",
            "whether the notebook instance type is offered in the chosen zone: SageMaker has no API that lists notebook instance types per zone (CreateNotebookInstance answers ResourceLimitExceeded or a capacity error)",
        ));
    }
    if spec.fsx.is_some() {
        findings.push(Finding::unchecked(
            "offering.fsx",
            "whether the FSx deployment type is offered in the chosen zone: the FSx API has no per-zone offering call",
        ));
    }
    Ok(findings)
}
