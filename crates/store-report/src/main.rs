//! store-report: writes the run's JSON and CSV reports under a date- and run-scoped key, the run
//! summary to the history table, and the dashboard's metrics.

use std::collections::BTreeMap;

use compliance_aws::history::{HistoryItem, HistoryStore};
use compliance_aws::lambda::{
    expect_object, init_tracing, required_env, run_id, run_key, StateError,
};
use compliance_aws::metrics::{put_metrics, Metric, StandardUnit};
use compliance_aws::sdk;
use compliance_aws::store::{get_json, put_json, ObjectStore, S3Store};
use compliance_core::analysis::Analysis;
use compliance_core::report::findings_csv;
use compliance_core::run::RunDocument;
use compliance_core::{FindingStatus, Severity};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

struct Function {
    store: S3Store,
    history: HistoryStore,
    cloudwatch: aws_sdk_cloudwatch::Client,
    namespace: String,
}

/// `reports/YYYY/MM/DD/{run_id}/`: browsable by date, unique per run.
fn report_prefix(created_at: &str, run_id: &str) -> String {
    let date = created_at
        .get(..10)
        .unwrap_or("1970-01-01")
        .replace('-', "/");
    format!("reports/{date}/{run_id}")
}

async fn handle(f: &Function, event: LambdaEvent<Value>) -> Result<Value, StateError> {
    let event = event.payload;
    expect_object(&event, r#"{"run_id", "run_key"}"#)?;
    let run_id = run_id(&event)?;
    let run_key = run_key(&event, &run_id)?;
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

    let new: std::collections::BTreeSet<&str> = analysis
        .as_ref()
        .map(|a| a.new.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let findings: Vec<Value> = run
        .findings
        .iter()
        .map(|finding| {
            let mut v = serde_json::to_value(finding).unwrap_or(Value::Null);
            let lifecycle = if analysis.is_none() {
                "unknown"
            } else if new.contains(finding.id.as_str()) {
                "new"
            } else {
                "open"
            };
            v["lifecycle"] = json!(lifecycle);
            v
        })
        .collect();
    let report = json!({
        "schema_version": run.schema_version,
        "run_id": run.run_id,
        "account_id": run.account_id,
        "trigger": run.trigger,
        "created_at": run.created_at,
        "complete": run.complete,
        "summary": run.summary,
        "decision": analysis.as_ref().map(|a| json!({"decision": a.decision, "reason": a.reason, "previous_run_id": a.previous_run_id})),
        "totals": analysis.as_ref().map(|a| json!({"by_region": a.by_region, "by_service": a.by_service, "by_rule": a.by_rule})),
        "findings": findings,
        "resolved": analysis.as_ref().map(|a| a.resolved.clone()).unwrap_or_default(),
        "errors": run.errors,
        "failed_units": run.failed_units,
        "units": run.units,
        "remediation": remediation,
    });
    let prefix = report_prefix(&run.created_at, &run_id);
    let json_key = format!("{prefix}/report.json");
    let csv_key = format!("{prefix}/report.csv");
    put_json(&f.store, &json_key, &report, "the JSON report").await?;
    let csv = findings_csv(&run.findings)?;
    f.store.put(&csv_key, csv.into_bytes(), "text/csv").await?;

    let c = run.summary.findings_by_severity;
    f.history
        .put(&HistoryItem {
            account_id: run.account_id.clone(),
            run_id: run_id.clone(),
            created_at: run.created_at.clone(),
            run_key: run_key.clone(),
            report_json_key: json_key.clone(),
            report_csv_key: csv_key.clone(),
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

    let metrics_sent = put_metrics(&f.cloudwatch, &f.namespace, metrics(&run)).await?;
    tracing::info!(run_id = %run_id, json_key = %json_key, csv_key = %csv_key, metrics_sent, "report stored");
    Ok(json!({
        "report_json_key": json_key,
        "report_csv_key": csv_key,
        "compliance_score": run.summary.compliance_score,
        "findings_total": c.total(),
    }))
}

fn metrics(run: &RunDocument) -> Vec<Metric> {
    let account = || ("AccountId", run.account_id.clone());
    let mut out = vec![
        Metric {
            name: "ResourcesScanned",
            value: run.summary.resources_scanned as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account()],
        },
        Metric {
            name: "FailedScanUnits",
            value: run.failed_units.len() as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account()],
        },
    ];
    if let Some(score) = run.summary.compliance_score {
        out.push(Metric {
            name: "ComplianceScore",
            value: score,
            unit: StandardUnit::Percent,
            dimensions: vec![account()],
        });
    }
    for severity in Severity::ALL_DESCENDING {
        out.push(Metric {
            name: "Findings",
            value: run.summary.findings_by_severity.get(severity) as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account(), ("Severity", severity.to_string())],
        });
    }
    let mut by_region: BTreeMap<&str, usize> =
        run.units.iter().map(|u| (u.region.as_str(), 0)).collect();
    let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
    for finding in run
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail)
    {
        *by_region.entry(finding.region.as_str()).or_insert(0) += 1;
        *by_service.entry(finding.service.to_string()).or_insert(0) += 1;
    }
    for (region, n) in by_region {
        out.push(Metric {
            name: "FindingsByRegion",
            value: n as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account(), ("Region", region.to_string())],
        });
    }
    for (service, n) in by_service {
        out.push(Metric {
            name: "FindingsByService",
            value: n as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account(), ("Service", service)],
        });
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env("REPORTS_BUCKET")?;
    let table = required_env("HISTORY_TABLE")?;
    let namespace =
        std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "ComplianceScanner".into());
    let region = sdk::home_region();
    let factory = sdk::factory(&region).await;
    let function = Function {
        store: S3Store::new(factory.s3(&region), bucket),
        history: HistoryStore::new(factory.dynamodb(), table),
        cloudwatch: factory.cloudwatch(),
        namespace,
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle(function, event))).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_keys_are_date_and_run_scoped() {
        assert_eq!(
            super::report_prefix("2026-11-23T10:00:00Z", "r1"),
            "reports/2026/11/23/r1"
        );
    }
}
