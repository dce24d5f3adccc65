//! The HTML report: one self-contained page for people (and auditors) from a [`RunReport`].
//!
//! No external asset of any kind: the style sheet, the filter script and the charts (SVG) are
//! inline, and a Content-Security-Policy allows only that style sheet and that script, by hash.
//! Every value that comes from AWS or from configuration goes through [`escape`], in text and
//! in attributes alike; the script is static and reads the data from the DOM.
//!
//! The findings table can be filtered (free text, severity, region, service, lifecycle, and
//! account when the run covers several), also from the URL fragment:
//! `report.html#q=sg-123&severity=HIGH` opens that filtered view.
//!
//! A run of several accounts gets an Accounts section (worst first) and an Account column in
//! the findings, failed units and errors; a run of one account looks as it always did.

mod accounts;
mod assets;
mod breakdowns;
mod findings;
mod frameworks;
mod parameters;
mod trend;

use std::fmt::Write;

use crate::finding::Severity;
use crate::lifecycle::LifecycleCounts;
use crate::report::RunReport;

/// Escapes text for HTML element content and quoted attribute values: `& < > " '`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub fn render_html(report: &RunReport) -> String {
    let mut page = head(report);
    page.push_str("<body>\n<a class=\"skip\" href=\"#s-findings\">Skip to the findings</a>\n");
    page.push_str(&header(report));
    page.push_str("<main>\n");
    page.push_str(&section("score", "Compliance score", &score(report)));
    if report.is_multi_account() {
        page.push_str(&section(
            "accounts",
            "Accounts",
            &accounts::accounts_section(&report.accounts),
        ));
    }
    page.push_str(&section("run", "Run", &run_metadata(report)));
    page.push_str(&section(
        "parameters",
        "Rule parameters",
        &parameters::parameters_section(report),
    ));
    page.push_str(&section(
        "trend",
        "Trend",
        &trend::trend_section(&report.trend),
    ));
    if let Some(counts) = &report.lifecycle {
        page.push_str(&section("lifecycle", "Lifecycle", &lifecycle(counts)));
    }
    page.push_str(&section(
        "breakdown",
        "Findings by…",
        &breakdowns::breakdowns(report),
    ));
    page.push_str(&section(
        "frameworks",
        "Frameworks",
        &frameworks::frameworks(report),
    ));
    page.push_str(&section(
        "findings",
        "Findings",
        &findings::findings_section(&report.findings, report.is_multi_account()),
    ));
    if report.lifecycle.is_some() || !report.resolved.is_empty() {
        page.push_str(&section(
            "resolved",
            "Resolved by this run",
            &findings::resolved_section(&report.resolved, report.is_multi_account()),
        ));
    }
    page.push_str("</main>\n");
    page.push_str(&footer(report));
    let _ = write!(
        page,
        "<script>{}</script>\n</body>\n</html>\n",
        assets::SCRIPT
    );
    page
}

fn head(report: &RunReport) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"compliance-scanner {version}\">\n\
         <title>Compliance report · {account} · {run}</title>\n<style>{style}</style>\n</head>\n",
        csp = escape(&assets::content_security_policy()),
        version = escape(&report.scanner_version),
        account = if report.is_multi_account() {
            format!("{} accounts", report.accounts.len())
        } else {
            escape(&report.run.account_id)
        },
        run = escape(run_name(report)),
        style = assets::STYLE,
    )
}

fn run_name(report: &RunReport) -> &str {
    report.run.run_id.as_deref().unwrap_or("ad-hoc scan")
}

fn section(id: &str, title: &str, body: &str) -> String {
    format!(
        "<section id=\"s-{id}\" aria-labelledby=\"h-{id}\">\n<h2 id=\"h-{id}\">{title}</h2>\n{body}</section>\n"
    )
}

