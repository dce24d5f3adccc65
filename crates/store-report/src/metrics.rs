//! The dashboard's metrics of a run.

use std::collections::BTreeMap;

use compliance_aws::metrics::{Metric, StandardUnit};
use compliance_core::lifecycle::LifecycleCounts;
use compliance_core::run::RunDocument;
use compliance_core::{FindingStatus, Severity};

/// What the run's integrations did, for the operators' alarms.
pub struct Integrations {
    pub lifecycle: Option<LifecycleCounts>,
    pub security_hub_failures: Option<usize>,
    pub webhook_failed: Option<bool>,
}

pub fn metrics(run: &RunDocument, integrations: &Integrations) -> Vec<Metric> {
    let account = || ("AccountId", run.account_id.clone());
    let mut out = vec![
        Metric {
            name: "ResourcesScanned",
            value: run.summary.resources_scanned as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account()],
        },
        Metric {
            name: "FailedScanUnits",
            value: run.failed_units.len() as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account()],
        },
    ];
    if let Some(score) = run.summary.compliance_score {
        out.push(Metric {
            name: "ComplianceScore",
            value: score,
            unit: StandardUnit::Percent,
            dimensions: vec![account()],
        });
    }
    for severity in Severity::ALL_DESCENDING {
        out.push(Metric {
            name: "Findings",
            value: run.summary.findings_by_severity.get(severity) as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account(), ("Severity", severity.to_string())],
        });
    }
    let mut by_region: BTreeMap<&str, usize> =
        run.units.iter().map(|u| (u.region.as_str(), 0)).collect();
    let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
    for finding in run
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail)
    {
        *by_region.entry(finding.region.as_str()).or_insert(0) += 1;
        *by_service.entry(finding.service.to_string()).or_insert(0) += 1;
    }
    for (region, n) in by_region {
        out.push(Metric {
            name: "FindingsByRegion",
            value: n as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account(), ("Region", region.to_string())],
        });
    }
    for (service, n) in by_service {
        out.push(Metric {
            name: "FindingsByService",
            value: n as f64,
            unit: StandardUnit::Count,
            dimensions: vec![account(), ("Service", service)],
        });
    }
    let count = |name: &'static str, value: usize| Metric {
        name,
        value: value as f64,
        unit: StandardUnit::Count,
        dimensions: vec![account()],
    };
    if let Some(l) = integrations.lifecycle {
        out.push(count("NewFindings", l.new));
        out.push(count("ReopenedFindings", l.reopened));
        out.push(count("ResolvedFindings", l.resolved));
    }
    if let Some(failures) = integrations.security_hub_failures {
        out.push(count("SecurityHubImportFailures", failures));
    }
    if let Some(failed) = integrations.webhook_failed {
        out.push(count("WebhookFailures", usize::from(failed)));
    }
    out
}
