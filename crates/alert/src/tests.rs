//! The alert's decisions with the reports bucket and the topics in memory.

use compliance_aws::notify::MemoryTopic;
use compliance_aws::store::{put_json, MemoryStore};
use compliance_core::analysis::{analyse, Thresholds};
use compliance_core::contract::{RunId, RunRef};
use compliance_core::testing::{account_ec2_unit, ec2_unit, run_document, ACCOUNT_ID};
use serde_json::json;

use super::*;

struct Fixture {
    store: std::sync::Arc<MemoryStore>,
    alerts: std::sync::Arc<MemoryTopic>,
    failures: std::sync::Arc<MemoryTopic>,
}

fn function() -> (Function, Fixture) {
    let fixture = Fixture {
        store: Default::default(),
        alerts: Default::default(),
        failures: Default::default(),
    };
    let function = Function {
        store: fixture.store.clone(),
        location: "s3://reports".into(),
        alerts: fixture.alerts.clone(),
        failures: fixture.failures.clone(),
    };
    (function, fixture)
}

fn run_ref(id: &str) -> RunRef {
    RunRef::of(RunId::parse(id).unwrap())
}

async fn store_run(store: &MemoryStore, id: &str) {
    let run = run_document(
        id,
        vec![ec2_unit(
            id,
            "eu-west-1",
            &[("sg-ssh", &[22]), ("sg-closed", &[])],
        )],
        vec![],
    );
    put_json(store, &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_findings_alert_goes_to_the_alerts_topic_with_filterable_attributes() {
    let (function, fixture) = function();
    store_run(&fixture.store, "r1").await;
    let out = handle(&function, AlertInput::Findings(run_ref("r1")))
        .await
        .unwrap();
    let sent = fixture.alerts.messages();
    assert_eq!(sent.len(), 1);
    assert!(fixture.failures.messages().is_empty());
    assert_eq!(out.message_id, "memory-1");
    assert_eq!(out.subject, sent[0].subject);
    assert!(
        sent[0].body.contains("s3://reports/runs/r1/run.json"),
        "{}",
        sent[0].body
    );
    let attributes: std::collections::BTreeMap<_, _> = sent[0].attributes.iter().cloned().collect();
    assert_eq!(attributes["run_id"], "r1");
    assert_eq!(attributes["kind"], "findings");
    assert_eq!(attributes["account"], ACCOUNT_ID);
    // An SSH port open to the internet is the run's most severe finding.
    assert_eq!(attributes["severity"], "HIGH");
    // Without an analysis the body says nothing about the previous run.
    assert!(!sent[0].body.contains("Since the previous run"));
}

#[tokio::test]
async fn the_analysis_when_there_is_one_says_why() {
    let (function, fixture) = function();
    store_run(&fixture.store, "r1").await;
    let run: compliance_core::run::RunDocument =
        serde_json::from_value(fixture.store.json("runs/r1/run.json").unwrap()).unwrap();
    let analysis = analyse(
        "r1",
        &run.summary,
        &run.findings,
        None,
        &Thresholds::default(),
    );
    put_json(
        fixture.store.as_ref(),
        "runs/r1/analysis.json",
        &analysis,
        "analysis",
    )
    .await
    .unwrap();
    handle(&function, AlertInput::Findings(run_ref("r1")))
        .await
        .unwrap();
    let body = &fixture.alerts.messages()[0].body;
    assert!(
        body.contains(&format!("Why this alert: {}", analysis.reason)),
        "{body}"
    );
}

#[tokio::test]
async fn a_failed_run_goes_to_the_operators_topic() {
    let (function, fixture) = function();
    let input: AlertInput = serde_json::from_value(json!({
        "run_id": "r2", "mode": "failure", "error": "States.Timeout", "cause": "Aggregate timed out"
    }))
    .unwrap();
    handle(&function, input).await.unwrap();
    assert!(fixture.alerts.messages().is_empty());
    let sent = fixture.failures.messages();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].subject.contains("r2") && sent[0].subject.contains("FAILED"));
    assert!(sent[0].body.contains("Aggregate timed out"));
    assert!(!sent[0].attributes.iter().any(|(k, _)| *k == "account"));
}

#[tokio::test]
async fn a_missing_run_document_is_an_error_and_nothing_is_sent() {
    let (function, fixture) = function();
    let err = handle(&function, AlertInput::Findings(run_ref("r3")))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.AwsError");
    assert!(err.to_string().contains("runs/r3/run.json"), "{err}");
    assert!(fixture.alerts.messages().is_empty());
}

