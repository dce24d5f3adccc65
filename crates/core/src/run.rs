//! A workflow run: the per-(account, region, service) results merged into one document.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::CoreError;
use crate::finding::{Finding, ScanError};
use crate::model::Service;
use crate::rules::{ParametersCollector, RuleParametersUsed};
use crate::summary::{score, Summary, REPORT_SCHEMA_VERSION};
use crate::unit::{UnitScanDocument, UnitScanSummary};

/// Failed units carried inline in the aggregate's output; the run document has them all.
pub const MAX_INLINE_FAILED_UNITS: usize = 20;

/// One entry of the scan fan-out: a unit that ran, or one whose invocation failed for good.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanEntry {
    Completed(UnitScanSummary),
    Failed(FailedUnit),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedUnit {
    /// Empty in documents written before accounts were planned.
    #[serde(default)]
    pub account_id: String,
    pub region: String,
    pub service: String,
    pub error: String,
    pub cause: String,
}

/// Flattens the Parallel/Map output (arrays nested to any depth) into entries.
pub fn scan_entries(scans: &Value) -> Result<Vec<ScanEntry>, CoreError> {
    let mut out = Vec::new();
    collect_entries(scans, "scans", &mut out)?;
    Ok(out)
}

fn collect_entries(value: &Value, path: &str, out: &mut Vec<ScanEntry>) -> Result<(), CoreError> {
    let invalid = |reason: String| CoreError::InvalidParameter {
        parameter: path.to_string(),
        reason,
    };
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_entries(item, &format!("{path}[{i}]"), out)?;
            }
            Ok(())
        }
        Value::Object(map) if map.contains_key("error") => {
            let text = |v: Option<&Value>| match v {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let error = map.get("error");
            out.push(ScanEntry::Failed(FailedUnit {
                account_id: text(map.get("account_id")),
                region: text(map.get("region")),
                service: text(map.get("service")),
                error: text(error.and_then(|e| e.get("Error")).or(error)),
                cause: text(error.and_then(|e| e.get("Cause"))),
            }));
            Ok(())
        }
        Value::Object(_) => {
            let summary: UnitScanSummary = serde_json::from_value(value.clone())
                .map_err(|e| invalid(format!("not a region-scan result: {e}")))?;
            out.push(ScanEntry::Completed(summary));
            Ok(())
        }
        other => Err(invalid(format!(
            "expected a region-scan result or an array, got {other}"
        ))),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    #[serde(default)]
    pub account_id: String,
    pub region: String,
    pub service: Service,
    pub key: String,
    pub resources_scanned: usize,
    pub error_count: usize,
}

/// One account's part of a run: its numbers, worst accounts first in the run document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub account_id: String,
    /// The name AWS Organizations knows it by, when the run listed the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub summary: Summary,
    pub units: usize,
    pub failed_units: usize,
    pub errors: usize,
}

/// Everything a run found, in one object (`runs/{run_id}/run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDocument {
    pub schema_version: u32,
    pub run_id: String,
    /// The account the scanner runs in; each finding, unit and error names its own.
    pub account_id: String,
    pub trigger: String,
    pub created_at: String,
    pub units: Vec<UnitRecord>,
    pub failed_units: Vec<FailedUnit>,
    /// False when a unit failed or any API could not be read.
    pub complete: bool,
    pub summary: Summary,
    /// Per account, worst first (lowest score, then most critical findings). Empty in
    /// documents written before accounts were planned.
    #[serde(default)]
    pub accounts: Vec<AccountSummary>,
    /// Account by account (in [`RunDocument::units`]' account order), most severe first.
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    /// The rule parameters the units used (values that differed between units listed as
    /// such); `None` in documents written before units recorded them.
    #[serde(default)]
    pub rule_parameters: Option<RuleParametersUsed>,
}

impl RunDocument {
    /// Merges unit documents (with their S3 keys) and failed units into the run document, the
    /// way [`RunMerger`] does account by account.
    pub fn merge(
        run_id: &str,
        trigger: &str,
        created_at: String,
        units: Vec<(String, UnitScanDocument)>,
        failed_units: Vec<FailedUnit>,
    ) -> RunDocument {
        let mut by_account = std::collections::BTreeMap::<String, Vec<_>>::new();
        for (key, unit) in units {
            by_account
                .entry(unit.account_id.clone())
                .or_default()
                .push((key, unit));
        }
        let own_account = by_account.keys().next().cloned().unwrap_or_default();
        let mut merger = RunMerger::default();
        let mut findings = Vec::new();
        for (account, units) in by_account {
            findings.extend(merger.add_account(&account, None, units));
        }
        let mut document = merger.finish(run_id, &own_account, trigger, created_at, failed_units);
        document.findings = findings;
        document
    }

