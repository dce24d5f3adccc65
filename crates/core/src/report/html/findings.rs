//! The findings table with its filter panel, and the table of resolved findings.
//!
//! Each row carries what the filter compares in `data-*` attributes (escaped like every other
//! value); the static script in `assets.rs` hides the rows that do not match.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{escape, severity_badge};
use crate::finding::{ComplianceRefs, FindingStatus, Severity};
use crate::report::document::{ReportFinding, ResolvedEntry};

const NO_LIFECYCLE: &str = "none";

/// The findings table; `by_account` (a run of several accounts) adds the account column and
/// filter.
pub(super) fn findings_section(findings: &[ReportFinding], by_account: bool) -> String {
    if findings.is_empty() {
        return "<p class=\"empty\">No findings: every evaluated check passed.</p>\n".into();
    }
    let mut rows: Vec<&ReportFinding> = findings.iter().collect();
    rows.sort_by(|a, b| {
        let (a, b) = (&a.finding, &b.finding);
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.resource_arn.cmp(&b.resource_arn))
    });
    let mut out = filters(findings, by_account);
    let total = findings.len();
    let _ = writeln!(
        out,
        "<p id=\"findings-count\" role=\"status\" aria-live=\"polite\">{total} of {total} findings shown</p>"
    );
    out.push_str(
        "<table id=\"findings\" class=\"findings\" aria-labelledby=\"h-findings\">\n<thead><tr>\
         <th scope=\"col\">Severity</th><th scope=\"col\">Rule</th><th scope=\"col\">Title</th>\
         <th scope=\"col\">Resource</th><th scope=\"col\">Region</th>",
    );
    if by_account {
        out.push_str("<th scope=\"col\">Account</th>");
    }
    out.push_str(
        "<th scope=\"col\">Service</th><th scope=\"col\">Lifecycle</th>\
         <th scope=\"col\">First seen</th><th scope=\"col\">Controls</th></tr></thead>\n<tbody>\n",
    );
    for row in rows {
        out.push_str(&finding_row(row, by_account));
    }
    out.push_str("</tbody></table>\n<p id=\"findings-none\" class=\"empty\" hidden>No finding matches the filter.</p>\n");
    out
}

/// The filter panel; hidden until the script shows it (without the script it would do nothing).
fn filters(findings: &[ReportFinding], by_account: bool) -> String {
    let severities: BTreeSet<Severity> = findings.iter().map(|f| f.finding.severity).collect();
    let severities: Vec<String> = Severity::ALL_DESCENDING
        .iter()
        .filter(|s| severities.contains(s))
        .map(|s| s.as_str().to_string())
        .collect();
    let distinct = |key: fn(&ReportFinding) -> String| -> Vec<String> {
        let set: BTreeSet<String> = findings.iter().map(key).collect();
        set.into_iter().collect()
    };
    let regions = distinct(|f| f.finding.region.clone());
    let services = distinct(|f| f.finding.service.to_string());
    let lifecycles = distinct(lifecycle_key);
    let mut out = String::from(
        "<div id=\"filters\" class=\"filters\" role=\"search\" aria-label=\"Filter the findings\" hidden>\n\
         <label for=\"filter-q\">Text<input id=\"filter-q\" type=\"search\" autocomplete=\"off\" \
         placeholder=\"resource, rule, tag, control…\"></label>\n",
    );
    let labelled = |values: Vec<String>| -> Vec<(String, String)> {
        values.into_iter().map(|v| (v.clone(), v)).collect()
    };
    let mut selects = vec![
        ("severity", "Severity", labelled(severities)),
        ("region", "Region", labelled(regions)),
        ("service", "Service", labelled(services)),
        ("lifecycle", "Lifecycle", labelled(lifecycles)),
    ];
    if by_account {
        selects.push(("account", "Account", account_options(findings)));
    }
    for (name, label, options) in selects {
        let _ = write!(
            out,
            "<label for=\"filter-{name}\">{label}<select id=\"filter-{name}\"><option value=\"\">All</option>"
        );
        for (value, text) in options {
            let _ = write!(
                out,
                "<option value=\"{}\">{}</option>",
                escape(&value),
                escape(&text)
            );
        }
        out.push_str("</select></label>\n");
    }
    out.push_str("<button type=\"button\" id=\"filter-reset\">Reset</button>\n</div>\n");
    out
}

