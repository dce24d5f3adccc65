//! The outbound webhook: the run's changes POSTed as JSON with the API key from the
//! SecureString. The key is read only here, only when a webhook is configured, and never logged.

use std::fmt;
use std::time::Duration;

use compliance_core::webhook::{WebhookConfig, PARAM_WEBHOOK_SECRET};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use serde::Serialize;
use serde_json::Value;

use crate::error::AwsError;

/// Sends after a failure (429, 5xx or no response): three attempts in all.
const ATTEMPTS: u32 = 3;

/// A secret value. Its `Debug` is redacted and it has no `Display` or `Serialize`, so it cannot
/// reach a log line or a report by accident.
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Reads the webhook's API key (SecureString, decrypted).
pub async fn load_secret(ssm: &aws_sdk_ssm::Client) -> Result<Secret, AwsError> {
    let out = ssm
        .get_parameter()
        .name(PARAM_WEBHOOK_SECRET)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| AwsError::api("ssm", "GetParameter", &e))?;
    out.parameter()
        .and_then(|p| p.value())
        .filter(|v| !v.is_empty())
        .map(|v| Secret::new(v.to_string()))
        .ok_or_else(|| {
            AwsError::Config(compliance_core::CoreError::InvalidParameter {
                parameter: PARAM_WEBHOOK_SECRET.into(),
                reason: "the parameter has no value".into(),
            })
        })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub status: u16,
    pub attempts: u32,
}

pub async fn deliver(
    config: &WebhookConfig,
    key: &Secret,
    payload: &Value,
) -> Result<Delivery, AwsError> {
    let failed = |reason: String| AwsError::Webhook {
        url: config.url.clone(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_seconds))
        // A redirect would carry the key to another host.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let header =
        HeaderName::from_bytes(config.header.as_bytes()).map_err(|e| failed(e.to_string()))?;
    let value = if config.scheme.is_empty() {
        key.expose().to_string()
    } else {
        format!("{} {}", config.scheme, key.expose())
    };
    let mut value = HeaderValue::from_str(&value)
        .map_err(|_| failed("the API key is not a valid header value".into()))?;
    value.set_sensitive(true);
    let body = serde_json::to_vec(payload).map_err(|e| failed(e.to_string()))?;
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        let response = client
            .post(&config.url)
            .header(CONTENT_TYPE, "application/json")
            .header(header.clone(), value.clone())
            .body(body.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => {
                return Ok(Delivery {
                    status: r.status().as_u16(),
                    attempts: attempt,
                })
            }
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                last_error = format!("HTTP {}", r.status());
            }
            Ok(r) => return Err(failed(format!("HTTP {} (not retried)", r.status()))),
            Err(e) => last_error = e.without_url().to_string(),
        }
        tracing::warn!(attempt, error = %last_error, "webhook delivery failed");
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
    }
    Err(failed(format!("{last_error} after {ATTEMPTS} attempts")))
}

/// Sends the webhook's payload (HTTPS with the key from Parameter Store in production).
pub trait WebhookSender: Send + Sync {
    fn send<'a>(
        &'a self,
        config: &'a WebhookConfig,
        payload: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<Delivery, AwsError>>;
}

/// The production sender: reads the key (only when a webhook is configured), then delivers.
pub struct HttpsWebhook {
    pub ssm: aws_sdk_ssm::Client,
}

impl WebhookSender for HttpsWebhook {
    fn send<'a>(
        &'a self,
        config: &'a WebhookConfig,
        payload: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<Delivery, AwsError>> {
        Box::pin(async move {
            let key = load_secret(&self.ssm).await?;
            deliver(config, &key, payload).await
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_never_prints() {
        let s = super::Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }
}
