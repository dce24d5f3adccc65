//! The scan map's results as a Distributed Map's ResultWriter leaves them in S3 (a manifest and
//! result files of child executions), reconciled with the plan: every planned unit ends up
//! completed or failed, and nothing outside the plan is read.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::contract::RegionScanInput;
use crate::error::CoreError;
use crate::run::{scan_entries, FailedUnit, ScanEntry};
use crate::unit::UnitScanSummary;

/// `manifest.json` of a ResultWriter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultManifest {
    #[serde(default)]
    pub map_run_arn: String,
    pub result_files: ResultFiles,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ResultFiles {
    #[serde(rename = "SUCCEEDED", default)]
    pub succeeded: Vec<ResultFile>,
    #[serde(rename = "FAILED", default)]
    pub failed: Vec<ResultFile>,
    #[serde(rename = "PENDING", default)]
    pub pending: Vec<ResultFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultFile {
    pub key: String,
    #[serde(default)]
    pub size: u64,
}

impl ResultManifest {
    /// Every result file, each of which must lie under the run's map prefix.
    pub fn files(&self, prefix: &str) -> Result<Vec<&str>, CoreError> {
        let files = &self.result_files;
        let keys: Vec<&str> = files
            .succeeded
            .iter()
            .chain(&files.failed)
            .chain(&files.pending)
            .map(|f| f.key.as_str())
            .collect();
        match keys.iter().find(|k| !under(k, prefix)) {
            Some(outside) => Err(CoreError::InvalidParameter {
                parameter: "manifest_key".into(),
                reason: format!("the manifest lists `{outside}`, outside the run's `{prefix}/`"),
            }),
            None => Ok(keys),
        }
    }
}

/// `key` is below `prefix/` and climbs nowhere.
pub fn under(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| !rest.is_empty() && !rest.split('/').any(|p| p == ".." || p.is_empty()))
}

