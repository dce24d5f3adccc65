//! The analysis's decisions with the bucket, the history and the parameters in memory.

use compliance_aws::history::{HistoryItem, MemoryHistory};
use compliance_aws::params::MemoryParameters;
use compliance_aws::store::{put_json, MemoryStore};
use compliance_core::analysis::{Decision, PARAM_THRESHOLDS};
use compliance_core::contract::{RunId, RunRef};
use compliance_core::run::FailedUnit;
use compliance_core::testing::{account_ec2_unit, ec2_unit, run_document, ACCOUNT_ID, CREATED_AT};

use super::*;

struct Fixture {
    store: Arc<MemoryStore>,
    history: Arc<MemoryHistory>,
}

fn function(thresholds: Option<&str>) -> (Function, Fixture) {
    let store = Arc::new(MemoryStore::default());
    let history = Arc::new(MemoryHistory::default());
    let mut parameters = MemoryParameters::default();
    if let Some(json) = thresholds {
        parameters.0.insert(PARAM_THRESHOLDS.into(), json.into());
    }
    let function = Function {
        store: store.clone(),
        history: history.clone(),
        parameters: Arc::new(parameters),
    };
    (function, Fixture { store, history })
}

fn run_ref(id: &str) -> RunRef {
    RunRef::of(RunId::parse(id).unwrap())
}

