//! Values with rules that travel between states: a run id, the S3 keys of a run, an account id.
//! Each is checked once, when it is deserialised, so a handler never sees an invalid one.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::model::Service;

/// A text value checked once, when it is made: `$validate` says whether a string is one.
macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, $validate:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<$name, CoreError> {
                $validate(text)?;
                Ok($name(text.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                $validate(&text)?;
                Ok($name(text))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_text!(
    /// A run id: 1-80 of `[A-Za-z0-9_-]` (the Step Functions execution-name alphabet). It becomes
    /// part of every S3 key of the run, so no key built from it can escape the run's prefix.
    RunId,
    validate_run_id
);

impl RunId {
    /// Every S3 key of this run.
    pub fn keys(&self) -> RunKeys<'_> {
        RunKeys { run: self }
    }
}

checked_text!(
    /// A 12-digit AWS account id.
    AccountId,
    validate_account_id
);

checked_text!(
    /// An AWS region name (`eu-west-1`, `us-gov-west-1`, ...).
    Region,
    validate_region
);

fn validate_account_id(id: &str) -> Result<(), CoreError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(CoreError::InvalidParameter {
            parameter: "account_id".into(),
            reason: format!("`{id}` is not a 12-digit AWS account id"),
        })
    }
}

fn validate_region(name: &str) -> Result<(), CoreError> {
    if crate::config::is_region_name(name) {
        Ok(())
    } else {
        Err(CoreError::InvalidParameter {
            parameter: "region".into(),
            reason: format!("`{name}` is not an AWS region name"),
        })
    }
}

/// Run ids end up in S3 keys and execution names: 1-80 of `[A-Za-z0-9_-]`.
fn validate_run_id(run_id: &str) -> Result<(), CoreError> {
    let ok = !run_id.is_empty()
        && run_id.len() <= 80
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CoreError::InvalidParameter {
            parameter: "run_id".into(),
            reason: format!("`{run_id}` must be 1-80 characters of letters, digits, `-` and `_`"),
        })
    }
}

/// The one place that names a run's objects in the reports bucket.
#[derive(Debug, Clone, Copy)]
pub struct RunKeys<'a> {
    run: &'a RunId,
}

impl RunKeys<'_> {
    /// `runs/{run}/`: every working object of the run.
    pub fn run_prefix(&self) -> String {
        format!("runs/{}/", self.run)
    }

    /// `runs/{run}/run.json`: the merged run document.
    pub fn run_document(&self) -> String {
        format!("runs/{}/run.json", self.run)
    }

    /// `runs/{run}/analysis.json`
    pub fn analysis(&self) -> String {
        format!("runs/{}/analysis.json", self.run)
    }

    /// `runs/{run}/remediation.json`: the remediation decisions.
    pub fn remediation(&self) -> String {
        format!("runs/{}/remediation.json", self.run)
    }

    /// `runs/{run}/alerts/{kind}.json`: the alert of this kind (`findings`, `failure`) the run
    /// sent, so that a re-run of the alert state does not send it again.
    pub fn alert_sent(&self, kind: &str) -> String {
        format!("runs/{}/alerts/{kind}.json", self.run)
    }

    /// `runs/{run}/lifecycle.json`: the run's lifecycle decisions, recorded before the findings
    /// table is written, so that a re-run of store-report writes and reports the same ones.
    pub fn lifecycle(&self) -> String {
        format!("runs/{}/lifecycle.json", self.run)
    }

    /// `runs/{run}/scans/{account}/{region}/{service}.json`: one unit's scan document.
    pub fn unit(&self, account: &str, region: &str, service: Service) -> String {
        format!("runs/{}/scans/{account}/{region}/{service}.json", self.run)
    }

    /// `runs/{run}/plan.json`: the accounts, regions and services the run covers.
    pub fn plan(&self) -> String {
        format!("runs/{}/plan.json", self.run)
    }

    /// `runs/{run}/plan-units.json`: the units, the array the scan map reads.
    pub fn plan_units(&self) -> String {
        format!("runs/{}/plan-units.json", self.run)
    }

    /// `runs/{run}/map`: where the scan map's ResultWriter puts its manifest and result files.
    pub fn map_results_prefix(&self) -> String {
        format!("runs/{}/map", self.run)
    }

    /// `reports/YYYY/MM/DD/{run}`: the prefix of the run's reports, dated by the run's start.
    pub fn report_prefix(&self, created_at: &str) -> String {
        let date = created_at
            .get(..10)
            .unwrap_or("1970-01-01")
            .replace('-', "/");
        format!("reports/{date}/{}", self.run)
    }
}

