//! At least once: store-report run again for the same run (Step Functions' Retry, Lambda
//! redelivery), whole or after failing halfway, ends as one clean run would: the same objects
//! byte for byte, the same findings records and lifecycle counts, one history item, the same
//! Security Hub findings.

use std::collections::BTreeMap;

use compliance_aws::history::HistoryItem;
use compliance_core::lifecycle::FindingRecord;
use compliance_core::report::asff::AsffFinding;

use super::*;

/// Everything store-report writes that a re-run could duplicate or change.
#[derive(Debug, PartialEq)]
struct EndState {
    objects: BTreeMap<String, Vec<u8>>,
    records: BTreeMap<String, FindingRecord>,
    history: Vec<HistoryItem>,
    hub: BTreeMap<String, AsffFinding>,
}

fn end_state(fixture: &Fixture) -> EndState {
    EndState {
        objects: fixture.store.objects(),
        records: fixture.findings.0.lock().unwrap().clone(),
        history: fixture.history.0.lock().unwrap().clone(),
        hub: fixture.hub.0.lock().unwrap().clone(),
    }
}

/// Two runs stored, and a third whose report has every kind of lifecycle change: `sg-a` stays
/// open, `sg-b` (fixed by r2) is reopened, `sg-c` is new and `sg-d` is fixed (resolved).
async fn before_the_third_run() -> (Function, Fixture) {
    let (function, fixture) = function(&[], false);
    stored_run(
        &fixture.store,
        "r1",
        &[("sg-a", &[22]), ("sg-b", &[3389]), ("sg-d", &[22])],
    )
    .await;
    handle(&function, run_ref("r1")).await.unwrap();
    stored_run(
        &fixture.store,
        "r2",
        &[("sg-a", &[22]), ("sg-b", &[]), ("sg-d", &[22])],
    )
    .await;
    handle(&function, run_ref("r2")).await.unwrap();
    stored_run(
        &fixture.store,
        "r3",
        &[
            ("sg-a", &[22]),
            ("sg-b", &[3389]),
            ("sg-c", &[3389]),
            ("sg-d", &[]),
        ],
    )
    .await;
    (function, fixture)
}

/// The third run stored once, without faults: what every re-run must end as.
async fn reference() -> (StoreReportOutput, EndState) {
    let (function, fixture) = before_the_third_run().await;
    let out = handle(&function, run_ref("r3")).await.unwrap();
    let lifecycle = out.lifecycle.unwrap();
    assert!(
        lifecycle.new > 0 && lifecycle.open > 0 && lifecycle.reopened > 0 && lifecycle.resolved > 0,
        "the scenario must exercise every change: {lifecycle:?}"
    );
    (out, end_state(&fixture))
}

/// Compares part by part, naming the objects that differ (a whole bucket in a panic message
/// is unreadable).
fn assert_same(actual: &EndState, expected: &EndState, context: &str) {
    let keys = |s: &EndState| s.objects.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(actual), keys(expected), "{context}: object keys");
    let differing: Vec<&String> = actual
        .objects
        .iter()
        .filter(|(k, v)| expected.objects.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        differing.is_empty(),
        "{context}: objects differ: {differing:?}"
    );
    assert_eq!(
        actual.records, expected.records,
        "{context}: findings records"
    );
    assert_eq!(actual.history, expected.history, "{context}: history");
    assert_eq!(actual.hub, expected.hub, "{context}: Security Hub");
}

fn history_items_of(state: &EndState, run_id: &str) -> usize {
    state.history.iter().filter(|h| h.run_id == run_id).count()
}

#[tokio::test]
async fn a_second_invocation_writes_and_reports_the_same() {
    let (expected_out, expected) = reference().await;
    let (function, fixture) = before_the_third_run().await;
    let first = handle(&function, run_ref("r3")).await.unwrap();
    let second = handle(&function, run_ref("r3")).await.unwrap();
    assert_eq!(first, expected_out);
    // Without the recorded decisions the second attempt would find its resolved findings
    // already resolved and its new ones already open, and say so in the reports.
    assert_eq!(second, expected_out);
    let state = end_state(&fixture);
    assert_eq!(history_items_of(&state, "r3"), 1);
    assert_same(&state, &expected, "second invocation");
}

#[tokio::test]
async fn a_rerun_after_a_failed_object_write_ends_as_one_run() {
    // The run's writes to the bucket: its lifecycle decisions, then the five reports.
    for nth in 1..=6 {
        let (expected_out, expected) = reference().await;
        let (function, fixture) = before_the_third_run().await;
        fixture.store.writes.fail_nth(nth);
        let err = handle(&function, run_ref("r3")).await.unwrap_err();
        assert_eq!(
            err.error_type(),
            "ComplianceScanner.TransientError",
            "write {nth}: {err}"
        );
        let out = handle(&function, run_ref("r3")).await.unwrap();
        assert_eq!(out, expected_out, "write {nth}");
        assert_same(&end_state(&fixture), &expected, &format!("write {nth}"));
    }
}

#[tokio::test]
async fn a_rerun_after_a_failed_table_write_ends_as_one_run() {
    let (expected_out, expected) = reference().await;
    let (function, fixture) = before_the_third_run().await;
    fixture.findings.1.fail_nth(1);
    handle(&function, run_ref("r3")).await.unwrap_err();
    assert_eq!(
        handle(&function, run_ref("r3")).await.unwrap(),
        expected_out
    );
    assert_same(&end_state(&fixture), &expected, "table write");
}

#[tokio::test]
async fn a_rerun_after_a_failed_history_write_ends_as_one_run() {
    let (expected_out, expected) = reference().await;
    let (function, fixture) = before_the_third_run().await;
    fixture.history.1.fail_nth(1);
    handle(&function, run_ref("r3")).await.unwrap_err();
    // The table was written before the history item: the re-run must not count again.
    assert_eq!(
        handle(&function, run_ref("r3")).await.unwrap(),
        expected_out
    );
    let state = end_state(&fixture);
    assert_eq!(history_items_of(&state, "r3"), 1);
    assert_same(&state, &expected, "second invocation");
}

#[tokio::test]
async fn recorded_decisions_of_an_earlier_run_with_the_same_id_are_not_taken() {
    let (function, fixture) = before_the_third_run().await;
    handle(&function, run_ref("r3")).await.unwrap();
    // The run id used again for a later run (Step Functions frees execution names after 90
    // days): its own decisions are made, not the recorded ones.
    let mut later: compliance_core::run::RunDocument =
        serde_json::from_value(fixture.store.json("runs/r3/run.json").unwrap()).unwrap();
    later.created_at = "2027-03-01T00:00:00Z".into();
    put_json(fixture.store.as_ref(), "runs/r3/run.json", &later, "run")
        .await
        .unwrap();
    handle(&function, run_ref("r3")).await.unwrap();
    let recorded = fixture.store.json("runs/r3/lifecycle.json").unwrap();
    assert_eq!(recorded["run_created_at"], "2027-03-01T00:00:00Z");
    // The earlier run's resolutions are not the later run's: it did not resolve them.
    assert_eq!(
        recorded["reconciliation"]["resolved"],
        serde_json::json!([])
    );
}
