//! The aggregate's decisions with the reports bucket in memory: the plan, the map's result
//! files and the unit documents as the plan state, the ResultWriter and region-scan leave them.

use std::sync::Arc;

use compliance_aws::store::{put_json, MemoryStore};
use compliance_core::accounts::ScanTarget;
use compliance_core::contract::{parse_input, AccountId, Region, RunId};
use compliance_core::model::Service;
use compliance_core::run::RunDocument;
use compliance_core::testing::account_ec2_unit;
use serde_json::{json, Value};

use super::*;

const OWN: &str = "111111111111";
const MEMBER: &str = "222222222222";
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn function() -> (Function, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    (
        Function {
            store: store.clone(),
        },
        store,
    )
}

/// Writes the plan of `accounts` (ec2 in two regions) and returns it.
async fn planned(store: &MemoryStore, run: &str, accounts: &[&str]) -> ScanPlan {
    let plan = ScanPlan {
        schema_version: 1,
        run_id: RunId::parse(run).unwrap(),
        created_at: "2026-12-01T00:00:00Z".into(),
        own_account_id: AccountId::parse(OWN).unwrap(),
        regions: REGIONS.iter().map(|r| Region::parse(r).unwrap()).collect(),
        services: vec![Service::Ec2],
        accounts: accounts
            .iter()
            .map(|a| ScanTarget {
                account_id: AccountId::parse(a).unwrap(),
                name: Some(format!("name-of-{a}")),
                role_arn: (*a != OWN).then(|| format!("arn:aws:iam::{a}:role/R")),
            })
            .collect(),
    };
    put_json(store, &format!("runs/{run}/plan.json"), &plan, "plan")
        .await
        .unwrap();
    plan
}

/// Stores `account`'s unit document of `region` and returns region-scan's output for it.
async fn scanned(store: &MemoryStore, run: &str, account: &str, region: &str) -> Value {
    let unit = account_ec2_unit(
        account,
        run,
        region,
        &[("sg-ssh", &[22]), ("sg-rdp", &[3389])],
    );
    let key = format!("runs/{run}/scans/{account}/{region}/ec2.json");
    put_json(store, &key, &unit, "unit").await.unwrap();
    serde_json::to_value(unit.summary(key)).unwrap()
}

/// Writes the ResultWriter's manifest and one SUCCEEDED file with `outputs`, and `failed`
/// children (their inputs) in a FAILED file; returns the aggregate's input.
async fn map_results(
    store: &MemoryStore,
    run: &str,
    outputs: &[Value],
    failed: &[Value],
) -> AggregateInput {
    let prefix = format!("runs/{run}/map/3f1c");
    let succeeded: Vec<Value> = outputs
        .iter()
        .map(|o| json!({"Status": "SUCCEEDED", "Input": "{}", "Output": o.to_string()}))
        .collect();
    let failed: Vec<Value> = failed
        .iter()
        .map(|i| {
            json!({"Status": "FAILED", "Input": i.to_string(), "Error": "States.Timeout",
            "Cause": "the child timed out"})
        })
        .collect();
    put_json(
        store,
        &format!("{prefix}/SUCCEEDED_0.json"),
        &succeeded,
        "s",
    )
    .await
    .unwrap();
    put_json(store, &format!("{prefix}/FAILED_0.json"), &failed, "f")
        .await
        .unwrap();
    let manifest = json!({"DestinationBucket": "b", "MapRunArn": "arn",
        "ResultFiles": {"SUCCEEDED": [{"Key": format!("{prefix}/SUCCEEDED_0.json"), "Size": 1}],
            "FAILED": [{"Key": format!("{prefix}/FAILED_0.json"), "Size": 1}], "PENDING": []}});
    put_json(store, &format!("{prefix}/manifest.json"), &manifest, "m")
        .await
        .unwrap();
    parse_input(json!({"run_id": run, "trigger": "scheduled",
        "manifest_key": format!("{prefix}/manifest.json")}))
    .unwrap()
}

