//! Starting SSM Automation runbooks (the only way this product changes resources).

use std::collections::{BTreeMap, HashMap};

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
    let out = ssm
        .start_automation_execution()
        .document_name(document)
        .set_parameters(Some(params))
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| AwsError::api("ssm", "StartAutomationExecution", &e))?;
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

/// One recorded start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedRunbook {
    pub document: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub client_token: String,
}

/// Records every start (and refuses the documents in `failing`), for tests.
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
