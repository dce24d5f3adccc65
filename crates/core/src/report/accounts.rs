//! The account dimension of a report: each account's numbers (worst accounts first), the names
//! AWS Organizations gave them, and one account's part of a run (`compliance report --account`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::finding::SeverityCounts;
use crate::run::{AccountSummary, RunDocument};

/// Accounts listed by name in an unknown-account error; the rest are counted.
const MAX_LISTED_ACCOUNTS: usize = 50;

/// One account's part of a run, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportAccount {
    pub account_id: String,
    /// The name AWS Organizations knows the account by; null when the run did not list the
    /// organization.
    pub name: Option<String>,
    /// `checks_passed / checks_evaluated` in percent; null when nothing was evaluated.
    pub compliance_score: Option<f64>,
    pub resources_scanned: usize,
    pub checks_evaluated: usize,
    pub checks_passed: usize,
    /// Unmuted findings per severity.
    pub findings_by_severity: SeverityCounts,
    pub muted_findings: usize,
    /// Units that ran (one per region and service; 0 for a CLI scan, which has no units).
    pub units: usize,
    /// Units that failed for good: the account's findings are then a lower bound.
    pub failed_units: usize,
    /// API calls that failed.
    pub errors: usize,
}

impl ReportAccount {
    pub fn from_summary(a: &AccountSummary) -> Self {
        let s = &a.summary;
        ReportAccount {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            compliance_score: s.compliance_score,
            resources_scanned: s.resources_scanned,
            checks_evaluated: s.checks_evaluated,
            checks_passed: s.checks_passed,
            findings_by_severity: s.findings_by_severity,
            muted_findings: s.muted_findings,
            units: a.units,
            failed_units: a.failed_units,
            errors: a.errors,
        }
    }

    /// The name when Organizations gave one, else the account id (OCSF needs a name).
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.account_id)
    }

    /// Whether everything planned for the account was read.
    pub fn complete(&self) -> bool {
        self.failed_units == 0 && self.errors == 0
    }
}

/// The accounts of a run, worst first. A run document written before accounts were planned
/// has none: its own account, with the run's numbers, is then the only one.
pub fn run_accounts(run: &RunDocument) -> Vec<AccountSummary> {
    if !run.accounts.is_empty() {
        return run.accounts.clone();
    }
    vec![AccountSummary {
        account_id: run.account_id.clone(),
        name: None,
        summary: run.summary.clone(),
        units: run.units.len(),
        failed_units: run.failed_units.len(),
        errors: run.errors.len(),
    }]
}

/// Account names by account id, for the accounts that have one.
pub fn names_by_id(accounts: &[ReportAccount]) -> HashMap<&str, &str> {
    accounts
        .iter()
        .filter_map(|a| Some((a.account_id.as_str(), a.name.as_deref()?)))
        .collect()
}

/// One account's part of a run: its findings, units, errors and failed units, with its own
/// summary in place of the run's. An account the run did not scan is an error that names it
/// and lists the run's accounts.
pub fn account_view(run: &RunDocument, account_id: &str) -> Result<RunDocument, CoreError> {
    let accounts = run_accounts(run);
    let Some(account) = accounts.iter().find(|a| a.account_id == account_id) else {
        return Err(unknown_account(run, account_id, &accounts));
    };
    // Documents written before accounts were planned left the account of units, errors and
    // failed units empty: they are all the run's own account's.
    let of_account = |id: &str| id == account_id || (id.is_empty() && account_id == run.account_id);
    let failed_units: Vec<_> = run
        .failed_units
        .iter()
        .filter(|u| of_account(&u.account_id))
        .cloned()
        .collect();
    let errors: Vec<_> = run
        .errors
        .iter()
        .filter(|e| of_account(&e.account_id))
        .cloned()
        .collect();
    Ok(RunDocument {
        schema_version: run.schema_version,
        run_id: run.run_id.clone(),
        account_id: run.account_id.clone(),
        trigger: run.trigger.clone(),
        created_at: run.created_at.clone(),
        units: run
            .units
            .iter()
            .filter(|u| of_account(&u.account_id))
            .cloned()
            .collect(),
        complete: failed_units.is_empty() && errors.is_empty(),
        failed_units,
        summary: account.summary.clone(),
        accounts: vec![account.clone()],
        findings: run
            .findings
            .iter()
            .filter(|f| f.account_id == account_id)
            .cloned()
            .collect(),
        errors,
        rule_parameters: run.rule_parameters.clone(),
    })
}

