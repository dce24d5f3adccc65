//! The framework views: per framework, pass / fail / not evaluated, and its controls (with the
//! failing resources) folded in a `<details>`.

use std::collections::HashMap;
use std::fmt::Write;

use super::{escape, severity_badge};
use crate::finding::{Finding, FindingStatus};
use crate::report::frameworks::{ControlStatus, ControlView, FrameworkView};
use crate::report::RunReport;

pub(super) fn frameworks(report: &RunReport) -> String {
    if report.frameworks.is_empty() {
        return "<p class=\"empty\">No framework view in this report.</p>\n".into();
    }
    let mut out = String::from(
        "<p class=\"muted\">A control passes when every check this scanner maps to it passed; \
         controls have requirements beyond what a configuration scan can see.</p>\n",
    );
    let findings: HashMap<&str, &Finding> = report
        .findings
        .iter()
        .map(|f| (f.finding.id.as_str(), &f.finding))
        .collect();
    for view in &report.frameworks {
        out.push_str(&framework(view, &findings));
    }
    out
}

fn framework(view: &FrameworkView, findings: &HashMap<&str, &Finding>) -> String {
    let total = view.controls.len();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<div class=\"framework\" data-framework=\"{}\">\n<h3>{}</h3>\n\
         <p><span class=\"badge pass\">{} pass</span> <span class=\"badge fail\">{} fail</span> \
         <span class=\"badge none\">{} not evaluated</span> <span class=\"badge none\">{} not automated</span> \
         <span class=\"muted\">of {total} controls</span></p>",
        escape(&framework_key(view)),
        escape(&view.name),
        view.passed,
        view.failed,
        view.not_evaluated,
        view.not_automated,
    );
    let _ = writeln!(
        out,
        "<details><summary>Controls ({total})</summary>\n<table class=\"controls\"><thead><tr>\
         <th scope=\"col\">Control</th><th scope=\"col\">Status</th><th scope=\"col\">Rules</th>\
         <th scope=\"col\" class=\"num\">Failed / evaluated</th><th scope=\"col\">Failing resources</th>\
         </tr></thead>\n<tbody>"
    );
    for control in &view.controls {
        out.push_str(&control_row(control, findings));
    }
    out.push_str("</tbody></table></details>\n</div>\n");
    out
}

/// The framework's machine name (`cis_v5_0_0`, `pci_dss`, …), as the JSON report spells it.
fn framework_key(view: &FrameworkView) -> String {
    view.framework.key().to_string()
}

/// Failing resources listed per control; the rest are counted (the findings table has them all).
const MAX_LISTED: usize = 25;

fn control_row(c: &ControlView, findings: &HashMap<&str, &Finding>) -> String {
    let class = match c.status {
        ControlStatus::Pass => "pass",
        ControlStatus::Fail => "fail",
        ControlStatus::NotEvaluated | ControlStatus::NotAutomated => "none",
    };
    let mut rules: Vec<String> = c
        .rules
        .iter()
        .map(|r| format!("<code>{}</code>", escape(r)))
        .collect();
    if let Some(why) = &c.not_automated {
        rules.push(format!(
            "<span class=\"muted\">{}: {}</span>",
            escape(why.reason.describe()),
            escape(&why.note)
        ));
    }
    let title = c.title.as_deref().map_or_else(String::new, |t| {
        format!("<br><span class=\"muted\">{}</span>", escape(t))
    });
    let failing = if c.failing_findings.is_empty() {
        "<span class=\"muted\">—</span>".to_string()
    } else {
        let mut items: Vec<String> = c
            .failing_findings
            .iter()
            .filter_map(|id| findings.get(id.as_str()))
            .take(MAX_LISTED)
            .map(|f| {
                format!(
                    "<li>{} <code class=\"arn\">{}</code> <span class=\"muted\">{} · {}{}</span></li>",
                    severity_badge(f.severity),
                    escape(&f.resource_arn),
                    escape(&f.region),
                    escape(&f.rule_id),
                    if f.status == FindingStatus::Muted { " · muted" } else { "" }
                )
            })
            .collect();
        if c.failing_findings.len() > MAX_LISTED {
            items.push(format!(
                "<li class=\"muted\">and {} more (filter the findings table by rule)</li>",
                c.failing_findings.len() - MAX_LISTED
            ));
        }
        format!("<ul class=\"plain\">{}</ul>", items.concat())
    };
    format!(
        "<tr data-status=\"{}\"><th scope=\"row\">{}{title}</th><td><span class=\"badge {class}\">{}</span></td>\
         <td>{}</td><td class=\"num\">{} / {}</td><td>{failing}</td></tr>\n",
        c.status.as_str(),
        escape(&c.control_id),
        c.status.as_str().replace('_', " ").to_ascii_lowercase(),
        rules.join("<br>"),
        c.checks_failed,
        c.checks_evaluated,
    )
}
