//! The remediation's guardrails with the bucket, the ledger, the parameters and SSM Automation
//! in memory.

use compliance_aws::automation::MemoryAutomation;
use compliance_aws::ledger::MemoryLedger;
use compliance_aws::params::MemoryParameters;
use compliance_aws::store::{put_json, MemoryStore};
use compliance_core::config::Setting;
use compliance_core::contract::{RunId, RunRef};
use compliance_core::testing::{ec2_unit, run_document};

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/automation";

struct Fixture {
    store: Arc<MemoryStore>,
    ledger: Arc<MemoryLedger>,
    automation: Arc<MemoryAutomation>,
}

fn function(config: Option<&str>, failing: &[&str]) -> (Function, Fixture) {
    let mut parameters = MemoryParameters::default();
    if let Some(json) = config {
        parameters
            .0
            .insert(RemediationConfig::PARAMETER.into(), json.into());
    }
    let fixture = Fixture {
        store: Default::default(),
        ledger: Default::default(),
        automation: Arc::new(MemoryAutomation {
            failing: failing
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            ..Default::default()
        }),
    };
    let function = Function {
        store: fixture.store.clone(),
        ledger: fixture.ledger.clone(),
        parameters: Arc::new(parameters),
        automation: fixture.automation.clone(),
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
    fixture.automation.started.lock().unwrap().len()
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
    let started = fixture.automation.started.lock().unwrap()[0].clone();
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
