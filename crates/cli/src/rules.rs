//! `compliance rules`: the rule catalog (every rule with its parameters, runbook and controls),
//! or one framework's controls with the rules that check each and why the others are not
//! automated. Reads nothing but the catalog: no AWS call.
//!
//! The JSON output is stable (documented in the README, `schema_version` bumped when a field
//! changes meaning or disappears).

use std::fmt::Write as _;

use clap::{Args, ValueEnum};
use compliance_core::report::frameworks::Framework;
use compliance_core::rules::frameworks::{coverage, framework_source, ControlCoverage};
use compliance_core::rules::{catalog, Controls, Rule};
use serde_json::{json, Value};

use crate::exit;

/// Version of the JSON `compliance rules` prints.
pub const RULES_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Show this framework's controls, the rules that check each, and the ones not automated.
    #[arg(long, value_enum, value_name = "FRAMEWORK")]
    framework: Option<FrameworkName>,
    #[arg(long, value_enum, default_value = "table")]
    format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FrameworkName {
    #[value(name = "cis-1.4")]
    Cis14,
    #[value(name = "cis-3.0")]
    Cis30,
    #[value(name = "cis-5.0")]
    Cis50,
    Pci,
    Nist,
    Fsbp,
}

impl FrameworkName {
    fn framework(self) -> Framework {
        match self {
            FrameworkName::Cis14 => Framework::CisV1_4_0,
            FrameworkName::Cis30 => Framework::CisV3_0_0,
            FrameworkName::Cis50 => Framework::CisV5_0_0,
            FrameworkName::Pci => Framework::PciDss,
            FrameworkName::Nist => Framework::Nist80053R5,
            FrameworkName::Fsbp => Framework::AwsFsbp,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RulesFormat {
    Table,
    Json,
    Csv,
}

pub fn run(args: &RulesArgs) -> Result<u8, String> {
    let text = match (args.framework, args.format) {
        (None, RulesFormat::Table) => rules_table(),
        (None, RulesFormat::Json) => pretty(&rules_json())?,
        (None, RulesFormat::Csv) => rules_csv(),
        (Some(f), RulesFormat::Table) => framework_table(f.framework()),
        (Some(f), RulesFormat::Json) => pretty(&framework_json(f.framework()))?,
        (Some(f), RulesFormat::Csv) => framework_csv(f.framework()),
    };
    print!("{text}");
    Ok(exit::OK)
}

fn pretty(value: &Value) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// The frameworks of a rule's controls, in the order every output uses.
const COLUMNS: [(&str, &str); 7] = [
    ("aws_fsbp", "FSBP"),
    ("security_hub", "Security Hub"),
    ("cis_v1_4_0", "CIS 1.4"),
    ("cis_v3_0_0", "CIS 3.0"),
    ("cis_v5_0_0", "CIS 5.0"),
    ("pci_dss", "PCI DSS"),
    ("nist_800_53_r5", "NIST 800-53"),
];

fn control_lists(c: &Controls) -> [&'static [&'static str]; 7] {
    [
        c.aws_fsbp,
        c.security_hub,
        c.cis_v1_4_0,
        c.cis_v3_0_0,
        c.cis_v5_0_0,
        c.pci_dss,
        c.nist_800_53_r5,
    ]
}

fn service(rule: &Rule) -> Option<String> {
    rule.service().map(|s| s.to_string())
}

fn resource_type(rule: &Rule) -> Option<&'static str> {
    rule.resource_type()
        .map(compliance_core::model::ResourceType::as_str)
}

fn rule_json(rule: &Rule) -> Value {
    let controls: serde_json::Map<String, Value> = COLUMNS
        .iter()
        .zip(control_lists(&rule.controls))
        .map(|((key, _), ids)| ((*key).to_string(), json!(ids)))
        .collect();
    let parameters: Vec<Value> = rule
        .parameters
        .iter()
        .map(|p| {
            json!({
                "name": p.name(),
                "type": p.type_name(),
                "description": p.description(),
                "default": p.default_value(),
                "allowed": p.allowed(),
            })
        })
        .collect();
    json!({
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.as_str(),
        "service": service(rule),
        "resource_type": resource_type(rule),
        "remediation": rule.remediation,
        "remediation_url": rule.remediation_url,
        "runbook": rule.runbook.map(|r| r.to_string()),
        "parameters": parameters,
        "controls": controls,
    })
}

fn rules_json() -> Value {
    json!({
        "schema_version": RULES_SCHEMA_VERSION,
        "rules": catalog().iter().map(rule_json).collect::<Vec<_>>(),
    })
}

fn rules_table() -> String {
    let mut out = format!("{} rules\n", catalog().len());
    for rule in catalog() {
        let _ = write!(
            out,
            "\n{}  {}  {}  {}\n  {}\n",
            rule.id,
            rule.severity,
            service(rule).unwrap_or_else(|| "any service".into()),
            resource_type(rule).unwrap_or("any taggable resource"),
            rule.title,
        );
        if let Some(runbook) = rule.runbook {
            let _ = writeln!(out, "  runbook: {runbook}");
        }
        for p in rule.parameters {
            let _ = writeln!(
                out,
                "  parameter {} ({}, default {}; {}): {}",
                p.name(),
                p.type_name(),
                p.default_value(),
                p.allowed(),
                p.description()
            );
        }
        for ((_, label), ids) in COLUMNS.iter().zip(control_lists(&rule.controls)) {
            if !ids.is_empty() {
                let _ = writeln!(out, "  {label}: {}", ids.join(", "));
            }
        }
    }
    out
}

fn csv_text(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(
            row.iter()
                .map(|cell| compliance_core::report::neutralise_formula(cell)),
        );
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

fn rules_csv() -> String {
    let mut header = vec![
        "id",
        "title",
        "severity",
        "service",
        "resource_type",
        "runbook",
        "parameters",
    ];
    header.extend(COLUMNS.iter().map(|(key, _)| *key));
    header.push("remediation_url");
    let rows = catalog()
        .iter()
        .map(|rule| {
            let parameters: Vec<String> = rule
                .parameters
                .iter()
                .map(|p| format!("{}={}", p.name(), p.default_value()))
                .collect();
            let mut row = vec![
                rule.id.to_string(),
                rule.title.to_string(),
                rule.severity.to_string(),
                service(rule).unwrap_or_default(),
                resource_type(rule).unwrap_or_default().to_string(),
                rule.runbook.map(|r| r.to_string()).unwrap_or_default(),
                parameters.join(";"),
            ];
            row.extend(
                control_lists(&rule.controls)
                    .iter()
                    .map(|ids| ids.join(";")),
            );
            row.push(rule.remediation_url.to_string());
            row
        })
        .collect();
    csv_text(&header, rows)
}

fn status(c: &ControlCoverage) -> &'static str {
    if c.not_automated.is_some() {
        "not_automated"
    } else {
        "automated"
    }
}

fn framework_json(framework: Framework) -> Value {
    let controls = coverage(framework);
    let automated = controls
        .iter()
        .filter(|c| c.not_automated.is_none())
        .count();
    json!({
        "schema_version": RULES_SCHEMA_VERSION,
        "framework": framework.key(),
        "name": framework.name(),
        "source": framework_source(framework),
        "automated": automated,
        "not_automated": controls.len() - automated,
        "controls": controls.iter().map(|c| json!({
            "control_id": c.id,
            "title": c.title,
            "status": status(c),
            "rules": c.rules,
            "not_automated": c.not_automated,
        })).collect::<Vec<_>>(),
    })
}

fn framework_table(framework: Framework) -> String {
    let controls = coverage(framework);
    let automated = controls
        .iter()
        .filter(|c| c.not_automated.is_none())
        .count();
    let mut out = format!(
        "{}: {} controls, {automated} checked by rules, {} not automated\n",
        framework.name(),
        controls.len(),
        controls.len() - automated
    );
    if framework_source(framework).is_none() {
        out.push_str("(only the controls rules check are listed for this framework)\n");
    }
    let width = controls.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for c in &controls {
        let _ = writeln!(
            out,
            "\n{:<width$}  {}{}",
            c.id,
            status(c).replace('_', " "),
            c.title.map(|t| format!("  {t}")).unwrap_or_default()
        );
        match c.not_automated {
            Some(why) => {
                let _ = writeln!(out, "  {}: {}", why.reason.describe(), why.note);
            }
            None => {
                let _ = writeln!(out, "  {}", c.rules.join(", "));
            }
        }
    }
    out
}

fn framework_csv(framework: Framework) -> String {
    let rows = coverage(framework)
        .iter()
        .map(|c| {
            vec![
                framework.key().to_string(),
                c.id.clone(),
                c.title.unwrap_or_default().to_string(),
                status(c).to_string(),
                c.rules.join(";"),
                c.not_automated
                    .map(|n| n.reason.as_str().to_string())
                    .unwrap_or_default(),
                c.not_automated.map(|n| n.note.clone()).unwrap_or_default(),
            ]
        })
        .collect();
    csv_text(
        &[
            "framework",
            "control_id",
            "title",
            "status",
            "rules",
            "reason",
            "note",
        ],
        rows,
    )
}
