//! Scanner configuration from Parameter Store: one paginated GetParametersByPath under
//! `/compliance/scanner/config/` (plain parameters only; secrets live elsewhere and are never
//! read here).

use std::collections::BTreeMap;

use compliance_core::config::{ScannerConfig, CONFIG_PREFIX};

use crate::error::AwsError;

pub async fn load_config(ssm: &aws_sdk_ssm::Client) -> Result<ScannerConfig, AwsError> {
    let mut params = BTreeMap::new();
    let mut pages = ssm
        .get_parameters_by_path()
        .path(CONFIG_PREFIX)
        .recursive(true)
        .with_decryption(false)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::api("ssm", "GetParametersByPath", &e))?;
        for p in page.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                params.insert(name.to_string(), value.to_string());
            }
        }
    }
    tracing::info!(
        parameters = params.len(),
        prefix = CONFIG_PREFIX,
        "loaded scanner configuration"
    );
    Ok(ScannerConfig::from_parameters(&params)?)
}

/// Several plain parameters in one GetParameters call (at most 10 names); the ones that do not
/// exist are absent from the map (callers then use defaults).
pub async fn load_parameters(
    ssm: &aws_sdk_ssm::Client,
    names: &[&str],
) -> Result<BTreeMap<String, String>, AwsError> {
    let out = ssm
        .get_parameters()
        .set_names(Some(names.iter().map(|n| n.to_string()).collect()))
        .with_decryption(false)
        .send()
        .await
        .map_err(|e| AwsError::api("ssm", "GetParameters", &e))?;
    Ok(out
        .parameters()
        .iter()
        .filter_map(|p| Some((p.name()?.to_string(), p.value()?.to_string())))
        .collect())
}

/// One parameter's value, or `None` when it does not exist (callers then use defaults).
pub async fn load_parameter(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let result = ssm
        .get_parameter()
        .name(name)
        .with_decryption(false)
        .send()
        .await;
    let out =
        crate::error::optional(result).map_err(|e| AwsError::api("ssm", "GetParameter", &e))?;
    Ok(out.and_then(|out| out.parameter().and_then(|p| p.value()).map(str::to_string)))
}
