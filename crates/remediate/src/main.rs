//! remediate: starts the SSM Automation runbooks for a run's findings, within the guardrails
//! (dry-run by default, rule allowlist, exclusion tag, cap per run, one execution per resource
//! within the cooldown), and records every decision.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use compliance_aws::automation::Automation;
use compliance_aws::ledger::{Ledger, RemediationLedger};
use compliance_aws::params::{load_setting, ParameterStore};
use compliance_aws::sdk;
use compliance_aws::store::{put_json, read_run_document, ObjectStore, S3Store};
use compliance_core::contract::{RemediateInput, RemediateOutput};
use compliance_core::finding::deterministic_uuid;
use compliance_core::remediation::{
    plan, DecisionRecord, Mode, Outcome, RemediationConfig, RemediationDecisions,
};
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};

struct Function {
    store: Arc<dyn ObjectStore>,
    ledger: Arc<dyn Ledger>,
    parameters: Arc<dyn ParameterStore>,
    automation: Arc<dyn Automation>,
    automation_role: String,
    home_region: String,
}

async fn handle(f: &Function, input: RemediateInput) -> Result<RemediateOutput, StateError> {
    let run_id = input.run_id.as_str();
    let config: RemediationConfig = load_setting(f.parameters.as_ref()).await?;
    let run = read_run_document(f.store.as_ref(), &input).await?;
    let (planned, mut decisions) = plan(&run.findings, &config, &f.home_region);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for execution in planned {
        let outcome = match config.mode {
            Mode::DryRun => Outcome::DryRun,
            Mode::Enforce => {
                if f.ledger
                    .claim(&execution.key, run_id, now, config.cooldown_minutes * 60)
                    .await?
                {
                    let mut parameters = execution.parameters.clone();
                    parameters.insert(
                        "AutomationAssumeRole".into(),
                        vec![f.automation_role.clone()],
                    );
                    let token = deterministic_uuid(&[run_id, &execution.key]);
                    match f
                        .automation
                        .start(&execution.runbook, &parameters, &token)
                        .await
                    {
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
                } else {
                    Outcome::Skipped {
                        reason: format!(
                            "an execution for this resource started within the last {} minutes",
                            config.cooldown_minutes
                        ),
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
    let decisions_key = input.run_id.keys().remediation();
    put_json(
        f.store.as_ref(),
        &decisions_key,
        &RemediationDecisions {
            run_id: run_id.to_string(),
            mode: config.mode,
            decisions,
        },
        "the remediation decisions",
    )
    .await?;
    tracing::info!(mode = ?config.mode, started, dry_run, skipped, failed, "remediation decided");
    Ok(RemediateOutput {
        mode: config.mode,
        started,
        dry_run,
        skipped,
        failed,
        decisions_key,
    })
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env("REPORTS_BUCKET")?;
        let table = required_env("REMEDIATION_TABLE")?;
        let automation_role = required_env("AUTOMATION_ROLE_ARN")?;
        let region = sdk::home_region();
        let factory = sdk::factory(&region).await;
        Ok(Function {
            store: Arc::new(S3Store::new(factory.s3(&region), bucket)),
            ledger: Arc::new(RemediationLedger::new(factory.dynamodb(), table)),
            parameters: Arc::new(factory.ssm()),
            automation: Arc::new(factory.ssm()),
            automation_role,
            home_region: region,
        })
    }
}

#[cfg(test)]
mod tests;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}
