//! The scan map's results as a Distributed Map's ResultWriter leaves them in S3 (a manifest and
//! result files of child executions), checked against the plan: every planned unit ends up
//! completed or failed, and nothing outside the plan is read. Only failures are kept: memory
//! does not grow with the number of units that completed.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::contract::RegionScanInput;
use crate::error::CoreError;
use crate::plan::ScanPlan;
use crate::run::{scan_entries, FailedUnit, ScanEntry};

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

/// What one child amounts to: the scan result or caught failure its output carries, or, for a
/// child that failed outright, a failure named by its input.
fn child_entries(child: &ChildExecution, at: &str) -> Result<Vec<ScanEntry>, CoreError> {
    let parse = |text: &str, what: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| CoreError::InvalidParameter {
            parameter: at.to_string(),
            reason: format!("the {what} is not JSON: {e}"),
        })
    };
    if let (Some(output), "SUCCEEDED" | "") = (&child.output, child.status.as_str()) {
        return scan_entries(&parse(output, "Output")?);
    }
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
    Ok(vec![ScanEntry::Failed(FailedUnit {
        account_id: field("account_id"),
        region: field("region"),
        service: field("service"),
        error: child
            .error
            .clone()
            .unwrap_or_else(|| format!("States.{}", child.status)),
        cause: child.cause.clone().unwrap_or_default(),
    })])
}

/// (account, region, service) of a unit.
type UnitId = (String, String, String);

fn unit_id(unit: &RegionScanInput) -> UnitId {
    (
        unit.account_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        unit.region.to_string(),
        unit.service.to_string(),
    )
}

/// The scan map's results, read file by file and child by child, keeping only what aggregate
/// needs: the failed units (completed ones are read from their derived keys, account by
/// account). Every result must be a unit of the plan: one from outside it is refused.
pub struct MapOutcome<'p> {
    plan: &'p ScanPlan,
    failures: BTreeMap<UnitId, FailedUnit>,
    /// Children whose unit completed.
    pub completed: usize,
}

impl<'p> MapOutcome<'p> {
    pub fn new(plan: &'p ScanPlan) -> Self {
        MapOutcome {
            plan,
            failures: BTreeMap::new(),
            completed: 0,
        }
    }

    /// Reads one result file (a JSON array of child executions) without holding its children.
    pub fn read_file(&mut self, bytes: &[u8], file: &str) -> Result<(), CoreError> {
        let mut failure = None;
        let mut index = 0usize;
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let read = serde::Deserializer::deserialize_seq(
            &mut deserializer,
            EachChild(|child: ChildExecution| {
                let at = format!("{file}[{index}]");
                index += 1;
                let absorbed = child_entries(&child, &at)
                    .and_then(|entries| entries.into_iter().try_for_each(|e| self.absorb(e)));
                absorbed.map_err(|e| {
                    let text = e.to_string();
                    failure = Some(e);
                    text
                })
            }),
        );
        match (read, failure) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(CoreError::InvalidParameter {
                parameter: file.to_string(),
                reason: format!("not a result file of child executions: {e}"),
            }),
            (Ok(()), None) => Ok(()),
        }
    }

    fn absorb(&mut self, entry: ScanEntry) -> Result<(), CoreError> {
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
        let planned = self
            .plan
            .accounts
            .iter()
            .any(|a| a.account_id.as_str() == id.0)
            && self.plan.regions.iter().any(|r| r.as_str() == id.1)
            && self.plan.services.iter().any(|s| s.to_string() == id.2);
        if !planned {
            return Err(CoreError::InvalidParameter {
                parameter: "scan results".into(),
                reason: format!(
                    "a result for account {} {} {} is not in the run's plan",
                    id.0, id.1, id.2
                ),
            });
        }
        match entry {
            // A completed retry wins over an earlier failure of the same unit.
            ScanEntry::Completed(_) => {
                self.failures.remove(&id);
                self.completed += 1;
            }
            ScanEntry::Failed(f) => {
                self.failures.insert(id, f);
            }
        }
        Ok(())
    }

    /// The failure the map recorded for `unit`, if it failed.
    pub fn take_failure(&mut self, unit: &RegionScanInput) -> Option<FailedUnit> {
        self.failures.remove(&unit_id(unit))
    }
}

/// A planned unit that neither failed nor left its scan document at `key`.
pub fn no_result(unit: &RegionScanInput, key: &str) -> FailedUnit {
    let (account_id, region, service) = unit_id(unit);
    FailedUnit {
        account_id,
        region,
        service,
        error: "ComplianceScanner.NoResult".into(),
        cause: format!("the scan map recorded no failure for this unit, and {key} does not exist"),
    }
}

