//! store-report's decisions with every store and integration in memory: the reports, the
//! lifecycle in the table and the hub, the history item, the metrics and the webhook.

use std::sync::Mutex;

use compliance_aws::findings_table::MemoryFindings;
use compliance_aws::history::MemoryHistory;
use compliance_aws::metrics::MemoryMetrics;
use compliance_aws::params::MemoryParameters;
use compliance_aws::security_hub::{MemoryHub, MemoryHubs};
use compliance_aws::store::{put_json, MemoryStore};
use compliance_aws::webhook::Delivery;
use compliance_aws::AwsError;
use compliance_core::accounts::{ScanTarget, PARAM_ACCOUNTS};
use compliance_core::contract::{AccountId, Region};
use compliance_core::contract::{RunId, RunRef};
use compliance_core::lifecycle::{LifecycleStatus, PARAM_FINDINGS};
use compliance_core::plan::ScanPlan;
use compliance_core::run::FailedUnit;
use compliance_core::testing::{account_ec2_unit, ec2_unit, run_document, ACCOUNT_ID, CREATED_AT};

use serde_json::Value;

use super::*;

/// A receiver that takes (or refuses) every payload.
#[derive(Default)]
struct MemoryWebhook {
    payloads: Mutex<Vec<Value>>,
    refuse: bool,
}

impl WebhookSender for MemoryWebhook {
    fn send<'a>(
        &'a self,
        config: &'a WebhookConfig,
        payload: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<Delivery, AwsError>> {
        self.payloads.lock().unwrap().push(payload.clone());
        let result = if self.refuse {
            Err(AwsError::Webhook {
                url: config.url.clone(),
                reason: "HTTP 400 (not retried)".into(),
            })
        } else {
            Ok(Delivery {
                status: 200,
                attempts: 1,
            })
        };
        Box::pin(async move { result })
    }
}

struct Fixture {
    store: Arc<MemoryStore>,
    history: Arc<MemoryHistory>,
    findings: Arc<MemoryFindings>,
    /// Every account's hub, and the scanner's own account's.
    hubs: Arc<MemoryHubs>,
    hub: Arc<MemoryHub>,
    metrics: Arc<MemoryMetrics>,
    webhook: Arc<MemoryWebhook>,
}

fn function(parameters: &[(&str, &str)], refuse_webhook: bool) -> (Function, Fixture) {
    organization_function(parameters, refuse_webhook, MemoryHubs::default())
}

fn organization_function(
    parameters: &[(&str, &str)],
    refuse_webhook: bool,
    hubs: MemoryHubs,
) -> (Function, Fixture) {
    let hubs = Arc::new(hubs);
    let fixture = Fixture {
        store: Default::default(),
        history: Default::default(),
        findings: Default::default(),
        hub: hubs.of(ACCOUNT_ID),
        hubs,
        metrics: Default::default(),
        webhook: Arc::new(MemoryWebhook {
            refuse: refuse_webhook,
            ..Default::default()
        }),
    };
    let function = Function {
        home_region: "eu-west-1".into(),
        store: fixture.store.clone(),
        bucket: "reports".into(),
        history: fixture.history.clone(),
        findings: fixture.findings.clone(),
        parameters: Arc::new(MemoryParameters(
            parameters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )),
        security_hubs: fixture.hubs.clone(),
        metrics: fixture.metrics.clone(),
        webhook: fixture.webhook.clone(),
        namespace: "ComplianceScanner".into(),
        clock: || SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000),
    };
    (function, fixture)
}

fn run_ref(id: &str) -> RunRef {
    RunRef::of(RunId::parse(id).unwrap())
}

