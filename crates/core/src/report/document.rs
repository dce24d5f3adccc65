//! The run report: one document per scan (schema in docs/report-schema.md) from which every
//! format is rendered: JSON, CSV, ASFF, OCSF, HTML and the framework views.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::finding::{count_by, Finding, FindingStatus, ScanError, SeverityCounts};
use crate::lifecycle::{LifecycleCounts, LifecycleStatus, Reconciliation};
use crate::report::accounts::{names_by_id, run_accounts, ReportAccount};
use crate::report::frameworks::{framework_views, Framework, FrameworkView};
use crate::report::{ScanReport, Summary};
use crate::run::{AccountSummary, FailedUnit, RunDocument, UnitRecord};

/// Version of the report document; bumped whenever a field changes meaning or disappears.
/// 2: lifecycle, frameworks, trend, totals and `run` metadata.
/// 3: accounts: `run.account_id` is the scanner's own account, each finding names its own
/// (`account_id`, `account_name`), `accounts[]` has every account's numbers.
pub const RUN_REPORT_SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub scanner_version: String,
    pub run: RunMeta,
    pub summary: Summary,
    pub decision: Option<DecisionSummary>,
    pub totals: Totals,
    /// Every scanned account's numbers, worst first (failed units, then lowest score, then
    /// most severe findings). Absent in reports written before schema 3.
    #[serde(default)]
    pub accounts: Vec<ReportAccount>,
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
    /// The rule parameters the scan used; parameters whose value differed between units are in
    /// `differing`. `None` in reports of runs whose units did not record them.
    #[serde(default)]
    pub rule_parameters: Option<crate::rules::RuleParametersUsed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// `None` for an ad-hoc scan outside the workflow.
    pub run_id: Option<String>,
    /// The scanner's own account (the one it runs in); each finding names the account it
    /// belongs to.
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
    /// The name AWS Organizations knows the finding's account by, when the run listed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
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
    /// The account the resolved finding belonged to (empty in reports before schema 3).
    #[serde(default)]
    pub account_id: String,
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
        let accounts = report_accounts(&scan_accounts(scan));
        let names = names_by_id(&accounts);
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
                    account_name: names.get(f.account_id.as_str()).map(|n| (*n).to_string()),
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
            accounts,
            rule_parameters: scan.rule_parameters.clone(),
        }
    }

    /// A workflow run, with its analysis, its reconciliation with the findings table, the
    /// account's earlier runs (oldest first) and the remediation decisions.
    pub fn from_run(run: &RunDocument, parts: RunParts) -> RunReport {
        let records = parts
            .reconciliation
            .map(Reconciliation::by_finding_id)
            .unwrap_or_default();
        let accounts = report_accounts(&run_accounts(run));
        let names = names_by_id(&accounts);
        let findings = run
            .findings
            .iter()
            .map(|f| ReportFinding {
                finding: f.clone(),
                account_name: names.get(f.account_id.as_str()).map(|n| (*n).to_string()),
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
                    account_id: rec.account_id.clone(),
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
                    // The analysis does not keep the account: the ARN names it, except for
                    // S3 buckets, which are the run's own account's in a single-account run.
                    account_id: arn_account(&r.resource_arn)
                        .unwrap_or(&run.account_id)
                        .to_string(),
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
            accounts,
            rule_parameters: run.rule_parameters.clone(),
        }
    }

    /// Whether the report covers more than one account (the HTML page and the tables then
    /// show the account of each finding).
    pub fn is_multi_account(&self) -> bool {
        self.accounts.len() > 1
    }

    /// The name of an account of the report, when Organizations gave one.
    pub fn account_name(&self, account_id: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.account_id == account_id)
            .and_then(|a| a.name.as_deref())
    }

    pub fn to_json(&self) -> Result<String, crate::CoreError> {
        serde_json::to_string_pretty(self).map_err(|e| crate::CoreError::Report {
            format: "JSON",
            reason: e.to_string(),
        })
    }
}

fn report_accounts(accounts: &[AccountSummary]) -> Vec<ReportAccount> {
    accounts.iter().map(ReportAccount::from_summary).collect()
}

/// The accounts of an ad-hoc scan: the ones it lists, else the scanned account alone.
fn scan_accounts(scan: &ScanReport) -> Vec<AccountSummary> {
    if !scan.accounts.is_empty() {
        return scan.accounts.clone();
    }
    vec![AccountSummary {
        account_id: scan.account_id.clone(),
        name: None,
        summary: scan.summary.clone(),
        units: 0,
        failed_units: 0,
        errors: scan.errors.len(),
    }]
}