/// Hands each element of a JSON array to a function, one at a time.
struct EachChild<F>(F);

impl<'de, F: FnMut(ChildExecution) -> Result<(), String>> serde::de::Visitor<'de> for EachChild<F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of child executions")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(child) = seq.next_element::<ChildExecution>()? {
            (self.0)(child).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::ScanTarget;
    use crate::contract::{AccountId, Region, RunId};
    use crate::model::Service;
    use serde_json::json;

    fn plan(accounts: &[&str]) -> ScanPlan {
        ScanPlan {
            schema_version: 1,
            run_id: RunId::parse("r1").unwrap(),
            created_at: String::new(),
            own_account_id: AccountId::parse(accounts[0]).unwrap(),
            regions: vec![Region::parse("eu-west-1").unwrap()],
            services: vec![Service::Ec2, Service::S3, Service::Rds],
            accounts: accounts
                .iter()
                .map(|a| ScanTarget {
                    account_id: AccountId::parse(a).unwrap(),
                    name: None,
                    role_arn: None,
                })
                .collect(),
        }
    }

    fn summary(account: &str, region: &str, service: &str) -> Value {
        json!({"run_id": "r1", "account_id": account, "region": region, "service": service,
            "resources_scanned": 1, "findings_by_severity": {"critical": 0, "high": 0, "medium": 0,
            "low": 0, "informational": 0},
            "findings_key": format!("runs/r1/scans/{account}/{region}/{service}.json"),
            "errors": [], "error_count": 0})
    }

    fn file(children: &[Value]) -> Vec<u8> {
        serde_json::to_vec(children).unwrap()
    }

    #[test]
    fn only_failures_are_kept_and_a_completed_retry_wins() {
        let plan = plan(&["111111111111", "222222222222"]);
        let caught = json!({"run_id": "r1", "account_id": "222222222222", "region": "eu-west-1",
            "service": "s3", "error": {"Error": "ComplianceScanner.AwsError",
            "Cause": "cannot assume role"}});
        let succeeded =
            |output: Value| json!({"Status": "SUCCEEDED", "Output": output.to_string()});
        let mut outcome = MapOutcome::new(&plan);
        outcome
            .read_file(
                &file(&[
                    succeeded(summary("111111111111", "eu-west-1", "ec2")),
                    succeeded(caught),
                    json!({"Status": "FAILED", "Error": "States.Timeout", "Cause": "timed out",
                        "Input": r#"{"run_id":"r1","account_id":"222222222222","region":"eu-west-1","service":"ec2"}"#}),
                    json!({"Status": "ABORTED",
                        "Input": r#"{"run_id":"r1","account_id":"111111111111","region":"eu-west-1","service":"rds"}"#}),
                ]),
                "SUCCEEDED_0.json",
            )
            .unwrap();
        // A later file with the rds unit's successful redrive.
        outcome
            .read_file(
                &file(&[succeeded(summary("111111111111", "eu-west-1", "rds"))]),
                "SUCCEEDED_1.json",
            )
            .unwrap();
        assert_eq!(outcome.completed, 2);
        let mut failed = Vec::new();
        for unit in plan.units() {
            if let Some(f) = outcome.take_failure(&unit) {
                failed.push((f.account_id, f.service, f.error));
            }
        }
        let expected = |a: &str, s: &str, e: &str| (a.to_string(), s.to_string(), e.to_string());
        assert_eq!(
            failed,
            [
                expected("222222222222", "ec2", "States.Timeout"),
                expected("222222222222", "s3", "ComplianceScanner.AwsError"),
            ]
        );
        let missing = no_result(&plan.units()[0], "runs/r1/scans/x.json");
        assert_eq!(missing.error, "ComplianceScanner.NoResult");
        assert!(missing.cause.contains("runs/r1/scans/x.json"));
    }

    #[test]
    fn results_outside_the_plan_or_the_prefix_are_refused() {
        let plan = plan(&["111111111111"]);
        let stranger = json!({"Status": "SUCCEEDED",
            "Output": summary("999999999999", "eu-west-1", "ec2").to_string()});
        let err = MapOutcome::new(&plan)
            .read_file(&file(&[stranger]), "SUCCEEDED_0.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("999999999999"), "{err}");
        let err = MapOutcome::new(&plan)
            .read_file(br#"{"not": "an array"}"#, "SUCCEEDED_0.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SUCCEEDED_0.json"), "{err}");
        let err = MapOutcome::new(&plan)
            .read_file(
                &file(&[json!({"Status": "SUCCEEDED", "Output": "{"})]),
                "S.json",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("S.json[0]") && err.contains("not JSON"),
            "{err}"
        );
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
