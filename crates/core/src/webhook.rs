//! The optional outbound webhook (a SIEM or ticketing system): its configuration and the
//! payload each run sends. The API key itself is a SecureString read only by the sender.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::CoreError;
use crate::finding::{FindingStatus, Severity};
use crate::lifecycle::LifecycleStatus;
use crate::report::RunReport;

pub const PARAM_WEBHOOK: &str = "/compliance/scanner/config/webhook";
/// The API key the webhook sends (SecureString; never logged, never in a report).
pub const PARAM_WEBHOOK_SECRET: &str = "/compliance/scanner/secrets/security-hub-api-key";
/// Findings listed per lifecycle group in one payload; the rest are counted.
pub const MAX_LISTED: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Findings below this severity are counted but not listed.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// The header carrying the key, and the scheme before it (empty: the bare key).
    #[serde(default = "default_header")]
    pub header: String,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_min_severity() -> Severity {
    Severity::High
}
fn default_header() -> String {
    "Authorization".into()
}
fn default_scheme() -> String {
    "Bearer".into()
}
fn default_timeout() -> u64 {
    10
}

impl WebhookConfig {
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter {
            parameter: PARAM_WEBHOOK.into(),
            reason,
        };
        let config: WebhookConfig = crate::config::from_json_naming_field(json).map_err(|e| {
            invalid(format!(
                "{e} (expected {{\"url\", \"min_severity\", \"header\", \"scheme\", \"timeout_seconds\"}})"
            ))
        })?;
        let (scheme, rest) = config
            .url
            .split_once("://")
            .ok_or_else(|| invalid(format!("url `{}` has no scheme", config.url)))?;
        let host = rest
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .rsplit_once('@')
            .map_or(rest.split(['/', '?', '#']).next().unwrap_or(""), |(_, h)| h);
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.split_once(']'))
            .map_or_else(|| host.split(':').next().unwrap_or(""), |(h, _)| h);
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
        match scheme {
            "https" => {}
            // The key never crosses a network in clear text; plain HTTP only to this machine.
            "http" if loopback => {}
            _ => {
                return Err(invalid(format!(
                    "url `{}` must use https (http is allowed only for localhost)",
                    config.url
                )))
            }
        }
        if host.is_empty() {
            return Err(invalid(format!("url `{}` has no host", config.url)));
        }
        if !config
            .header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || config.header.is_empty()
        {
            return Err(invalid(format!(
                "header `{}` is not a header name",
                config.header
            )));
        }
        if !(1..=60).contains(&config.timeout_seconds) {
            return Err(invalid(format!(
                "timeout_seconds {} is outside 1..=60",
                config.timeout_seconds
            )));
        }
        Ok(config)
    }
}

/// What a run tells the webhook: the summary, where the reports are, and the findings that
/// changed state (new, reopened, resolved) at or above the configured severity.
pub fn payload(report: &RunReport, min_severity: Severity, report_keys: &Value) -> Value {
    let changed = |wanted: LifecycleStatus| {
        let matching: Vec<Value> = report
            .findings
            .iter()
            .filter(|f| {
                f.finding.status == FindingStatus::Fail && f.finding.severity >= min_severity
            })
            .filter(|f| f.lifecycle.as_ref().map(|l| l.status) == Some(wanted))
            .map(|f| {
                json!({
                    "id": f.finding.id,
                    "rule_id": f.finding.rule_id,
                    "title": f.finding.title,
                    "severity": f.finding.severity,
                    "resource_arn": f.finding.resource_arn,
                    "region": f.finding.region,
                })
            })
            .collect();
        listed(matching)
    };
    let resolved: Vec<Value> = report
        .resolved
        .iter()
        .map(|r| json!({"id": r.id, "rule_id": r.rule_id, "resource_arn": r.resource_arn, "region": r.region}))
        .collect();
    json!({
        "source": "compliance-scanner",
        "schema_version": 1,
        "run_id": report.run.run_id,
        "account_id": report.run.account_id,
        "started_at": report.run.started_at,
        "complete": report.run.complete,
        "compliance_score": report.summary.compliance_score,
        "findings_by_severity": report.summary.findings_by_severity,
        "lifecycle": report.lifecycle,
        "decision": report.decision,
        "reports": report_keys,
        "min_severity": min_severity,
        "new": changed(LifecycleStatus::New),
        "reopened": changed(LifecycleStatus::Reopened),
        "resolved": listed(resolved),
    })
}

fn listed(mut items: Vec<Value>) -> Value {
    let total = items.len();
    items.truncate(MAX_LISTED);
    json!({"total": total, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_except_loopback() {
        let ok = WebhookConfig::parse(r#"{"url":"https://siem.example.com/hook"}"#).unwrap();
        assert_eq!(
            (ok.header.as_str(), ok.scheme.as_str(), ok.min_severity),
            ("Authorization", "Bearer", Severity::High)
        );
        assert!(WebhookConfig::parse(r#"{"url":"http://127.0.0.1:8080/x"}"#).is_ok());
        assert!(WebhookConfig::parse(r#"{"url":"http://[::1]:8080/x"}"#).is_ok());
        for bad in [
            r#"{"url":"http://siem.example.com/hook"}"#,
            r#"{"url":"http://localhost.evil.com/"}"#,
            r#"{"url":"http://127.0.0.1@evil.com/"}"#,
            r#"{"url":"siem.example.com"}"#,
            r#"{"url":"https://x/","header":"Bad Header"}"#,
            r#"{"url":"https://x/","timeout_seconds":0}"#,
            r#"{"uri":"https://x/"}"#,
        ] {
            let err = WebhookConfig::parse(bad).unwrap_err().to_string();
            assert!(err.contains(PARAM_WEBHOOK), "{bad}: {err}");
        }
    }
}