/// The account field of an ARN (`arn:partition:service:region:account:…`), when it has one.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// What a workflow run's report is assembled from besides the run document.
pub struct RunParts<'a> {
    pub analysis: Option<&'a Analysis>,
    pub reconciliation: Option<&'a Reconciliation>,
    pub history: Vec<TrendPoint>,
    pub remediation: Option<crate::remediation::RemediationDecisions>,
    pub generated_at: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{self, PROD, PROD_NAME, UNNAMED};

    #[test]
    fn the_json_report_has_every_account_worst_first_and_each_findings_account() {
        let report = fixtures::two_accounts_report();
        let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
        assert_eq!(json["schema_version"], 3);
        assert_eq!(json["run"]["account_id"], PROD, "the scanner's own account");
        let accounts = json["accounts"].as_array().unwrap();
        let ids: Vec<&str> = accounts
            .iter()
            .map(|a| a["account_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [UNNAMED, PROD], "the account with a failed unit first");
        let unnamed = &accounts[0];
        assert_eq!(unnamed["name"], serde_json::Value::Null);
        assert_eq!(unnamed["compliance_score"], 75.0);
        assert_eq!(unnamed["findings_by_severity"]["high"], 1);
        assert_eq!(
            (
                &unnamed["units"],
                &unnamed["failed_units"],
                &unnamed["errors"]
            ),
            (&1.into(), &1.into(), &1.into())
        );
        let prod = &accounts[1];
        assert_eq!(prod["name"], PROD_NAME);
        assert_eq!(prod["compliance_score"], 80.0);
        assert_eq!(prod["findings_by_severity"]["critical"], 1);
        assert_eq!(prod["muted_findings"], 1);

        let findings = json["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 3);
        for f in findings {
            match f["account_id"].as_str().unwrap() {
                PROD => assert_eq!(f["account_name"], PROD_NAME),
                UNNAMED => assert!(f.get("account_name").is_none(), "no name: left out"),
                other => panic!("finding of account {other}"),
            }
        }
        // The report reads back as it was written.
        let back: RunReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
        assert!(report.is_multi_account());
        assert_eq!(report.account_name(PROD), Some(PROD_NAME));
        assert_eq!(report.account_name(UNNAMED), None);
    }

    #[test]
    fn a_run_document_without_accounts_is_its_own_accounts_alone() {
        let mut run = fixtures::two_accounts_run();
        run.accounts.clear();
        run.findings.retain(|f| f.account_id == PROD);
        let report = RunReport::from_run(
            &run,
            RunParts {
                analysis: None,
                reconciliation: None,
                history: Vec::new(),
                remediation: None,
                generated_at: "2026-11-23T10:05:00Z",
            },
        );
        assert_eq!(report.accounts.len(), 1);
        assert!(!report.is_multi_account());
        let only = &report.accounts[0];
        assert_eq!(only.account_id, PROD);
        assert_eq!(only.compliance_score, run.summary.compliance_score);
        assert_eq!(
            (only.units, only.failed_units, only.errors),
            (3, 1, 1),
            "the run's numbers"
        );
        assert!(report.findings.iter().all(|f| f.account_name.is_none()));
    }

    #[test]
    fn an_ad_hoc_scan_reports_its_accounts() {
        let run = fixtures::two_accounts_run();
        let mut scan = ScanReport {
            schema_version: 1,
            scanner_version: "0".into(),
            account_id: PROD.into(),
            regions: vec!["eu-west-1".into()],
            services: vec![crate::Service::Ec2],
            started_at: fixtures::CREATED_AT.into(),
            finished_at: fixtures::CREATED_AT.into(),
            complete: true,
            summary: run.summary.clone(),
            accounts: Vec::new(),
            findings: run.findings.clone(),
            errors: Vec::new(),
            rule_parameters: None,
        };
        let alone = RunReport::from_scan(&scan, "2026-11-23T10:05:00Z");
        assert_eq!(alone.accounts.len(), 1);
        assert_eq!(alone.accounts[0].account_id, PROD);

        scan.accounts = run.accounts.clone();
        let both = RunReport::from_scan(&scan, "2026-11-23T10:05:00Z");
        assert_eq!(both.accounts.len(), 2);
        assert_eq!(both.accounts[0].account_id, UNNAMED);
        let named: Vec<Option<&str>> = both
            .findings
            .iter()
            .map(|f| f.account_name.as_deref())
            .collect();
        assert_eq!(named, [None, Some(PROD_NAME), Some(PROD_NAME)]);
    }

    #[test]
    fn resolved_entries_keep_their_account() {
        let run = fixtures::two_accounts_run();
        let resolved = |arn: &str| crate::analysis::ResolvedFinding {
            id: arn.into(),
            rule_id: "ec2_sg_open_ssh".into(),
            resource_arn: arn.into(),
            region: "eu-west-1".into(),
        };
        let analysis = Analysis {
            run_id: run.run_id.clone(),
            previous_run_id: Some("run-6".into()),
            decision: crate::analysis::Decision::Clean,
            reason: "nothing new".into(),
            new: Vec::new(),
            still_open: 0,
            resolved: vec![
                resolved("arn:aws:ec2:eu-west-1:222222222222:security-group/sg-9"),
                resolved("arn:aws:s3:::gone"),
            ],
            by_region: BTreeMap::new(),
            by_service: BTreeMap::new(),
            by_rule: BTreeMap::new(),
        };
        let report = RunReport::from_run(
            &run,
            RunParts {
                analysis: Some(&analysis),
                reconciliation: None,
                history: Vec::new(),
                remediation: None,
                generated_at: "2026-11-23T10:05:00Z",
            },
        );
        let accounts: Vec<&str> = report
            .resolved
            .iter()
            .map(|r| r.account_id.as_str())
            .collect();
        // The ARN names the account; a bucket ARN does not, and falls back to the scanner's.
        assert_eq!(accounts, [UNNAMED, PROD]);
    }
}
