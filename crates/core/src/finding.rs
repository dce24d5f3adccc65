//! Findings: what a failed check produces, with a stable identity across runs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::CoreError;
use crate::model::{ResourceType, Service, Tags};
use crate::rules::{RemediationEvidence, Runbook};

/// Severity labels as Security Hub spells them, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL_DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Informational => "INFORMATIONAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "informational" | "info" => Ok(Severity::Informational),
            other => Err(CoreError::UnknownSeverity(other.to_string())),
        }
    }
}

/// Counts of findings per severity; the shape every summary and Step Functions payload uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub informational: usize,
}

impl SeverityCounts {
    pub fn add(&mut self, severity: Severity) {
        *self.slot(severity) += 1;
    }

    /// Adds another set of counts to this one.
    pub fn absorb(&mut self, other: &SeverityCounts) {
        for severity in Severity::ALL_DESCENDING {
            *self.slot(severity) += other.get(severity);
        }
    }

    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Informational => self.informational,
        }
    }

    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low + self.informational
    }

    /// Findings at or above `threshold`.
    pub fn at_or_above(&self, threshold: Severity) -> usize {
        Severity::ALL_DESCENDING
            .iter()
            .filter(|s| **s >= threshold)
            .map(|s| self.get(*s))
            .sum()
    }

    fn slot(&mut self, severity: Severity) -> &mut usize {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Informational => &mut self.informational,
        }
    }
}

/// How often one rule was evaluated and passed in a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChecks {
    pub evaluated: usize,
    pub passed: usize,
}

impl RuleChecks {
    pub fn add(&mut self, passed: bool) {
        self.evaluated += 1;
        self.passed += usize::from(passed);
    }

    pub fn absorb(&mut self, other: &RuleChecks) {
        self.evaluated += other.evaluated;
        self.passed += other.passed;
    }
}

/// Control ids a rule maps to, per framework. An empty list means the framework has no matching control.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceRefs {
    pub aws_fsbp: Vec<String>,
    pub security_hub: Vec<String>,
    pub cis_v1_4_0: Vec<String>,
    pub cis_v3_0_0: Vec<String>,
    /// CIS AWS Foundations Benchmark v5.0.0; absent (empty) in documents written before it.
    #[serde(default)]
    pub cis_v5_0_0: Vec<String>,
    pub pci_dss: Vec<String>,
    pub nist_800_53_r5: Vec<String>,
}

/// What a check found about one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Fail {
        /// What the check saw, for people and reports.
        evidence: Value,
        /// What the rule's runbook needs beyond the resource id, typed (only some runbooks).
        remediation: Option<RemediationEvidence>,
    },
    /// The rule does not apply, or the data it needs could not be read: not counted either way.
    NotApplicable,
}

impl Outcome {
    pub fn fail(evidence: Value) -> Self {
        Outcome::Fail {
            evidence,
            remediation: None,
        }
    }

    pub fn fail_with(evidence: Value, remediation: RemediationEvidence) -> Self {
        Outcome::Fail {
            evidence,
            remediation: Some(remediation),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FindingStatus {
    Fail,
    Muted,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Fail => "FAIL",
            FindingStatus::Muted => "MUTED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub status: FindingStatus,
    /// Why the finding is muted (the mute list entry's reason), when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_reason: Option<String>,
    pub service: Service,
    pub resource_type: ResourceType,
    pub resource_id: String,
    pub resource_arn: String,
    pub region: String,
    pub account_id: String,
    pub evidence: Value,
    pub remediation: String,
    /// The SSM Automation document that fixes the finding (serialised as its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<Runbook>,
    /// What the runbook needs beyond the resource id, as the check recorded it (typed, so
    /// remediation never re-reads `evidence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation_evidence: Option<RemediationEvidence>,
    pub compliance: ComplianceRefs,
    #[serde(default)]
    pub resource_tags: Tags,
}

/// The identity of a finding across runs: the same rule failing on the same resource in the
/// same account and region always gets the same id (Security Hub updates line up on it).
pub fn stable_finding_id(
    account_id: &str,
    region: &str,
    rule_id: &str,
    resource_arn: &str,
) -> String {
    let mut hasher = Sha256::new();
    for part in [account_id, region, rule_id, resource_arn] {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in any part keeps ("ab","c") apart from ("a","bc").
        hasher.update([0u8]);
    }
    hex(&hasher.finalize()[..16])
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// A UUID-shaped token derived from `parts` (APIs such as StartAutomationExecution want their
/// idempotency tokens in UUID format; deriving it makes a retried call idempotent).
pub fn deterministic_uuid(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let h = hex(&hasher.finalize()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An API failure that left part of the estate unscanned. Recorded, never fatal to the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanError {
    /// The account scanned (stamped by the unit that collected it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_id: String,
    pub region: String,
    pub service: Service,
    pub api: String,
    /// The AWS error code (e.g. `AccessDenied`, `UnauthorizedOperation`), or a transport error kind.
    pub code: String,
    pub message: String,
    /// The resource the call was about, when it concerned one (e.g. a bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// Findings counted per severity, per region and per rule (the views summaries show).
pub fn count_by_severity<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> SeverityCounts {
    let mut counts = SeverityCounts::default();
    for f in findings {
        counts.add(f.severity);
    }
    counts
}

pub fn count_by<'a, K: Ord>(
    findings: impl IntoIterator<Item = &'a Finding>,
    key: impl Fn(&Finding) -> K,
) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(key(f)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_id_is_deterministic_and_field_sensitive() {
        let a = stable_finding_id(
            "123456789012",
            "us-east-1",
            "s3_bucket_versioning",
            "arn:aws:s3:::b",
        );
        assert_eq!(
            a,
            stable_finding_id(
                "123456789012",
                "us-east-1",
                "s3_bucket_versioning",
                "arn:aws:s3:::b"
            )
        );
        assert_eq!(a.len(), 32);
        assert_ne!(
            a,
            stable_finding_id(
                "123456789012",
                "eu-west-1",
                "s3_bucket_versioning",
                "arn:aws:s3:::b"
            )
        );
        assert_ne!(
            stable_finding_id("1", "23", "r", "x"),
            stable_finding_id("12", "3", "r", "x")
        );
    }

    #[test]
    fn severity_parses_case_insensitively_and_orders() {
        assert_eq!("High".parse::<Severity>().unwrap(), Severity::High);
        assert!("urgent".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High);
        let mut counts = SeverityCounts::default();
        counts.add(Severity::Critical);
        counts.add(Severity::Low);
        counts.add(Severity::High);
        assert_eq!(counts.at_or_above(Severity::High), 2);
        assert_eq!(counts.at_or_above(Severity::Informational), 3);
    }
}
