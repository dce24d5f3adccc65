//! The Security Hub export: each account's findings go to that account's own Security Hub
//! (the default product takes only the account's own findings), the scanner's own account with
//! its own credentials, a member through its member role.

use std::collections::BTreeMap;

use compliance_aws::security_hub::{FailedImport, HubFor, ImportOutcome};
use compliance_aws::AwsError;
use compliance_core::contract::SecurityHubExport;
use compliance_core::report::asff::AsffFinding;
use futures::StreamExt;

use crate::lifecycle::ACCOUNTS_AT_ONCE;
use crate::members::MemberRoles;

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
        if let Err((failure, message)) = &export.result {
            // An account not reached is named once, by its id, with the reason; each of its
            // findings counts as not imported.
            let code = failure_code(failure);
            listed.push(FailedImport {
                id: export.account_id.clone(),
                code: code.clone(),
                message: message.clone(),
            });
            outcome
                .failed
                .extend(by_account[&export.account_id].iter().map(|f| FailedImport {
                    id: f.id.clone(),
                    code: code.clone(),
                    message: message.clone(),
                }));
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
