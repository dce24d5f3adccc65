//! region-scan: scans one (account, region, service) unit of a run, writes its findings and
//! inventory to the reports bucket, and returns only keys and counts. A member account is
//! scanned through its member role, assumed once per account and reused while it is fresh.

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::member::{CallerIdentity, MemberAccess, StsIdentity};
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
    members: MemberAccess,
    identity: Arc<dyn CallerIdentity>,
    store: Arc<dyn ObjectStore>,
    ssm: aws_sdk_ssm::Client,
}

async fn handle(
    function: &Function,
    input: RegionScanInput,
) -> Result<RegionScanOutput, StateError> {
    tracing::info!(
        account = input.account_id.as_ref().map(ToString::to_string),
        region = %input.region,
        service = %input.service,
        "scan requested"
    );
    let config = load_config(&function.ssm).await?;
    let account_id = match &input.account_id {
        Some(a) => a.to_string(),
        None => function.identity.account_id().await?,
    };
    let external_id = config
        .accounts
        .as_ref()
        .and_then(|a| a.external_id.as_deref());
    let factory = function
        .members
        .factory(&account_id, input.role_arn.as_deref(), external_id)
        .await?;
    let collected = Scanner::new(factory)
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
        .unit(&account_id, input.region.as_str(), input.service);
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
        let factory = compliance_aws::sdk::factory(&home).await;
        Ok(Function {
            store: Arc::new(S3Store::new(factory.s3(&home), bucket)),
            ssm: factory.ssm(),
            identity: Arc::new(StsIdentity::new(factory.sts())),
            members: MemberAccess::new(factory),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}
