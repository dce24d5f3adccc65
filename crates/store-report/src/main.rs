//! store-report: the run's reports in every format, the finding lifecycle (findings table and
//! Security Hub), the history item, the dashboard's metrics and the optional webhook.

mod hub_export;
mod lifecycle;
mod members;
mod metrics;
mod outputs;

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::findings_table::{FindingsStore, FindingsTable};
use compliance_aws::history::{HistoryItem, HistoryStore, RunHistory};
use compliance_aws::member::MemberAccess;
use compliance_aws::metrics::MetricsSink;
use compliance_aws::params::ParameterStore;
use compliance_aws::sdk;
use compliance_aws::security_hub::{AccountHubs, HubFor, ImportOutcome};
use compliance_aws::store::{get_optional_json, read_run_document, ObjectStore, S3Store};
use compliance_aws::webhook::{HttpsWebhook, WebhookSender};
use compliance_core::accounts::{AccountsConfig, PARAM_ACCOUNTS};
use compliance_core::analysis::Analysis;
use compliance_core::config::Setting;
use compliance_core::contract::{
    ReportKeys, SecurityHubExport, StoreReportInput, StoreReportOutput, WebhookDelivery,
};
use compliance_core::lifecycle::{FindingsConfig, RunClock};
use compliance_core::model::partition_of_region;
use compliance_core::plan::ScanPlan;
use compliance_core::remediation::RemediationDecisions;
use compliance_core::report::asff::AsffContext;
use compliance_core::report::document::{RunParts, TrendPoint};
use compliance_core::report::RunReport;
use compliance_core::time::{parse_rfc3339, rfc3339};
use compliance_core::webhook::{WebhookConfig, PARAM_WEBHOOK};
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};
use serde_json::json;

/// Earlier runs drawn in the report's trend chart.
const TREND_RUNS: usize = 30;
/// History items read for the trend: one more than drawn, for this run's own item (a re-run's).
const TREND_ITEMS_READ: i32 = 31;

struct Function {
    home_region: String,
    store: Arc<dyn ObjectStore>,
    /// The reports bucket, named to the webhook's receiver.
    bucket: String,
    history: Arc<dyn RunHistory>,
    findings: Arc<dyn FindingsStore>,
    parameters: Arc<dyn ParameterStore>,
    /// Each account's Security Hub (the region comes from the findings setting).
    security_hubs: Arc<dyn HubFor>,
    metrics: Arc<dyn MetricsSink>,
    webhook: Arc<dyn WebhookSender>,
    namespace: String,
    /// When the reports are generated (a fixed clock in tests makes a re-run's objects
    /// comparable byte for byte).
    clock: fn() -> SystemTime,
}

