//! Every state's input parser against arbitrary JSON and against valid inputs with one field
//! dropped, renamed or retyped: never a panic, and an error names the field at fault.
//! `PROPTEST_CASES=100000 cargo test -p compliance-core --test state_input_fuzz` runs longer.

mod common;

use common::{arbitrary_json, field_paths, mutate, mutation};
use compliance_core::contract::{
    parse_input, AggregateInput, AlertInput, AnalyzeInput, PlanInput, RegionScanInput,
    RemediateInput, StateInput, StoreReportInput,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const FIELDS: &[&str] = &[
    "run_id",
    "run_key",
    "trigger",
    "manifest_key",
    "region",
    "service",
    "account_id",
    "role_arn",
    "mode",
    "error",
    "cause",
    "findings",
    "failure",
    "us-east-1",
    "ec2",
    "r1",
    "runs/r1/run.json",
    "111111111111",
];

/// A valid input of every state (the alert state has two).
fn valid_inputs() -> Vec<(&'static str, Value)> {
    vec![
        ("plan", json!({"run_id": "r1", "trigger": "scheduled"})),
        (
            "region-scan",
            json!({"run_id": "r1", "region": "eu-west-1", "service": "ec2",
            "account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/ComplianceScannerMemberRole"}),
        ),
        (
            "aggregate",
            json!({"run_id": "r1", "trigger": "manual", "manifest_key": "runs/r1/map/manifest.json"}),
        ),
        (
            "analyze",
            json!({"run_id": "r1", "run_key": "runs/r1/run.json"}),
        ),
        (
            "alert",
            json!({"mode": "findings", "run_id": "r1", "run_key": "runs/r1/run.json"}),
        ),
        (
            "alert",
            json!({"mode": "failure", "run_id": "r1", "error": "States.TaskFailed", "cause": "boom"}),
        ),
    ]
}

/// Parses `event` as `state`'s input: the error, if any.
fn parse(state: &str, event: Value) -> Option<String> {
    fn err<I: StateInput>(event: Value) -> Option<String> {
        parse_input::<I>(event).err()
    }
    match state {
        "plan" => err::<PlanInput>(event),
        "region-scan" => err::<RegionScanInput>(event),
        "aggregate" => err::<AggregateInput>(event),
        "analyze" => err::<AnalyzeInput>(event),
        "remediate" => err::<RemediateInput>(event),
        "store-report" => err::<StoreReportInput>(event),
        "alert" => err::<AlertInput>(event),
        other => unreachable!("no state {other}"),
    }
}

const STATES: &[&str] = &[
    "plan",
    "region-scan",
    "aggregate",
    "analyze",
    "remediate",
    "store-report",
    "alert",
];

/// Whether an error names a field: one of the input's own keys, or a field the state takes.
fn names_a_field(error: &str, event: &Value) -> bool {
    let keys = event
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    error.contains("expected an object")
        || keys
            .iter()
            .chain(
                FIELDS
                    .iter()
                    .map(|f| (*f).to_string())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .any(|k| {
                error.contains(&format!("`{k}`"))
                    || error.contains(&format!("`{k}."))
                    || error.contains(&format!("`{k}["))
            })
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics_and_errors_name_a_field(
        state in prop::sample::select(STATES),
        event in arbitrary_json(FIELDS),
    ) {
        if let Some(error) = parse(state, event.clone()) {
            prop_assert!(names_a_field(&error, &event), "{}: {} -> {}", state, event, error);
        }
    }

    #[test]
    fn a_mutated_input_is_refused_naming_the_field(
        which in any::<prop::sample::Index>(),
        field in any::<prop::sample::Index>(),
        change in mutation(),
    ) {
        let inputs = valid_inputs();
        let (state, mut event) = inputs[which.index(inputs.len())].clone();
        prop_assert_eq!(parse(state, event.clone()), None, "{} takes {}", state, event);
        let paths = field_paths(&event);
        let path = &paths[field.index(paths.len())];
        let names = mutate(&mut event, path, change);
        if let Some(error) = parse(state, event.clone()) {
            prop_assert!(names.iter().any(|n| error.contains(n.as_str())), "{} {:?} of {:?}: {} -> {}", state, change, names, event, error);
        }
    }
}
