//! The run against the findings table: reconcile, then (after the Security Hub export) record.
//! Every account of the run is reconciled with its own active records.

use std::collections::BTreeSet;

use compliance_aws::findings_table::{by_id, FindingsStore};
use compliance_aws::security_hub::ImportOutcome;
use compliance_aws::store::{get_optional_json, put_json, ObjectStore};
use compliance_aws::AwsError;
use compliance_core::contract::SecurityHubExport;
use compliance_core::lifecycle::{reconcile, FindingRecord, Reconciliation, RunClock, RunScope};
use compliance_core::report::asff::{
    open_finding, resolved_finding, AsffContext, AsffFinding, Observed,
};
use compliance_core::run::RunDocument;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

/// Accounts whose records or hubs are worked on at once (each is one Query, or one AssumeRole
/// and its imports).
pub const ACCOUNTS_AT_ONCE: usize = 8;

/// The accounts of a run: every account it scanned or failed to scan (units and failures of
/// documents written before accounts were planned are the run's own account's).
pub fn run_accounts(run: &RunDocument) -> BTreeSet<&str> {
    let mut accounts: BTreeSet<&str> = run
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .chain(run.units.iter().map(|u| u.account_id.as_str()))
        .chain(run.failed_units.iter().map(|u| u.account_id.as_str()))
        .map(|a| {
            if a.is_empty() {
                run.account_id.as_str()
            } else {
                a
            }
        })
        .collect();
    if accounts.is_empty() {
        accounts.insert(run.account_id.as_str());
    }
    accounts
}

/// Reads what the table knows of the run's accounts' active findings and of this run's
/// findings, and reconciles the run with it. An account the run could not reach has its active
/// records read too: they stay as they are, counted unconfirmed.
pub async fn reconcile_run(
    table: &dyn FindingsStore,
    run: &RunDocument,
    clock: RunClock<'_>,
) -> Result<Reconciliation, AwsError> {
    let accounts = run_accounts(run);
    let active: Vec<Vec<FindingRecord>> = futures::stream::iter(accounts)
        .map(|account| table.active(account))
        .buffer_unordered(ACCOUNTS_AT_ONCE)
        .try_collect()
        .await?;
    let mut previous = by_id(active.into_iter().flatten().collect());
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

/// The lifecycle decisions of a run as recorded before the findings table is written: the
/// run they belong to is named by its start time too, so that a run id used again (after Step
/// Functions frees an execution name) never takes an older run's decisions.
#[derive(Debug, Serialize, Deserialize)]
struct RecordedDecisions {
    run_id: String,
    run_created_at: String,
    reconciliation: Reconciliation,
}

/// The run's lifecycle decisions: those a previous attempt of this state recorded, or new ones,
/// recorded before anything is written. A re-run (Step Functions' Retry, Lambda redelivery)
/// then writes and reports the same records and counts although the table already holds the
/// first attempt's writes, which would otherwise make this run's resolved findings look
/// already resolved (and its new ones open).
pub async fn decide_once(
    store: &dyn ObjectStore,
    key: &str,
    table: &dyn FindingsStore,
    run: &RunDocument,
    clock: RunClock<'_>,
) -> Result<Reconciliation, AwsError> {
    let recorded: Option<RecordedDecisions> =
        get_optional_json(store, key, "the run's lifecycle decisions").await?;
    if let Some(recorded) =
        recorded.filter(|r| r.run_id == clock.run_id && r.run_created_at == run.created_at)
    {
        tracing::info!(key, "lifecycle decided by an earlier attempt of this run");
        return Ok(recorded.reconciliation);
    }
    let recorded = RecordedDecisions {
        run_id: clock.run_id.to_string(),
        run_created_at: run.created_at.clone(),
        reconciliation: reconcile_run(table, run, clock).await?,
    };
    put_json(store, key, &recorded, "the run's lifecycle decisions").await?;
    Ok(recorded.reconciliation)
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
