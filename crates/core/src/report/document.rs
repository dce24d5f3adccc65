//! The run report: one document per scan (schema in docs/report-schema.md) from which every
//! format is rendered: JSON, CSV, ASFF, OCSF, HTML and the framework views.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::finding::{count_by, Finding, FindingStatus, ScanError, SeverityCounts};
use crate::lifecycle::{LifecycleCounts, LifecycleStatus, Reconciliation};
use crate::report::frameworks::{framework_views, Framework, FrameworkView};
use crate::report::{ScanReport, Summary};
use crate::run::{FailedUnit, RunDocument, UnitRecord};

/// Version of the report document; bumped whenever a field changes meaning or disappears.
/// 2: lifecycle, frameworks, trend, totals and `run` metadata.
pub const RUN_REPORT_SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub scanner_version: String,
    pub run: RunMeta,
    pub summary: Summary,
    pub decision: Option<DecisionSummary>,
    pub totals: Totals,
    /// Counts per lifecycle status; `None` when the scan was not reconciled with history
    /// (an ad-hoc CLI scan).
    pub lifecycle: Option<LifecycleCounts>,
    pub findings: Vec<ReportFinding>,
    pub resolved: Vec<ResolvedEntry>,
    pub frameworks: Vec<FrameworkView>,
    /// Earlier runs of the account, oldest first, this one last.
    pub trend: Vec<TrendPoint>,
    pub errors: Vec<ScanError>,
    pub failed_units: Vec<FailedUnit>,
    pub units: Vec<UnitRecord>,
    pub remediation: Option<crate::remediation::RemediationDecisions>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// `None` for an ad-hoc scan outside the workflow.
    pub run_id: Option<String>,
    pub account_id: String,
    pub trigger: Option<String>,
    pub started_at: String,
    pub generated_at: String,
    pub regions: Vec<String>,
    pub services: Vec<String>,
    /// False when any region, service or API could not be read: the findings are a lower bound.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionSummary {
    pub decision: String,
    pub reason: String,
    pub previous_run_id: Option<String>,
}

/// Unmuted findings per severity, region, service and rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub by_severity: SeverityCounts,
    pub by_region: BTreeMap<String, usize>,
    pub by_service: BTreeMap<String, usize>,
    pub by_rule: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub lifecycle: Option<FindingLifecycle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingLifecycle {
    pub status: LifecycleStatus,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub times_reopened: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedEntry {
    pub id: String,
    pub rule_id: String,
    pub title: String,
    pub resource_arn: String,
    pub region: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub run_id: String,
    pub created_at: String,
    pub compliance_score: Option<f64>,
    pub findings_total: usize,
}

fn totals(findings: &[Finding]) -> Totals {
    let active: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail)
        .collect();
    Totals {
        by_severity: crate::finding::count_by_severity(active.iter().copied()),
        by_region: count_by(active.iter().copied(), |f| f.region.clone()),
        by_service: count_by(active.iter().copied(), |f| f.service.to_string()),
        by_rule: count_by(active.iter().copied(), |f| f.rule_id.clone()),
    }
}

impl RunReport {
    /// An ad-hoc scan (the CLI): no lifecycle, no history, the scan itself is the trend.
    pub fn from_scan(scan: &ScanReport, generated_at: &str) -> RunReport {
        RunReport {
            schema_version: RUN_REPORT_SCHEMA_VERSION,
            scanner_version: scan.scanner_version.clone(),
            run: RunMeta {
                run_id: None,
                account_id: scan.account_id.clone(),
                trigger: Some("cli".into()),
                started_at: scan.started_at.clone(),
                generated_at: generated_at.to_string(),
                regions: scan.regions.clone(),
                services: scan
                    .services
                    .iter()
                    .map(std::string::ToString::to_string)
                    .collect(),
                complete: scan.complete,
            },
            summary: scan.summary.clone(),
            decision: None,
            totals: totals(&scan.findings),
            lifecycle: None,
            findings: scan
                .findings
                .iter()
                .map(|f| ReportFinding {
                    finding: f.clone(),
                    lifecycle: None,
                })
                .collect(),
            resolved: Vec::new(),
            frameworks: framework_views(
                &Framework::ALL,
                &scan.summary.checks_by_rule,
                &scan.findings,
            ),
            trend: vec![TrendPoint {
                run_id: "this scan".into(),
                created_at: scan.started_at.clone(),
                compliance_score: scan.summary.compliance_score,
                findings_total: scan.summary.findings_by_severity.total(),
            }],
            errors: scan.errors.clone(),
            failed_units: Vec::new(),
            units: Vec::new(),
            remediation: None,
        }
    }

