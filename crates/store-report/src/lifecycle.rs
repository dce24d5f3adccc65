//! The run against the findings table and Security Hub: reconcile, export, then record.

use std::collections::BTreeSet;

use compliance_aws::findings_table::{by_id, FindingsStore};
use compliance_aws::security_hub::{FindingsHub, ImportOutcome};
use compliance_aws::AwsError;
use compliance_core::contract::SecurityHubExport;
use compliance_core::lifecycle::{reconcile, FindingRecord, Reconciliation, RunClock, RunScope};
use compliance_core::report::asff::{
    open_finding, resolved_finding, AsffContext, AsffFinding, Observed,
};
use compliance_core::run::RunDocument;

/// Reads what the table knows of the account's active findings and of this run's findings,
/// and reconciles the run with it.
pub async fn reconcile_run(
    table: &dyn FindingsStore,
    run: &RunDocument,
    clock: RunClock<'_>,
) -> Result<Reconciliation, AwsError> {
    let mut previous = by_id(table.active(&run.account_id).await?);
    let unknown: Vec<&str> = run
        .findings
        .iter()
        .map(|f| f.id.as_str())
        .filter(|id| !previous.contains_key(*id))
        .collect();
    // Findings not active in the table may be resolved ones coming back (reopened).
    previous.extend(by_id(table.get_many(&unknown).await?));
    Ok(reconcile(
        &run.findings,
        &previous,
        &RunScope::of_run(run),
        clock,
    ))
}

/// The ASFF findings of a run: every finding of the run, then every finding it resolved.
pub fn asff_findings(
    run: &RunDocument,
    reconciliation: &Reconciliation,
    ctx: &AsffContext,
) -> Vec<AsffFinding> {
    let records = reconciliation.by_finding_id();
    let mut out: Vec<AsffFinding> = run
        .findings
        .iter()
        .map(|f| {
            let record = records.get(f.id.as_str()).copied();
            let observed = Observed {
                first: record.map_or(run.created_at.as_str(), |r| r.first_seen_at.as_str()),
                last: record.map_or(run.created_at.as_str(), |r| r.last_seen_at.as_str()),
            };
            let lifecycle = record.map_or("new", |r| r.status.as_str());
            open_finding(f, observed, lifecycle, ctx)
        })
        .collect();
    out.extend(
        reconciliation
            .resolved
            .iter()
            .map(|r| resolved_finding(r, ctx)),
    );
    out
}

/// Refused findings named in the state output.
const MAX_LISTED_FAILURES: usize = 20;

pub async fn export(
    hub: &dyn FindingsHub,
    region: &str,
    findings: &[AsffFinding],
) -> Result<(SecurityHubExport, ImportOutcome), AwsError> {
    match hub.import(findings).await {
        Ok(outcome) => {
            for failure in &outcome.failed {
                tracing::warn!(id = %failure.id, code = %failure.code, message = %failure.message, "Security Hub refused a finding");
            }
            Ok((
                SecurityHubExport::Exported {
                    region: region.to_string(),
                    imported: outcome.imported,
                    failed_count: outcome.failed.len(),
                    failed: outcome
                        .failed
                        .iter()
                        .take(MAX_LISTED_FAILURES)
                        .cloned()
                        .collect(),
                },
                outcome,
            ))
        }
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            tracing::error!(error = %e, region, "Security Hub export failed");
            Ok((
                SecurityHubExport::Error {
                    region: region.to_string(),
                    error: e.to_string(),
                },
                ImportOutcome::default(),
            ))
        }
    }
}

/// Records to write: every current record, and the resolved ones whose closing reached
/// Security Hub (the others stay active, so the next run closes them again).
pub fn records_to_write<'a>(
    reconciliation: &'a Reconciliation,
    hub: &SecurityHubExport,
    outcome: &ImportOutcome,
) -> Vec<&'a FindingRecord> {
    let failed: BTreeSet<&str> = outcome.failed_ids();
    let hub_missed = |r: &FindingRecord| match hub {
        SecurityHubExport::Disabled => false,
        SecurityHubExport::Error { .. } => true,
        SecurityHubExport::Exported { .. } => failed.contains(r.finding_id.as_str()),
    };
    reconciliation
        .current
        .iter()
        .chain(reconciliation.resolved.iter().filter(|r| !hub_missed(r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use compliance_aws::security_hub::FailedImport;
    use compliance_core::lifecycle::LifecycleStatus;
    use compliance_core::model::ResourceType;
    use compliance_core::{Service, Severity};

    fn record(id: &str, status: LifecycleStatus) -> FindingRecord {
        FindingRecord {
            finding_id: id.into(),
            account_id: "123456789012".into(),
            rule_id: "ec2_sg_open_ssh".into(),
            title: "t".into(),
            severity: Severity::High,
            service: Service::Ec2,
            resource_type: ResourceType::AwsEc2SecurityGroup,
            resource_id: id.into(),
            resource_arn: id.into(),
            region: "eu-west-1".into(),
            status,
            first_seen_at: "2026-11-01T00:00:00Z".into(),
            last_seen_at: "2026-11-02T00:00:00Z".into(),
            first_run_id: "r1".into(),
            last_run_id: "r2".into(),
            resolved_at: None,
            resolved_run_id: None,
            times_reopened: 0,
            expires_at: None,
        }
    }

    fn written(
        reconciliation: &Reconciliation,
        hub: &SecurityHubExport,
        outcome: &ImportOutcome,
    ) -> Vec<String> {
        records_to_write(reconciliation, hub, outcome)
            .iter()
            .map(|r| r.finding_id.clone())
            .collect()
    }

    #[test]
    fn a_resolution_security_hub_did_not_take_stays_active_for_the_next_run() {
        let reconciliation = Reconciliation {
            current: vec![record("open", LifecycleStatus::Open)],
            resolved: vec![
                record("fixed", LifecycleStatus::Resolved),
                record("refused", LifecycleStatus::Resolved),
            ],
            unconfirmed: 0,
        };
        let refused = ImportOutcome {
            imported: 2,
            failed: vec![FailedImport {
                id: "refused".into(),
                code: "InternalFailure".into(),
                message: String::new(),
            }],
        };
        let exported = SecurityHubExport::Exported {
            region: "us-east-1".into(),
            imported: 2,
            failed_count: 1,
            failed: refused.failed.clone(),
        };
        assert_eq!(
            written(&reconciliation, &exported, &refused),
            ["open", "fixed"]
        );
        let down = SecurityHubExport::Error {
            region: "us-east-1".into(),
            error: "InvalidAccessException".into(),
        };
        assert_eq!(
            written(&reconciliation, &down, &ImportOutcome::default()),
            ["open"]
        );
        assert_eq!(
            written(
                &reconciliation,
                &SecurityHubExport::Disabled,
                &ImportOutcome::default()
            ),
            ["open", "fixed", "refused"]
        );
    }
}
