//! aggregate: reads the scan map's results (the ResultWriter's manifest and result files, child
//! by child, keeping only the failed units), then merges the plan's units account by account
//! into the run document, streaming each account's findings out before reading the next
//! account's: memory holds one account's documents and one result file, not the organization.

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::sdk;
use compliance_aws::store::{get_json, get_optional_json, ObjectStore, S3Store};
use compliance_aws::upload::StreamingObject;
use compliance_aws::AwsError;
use compliance_core::contract::{AggregateInput, AggregateOutput, RegionScanInput, RunId};
use compliance_core::map_results::{no_result, under, MapOutcome, ResultManifest};
use compliance_core::plan::ScanPlan;
use compliance_core::run::{FailedUnit, RunMerger, MAX_INLINE_FAILED_UNITS};
use compliance_core::time::rfc3339;
use compliance_core::unit::UnitScanDocument;
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};
use futures::StreamExt;

/// Unit documents read at once (an account has up to 35 units at 17 regions).
const READ_CONCURRENCY: usize = 32;

struct Function {
    store: Arc<dyn ObjectStore>,
}

async fn handle(f: &Function, input: AggregateInput) -> Result<AggregateOutput, StateError> {
    let run_id = &input.run_id;
    let keys = run_id.keys();
    let store = f.store.as_ref();
    let plan: ScanPlan = get_json(store, &keys.plan(), "the scan plan").await?;
    let mut outcome = MapOutcome::new(&plan);
    read_map_results(store, &input, &mut outcome).await?;

    let run_key = keys.run_document();
    let mut out = StreamingObject::new(store, &run_key, "application/json");
    out.write(b"{\"findings\":[").await?;
    let mut merger = RunMerger::default();
    let mut failed = Vec::new();
    let (mut findings_total, mut first) = (0usize, true);
    for account in &plan.accounts {
        let mut to_read = Vec::new();
        for unit in plan.units_of(account) {
            match outcome.take_failure(&unit) {
                Some(failure) => failed.push(failure),
                None => to_read.push(unit),
            }
        }
        let (units, missing) = read_units(store, run_id, &to_read).await?;
        failed.extend(missing);
        if units.is_empty() {
            continue;
        }
        let account_id = account.account_id.as_str();
        let findings = merger.add_account(account_id, account.name.as_deref(), units);
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
    let rest = to_json(&document.without_findings(), "the run document")?;
    out.write(b"],").await?;
    out.write(rest.get(1..).unwrap_or_default()).await?;
    out.finish().await?;
    tracing::info!(
        accounts = document.accounts.len(),
        units = document.units.len(),
        completed_children = outcome.completed,
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

/// Reads every result file the map's manifest lists (each under the run's map prefix), one at
/// a time, into `outcome`.
async fn read_map_results(
    store: &dyn ObjectStore,
    input: &AggregateInput,
    outcome: &mut MapOutcome<'_>,
) -> Result<(), StateError> {
    let prefix = input.run_id.keys().map_results_prefix();
    if !under(&input.manifest_key, &prefix) {
        return Err(StateError::InvalidInput(format!(
            "manifest_key `{}` is not under the run's `{prefix}/`",
            input.manifest_key
        )));
    }
    let manifest: ResultManifest =
        get_json(store, &input.manifest_key, "the scan map's manifest").await?;
    for file in manifest.files(&prefix)? {
        let bytes = store.get(file).await?.ok_or_else(|| AwsError::Missing {
            what: "a scan map result file",
            key: file.to_string(),
        })?;
        outcome.read_file(&bytes, file)?;
    }
    Ok(())
}

/// One account's unit documents, read with bounded concurrency from the keys the run and the
/// plan derive; a unit whose document does not exist comes back as a failed unit.
async fn read_units(
    store: &dyn ObjectStore,
    run_id: &RunId,
    units: &[RegionScanInput],
) -> Result<(Vec<(String, UnitScanDocument)>, Vec<FailedUnit>), StateError> {
    let mut reads = futures::stream::iter(units.iter().map(|unit| {
        let account = unit
            .account_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let key = run_id
            .keys()
            .unit(&account, unit.region.as_str(), unit.service);
        async move {
            let doc =
                get_optional_json::<UnitScanDocument>(store, &key, "a region-scan document").await;
            (unit, account, key, doc)
        }
    }))
    .buffer_unordered(READ_CONCURRENCY);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    while let Some((unit, account, key, doc)) = reads.next().await {
        let Some(doc) = doc? else {
            missing.push(no_result(unit, &key));
            continue;
        };
        if doc.run_id != run_id.as_str() || doc.account_id != account {
            return Err(StateError::InvalidInput(format!(
                "{key} holds run `{}` account `{}`, not this run's unit",
                doc.run_id, doc.account_id
            )));
        }
        found.push((key, doc));
    }
    Ok((found, missing))
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