    /// Every field but `findings`, borrowed: what follows the findings when the document is
    /// written piece by piece (`aggregate` streams the findings first).
    pub fn without_findings(&self) -> RunDocumentRest<'_> {
        RunDocumentRest {
            schema_version: self.schema_version,
            run_id: &self.run_id,
            account_id: &self.account_id,
            trigger: &self.trigger,
            created_at: &self.created_at,
            units: &self.units,
            failed_units: &self.failed_units,
            complete: self.complete,
            summary: &self.summary,
            accounts: &self.accounts,
            errors: &self.errors,
            rule_parameters: &self.rule_parameters,
        }
    }

    /// The summary of one account, when the run scanned it.
    pub fn account(&self, account_id: &str) -> Option<&AccountSummary> {
        self.accounts.iter().find(|a| a.account_id == account_id)
    }
}

/// [`RunDocument`] without its findings (see [`RunDocument::without_findings`]).
#[derive(Debug, Serialize)]
pub struct RunDocumentRest<'a> {
    schema_version: u32,
    run_id: &'a str,
    account_id: &'a str,
    trigger: &'a str,
    created_at: &'a str,
    units: &'a [UnitRecord],
    failed_units: &'a [FailedUnit],
    complete: bool,
    summary: &'a Summary,
    accounts: &'a [AccountSummary],
    errors: &'a [ScanError],
    rule_parameters: &'a Option<RuleParametersUsed>,
}

/// Running totals of unit summaries.
#[derive(Debug, Clone, Default)]
struct Totals {
    resources: usize,
    evaluated: usize,
    passed: usize,
    muted: usize,
    by_severity: crate::SeverityCounts,
    by_rule: std::collections::BTreeMap<String, crate::finding::RuleChecks>,
}

impl Totals {
    fn absorb(&mut self, s: &Summary) {
        self.resources += s.resources_scanned;
        self.evaluated += s.checks_evaluated;
        self.passed += s.checks_passed;
        self.muted += s.muted_findings;
        self.by_severity.absorb(&s.findings_by_severity);
        for (rule, checks) in &s.checks_by_rule {
            self.by_rule.entry(rule.clone()).or_default().absorb(checks);
        }
    }

    fn summary(self) -> Summary {
        Summary {
            resources_scanned: self.resources,
            checks_evaluated: self.evaluated,
            checks_passed: self.passed,
            checks_failed: self.evaluated - self.passed,
            compliance_score: score(self.passed, self.evaluated),
            findings_by_severity: self.by_severity,
            muted_findings: self.muted,
            checks_by_rule: self.by_rule,
        }
    }
}

/// Builds a run document one account at a time, so that only one account's findings are held
/// at once (`aggregate` streams each account's findings out as it goes).
#[derive(Debug, Default)]
pub struct RunMerger {
    totals: Totals,
    accounts: Vec<AccountSummary>,
    records: Vec<UnitRecord>,
    errors: Vec<ScanError>,
    parameters: ParametersCollector,
}

impl RunMerger {
    /// Takes one account's unit documents; returns its findings, most severe first.
    pub fn add_account(
        &mut self,
        account_id: &str,
        name: Option<&str>,
        units: Vec<(String, UnitScanDocument)>,
    ) -> Vec<Finding> {
        let mut account = Totals::default();
        let mut findings = Vec::new();
        let (unit_count, mut error_count) = (units.len(), 0);
        for (key, unit) in units {
            self.totals.absorb(&unit.summary);
            account.absorb(&unit.summary);
            error_count += unit.errors.len();
            if let Some(values) = &unit.rule_parameters {
                self.parameters.add(unit.label(), values);
            }
            self.records.push(UnitRecord {
                account_id: unit.account_id.clone(),
                region: unit.region.clone(),
                service: unit.service,
                key,
                resources_scanned: unit.summary.resources_scanned,
                error_count: unit.errors.len(),
            });
            findings.extend(unit.findings);
            self.errors.extend(unit.errors);
        }
        findings.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| {
                (&a.rule_id, &a.region, &a.resource_arn).cmp(&(
                    &b.rule_id,
                    &b.region,
                    &b.resource_arn,
                ))
            })
        });
        self.accounts.push(AccountSummary {
            account_id: account_id.to_string(),
            name: name.map(str::to_string),
            summary: account.summary(),
            units: unit_count,
            failed_units: 0,
            errors: error_count,
        });
        findings
    }

    /// The run document without its findings (the caller has them, or streamed them out).
    /// Failed units count against their accounts; an account none of whose units ran still
    /// gets its line, so that an unreachable account is visible in every report.
    pub fn finish(
        mut self,
        run_id: &str,
        own_account: &str,
        trigger: &str,
        created_at: String,
        failed_units: Vec<FailedUnit>,
    ) -> RunDocument {
        for failed in &failed_units {
            let position = self
                .accounts
                .iter()
                .position(|a| a.account_id == failed.account_id);
            let index = position.unwrap_or_else(|| {
                self.accounts.push(AccountSummary {
                    account_id: failed.account_id.clone(),
                    name: None,
                    summary: Totals::default().summary(),
                    units: 0,
                    failed_units: 0,
                    errors: 0,
                });
                self.accounts.len() - 1
            });
            self.accounts[index].failed_units += 1;
        }
        self.accounts.sort_by(worst_first);
        self.records.sort_by(|a, b| {
            (&a.account_id, &a.region, a.service).cmp(&(&b.account_id, &b.region, b.service))
        });
        RunDocument {
            schema_version: REPORT_SCHEMA_VERSION,
            run_id: run_id.to_string(),
            account_id: own_account.to_string(),
            trigger: trigger.to_string(),
            created_at,
            units: self.records,
            complete: failed_units.is_empty() && self.errors.is_empty(),
            failed_units,
            summary: self.totals.summary(),
            accounts: self.accounts,
            findings: Vec::new(),
            errors: self.errors,
            rule_parameters: self.parameters.finish(),
        }
    }
}