/// One child execution in a result file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChildExecution {
    #[serde(default)]
    pub status: String,
    /// The item, as JSON text.
    #[serde(default)]
    pub input: Option<String>,
    /// The child's output, as JSON text (succeeded children).
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// What a result file's children amount to: the scan results and caught failures their outputs
/// carry, and children that failed outright (named by their input).
pub fn child_entries(children: &[ChildExecution], file: &str) -> Result<Vec<ScanEntry>, CoreError> {
    let mut entries = Vec::new();
    for (i, child) in children.iter().enumerate() {
        let at = format!("{file}[{i}]");
        let parse = |text: &str, what: &str| {
            serde_json::from_str::<Value>(text).map_err(|e| CoreError::InvalidParameter {
                parameter: at.clone(),
                reason: format!("the {what} is not JSON: {e}"),
            })
        };
        if let (Some(output), "SUCCEEDED" | "") = (&child.output, child.status.as_str()) {
            entries.extend(scan_entries(&parse(output, "Output")?)?);
        } else {
            {
                let input = match &child.input {
                    Some(text) => parse(text, "Input")?,
                    None => Value::Null,
                };
                let field = |name: &str| {
                    input
                        .get(name)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                entries.push(ScanEntry::Failed(FailedUnit {
                    account_id: field("account_id"),
                    region: field("region"),
                    service: field("service"),
                    error: child
                        .error
                        .clone()
                        .unwrap_or_else(|| format!("States.{}", child.status)),
                    cause: child.cause.clone().unwrap_or_default(),
                }));
            }
        }
    }
    Ok(entries)
}

/// Every planned unit, completed or failed, in plan order. A unit with no result at all
/// becomes a failure (`ComplianceScanner.NoResult`); a result for a unit the plan does not
/// have is refused, since it would be read from outside the run's scope.
pub fn reconcile(
    planned: &[RegionScanInput],
    entries: Vec<ScanEntry>,
) -> Result<(Vec<UnitScanSummary>, Vec<FailedUnit>), CoreError> {
    type UnitId = (String, String, String);
    let id_of = |u: &RegionScanInput| -> UnitId {
        (
            u.account_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            u.region.to_string(),
            u.service.to_string(),
        )
    };
    let mut results: BTreeMap<UnitId, ScanEntry> = BTreeMap::new();
    for entry in entries {
        let id = match &entry {
            ScanEntry::Completed(s) => (
                s.account_id.clone(),
                s.region.clone(),
                s.service.to_string(),
            ),
            ScanEntry::Failed(f) => (
                f.account_id.clone(),
                f.region.clone(),
                f.service.to_ascii_lowercase(),
            ),
        };
        if !planned.iter().any(|u| id_of(u) == id) {
            return Err(CoreError::InvalidParameter {
                parameter: "scan results".into(),
                reason: format!(
                    "a result for account {} {} {} is not in the run's plan",
                    id.0, id.1, id.2
                ),
            });
        }
        // A completed retry wins over an earlier failure of the same unit.
        let keep_old = matches!(results.get(&id), Some(ScanEntry::Completed(_)));
        if !keep_old {
            results.insert(id, entry);
        }
    }
    let mut completed = Vec::new();
    let mut failed = Vec::new();
    for unit in planned {
        match results.remove(&id_of(unit)) {
            Some(ScanEntry::Completed(s)) => completed.push(s),
            Some(ScanEntry::Failed(f)) => failed.push(f),
            None => failed.push(FailedUnit {
                account_id: id_of(unit).0,
                region: unit.region.to_string(),
                service: unit.service.to_string(),
                error: "ComplianceScanner.NoResult".into(),
                cause: "the scan map recorded no result for this unit".into(),
            }),
        }
    }
    Ok((completed, failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{AccountId, Region, RunId};
    use crate::model::Service;
    use serde_json::json;

    fn unit(account: &str, region: &str, service: Service) -> RegionScanInput {
        RegionScanInput {
            run_id: RunId::parse("r1").unwrap(),
            account_id: Some(AccountId::parse(account).unwrap()),
            region: Region::parse(region).unwrap(),
            service,
            role_arn: None,
        }
    }

    fn summary(account: &str, region: &str, service: &str) -> Value {
        json!({"run_id": "r1", "account_id": account, "region": region, "service": service,
            "resources_scanned": 1, "findings_by_severity": {"critical": 0, "high": 0, "medium": 0,
            "low": 0, "informational": 0},
            "findings_key": format!("runs/r1/scans/{account}/{region}/{service}.json"),
            "errors": [], "error_count": 0})
    }

    #[test]
    fn every_planned_unit_is_completed_or_failed() {
        let planned = [
            unit("111111111111", "eu-west-1", Service::Ec2),
            unit("222222222222", "eu-west-1", Service::Ec2),
            unit("222222222222", "eu-west-1", Service::S3),
            unit("333333333333", "eu-west-1", Service::Rds),
        ];
        let caught = json!({"run_id": "r1", "account_id": "222222222222", "region": "eu-west-1",
            "service": "s3", "error": {"Error": "ComplianceScanner.AccessDenied",
            "Cause": "cannot assume role"}});
        let children = vec![
            ChildExecution {
                status: "SUCCEEDED".into(),
                input: None,
                output: Some(summary("111111111111", "eu-west-1", "ec2").to_string()),
                error: None,
                cause: None,
            },
            ChildExecution {
                status: "SUCCEEDED".into(),
                input: None,
                output: Some(caught.to_string()),
                error: None,
                cause: None,
            },
            ChildExecution {
                status: "FAILED".into(),
                input: Some(r#"{"run_id":"r1","account_id":"222222222222","region":"eu-west-1","service":"ec2"}"#.into()),
                output: None,
                error: Some("States.Timeout".into()),
                cause: Some("the child timed out".into()),
            },
        ];
        let entries = child_entries(&children, "SUCCEEDED_0.json").unwrap();
        let (completed, failed) = reconcile(&planned, entries).unwrap();
        assert_eq!(completed.len(), 1);
        let failed: Vec<(&str, &str, &str)> = failed
            .iter()
            .map(|f| (f.account_id.as_str(), f.service.as_str(), f.error.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                ("222222222222", "ec2", "States.Timeout"),
                ("222222222222", "s3", "ComplianceScanner.AccessDenied"),
                ("333333333333", "rds", "ComplianceScanner.NoResult"),
            ]
        );
    }

    #[test]
    fn results_outside_the_plan_or_the_prefix_are_refused() {
        let planned = [unit("111111111111", "eu-west-1", Service::Ec2)];
        let entries = scan_entries(&summary("999999999999", "eu-west-1", "ec2")).unwrap();
        let err = reconcile(&planned, entries).unwrap_err().to_string();
        assert!(err.contains("999999999999"), "{err}");
        let manifest: ResultManifest = serde_json::from_value(json!({
            "DestinationBucket": "b", "MapRunArn": "arn",
            "ResultFiles": {"SUCCEEDED": [{"Key": "runs/r1/map/x/SUCCEEDED_0.json", "Size": 1}],
                "FAILED": [{"Key": "runs/r2/map/x/FAILED_0.json", "Size": 1}], "PENDING": []}
        }))
        .unwrap();
        let err = manifest.files("runs/r1/map").unwrap_err().to_string();
        assert!(err.contains("runs/r2/map"), "{err}");
        assert!(!under("runs/r1/map/../r2/x", "runs/r1/map"));
        assert!(under("runs/r1/map/u/SUCCEEDED_0.json", "runs/r1/map"));
    }
}