#[tokio::test]
async fn merges_every_account_and_accounts_for_every_planned_unit() {
    let (function, store) = function();
    planned(&store, "r1", &[OWN, MEMBER, "333333333333"]).await;
    let own = [
        scanned(&store, "r1", OWN, REGIONS[0]).await,
        scanned(&store, "r1", OWN, REGIONS[1]).await,
    ];
    let member = scanned(&store, "r1", MEMBER, REGIONS[0]).await;
    // The third account's role could not be assumed: caught in its child, in both regions.
    let denied = |region: &str| {
        json!({"run_id": "r1", "account_id": "333333333333", "region": region, "service": "ec2",
            "error": {"Error": "ComplianceScanner.AwsError",
                "Cause": "account 333333333333: sts AssumeRole of arn:aws:iam::333333333333:role/R failed: AccessDenied"}})
    };
    // The member's us-east-1 child failed outright (FAILED file).
    let timed_out =
        json!({"run_id": "r1", "account_id": MEMBER, "region": REGIONS[1], "service": "ec2"});
    let input = map_results(
        &store,
        "r1",
        &[
            own[0].clone(),
            member,
            denied(REGIONS[0]),
            own[1].clone(),
            denied(REGIONS[1]),
        ],
        &[timed_out],
    )
    .await;
    let out = handle(&function, input).await.unwrap();
    assert_eq!(out.run_key, "runs/r1/run.json");
    assert_eq!(out.account_id, OWN);
    assert_eq!(
        out.findings_total, 6,
        "SSH and RDP: two regions of one account, one of another"
    );
    assert_eq!(out.failed_unit_count, 3);
    assert!(out.partial);
    let run: RunDocument = serde_json::from_value(store.json("runs/r1/run.json").unwrap()).unwrap();
    assert_eq!(run.trigger, "scheduled");
    assert_eq!(run.units.len(), 3);
    let failed: Vec<(&str, &str, &str)> = run
        .failed_units
        .iter()
        .map(|f| (f.account_id.as_str(), f.region.as_str(), f.error.as_str()))
        .collect();
    assert_eq!(
        failed,
        [
            (MEMBER, "us-east-1", "States.Timeout"),
            ("333333333333", "eu-west-1", "ComplianceScanner.AwsError"),
            ("333333333333", "us-east-1", "ComplianceScanner.AwsError"),
        ]
    );
    // Worst first: the unreachable account, then the partly scanned one, then the complete one.
    let accounts: Vec<(&str, Option<&str>, usize)> = run
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_deref(), a.failed_units))
        .collect();
    assert_eq!(
        accounts,
        [
            ("222222222222", Some("name-of-222222222222"), 1),
            ("333333333333", Some("name-of-333333333333"), 2),
            (OWN, Some("name-of-111111111111"), 0),
        ]
    );
    assert_eq!(
        run.account(OWN)
            .unwrap()
            .summary
            .findings_by_severity
            .total(),
        4
    );
    // Nothing of one account is filed under another.
    assert!(run
        .findings
        .iter()
        .all(|f| f.resource_arn.contains(&format!(":{}:", f.account_id))));
    // The streamed document is the document merged in memory.
    let units = vec![
        (
            format!("runs/r1/scans/{OWN}/eu-west-1/ec2.json"),
            unit_doc(&store, OWN, "eu-west-1"),
        ),
        (
            format!("runs/r1/scans/{OWN}/us-east-1/ec2.json"),
            unit_doc(&store, OWN, "us-east-1"),
        ),
        (
            format!("runs/r1/scans/{MEMBER}/eu-west-1/ec2.json"),
            unit_doc(&store, MEMBER, "eu-west-1"),
        ),
    ];
    let merged = RunDocument::merge("r1", "scheduled", run.created_at.clone(), units, vec![]);
    let mut findings = merged.findings.clone();
    findings.sort_by(|a, b| a.id.cmp(&b.id));
    let mut streamed = run.findings.clone();
    streamed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(streamed, findings);
    assert_eq!(run.summary, merged.summary);
}