    /// A workflow run, with its analysis, its reconciliation with the findings table, the
    /// account's earlier runs (oldest first) and the remediation decisions.
    pub fn from_run(run: &RunDocument, parts: RunParts) -> RunReport {
        let records = parts
            .reconciliation
            .map(Reconciliation::by_finding_id)
            .unwrap_or_default();
        let findings = run
            .findings
            .iter()
            .map(|f| ReportFinding {
                finding: f.clone(),
                lifecycle: records.get(f.id.as_str()).map(|rec| FindingLifecycle {
                    status: rec.status,
                    first_seen_at: rec.first_seen_at.clone(),
                    last_seen_at: rec.last_seen_at.clone(),
                    times_reopened: rec.times_reopened,
                }),
            })
            .collect();
        let resolved = match (parts.reconciliation, parts.analysis) {
            (Some(r), _) => r
                .resolved
                .iter()
                .map(|rec| ResolvedEntry {
                    id: rec.finding_id.clone(),
                    rule_id: rec.rule_id.clone(),
                    title: rec.title.clone(),
                    resource_arn: rec.resource_arn.clone(),
                    region: rec.region.clone(),
                    first_seen_at: rec.first_seen_at.clone(),
                    last_seen_at: rec.last_seen_at.clone(),
                })
                .collect(),
            (None, Some(a)) => a
                .resolved
                .iter()
                .map(|r| ResolvedEntry {
                    id: r.id.clone(),
                    rule_id: r.rule_id.clone(),
                    title: crate::rules::rule(&r.rule_id)
                        .map(|x| x.title.to_string())
                        .unwrap_or_default(),
                    resource_arn: r.resource_arn.clone(),
                    region: r.region.clone(),
                    first_seen_at: String::new(),
                    last_seen_at: String::new(),
                })
                .collect(),
            (None, None) => Vec::new(),
        };
        let mut trend = parts.history;
        if !trend.iter().any(|p| p.run_id == run.run_id) {
            trend.push(TrendPoint {
                run_id: run.run_id.clone(),
                created_at: run.created_at.clone(),
                compliance_score: run.summary.compliance_score,
                findings_total: run.summary.findings_by_severity.total(),
            });
        }
        trend.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        let mut regions: Vec<String> = run.units.iter().map(|u| u.region.clone()).collect();
        regions.extend(run.failed_units.iter().map(|u| u.region.clone()));
        regions.sort();
        regions.dedup();
        let mut services: Vec<String> = run.units.iter().map(|u| u.service.to_string()).collect();
        services.extend(run.failed_units.iter().map(|u| u.service.clone()));
        services.sort();
        services.dedup();
        RunReport {
            schema_version: RUN_REPORT_SCHEMA_VERSION,
            scanner_version: env!("CARGO_PKG_VERSION").to_string(),
            run: RunMeta {
                run_id: Some(run.run_id.clone()),
                account_id: run.account_id.clone(),
                trigger: Some(run.trigger.clone()),
                started_at: run.created_at.clone(),
                generated_at: parts.generated_at.to_string(),
                regions,
                services,
                complete: run.complete,
            },
            summary: run.summary.clone(),
            decision: parts.analysis.map(|a| DecisionSummary {
                decision: a.decision.as_str().to_string(),
                reason: a.reason.clone(),
                previous_run_id: a.previous_run_id.clone(),
            }),
            totals: totals(&run.findings),
            lifecycle: parts.reconciliation.map(Reconciliation::counts),
            findings,
            resolved,
            frameworks: framework_views(
                &Framework::ALL,
                &run.summary.checks_by_rule,
                &run.findings,
            ),
            trend,
            errors: run.errors.clone(),
            failed_units: run.failed_units.clone(),
            units: run.units.clone(),
            remediation: parts.remediation,
        }
    }

    pub fn to_json(&self) -> Result<String, crate::CoreError> {
        serde_json::to_string_pretty(self).map_err(|e| crate::CoreError::Report {
            format: "JSON",
            reason: e.to_string(),
        })
    }
}

/// What a workflow run's report is assembled from besides the run document.
pub struct RunParts<'a> {
    pub analysis: Option<&'a Analysis>,
    pub reconciliation: Option<&'a Reconciliation>,
    pub history: Vec<TrendPoint>,
    pub remediation: Option<crate::remediation::RemediationDecisions>,
    pub generated_at: &'a str,
}
