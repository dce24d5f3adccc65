//! The remediation's guardrails with the bucket, the ledger, the parameters and SSM Automation
//! in memory.

use compliance_aws::automation::MemoryAutomations;
use compliance_aws::ledger::MemoryLedger;
use compliance_aws::params::MemoryParameters;
use compliance_aws::store::{put_json, MemoryStore};
use compliance_core::accounts::{ScanTarget, PARAM_ACCOUNTS};
use compliance_core::config::Setting;
use compliance_core::contract::{AccountId, Region};
use compliance_core::contract::{RunId, RunRef};
use compliance_core::plan::ScanPlan;
use compliance_core::testing::{account_ec2_unit, ec2_unit, run_document, ACCOUNT_ID, CREATED_AT};
use serde_json::Value;

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/automation";

struct Fixture {
    store: Arc<MemoryStore>,
    ledger: Arc<MemoryLedger>,
    automations: Arc<MemoryAutomations>,
}

fn function(config: Option<&str>, failing: &[&str]) -> (Function, Fixture) {
    let automations = MemoryAutomations {
        failing: failing
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        ..Default::default()
    };
    organization_function(config, None, automations)
}

fn organization_function(
    config: Option<&str>,
    accounts: Option<&str>,
    automations: MemoryAutomations,
) -> (Function, Fixture) {
    let mut parameters = MemoryParameters::default();
    if let Some(json) = config {
        parameters
            .0
            .insert(RemediationConfig::PARAMETER.into(), json.into());
    }
    if let Some(json) = accounts {
        parameters.0.insert(PARAM_ACCOUNTS.into(), json.into());
    }
    let fixture = Fixture {
        store: Default::default(),
        ledger: Default::default(),
        automations: Arc::new(automations),
    };
    let function = Function {
        store: fixture.store.clone(),
        ledger: fixture.ledger.clone(),
        parameters: Arc::new(parameters),
        automations: fixture.automations.clone(),
        automation_role: ROLE.into(),
        home_region: "eu-west-1".into(),
    };
    (function, fixture)
}

const ENFORCE: &str = r#"{"mode": "enforce", "allowed_rules": ["ec2_sg_open_ssh", "ec2_sg_open_rdp"], "cooldown_minutes": 60}"#;

fn run_ref(id: &str) -> RunRef {
    RunRef::of(RunId::parse(id).unwrap())
}

async fn stored_run(store: &MemoryStore, id: &str) {
    let unit = ec2_unit(id, "eu-west-1", &[("sg-ssh", &[22]), ("sg-closed", &[])]);
    let run = run_document(id, vec![unit], vec![]);
    put_json(store, &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
}

fn starts(fixture: &Fixture) -> usize {
    fixture.automations.started().len()
}

#[tokio::test]
async fn without_a_configuration_nothing_is_remediated() {
    let (function, fixture) = function(None, &[]);
    stored_run(&fixture.store, "r1").await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.mode, Mode::DryRun);
    assert_eq!(
        (out.started, out.dry_run),
        (0, 0),
        "no rule is allowed by default"
    );
    assert_eq!(starts(&fixture), 0);
}

#[tokio::test]
async fn dry_run_changes_nothing_and_records_the_decisions() {
    let dry_run = ENFORCE.replace("enforce", "dry-run");
    let (function, fixture) = function(Some(&dry_run), &[]);
    stored_run(&fixture.store, "r1").await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.mode, Mode::DryRun);
    assert_eq!(out.started, 0);
    assert!(out.dry_run > 0, "the open SSH group would be fixed");
    assert_eq!(starts(&fixture), 0);
    assert!(fixture.ledger.0.lock().unwrap().is_empty());
    let decisions = fixture
        .store
        .json(&out.decisions_key)
        .expect("decisions written");
    assert_eq!(decisions["mode"], "dry-run");
    assert_eq!(
        decisions["decisions"].as_array().unwrap().len(),
        out.dry_run + out.skipped
    );
}