/// Stores a run whose groups have `groups` open, and records it in the history.
async fn stored_run(fixture: &Fixture, id: &str, groups: &[(&str, &[i32])]) {
    let run = run_document(id, vec![ec2_unit(id, "eu-west-1", groups)], vec![]);
    put_json(fixture.store.as_ref(), &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
}

fn history_item(id: &str) -> HistoryItem {
    HistoryItem {
        account_id: ACCOUNT_ID.into(),
        run_id: id.into(),
        created_at: CREATED_AT.into(),
        run_key: run_ref(id).run_key,
        report_json_key: String::new(),
        report_csv_key: String::new(),
        compliance_score: None,
        findings_total: 0,
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        informational: 0,
        complete: true,
        decision: String::new(),
    }
}

#[tokio::test]
async fn a_first_run_over_the_thresholds_alerts_and_everything_is_new() {
    let (function, fixture) = function(None);
    stored_run(&fixture, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.decision, Decision::Alert, "{}", out.reason);
    assert_eq!(out.previous_run_id, None);
    assert_eq!(out.new, out.findings_by_severity.total());
    assert_eq!(out.resolved, 0);
    assert_eq!(out.analysis_key, "runs/r1/analysis.json");
    let stored = fixture
        .store
        .json("runs/r1/analysis.json")
        .expect("analysis written");
    assert_eq!(stored["decision"], "alert");
}

#[tokio::test]
async fn a_run_is_compared_with_the_previous_one_of_its_account() {
    let (function, fixture) = function(None);
    stored_run(&fixture, "r1", &[("sg-ssh", &[22]), ("sg-rdp", &[3389])]).await;
    fixture.history.0.lock().unwrap().push(history_item("r1"));
    stored_run(&fixture, "r2", &[("sg-ssh", &[22]), ("sg-rdp", &[])]).await;
    let out = handle(&function, run_ref("r2")).await.unwrap();
    assert_eq!(out.previous_run_id.as_deref(), Some("r1"));
    assert_eq!(out.new, 0, "SSH was open before");
    assert!(out.still_open > 0);
    assert!(out.resolved > 0, "RDP was closed");
}

#[tokio::test]
async fn an_unreadable_previous_run_is_compared_with_nothing() {
    let (function, fixture) = function(None);
    fixture.history.0.lock().unwrap().push(history_item("r0"));
    stored_run(&fixture, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.previous_run_id, None);
    assert_eq!(out.new, out.findings_by_severity.total());
}

#[tokio::test]
async fn thresholds_from_the_parameter_decide() {
    let (function, fixture) = function(Some(
        r#"{"max_critical": -1, "max_high": -1, "max_medium": -1, "max_low": -1, "min_score": 0}"#,
    ));
    stored_run(&fixture, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.decision, Decision::Clean, "{}", out.reason);
}

#[tokio::test]
async fn a_broken_thresholds_parameter_stops_before_anything_is_written() {
    let (function, fixture) = function(Some(r#"{"max_critical": "none"}"#));
    stored_run(&fixture, "r1", &[("sg-ssh", &[22])]).await;
    let err = handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.InvalidConfiguration");
    assert!(err.to_string().contains(PARAM_THRESHOLDS), "{err}");
    assert!(fixture.store.json("runs/r1/analysis.json").is_none());
}

const MEMBER: &str = "222222222222";

/// An organization run: the own account and a member, or the member unreachable.
async fn stored_organization_run(fixture: &Fixture, id: &str, member_reached: bool) {
    let groups: &[(&str, &[i32])] = &[("sg-ssh", &[22])];
    let mut units = vec![ec2_unit(id, "eu-west-1", groups)];
    let mut failed = vec![];
    if member_reached {
        units.push(account_ec2_unit(MEMBER, id, "eu-west-1", groups));
    } else {
        failed.push(FailedUnit {
            account_id: MEMBER.into(),
            region: "eu-west-1".into(),
            service: "ec2".into(),
            error: "ComplianceScanner.AwsError".into(),
            cause: format!("account {MEMBER}: sts AssumeRole failed: AccessDenied"),
        });
    }
    let run = run_document(id, units, failed);
    put_json(fixture.store.as_ref(), &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_member_resolves_none_of_its_findings() {
    let (function, fixture) = function(None);
    stored_organization_run(&fixture, "r1", true).await;
    fixture.history.0.lock().unwrap().push(history_item("r1"));
    stored_organization_run(&fixture, "r2", false).await;
    let out = handle(&function, run_ref("r2")).await.unwrap();
    assert_eq!(out.previous_run_id.as_deref(), Some("r1"));
    assert_eq!(out.resolved, 0, "the member was not looked at");
    assert_eq!(out.new, 0);
    assert!(out.still_open > 0);

    // Reached again: its findings are compared as before, one account's with its own.
    fixture.history.0.lock().unwrap().push(history_item("r2"));
    stored_organization_run(&fixture, "r3", true).await;
    let out = handle(&function, run_ref("r3")).await.unwrap();
    assert_eq!(out.previous_run_id.as_deref(), Some("r2"));
    assert_eq!(out.resolved, 0);
    assert!(
        out.new > 0,
        "the member's findings were not in the previous run"
    );
}

// ------------------------------------------------------------------ at least once

/// r1 in the history, r2 stored: analyze's input for r2.
async fn second_run(fixture: &Fixture) -> RunRef {
    stored_run(fixture, "r1", &[("sg-ssh", &[22]), ("sg-rdp", &[3389])]).await;
    fixture.history.0.lock().unwrap().push(history_item("r1"));
    stored_run(fixture, "r2", &[("sg-ssh", &[22]), ("sg-new", &[22])]).await;
    run_ref("r2")
}

#[tokio::test]
async fn a_second_invocation_writes_the_same_analysis_even_once_the_run_is_in_the_history() {
    let (function, fixture) = function(None);
    let input = second_run(&fixture).await;
    let first = handle(&function, input.clone()).await.unwrap();
    let bucket = fixture.store.objects();
    // A replay after store-report recorded the run: the run is not its own previous run.
    fixture.history.0.lock().unwrap().push(history_item("r2"));
    let second = handle(&function, input).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(second.previous_run_id.as_deref(), Some("r1"));
    assert_eq!(fixture.store.objects(), bucket);
}

#[tokio::test]
async fn a_rerun_after_the_analysis_failed_to_be_written_writes_the_same_one() {
    let (clean, fixture) = function(None);
    let input = second_run(&fixture).await;
    let expected = handle(&clean, input.clone()).await.unwrap();
    let expected_bytes = fixture.store.bytes("runs/r2/analysis.json").unwrap();

    let (function, fixture) = function(None);
    let input = second_run(&fixture).await;
    fixture.store.writes.fail_nth(1);
    let err = handle(&function, input.clone()).await.unwrap_err();
    assert_eq!(
        err.error_type(),
        "ComplianceScanner.TransientError",
        "{err}"
    );
    assert_eq!(handle(&function, input).await.unwrap(), expected);
    assert_eq!(
        fixture.store.bytes("runs/r2/analysis.json").unwrap(),
        expected_bytes
    );
}
