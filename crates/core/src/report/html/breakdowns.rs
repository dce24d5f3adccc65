//! Findings by severity, region, service and rule: small tables with SVG bars.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{escape, severity_badge};
use crate::finding::{Severity, SeverityCounts};
use crate::report::RunReport;

/// A horizontal bar, `value` of `max`, drawn in SVG (no style attribute needed).
fn bar(value: usize, max: usize, class: &str) -> String {
    let width = if max == 0 {
        0.0
    } else {
        value as f64 * 100.0 / max as f64
    };
    format!(
        "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\">\
         <rect class=\"track\" width=\"100\" height=\"10\"/><rect class=\"fill {class}\" width=\"{width:.1}\" height=\"10\"/></svg>"
    )
}

/// One breakdown table: label (HTML), count, bar.
fn breakdown(
    id: &str,
    title: &str,
    label_header: &str,
    rows: &[(String, usize, String)],
) -> String {
    let mut out = format!(
        "<div><h3 id=\"h-by-{id}\">{title}</h3>\n<table class=\"breakdown\" id=\"by-{id}\" aria-labelledby=\"h-by-{id}\">\
         <thead><tr><th scope=\"col\">{label_header}</th><th scope=\"col\" class=\"num\">Findings</th>\
         <th scope=\"col\"><span class=\"skip\">Share</span></th></tr></thead>\n<tbody>\n"
    );
    if rows.is_empty() {
        out.push_str("<tr><td colspan=\"3\" class=\"empty\">No findings.</td></tr>\n");
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    for (label, count, class) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{label}</td><td class=\"num\">{count}</td><td class=\"barcell\">{}</td></tr>",
            bar(*count, max, class)
        );
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// Counts sorted by count (descending), then by key.
fn by_count(map: &BTreeMap<String, usize>) -> Vec<(&String, usize)> {
    let mut rows: Vec<(&String, usize)> = map.iter().map(|(k, v)| (k, *v)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    rows
}

pub(super) fn breakdowns(report: &RunReport) -> String {
    let t = &report.totals;
    let severity_rows = severity_rows(&t.by_severity);
    let plain = |map| -> Vec<(String, usize, String)> {
        by_count(map)
            .into_iter()
            .map(|(k, n)| (escape(k), n, String::new()))
            .collect()
    };
    let rule_rows: Vec<(String, usize, String)> = by_count(&t.by_rule)
        .into_iter()
        .map(|(id, n)| {
            let title = crate::rules::rule(id)
                .map(|r| format!("<br><span class=\"muted\">{}</span>", escape(r.title)))
                .unwrap_or_default();
            (
                format!("<code>{}</code>{title}", escape(id)),
                n,
                String::new(),
            )
        })
        .collect();
    let mut out = String::from(
        "<p class=\"muted\">Unmuted findings of this run.</p>\n<div class=\"grid\">\n",
    );
    out.push_str(&breakdown(
        "severity",
        "Severity",
        "Severity",
        &severity_rows,
    ));
    out.push_str(&breakdown(
        "region",
        "Region",
        "Region",
        &plain(&t.by_region),
    ));
    out.push_str(&breakdown(
        "service",
        "Service",
        "Service",
        &plain(&t.by_service),
    ));
    out.push_str("</div>\n");
    out.push_str(&breakdown("rule", "Rule", "Rule", &rule_rows));
    out
}

fn severity_rows(counts: &SeverityCounts) -> Vec<(String, usize, String)> {
    Severity::ALL_DESCENDING
        .iter()
        .map(|s| {
            (
                severity_badge(*s),
                counts.get(*s),
                s.as_str().to_ascii_lowercase(),
            )
        })
        .collect()
}
