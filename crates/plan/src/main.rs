//! plan: decides what a run scans (the accounts, from the accounts parameter and the
//! organization, x the configured regions and services) and writes it as the run's plan and
//! the units the scan map reads. Returns keys and counts only.

use std::sync::Arc;
use std::time::SystemTime;

use compliance_aws::member::{CallerIdentity, StsIdentity};
use compliance_aws::organizations::{Organization, OrganizationsApi};
use compliance_aws::params::{load_setting, ParameterStore};
use compliance_aws::store::{put_json, ObjectStore, S3Store};
use compliance_core::accounts::{own_account_only, AccountsConfig, PARAM_ACCOUNTS};
use compliance_core::config::{
    ScannerConfig, PARAM_MUTELIST, PARAM_REGIONS, PARAM_REQUIRED_TAGS, PARAM_SERVICES,
};
use compliance_core::contract::{AccountId, PlanInput, PlanOutput, Region};
use compliance_core::plan::{ScanFanout, ScanPlan};
use compliance_core::rules::PARAM_RULE_PARAMETERS;
use compliance_core::summary::REPORT_SCHEMA_VERSION;
use compliance_core::time::rfc3339;
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};

struct Function {
    parameters: Arc<dyn ParameterStore>,
    organization: Arc<dyn Organization>,
    identity: Arc<dyn CallerIdentity>,
    store: Arc<dyn ObjectStore>,
    bucket: String,
    home_region: String,
}

async fn handle(f: &Function, input: PlanInput) -> Result<PlanOutput, StateError> {
    let run_id = &input.run_id;
    // The scan's own settings are read here too, so that an invalid one stops the run before
    // its units fan out rather than failing every unit the same way.
    let names = [
        PARAM_REGIONS,
        PARAM_SERVICES,
        PARAM_ACCOUNTS,
        PARAM_REQUIRED_TAGS,
        PARAM_MUTELIST,
        PARAM_RULE_PARAMETERS,
    ];
    let values = f.parameters.parameters(&names).await?;
    let config = ScannerConfig::from_parameters(&values)?;
    let fanout: ScanFanout = load_setting(f.parameters.as_ref()).await?;
    let own_account = AccountId::parse(&f.identity.account_id().await?)?;
    let accounts = match values.get(PARAM_ACCOUNTS) {
        None => own_account_only(&own_account),
        Some(text) => {
            let setting = AccountsConfig::parse(text)?;
            let listed = match setting.source {
                compliance_core::accounts::AccountSource::Organization => {
                    f.organization
                        .accounts(&setting.organizational_units)
                        .await?
                }
                // Names for listed accounts are a nicety: a scanner outside the
                // organization's management or delegated admin account has none.
                compliance_core::accounts::AccountSource::List => Vec::new(),
            };
            setting.targets(&own_account, &f.home_region, &listed)?
        }
    };
    let regions = config
        .regions
        .iter()
        .map(|r| Region::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = ScanPlan {
        schema_version: REPORT_SCHEMA_VERSION,
        run_id: run_id.clone(),
        created_at: rfc3339(SystemTime::now()),
        own_account_id: own_account,
        regions: regions.clone(),
        services: config.services.clone(),
        accounts,
    };
    let units = plan.units();
    let keys = run_id.keys();
    let store = f.store.as_ref();
    put_json(store, &keys.plan_units(), &units, "the plan's units").await?;
    put_json(store, &keys.plan(), &plan, "the scan plan").await?;
    tracing::info!(
        accounts = plan.accounts.len(),
        regions = regions.len(),
        units = units.len(),
        "run planned"
    );
    Ok(PlanOutput {
        bucket: f.bucket.clone(),
        plan_key: keys.plan(),
        units_key: keys.plan_units(),
        results_prefix: keys.map_results_prefix(),
        account_count: plan.accounts.len(),
        unit_count: units.len(),
        regions,
        max_concurrency: fanout.max_concurrency,
        tolerated_failure_percentage: fanout.tolerated_failure_percentage,
    })
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env("REPORTS_BUCKET")?;
        let home_region = compliance_aws::sdk::home_region();
        let factory = compliance_aws::sdk::factory(&home_region).await;
        Ok(Function {
            parameters: Arc::new(factory.ssm()),
            organization: Arc::new(OrganizationsApi::new(factory.organizations())),
            identity: Arc::new(StsIdentity::new(factory.sts())),
            store: Arc::new(S3Store::new(factory.s3(&home_region), bucket.clone())),
            bucket,
            home_region,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}

#[cfg(test)]
mod tests;
