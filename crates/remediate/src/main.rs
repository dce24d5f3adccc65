//! remediate: starts the SSM Automation runbooks for a run's findings, within the guardrails
//! (dry-run by default, rule allowlist, exclusion tag, cap per run across every account, one
//! execution per resource within the cooldown), and records every decision. A member account's
//! runbooks run in that account, started through its member role.

mod members;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use compliance_aws::automation::{AccountAutomation, Automation, AutomationFor};
use compliance_aws::ledger::{Claim, Ledger, RemediationLedger};
use compliance_aws::member::MemberAccess;
use compliance_aws::params::{load_setting, ParameterStore};
use compliance_aws::sdk;
use compliance_aws::store::{put_json, read_run_document, ObjectStore, S3Store};
use compliance_aws::AwsError;
use compliance_core::contract::{RemediateInput, RemediateOutput};
use compliance_core::finding::deterministic_uuid;
use compliance_core::remediation::{
    member_automation_role, plan, DecisionRecord, Mode, Outcome, Placement, PlannedExecution,
    RemediationConfig, RemediationDecisions,
};
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};

use members::MemberRoles;

struct Function {
    store: Arc<dyn ObjectStore>,
    ledger: Arc<dyn Ledger>,
    parameters: Arc<dyn ParameterStore>,
    automations: Arc<dyn AutomationFor>,
    /// The role the scanner's own account's runbooks run as (template.yaml's).
    automation_role: String,
    home_region: String,
}

/// Starts the enforced executions of a run: its clock, its cooldown and how members are reached.
struct Enforce<'a> {
    f: &'a Function,
    run_id: &'a str,
    now: u64,
    cooldown_minutes: u64,
    members: Option<&'a MemberRoles>,
}

impl Enforce<'_> {
    async fn execute(&self, execution: &PlannedExecution) -> Result<Outcome, StateError> {
        // The account is reached before the ledger is claimed: an account that cannot be
        // reached started nothing, so the next run tries again without waiting a cooldown.
        let (automation, role) = match self.reach(execution).await {
            Ok(reached) => reached,
            Err(error) => {
                tracing::error!(account = %execution.account_id, runbook = %execution.runbook, resource = %execution.resource_arn, %error, "account not reached for remediation");
                return Ok(Outcome::Failed { error });
            }
        };
        let f = self.f;
        let claim = f
            .ledger
            .claim(
                &execution.key,
                self.run_id,
                self.now,
                self.cooldown_minutes * 60,
            )
            .await?;
        match claim {
            Claim::Taken => {
                return Ok(Outcome::Skipped {
                    reason: format!(
                        "an execution for this resource started within the last {} minutes",
                        self.cooldown_minutes
                    ),
                })
            }
            // A re-run of this state (Retry, redelivery): the execution this run started is
            // reported again, never started twice.
            Claim::ClaimedByThisRun {
                execution_id: Some(execution_id),
                ..
            } => return Ok(Outcome::Started { execution_id }),
            // Claimed by an attempt that stopped before recording a start (or whose start
            // failed): starting again is safe, the client token is the run's and the
            // resource's, so SSM answers a start it already took with that execution.
            Claim::Claimed | Claim::ClaimedByThisRun { .. } => {}
        }
        let mut parameters = execution.parameters.clone();
        parameters.insert("AutomationAssumeRole".into(), vec![role]);
        let token = deterministic_uuid(&[self.run_id, &execution.key]);
        match automation
            .start(&execution.runbook, &parameters, &token)
            .await
        {
            Ok(id) => {
                f.ledger
                    .record(&execution.key, "started", Some(&id))
                    .await?;
                Ok(Outcome::Started { execution_id: id })
            }
            Err(e) => {
                tracing::error!(account = %execution.account_id, region = %execution.automation_region, runbook = %execution.runbook, resource = %execution.resource_arn, error = %e, "remediation failed to start");
                f.ledger.record(&execution.key, "failed", None).await?;
                Ok(Outcome::Failed {
                    error: in_account(execution, &e),
                })
            }
        }
    }

    /// SSM Automation of the execution's account and region, and the role its runbook runs as.
    async fn reach(
        &self,
        execution: &PlannedExecution,
    ) -> Result<(Arc<dyn Automation>, String), String> {
        let (role_arn, external_id, automation_role) = if execution.own_account {
            (None, None, self.f.automation_role.clone())
        } else {
            let members = self
                .members
                .ok_or_else(|| "member roles were not loaded".to_string())?;
            let role = members.role_of(&execution.account_id)?;
            (
                Some(role),
                members.external_id(),
                member_automation_role(role),
            )
        };
        let automation = self
            .f
            .automations
            .automation(
                &execution.account_id,
                role_arn,
                external_id,
                &execution.automation_region,
            )
            .await
            .map_err(|e| in_account(execution, &e))?;
        Ok((automation, automation_role))
    }
}

/// An error as the decisions record it: a member's names its account (AssumeRole's already do).
fn in_account(execution: &PlannedExecution, e: &AwsError) -> String {
    if execution.own_account || matches!(e, AwsError::AssumeRole { .. }) {
        e.to_string()
    } else {
        format!("account {}: {e}", execution.account_id)
    }
}

async fn handle(f: &Function, input: RemediateInput) -> Result<RemediateOutput, StateError> {
    let run_id = input.run_id.as_str();
    let config: RemediationConfig = load_setting(f.parameters.as_ref()).await?;
    let run = read_run_document(f.store.as_ref(), &input).await?;
    let placement = Placement::of_run(&run, &f.home_region);
    let (planned, mut decisions) = plan(&run.findings, &config, &placement);
    // Member roles are looked up only when a member's runbook is to start.
    let members = if config.mode == Mode::Enforce && planned.iter().any(|p| !p.own_account) {
        Some(MemberRoles::load(f.store.as_ref(), f.parameters.as_ref(), &input.run_id).await?)
    } else {
        None
    };
    let enforce = Enforce {
        f,
        run_id,
        now: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        cooldown_minutes: config.cooldown_minutes,
        members: members.as_ref(),
    };
    for execution in planned {
        let outcome = match config.mode {
            Mode::DryRun => Outcome::DryRun,
            Mode::Enforce => enforce.execute(&execution).await?,
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
            automations: Arc::new(AccountAutomation::new(Arc::new(MemberAccess::new(factory)))),
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