fn header(report: &RunReport) -> String {
    let mut out = String::from("<header class=\"page\">\n");
    let scope = if report.is_multi_account() {
        format!(
            "<strong>{} accounts</strong> (scanner account <code>{}</code>)",
            report.accounts.len(),
            escape(&report.run.account_id)
        )
    } else {
        let name = report
            .account_name(&report.run.account_id)
            .map(|n| format!(" ({})", escape(n)))
            .unwrap_or_default();
        format!(
            "Account <strong>{}</strong>{name}",
            escape(&report.run.account_id)
        )
    };
    let _ = writeln!(
        out,
        "<h1>Compliance report</h1>\n<p class=\"muted\">{scope} · {} · started {}</p>",
        escape(run_name(report)),
        escape(&report.run.started_at),
    );
    out.push_str("<nav class=\"toc\" aria-label=\"Sections\"><ul>");
    let mut links = vec![("score", "Score")];
    if report.is_multi_account() {
        links.push(("accounts", "Accounts"));
    }
    links.extend([("run", "Run"), ("trend", "Trend")]);
    if report.lifecycle.is_some() {
        links.push(("lifecycle", "Lifecycle"));
    }
    links.extend([
        ("breakdown", "Breakdown"),
        ("frameworks", "Frameworks"),
        ("findings", "Findings"),
    ]);
    if report.lifecycle.is_some() || !report.resolved.is_empty() {
        links.push(("resolved", "Resolved"));
    }
    for (id, label) in links {
        let _ = write!(out, "<li><a href=\"#s-{id}\">{label}</a></li>");
    }
    out.push_str("</ul></nav>\n</header>\n");
    out
}

fn score(report: &RunReport) -> String {
    let s = &report.summary;
    let (class, value) = match s.compliance_score.filter(|v| v.is_finite()) {
        Some(v) if v >= 90.0 => ("good", format!("{v:.1}%")),
        Some(v) if v >= 70.0 => ("fair", format!("{v:.1}%")),
        Some(v) => ("poor", format!("{v:.1}%")),
        None => ("none", "—".to_string()),
    };
    let detail = if s.checks_evaluated == 0 {
        "no checks evaluated".to_string()
    } else {
        format!(
            "{} of {} checks passed",
            s.checks_passed, s.checks_evaluated
        )
    };
    let mut out = String::from("<div class=\"cards\">\n");
    let _ = writeln!(
        out,
        "<div class=\"card score {class}\" id=\"compliance-score\"><span class=\"value\">{value}</span>\
         <span class=\"detail\">{detail}</span></div>"
    );
    let total = s.findings_by_severity.total();
    for (value, label) in [
        (total.to_string(), "findings"),
        (
            s.findings_by_severity
                .at_or_above(Severity::High)
                .to_string(),
            "high or critical",
        ),
        (s.muted_findings.to_string(), "muted"),
        (s.resources_scanned.to_string(), "resources scanned"),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"card\"><span class=\"value\">{value}</span>{label}</div>"
        );
    }
    out.push_str("</div>\n");
    if !report.run.complete {
        out.push_str(
            "<p class=\"notice\"><strong>Partial scan:</strong> part of the estate could not be read \
             (see <a href=\"#s-run\">Run</a>); the findings are a lower bound.</p>\n",
        );
    }
    out
}

