//! aggregate: merges the per-(region, service) scan results of a run into one run document in
//! S3 and lists the units that failed.

use std::time::SystemTime;

use compliance_aws::lambda::{expect_object, init_tracing, required_env, run_id, StateError};
use compliance_aws::sdk;
use compliance_aws::store::{get_json, put_json, ObjectStore, S3Store};
use compliance_core::run::{scan_entries, RunDocument, ScanEntry, MAX_INLINE_FAILED_UNITS};
use compliance_core::time::rfc3339;
use compliance_core::unit::{unit_key, UnitScanDocument};
use futures::StreamExt;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

/// Unit documents read at once.
const READ_CONCURRENCY: usize = 8;

async fn handle(store: &S3Store, event: LambdaEvent<Value>) -> Result<Value, StateError> {
    let event = event.payload;
    expect_object(&event, r#"{"run_id", "trigger", "scans"}"#)?;
    let run_id = run_id(&event)?;
    let trigger = event
        .get("trigger")
        .and_then(Value::as_str)
        .unwrap_or("manual")
        .to_string();
    let scans = event
        .get("scans")
        .ok_or_else(|| StateError::InvalidInput("missing field `scans`".into()))?;
    let entries = scan_entries(scans).map_err(|e| StateError::InvalidInput(e.to_string()))?;

    let mut keys = Vec::new();
    let mut failed = Vec::new();
    for entry in entries {
        match entry {
            ScanEntry::Completed(unit) => {
                // Only this run's unit objects may be read: the key is derived, not trusted.
                let expected = unit_key(&run_id, &unit.region, unit.service);
                if unit.run_id != run_id || unit.findings_key != expected {
                    return Err(StateError::InvalidInput(format!(
                        "scan result for {} {} belongs to run `{}` at `{}`, not to run `{run_id}`",
                        unit.region, unit.service, unit.run_id, unit.findings_key
                    )));
                }
                keys.push(expected);
            }
            ScanEntry::Failed(f) => failed.push(f),
        }
    }
    let store_ref: &dyn ObjectStore = store;
    let mut reads = futures::stream::iter(keys)
        .map(|key| async move {
            let doc = get_json::<UnitScanDocument>(store_ref, &key, "a region-scan document").await;
            (key, doc)
        })
        .buffer_unordered(READ_CONCURRENCY);
    let mut units = Vec::new();
    while let Some((key, doc)) = reads.next().await {
        units.push((key, doc?));
    }
    let document = RunDocument::merge(&run_id, &trigger, rfc3339(SystemTime::now()), units, failed);
    let run_key = RunDocument::key(&run_id);
    put_json(store, &run_key, &document, "the run document").await?;
    tracing::info!(
        run_id = %run_id,
        units = document.units.len(),
        failed_units = document.failed_units.len(),
        findings = document.findings.len(),
        "run aggregated"
    );
    Ok(json!({
        "run_id": run_id,
        "run_key": run_key,
        "account_id": document.account_id,
        "resources_scanned": document.summary.resources_scanned,
        "findings_total": document.findings.len(),
        "findings_by_severity": document.summary.findings_by_severity,
        "failed_units": document.failed_units.iter().take(MAX_INLINE_FAILED_UNITS).collect::<Vec<_>>(),
        "failed_unit_count": document.failed_units.len(),
        "partial": !document.complete,
    }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env("REPORTS_BUCKET")?;
    let region = sdk::home_region();
    let factory = sdk::factory(&region).await;
    let store = S3Store::new(factory.s3(&region), bucket);
    let store = &store;
    lambda_runtime::run(service_fn(move |event| handle(store, event))).await
}
