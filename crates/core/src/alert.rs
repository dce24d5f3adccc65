//! Alert messages a person can act on: SNS subjects (ASCII, under 100 characters) and bodies.

use std::fmt::Write;

use crate::analysis::Analysis;
use crate::finding::{FindingStatus, Severity};
use crate::run::RunDocument;

/// Findings listed in an alert body; the report has the rest.
pub const TOP_FINDINGS: usize = 10;
/// Accounts of an organization run listed in an alert body, worst first.
pub const WORST_ACCOUNTS: usize = 5;
const SUBJECT_MAX: usize = 99;

pub struct AlertMessage {
    pub subject: String,
    pub body: String,
    /// The most severe unmuted finding, for subscribers' filter policies.
    pub severity: Option<Severity>,
}

/// SNS subjects must be printable ASCII without line breaks, under 100 characters.
fn subject(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    clean.chars().take(SUBJECT_MAX).collect()
}

/// A value from AWS or a failed state in the body: control characters shown as escapes
/// (`\n`, `\u{1b}`), so that a resource name cannot forge a line of the alert (a second
/// "Full report:") or drive the reader's terminal.
fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn findings_alert(
    run: &RunDocument,
    analysis: Option<&Analysis>,
    report_location: &str,
) -> AlertMessage {
    let s = &run.summary;
    let c = &s.findings_by_severity;
    let score = s
        .compliance_score
        .map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"));
    let severity = Severity::ALL_DESCENDING
        .into_iter()
        .find(|sev| c.get(*sev) > 0);
    // An organization run names its accounts; a run of one account reads as it always did.
    let accounts = run.accounts.len();
    let organization = accounts > 1;
    let mut body = String::new();
    if organization {
        let _ = writeln!(
            body,
            "Compliance scan {} of {accounts} accounts (scanner account {})",
            shown(&run.run_id),
            shown(&run.account_id)
        );
    } else {
        let _ = writeln!(
            body,
            "Compliance scan {} of account {}",
            shown(&run.run_id),
            shown(&run.account_id)
        );
    }
    let _ = writeln!(
        body,
        "Score {score}: {} of {} checks passed on {} resources.",
        s.checks_passed, s.checks_evaluated, s.resources_scanned
    );
    let _ = writeln!(
        body,
        "Findings: {} critical, {} high, {} medium, {} low, {} informational ({} muted).",
        c.critical, c.high, c.medium, c.low, c.informational, s.muted_findings
    );
    if let Some(a) = analysis {
        let _ = writeln!(body, "Why this alert: {}.", shown(&a.reason));
        let _ = writeln!(
            body,
            "Since the previous run{}: {} new, {} still open, {} resolved.",
            a.previous_run_id
                .as_deref()
                .map(|p| format!(" ({})", shown(p)))
                .unwrap_or_default(),
            a.new.len(),
            a.still_open,
            a.resolved.len()
        );
    }
    if !run.complete {
        let _ = writeln!(
            body,
            "PARTIAL RUN: {} scan units failed and {} API calls could not be read; findings are a lower bound.",
            run.failed_units.len(),
            run.errors.len()
        );
        let unreached: Vec<String> = run
            .accounts
            .iter()
            .filter(|a| a.units == 0 && a.failed_units > 0)
            .map(|a| shown(&a.account_id))
            .collect();
        if organization && !unreached.is_empty() {
            let _ = writeln!(
                body,
                "Accounts not reached: {}{}.",
                unreached[..unreached.len().min(WORST_ACCOUNTS)].join(", "),
                more(unreached.len(), WORST_ACCOUNTS)
            );
        }
    }
    if organization {
        let _ = writeln!(body, "\nWorst accounts:");
        for a in run.accounts.iter().take(WORST_ACCOUNTS) {
            let c = &a.summary.findings_by_severity;
            let _ = writeln!(
                body,
                "- {}{}: score {}, {} critical, {} high{}",
                shown(&a.account_id),
                a.name
                    .as_deref()
                    .map(|n| format!(" ({})", shown(n)))
                    .unwrap_or_default(),
                a.summary
                    .compliance_score
                    .map_or_else(|| "n/a".into(), |v| format!("{v:.1}%")),
                c.critical,
                c.high,
                if a.failed_units > 0 {
                    format!(", {} scan units failed", a.failed_units)
                } else {
                    String::new()
                }
            );
        }
        if accounts > WORST_ACCOUNTS {
            let _ = writeln!(
                body,
                "{}",
                more(accounts, WORST_ACCOUNTS).trim_start_matches(", ")
            );
        }
    }
    let new: std::collections::BTreeSet<&str> = analysis
        .map(|a| a.new.iter().map(String::as_str).collect())
        .unwrap_or_default();
    // The document lists findings account by account: the most severe of the whole run first
    // (a stable sort, so one account's order is the document's).
    let mut top: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail && f.severity >= Severity::High)
        .collect();
    top.sort_by_key(|f| std::cmp::Reverse(f.severity));
    top.truncate(TOP_FINDINGS);
    if !top.is_empty() {
        let _ = writeln!(body, "\nMost severe findings:");
        for f in top {
            let marker = if new.contains(f.id.as_str()) {
                " [NEW]"
            } else {
                ""
            };
            let place = if organization {
                format!("{}, account {}", shown(&f.region), shown(&f.account_id))
            } else {
                shown(&f.region)
            };
            let _ = writeln!(
                body,
                "- {} {} {} ({place}){marker}: {}",
                f.severity,
                shown(&f.rule_id),
                shown(&f.resource_arn),
                shown(&f.title)
            );
        }
    }
    let _ = writeln!(body, "\nFull report: {}", shown(report_location));
    let scope = if organization {
        format!("{accounts} accounts")
    } else {
        run.account_id.clone()
    };
    AlertMessage {
        subject: subject(&format!(
            "[compliance] score {score}: {} critical, {} high findings in {scope}",
            c.critical, c.high
        )),
        body,
        severity,
    }
}

