//! remediate: starts the SSM Automation runbooks for a run's findings, within the guardrails
//! (dry-run by default, rule allowlist, exclusion tag, cap per run, one execution per resource
//! within the cooldown), and records every decision.

use std::time::{SystemTime, UNIX_EPOCH};

use compliance_aws::automation::start_automation;
use compliance_aws::lambda::{
    expect_object, init_tracing, required_env, run_id, run_key, StateError,
};
use compliance_aws::ledger::RemediationLedger;
use compliance_aws::params::load_parameter;
use compliance_aws::sdk;
use compliance_aws::store::{get_json, put_json, S3Store};
use compliance_core::finding::deterministic_uuid;
use compliance_core::remediation::{
    plan, DecisionRecord, Mode, Outcome, RemediationConfig, PARAM_REMEDIATION,
};
use compliance_core::run::RunDocument;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

struct Function {
    store: S3Store,
    ledger: RemediationLedger,
    ssm: aws_sdk_ssm::Client,
    automation_role: String,
    home_region: String,
}

async fn handle(f: &Function, event: LambdaEvent<Value>) -> Result<Value, StateError> {
    let event = event.payload;
    expect_object(&event, r#"{"run_id", "run_key"}"#)?;
    let run_id = run_id(&event)?;
    let run_key = run_key(&event, &run_id)?;
    let config = match load_parameter(&f.ssm, PARAM_REMEDIATION).await? {
        Some(json) => RemediationConfig::parse(&json)?,
        None => RemediationConfig::default(),
    };
    let run: RunDocument = get_json(&f.store, &run_key, "the run document").await?;
    let (planned, mut decisions) = plan(&run.findings, &config, &f.home_region);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for execution in planned {
        let outcome = match config.mode {
            Mode::DryRun => Outcome::DryRun,
            Mode::Enforce => {
                if !f
                    .ledger
                    .claim(&execution.key, &run_id, now, config.cooldown_minutes * 60)
                    .await?
                {
                    Outcome::Skipped {
                        reason: format!(
                            "an execution for this resource started within the last {} minutes",
                            config.cooldown_minutes
                        ),
                    }
                } else {
                    let mut parameters = execution.parameters.clone();
                    parameters.insert(
                        "AutomationAssumeRole".into(),
                        vec![f.automation_role.clone()],
                    );
                    let token = deterministic_uuid(&[&run_id, &execution.key]);
                    match start_automation(&f.ssm, &execution.runbook, &parameters, &token).await {
                        Ok(id) => {
                            f.ledger
                                .record(&execution.key, "started", Some(&id))
                                .await?;
                            Outcome::Started { execution_id: id }
                        }
                        Err(e) => {
                            tracing::error!(runbook = %execution.runbook, resource = %execution.resource_arn, error = %e, "remediation failed to start");
                            f.ledger.record(&execution.key, "failed", None).await?;
                            Outcome::Failed {
                                error: e.to_string(),
                            }
                        }
                    }
                }
            }
        };
        for finding_id in &execution.finding_ids {
            let rule_id = run
                .findings
                .iter()
                .find(|x| &x.id == finding_id)
                .map(|x| x.rule_id.clone())
                .unwrap_or_default();
            decisions.push(DecisionRecord {
                finding_id: finding_id.clone(),
                rule_id,
                resource_arn: execution.resource_arn.clone(),
                region: execution.region.clone(),
                runbook: Some(execution.runbook.clone()),
                outcome: outcome.clone(),
            });
        }
    }
    let count = |pred: fn(&Outcome) -> bool| decisions.iter().filter(|d| pred(&d.outcome)).count();
    let started = count(|o| matches!(o, Outcome::Started { .. }));
    let dry_run = count(|o| matches!(o, Outcome::DryRun));
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    let failed = count(|o| matches!(o, Outcome::Failed { .. }));
    let decisions_key = format!("runs/{run_id}/remediation.json");
    let mode = match config.mode {
        Mode::DryRun => "dry-run",
        Mode::Enforce => "enforce",
    };
    put_json(
        &f.store,
        &decisions_key,
        &json!({ "run_id": run_id, "mode": mode, "decisions": decisions }),
        "the remediation decisions",
    )
    .await?;
    tracing::info!(run_id = %run_id, mode, started, dry_run, skipped, failed, "remediation decided");
    Ok(
        json!({ "mode": mode, "started": started, "dry_run": dry_run, "skipped": skipped, "failed": failed, "decisions_key": decisions_key }),
    )
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env("REPORTS_BUCKET")?;
    let table = required_env("REMEDIATION_TABLE")?;
    let automation_role = required_env("AUTOMATION_ROLE_ARN")?;
    let region = sdk::home_region();
    let factory = sdk::factory(&region).await;
    let function = Function {
        store: S3Store::new(factory.s3(&region), bucket),
        ledger: RemediationLedger::new(factory.dynamodb(), table),
        ssm: factory.ssm(),
        automation_role,
        home_region: region.clone(),
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle(function, event))).await
}
