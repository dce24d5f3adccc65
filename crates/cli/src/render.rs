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
    let headers = ["SEVERITY", "STATUS", "RULE", "REGION", "RESOURCE"];
    let rows: Vec<[String; 5]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.severity.to_string(),
                f.status.as_str().to_string(),
                f.rule_id.clone(),
                f.region.clone(),
                clip(&display_name(f), 60),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 5]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let _ = writeln!(out, "{}", line(&headers.map(str::to_string)));
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
        let _ = writeln!(
            out,
            "  not scanned: {} {} {}{resource}: {}: {}",
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
        "account {} · {} resources · score {score} ({} of {} checks passed) · findings: {} critical, {} high, {} medium, {} low, {} informational, {} muted{}",
        report.account_id,
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