/// Accounts that failed to scan first, then the lowest score, then the most severe findings.
fn worst_first(a: &AccountSummary, b: &AccountSummary) -> std::cmp::Ordering {
    let severity_key = |s: &AccountSummary| {
        crate::Severity::ALL_DESCENDING
            .map(|sev| std::cmp::Reverse(s.summary.findings_by_severity.get(sev)))
    };
    b.failed_units
        .min(1)
        .cmp(&a.failed_units.min(1))
        .then_with(|| {
            let score = |s: &AccountSummary| s.summary.compliance_score.unwrap_or(100.0);
            score(a).total_cmp(&score(b))
        })
        .then_with(|| severity_key(a).cmp(&severity_key(b)))
        .then_with(|| a.account_id.cmp(&b.account_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_rest_is_the_document_but_its_findings() {
        let unit = crate::testing::ec2_unit("r", "eu-west-1", &[("sg-1", &[22])]);
        let document = RunDocument::merge(
            "r",
            "manual",
            "2026-12-01T00:00:00Z".into(),
            vec![("k".into(), unit)],
            vec![],
        );
        let mut whole = serde_json::to_value(&document).unwrap();
        whole.as_object_mut().unwrap().remove("findings");
        assert_eq!(
            serde_json::to_value(document.without_findings()).unwrap(),
            whole
        );
    }

    #[test]
    fn the_run_records_the_parameters_its_units_used() {
        let unit = |region: &str, minimum: i64| {
            let mut u = crate::testing::ec2_unit("r", region, &[("sg-1", &[22])]);
            let settings = crate::EvaluationSettings {
                rule_parameters: crate::rules::RuleParameters::parse(&format!(
                    r#"{{"rds_instance_backup_retention": {{"backupRetentionMinimum": {minimum}}}}}"#
                ))
                .unwrap(),
                ..Default::default()
            };
            u.rule_parameters = Some(settings.rule_parameters.effective());
            u
        };
        let merge = |units: Vec<UnitScanDocument>| {
            RunDocument::merge(
                "r",
                "manual",
                "2026-12-01T00:00:00Z".into(),
                units.into_iter().map(|u| (String::new(), u)).collect(),
                vec![],
            )
        };
        let same = merge(vec![unit("eu-west-1", 14), unit("us-east-1", 14)]);
        let used = same.rule_parameters.unwrap();
        assert!(used.consistent());
        assert_eq!(
            used.values["rds_instance_backup_retention"],
            json!({"backupRetentionMinimum": 14})
        );
        let changed = merge(vec![unit("eu-west-1", 7), unit("us-east-1", 14)]);
        let used = changed.rule_parameters.clone().unwrap();
        assert_eq!(used.differing.len(), 1);
        assert_eq!(used.differing[0].values[1].value, json!(14));
        assert!(used.differing[0].values[1].units[0].ends_with("/us-east-1/ec2"));
        // Documents written before units recorded parameters read back without them.
        let mut old = serde_json::to_value(unit("eu-west-1", 7)).unwrap();
        old.as_object_mut().unwrap().remove("rule_parameters");
        let old: UnitScanDocument = serde_json::from_value(old).unwrap();
        assert_eq!(merge(vec![old]).rule_parameters, None);
        let mut run = serde_json::to_value(&changed).unwrap();
        run.as_object_mut().unwrap().remove("rule_parameters");
        let run: RunDocument = serde_json::from_value(run).unwrap();
        assert_eq!(run.rule_parameters, None);
    }

    #[test]
    fn flattens_nested_results_and_failures() {
        let ok = json!({"run_id":"r","account_id":"123456789012","region":"eu-west-1","service":"ec2","resources_scanned":3,
            "findings_by_severity":{"critical":1,"high":0,"medium":0,"low":0,"informational":0},
            "findings_key":"runs/r/scans/eu-west-1/ec2.json","errors":[],"error_count":0});
        let failed = json!({"run_id":"r","region":"ap-southeast-1","service":"rds",
            "error":{"Error":"ComplianceScanner.AwsError","Cause":"{\"errorMessage\":\"denied\"}"}});
        let entries = scan_entries(&json!([[[ok.clone(), failed]], ok])).unwrap();
        assert_eq!(entries.len(), 3);
        assert!(
            matches!(&entries[1], ScanEntry::Failed(f) if f.region == "ap-southeast-1" && f.error == "ComplianceScanner.AwsError")
        );
        let err = scan_entries(&json!([[{"region": 1}]]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("scans[0][0]"), "{err}");
    }
}
