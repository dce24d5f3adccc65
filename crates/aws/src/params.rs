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