#[tokio::test]
async fn an_organization_alert_names_the_accounts_and_keeps_the_scanners_attribute() {
    let (function, fixture) = function();
    let run = run_document(
        "r4",
        vec![
            ec2_unit("r4", "eu-west-1", &[("sg-closed", &[])]),
            account_ec2_unit("222222222222", "r4", "eu-west-1", &[("sg-ssh", &[22])]),
        ],
        vec![],
    );
    put_json(fixture.store.as_ref(), &run_ref("r4").run_key, &run, "run")
        .await
        .unwrap();
    handle(&function, AlertInput::Findings(run_ref("r4")))
        .await
        .unwrap();
    let sent = fixture.alerts.messages();
    assert!(
        sent[0].subject.ends_with("in 2 accounts"),
        "{}",
        sent[0].subject
    );
    assert!(
        sent[0].body.contains("(eu-west-1, account 222222222222)"),
        "{}",
        sent[0].body
    );
    let attributes: std::collections::BTreeMap<_, _> = sent[0].attributes.iter().cloned().collect();
    // Subscribers filter on the scanner deployment's account, whatever the run covered.
    assert_eq!(attributes["account"], ACCOUNT_ID);
}

// ------------------------------------------------------------------ at least once, sent once

#[tokio::test]
async fn a_second_invocation_for_the_same_run_sends_nothing_and_answers_the_same() {
    let (function, fixture) = function();
    store_run(&fixture.store, "r5").await;
    let first = handle(&function, AlertInput::Findings(run_ref("r5")))
        .await
        .unwrap();
    let bucket = fixture.store.objects();
    let second = handle(&function, AlertInput::Findings(run_ref("r5")))
        .await
        .unwrap();
    assert_eq!(second, first);
    assert_eq!(fixture.alerts.messages().len(), 1);
    assert_eq!(fixture.store.objects(), bucket);
    // Another run is another alert.
    store_run(&fixture.store, "r6").await;
    handle(&function, AlertInput::Findings(run_ref("r6")))
        .await
        .unwrap();
    assert_eq!(fixture.alerts.messages().len(), 2);
}

#[tokio::test]
async fn a_failure_alert_is_sent_once_per_run_and_apart_from_its_findings_alert() {
    let (function, fixture) = function();
    let failure = || -> AlertInput {
        serde_json::from_value(json!({
            "run_id": "r7", "mode": "failure", "error": "States.Timeout", "cause": "timed out"
        }))
        .unwrap()
    };
    let first = handle(&function, failure()).await.unwrap();
    assert_eq!(handle(&function, failure()).await.unwrap(), first);
    assert_eq!(fixture.failures.messages().len(), 1);
    // The findings alert of the same run is its own record: it is still sent.
    store_run(&fixture.store, "r7").await;
    handle(&function, AlertInput::Findings(run_ref("r7")))
        .await
        .unwrap();
    assert_eq!(fixture.alerts.messages().len(), 1);
}

#[tokio::test]
async fn a_publish_that_failed_is_sent_by_the_retry_and_only_then() {
    let (function, fixture) = function();
    store_run(&fixture.store, "r8").await;
    fixture.alerts.writes.fail_nth(1);
    let err = handle(&function, AlertInput::Findings(run_ref("r8")))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.TransientError");
    assert!(fixture.alerts.messages().is_empty());
    assert!(fixture.store.json("runs/r8/alerts/findings.json").is_none());
    let out = handle(&function, AlertInput::Findings(run_ref("r8")))
        .await
        .unwrap();
    handle(&function, AlertInput::Findings(run_ref("r8")))
        .await
        .unwrap();
    assert_eq!(fixture.alerts.messages().len(), 1);
    assert_eq!(
        fixture.store.json("runs/r8/alerts/findings.json").unwrap(),
        serde_json::to_value(&out).unwrap()
    );
}

#[tokio::test]
async fn an_alert_sent_but_not_recorded_still_succeeds() {
    let (function, fixture) = function();
    store_run(&fixture.store, "r9").await;
    // The only write of the state is the record of the alert sent.
    fixture.store.writes.fail_nth(1);
    let out = handle(&function, AlertInput::Findings(run_ref("r9")))
        .await
        .unwrap();
    assert_eq!(out.message_id, "memory-1");
    assert_eq!(fixture.alerts.messages().len(), 1);
    assert!(fixture.store.json("runs/r9/alerts/findings.json").is_none());
}
