//! store-report: the run's reports in every format, the finding lifecycle (findings table and
//! Security Hub), the history item, the dashboard's metrics and the optional webhook.

mod lifecycle;
mod metrics;
mod outputs;

use std::time::SystemTime;

use compliance_aws::findings_table::FindingsTable;
use compliance_aws::history::{HistoryItem, HistoryStore};
use compliance_aws::lambda::{
    expect_object, init_tracing, required_env, run_id, run_key, StateError,
};
use compliance_aws::metrics::put_metrics;
use compliance_aws::params::load_parameters;
use compliance_aws::sdk::{self, ClientFactory};
use compliance_aws::security_hub::{ImportOutcome, SecurityHub};
use compliance_aws::store::{get_json, S3Store};
use compliance_aws::webhook;
use compliance_core::analysis::Analysis;
use compliance_core::lifecycle::{FindingsConfig, RunClock, PARAM_FINDINGS};
use compliance_core::model::partition_of_region;
use compliance_core::report::asff::AsffContext;
use compliance_core::report::document::{RunParts, TrendPoint};
use compliance_core::report::{report_prefix, RunReport};
use compliance_core::run::RunDocument;
use compliance_core::time::{parse_rfc3339, rfc3339};
use compliance_core::webhook::{WebhookConfig, PARAM_WEBHOOK};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

use crate::lifecycle::HubExport;
use crate::outputs::ReportKeys;

/// Earlier runs drawn in the report's trend chart.
const TREND_RUNS: i32 = 30;

struct Function {
    factory: ClientFactory,
    home_region: String,
    store: S3Store,
    history: HistoryStore,
    findings: FindingsTable,
    ssm: aws_sdk_ssm::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    namespace: String,
}

async fn handle(f: &Function, event: LambdaEvent<Value>) -> Result<Value, StateError> {
    let event = event.payload;
    expect_object(&event, r#"{"run_id", "run_key"}"#)?;
    let run_id = run_id(&event)?;
    let run_key = run_key(&event, &run_id)?;
    // Configuration first: a broken parameter stops the state before anything is written.
    let params = load_parameters(&f.ssm, &[PARAM_FINDINGS, PARAM_WEBHOOK]).await?;
    let config = match params.get(PARAM_FINDINGS) {
        Some(json) => FindingsConfig::parse(json)?,
        None => FindingsConfig::default(),
    };
    let webhook = params
        .get(PARAM_WEBHOOK)
        .map(|json| WebhookConfig::parse(json))
        .transpose()?;
    let run: RunDocument = get_json(&f.store, &run_key, "the run document").await?;
    // Analysis and remediation exist only when their states ran.
    let analysis = get_json::<Analysis>(&f.store, &Analysis::key(&run_id), "the analysis")
        .await
        .ok();
    let remediation = get_json::<Value>(
        &f.store,
        &format!("runs/{run_id}/remediation.json"),
        "the remediation decisions",
    )
    .await
    .ok();

    let now = rfc3339(SystemTime::now());
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
    let reconciliation = lifecycle::reconcile_run(&f.findings, &run, clock).await?;
    let trend: Vec<TrendPoint> = f
        .history
        .recent(&run.account_id, TREND_RUNS)
        .await?
        .into_iter()
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
    let keys = ReportKeys::under(&report_prefix(&run.created_at, &run_id));
    outputs::store_all(&f.store, &keys, &report, &asff).await?;

    let (hub, imported) = if config.security_hub.enabled {
        let hub = SecurityHub::new(f.factory.securityhub(&hub_region));
        lifecycle::export(&hub, &hub_region, &asff).await?
    } else {
        (HubExport::Disabled, ImportOutcome::default())
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
        None => json!({"status": "not_configured"}),
        Some(config) => send_webhook(f, config, &report, &keys).await,
    };
    let integrations = metrics::Integrations {
        lifecycle: report.lifecycle,
        security_hub_failures: hub.failures(),
        webhook_failed: webhook.as_ref().map(|_| delivery["status"] != "delivered"),
    };
    let metrics_sent = put_metrics(
        &f.cloudwatch,
        &f.namespace,
        metrics::metrics(&run, &integrations),
    )
    .await?;
    tracing::info!(run_id = %run_id, json_key = %keys.json, metrics_sent, lifecycle = ?report.lifecycle, "report stored");
    Ok(json!({
        "reports": keys,
        "compliance_score": run.summary.compliance_score,
        "findings_total": c.total(),
        "lifecycle": report.lifecycle,
        "security_hub": hub,
        "webhook": delivery,
    }))
}

/// Delivery problems are reported in the output and a metric, never fatal: the reports are
/// stored and the next run sends again.
async fn send_webhook(
    f: &Function,
    config: &WebhookConfig,
    report: &RunReport,
    keys: &ReportKeys,
) -> Value {
    let payload = compliance_core::webhook::payload(
        report,
        config.min_severity,
        &json!({"bucket": f.store.bucket(), "keys": keys}),
    );
    let result = match webhook::load_secret(&f.ssm).await {
        Ok(key) => webhook::deliver(config, &key, &payload).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(d) => json!({"status": "delivered", "http_status": d.status, "attempts": d.attempts}),
        Err(e) => {
            tracing::error!(error = %e, "webhook not delivered");
            json!({"status": "failed", "error": e.to_string()})
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env("REPORTS_BUCKET")?;
    let history_table = required_env("HISTORY_TABLE")?;
    let findings_table = required_env("FINDINGS_TABLE")?;
    let namespace =
        std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "ComplianceScanner".into());
    let home_region = sdk::home_region();
    let factory = sdk::factory(&home_region).await;
    let function = Function {
        store: S3Store::new(factory.s3(&home_region), bucket),
        history: HistoryStore::new(factory.dynamodb(), history_table),
        findings: FindingsTable::new(factory.dynamodb(), findings_table),
        ssm: factory.ssm(),
        cloudwatch: factory.cloudwatch(),
        namespace,
        home_region,
        factory,
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle(function, event))).await
}