#[tokio::test]
async fn enforce_starts_the_runbook_once_with_the_role_and_a_stable_token() {
    let (function, fixture) = function(Some(ENFORCE), &[]);
    stored_run(&fixture.store, "r1").await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(starts(&fixture), 1, "one execution for the one open group");
    assert!(out.started >= 1);
    let (account, region, started) = fixture.automations.started()[0].clone();
    assert_eq!(
        (account.as_str(), region.as_str()),
        (ACCOUNT_ID, "eu-west-1")
    );
    assert_eq!(
        started.document,
        "ComplianceScanner-RemediateOpenSecurityGroup"
    );
    assert_eq!(
        started.parameters["AutomationAssumeRole"],
        vec![ROLE.to_string()]
    );
    assert_eq!(started.parameters["GroupId"], vec!["sg-ssh".to_string()]);
    let ledger = fixture.ledger.0.lock().unwrap();
    let entry = ledger.values().next().expect("a ledger entry");
    assert_eq!(entry.status, "started");
    assert_eq!(entry.execution_id.as_deref(), Some("exec-1"));
}

#[tokio::test]
async fn a_second_run_within_the_cooldown_is_skipped_by_the_ledger() {
    let (function, fixture) = function(Some(ENFORCE), &[]);
    stored_run(&fixture.store, "r1").await;
    stored_run(&fixture.store, "r2").await;
    handle(&function, run_ref("r1")).await.unwrap();
    let out = handle(&function, run_ref("r2")).await.unwrap();
    assert_eq!(out.started, 0);
    assert!(out.skipped > 0);
    assert_eq!(
        starts(&fixture),
        1,
        "no second execution for the same group"
    );
}

#[tokio::test]
async fn a_runbook_that_cannot_start_is_recorded_as_failed() {
    let (function, fixture) = function(
        Some(ENFORCE),
        &["ComplianceScanner-RemediateOpenSecurityGroup"],
    );
    stored_run(&fixture.store, "r1").await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.started, 0);
    assert!(out.failed > 0);
    let ledger = fixture.ledger.0.lock().unwrap();
    assert_eq!(ledger.values().next().unwrap().status, "failed");
}

