//! A workflow run: the per-(region, service) results merged into one document.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::CoreError;
use crate::finding::{Finding, ScanError};
use crate::model::Service;
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
    pub region: String,
    pub service: Service,
    pub key: String,
    pub resources_scanned: usize,
    pub error_count: usize,
}

/// Everything a run found, in one object (`runs/{run_id}/run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDocument {
    pub schema_version: u32,
    pub run_id: String,
    pub account_id: String,
    pub trigger: String,
    pub created_at: String,
    pub units: Vec<UnitRecord>,
    pub failed_units: Vec<FailedUnit>,
    /// False when a unit failed or any API could not be read.
    pub complete: bool,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
}

impl RunDocument {
    /// Merges unit documents (with their S3 keys) and failed units into the run document.
    pub fn merge(
        run_id: &str,
        trigger: &str,
        created_at: String,
        units: Vec<(String, UnitScanDocument)>,
        failed_units: Vec<FailedUnit>,
    ) -> RunDocument {
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        let mut records = Vec::new();
        let (mut resources, mut evaluated, mut passed, mut muted) = (0, 0, 0, 0);
        let mut by_severity = crate::SeverityCounts::default();
        let mut by_rule = std::collections::BTreeMap::<String, crate::finding::RuleChecks>::new();
        let mut account_id = String::new();
        for (key, unit) in units {
            if account_id.is_empty() {
                account_id.clone_from(&unit.account_id);
            }
            resources += unit.summary.resources_scanned;
            evaluated += unit.summary.checks_evaluated;
            passed += unit.summary.checks_passed;
            muted += unit.summary.muted_findings;
            by_severity.absorb(&unit.summary.findings_by_severity);
            for (rule, checks) in &unit.summary.checks_by_rule {
                by_rule.entry(rule.clone()).or_default().absorb(checks);
            }
            records.push(UnitRecord {
                region: unit.region.clone(),
                service: unit.service,
                key,
                resources_scanned: unit.summary.resources_scanned,
                error_count: unit.errors.len(),
            });
            findings.extend(unit.findings);
            errors.extend(unit.errors);
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
        records.sort_by(|a, b| (&a.region, a.service).cmp(&(&b.region, b.service)));
        RunDocument {
            schema_version: REPORT_SCHEMA_VERSION,
            run_id: run_id.to_string(),
            account_id,
            trigger: trigger.to_string(),
            created_at,
            units: records,
            complete: failed_units.is_empty() && errors.is_empty(),
            failed_units,
            summary: Summary {
                resources_scanned: resources,
                checks_evaluated: evaluated,
                checks_passed: passed,
                checks_failed: evaluated - passed,
                compliance_score: score(passed, evaluated),
                findings_by_severity: by_severity,
                muted_findings: muted,
                checks_by_rule: by_rule,
            },
            findings,
            errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_nested_results_and_failures() {
        let ok = json!({"run_id":"r","region":"eu-west-1","service":"ec2","resources_scanned":3,
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
