//! region-scan: scans one (region, service) of a run, writes findings and inventory to the
//! reports bucket, and returns only keys and counts.

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::params::load_config;
use compliance_aws::store::{put_json, ObjectStore, S3Store};
use compliance_aws::Scanner;
use compliance_core::contract::{RegionScanInput, RegionScanOutput};
use compliance_core::time::rfc3339;
use compliance_core::unit::UnitScanDocument;
use compliance_core::EvaluationSettings;
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};

/// Names only: configuration lives in Parameter Store.
const ENV_REPORTS_BUCKET: &str = "REPORTS_BUCKET";

struct Function {
    scanner: Scanner,
    store: Arc<dyn ObjectStore>,
    ssm: aws_sdk_ssm::Client,
}

async fn handle(
    function: &Function,
    input: RegionScanInput,
) -> Result<RegionScanOutput, StateError> {
    tracing::info!(region = %input.region, service = %input.service, "scan requested");
    let config = load_config(&function.ssm).await?;
    let account_id = match &input.account_id {
        Some(a) => a.to_string(),
        None => function.scanner.account_id().await?,
    };
    let collected = function
        .scanner
        .collect(&account_id, input.region.as_str(), input.service)
        .await;
    let settings = EvaluationSettings {
        required_tags: config.required_tags,
        mutelist: config.mutelist,
        rule_parameters: config.rule_parameters,
    };
    let document = UnitScanDocument::new(
        input.run_id.as_str(),
        input.region.as_str(),
        input.service,
        rfc3339(SystemTime::now()),
        collected.inventory,
        collected.errors,
        &settings,
    );
    let key = input
        .run_id
        .keys()
        .unit(input.region.as_str(), input.service);
    put_json(
        function.store.as_ref(),
        &key,
        &document,
        "the scan document",
    )
    .await?;
    let summary = document.summary(key);
    tracing::info!(
        resources = summary.resources_scanned,
        findings = summary.findings_by_severity.total(),
        errors = summary.error_count,
        key = %summary.findings_key,
        "scan stored"
    );
    Ok(summary)
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env(ENV_REPORTS_BUCKET)?;
        let home = compliance_aws::sdk::home_region();
        let scanner = Scanner::from_env(&home).await;
        Ok(Function {
            store: Arc::new(S3Store::new(scanner.factory().s3(&home), bucket)),
            ssm: scanner.factory().ssm(),
            scanner,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}
