//! The human-readable table of `compliance scan`.

use std::fmt::Write;

use compliance_core::report::clip;
use compliance_core::{ScanReport, Severity};

fn colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Informational => "\x1b[2m",
    }
}

/// The resource id, with its `Name` tag when it has one (security group ids alone say little).
fn display_name(f: &compliance_core::Finding) -> String {
    match f.resource_tags.get("Name") {
        Some(name) if !name.is_empty() && name != &f.resource_id => {
            format!("{} ({name})", f.resource_id)
        }
        _ => f.resource_id.clone(),
    }
}

pub fn table(report: &ScanReport, ansi: bool) -> String {
    let mut out = String::new();
    // Several accounts: each finding and error says whose it is.
    let by_account = report.accounts.len() > 1;
    let mut headers = vec!["SEVERITY", "STATUS", "RULE", "REGION", "RESOURCE"];
    if by_account {
        headers.insert(0, "ACCOUNT");
    }
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            let mut row = vec![
                f.severity.to_string(),
                f.status.as_str().to_string(),
                f.rule_id.clone(),
                f.region.clone(),
                clip(&display_name(f), 60),
            ];
            if by_account {
                row.insert(0, f.account_id.clone());
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let headers: Vec<String> = headers.into_iter().map(str::to_string).collect();
    let _ = writeln!(out, "{}", line(&headers));
    for (row, finding) in rows.iter().zip(&report.findings) {
        let text = line(row);
        if ansi {
            let _ = writeln!(out, "{}{text}\x1b[0m", colour(finding.severity));
        } else {
            let _ = writeln!(out, "{text}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", summary_line(report));
    for e in &report.errors {
        let resource = e
            .resource
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let account = if by_account {
            format!("{} ", e.account_id)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  not scanned: {account}{} {} {}{resource}: {}: {}",
            e.region, e.service, e.api, e.code, e.message
        );
    }
    out
}

pub fn summary_line(report: &ScanReport) -> String {
    let s = &report.summary;
    let c = &s.findings_by_severity;
    let score = s
        .compliance_score
        .map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"));
    format!(
        "{} · {} resources · score {score} ({} of {} checks passed) · findings: {} critical, {} high, {} medium, {} low, {} informational, {} muted{}",
        if report.accounts.len() > 1 {
            format!("{} accounts", report.accounts.len())
        } else {
            format!("account {}", report.account_id)
        },
        s.resources_scanned,
        s.checks_passed,
        s.checks_evaluated,
        c.critical,
        c.high,
        c.medium,
        c.low,
        c.informational,
        s.muted_findings,
        if report.complete { String::new() } else { format!(" · INCOMPLETE: {} errors", report.errors.len()) }
    )
}
