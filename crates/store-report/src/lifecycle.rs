//! The run against the findings table and Security Hub: reconcile, export, then record. Every
//! account of the run is reconciled with its own active records, and its findings go to its own
//! Security Hub.

use std::collections::{BTreeMap, BTreeSet};

use compliance_aws::findings_table::{by_id, FindingsStore};
use compliance_aws::security_hub::{FailedImport, HubFor, ImportOutcome};
use compliance_aws::AwsError;
use compliance_core::contract::SecurityHubExport;
use compliance_core::lifecycle::{reconcile, FindingRecord, Reconciliation, RunClock, RunScope};
use compliance_core::report::asff::{
    open_finding, resolved_finding, AsffContext, AsffFinding, Observed,
};
use compliance_core::run::RunDocument;
use futures::{StreamExt, TryStreamExt};

use crate::members::MemberRoles;

/// Accounts whose records or hubs are worked on at once (each is one Query, or one AssumeRole
/// and its imports).
const ACCOUNTS_AT_ONCE: usize = 8;

/// The accounts of a run: every account it scanned or failed to scan (units and failures of
/// documents written before accounts were planned are the run's own account's).
pub fn run_accounts(run: &RunDocument) -> BTreeSet<&str> {
    let mut accounts: BTreeSet<&str> = run
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .chain(run.units.iter().map(|u| u.account_id.as_str()))
        .chain(run.failed_units.iter().map(|u| u.account_id.as_str()))
        .map(|a| {
            if a.is_empty() {
                run.account_id.as_str()
            } else {
                a
            }
        })
        .collect();
    if accounts.is_empty() {
        accounts.insert(run.account_id.as_str());
    }
    accounts
}

/// Reads what the table knows of the run's accounts' active findings and of this run's
/// findings, and reconciles the run with it. An account the run could not reach has its active
/// records read too: they stay as they are, counted unconfirmed.
pub async fn reconcile_run(
    table: &dyn FindingsStore,
    run: &RunDocument,
    clock: RunClock<'_>,
) -> Result<Reconciliation, AwsError> {
    let accounts = run_accounts(run);
    let active: Vec<Vec<FindingRecord>> = futures::stream::iter(accounts)
        .map(|account| table.active(account))
        .buffer_unordered(ACCOUNTS_AT_ONCE)
        .try_collect()
        .await?;
    let mut previous = by_id(active.into_iter().flatten().collect());
    let unknown: Vec<&str> = run
        .findings
        .iter()
        .map(|f| f.id.as_str())
        .filter(|id| !previous.contains_key(*id))
        .collect();
    // Findings not active in the table may be resolved ones coming back (reopened).
    previous.extend(by_id(table.get_many(&unknown).await?));
    Ok(reconcile(
        &run.findings,
        &previous,
        &RunScope::of_run(run),
        clock,
    ))
}

/// The ASFF findings of a run: every finding of the run, then every finding it resolved.
pub fn asff_findings(
    run: &RunDocument,
    reconciliation: &Reconciliation,
    ctx: &AsffContext,
) -> Vec<AsffFinding> {
    let records = reconciliation.by_finding_id();
    let mut out: Vec<AsffFinding> = run
        .findings
        .iter()
        .map(|f| {
            let record = records.get(f.id.as_str()).copied();
            let observed = Observed {
                first: record.map_or(run.created_at.as_str(), |r| r.first_seen_at.as_str()),
                last: record.map_or(run.created_at.as_str(), |r| r.last_seen_at.as_str()),
            };
            let lifecycle = record.map_or("new", |r| r.status.as_str());
            open_finding(f, observed, lifecycle, ctx)
        })
        .collect();
    out.extend(
        reconciliation
            .resolved
            .iter()
            .map(|r| resolved_finding(r, ctx)),
    );
    out
}

/// Refused findings (and accounts not reached) named in the state output.
const MAX_LISTED_FAILURES: usize = 20;
/// Accounts' errors named in an export that failed everywhere.
const MAX_LISTED_ACCOUNTS: usize = 5;

/// Why none of an account's findings were imported.
enum AccountFailure {
    /// Its role could not be assumed, or its Security Hub refused the import.
    Aws(AwsError),
    /// The run's plan names no role for it.
    NoRole(String),
}

/// One account's import.
struct AccountExport {
    account_id: String,
    findings: usize,
    result: Result<ImportOutcome, (AccountFailure, String)>,
}

