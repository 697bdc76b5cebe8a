//! Where a command acts: the account, region, endpoint and stack that `plan`, `up` and `down`
//! name before they ask or change anything, and put in their JSON result.

use serde::Serialize;

use crate::aws::{Aws, AwsError};

/// The account, region and endpoint of a stack operation (the stack name travels with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The AWS account id; `None` when AWS was not contacted (`plan --offline`).
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The endpoint when it is not AWS's own (`--endpoint-url`, AWS_ENDPOINT_URL).
    pub endpoint: Option<String>,
}

impl Target {
    /// The target of `aws`: the account from the ARN of the stack when it exists (no call),
    /// else from STS GetCallerIdentity (once per run).
    pub async fn resolve(aws: &Aws, stack_id: Option<&str>) -> Result<Self, AwsError> {
        let from_arn = stack_id
            .and_then(|id| id.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        let account = match from_arn {
            Some(account) => account,
            None => aws.account_id().await?,
        };
        Ok(Self {
            account: Some(account),
            region: Some(aws.region.clone()),
            endpoint: aws.endpoint.clone(),
        })
    }

    /// One line naming where `command` acts on `stack`, e.g. "up: account 123456789012,
    /// region us-east-1, stack `mask-rcnn`".
    pub fn line(&self, command: &str, stack: &str) -> String {
        let account = match &self.account {
            Some(a) => format!("account {a}"),
            None => "no account (AWS not contacted)".to_owned(),
        };
        let region = match &self.region {
            Some(r) => format!(", region {r}"),
            None => ", no region".to_owned(),
        };
        let endpoint = self
            .endpoint
            .as_deref()
            .map(|e| format!(", endpoint {e}"))
            .unwrap_or_default();
        format!("{command}: {account}{region}{endpoint}, stack `{stack}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_endpoint_only_when_there_is_one() {
        let mut t = Target {
            account: Some("123456789012".into()),
            region: Some("eu-west-1".into()),
            endpoint: None,
        };
        assert_eq!(
            t.line("up", "demo"),
            "up: account 123456789012, region eu-west-1, stack `demo`"
        );
        t.endpoint = Some("http://127.0.0.1:5000".into());
        assert!(
            t.line("down", "demo")
                .contains(", endpoint http://127.0.0.1:5000, ")
        );
        let offline = Target::default();
        assert!(offline.line("plan", "demo").contains("no account"));
    }
}
