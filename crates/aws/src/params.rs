//! Scanner configuration from Parameter Store: one paginated GetParametersByPath under
//! `/compliance/scanner/config/` (plain parameters only; secrets live elsewhere and are never
//! read here).

use std::collections::BTreeMap;

use compliance_core::config::{ScannerConfig, Setting, CONFIG_PREFIX};

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
        .set_names(Some(
            names.iter().map(std::string::ToString::to_string).collect(),
        ))
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

/// A setting from its parameter, or its default when the parameter does not exist.
pub async fn load_setting<T: Setting>(parameters: &dyn ParameterStore) -> Result<T, AwsError> {
    let value = parameters.parameter(T::PARAMETER).await?;
    Ok(T::from_parameter(value.as_deref())?)
}

/// Where settings are read from (Parameter Store in production, a map in memory for tests).
pub trait ParameterStore: Send + Sync {
    /// A plain parameter's value; `None` only when it does not exist.
    fn parameter<'a>(
        &'a self,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<String>, AwsError>>;

    /// Several parameters at once; the ones that do not exist are absent from the map.
    fn parameters<'a>(
        &'a self,
        names: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Result<BTreeMap<String, String>, AwsError>>;
}

impl ParameterStore for aws_sdk_ssm::Client {
    fn parameter<'a>(
        &'a self,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<String>, AwsError>> {
        Box::pin(load_parameter(self, name))
    }

    fn parameters<'a>(
        &'a self,
        names: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Result<BTreeMap<String, String>, AwsError>> {
        Box::pin(load_parameters(self, names))
    }
}

/// Parameters in memory, for tests.
#[derive(Default)]
pub struct MemoryParameters(pub BTreeMap<String, String>);

impl ParameterStore for MemoryParameters {
    fn parameter<'a>(
        &'a self,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<String>, AwsError>> {
        let value = self.0.get(name).cloned();
        Box::pin(async move { Ok(value) })
    }

    fn parameters<'a>(
        &'a self,
        names: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Result<BTreeMap<String, String>, AwsError>> {
        let found = names
            .iter()
            .filter_map(|n| Some((n.to_string(), self.0.get(*n)?.clone())))
            .collect();
        Box::pin(async move { Ok(found) })
    }
}