/// Imports each account's findings into that account's Security Hub in `region`: the scanner's
/// own account with its own credentials, a member through its member role. Every account is
/// tried; one that cannot be reached is reported, not fatal. The state fails (to be retried)
/// only when every account failed and every failure was transient (Security Hub throttling or
/// down everywhere). Returns the state output's summary, which stays small whatever the number
/// of accounts, and every finding that was not imported.
pub async fn export(
    hubs: &dyn HubFor,
    roles: &MemberRoles,
    region: &str,
    findings: Vec<AsffFinding>,
) -> Result<(SecurityHubExport, ImportOutcome), AwsError> {
    let mut by_account: BTreeMap<String, Vec<AsffFinding>> = BTreeMap::new();
    for finding in findings {
        by_account
            .entry(finding.aws_account_id.clone())
            .or_default()
            .push(finding);
    }
    let mut exports: Vec<AccountExport> = futures::stream::iter(&by_account)
        .map(|(account, findings)| export_account(hubs, roles, region, account, findings))
        .buffer_unordered(ACCOUNTS_AT_ONCE)
        .collect()
        .await;
    exports.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    let failed_accounts = exports.iter().filter(|e| e.result.is_err()).count();
    if failed_accounts > 0 && failed_accounts == exports.len() {
        return everywhere_failed(exports, region);
    }
    let mut outcome = ImportOutcome::default();
    let mut listed = Vec::new();
    for export in &exports {
        match &export.result {
            Ok(_) => {}
            Err((failure, message)) => {
                // An account not reached is named once, by its id, with the reason.
                listed.push(FailedImport {
                    id: export.account_id.clone(),
                    code: failure_code(failure),
                    message: message.clone(),
                });
                let code = failure_code(failure);
                outcome
                    .failed
                    .extend(by_account[&export.account_id].iter().map(|f| FailedImport {
                        id: f.id.clone(),
                        code: code.clone(),
                        message: message.clone(),
                    }));
            }
        }
    }
    for export in exports {
        if let Ok(imported) = export.result {
            listed.extend(imported.failed.iter().cloned());
            outcome.imported += imported.imported;
            outcome.failed.extend(imported.failed);
        }
    }
    listed.truncate(MAX_LISTED_FAILURES);
    Ok((
        SecurityHubExport::Exported {
            region: region.to_string(),
            imported: outcome.imported,
            failed_count: outcome.failed.len(),
            failed: listed,
        },
        outcome,
    ))
}

async fn export_account(
    hubs: &dyn HubFor,
    roles: &MemberRoles,
    region: &str,
    account_id: &str,
    findings: &[AsffFinding],
) -> AccountExport {
    let result = async {
        let role_arn = roles.role_of(account_id).map_err(AccountFailure::NoRole)?;
        // The external id goes with a role only (the own account assumes none).
        let external_id = role_arn.and(roles.external_id());
        let hub = hubs
            .hub(account_id, role_arn, external_id, region)
            .await
            .map_err(AccountFailure::Aws)?;
        hub.import(findings).await.map_err(AccountFailure::Aws)
    }
    .await;
    match &result {
        Ok(outcome) => {
            for failure in &outcome.failed {
                tracing::warn!(account = account_id, id = %failure.id, code = %failure.code, message = %failure.message, "Security Hub refused a finding");
            }
            tracing::info!(
                account = account_id,
                region,
                imported = outcome.imported,
                refused = outcome.failed.len(),
                "findings imported into Security Hub"
            );
        }
        Err(failure) => {
            tracing::error!(account = account_id, region, findings = findings.len(), error = %failure_message(roles, account_id, failure), "Security Hub export failed");
        }
    }
    AccountExport {
        account_id: account_id.to_string(),
        findings: findings.len(),
        result: result.map_err(|failure| {
            let message = failure_message(roles, account_id, &failure);
            (failure, message)
        }),
    }
}

/// Every account failed: retried when every failure may pass, else one error that names the
/// first accounts (a single account's error as it is).
fn everywhere_failed(
    exports: Vec<AccountExport>,
    region: &str,
) -> Result<(SecurityHubExport, ImportOutcome), AwsError> {
    let all_transient = exports
        .iter()
        .all(|e| matches!(&e.result, Err((AccountFailure::Aws(a), _)) if a.is_transient()));
    let accounts = exports.len();
    let findings: usize = exports.iter().map(|e| e.findings).sum();
    let mut messages = Vec::new();
    let mut first_error = None;
    for export in exports {
        if let Err((failure, message)) = export.result {
            messages.push(message);
            if first_error.is_none() {
                if let AccountFailure::Aws(e) = failure {
                    first_error = Some(e);
                }
            }
        }
    }
    if all_transient {
        if let Some(e) = first_error {
            return Err(e);
        }
    }
    let error = if accounts == 1 {
        messages.concat()
    } else {
        let more = accounts.saturating_sub(MAX_LISTED_ACCOUNTS);
        let more = if more > 0 {
            format!("; and {more} more accounts (in the log)")
        } else {
            String::new()
        };
        format!(
            "no account's findings imported ({findings} findings of {accounts} accounts): {}{more}",
            messages[..accounts.min(MAX_LISTED_ACCOUNTS)].join("; ")
        )
    };
    Ok((
        SecurityHubExport::Error {
            region: region.to_string(),
            error,
        },
        ImportOutcome::default(),
    ))
}