async fn stored_run(store: &MemoryStore, id: &str, groups: &[(&str, &[i32])]) {
    let run = run_document(id, vec![ec2_unit(id, "eu-west-1", groups)], vec![]);
    put_json(store, &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
}

fn statuses(fixture: &Fixture) -> Vec<LifecycleStatus> {
    fixture
        .findings
        .0
        .lock()
        .unwrap()
        .values()
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn a_first_run_stores_every_format_and_opens_every_finding() {
    let (function, fixture) = function(&[], false);
    stored_run(
        &fixture.store,
        "r1",
        &[("sg-ssh", &[22]), ("sg-rdp", &[3389])],
    )
    .await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    let keys = fixture.store.keys();
    for key in [
        &out.reports.json,
        &out.reports.csv,
        &out.reports.ocsf,
        &out.reports.html,
        &out.reports.asff,
    ] {
        assert!(key.starts_with("reports/2026/11/23/r1/"), "{key}");
        assert!(keys.contains(key), "{key} written");
    }
    let lifecycle = out.lifecycle.expect("lifecycle counts");
    assert_eq!(lifecycle.new, out.findings_total);
    assert_eq!(statuses(&fixture).len(), out.findings_total);
    assert!(statuses(&fixture)
        .iter()
        .all(|s| *s == LifecycleStatus::New));
    assert_eq!(fixture.hub.0.lock().unwrap().len(), out.findings_total);
    assert!(
        matches!(out.security_hub, SecurityHubExport::Exported { imported, failed_count: 0, .. } if imported == out.findings_total)
    );
    assert_eq!(out.webhook, WebhookDelivery::NotConfigured);
    let history = fixture.history.0.lock().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].report_json_key, out.reports.json);
    assert!(!fixture.metrics.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_fixed_finding_is_resolved_in_the_table_and_archived_in_the_hub() {
    let (function, fixture) = function(&[], false);
    stored_run(
        &fixture.store,
        "r1",
        &[("sg-ssh", &[22]), ("sg-rdp", &[3389])],
    )
    .await;
    handle(&function, run_ref("r1")).await.unwrap();
    stored_run(&fixture.store, "r2", &[("sg-ssh", &[22]), ("sg-rdp", &[])]).await;
    let out = handle(&function, run_ref("r2")).await.unwrap();
    let lifecycle = out.lifecycle.unwrap();
    assert!(
        lifecycle.resolved > 0 && lifecycle.open > 0,
        "{lifecycle:?}"
    );
    let resolved: Vec<_> = fixture
        .findings
        .0
        .lock()
        .unwrap()
        .values()
        .filter(|r| r.status == LifecycleStatus::Resolved)
        .map(|r| r.finding_id.clone())
        .collect();
    assert_eq!(resolved.len(), lifecycle.resolved);
    let hub = fixture.hub.0.lock().unwrap();
    for id in &resolved {
        let finding = hub
            .values()
            .find(|f| f.id.ends_with(id.as_str()) || f.id == *id);
        assert_eq!(finding.map(|f| f.record_state), Some("ARCHIVED"), "{id}");
    }
    assert_eq!(fixture.history.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn security_hub_off_in_the_setting_exports_nothing() {
    let setting = r#"{"security_hub": {"enabled": false}}"#;
    let (function, fixture) = function(&[(PARAM_FINDINGS, setting)], false);
    stored_run(&fixture.store, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.security_hub, SecurityHubExport::Disabled);
    assert!(fixture.hub.0.lock().unwrap().is_empty());
    assert!(
        !statuses(&fixture).is_empty(),
        "the table still keeps the lifecycle"
    );
}

#[tokio::test]
async fn a_refused_webhook_is_reported_and_the_run_is_stored() {
    let webhook = r#"{"url": "https://hooks.example.com/compliance", "min_severity": "LOW"}"#;
    let (function, fixture) = function(&[(PARAM_WEBHOOK, webhook)], true);
    stored_run(&fixture.store, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert!(
        matches!(&out.webhook, WebhookDelivery::Failed { error } if error.contains("HTTP 400")),
        "{:?}",
        out.webhook
    );
    assert_eq!(fixture.webhook.payloads.lock().unwrap().len(), 1);
    assert_eq!(fixture.history.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_broken_setting_stops_the_state_before_anything_is_written() {
    let (function, fixture) = function(&[(PARAM_FINDINGS, r#"{"security_hub": "yes"}"#)], false);
    stored_run(&fixture.store, "r1", &[("sg-ssh", &[22])]).await;
    let err = handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.InvalidConfiguration");
    assert_eq!(fixture.store.keys(), ["runs/r1/run.json"]);
    assert!(statuses(&fixture).is_empty());
    assert!(fixture.history.0.lock().unwrap().is_empty());
}

const MEMBER: &str = "222222222222";
const OTHER_MEMBER: &str = "333333333333";
const ACCOUNTS: &str = r#"{"source": "organization", "external_id": "ext-7"}"#;

fn member_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/ComplianceScannerMemberRole")
}

/// Security groups of a unit: id and open ports.
type Groups<'a> = &'a [(&'a str, &'a [i32])];

/// An organization run and its plan: the own account with `own` groups, each reached member
/// with its groups, and each unreachable member as a failed unit.
async fn stored_organization_run(
    store: &MemoryStore,
    id: &str,
    own: &[(&str, &[i32])],
    members: &[(&str, Groups<'_>)],
    unreachable: &[&str],
) {
    let mut units = vec![ec2_unit(id, "eu-west-1", own)];
    for (member, groups) in members {
        units.push(account_ec2_unit(member, id, "eu-west-1", groups));
    }
    let failed = unreachable
        .iter()
        .map(|member| FailedUnit {
            account_id: member.to_string(),
            region: "eu-west-1".into(),
            service: "ec2".into(),
            error: "ComplianceScanner.AwsError".into(),
            cause: format!("account {member}: sts AssumeRole failed"),
        })
        .collect();
    let run = run_document(id, units, failed);
    put_json(store, &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
    let target = |account: &str| ScanTarget {
        account_id: AccountId::parse(account).unwrap(),
        name: None,
        role_arn: (account != ACCOUNT_ID).then(|| member_role(account)),
    };
    let plan = ScanPlan {
        schema_version: run.schema_version,
        run_id: RunId::parse(id).unwrap(),
        created_at: CREATED_AT.into(),
        own_account_id: AccountId::parse(ACCOUNT_ID).unwrap(),
        regions: vec![Region::parse("eu-west-1").unwrap()],
        services: vec![compliance_core::Service::Ec2],
        accounts: [ACCOUNT_ID, MEMBER, OTHER_MEMBER].map(target).to_vec(),
    };
    put_json(
        store,
        &RunId::parse(id).unwrap().keys().plan(),
        &plan,
        "plan",
    )
    .await
    .unwrap();
}

/// The table's records of an account: finding id and status.
fn records_of(fixture: &Fixture, account: &str) -> Vec<LifecycleStatus> {
    fixture
        .findings
        .0
        .lock()
        .unwrap()
        .values()
        .filter(|r| r.account_id == account)
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn each_account_imports_into_its_own_hub_and_an_unreachable_one_is_reported() {
    let hubs = MemoryHubs {
        unreachable: [OTHER_MEMBER.to_string()].into(),
        ..Default::default()
    };
    let (function, fixture) = organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, hubs);
    let groups: &[(&str, &[i32])] = &[("sg-ssh", &[22])];
    stored_organization_run(
        &fixture.store,
        "r1",
        groups,
        &[(MEMBER, groups), (OTHER_MEMBER, groups)],
        &[],
    )
    .await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    let per_account = out.findings_total / 3;
    assert!(per_account > 0);
    for account in [ACCOUNT_ID, MEMBER] {
        let hub = fixture.hubs.of(account);
        let hub = hub.0.lock().unwrap();
        assert_eq!(hub.len(), per_account, "{account}");
        for finding in hub.values() {
            assert_eq!(finding.aws_account_id, account);
            assert_eq!(
                finding.product_arn,
                format!("arn:aws:securityhub:eu-west-1:{account}:product/{account}/default")
            );
        }
    }
    assert!(fixture.hubs.of(OTHER_MEMBER).0.lock().unwrap().is_empty());
    let requests = fixture.hubs.requests.lock().unwrap().clone();
    assert!(requests.contains(&(ACCOUNT_ID.to_string(), None, None, "eu-west-1".to_string())));
    assert!(requests.contains(&(
        MEMBER.to_string(),
        Some(member_role(MEMBER)),
        Some("ext-7".to_string()),
        "eu-west-1".to_string()
    )));
    let SecurityHubExport::Exported {
        imported,
        failed_count,
        failed,
        ..
    } = &out.security_hub
    else {
        panic!("{:?}", out.security_hub);
    };
    assert_eq!(*imported, 2 * per_account);
    assert_eq!(
        *failed_count, per_account,
        "the unreachable account's findings"
    );
    assert_eq!(failed.len(), 1, "named once, by account: {failed:?}");
    assert_eq!(failed[0].id, OTHER_MEMBER);
    assert_eq!(failed[0].code, "AccessDenied");
    assert!(
        failed[0].message.contains(OTHER_MEMBER) && failed[0].message.contains("AssumeRole"),
        "{failed:?}"
    );
    // The lifecycle is kept for every account, its hub reached or not.
    for account in [ACCOUNT_ID, MEMBER, OTHER_MEMBER] {
        let records = records_of(&fixture, account);
        assert_eq!(records.len(), per_account, "{account}");
        assert!(records.iter().all(|s| *s == LifecycleStatus::New));
    }
}

#[tokio::test]
async fn each_accounts_lifecycle_is_judged_by_its_own_units() {
    let (function, fixture) =
        organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, MemoryHubs::default());
    let open: &[(&str, &[i32])] = &[("sg-ssh", &[22])];
    let closed: &[(&str, &[i32])] = &[("sg-ssh", &[])];
    stored_organization_run(
        &fixture.store,
        "r1",
        open,
        &[(MEMBER, open), (OTHER_MEMBER, open)],
        &[],
    )
    .await;
    handle(&function, run_ref("r1")).await.unwrap();
    // Run 2: the own account fixed its group, the member did not, the other member is
    // unreachable (its group is gone from the run, but nobody looked).
    stored_organization_run(
        &fixture.store,
        "r2",
        closed,
        &[(MEMBER, open)],
        &[OTHER_MEMBER],
    )
    .await;
    let out = handle(&function, run_ref("r2")).await.unwrap();
    let lifecycle = out.lifecycle.unwrap();
    let per_account = records_of(&fixture, OTHER_MEMBER).len();
    assert!(per_account > 0);
    assert_eq!(lifecycle.unconfirmed, per_account, "{lifecycle:?}");
    assert!(records_of(&fixture, OTHER_MEMBER)
        .iter()
        .all(|s| *s == LifecycleStatus::New));
    assert!(records_of(&fixture, MEMBER)
        .iter()
        .all(|s| *s == LifecycleStatus::Open));
    let own = records_of(&fixture, ACCOUNT_ID);
    assert!(own.contains(&LifecycleStatus::Resolved), "{own:?}");
    assert_eq!(
        lifecycle.resolved,
        own.iter()
            .filter(|s| **s == LifecycleStatus::Resolved)
            .count()
    );
    // The resolution was archived in the own account's hub only.
    let archived = |account: &str| {
        fixture
            .hubs
            .of(account)
            .0
            .lock()
            .unwrap()
            .values()
            .filter(|f| f.record_state == "ARCHIVED")
            .count()
    };
    assert_eq!(archived(ACCOUNT_ID), lifecycle.resolved);
    assert_eq!(archived(MEMBER) + archived(OTHER_MEMBER), 0);
}

#[tokio::test]
async fn a_members_resolution_its_hub_did_not_take_stays_active() {
    let (function, fixture) =
        organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, MemoryHubs::default());
    let open: &[(&str, &[i32])] = &[("sg-ssh", &[22])];
    let closed: &[(&str, &[i32])] = &[("sg-ssh", &[])];
    stored_organization_run(&fixture.store, "r1", open, &[(MEMBER, open)], &[]).await;
    handle(&function, run_ref("r1")).await.unwrap();
    // The member fixed its group, but its role refuses store-report in run 2.
    let hubs = MemoryHubs {
        unreachable: [MEMBER.to_string()].into(),
        ..Default::default()
    };
    let (function, fixture2) = organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, hubs);
    fixture2
        .findings
        .0
        .lock()
        .unwrap()
        .extend(fixture.findings.0.lock().unwrap().clone());
    stored_organization_run(&fixture2.store, "r2", open, &[(MEMBER, closed)], &[]).await;
    let out = handle(&function, run_ref("r2")).await.unwrap();
    assert!(out.lifecycle.unwrap().resolved > 0);
    assert!(
        records_of(&fixture2, MEMBER).iter().all(|s| s.is_active()),
        "the next run closes them again"
    );
    assert!(matches!(
        out.security_hub,
        SecurityHubExport::Exported { .. }
    ));
}

#[tokio::test]
async fn an_export_that_fails_everywhere_is_an_error_or_a_retry() {
    let open: &[(&str, &[i32])] = &[("sg-ssh", &[22])];
    // Refused everywhere: one error naming the accounts; the reports and records are kept.
    let hubs = MemoryHubs {
        unreachable: [ACCOUNT_ID.to_string(), MEMBER.to_string()].into(),
        ..Default::default()
    };
    let (function, fixture) = organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, hubs);
    stored_organization_run(&fixture.store, "r1", open, &[(MEMBER, open)], &[]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    let SecurityHubExport::Error { error, .. } = &out.security_hub else {
        panic!("{:?}", out.security_hub);
    };
    assert!(
        error.contains("of 2 accounts") && error.contains(ACCOUNT_ID) && error.contains(MEMBER),
        "{error}"
    );
    assert!(!statuses(&fixture).is_empty());

    // Throttled everywhere: the state fails and Step Functions retries it.
    let hubs = MemoryHubs {
        throttled: [ACCOUNT_ID.to_string(), MEMBER.to_string()].into(),
        ..Default::default()
    };
    let (function, fixture) = organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, hubs);
    stored_organization_run(&fixture.store, "r1", open, &[(MEMBER, open)], &[]).await;
    let err = handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(
        err.error_type(),
        "ComplianceScanner.TransientError",
        "{err}"
    );
    assert!(
        statuses(&fixture).is_empty(),
        "nothing recorded before the retry"
    );

    // Throttled in one account only: reported, the other imported.
    let hubs = MemoryHubs {
        throttled: [MEMBER.to_string()].into(),
        ..Default::default()
    };
    let (function, fixture) = organization_function(&[(PARAM_ACCOUNTS, ACCOUNTS)], false, hubs);
    stored_organization_run(&fixture.store, "r1", open, &[(MEMBER, open)], &[]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert!(
        matches!(&out.security_hub, SecurityHubExport::Exported { imported, failed, .. }
            if *imported > 0 && failed[0].id == MEMBER && failed[0].code == "ThrottlingException"),
        "{:?}",
        out.security_hub
    );
    assert!(!fixture.hub.0.lock().unwrap().is_empty());
}

mod redelivery;