#[tokio::test]
async fn a_broken_configuration_stops_before_anything_is_written() {
    let (function, fixture) = function(Some(r#"{"mode": "sometimes"}"#), &[]);
    stored_run(&fixture.store, "r1").await;
    let err = handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.InvalidConfiguration");
    assert!(fixture.store.json("runs/r1/remediation.json").is_none());
    assert_eq!(starts(&fixture), 0);
}

const MEMBER: &str = "222222222222";
const OTHER_MEMBER: &str = "333333333333";
const MEMBER_ROLE: &str = "arn:aws:iam::222222222222:role/ComplianceScannerMemberRole";
const ACCOUNTS: &str = r#"{"source": "organization", "external_id": "ext-7"}"#;

/// An organization run: an open SSH group in the own account and in `members`, and the plan
/// naming each member's role (but not `OTHER_MEMBER`'s when `planned_other` is false).
async fn stored_organization_run(
    store: &MemoryStore,
    id: &str,
    members: &[&str],
    planned_other: bool,
) {
    let groups: &[(&str, &[i32])] = &[("sg-ssh", &[22])];
    let mut units = vec![ec2_unit(id, "eu-west-1", groups)];
    for member in members {
        units.push(account_ec2_unit(member, id, "eu-west-1", groups));
    }
    let run = run_document(id, units, vec![]);
    put_json(store, &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
    let target = |account: &str, role: bool| ScanTarget {
        account_id: AccountId::parse(account).unwrap(),
        name: None,
        role_arn: role.then(|| format!("arn:aws:iam::{account}:role/ComplianceScannerMemberRole")),
    };
    let mut accounts = vec![target(ACCOUNT_ID, false), target(MEMBER, true)];
    if planned_other {
        accounts.push(target(OTHER_MEMBER, true));
    }
    let plan = ScanPlan {
        schema_version: run.schema_version,
        run_id: RunId::parse(id).unwrap(),
        created_at: CREATED_AT.into(),
        own_account_id: AccountId::parse(ACCOUNT_ID).unwrap(),
        regions: vec![Region::parse("eu-west-1").unwrap()],
        services: vec![compliance_core::Service::Ec2],
        accounts,
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

fn outcomes_of(fixture: &Fixture, key: &str, account: &str) -> Vec<Value> {
    let decisions = fixture.store.json(key).expect("decisions written");
    decisions["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["rule_id"] == "ec2_sg_open_ssh"
                && d["resource_arn"].as_str().unwrap().contains(account)
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_members_runbook_starts_in_the_member_through_its_role() {
    let (function, fixture) =
        organization_function(Some(ENFORCE), Some(ACCOUNTS), MemoryAutomations::default());
    stored_organization_run(&fixture.store, "r1", &[MEMBER], true).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(starts(&fixture), 2, "one group in each account");
    let started = fixture.automations.started();
    let member = started
        .iter()
        .find(|(account, _, _)| account == MEMBER)
        .expect("started in the member");
    assert_eq!(member.1, "eu-west-1");
    assert_eq!(
        member.2.parameters["AutomationAssumeRole"],
        vec![format!("{MEMBER_ROLE}-automation")]
    );
    let own = started
        .iter()
        .find(|(account, _, _)| account == ACCOUNT_ID)
        .unwrap();
    assert_eq!(
        own.2.parameters["AutomationAssumeRole"],
        vec![ROLE.to_string()]
    );
    assert_ne!(own.2.client_token, member.2.client_token);
    let requests = fixture.automations.requests.lock().unwrap().clone();
    assert!(requests.contains(&(
        MEMBER.to_string(),
        Some(MEMBER_ROLE.to_string()),
        Some("ext-7".to_string()),
        "eu-west-1".to_string()
    )));
    assert!(requests.contains(&(ACCOUNT_ID.to_string(), None, None, "eu-west-1".to_string())));
    // The two groups share a name and a region: the ledger keeps them apart by account.
    let ledger = fixture.ledger.0.lock().unwrap();
    assert_eq!(ledger.len(), 2);
    assert!(ledger.keys().any(|k| k.contains(MEMBER)));
    assert_eq!(out.started, 2);
}

#[tokio::test]
async fn the_cap_holds_across_the_organization() {
    let capped = ENFORCE.replace(
        "\"cooldown_minutes\"",
        "\"max_executions_per_run\": 1, \"cooldown_minutes\"",
    );
    let (function, fixture) =
        organization_function(Some(&capped), Some(ACCOUNTS), MemoryAutomations::default());
    stored_organization_run(&fixture.store, "r1", &[MEMBER, OTHER_MEMBER], true).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(
        starts(&fixture),
        1,
        "one execution in the whole organization"
    );
    assert_eq!(out.started, 1);
    let decisions = fixture.store.json(&out.decisions_key).unwrap();
    let capped = decisions["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("cap of 1"))
        })
        .count();
    assert_eq!(
        capped, 2,
        "the other two accounts' groups wait for the next run"
    );
}

#[tokio::test]
async fn an_unreachable_member_fails_alone_and_claims_nothing() {
    let automations = MemoryAutomations {
        unreachable: [MEMBER.to_string()].into(),
        ..Default::default()
    };
    let (function, fixture) = organization_function(Some(ENFORCE), Some(ACCOUNTS), automations);
    // OTHER_MEMBER is missing from the plan: its role is unknown, so nothing starts there.
    stored_organization_run(&fixture.store, "r1", &[MEMBER, OTHER_MEMBER], false).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.started, 1, "the own account's group");
    assert_eq!(out.failed, 2);
    let member = outcomes_of(&fixture, &out.decisions_key, MEMBER);
    assert_eq!(member[0]["action"], "failed");
    let error = member[0]["error"].as_str().unwrap();
    assert!(
        error.contains(MEMBER) && error.contains("AssumeRole"),
        "{error}"
    );
    let other = outcomes_of(&fixture, &out.decisions_key, OTHER_MEMBER);
    let error = other[0]["error"].as_str().unwrap();
    assert!(
        error.contains("no member role in the run's plan (runs/r1/plan.json)"),
        "{error}"
    );
    let ledger = fixture.ledger.0.lock().unwrap();
    assert_eq!(
        ledger.len(),
        1,
        "only the started execution holds a cooldown"
    );
}

#[tokio::test]
async fn dry_run_reaches_no_member() {
    let dry_run = ENFORCE.replace("enforce", "dry-run");
    let (function, fixture) = organization_function(
        Some(&dry_run),
        Some("not json"),
        MemoryAutomations::default(),
    );
    stored_organization_run(&fixture.store, "r1", &[MEMBER], true).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.dry_run, 2);
    assert!(fixture.automations.requests.lock().unwrap().is_empty());
}

// ------------------------------------------------------------------ at least once, started once

/// The ledger's entries without their clock: (key, run, status, execution).
fn ledger_entries(fixture: &Fixture) -> Vec<(String, String, String, Option<String>)> {
    fixture
        .ledger
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(k, e)| {
            (
                k.clone(),
                e.run_id.clone(),
                e.status.clone(),
                e.execution_id.clone(),
            )
        })
        .collect()
}

/// The run remediated once without faults: its output, decisions document and ledger.
async fn remediated_once() -> (
    RemediateOutput,
    Vec<u8>,
    Vec<(String, String, String, Option<String>)>,
) {
    let (function, fixture) = function(Some(ENFORCE), &[]);
    stored_run(&fixture.store, "r1").await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!((out.started, starts(&fixture)), (1, 1));
    let decisions = fixture.store.bytes("runs/r1/remediation.json").unwrap();
    (out, decisions, ledger_entries(&fixture))
}

#[tokio::test]
async fn a_second_invocation_starts_nothing_and_reports_the_first_start() {
    let (expected_out, expected_decisions, expected_ledger) = remediated_once().await;
    let (function, fixture) = function(Some(ENFORCE), &[]);
    stored_run(&fixture.store, "r1").await;
    handle(&function, run_ref("r1")).await.unwrap();
    let again = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(starts(&fixture), 1, "the ledger refuses a second execution");
    // The run's record still says what it did: started, not skipped by its own claim.
    assert_eq!(again, expected_out);
    assert_eq!(
        fixture.store.bytes("runs/r1/remediation.json").unwrap(),
        expected_decisions
    );
    assert_eq!(ledger_entries(&fixture), expected_ledger);
}

#[tokio::test]
async fn a_rerun_after_the_decisions_failed_to_be_stored_starts_nothing_more() {
    let (expected_out, expected_decisions, expected_ledger) = remediated_once().await;
    let (function, fixture) = function(Some(ENFORCE), &[]);
    stored_run(&fixture.store, "r1").await;
    fixture.store.writes.fail_nth(1);
    let err = handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.TransientError");
    assert_eq!(
        handle(&function, run_ref("r1")).await.unwrap(),
        expected_out
    );
    assert_eq!(starts(&fixture), 1);
    assert_eq!(
        fixture.store.bytes("runs/r1/remediation.json").unwrap(),
        expected_decisions
    );
    assert_eq!(ledger_entries(&fixture), expected_ledger);
}

#[tokio::test]
async fn a_rerun_after_a_start_that_was_not_recorded_gets_the_same_execution() {
    let (expected_out, expected_decisions, expected_ledger) = remediated_once().await;
    let (function, fixture) = function(Some(ENFORCE), &[]);
    stored_run(&fixture.store, "r1").await;
    // The runbook started, then the ledger did not take its execution id: the claim is the
    // run's, with no execution recorded.
    fixture.ledger.1.fail_nth(1);
    handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(starts(&fixture), 1);
    assert_eq!(ledger_entries(&fixture)[0].2, "claimed");
    // The re-run starts with the same client token: SSM answers with the first execution.
    assert_eq!(
        handle(&function, run_ref("r1")).await.unwrap(),
        expected_out
    );
    assert_eq!(starts(&fixture), 1);
    assert_eq!(
        fixture.store.bytes("runs/r1/remediation.json").unwrap(),
        expected_decisions
    );
    assert_eq!(ledger_entries(&fixture), expected_ledger);
}
