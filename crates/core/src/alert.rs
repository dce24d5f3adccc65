//! Alert messages a person can act on: SNS subjects (ASCII, under 100 characters) and bodies.

use std::fmt::Write;

use crate::analysis::Analysis;
use crate::finding::{FindingStatus, Severity};
use crate::run::RunDocument;

/// Findings listed in an alert body; the report has the rest.
pub const TOP_FINDINGS: usize = 10;
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
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Compliance scan {} of account {}",
        run.run_id, run.account_id
    );
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
        let _ = writeln!(body, "Why this alert: {}.", a.reason);
        let _ = writeln!(
            body,
            "Since the previous run{}: {} new, {} still open, {} resolved.",
            a.previous_run_id
                .as_deref()
                .map(|p| format!(" ({p})"))
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
    }
    let new: std::collections::BTreeSet<&str> = analysis
        .map(|a| a.new.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let top: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail && f.severity >= Severity::High)
        .take(TOP_FINDINGS)
        .collect();
    if !top.is_empty() {
        let _ = writeln!(body, "\nMost severe findings:");
        for f in top {
            let marker = if new.contains(f.id.as_str()) {
                " [NEW]"
            } else {
                ""
            };
            let _ = writeln!(
                body,
                "- {} {} {} ({}){marker}: {}",
                f.severity, f.rule_id, f.resource_arn, f.region, f.title
            );
        }
    }
    let _ = writeln!(body, "\nFull report: {report_location}");
    AlertMessage {
        subject: subject(&format!(
            "[compliance] score {score}: {} critical, {} high findings in {}",
            c.critical, c.high, run.account_id
        )),
        body,
        severity,
    }
}

pub fn failure_alert(run_id: &str, error: &str, cause: &str) -> AlertMessage {
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
