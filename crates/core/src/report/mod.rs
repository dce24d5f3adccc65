//! Reports: the scan summary, and the run report rendered as JSON (the contract), CSV (for
//! spreadsheets), ASFF (Security Hub), OCSF, HTML (people) and framework views (auditors).

pub mod accounts;
pub mod asff;
pub mod document;
pub mod frameworks;
pub mod html;

pub mod ocsf;

pub use crate::summary::{score, Summary, REPORT_SCHEMA_VERSION};
pub use document::{ReportFinding, RunReport, RUN_REPORT_SCHEMA_VERSION};

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::finding::{Finding, ScanError};
use crate::model::Service;

/// Cuts `text` to at most `max` characters (on a character boundary), marking the cut with `…`.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema_version: u32,
    pub scanner_version: String,
    /// The caller's account; each finding and error names the account it belongs to.
    pub account_id: String,
    pub regions: Vec<String>,
    pub services: Vec<Service>,
    pub started_at: String,
    pub finished_at: String,
    /// False when any region, service or API could not be read: the findings are then a lower bound.
    pub complete: bool,
    pub summary: Summary,
    /// Every scanned account's numbers, worst first. Empty: the caller's account alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<crate::run::AccountSummary>,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    /// The rule parameters the evaluation used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_parameters: Option<crate::rules::RuleParametersUsed>,
}

impl ScanReport {
    pub fn to_json(&self) -> Result<String, CoreError> {
        serde_json::to_string_pretty(self).map_err(|e| CoreError::Report {
            format: "JSON",
            reason: e.to_string(),
        })
    }

    pub fn to_csv(&self) -> Result<String, CoreError> {
        let rows: Vec<ReportFinding> = self
            .findings
            .iter()
            .map(|f| ReportFinding {
                finding: f.clone(),
                account_name: self
                    .accounts
                    .iter()
                    .find(|a| a.account_id == f.account_id)
                    .and_then(|a| a.name.clone()),
                lifecycle: None,
            })
            .collect();
        findings_csv(&rows)
    }

    /// The accounts the scan covered: the ones it lists, and any a finding or an error names.
    pub fn account_ids(&self) -> std::collections::BTreeSet<&str> {
        let mut ids: std::collections::BTreeSet<&str> = self
            .accounts
            .iter()
            .map(|a| a.account_id.as_str())
            .collect();
        ids.extend(self.findings.iter().map(|f| f.account_id.as_str()));
        ids.extend(
            self.errors
                .iter()
                .map(|e| e.account_id.as_str())
                .filter(|id| !id.is_empty()),
        );
        if ids.is_empty() {
            ids.insert(self.account_id.as_str());
        }
        ids
    }
}

/// The columns of the CSV report. New columns are added at the end, so that a spreadsheet or
/// script reading columns by position keeps working.
pub const CSV_HEADER: [&str; 26] = [
    "id",
    "rule_id",
    "title",
    "severity",
    "status",
    "service",
    "resource_type",
    "resource_id",
    "resource_arn",
    "region",
    "account_id",
    "lifecycle",
    "first_seen_at",
    "last_seen_at",
    "aws_fsbp",
    "security_hub",
    "cis_v1_4_0",
    "cis_v3_0_0",
    "pci_dss",
    "nist_800_53_r5",
    "evidence",
    "remediation",
    "muted_reason",
    "remediation_url",
    "account_name",
    "cis_v5_0_0",
];

