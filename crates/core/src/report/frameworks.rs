//! Framework views: per control of CIS, PCI DSS, NIST 800-53 and FSBP, whether the checks
//! mapped to it passed, failed or were not evaluated, with the failing resources.
//!
//! A control's PASS means every check this scanner maps to it passed; controls have
//! requirements beyond what an automated configuration scan can see.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::finding::{Finding, RuleChecks};
use crate::rules::frameworks::{framework_control, not_automated, NotAutomated};
use crate::rules::{catalog, Controls};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    CisV5_0_0,
    CisV3_0_0,
    CisV1_4_0,
    PciDss,
    #[serde(rename = "nist_800_53_r5")]
    Nist80053R5,
    AwsFsbp,
}

impl Framework {
    pub const ALL: [Framework; 6] = [
        Framework::CisV5_0_0,
        Framework::CisV3_0_0,
        Framework::CisV1_4_0,
        Framework::PciDss,
        Framework::Nist80053R5,
        Framework::AwsFsbp,
    ];

    /// The machine name, as JSON documents and the data files spell it (`cis_v5_0_0`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Framework::CisV5_0_0 => "cis_v5_0_0",
            Framework::CisV3_0_0 => "cis_v3_0_0",
            Framework::CisV1_4_0 => "cis_v1_4_0",
            Framework::PciDss => "pci_dss",
            Framework::Nist80053R5 => "nist_800_53_r5",
            Framework::AwsFsbp => "aws_fsbp",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Framework::CisV5_0_0 => "CIS AWS Foundations Benchmark v5.0.0",
            Framework::CisV3_0_0 => "CIS AWS Foundations Benchmark v3.0.0",
            Framework::CisV1_4_0 => "CIS AWS Foundations Benchmark v1.4.0",
            Framework::PciDss => "PCI DSS (v3.2.1 and v4.0.1)",
            Framework::Nist80053R5 => "NIST SP 800-53 Rev. 5",
            Framework::AwsFsbp => "AWS Foundational Security Best Practices",
        }
    }

    /// The framework's control ids in `c`.
    pub fn controls(self, c: &Controls) -> &'static [&'static str] {
        match self {
            Framework::CisV5_0_0 => c.cis_v5_0_0,
            Framework::CisV3_0_0 => c.cis_v3_0_0,
            Framework::CisV1_4_0 => c.cis_v1_4_0,
            Framework::PciDss => c.pci_dss,
            Framework::Nist80053R5 => c.nist_800_53_r5,
            Framework::AwsFsbp => c.aws_fsbp,
        }
    }
}

/// What `--framework` accepts: a family (`cis` is both CIS versions) or one framework.
pub fn frameworks_named(name: &str) -> Result<Vec<Framework>, CoreError> {
    let all = |fs: &[Framework]| Ok(fs.to_vec());
    match name.trim().to_ascii_lowercase().as_str() {
        "cis" => all(&[
            Framework::CisV5_0_0,
            Framework::CisV3_0_0,
            Framework::CisV1_4_0,
        ]),
        "cis-5.0" | "cis-v5.0.0" => all(&[Framework::CisV5_0_0]),
        "cis-3.0" | "cis-v3.0.0" => all(&[Framework::CisV3_0_0]),
        "cis-1.4" | "cis-v1.4.0" => all(&[Framework::CisV1_4_0]),
        "pci" | "pci-dss" => all(&[Framework::PciDss]),
        "nist" | "nist-800-53" => all(&[Framework::Nist80053R5]),
        "fsbp" | "aws-fsbp" => all(&[Framework::AwsFsbp]),
        "all" => all(&Framework::ALL),
        other => Err(CoreError::InvalidParameter {
            parameter: "--framework".into(),
            reason: format!(
                "`{other}` is not one of cis, cis-5.0, cis-3.0, cis-1.4, pci, nist, fsbp, all"
            ),
        }),
    }
}