fn run_metadata(report: &RunReport) -> String {
    let run = &report.run;
    let mut out = String::from("<dl class=\"meta\">\n");
    let mut item = |term: &str, html: String| {
        let _ = writeln!(out, "<dt>{term}</dt><dd>{html}</dd>");
    };
    item(
        "Run",
        match &run.run_id {
            Some(id) => format!("<code>{}</code>", escape(id)),
            None => "ad-hoc scan".into(),
        },
    );
    if report.is_multi_account() {
        item(
            "Scanner account",
            format!("<code>{}</code>", escape(&run.account_id)),
        );
        let partial = report.accounts.iter().filter(|a| !a.complete()).count();
        item(
            "Accounts",
            format!(
                "{} (<a href=\"#s-accounts\">by account</a>){}",
                report.accounts.len(),
                if partial > 0 {
                    format!(", {partial} partial")
                } else {
                    String::new()
                }
            ),
        );
    } else {
        item(
            "Account",
            format!("<code>{}</code>", escape(&run.account_id)),
        );
    }
    if let Some(trigger) = &run.trigger {
        item("Trigger", escape(trigger));
    }
    item("Started", escape(&run.started_at));
    item("Report generated", escape(&run.generated_at));
    item("Regions", list_or_dash(&run.regions));
    item("Services", list_or_dash(&run.services));
    item(
        "Coverage",
        if run.complete {
            "<span class=\"badge pass\">complete</span>".into()
        } else {
            format!(
                "<span class=\"badge fail\">partial</span> {} error{}, {} failed unit{}",
                report.errors.len(),
                plural(report.errors.len()),
                report.failed_units.len(),
                plural(report.failed_units.len())
            )
        },
    );
    if let Some(d) = &report.decision {
        let previous = d
            .previous_run_id
            .as_deref()
            .map(|p| format!(" (compared with <code>{}</code>)", escape(p)))
            .unwrap_or_default();
        item(
            "Decision",
            format!(
                "<strong>{}</strong>: {}{previous}",
                escape(&d.decision),
                escape(&d.reason)
            ),
        );
    }
    out.push_str("</dl>\n");
    if !report.failed_units.is_empty() {
        out.push_str(&table(
            "Failed units",
            &["Account", "Region", "Service", "Error", "Cause"],
            report.failed_units.iter().map(|u| {
                vec![
                    account_cell(report, &u.account_id),
                    escape(&u.region),
                    escape(&u.service),
                    format!("<code>{}</code>", escape(&u.error)),
                    escape(&u.cause),
                ]
            }),
        ));
    }
    if !report.errors.is_empty() {
        out.push_str(&table(
            "Errors",
            &[
                "Account", "Region", "Service", "API", "Code", "Message", "Resource",
            ],
            report.errors.iter().map(|e| {
                vec![
                    account_cell(report, &e.account_id),
                    escape(&e.region),
                    escape(e.service.as_str()),
                    format!("<code>{}</code>", escape(&e.api)),
                    format!("<code>{}</code>", escape(&e.code)),
                    escape(&e.message),
                    e.resource
                        .as_deref()
                        .map_or_else(|| "—".into(), |r| format!("<code>{}</code>", escape(r))),
                ]
            }),
        ));
    }
    if let Some(remediation) = &report.remediation {
        let json = serde_json::to_string_pretty(remediation).unwrap_or_default();
        let _ = writeln!(
            out,
            "<details><summary>Remediation actions</summary><pre>{}</pre></details>",
            escape(&json)
        );
    }
    out
}

/// An account id with its name when known; `—` for the empty account of old documents.
fn account_cell(report: &RunReport, account_id: &str) -> String {
    if account_id.is_empty() {
        return "—".into();
    }
    let name = report
        .account_name(account_id)
        .map(|n| format!(" {}", escape(n)))
        .unwrap_or_default();
    format!("<code>{}</code>{name}", escape(account_id))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "—".into()
    } else {
        items
            .iter()
            .map(|i| escape(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A captioned table whose cells are already HTML (escaped by the caller).
fn table(caption: &str, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = format!("<h3>{caption}</h3>\n<table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

fn lifecycle(c: &LifecycleCounts) -> String {
    let mut out = String::from("<div class=\"cards\" id=\"lifecycle-counts\">\n");
    let mut cards = vec![
        ("new", c.new, "new"),
        ("open", c.open, "still open"),
        ("reopened", c.reopened, "reopened"),
        ("resolved", c.resolved, "resolved"),
    ];
    if c.unconfirmed > 0 {
        cards.push(("unconfirmed", c.unconfirmed, "unconfirmed (not scanned)"));
    }
    for (key, n, label) in cards {
        let _ = writeln!(
            out,
            "<div class=\"card\" data-lifecycle=\"{key}\"><span class=\"value\">{n}</span>{label}</div>"
        );
    }
    out.push_str("</div>\n");
    out
}

pub(super) fn severity_badge(severity: Severity) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        severity.as_str().to_ascii_lowercase(),
        severity.as_str()
    )
}

fn footer(report: &RunReport) -> String {
    format!(
        "<footer class=\"page\"><p class=\"muted\">Generated {} by compliance-scanner {} \
         (report schema {}). This page loads nothing from the network.</p></footer>\n",
        escape(&report.run.generated_at),
        escape(&report.scanner_version),
        report.schema_version
    )
}

#[cfg(test)]
mod tests;
