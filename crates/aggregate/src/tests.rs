//! The aggregate's decisions with the reports bucket in memory.

use std::sync::Arc;

use compliance_aws::store::MemoryStore;
use compliance_core::contract::parse_input;
use compliance_core::testing::ec2_unit;
use serde_json::{json, Value};

use super::*;

fn function() -> (Function, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    (
        Function {
            store: store.clone(),
        },
        store,
    )
}

/// Stores the unit documents and returns the summaries region-scan would have returned.
async fn scanned(store: &MemoryStore, run: &str, regions: &[&str]) -> Vec<Value> {
    let mut summaries = Vec::new();
    for region in regions {
        let unit = ec2_unit(run, region, &[("sg-ssh", &[22]), ("sg-rdp", &[3389])]);
        let key = format!("runs/{run}/scans/{region}/ec2.json");
        put_json(store, &key, &unit, "unit").await.unwrap();
        summaries.push(serde_json::to_value(unit.summary(key)).unwrap());
    }
    summaries
}

fn input(run: &str, scans: &Value) -> AggregateInput {
    parse_input(
        json!({"run_id": run, "trigger": "scheduled", "regions": ["eu-west-1"], "scans": scans}),
    )
    .unwrap()
}

#[tokio::test]
async fn merges_every_unit_and_lists_the_failed_ones() {
    let (function, store) = function();
    let units = scanned(&store, "r1", &["eu-west-1", "us-east-1"]).await;
    let failed = json!({"run_id": "r1", "region": "us-east-1", "service": "rds",
        "error": {"Error": "ComplianceScanner.AwsError", "Cause": "denied"}});
    // Parallel and Map nest their results; the shape is whatever depth the ASL gives.
    let out = handle(
        &function,
        input("r1", &json!([[[units[0], failed]], units[1]])),
    )
    .await
    .unwrap();
    assert_eq!(out.run_key, "runs/r1/run.json");
    assert_eq!(out.findings_total, 4, "SSH and RDP open in two regions");
    assert_eq!(out.findings_by_severity.total(), 4);
    assert_eq!(out.failed_unit_count, 1);
    assert_eq!(out.failed_units[0].service, "rds");
    assert!(out.partial);
    let run = store
        .json("runs/r1/run.json")
        .expect("run document written");
    assert_eq!(run["units"].as_array().unwrap().len(), 2);
    assert_eq!(run["trigger"], "scheduled");
    assert_eq!(run["findings"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_result_of_another_run_is_refused_and_nothing_is_written() {
    let (function, store) = function();
    let units = scanned(&store, "r2", &["eu-west-1"]).await;
    let err = handle(&function, input("r1", &json!([units[0]])))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.InvalidInput");
    assert!(err.to_string().contains("not to run `r1`"), "{err}");
    assert!(store.json("runs/r1/run.json").is_none());
}

#[tokio::test]
async fn a_missing_unit_document_is_an_error_naming_its_key() {
    let (function, store) = function();
    let units = scanned(&store, "r1", &["eu-west-1"]).await;
    let mut summary = units[0].clone();
    summary["region"] = json!("ap-southeast-1");
    summary["findings_key"] = json!("runs/r1/scans/ap-southeast-1/ec2.json");
    let err = handle(&function, input("r1", &json!([summary])))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("runs/r1/scans/ap-southeast-1/ec2.json"),
        "{err}"
    );
    assert!(store.json("runs/r1/run.json").is_none());
}

#[tokio::test]
async fn a_run_whose_units_all_succeeded_is_complete() {
    let (function, store) = function();
    let units = scanned(&store, "r3", &["eu-west-1"]).await;
    let out = handle(&function, input("r3", &json!([units[0]])))
        .await
        .unwrap();
    assert!(!out.partial);
    assert_eq!(out.failed_unit_count, 0);
    assert_eq!(out.account_id, compliance_core::testing::ACCOUNT_ID);
}
