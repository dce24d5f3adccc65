//! aggregate: reconciles the run's plan with the scan map's results (the ResultWriter's
//! manifest and result files), then merges the unit documents account by account into the run
//! document, streaming each account's findings out before reading the next account's: peak
//! memory is one account's findings, whatever the organization's size.

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::sdk;
use compliance_aws::store::{get_json, ObjectStore, S3Store};
use compliance_aws::upload::StreamingObject;
use compliance_aws::AwsError;
use compliance_core::contract::{AggregateInput, AggregateOutput};
use compliance_core::map_results::{
    child_entries, reconcile, under, ChildExecution, ResultManifest,
};
use compliance_core::plan::ScanPlan;
use compliance_core::run::{FailedUnit, RunMerger, MAX_INLINE_FAILED_UNITS};
use compliance_core::time::rfc3339;
use compliance_core::unit::{UnitScanDocument, UnitScanSummary};
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};
use futures::StreamExt;

/// Unit documents read at once.
const READ_CONCURRENCY: usize = 8;

struct Function {
    store: Arc<dyn ObjectStore>,
}

async fn handle(f: &Function, input: AggregateInput) -> Result<AggregateOutput, StateError> {
    let run_id = &input.run_id;
    let keys = run_id.keys();
    let store = f.store.as_ref();
    let plan: ScanPlan = get_json(store, &keys.plan(), "the scan plan").await?;
    let (completed, failed) = scan_results(store, &input, &plan).await?;

    let run_key = keys.run_document();
    let mut out = StreamingObject::new(store, &run_key, "application/json");
    out.write(b"{\"findings\":[").await?;
    let mut merger = RunMerger::default();
    let (mut findings_total, mut first) = (0usize, true);
    for account in completed.chunk_by(|a, b| a.account_id == b.account_id) {
        let units = read_units(store, run_id, account).await?;
        let account_id = account[0].account_id.as_str();
        let findings = merger.add_account(account_id, plan.account_name(account_id), units);
        findings_total += findings.len();
        for finding in &findings {
            if !first {
                out.write(b",").await?;
            }
            first = false;
            out.write(&to_json(finding, "a finding")?).await?;
        }
    }
    let mut document = merger.finish(
        run_id.as_str(),
        plan.own_account_id.as_str(),
        &input.trigger,
        rfc3339(SystemTime::now()),
        failed,
    );
    // Accounts none of whose units ran were added without a name.
    for account in &mut document.accounts {
        if account.name.is_none() {
            account.name = plan.account_name(&account.account_id).map(str::to_string);
        }
    }
    // The rest of the document after the findings: its fields but `findings`, as one object.
    let mut rest = serde_json::to_value(&document).map_err(|e| AwsError::Serialise {
        what: "the run document",
        reason: e.to_string(),
    })?;
    if let Some(fields) = rest.as_object_mut() {
        fields.remove("findings");
    }
    let rest = to_json(&rest, "the run document")?;
    out.write(b"],").await?;
    out.write(rest.get(1..).unwrap_or_default()).await?;
    out.finish().await?;
    tracing::info!(
        accounts = document.accounts.len(),
        units = document.units.len(),
        failed_units = document.failed_units.len(),
        findings = findings_total,
        "run aggregated"
    );
    Ok(AggregateOutput {
        run_id: run_id.clone(),
        run_key,
        account_id: document.account_id,
        resources_scanned: document.summary.resources_scanned,
        findings_total,
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

/// Every planned unit, completed or failed, from the map's result files.
async fn scan_results(
    store: &dyn ObjectStore,
    input: &AggregateInput,
    plan: &ScanPlan,
) -> Result<(Vec<UnitScanSummary>, Vec<FailedUnit>), StateError> {
    let prefix = input.run_id.keys().map_results_prefix();
    if !under(&input.manifest_key, &prefix) {
        return Err(StateError::InvalidInput(format!(
            "manifest_key `{}` is not under the run's `{prefix}/`",
            input.manifest_key
        )));
    }
    let manifest: ResultManifest =
        get_json(store, &input.manifest_key, "the scan map's manifest").await?;
    let mut entries = Vec::new();
    for file in manifest.files(&prefix)? {
        let children: Vec<ChildExecution> = get_json(store, file, "a scan map result file").await?;
        entries.extend(child_entries(&children, file)?);
    }
    Ok(reconcile(&plan.units(), entries)?)
}

/// One account's unit documents, read with bounded concurrency; the keys are derived from the
/// run and the unit, never taken from a result.
async fn read_units(
    store: &dyn ObjectStore,
    run_id: &compliance_core::contract::RunId,
    account: &[UnitScanSummary],
) -> Result<Vec<(String, UnitScanDocument)>, StateError> {
    let mut reads = futures::stream::iter(account.iter().map(|unit| {
        let key = run_id
            .keys()
            .unit(&unit.account_id, &unit.region, unit.service);
        async move {
            let doc = get_json::<UnitScanDocument>(store, &key, "a region-scan document").await;
            (key, doc)
        }
    }))
    .buffer_unordered(READ_CONCURRENCY);
    let mut units = Vec::new();
    while let Some((key, doc)) = reads.next().await {
        let doc = doc?;
        if doc.run_id != run_id.as_str()
            || Some(doc.account_id.as_str()) != account.first().map(|u| u.account_id.as_str())
        {
            return Err(StateError::InvalidInput(format!(
                "{key} holds run `{}` account `{}`, not this run's unit",
                doc.run_id, doc.account_id
            )));
        }
        units.push((key, doc));
    }
    Ok(units)
}

fn to_json<T: serde::Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>, AwsError> {
    serde_json::to_vec(value).map_err(|e| AwsError::Serialise {
        what,
        reason: e.to_string(),
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
