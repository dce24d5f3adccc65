//! region-scan: scans one (region, service) of a run, writes findings and inventory to the
//! reports bucket, and returns only keys and counts.

mod input;

use std::time::SystemTime;

use compliance_aws::lambda::{init_tracing, required_env, StateError};
use compliance_aws::params::load_config;
use compliance_aws::store::{put_json, S3Store};
use compliance_aws::Scanner;
use compliance_core::time::rfc3339;
use compliance_core::unit::{unit_key, UnitScanDocument, UnitScanSummary};
use compliance_core::EvaluationSettings;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use crate::input::RegionScanInput;

/// Names only: configuration lives in Parameter Store.
const ENV_REPORTS_BUCKET: &str = "REPORTS_BUCKET";

struct Function {
    scanner: Scanner,
    store: S3Store,
    ssm: aws_sdk_ssm::Client,
}

async fn handle(
    function: &Function,
    event: LambdaEvent<Value>,
) -> Result<UnitScanSummary, StateError> {
    let input = RegionScanInput::parse(&event.payload)?;
    tracing::info!(run_id = %input.run_id, region = %input.region, service = %input.service, "scan requested");
    let config = load_config(&function.ssm).await?;
    let account_id = match &input.account_id {
        Some(a) => a.clone(),
        None => function.scanner.account_id().await?,
    };
    let collected = function
        .scanner
        .collect(&account_id, &input.region, input.service)
        .await;
    let settings = EvaluationSettings {
        required_tags: config.required_tags,
        mutelist: config.mutelist,
        rule_parameters: config.rule_parameters,
    };
    let document = UnitScanDocument::new(
        &input.run_id,
        &input.region,
        input.service,
        rfc3339(SystemTime::now()),
        collected.inventory,
        collected.errors,
        &settings,
    );
    let key = unit_key(&input.run_id, &input.region, input.service);
    put_json(&function.store, &key, &document, "the scan document").await?;
    let summary = document.summary(key);
    tracing::info!(
        run_id = %summary.run_id,
        resources = summary.resources_scanned,
        findings = summary.findings_by_severity.total(),
        errors = summary.error_count,
        key = %summary.findings_key,
        "scan stored"
    );
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env(ENV_REPORTS_BUCKET)?;
    let home = compliance_aws::sdk::home_region();
    let scanner = Scanner::from_env(&home).await;
    let function = Function {
        store: S3Store::new(scanner.factory().s3(&home), bucket),
        ssm: scanner.factory().ssm(),
        scanner,
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle(function, event))).await
}