/// ", and N more" when `total` is over `listed`.
fn more(total: usize, listed: usize) -> String {
    if total > listed {
        format!(", and {} more", total - listed)
    } else {
        String::new()
    }
}

pub fn failure_alert(run_id: &str, error: &str, cause: &str) -> AlertMessage {
    let (run_id, error, cause) = (shown(run_id), shown(error), shown(cause));
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Compliance scan {run_id} failed and produced no report."
    );
    let _ = writeln!(body, "Error: {error}");
    if !cause.is_empty() {
        let _ = writeln!(body, "Cause: {cause}");
    }
    let _ = writeln!(
        body,
        "\nThe execution history of {run_id} in Step Functions shows the failing state."
    );
    AlertMessage {
        subject: subject(&format!("[compliance] scan {run_id} FAILED: {error}")),
        body,
        severity: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An organization run's alert names its accounts: how many, the worst ones, the ones not
    /// reached, and each top finding's account, most severe of the whole run first.
    #[test]
    fn an_organization_alert_names_its_accounts() {
        use crate::run::FailedUnit;
        use crate::testing::{account_ec2_unit, ec2_unit, run_document, ACCOUNT_ID};
        let run = run_document(
            "r1",
            vec![
                ec2_unit("r1", "eu-west-1", &[("sg-web", &[443])]),
                account_ec2_unit("222222222222", "r1", "eu-west-1", &[("sg-db", &[22, 3389])]),
            ],
            vec![FailedUnit {
                account_id: "333333333333".into(),
                region: "eu-west-1".into(),
                service: "ec2".into(),
                error: "ComplianceScanner.AwsError".into(),
                cause: String::new(),
            }],
        );
        let m = findings_alert(&run, None, "s3://reports/runs/r1/run.json");
        assert!(m.subject.ends_with("in 3 accounts"), "{}", m.subject);
        assert!(
            m.body.starts_with(&format!(
                "Compliance scan r1 of 3 accounts (scanner account {ACCOUNT_ID})"
            )),
            "{}",
            m.body
        );
        assert!(
            m.body.contains("Accounts not reached: 333333333333."),
            "{}",
            m.body
        );
        assert!(m.body.contains("\nWorst accounts:\n- 333333333333: score n/a, 0 critical, 0 high, 1 scan units failed\n"), "{}", m.body);
        let top: Vec<&str> = m
            .body
            .lines()
            .skip_while(|l| *l != "Most severe findings:")
            .skip(1)
            .take_while(|l| l.starts_with("- "))
            .collect();
        assert!(!top.is_empty());
        assert!(
            top.iter()
                .all(|l| l.contains("(eu-west-1, account 222222222222)")),
            "the member's open SSH and RDP are the run's most severe: {top:?}"
        );

        // One account: the message reads as before.
        let single = run_document(
            "r2",
            vec![ec2_unit("r2", "eu-west-1", &[("sg-db", &[22])])],
            vec![],
        );
        let m = findings_alert(&single, None, "s3://reports/runs/r2/run.json");
        assert!(
            m.subject.ends_with(&format!("in {ACCOUNT_ID}")),
            "{}",
            m.subject
        );
        assert!(m
            .body
            .starts_with(&format!("Compliance scan r2 of account {ACCOUNT_ID}\n")));
        assert!(!m.body.contains("Worst accounts") && !m.body.contains(", account "));
        assert!(m.body.contains("(eu-west-1): "), "{}", m.body);
    }

    #[test]
    fn subjects_are_short_ascii() {
        let m = failure_alert(&"r".repeat(80), "Lambda.ServiceException — bad", "");
        assert!(
            m.subject.len() < 100 && m.subject.is_ascii() && !m.subject.contains('\n'),
            "{}",
            m.subject
        );
    }
}