/// The accounts that have findings, by id, each shown with its name when it has one.
fn account_options(findings: &[ReportFinding]) -> Vec<(String, String)> {
    let accounts: std::collections::BTreeMap<&str, Option<&str>> = findings
        .iter()
        .map(|f| (f.finding.account_id.as_str(), f.account_name.as_deref()))
        .collect();
    accounts
        .into_iter()
        .map(|(id, name)| {
            let text = name.map_or_else(|| id.to_string(), |n| format!("{id} · {n}"));
            (id.to_string(), text)
        })
        .collect()
}

fn lifecycle_key(f: &ReportFinding) -> String {
    f.lifecycle
        .as_ref()
        .map_or(NO_LIFECYCLE, |l| l.status.as_str())
        .to_string()
}

fn finding_row(row: &ReportFinding, by_account: bool) -> String {
    let f = &row.finding;
    let lifecycle = lifecycle_key(row);
    let mut out = String::new();
    let _ = write!(
        out,
        "<tr data-finding-id=\"{}\" data-severity=\"{}\" data-region=\"{}\" data-service=\"{}\" data-lifecycle=\"{}\" data-account=\"{}\">",
        escape(&f.id),
        f.severity.as_str(),
        escape(&f.region),
        escape(f.service.as_str()),
        escape(&lifecycle),
        escape(&f.account_id),
    );
    let _ = write!(out, "<td>{}</td>", severity_badge(f.severity));
    let _ = write!(out, "<td><code>{}</code>", escape(&f.rule_id));
    if let Some(url) = crate::rules::rule(&f.rule_id)
        .map(|r| r.remediation_url)
        .filter(|u| u.starts_with("https://"))
    {
        let _ = write!(
            out,
            "<br><a href=\"{}\" rel=\"noopener noreferrer\">documentation</a>",
            escape(url)
        );
    }
    out.push_str("</td>");
    let _ = write!(out, "<td>{}", escape(&f.title));
    if f.status == FindingStatus::Muted {
        out.push_str(" <span class=\"badge muted-flag\">muted</span>");
    }
    out.push_str(&finding_details(row));
    out.push_str("</td>");
    let _ = write!(
        out,
        "<td><code class=\"arn\">{}</code><br><code class=\"arn muted\">{}</code></td>",
        escape(&f.resource_id),
        escape(&f.resource_arn)
    );
    let _ = write!(out, "<td class=\"nowrap\">{}</td>", escape(&f.region));
    if by_account {
        let _ = write!(out, "<td><code>{}</code>", escape(&f.account_id));
        if let Some(name) = &row.account_name {
            let _ = write!(out, "<br>{}", escape(name));
        }
        out.push_str("</td>");
    }
    let _ = write!(out, "<td>{}</td>", escape(f.service.as_str()));
    match &row.lifecycle {
        Some(l) => {
            let _ = write!(
                out,
                "<td><span class=\"badge lc {0}\">{0}</span>",
                escape(l.status.as_str())
            );
            if l.times_reopened > 0 {
                let _ = write!(
                    out,
                    " <span class=\"muted\">reopened {}×</span>",
                    l.times_reopened
                );
            }
            let _ = write!(
                out,
                "</td><td class=\"nowrap\">{}</td>",
                escape(&l.first_seen_at)
            );
        }
        None => out.push_str("<td class=\"muted\">—</td><td class=\"muted\">—</td>"),
    }
    let _ = writeln!(out, "<td>{}</td></tr>", controls(&f.compliance));
    out
}

