//! aggregate: merges the per-(region, service) scan results of a run into one run document in
//! S3 and lists the units that failed.

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::sdk;
use compliance_aws::store::{get_json, put_json, ObjectStore, S3Store};
use compliance_core::contract::{AggregateInput, AggregateOutput};
use compliance_core::run::{RunDocument, ScanEntry, MAX_INLINE_FAILED_UNITS};
use compliance_core::time::rfc3339;
use compliance_core::unit::UnitScanDocument;
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};
use futures::StreamExt;

/// Unit documents read at once.
const READ_CONCURRENCY: usize = 8;

struct Function {
    store: Arc<dyn ObjectStore>,
}

async fn handle(f: &Function, input: AggregateInput) -> Result<AggregateOutput, StateError> {
    let run_id = &input.run_id;
    let mut keys = Vec::new();
    let mut failed = Vec::new();
    for entry in input.scans.0 {
        match entry {
            ScanEntry::Completed(unit) => {
                // Only this run's unit objects may be read: the key is derived, not trusted.
                let expected = run_id.keys().unit(&unit.region, unit.service);
                if unit.run_id != run_id.as_str() || unit.findings_key != expected {
                    return Err(StateError::InvalidInput(format!(
                        "scan result for {} {} belongs to run `{}` at `{}`, not to run `{run_id}`",
                        unit.region, unit.service, unit.run_id, unit.findings_key
                    )));
                }
                keys.push(expected);
            }
            ScanEntry::Failed(failure) => failed.push(failure),
        }
    }
    let store = f.store.as_ref();
    let mut reads = futures::stream::iter(keys)
        .map(|key| async move {
            let doc = get_json::<UnitScanDocument>(store, &key, "a region-scan document").await;
            (key, doc)
        })
        .buffer_unordered(READ_CONCURRENCY);
    let mut units = Vec::new();
    while let Some((key, doc)) = reads.next().await {
        units.push((key, doc?));
    }
    let document = RunDocument::merge(
        run_id.as_str(),
        &input.trigger,
        rfc3339(SystemTime::now()),
        units,
        failed,
    );
    let run_key = run_id.keys().run_document();
    put_json(store, &run_key, &document, "the run document").await?;
    tracing::info!(
        units = document.units.len(),
        failed_units = document.failed_units.len(),
        findings = document.findings.len(),
        "run aggregated"
    );
    Ok(AggregateOutput {
        run_id: run_id.clone(),
        run_key,
        account_id: document.account_id,
        resources_scanned: document.summary.resources_scanned,
        findings_total: document.findings.len(),
        findings_by_severity: document.summary.findings_by_severity,
        failed_unit_count: document.failed_units.len(),
        failed_units: document
            .failed_units
            .into_iter()
            .take(MAX_INLINE_FAILED_UNITS)
            .collect(),
        partial: !document.complete,
    })
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env("REPORTS_BUCKET")?;
        let region = sdk::home_region();
        let factory = sdk::factory(&region).await;
        Ok(Function {
            store: Arc::new(S3Store::new(factory.s3(&region), bucket)),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}

#[cfg(test)]
mod tests;
