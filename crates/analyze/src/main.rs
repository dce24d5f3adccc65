//! analyze: compares a run with the thresholds and the previous run, labels findings new /
//! still open / resolved, and returns the alert-or-clean decision with its reason.

use compliance_aws::history::HistoryStore;
use compliance_aws::lambda::{
    expect_object, init_tracing, required_env, run_id, run_key, StateError,
};
use compliance_aws::params::load_parameter;
use compliance_aws::sdk;
use compliance_aws::store::{get_json, put_json, S3Store};
use compliance_core::analysis::{analyse, Analysis, Thresholds, PARAM_THRESHOLDS};
use compliance_core::run::RunDocument;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

struct Function {
    store: S3Store,
    history: HistoryStore,
    ssm: aws_sdk_ssm::Client,
}

async fn handle(f: &Function, event: LambdaEvent<Value>) -> Result<Value, StateError> {
    let event = event.payload;
    expect_object(&event, r#"{"run_id", "run_key"}"#)?;
    let run_id = run_id(&event)?;
    let run_key = run_key(&event, &run_id)?;
    let thresholds = match load_parameter(&f.ssm, PARAM_THRESHOLDS).await? {
        Some(json) => Thresholds::parse(&json)?,
        None => Thresholds::default(),
    };
    let run: RunDocument = get_json(&f.store, &run_key, "the run document").await?;
    let previous = match f.history.latest(&run.account_id, &run_id).await? {
        Some(item) => {
            match get_json::<RunDocument>(&f.store, &item.run_key, "the previous run document")
                .await
            {
                Ok(doc) => Some(doc),
                Err(e) => {
                    // An expired or deleted previous report must not block this run's report.
                    tracing::warn!(previous_run = %item.run_id, error = %e, "previous run unreadable; comparing with nothing");
                    None
                }
            }
        }
        None => None,
    };
    let analysis: Analysis = analyse(
        &run_id,
        &run.summary,
        &run.findings,
        previous
            .as_ref()
            .map(|p| (p.run_id.as_str(), p.findings.as_slice())),
        &thresholds,
    );
    let analysis_key = Analysis::key(&run_id);
    put_json(&f.store, &analysis_key, &analysis, "the analysis").await?;
    tracing::info!(run_id = %run_id, decision = ?analysis.decision, reason = %analysis.reason, new = analysis.new.len(), resolved = analysis.resolved.len(), "run analysed");
    Ok(json!({
        "run_id": run_id,
        "decision": analysis.decision,
        "reason": analysis.reason,
        "compliance_score": run.summary.compliance_score,
        "findings_by_severity": run.summary.findings_by_severity,
        "new": analysis.new.len(),
        "still_open": analysis.still_open,
        "resolved": analysis.resolved.len(),
        "previous_run_id": analysis.previous_run_id,
        "analysis_key": analysis_key,
    }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env("REPORTS_BUCKET")?;
    let table = required_env("HISTORY_TABLE")?;
    let region = sdk::home_region();
    let factory = sdk::factory(&region).await;
    let function = Function {
        store: S3Store::new(factory.s3(&region), bucket),
        history: HistoryStore::new(factory.dynamodb(), table),
        ssm: factory.ssm(),
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle(function, event))).await
}