async fn handle(f: &Function, input: StoreReportInput) -> Result<StoreReportOutput, StateError> {
    let run_id = input.run_id.to_string();
    let run_key = input.run_key.clone();
    // Configuration first: a broken parameter stops the state before anything is written.
    let params = f
        .parameters
        .parameters(&[FindingsConfig::PARAMETER, PARAM_WEBHOOK, PARAM_ACCOUNTS])
        .await?;
    let config =
        FindingsConfig::from_parameter(params.get(FindingsConfig::PARAMETER).map(String::as_str))?;
    let webhook = params
        .get(PARAM_WEBHOOK)
        .map(|json| WebhookConfig::parse(json))
        .transpose()?;
    let accounts = params
        .get(PARAM_ACCOUNTS)
        .map(|json| AccountsConfig::parse(json))
        .transpose()?;
    let run = read_run_document(f.store.as_ref(), &input).await?;
    // Analysis and remediation exist only when their states ran; any other failure to read
    // them is an error, not an absence.
    let keys_of_run = input.run_id.keys();
    let analysis: Option<Analysis> =
        get_optional_json(f.store.as_ref(), &keys_of_run.analysis(), "the analysis").await?;
    let remediation: Option<RemediationDecisions> = get_optional_json(
        f.store.as_ref(),
        &keys_of_run.remediation(),
        "the remediation decisions",
    )
    .await?;

    let now = rfc3339((f.clock)());
    let observed_epoch = parse_rfc3339(&run.created_at).ok_or_else(|| {
        StateError::InvalidInput(format!(
            "run document created_at `{}` is not RFC 3339",
            run.created_at
        ))
    })?;
    let clock = RunClock {
        run_id: &run_id,
        observed_at: &run.created_at,
        observed_epoch,
        resolved_retention_days: config.resolved_retention_days,
    };
    let reconciliation = lifecycle::decide_once(
        f.store.as_ref(),
        &keys_of_run.lifecycle(),
        f.findings.as_ref(),
        &run,
        clock,
    )
    .await?;
    let trend: Vec<TrendPoint> = f
        .history
        .recent(&run.account_id, TREND_ITEMS_READ)
        .await?
        .into_iter()
        // A re-run finds this run's own item, written by its first attempt: the report draws
        // the run from its document either way, so that both attempts draw the same trend.
        .filter(|h| h.run_id != run_id)
        .take(TREND_RUNS)
        .map(|h| TrendPoint {
            run_id: h.run_id,
            created_at: h.created_at,
            compliance_score: h.compliance_score,
            findings_total: h.findings_total,
        })
        .collect();
    let report = RunReport::from_run(
        &run,
        RunParts {
            analysis: analysis.as_ref(),
            reconciliation: Some(&reconciliation),
            history: trend,
            remediation,
            generated_at: &now,
        },
    );
    let hub_region = config
        .security_hub
        .region
        .clone()
        .unwrap_or_else(|| f.home_region.clone());
    let asff_ctx = AsffContext {
        partition: partition_of_region(&hub_region).into(),
        hub_region: hub_region.clone(),
        run_id: Some(run_id.clone()),
        updated_at: now.clone(),
    };
    let asff = lifecycle::asff_findings(&run, &reconciliation, &asff_ctx);
    let keys = ReportKeys::under(&keys_of_run.report_prefix(&run.created_at));
    outputs::store_all(f.store.as_ref(), &keys, &report, &asff).await?;

    let (hub, imported) = if config.security_hub.enabled {
        // Members are reached through the roles the run's plan assumed to scan them.
        let plan_key = keys_of_run.plan();
        let plan: Option<ScanPlan> = if asff.iter().any(|a| a.aws_account_id != run.account_id) {
            get_optional_json(f.store.as_ref(), &plan_key, "the run's plan").await?
        } else {
            None
        };
        let roles = members::MemberRoles::new(
            &run.account_id,
            plan,
            plan_key,
            accounts.and_then(|a| a.external_id),
        );
        hub_export::export(f.security_hubs.as_ref(), &roles, &hub_region, asff).await?
    } else {
        (SecurityHubExport::Disabled, ImportOutcome::default())
    };
    f.findings
        .put_many(&lifecycle::records_to_write(
            &reconciliation,
            &hub,
            &imported,
        ))
        .await?;

    let c = run.summary.findings_by_severity;
    f.history
        .put(&HistoryItem {
            account_id: run.account_id.clone(),
            run_id: run_id.clone(),
            created_at: run.created_at.clone(),
            run_key: run_key.clone(),
            report_json_key: keys.json.clone(),
            report_csv_key: keys.csv.clone(),
            compliance_score: run.summary.compliance_score,
            findings_total: c.total(),
            critical: c.critical,
            high: c.high,
            medium: c.medium,
            low: c.low,
            informational: c.informational,
            complete: run.complete,
            decision: analysis
                .as_ref()
                .map(|a| a.decision.as_str().to_string())
                .unwrap_or_default(),
        })
        .await?;

    let delivery = match &webhook {
        None => WebhookDelivery::NotConfigured,
        Some(config) => send_webhook(f, config, &report, &keys).await,
    };
    let integrations = metrics::Integrations {
        lifecycle: report.lifecycle,
        security_hub_failures: hub.failures(),
        webhook_failed: webhook
            .as_ref()
            .map(|_| !matches!(delivery, WebhookDelivery::Delivered { .. })),
    };
    let metrics_sent = f
        .metrics
        .put(&f.namespace, metrics::metrics(&run, &integrations))
        .await?;
    tracing::info!(json_key = %keys.json, metrics_sent, lifecycle = ?report.lifecycle, "report stored");
    Ok(StoreReportOutput {
        reports: keys,
        compliance_score: run.summary.compliance_score,
        findings_total: c.total(),
        lifecycle: report.lifecycle,
        security_hub: hub,
        webhook: delivery,
    })
}

/// Delivery problems are reported in the output and a metric, never fatal: the reports are
/// stored and the next run sends again.
async fn send_webhook(
    f: &Function,
    config: &WebhookConfig,
    report: &RunReport,
    keys: &ReportKeys,
) -> WebhookDelivery {
    let payload = compliance_core::webhook::payload(
        report,
        config.min_severity,
        &json!({"bucket": f.bucket, "keys": keys}),
    );
    match f.webhook.send(config, &payload).await {
        Ok(d) => WebhookDelivery::Delivered {
            http_status: d.status,
            attempts: d.attempts,
        },
        Err(e) => {
            tracing::error!(error = %e, "webhook not delivered");
            WebhookDelivery::Failed {
                error: e.to_string(),
            }
        }
    }
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env("REPORTS_BUCKET")?;
        let history_table = required_env("HISTORY_TABLE")?;
        let findings_table = required_env("FINDINGS_TABLE")?;
        let namespace =
            std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "ComplianceScanner".into());
        let home_region = sdk::home_region();
        let factory = sdk::factory(&home_region).await;
        let members = Arc::new(MemberAccess::new(factory.clone()));
        Ok(Function {
            store: Arc::new(S3Store::new(factory.s3(&home_region), bucket.clone())),
            bucket,
            history: Arc::new(HistoryStore::new(factory.dynamodb(), history_table)),
            findings: Arc::new(FindingsTable::new(factory.dynamodb(), findings_table)),
            parameters: Arc::new(factory.ssm()),
            security_hubs: Arc::new(AccountHubs::new(members)),
            metrics: Arc::new(factory.cloudwatch()),
            webhook: Arc::new(HttpsWebhook { ssm: factory.ssm() }),
            namespace,
            home_region,
            clock: SystemTime::now,
        })
    }
}

#[cfg(test)]
mod tests;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}
