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