/// The error of an account's failure: a member's names its account (AssumeRole's already do;
/// the scanner's own account's reads as it always did).
fn failure_message(roles: &MemberRoles, account_id: &str, failure: &AccountFailure) -> String {
    match failure {
        AccountFailure::NoRole(message) => message.clone(),
        AccountFailure::Aws(e @ AwsError::AssumeRole { .. }) => e.to_string(),
        AccountFailure::Aws(e) if roles.is_own(account_id) => e.to_string(),
        AccountFailure::Aws(e) => format!("account {account_id}: {e}"),
    }
}

fn failure_code(failure: &AccountFailure) -> String {
    match failure {
        AccountFailure::NoRole(_) => "NoMemberRole".into(),
        AccountFailure::Aws(
            AwsError::Call { failure, .. } | AwsError::AssumeRole { failure, .. },
        ) => failure.code.clone(),
        AccountFailure::Aws(AwsError::Api { code, .. }) => code.clone(),
        AccountFailure::Aws(_) => "Error".into(),
    }
}

/// Records to write: every current record, and the resolved ones whose closing reached
/// Security Hub (the others stay active, so the next run closes them again).
pub fn records_to_write<'a>(
    reconciliation: &'a Reconciliation,
    hub: &SecurityHubExport,
    outcome: &ImportOutcome,
) -> Vec<&'a FindingRecord> {
    let failed: BTreeSet<&str> = outcome.failed_ids();
    let hub_missed = |r: &FindingRecord| match hub {
        SecurityHubExport::Disabled => false,
        SecurityHubExport::Error { .. } => true,
        SecurityHubExport::Exported { .. } => failed.contains(r.finding_id.as_str()),
    };
    reconciliation
        .current
        .iter()
        .chain(reconciliation.resolved.iter().filter(|r| !hub_missed(r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use compliance_core::lifecycle::LifecycleStatus;
    use compliance_core::model::ResourceType;
    use compliance_core::{Service, Severity};

    fn record(id: &str, status: LifecycleStatus) -> FindingRecord {
        FindingRecord {
            finding_id: id.into(),
            account_id: "123456789012".into(),
            rule_id: "ec2_sg_open_ssh".into(),
            title: "t".into(),
            severity: Severity::High,
            service: Service::Ec2,
            resource_type: ResourceType::AwsEc2SecurityGroup,
            resource_id: id.into(),
            resource_arn: id.into(),
            region: "eu-west-1".into(),
            status,
            first_seen_at: "2026-11-01T00:00:00Z".into(),
            last_seen_at: "2026-11-02T00:00:00Z".into(),
            first_run_id: "r1".into(),
            last_run_id: "r2".into(),
            resolved_at: None,
            resolved_run_id: None,
            times_reopened: 0,
            expires_at: None,
        }
    }

    fn written(
        reconciliation: &Reconciliation,
        hub: &SecurityHubExport,
        outcome: &ImportOutcome,
    ) -> Vec<String> {
        records_to_write(reconciliation, hub, outcome)
            .iter()
            .map(|r| r.finding_id.clone())
            .collect()
    }

    #[test]
    fn a_resolution_security_hub_did_not_take_stays_active_for_the_next_run() {
        let reconciliation = Reconciliation {
            current: vec![record("open", LifecycleStatus::Open)],
            resolved: vec![
                record("fixed", LifecycleStatus::Resolved),
                record("refused", LifecycleStatus::Resolved),
            ],
            unconfirmed: 0,
        };
        let refused = ImportOutcome {
            imported: 2,
            failed: vec![FailedImport {
                id: "refused".into(),
                code: "InternalFailure".into(),
                message: String::new(),
            }],
        };
        let exported = SecurityHubExport::Exported {
            region: "us-east-1".into(),
            imported: 2,
            failed_count: 1,
            failed: refused.failed.clone(),
        };
        assert_eq!(
            written(&reconciliation, &exported, &refused),
            ["open", "fixed"]
        );
        let down = SecurityHubExport::Error {
            region: "us-east-1".into(),
            error: "InvalidAccessException".into(),
        };
        assert_eq!(
            written(&reconciliation, &down, &ImportOutcome::default()),
            ["open"]
        );
        assert_eq!(
            written(
                &reconciliation,
                &SecurityHubExport::Disabled,
                &ImportOutcome::default()
            ),
            ["open", "fixed", "refused"]
        );
    }
}