/// One row per finding, a column per framework (ids joined with `;`).
pub fn findings_csv(findings: &[ReportFinding]) -> Result<String, CoreError> {
    let err = |e: &dyn std::fmt::Display| CoreError::Report {
        format: "CSV",
        reason: e.to_string(),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER).map_err(|e| err(&e))?;
    for row in findings {
        let f = &row.finding;
        let c = &f.compliance;
        let lifecycle = row.lifecycle.as_ref();
        let row = [
            f.id.clone(),
            f.rule_id.clone(),
            f.title.clone(),
            f.severity.to_string(),
            f.status.as_str().to_string(),
            f.service.to_string(),
            f.resource_type.to_string(),
            f.resource_id.clone(),
            f.resource_arn.clone(),
            f.region.clone(),
            f.account_id.clone(),
            lifecycle
                .map(|l| l.status.as_str().to_string())
                .unwrap_or_default(),
            lifecycle
                .map(|l| l.first_seen_at.clone())
                .unwrap_or_default(),
            lifecycle
                .map(|l| l.last_seen_at.clone())
                .unwrap_or_default(),
            c.aws_fsbp.join(";"),
            c.security_hub.join(";"),
            c.cis_v1_4_0.join(";"),
            c.cis_v3_0_0.join(";"),
            c.pci_dss.join(";"),
            c.nist_800_53_r5.join(";"),
            f.evidence.to_string(),
            f.remediation.clone(),
            f.muted_reason.clone().unwrap_or_default(),
            crate::rules::rule(&f.rule_id)
                .map(|r| r.remediation_url.to_string())
                .unwrap_or_default(),
            row.account_name.clone().unwrap_or_default(),
            c.cis_v5_0_0.join(";"),
        ];
        writer
            .write_record(row.iter().map(|cell| neutralise_formula(cell)))
            .map_err(|e| err(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| err(&e))?;
    String::from_utf8(bytes).map_err(|e| err(&e))
}

/// Resource names and tags are attacker-controlled: a cell a spreadsheet would run as a formula
/// is prefixed with `'` so it shows as text (OWASP CSV injection guidance).
pub fn neutralise_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod hostile_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingStatus;

    #[test]
    fn score_rounds_to_one_decimal() {
        assert_eq!(score(2, 3), Some(66.7));
        assert_eq!(score(0, 0), None);
        assert_eq!(score(5, 5), Some(100.0));
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(
            neutralise_formula("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(neutralise_formula("-1+2"), "'-1+2");
        assert_eq!(neutralise_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise_formula("sg-123"), "sg-123");
    }

    #[test]
    fn csv_survives_formula_injection() {
        let rule = crate::rules::rule("resource_required_tags").unwrap();
        let hostile = Finding {
            id: "=1+1".into(),
            rule_id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status: FindingStatus::Muted,
            muted_reason: Some("+cmd|' /C calc'!A0".into()),
            service: crate::Service::Ec2,
            resource_type: crate::model::ResourceType::AwsEc2SecurityGroup,
            resource_id: "=HYPERLINK(\"http://evil.example\",\"x\")".into(),
            resource_arn: "@SUM(1+1)*cmd|' /C calc'!A0".into(),
            region: "-2+3".into(),
            account_id: "123456789012".into(),
            evidence: serde_json::json!("=2+5"),
            remediation: "\t=1".into(),
            runbook: None,
            remediation_evidence: None,
            compliance: Default::default(),
            resource_tags: Default::default(),
        };
        let csv = findings_csv(&[ReportFinding {
            finding: hostile,
            account_name: Some("=cmd|' /C calc'!A0".into()),
            lifecycle: None,
        }])
        .unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        for cell in &row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "live formula cell {cell:?}"
            );
        }
        assert_eq!(&row[7], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(row.len(), CSV_HEADER.len());
        assert_eq!(&row[24], "'=cmd|' /C calc'!A0");
    }

    #[test]
    fn csv_names_each_findings_account() {
        let report = fixtures::two_accounts_report();
        let csv = findings_csv(&report.findings).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        // The columns before this one keep their order; the name is the last column.
        assert_eq!(header, CSV_HEADER.map(String::from));
        assert_eq!(&header[10], "account_id");
        assert_eq!(&header[24], "account_name");
        assert_eq!(header.last().map(String::as_str), Some("cis_v5_0_0"));
        let cells: Vec<(String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[10].to_string(), r[24].to_string())
            })
            .collect();
        assert_eq!(
            cells,
            [
                (fixtures::UNNAMED.to_string(), String::new()),
                (fixtures::PROD.to_string(), fixtures::PROD_NAME.to_string()),
                (fixtures::PROD.to_string(), fixtures::PROD_NAME.to_string()),
            ]
        );
    }
}

/// Who and what a report covers; the caller supplies the clock readings.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub account_id: String,
    pub regions: Vec<String>,
    pub services: Vec<Service>,
    pub started_at: String,
    pub finished_at: String,
}

/// Evaluates an inventory and assembles the report.
pub fn build_report(
    ctx: ReportContext,
    inventory: &crate::Inventory,
    errors: Vec<ScanError>,
    settings: &crate::EvaluationSettings,
) -> ScanReport {
    let evaluation = crate::evaluate(inventory, settings);
    let summary = Summary::new(inventory.resource_count(), &evaluation);
    ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        scanner_version: env!("CARGO_PKG_VERSION").to_string(),
        accounts: vec![crate::run::AccountSummary {
            account_id: ctx.account_id.clone(),
            name: None,
            summary: summary.clone(),
            units: 0,
            failed_units: 0,
            errors: errors.len(),
        }],
        account_id: ctx.account_id,
        regions: ctx.regions,
        services: ctx.services,
        started_at: ctx.started_at,
        finished_at: ctx.finished_at,
        complete: errors.is_empty(),
        summary,
        findings: evaluation.findings,
        errors,
        rule_parameters: Some(crate::rules::RuleParametersUsed::uniform(
            settings.rule_parameters.effective(),
        )),
    }
}