fn unknown_account(run: &RunDocument, account_id: &str, accounts: &[AccountSummary]) -> CoreError {
    let mut listed: Vec<String> = accounts
        .iter()
        .take(MAX_LISTED_ACCOUNTS)
        .map(|a| match &a.name {
            Some(name) => format!("{} ({name})", a.account_id),
            None => a.account_id.clone(),
        })
        .collect();
    if accounts.len() > MAX_LISTED_ACCOUNTS {
        listed.push(format!("and {} more", accounts.len() - MAX_LISTED_ACCOUNTS));
    }
    CoreError::InvalidParameter {
        parameter: "account".into(),
        reason: format!(
            "run {} did not scan account {account_id}; its accounts: {}",
            run.run_id,
            listed.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{self, PROD, PROD_NAME, UNNAMED};

    #[test]
    fn one_accounts_view_has_only_its_findings_units_errors_and_numbers() {
        let run = fixtures::two_accounts_run();
        let prod = account_view(&run, PROD).unwrap();
        assert_eq!(prod.findings.len(), 2);
        assert!(prod.findings.iter().all(|f| f.account_id == PROD));
        assert_eq!(prod.units.len(), 2);
        assert!(prod.errors.is_empty() && prod.failed_units.is_empty());
        assert!(
            prod.complete,
            "the other account's failure is not this one's"
        );
        assert_eq!(prod.summary.compliance_score, Some(80.0));
        assert_eq!(prod.accounts.len(), 1);
        assert_eq!(prod.accounts[0].name.as_deref(), Some(PROD_NAME));
        assert_eq!(prod.run_id, run.run_id);

        let unnamed = account_view(&run, UNNAMED).unwrap();
        assert_eq!(unnamed.findings.len(), 1);
        assert_eq!((unnamed.errors.len(), unnamed.failed_units.len()), (1, 1));
        assert!(!unnamed.complete);
        assert_eq!(unnamed.summary.compliance_score, Some(75.0));
    }

    #[test]
    fn an_account_the_run_did_not_scan_is_named_with_the_runs_accounts() {
        let run = fixtures::two_accounts_run();
        let err = account_view(&run, "333333333333").unwrap_err().to_string();
        assert!(err.contains("did not scan account 333333333333"), "{err}");
        assert!(err.contains(fixtures::RUN), "{err}");
        assert!(
            err.ends_with(&format!("its accounts: {UNNAMED}, {PROD} ({PROD_NAME})")),
            "{err}"
        );

        let mut many = run.clone();
        many.accounts = (0..MAX_LISTED_ACCOUNTS + 3)
            .map(|i| AccountSummary {
                account_id: format!("{i:012}"),
                ..run.accounts[1].clone()
            })
            .collect();
        let err = account_view(&many, "333333333333").unwrap_err().to_string();
        assert!(err.ends_with(", and 3 more"), "{err}");
    }

    #[test]
    fn a_run_without_accounts_is_its_own_accounts() {
        let mut run = fixtures::two_accounts_run();
        run.accounts.clear();
        // Before accounts were planned, units and failures named none.
        run.units.iter_mut().for_each(|u| u.account_id.clear());
        run.failed_units
            .iter_mut()
            .for_each(|u| u.account_id.clear());
        run.errors.iter_mut().for_each(|e| e.account_id.clear());
        let own = account_view(&run, PROD).unwrap();
        assert_eq!(own.summary, run.summary);
        assert_eq!(
            (own.units.len(), own.failed_units.len(), own.errors.len()),
            (3, 1, 1)
        );
        assert!(account_view(&run, UNNAMED).is_err());
    }

    #[test]
    fn display_names_fall_back_to_the_id() {
        let run = fixtures::two_accounts_run();
        let accounts: Vec<ReportAccount> = run
            .accounts
            .iter()
            .map(ReportAccount::from_summary)
            .collect();
        assert_eq!(accounts[0].display_name(), UNNAMED);
        assert_eq!(accounts[1].display_name(), PROD_NAME);
        assert!(!accounts[0].complete() && accounts[1].complete());
        let names = names_by_id(&accounts);
        assert_eq!(names.get(PROD), Some(&PROD_NAME));
        assert!(!names.contains_key(UNNAMED));
    }
}
