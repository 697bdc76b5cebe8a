//! SageMaker quotas: training instances per type start at 0 for p3/p4d in new accounts, so a
//! job asking for 4 x ml.p3.16xlarge fails only after it was submitted; the notebook instance
//! type has a quota too.
//!
//! Service Quotas API reference, ListServiceQuotas: `ServiceCode` `sagemaker`, paginated;
//! each `ServiceQuota` has `QuotaName` (e.g. "ml.p3.16xlarge for training job usage",
//! "ml.t3.medium for notebook instance usage"), `QuotaCode` and `Value`.

use super::Finding;
use crate::aws::AwsError;

/// Check name of the training quota.
pub const TRAINING: &str = "quota.training";
/// Check name of the notebook quota.
pub const NOTEBOOK: &str = "quota.notebook";

/// Attempts per Service Quotas call.
const QUOTA_ATTEMPTS: u32 = 2;

/// SageMaker's quotas: (name, code, value); the applied values, and the defaults of quotas
/// that have none (the Service Quotas API reference, ListServiceQuotas: "If the applied quota
/// value is not available for a quota, the quota is not retrieved"; ListAWSDefaultServiceQuotas
/// lists the defaults).
pub async fn sagemaker_quotas(
    client: &aws_sdk_servicequotas::Client,
) -> Result<Vec<(String, String, f64)>, AwsError> {
    // The quotas are advisory (unreadable, they are a warning): one retry, not the long
    // backoff of the commands' other calls, so a Service Quotas outage (or an endpoint
    // without it) does not hold `job submit` for many seconds.
    let client = aws_sdk_servicequotas::Client::from_conf(
        client
            .config()
            .to_builder()
            .retry_config(
                aws_sdk_servicequotas::config::retry::RetryConfig::standard()
                    .with_max_attempts(QUOTA_ATTEMPTS),
            )
            .build(),
    );
    let mut pages = client
        .list_service_quotas()
        .service_code("sagemaker")
        .into_paginator()
        .items()
        .send();
    let mut quotas = Vec::new();
    while let Some(q) = pages.next().await {
        let q = q.map_err(|e| AwsError::from_sdk("servicequotas:ListServiceQuotas", e))?;
        quotas.push(row(&q));
    }
    let mut defaults = client
        .list_aws_default_service_quotas()
        .service_code("sagemaker")
        .into_paginator()
        .items()
        .send();
    while let Some(q) = defaults.next().await {
        let q =
            q.map_err(|e| AwsError::from_sdk("servicequotas:ListAWSDefaultServiceQuotas", e))?;
        let q = row(&q);
        if !quotas.iter().any(|(_, code, _)| *code == q.1) {
            quotas.push(q);
        }
    }
    Ok(quotas)
}

fn row(q: &aws_sdk_servicequotas::types::ServiceQuota) -> (String, String, f64) {
    (
        q.quota_name().unwrap_or_default().to_owned(),
        q.quota_code().unwrap_or_default().to_owned(),
        q.value().unwrap_or(0.0),
    )
}

/// Whether `needed` instances of `instance_type` fit the quota named `<type> <usage>`.
pub fn check(
    check: &'static str,
    quotas: &[(String, String, f64)],
    instance_type: &str,
    usage: &str,
    needed: u32,
) -> Finding {
    let name = format!("{instance_type} {usage}");
    match quotas.iter().find(|(n, _, _)| *n == name) {
        None => Finding::warn(
            check,
            format!("Service Quotas lists no SageMaker quota named \"{name}\""),
            "check the instance type, or look the quota up in the Service Quotas console",
        ),
        Some((_, code, value)) if *value >= f64::from(needed) => Finding::ok(
            check,
            format!("\"{name}\" ({code}) is {value}; {needed} needed"),
        ),
        Some((_, code, value)) => Finding::fatal(
            check,
            format!("\"{name}\" ({code}) is {value}, but {needed} instance(s) are needed"),
            format!(
                "request an increase: aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code {code} --desired-value {needed}"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    //! Shaped like the Service Quotas API reference's ListServiceQuotas answer for
    //! `ServiceCode=sagemaker` (Quotas[] with QuotaName, QuotaCode, Value; NextToken paging).
    use super::*;
    use crate::preflight::Severity;
    use aws_sdk_servicequotas::operation::list_aws_default_service_quotas::ListAwsDefaultServiceQuotasOutput;
    use aws_sdk_servicequotas::operation::list_service_quotas::ListServiceQuotasOutput;
    use aws_sdk_servicequotas::types::ServiceQuota;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn quota(name: &str, code: &str, value: f64) -> ServiceQuota {
        ServiceQuota::builder()
            .service_code("sagemaker")
            .quota_name(name)
            .quota_code(code)
            .value(value)
            .build()
    }

    #[tokio::test]
    async fn a_zero_training_quota_is_fatal_and_names_the_quota() {
        let first = mock!(aws_sdk_servicequotas::Client::list_service_quotas)
            .match_requests(|r| r.service_code() == Some("sagemaker") && r.next_token().is_none())
            .then_output(|| {
                ListServiceQuotasOutput::builder()
                    .quotas(quota(
                        "ml.p3.16xlarge for training job usage",
                        "L-2DC4A4A6",
                        0.0,
                    ))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_servicequotas::Client::list_service_quotas)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                ListServiceQuotasOutput::builder()
                    .quotas(quota(
                        "ml.t3.medium for notebook instance usage",
                        "L-0A7D0BAF",
                        4.0,
                    ))
                    .build()
            });
        // A quota with no applied value is only in the defaults; an applied one wins.
        let defaults = mock!(aws_sdk_servicequotas::Client::list_aws_default_service_quotas)
            .match_requests(|r| r.service_code() == Some("sagemaker"))
            .then_output(|| {
                ListAwsDefaultServiceQuotasOutput::builder()
                    .quotas(quota(
                        "ml.p3.16xlarge for training job usage",
                        "L-2DC4A4A6",
                        8.0,
                    ))
                    .quotas(quota(
                        "ml.g4dn.xlarge for training job usage",
                        "L-DEFAULT1",
                        1.0,
                    ))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_servicequotas,
            RuleMode::MatchAny,
            [&first, &second, &defaults]
        );
        let quotas = sagemaker_quotas(&client).await.unwrap();
        assert_eq!(
            quotas.len(),
            3,
            "both pages and the default read: {quotas:?}"
        );
        let g4 = check(
            TRAINING,
            &quotas,
            "ml.g4dn.xlarge",
            "for training job usage",
            1,
        );
        assert_eq!(g4.severity, Severity::Ok, "{g4:?}");

        let training = check(
            TRAINING,
            &quotas,
            "ml.p3.16xlarge",
            "for training job usage",
            4,
        );
        assert_eq!(training.severity, Severity::Fatal, "{training:?}");
        assert!(
            training
                .message
                .contains("\"ml.p3.16xlarge for training job usage\" (L-2DC4A4A6) is 0")
        );
        assert!(
            training
                .fix
                .unwrap()
                .contains("--quota-code L-2DC4A4A6 --desired-value 4")
        );

        let notebook = check(
            NOTEBOOK,
            &quotas,
            "ml.t3.medium",
            "for notebook instance usage",
            1,
        );
        assert_eq!(notebook.severity, Severity::Ok, "{notebook:?}");
        let unknown = check(
            TRAINING,
            &quotas,
            "ml.zz.large",
            "for training job usage",
            1,
        );
        assert_eq!(unknown.severity, Severity::Warn);
    }
}