/// The run document's key as a state receives it: it must be the run document of the run it
/// travels with (no state reads another run's objects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRunRef")]
pub struct RunRef {
    pub run_id: RunId,
    pub run_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunRef {
    run_id: RunId,
    run_key: String,
}

impl TryFrom<RawRunRef> for RunRef {
    type Error = CoreError;
    fn try_from(raw: RawRunRef) -> Result<Self, Self::Error> {
        RunRef::new(raw.run_id, raw.run_key)
    }
}

impl RunRef {
    pub fn new(run_id: RunId, run_key: String) -> Result<RunRef, CoreError> {
        if run_key != run_id.keys().run_document() {
            return Err(CoreError::InvalidParameter {
                parameter: "run_key".into(),
                reason: format!("`{run_key}` is not the run document of run `{run_id}`"),
            });
        }
        Ok(RunRef { run_id, run_key })
    }

    /// The reference to a run's document, built from its id.
    pub fn of(run_id: RunId) -> RunRef {
        let run_key = run_id.keys().run_document();
        RunRef { run_id, run_key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_checked_when_read() {
        let id: RunId = serde_json::from_str(r#""2026-11-23T10-00-00Z_scheduled""#).unwrap();
        assert_eq!(id.as_str(), "2026-11-23T10-00-00Z_scheduled");
        let too_long = format!("\"{}\"", "x".repeat(81));
        for bad in [
            r#""""#,
            r#""../x""#,
            r#""a/b""#,
            r#""a b""#,
            too_long.as_str(),
        ] {
            let err = serde_json::from_str::<RunId>(bad).unwrap_err().to_string();
            assert!(err.contains("run_id"), "{bad}: {err}");
        }
    }

    #[test]
    fn every_key_of_a_run_is_under_its_prefix() {
        let id = RunId::parse("r1").unwrap();
        let keys = id.keys();
        assert_eq!(keys.run_document(), "runs/r1/run.json");
        assert_eq!(keys.analysis(), "runs/r1/analysis.json");
        assert_eq!(keys.remediation(), "runs/r1/remediation.json");
        assert_eq!(keys.alert_sent("findings"), "runs/r1/alerts/findings.json");
        assert_eq!(keys.lifecycle(), "runs/r1/lifecycle.json");
        assert_eq!(
            keys.unit("123456789012", "eu-west-1", Service::Ec2),
            "runs/r1/scans/123456789012/eu-west-1/ec2.json"
        );
        assert_eq!(keys.plan(), "runs/r1/plan.json");
        assert_eq!(keys.plan_units(), "runs/r1/plan-units.json");
        assert!(keys.map_results_prefix().starts_with(&keys.run_prefix()));
        assert_eq!(
            keys.report_prefix("2026-11-23T10:00:00Z"),
            "reports/2026/11/23/r1"
        );
        let reports = super::super::ReportKeys::under(&keys.report_prefix("2026-11-23T10:00:00Z"));
        assert_eq!(reports.json, "reports/2026/11/23/r1/report.json");
        assert_eq!(reports.html, "reports/2026/11/23/r1/report.html");
    }

    #[test]
    fn a_run_key_must_belong_to_its_run() {
        let ok: RunRef =
            serde_json::from_str(r#"{"run_id": "r1", "run_key": "runs/r1/run.json"}"#).unwrap();
        assert_eq!(ok, RunRef::of(RunId::parse("r1").unwrap()));
        let err =
            serde_json::from_str::<RunRef>(r#"{"run_id": "r1", "run_key": "runs/r2/run.json"}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("run_key") && err.contains("r2"), "{err}");
        let err = serde_json::from_str::<RunRef>(r#"{"run_id": "r1"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `run_key`"), "{err}");
    }

    #[test]
    fn account_ids_and_regions_are_checked() {
        assert!(serde_json::from_str::<AccountId>(r#""123456789012""#).is_ok());
        assert!(serde_json::from_str::<AccountId>(r#""12345""#).is_err());
        assert!(serde_json::from_str::<Region>(r#""eu-west-1""#).is_ok());
        let err = serde_json::from_str::<Region>(r#""mars-1""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mars-1"), "{err}");
    }
}
