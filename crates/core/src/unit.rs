//! One (account, region, service) scan of a workflow run: the document written to S3, and the small
//! summary returned to Step Functions (keys and counts only, whatever the estate size).

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, ScanError, SeverityCounts};
use crate::model::{Inventory, Service};
use crate::summary::{Summary, REPORT_SCHEMA_VERSION};

/// Errors carried inline in a summary; the full list is in the S3 document.
pub const MAX_INLINE_ERRORS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitScanDocument {
    pub schema_version: u32,
    pub run_id: String,
    pub account_id: String,
    pub region: String,
    pub service: Service,
    pub scanned_at: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub inventory: Inventory,
    /// The rule parameters the evaluation used, `{"rule_id": {"parameterName": value}}`
    /// (every parameter, configured or default). Absent in documents written before they were
    /// recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitScanSummary {
    pub run_id: String,
    pub account_id: String,
    pub region: String,
    pub service: Service,
    pub resources_scanned: usize,
    pub findings_by_severity: SeverityCounts,
    pub findings_key: String,
    /// The first [`MAX_INLINE_ERRORS`] errors; `error_count` has the total.
    pub errors: Vec<ScanError>,
    pub error_count: usize,
}

impl UnitScanDocument {
    /// Evaluates what one unit collected.
    pub fn new(
        run_id: &str,
        region: &str,
        service: Service,
        scanned_at: String,
        inventory: Inventory,
        mut errors: Vec<ScanError>,
        settings: &crate::EvaluationSettings,
    ) -> Self {
        let evaluation = crate::evaluate(&inventory, settings);
        for error in &mut errors {
            error.account_id.clone_from(&inventory.account_id);
        }
        UnitScanDocument {
            schema_version: REPORT_SCHEMA_VERSION,
            run_id: run_id.to_string(),
            account_id: inventory.account_id.clone(),
            region: region.to_string(),
            service,
            scanned_at,
            summary: Summary::new(inventory.resource_count(), &evaluation),
            findings: evaluation.findings,
            errors,
            inventory,
            rule_parameters: Some(settings.rule_parameters.effective()),
        }
    }

    /// How reports name the unit: `account/region/service`.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", self.account_id, self.region, self.service)
    }

    pub fn summary(&self, findings_key: String) -> UnitScanSummary {
        UnitScanSummary {
            run_id: self.run_id.clone(),
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            service: self.service,
            resources_scanned: self.summary.resources_scanned,
            findings_by_severity: self.summary.findings_by_severity,
            findings_key,
            errors: self
                .errors
                .iter()
                .take(MAX_INLINE_ERRORS)
                .cloned()
                .collect(),
            error_count: self.errors.len(),
        }
    }
}
