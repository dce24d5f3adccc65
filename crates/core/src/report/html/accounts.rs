//! The accounts of a run of several: one row per account, worst first, with its score, its
//! findings per severity and what could not be read; each row links to the findings table
//! filtered to that account (the `#account=` fragment the filter script reads).

use std::fmt::Write;

use super::{escape, plural};
use crate::finding::Severity;
use crate::report::accounts::ReportAccount;

pub(super) fn accounts_section(accounts: &[ReportAccount]) -> String {
    let partial = accounts.iter().filter(|a| !a.complete()).count();
    let mut out = format!(
        "<p>{} account{}, worst first (failed units, then the lowest score, then the most severe findings).",
        accounts.len(),
        plural(accounts.len())
    );
    if partial > 0 {
        let _ = write!(
            out,
            " <strong>{partial} could not be read in full</strong>: their findings are a lower bound."
        );
    }
    out.push_str("</p>\n");
    out.push_str(
        "<table id=\"accounts\" class=\"accounts\" aria-labelledby=\"h-accounts\">\n<thead><tr>\
         <th scope=\"col\">Account</th><th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Score</th>",
    );
    for severity in Severity::ALL_DESCENDING {
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"num\">{}</th>",
            severity_header(severity)
        );
    }
    out.push_str(
        "<th scope=\"col\" class=\"num\">Muted</th><th scope=\"col\" class=\"num\">Failed units</th>\
         <th scope=\"col\" class=\"num\">Errors</th><th scope=\"col\">Findings</th></tr></thead>\n<tbody>\n",
    );
    for account in accounts {
        out.push_str(&account_row(account));
    }
    out.push_str("</tbody></table>\n");
    out
}

fn severity_header(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Informational => "Info",
    }
}

fn account_row(a: &ReportAccount) -> String {
    let id = escape(&a.account_id);
    let mut out = format!("<tr data-account=\"{id}\"><td><code>{id}</code>");
    if !a.complete() {
        out.push_str(" <span class=\"badge fail\">partial</span>");
    }
    out.push_str("</td>");
    match &a.name {
        Some(name) => {
            let _ = write!(out, "<td>{}</td>", escape(name));
        }
        None => out.push_str("<td class=\"muted\">—</td>"),
    }
    let score = a
        .compliance_score
        .filter(|v| v.is_finite())
        .map_or_else(|| "—".to_string(), |v| format!("{v:.1}%"));
    let _ = write!(out, "<td class=\"num\">{score}</td>");
    for severity in Severity::ALL_DESCENDING {
        let _ = write!(
            out,
            "<td class=\"num\">{}</td>",
            a.findings_by_severity.get(severity)
        );
    }
    let findings = a.findings_by_severity.total() + a.muted_findings;
    let link = if findings == 0 {
        "<span class=\"muted\">none</span>".to_string()
    } else {
        format!(
            "<a href=\"#account={}\">show {findings}</a>",
            escape(&fragment_value(&a.account_id))
        )
    };
    let _ = writeln!(
        out,
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{link}</td></tr>",
        a.muted_findings, a.failed_units, a.errors
    );
    out
}

/// A value for the URL fragment (`application/x-www-form-urlencoded`, as `URLSearchParams`
/// reads it): everything but unreserved characters percent-encoded.
fn fragment_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fragment_value;

    #[test]
    fn fragment_values_are_percent_encoded() {
        assert_eq!(fragment_value("111122223333"), "111122223333");
        assert_eq!(fragment_value("a&b=c d"), "a%26b%3Dc%20d");
        assert_eq!(fragment_value("é"), "%C3%A9");
    }
}