fn unit_doc(store: &MemoryStore, account: &str, region: &str) -> UnitScanDocument {
    serde_json::from_value(
        store
            .json(&format!("runs/r1/scans/{account}/{region}/ec2.json"))
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_run_whose_units_all_succeeded_is_complete() {
    let (function, store) = function();
    planned(&store, "r3", &[OWN]).await;
    let outputs = [
        scanned(&store, "r3", OWN, REGIONS[0]).await,
        scanned(&store, "r3", OWN, REGIONS[1]).await,
    ];
    let out = handle(&function, map_results(&store, "r3", &outputs, &[]).await)
        .await
        .unwrap();
    assert!(!out.partial);
    assert_eq!(out.failed_unit_count, 0);
    assert_eq!(out.findings_total, 4);
}

#[tokio::test]
async fn a_unit_without_any_result_is_a_failed_unit() {
    let (function, store) = function();
    planned(&store, "r4", &[OWN]).await;
    let outputs = [scanned(&store, "r4", OWN, REGIONS[0]).await];
    let out = handle(&function, map_results(&store, "r4", &outputs, &[]).await)
        .await
        .unwrap();
    assert_eq!(out.failed_units[0].error, "ComplianceScanner.NoResult");
    assert_eq!(out.failed_units[0].region, "us-east-1");
}

#[tokio::test]
async fn results_from_outside_the_run_are_refused_and_nothing_is_written() {
    let (function, store) = function();
    planned(&store, "r1", &[OWN]).await;
    // A manifest outside the run's map prefix.
    let input: AggregateInput =
        parse_input(json!({"run_id": "r1", "manifest_key": "runs/r2/map/x/manifest.json"}))
            .unwrap();
    let err = handle(&function, input).await.unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.InvalidInput");
    assert!(
        err.to_string().contains("runs/r2/map/x/manifest.json"),
        "{err}"
    );
    // A result for an account the plan does not have.
    let stranger = scanned(&store, "r1", "999999999999", REGIONS[0]).await;
    let err = handle(&function, map_results(&store, "r1", &[stranger], &[]).await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("999999999999"), "{err}");
    assert!(store.json("runs/r1/run.json").is_none());
}

#[tokio::test]
async fn a_unit_whose_document_is_missing_is_a_failed_unit_naming_its_key() {
    let (function, store) = function();
    planned(&store, "r5", &[OWN]).await;
    // The map says us-east-1 completed, but its document is not there.
    let mut summary = scanned(&store, "r5", OWN, REGIONS[0]).await;
    summary["region"] = json!("us-east-1");
    let out = handle(&function, map_results(&store, "r5", &[summary], &[]).await)
        .await
        .unwrap();
    assert_eq!(out.failed_unit_count, 1);
    assert_eq!(out.failed_units[0].error, "ComplianceScanner.NoResult");
    assert!(
        out.failed_units[0]
            .cause
            .contains("runs/r5/scans/111111111111/us-east-1/ec2.json"),
        "{:?}",
        out.failed_units[0]
    );
}

#[tokio::test]
async fn a_missing_plan_is_named() {
    let (function, store) = function();
    let err = handle(&function, map_results(&store, "r6", &[], &[]).await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("runs/r6/plan.json"), "{err}");
}

// ------------------------------------------------------------------ at least once

/// A run of two accounts in two regions, one unit without a result: aggregate's input.
async fn two_account_run(store: &MemoryStore) -> AggregateInput {
    planned(store, "r9", &[OWN, MEMBER]).await;
    let outputs = [
        scanned(store, "r9", OWN, REGIONS[0]).await,
        scanned(store, "r9", OWN, REGIONS[1]).await,
        scanned(store, "r9", MEMBER, REGIONS[0]).await,
    ];
    map_results(store, "r9", &outputs, &[]).await
}

#[tokio::test]
async fn a_second_invocation_writes_the_same_run_document_and_answers_the_same() {
    let (function, store) = function();
    let input = two_account_run(&store).await;
    let first = handle(&function, input.clone()).await.unwrap();
    let bucket = store.objects();
    let second = handle(&function, input).await.unwrap();
    assert_eq!(second, first);
    // Byte for byte: the document does not depend on when or how often it is merged.
    assert_eq!(store.objects(), bucket);
}

#[tokio::test]
async fn a_rerun_after_the_run_document_failed_to_be_written_writes_the_same_one() {
    let (clean, store) = function();
    let input = two_account_run(&store).await;
    let expected = handle(&clean, input.clone()).await.unwrap();
    let expected_document = store.bytes("runs/r9/run.json").unwrap();

    let (function, store) = function();
    let input = two_account_run(&store).await;
    // The state's one write: the run document (one put, or a multipart upload's completion).
    store.writes.fail_nth(1);
    let err = handle(&function, input.clone()).await.unwrap_err();
    assert_eq!(
        err.error_type(),
        "ComplianceScanner.TransientError",
        "{err}"
    );
    assert!(store.bytes("runs/r9/run.json").is_none());
    assert_eq!(handle(&function, input).await.unwrap(), expected);
    assert_eq!(store.bytes("runs/r9/run.json").unwrap(), expected_document);
}
