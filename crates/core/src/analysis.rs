//! Analysis of a run: thresholds, the alert/clean decision, and the lifecycle of each finding
//! against the previous run (new, still open, resolved).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::finding::{count_by, Finding, FindingStatus};
use crate::run::RunDocument;
use crate::summary::Summary;

pub const PARAM_THRESHOLDS: &str = "/compliance/scanner/config/thresholds";

/// Limits above which a run alerts. A negative maximum means "no limit".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    #[serde(default)]
    pub max_critical: i64,
    #[serde(default)]
    pub max_high: i64,
    #[serde(default = "no_limit")]
    pub max_medium: i64,
    #[serde(default = "no_limit")]
    pub max_low: i64,
    /// Minimum compliance score in percent; below it the run alerts.
    #[serde(default)]
    pub min_score: f64,
}

fn no_limit() -> i64 {
    -1
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_critical: 0,
            max_high: 0,
            max_medium: -1,
            max_low: -1,
            min_score: 0.0,
        }
    }
}

impl Thresholds {
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        let t: Thresholds = crate::config::from_json_naming_field(json).map_err(|e| CoreError::InvalidParameter {
            parameter: PARAM_THRESHOLDS.into(),
            reason: format!("{e} (expected {{\"max_critical\", \"max_high\", \"max_medium\", \"max_low\", \"min_score\"}})"),
        })?;
        if !(0.0..=100.0).contains(&t.min_score) {
            return Err(CoreError::InvalidParameter {
                parameter: PARAM_THRESHOLDS.into(),
                reason: format!("min_score {} is not a percentage", t.min_score),
            });
        }
        Ok(t)
    }

    /// The reasons a run breaches the thresholds (empty: clean).
    pub fn breaches(&self, summary: &Summary) -> Vec<String> {
        let c = &summary.findings_by_severity;
        let mut out = Vec::new();
        for (name, count, max) in [
            ("critical", c.critical, self.max_critical),
            ("high", c.high, self.max_high),
            ("medium", c.medium, self.max_medium),
            ("low", c.low, self.max_low),
        ] {
            if max >= 0 && i64::try_from(count).unwrap_or(i64::MAX) > max {
                out.push(format!("{count} {name} findings (max {max})"));
            }
        }
        if let Some(score) = summary.compliance_score {
            if score < self.min_score {
                out.push(format!("score {score:.1}% below {:.1}%", self.min_score));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Alert,
    Clean,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Alert => "alert",
            Decision::Clean => "clean",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedFinding {
    pub id: String,
    pub rule_id: String,
    pub resource_arn: String,
    pub region: String,
}

/// `runs/{run_id}/analysis.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub run_id: String,
    pub previous_run_id: Option<String>,
    pub decision: Decision,
    pub reason: String,
    /// Ids of unmuted findings not failing in the previous run.
    pub new: Vec<String>,
    pub still_open: usize,
    pub resolved: Vec<ResolvedFinding>,
    /// Unmuted findings per region, service and rule (the dashboard's and the report's views).
    pub by_region: std::collections::BTreeMap<String, usize>,
    pub by_service: std::collections::BTreeMap<String, usize>,
    pub by_rule: std::collections::BTreeMap<String, usize>,
}

/// Compares a run with the previous one and decides whether to alert.
pub fn analyse(
    run_id: &str,
    summary: &Summary,
    findings: &[Finding],
    previous: Option<(&str, &[Finding])>,
    thresholds: &Thresholds,
) -> Analysis {
    let active: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail)
        .collect();
    let before: BTreeSet<&str> = previous
        .map(|(_, fs)| {
            fs.iter()
                .filter(|f| f.status == FindingStatus::Fail)
                .map(|f| f.id.as_str())
                .collect()
        })
        .unwrap_or_default();
    let now: BTreeSet<&str> = active.iter().map(|f| f.id.as_str()).collect();
    let new: Vec<String> = active
        .iter()
        .filter(|f| !before.contains(f.id.as_str()))
        .map(|f| f.id.clone())
        .collect();
    let resolved = previous
        .map(|(_, fs)| {
            fs.iter()
                .filter(|f| f.status == FindingStatus::Fail && !now.contains(f.id.as_str()))
                .map(|f| ResolvedFinding {
                    id: f.id.clone(),
                    rule_id: f.rule_id.clone(),
                    resource_arn: f.resource_arn.clone(),
                    region: f.region.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let breaches = thresholds.breaches(summary);
    let (decision, reason) = if breaches.is_empty() {
        (Decision::Clean, "within thresholds".to_string())
    } else {
        (Decision::Alert, breaches.join("; "))
    };
    Analysis {
        by_region: count_by(active.iter().copied(), |f| f.region.clone()),
        by_service: count_by(active.iter().copied(), |f| f.service.to_string()),
        by_rule: count_by(active.iter().copied(), |f| f.rule_id.clone()),
        run_id: run_id.to_string(),
        previous_run_id: previous.map(|(id, _)| id.to_string()),
        decision,
        reason,
        still_open: active.len() - new.len(),
        new,
        resolved,
    }
}

/// Accounts a run reached: those with at least one completed unit (units of documents written
/// before accounts were planned are the run's own account's).
pub fn reached_accounts(run: &RunDocument) -> BTreeSet<&str> {
    run.units
        .iter()
        .map(|u| {
            if u.account_id.is_empty() {
                run.account_id.as_str()
            } else {
                u.account_id.as_str()
            }
        })
        .collect()
}

/// Keeps the previous run's findings that `run` can judge: those of accounts it reached. An
/// account it did not reach (its role refused, every unit failed, or no longer in the accounts
/// setting) was not looked at, so none of its findings may be called resolved. With one account
/// reached by both runs this keeps everything.
pub fn keep_comparable(previous: &mut RunDocument, run: &RunDocument) {
    let reached = reached_accounts(run);
    let previous_account = previous.account_id.clone();
    previous.findings.retain(|f| {
        let account = if f.account_id.is_empty() {
            previous_account.as_str()
        } else {
            f.account_id.as_str()
        };
        reached.contains(account)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::SeverityCounts;

    fn summary(critical: usize, high: usize, score: f64) -> Summary {
        Summary {
            resources_scanned: 10,
            checks_evaluated: 100,
            checks_passed: 90,
            checks_failed: 10,
            compliance_score: Some(score),
            findings_by_severity: SeverityCounts {
                critical,
                high,
                ..Default::default()
            },
            muted_findings: 0,
            checks_by_rule: Default::default(),
        }
    }

    fn finding(id: &str, status: FindingStatus) -> Finding {
        let rule = crate::rules::rule("s3_bucket_versioning").unwrap();
        Finding {
            id: id.into(),
            rule_id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status,
            muted_reason: None,
            service: crate::Service::S3,
            resource_type: crate::model::ResourceType::AwsS3Bucket,
            resource_id: id.into(),
            resource_arn: format!("arn:aws:s3:::{id}"),
            region: "eu-west-1".into(),
            account_id: "1".into(),
            evidence: serde_json::Value::Null,
            remediation: String::new(),
            runbook: None,
            remediation_evidence: None,
            compliance: Default::default(),
            resource_tags: Default::default(),
        }
    }

    #[test]
    fn lifecycle_against_the_previous_run() {
        let before = vec![
            finding("a", FindingStatus::Fail),
            finding("b", FindingStatus::Fail),
            finding("m", FindingStatus::Muted),
        ];
        let now = vec![
            finding("b", FindingStatus::Fail),
            finding("c", FindingStatus::Fail),
            finding("m", FindingStatus::Fail),
        ];
        let a = analyse(
            "r2",
            &summary(0, 0, 90.0),
            &now,
            Some(("r1", &before)),
            &Thresholds::default(),
        );
        assert_eq!(
            a.new,
            vec!["c", "m"],
            "a finding that was muted before and fails now is new"
        );
        assert_eq!(a.still_open, 1);
        assert_eq!(
            a.resolved.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["a"]
        );
        assert_eq!(a.previous_run_id.as_deref(), Some("r1"));
        assert_eq!(a.by_rule.get("s3_bucket_versioning"), Some(&3));
        assert_eq!(a.by_region.get("eu-west-1"), Some(&3));
        assert_eq!(a.decision, Decision::Clean);
        let first = analyse(
            "r1",
            &summary(1, 0, 90.0),
            &before,
            None,
            &Thresholds::default(),
        );
        assert_eq!(first.new.len(), 2);
        assert!(first.resolved.is_empty());
        assert_eq!(first.decision, Decision::Alert);
    }

    #[test]
    fn an_unreached_account_resolves_nothing() {
        use crate::run::FailedUnit;
        use crate::testing::{account_ec2_unit, run_document};
        let groups: &[(&str, &[i32])] = &[("sg-1", &[22])];
        let before = run_document(
            "r1",
            vec![
                account_ec2_unit("123456789012", "r1", "eu-west-1", groups),
                account_ec2_unit("222222222222", "r1", "eu-west-1", groups),
                account_ec2_unit("333333333333", "r1", "eu-west-1", groups),
            ],
            vec![],
        );
        let unreachable = FailedUnit {
            account_id: "333333333333".into(),
            region: "eu-west-1".into(),
            service: "ec2".into(),
            error: "ComplianceScanner.AwsError".into(),
            cause: "account 333333333333: sts AssumeRole failed".into(),
        };
        // Run 2: the own account is clean, the member unchanged, the third unreachable.
        let now = run_document(
            "r2",
            vec![
                account_ec2_unit("123456789012", "r2", "eu-west-1", &[("sg-1", &[])]),
                account_ec2_unit("222222222222", "r2", "eu-west-1", groups),
            ],
            vec![unreachable],
        );
        let mut previous = before.clone();
        keep_comparable(&mut previous, &now);
        let a = analyse(
            "r2",
            &now.summary,
            &now.findings,
            Some(("r1", &previous.findings)),
            &Thresholds::default(),
        );
        let accounts: BTreeSet<&str> = a
            .resolved
            .iter()
            .map(|r| {
                before
                    .findings
                    .iter()
                    .find(|f| f.id == r.id)
                    .map_or("", |f| f.account_id.as_str())
            })
            .collect();
        assert_eq!(accounts, BTreeSet::from(["123456789012"]));
        assert!(a.new.is_empty(), "{:?}", a.new);
        assert!(a.still_open > 0);
        // One account reached by both runs: the comparison is the whole previous run.
        let mut single = before.clone();
        keep_comparable(&mut single, &before);
        assert_eq!(single.findings, before.findings);
    }

    #[test]
    fn thresholds_decide_and_explain() {
        let t = Thresholds::parse(r#"{"max_critical":0,"max_high":2,"min_score":80}"#).unwrap();
        assert!(t.breaches(&summary(0, 2, 85.0)).is_empty());
        assert_eq!(
            t.breaches(&summary(1, 3, 70.0)),
            vec![
                "1 critical findings (max 0)",
                "3 high findings (max 2)",
                "score 70.0% below 80.0%"
            ]
        );
        let err = Thresholds::parse(r#"{"max_critcal":0}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(PARAM_THRESHOLDS) && err.contains("max_critcal"),
            "{err}"
        );
        assert!(Thresholds::parse(r#"{"min_score":120}"#).is_err());
    }
}