impl FromStr for Framework {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Framework::ALL
            .into_iter()
            .find(|f| f.key() == s)
            .ok_or_else(|| CoreError::InvalidParameter {
                parameter: "framework".into(),
                reason: format!("unknown framework `{s}`"),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ControlStatus {
    Pass,
    Fail,
    NotEvaluated,
    /// No rule checks the control (the framework's scope list says why).
    NotAutomated,
}

impl ControlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Pass => "PASS",
            ControlStatus::Fail => "FAIL",
            ControlStatus::NotEvaluated => "NOT_EVALUATED",
            ControlStatus::NotAutomated => "NOT_AUTOMATED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlView {
    pub control_id: String,
    /// The control's title, for frameworks with a scope list (CIS, FSBP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub status: ControlStatus,
    pub rules: Vec<String>,
    pub checks_evaluated: usize,
    pub checks_failed: usize,
    /// Ids of the failing findings (muted ones included): the report's `findings` has them.
    /// Ids rather than copies: one finding fails many controls (NIST maps a dozen per rule).
    pub failing_findings: Vec<String>,
    /// Why no rule checks the control (status `NOT_AUTOMATED` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_automated: Option<NotAutomated>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkView {
    pub framework: Framework,
    pub name: String,
    pub passed: usize,
    pub failed: usize,
    pub not_evaluated: usize,
    /// Controls of the framework's scope that no rule checks (absent in reports before
    /// CIS v5.0.0 was added).
    #[serde(default)]
    pub not_automated: usize,
    pub controls: Vec<ControlView>,
}

/// One view per framework, from a scan's per-rule check counts and its findings.
pub fn framework_views(
    frameworks: &[Framework],
    checks_by_rule: &BTreeMap<String, RuleChecks>,
    findings: &[Finding],
) -> Vec<FrameworkView> {
    frameworks
        .iter()
        .map(|&framework| view(framework, checks_by_rule, findings))
        .collect()
}

fn view(
    framework: Framework,
    checks_by_rule: &BTreeMap<String, RuleChecks>,
    findings: &[Finding],
) -> FrameworkView {
    let mut rules_by_control: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for rule in catalog() {
        for control in framework.controls(&rule.controls) {
            rules_by_control.entry(control).or_default().insert(rule.id);
        }
    }
    let mut controls: Vec<ControlView> = rules_by_control
        .into_iter()
        .map(|(control, rules)| {
            let evaluated: usize = rules
                .iter()
                .filter_map(|r| checks_by_rule.get(*r))
                .map(|c| c.evaluated)
                .sum();
            let failing: Vec<String> = findings
                .iter()
                .filter(|f| rules.contains(f.rule_id.as_str()))
                .map(|f| f.id.clone())
                .collect();
            let status = if !failing.is_empty() {
                ControlStatus::Fail
            } else if evaluated > 0 {
                ControlStatus::Pass
            } else {
                ControlStatus::NotEvaluated
            };
            ControlView {
                control_id: control.to_string(),
                title: framework_control(framework, control).map(|c| c.title.clone()),
                status,
                rules: rules.iter().map(std::string::ToString::to_string).collect(),
                checks_evaluated: evaluated.max(failing.len()),
                checks_failed: failing.len(),
                failing_findings: failing,
                not_automated: None,
            }
        })
        .collect();
    controls.extend(not_automated(framework).map(|(c, why)| ControlView {
        control_id: c.id.clone(),
        title: Some(c.title.clone()),
        status: ControlStatus::NotAutomated,
        rules: Vec::new(),
        checks_evaluated: 0,
        checks_failed: 0,
        failing_findings: Vec::new(),
        not_automated: Some(why.clone()),
    }));
    controls.sort_by(|a, b| natural_cmp(&a.control_id, &b.control_id));
    let count = |s: ControlStatus| controls.iter().filter(|c| c.status == s).count();
    FrameworkView {
        framework,
        name: framework.name().to_string(),
        passed: count(ControlStatus::Pass),
        failed: count(ControlStatus::Fail),
        not_evaluated: count(ControlStatus::NotEvaluated),
        not_automated: count(ControlStatus::NotAutomated),
        controls,
    }
}

/// Orders control ids as people read them: `1.2` < `1.10`, `AC-4` < `AC-21`, `SC-7(3)` < `SC-7(10)`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<Result<u64, String>> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while let Some(&c) = chars.peek() {
            let digit = c.is_ascii_digit();
            let mut chunk = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() != digit {
                    break;
                }
                chunk.push(c);
                chars.next();
            }
            out.push(if digit {
                chunk.parse().map_err(|_| chunk)
            } else {
                Err(chunk)
            });
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let ord = match (x, y) {
            (Ok(x), Ok(y)) => x.cmp(y),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(x), Err(y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_control_ids() {
        let mut ids = vec![
            "SC-7(10)",
            "AC-21",
            "SC-7(3)",
            "AC-4",
            "1.10",
            "1.2",
            "v4.0.1/1.3.1",
            "v3.2.1/1.2.1",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            [
                "1.2",
                "1.10",
                "AC-4",
                "AC-21",
                "SC-7(3)",
                "SC-7(10)",
                "v3.2.1/1.2.1",
                "v4.0.1/1.3.1"
            ]
        );
    }

    #[test]
    fn pass_fail_and_not_evaluated() {
        let rule = crate::rules::rule("s3_bucket_secure_transport").unwrap();
        let finding = Finding {
            id: "id1".into(),
            rule_id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status: crate::finding::FindingStatus::Fail,
            muted_reason: None,
            service: crate::Service::S3,
            resource_type: crate::model::ResourceType::AwsS3Bucket,
            resource_id: "b".into(),
            resource_arn: "arn:aws:s3:::b".into(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            evidence: serde_json::Value::Null,
            remediation: String::new(),
            runbook: None,
            remediation_evidence: None,
            compliance: rule.controls.to_refs(),
            resource_tags: Default::default(),
        };
        let checks = BTreeMap::from([
            (
                "s3_bucket_secure_transport".to_string(),
                RuleChecks {
                    evaluated: 3,
                    passed: 2,
                },
            ),
            (
                "s3_bucket_public_access_block".to_string(),
                RuleChecks {
                    evaluated: 3,
                    passed: 3,
                },
            ),
        ]);
        let views = framework_views(&[Framework::AwsFsbp], &checks, &[finding]);
        let fsbp = &views[0];
        let control = |id: &str| fsbp.controls.iter().find(|c| c.control_id == id).unwrap();
        assert_eq!(control("S3.5").status, ControlStatus::Fail);
        assert_eq!(control("S3.5").failing_findings, ["id1"]);
        assert_eq!(control("S3.8").status, ControlStatus::Pass);
        assert_eq!(control("RDS.2").status, ControlStatus::NotEvaluated);
        assert_eq!(
            control("S3.5").title.as_deref(),
            Some("S3 general purpose buckets should require requests to use SSL")
        );
        let unused_credentials = control("IAM.8");
        assert_eq!(unused_credentials.status, ControlStatus::NotAutomated);
        assert!(unused_credentials.rules.is_empty() && unused_credentials.not_automated.is_some());
        assert!(fsbp.not_automated > 0);
        assert_eq!(
            fsbp.passed + fsbp.failed + fsbp.not_evaluated + fsbp.not_automated,
            fsbp.controls.len()
        );
        let pci = &framework_views(&[Framework::PciDss], &checks, &[])[0];
        assert_eq!(pci.not_automated, 0);
        assert!(pci.controls.iter().all(|c| c.title.is_none()));
        assert_eq!(
            "cis_v5_0_0".parse::<Framework>().unwrap(),
            Framework::CisV5_0_0
        );
        for f in Framework::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), f.key());
        }
        assert_eq!(frameworks_named("CIS").unwrap().len(), 3);
        assert_eq!(
            serde_json::to_value(Framework::Nist80053R5).unwrap(),
            "nist_800_53_r5"
        );
        assert_eq!(
            "nist_800_53_r5".parse::<Framework>().unwrap(),
            Framework::Nist80053R5
        );
        assert!(frameworks_named("sox")
            .unwrap_err()
            .to_string()
            .contains("--framework"));
    }
}
