//! A scan's or a run's numbers: what was scanned and checked, the score, findings per severity.
//! Below `report`, `run`, `unit` and `analysis`, which all use them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::Evaluation;
use crate::finding::{count_by_severity, FindingStatus, RuleChecks, SeverityCounts};

/// Bumped whenever a field changes meaning or disappears.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub resources_scanned: usize,
    pub checks_evaluated: usize,
    pub checks_passed: usize,
    /// Failed checks, muted ones included: a muted risk is accepted, not fixed.
    pub checks_failed: usize,
    /// `checks_passed / checks_evaluated` in percent (one decimal); `None` when nothing was evaluated.
    pub compliance_score: Option<f64>,
    /// Unmuted findings per severity.
    pub findings_by_severity: SeverityCounts,
    pub muted_findings: usize,
    /// Checks per rule id (absent in documents written before schema 2: read as empty).
    #[serde(default)]
    pub checks_by_rule: BTreeMap<String, RuleChecks>,
}

impl Summary {
    pub fn new(resources_scanned: usize, evaluation: &Evaluation) -> Self {
        let active = evaluation
            .findings
            .iter()
            .filter(|f| f.status == FindingStatus::Fail);
        Summary {
            resources_scanned,
            checks_evaluated: evaluation.checks_evaluated,
            checks_passed: evaluation.checks_passed,
            checks_failed: evaluation.checks_evaluated - evaluation.checks_passed,
            compliance_score: score(evaluation.checks_passed, evaluation.checks_evaluated),
            findings_by_severity: count_by_severity(active),
            muted_findings: evaluation
                .findings
                .iter()
                .filter(|f| f.status == FindingStatus::Muted)
                .count(),
            checks_by_rule: evaluation.checks_by_rule.clone(),
        }
    }
}

pub fn score(passed: usize, evaluated: usize) -> Option<f64> {
    (evaluated > 0).then(|| (passed as f64 * 1000.0 / evaluated as f64).round() / 10.0)
}
