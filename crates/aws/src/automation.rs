//! Starting SSM Automation runbooks (the only way this product changes resources): in the
//! scanner's own account with its own credentials, in a member account through its member role
//! (the runbooks there are member-role.yaml's).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::error::AwsError;

pub async fn start_automation(
    ssm: &aws_sdk_ssm::Client,
    document: &str,
    parameters: &BTreeMap<String, Vec<String>>,
    client_token: &str,
) -> Result<String, AwsError> {
    let params: HashMap<String, Vec<String>> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let region = ssm
        .config()
        .region()
        .map_or_else(crate::sdk::home_region, ToString::to_string);
    let out = ssm
        .start_automation_execution()
        .document_name(document)
        .set_parameters(Some(params))
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| AwsError::api_in("ssm", "StartAutomationExecution", &region, &e))?;
    Ok(out
        .automation_execution_id()
        .unwrap_or_default()
        .to_string())
}

/// What starts runbooks (SSM Automation in production, a recorder in tests).
pub trait Automation: Send + Sync {
    /// Starts `document`; returns the execution id. `client_token` makes a retry idempotent.
    fn start<'a>(
        &'a self,
        document: &'a str,
        parameters: &'a BTreeMap<String, Vec<String>>,
        client_token: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<String, AwsError>>;
}

impl Automation for aws_sdk_ssm::Client {
    fn start<'a>(
        &'a self,
        document: &'a str,
        parameters: &'a BTreeMap<String, Vec<String>>,
        client_token: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<String, AwsError>> {
        Box::pin(start_automation(self, document, parameters, client_token))
    }
}

/// SSM Automation of each account and region.
pub trait AutomationFor: Send + Sync {
    /// Automation of `account_id` in `region`, reached through `role_arn` (`None`: the
    /// scanner's own credentials). An account whose role cannot be assumed is an error naming
    /// the account, the role and the call.
    fn automation<'a>(
        &'a self,
        account_id: &'a str,
        role_arn: Option<&'a str>,
        external_id: Option<&'a str>,
        region: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn Automation>, AwsError>>;
}

/// SSM clients of every account and region, the member role assumed once per account.
#[cfg(feature = "member")]
pub struct AccountAutomation {
    members: Arc<crate::member::MemberAccess>,
}

#[cfg(feature = "member")]
impl AccountAutomation {
    pub fn new(members: Arc<crate::member::MemberAccess>) -> Self {
        AccountAutomation { members }
    }
}

#[cfg(feature = "member")]
impl AutomationFor for AccountAutomation {
    fn automation<'a>(
        &'a self,
        account_id: &'a str,
        role_arn: Option<&'a str>,
        external_id: Option<&'a str>,
        region: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn Automation>, AwsError>> {
        Box::pin(async move {
            let factory = self
                .members
                .factory(account_id, role_arn, external_id)
                .await?;
            // The factory's SSM client (its credentials and request counter) in `region`.
            let conf = factory
                .ssm()
                .config()
                .to_builder()
                .region(aws_config::Region::new(region.to_string()))
                .build();
            Ok(Arc::new(aws_sdk_ssm::Client::from_conf(conf)) as Arc<dyn Automation>)
        })
    }
}

/// One recorded start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedRunbook {
    pub document: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub client_token: String,
}

/// Records every start (and refuses the documents in `failing`), for tests; a client token
/// used again gets its first execution, as SSM does.
#[derive(Default)]
pub struct MemoryAutomation {
    pub started: std::sync::Mutex<Vec<StartedRunbook>>,
    pub failing: Vec<String>,
}

impl Automation for MemoryAutomation {
    fn start<'a>(
        &'a self,
        document: &'a str,
        parameters: &'a BTreeMap<String, Vec<String>>,
        client_token: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<String, AwsError>> {
        let result = if self.failing.iter().any(|d| d == document) {
            Err(AwsError::Api {
                service: "ssm",
                api: "StartAutomationExecution",
                code: "InvalidAutomationExecutionParametersException".into(),
                message: "refused by the test".into(),
            })
        } else {
            let mut started = crate::lock(&self.started);
            // SSM answers a start whose client token it already took with that execution.
            if let Some(at) = started.iter().position(|s| s.client_token == client_token) {
                let id = format!("exec-{}", at + 1);
                return Box::pin(async move { Ok(id) });
            }
            started.push(StartedRunbook {
                document: document.to_string(),
                parameters: parameters.clone(),
                client_token: client_token.to_string(),
            });
            Ok(format!("exec-{}", started.len()))
        };
        Box::pin(async move { result })
    }
}

/// What a test adapter was asked for: (account, role ARN, external id, region).
pub type AccountRequest = (String, Option<String>, Option<String>, String);

/// A recorder per (account, region), for tests: `unreachable` accounts' roles cannot be
/// assumed, and every recorder refuses the documents in `failing`.
#[derive(Default)]
pub struct MemoryAutomations {
    pub recorders: Mutex<BTreeMap<(String, String), Arc<MemoryAutomation>>>,
    pub unreachable: BTreeSet<String>,
    pub failing: Vec<String>,
    /// Every automation asked for: (account, role ARN, external id, region).
    pub requests: Mutex<Vec<AccountRequest>>,
}

impl MemoryAutomations {
    /// The recorder of an account and region (created on first use).
    pub fn of(&self, account_id: &str, region: &str) -> Arc<MemoryAutomation> {
        crate::lock(&self.recorders)
            .entry((account_id.to_string(), region.to_string()))
            .or_insert_with(|| {
                Arc::new(MemoryAutomation {
                    failing: self.failing.clone(),
                    ..Default::default()
                })
            })
            .clone()
    }

    /// Every start, with its account and region.
    pub fn started(&self) -> Vec<(String, String, StartedRunbook)> {
        crate::lock(&self.recorders)
            .iter()
            .flat_map(|((account, region), recorder)| {
                crate::lock(&recorder.started)
                    .iter()
                    .map(|s| (account.clone(), region.clone(), s.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

impl AutomationFor for MemoryAutomations {
    fn automation<'a>(
        &'a self,
        account_id: &'a str,
        role_arn: Option<&'a str>,
        external_id: Option<&'a str>,
        region: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn Automation>, AwsError>> {
        crate::lock(&self.requests).push((
            account_id.to_string(),
            role_arn.map(str::to_string),
            external_id.map(str::to_string),
            region.to_string(),
        ));
        let result = if self.unreachable.contains(account_id) {
            Err(AwsError::Api {
                service: "sts",
                api: "AssumeRole",
                code: "AccessDenied".into(),
                message: format!(
                    "account {account_id}: {} may not be assumed (test)",
                    role_arn.unwrap_or("no role")
                ),
            })
        } else {
            Ok(self.of(account_id, region) as Arc<dyn Automation>)
        };
        Box::pin(async move { result })
    }
}