/// Everything else about a finding, folded away under its title.
fn finding_details(row: &ReportFinding) -> String {
    let f = &row.finding;
    let mut out = String::from("<details class=\"finding\"><summary>Details</summary><dl>");
    let mut item = |term: &str, html: String| {
        let _ = write!(out, "<dt>{term}</dt><dd>{html}</dd>");
    };
    item("Finding id", format!("<code>{}</code>", escape(&f.id)));
    item(
        "Account",
        match &row.account_name {
            Some(name) => format!("{} ({})", escape(&f.account_id), escape(name)),
            None => escape(&f.account_id),
        },
    );
    item("Resource type", escape(f.resource_type.as_str()));
    item("Status", escape(f.status.as_str()));
    if let Some(reason) = &f.muted_reason {
        item("Muted because", escape(reason));
    }
    if let Some(l) = &row.lifecycle {
        item("Last seen", escape(&l.last_seen_at));
    }
    if !f.resource_tags.is_empty() {
        let tags: Vec<String> = f
            .resource_tags
            .iter()
            .map(|(k, v)| {
                format!(
                    "<li><code>{}</code> = <code>{}</code></li>",
                    escape(k),
                    escape(v)
                )
            })
            .collect();
        item(
            "Tags",
            format!("<ul class=\"plain\">{}</ul>", tags.concat()),
        );
    }
    if !f.remediation.is_empty() {
        item("Remediation", escape(&f.remediation));
    }
    if let Some(runbook) = &f.runbook {
        item(
            "Runbook",
            format!("<code>{}</code>", escape(runbook.document_name())),
        );
    }
    if !f.evidence.is_null() {
        let evidence = serde_json::to_string_pretty(&f.evidence).unwrap_or_default();
        item("Evidence", format!("<pre>{}</pre>", escape(&evidence)));
    }
    out.push_str("</dl></details>");
    out
}

/// The controls a finding maps to, one line per framework that has any.
pub(super) fn controls(c: &ComplianceRefs) -> String {
    let lists = [
        (
            "FSBP",
            "AWS Foundational Security Best Practices",
            &c.aws_fsbp,
        ),
        (
            "CIS 5.0",
            "CIS AWS Foundations Benchmark v5.0.0",
            &c.cis_v5_0_0,
        ),
        (
            "CIS 3.0",
            "CIS AWS Foundations Benchmark v3.0.0",
            &c.cis_v3_0_0,
        ),
        (
            "CIS 1.4",
            "CIS AWS Foundations Benchmark v1.4.0",
            &c.cis_v1_4_0,
        ),
        ("PCI", "PCI DSS", &c.pci_dss),
        ("NIST", "NIST SP 800-53 Rev. 5", &c.nist_800_53_r5),
    ];
    let items: Vec<String> = lists
        .iter()
        .filter(|(_, _, ids)| !ids.is_empty())
        .map(|(short, long, ids)| {
            let ids: Vec<String> = ids.iter().map(|id| escape(id)).collect();
            format!(
                "<li><abbr title=\"{long}\">{short}</abbr> {}</li>",
                ids.join(", ")
            )
        })
        .collect();
    if items.is_empty() {
        "<span class=\"muted\">—</span>".into()
    } else {
        format!("<ul class=\"controls\">{}</ul>", items.concat())
    }
}

pub(super) fn resolved_section(resolved: &[ResolvedEntry], by_account: bool) -> String {
    if resolved.is_empty() {
        return "<p class=\"empty\">No finding was resolved by this run.</p>\n".into();
    }
    let mut out = String::from(
        "<table class=\"resolved\"><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Title</th>\
         <th scope=\"col\">Resource</th><th scope=\"col\">Region</th>",
    );
    if by_account {
        out.push_str("<th scope=\"col\">Account</th>");
    }
    out.push_str(
        "<th scope=\"col\">First seen</th><th scope=\"col\">Last seen</th></tr></thead>\n<tbody>\n",
    );
    let dash = |s: &str| {
        if s.is_empty() {
            "—".to_string()
        } else {
            escape(s)
        }
    };
    for r in resolved {
        let account = if by_account {
            format!("<td><code>{}</code></td>", dash(&r.account_id))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<tr data-finding-id=\"{}\"><td><code>{}</code></td><td>{}</td><td><code class=\"arn\">{}</code></td>\
             <td class=\"nowrap\">{}</td>{account}<td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td></tr>",
            escape(&r.id),
            escape(&r.rule_id),
            escape(&r.title),
            escape(&r.resource_arn),
            escape(&r.region),
            dash(&r.first_seen_at),
            dash(&r.last_seen_at),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}
