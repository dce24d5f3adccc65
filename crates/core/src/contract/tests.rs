//! The contract against its two other copies: the sample events in `events/` and the state
//! machine definition. The definition is walked state by state with the functions' typed
//! outputs, so a field the ASL passes that no type declares, or a field it reads from a result
//! that no output has, fails here rather than in a deployed workflow.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::*;
use crate::analysis::Decision;
use crate::finding::SeverityCounts;
use crate::lifecycle::LifecycleCounts;
use crate::model::Service;
use crate::remediation::Mode;
use crate::run::FailedUnit;

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn parse<T: DeserializeOwned>(what: &str, value: &Value) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("{what}: {e}\n  input: {value}"))
}

/// Each sample event against the input type of the function it is for.
#[test]
fn every_sample_event_is_its_states_input() {
    let mut checked = 0;
    for entry in std::fs::read_dir(repo_file("events")).expect("events/") {
        let path = entry.expect("events/ entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).expect("read event");
        let event: Value = serde_json::from_str(&text).expect("event is JSON");
        let result = match name {
            "region-scan.json" => parse::<RegionScanInput>(name, &event).map(drop),
            "plan.json" => parse::<PlanInput>(name, &event).map(drop),
            "aggregate.json" => parse::<AggregateInput>(name, &event).map(drop),
            "analyze.json" => parse::<AnalyzeInput>(name, &event).map(drop),
            "alert.json" | "alert-failure.json" => parse::<AlertInput>(name, &event).map(drop),
            "remediate.json" => parse::<RemediateInput>(name, &event).map(drop),
            "store-report.json" => parse::<StoreReportInput>(name, &event).map(drop),
            // Execution inputs (EventBridge's targets), not a function's: any object is valid.
            "eventbridge-scheduled.json" | "eventbridge-on-demand.json" => {
                assert!(event.is_object(), "{name}");
                Ok(())
            }
            other => panic!("events/{other}: no state input type is known for it; add it here"),
        };
        result.unwrap_or_else(|e| panic!("events/{e}"));
        checked += 1;
    }
    assert_eq!(checked, 10, "every event file was checked");
}

#[test]
fn inputs_name_the_field_at_fault() {
    let err = |v: Value| {
        serde_json::from_value::<RegionScanInput>(v)
            .unwrap_err()
            .to_string()
    };
    let unknown = err(json!({"run_id": "r", "region": "us-east-1", "service": "ec2", "extra": 1}));
    assert!(unknown.contains("unknown field `extra`"), "{unknown}");
    let service = err(json!({"run_id": "r", "region": "us-east-1", "service": "sqs"}));
    assert!(service.contains("sqs"), "{service}");
    let mode = serde_json::from_value::<AlertInput>(json!({"run_id": "r", "mode": "page"}))
        .unwrap_err()
        .to_string();
    assert!(mode.contains("unknown variant `page`"), "{mode}");
    let stray = serde_json::from_value::<AlertInput>(
        json!({"run_id": "r", "run_key": "runs/r/run.json", "mode": "findings", "extra": 1}),
    )
    .unwrap_err()
    .to_string();
    assert!(stray.contains("unknown field `extra`"), "{stray}");
    let aggregate = serde_json::from_value::<AggregateInput>(
        json!({"run_id": "r", "scans": [[{"region": 1}]]}),
    )
    .unwrap_err()
    .to_string();
    assert!(aggregate.contains("unknown field `scans`"), "{aggregate}");
}

/// The region-scan input as a person writing an event would get it wrong.
#[test]
fn region_scan_input_names_the_wrong_field() {
    let err = |v: Value| parse_input::<RegionScanInput>(v).unwrap_err();
    assert!(err(json!([])).contains("expected an object"));
    assert!(
        err(json!({"region": "us-east-1", "service": "ec2"})).contains("missing field `run_id`")
    );
    let not_a_string = err(json!({"run_id": 5, "region": "us-east-1", "service": "ec2"}));
    assert!(
        not_a_string.contains("field `run_id`") && not_a_string.contains("expected a string"),
        "{not_a_string}"
    );
    assert!(
        err(json!({"run_id": "../etc", "region": "us-east-1", "service": "ec2"}))
            .contains("run_id")
    );
    assert!(
        err(json!({"run_id": "r", "region": "mars-1", "service": "ec2"}))
            .contains("field `region`")
    );
    assert!(err(json!({"run_id": "r", "region": 42, "service": "ec2"})).contains("field `region`"));
    assert!(
        err(json!({"run_id": "r", "region": "us-east-1", "service": "sqs"}))
            .contains("field `service`")
    );
    assert!(err(
        json!({"run_id": "r", "region": "us-east-1", "service": "s3", "account_id": "12"})
    )
    .contains("field `account_id`"));
    // The ASL controls this shape: a field it does not pass is a renamed or stray one.
    assert!(
        err(json!({"run_id": "r", "region": "us-east-1", "service": "s3", "extra": 1}))
            .contains("unknown field `extra`")
    );
    let ok: RegionScanInput =
        parse_input(json!({"run_id": "r", "region": "us-east-1", "service": "S3"})).unwrap();
    assert_eq!(ok.service, Service::S3);
    // A member role belongs to the account it scans.
    let member = |role: &str| {
        json!({"run_id": "r", "region": "us-east-1", "service": "ec2",
            "account_id": "222222222222", "role_arn": role})
    };
    assert!(parse_input::<RegionScanInput>(member(
        "arn:aws:iam::222222222222:role/ComplianceScannerMemberRole"
    ))
    .is_ok());
    for wrong in [
        "arn:aws:iam::333333333333:role/ComplianceScannerMemberRole",
        "arn:aws:iam::222222222222:user/someone",
        "ComplianceScannerMemberRole",
    ] {
        let e = err(member(wrong));
        assert!(e.contains("role_arn") && e.contains(wrong), "{e}");
    }
    let orphan = err(
        json!({"run_id": "r", "region": "us-east-1", "service": "ec2",
        "role_arn": "arn:aws:iam::222222222222:role/R"}),
    );
    assert!(orphan.contains("without the `account_id`"), "{orphan}");
}

#[test]
fn a_failure_alert_keeps_whatever_error_it_got() {
    let input: AlertInput = serde_json::from_value(
        json!({"run_id": "r", "mode": "failure", "error": null, "cause": {"x": 1}}),
    )
    .unwrap();
    let AlertInput::Failure(f) = input else {
        panic!("failure mode")
    };
    assert_eq!((f.error.as_str(), f.cause.as_str()), ("", r#"{"x":1}"#));
}

// ------------------------------------------------------------------ the state machine, walked

const RUN: &str = "sample-run-0001";

fn counts() -> SeverityCounts {
    SeverityCounts {
        critical: 1,
        high: 2,
        medium: 3,
        low: 4,
        informational: 0,
    }
}

/// What each function returns, serialised from its typed output.
fn output_of(resource: &str, input: &Value) -> Value {
    let run_id = RunId::parse(RUN).unwrap();
    let value = match resource {
        "${PlanFunctionArn}" => serde_json::to_value(PlanOutput {
            bucket: "reports-bucket".into(),
            plan_key: run_id.keys().plan(),
            units_key: run_id.keys().plan_units(),
            results_prefix: run_id.keys().map_results_prefix(),
            account_count: 2,
            unit_count: sample_units().len(),
            regions: vec![Region::parse("eu-west-1").unwrap()],
            max_concurrency: 100,
            tolerated_failure_percentage: 10.0,
        }),
        "${RegionScanFunctionArn}" => {
            let input: RegionScanInput = parse("region-scan", input).unwrap();
            let account = input.account_id.map(|a| a.to_string()).unwrap_or_default();
            serde_json::to_value(RegionScanOutput {
                run_id: RUN.into(),
                account_id: account.clone(),
                region: input.region.to_string(),
                service: input.service,
                resources_scanned: 3,
                findings_by_severity: counts(),
                findings_key: run_id
                    .keys()
                    .unit(&account, input.region.as_str(), input.service),
                errors: vec![],
                error_count: 0,
            })
        }
        "${AggregateFunctionArn}" => serde_json::to_value(AggregateOutput {
            run_id: run_id.clone(),
            run_key: run_id.keys().run_document(),
            account_id: "123456789012".into(),
            resources_scanned: 9,
            findings_total: 10,
            findings_by_severity: counts(),
            failed_units: vec![FailedUnit {
                account_id: "222222222222".into(),
                region: "eu-west-1".into(),
                service: "rds".into(),
                error: "ComplianceScanner.AwsError".into(),
                cause: "denied".into(),
            }],
            failed_unit_count: 1,
            partial: true,
        }),
        "${AnalyzeFunctionArn}" => serde_json::to_value(AnalyzeOutput {
            run_id: run_id.clone(),
            decision: Decision::Alert,
            reason: "2 critical findings (max 0)".into(),
            compliance_score: Some(80.0),
            findings_by_severity: counts(),
            new: 1,
            still_open: 2,
            resolved: 0,
            previous_run_id: None,
            analysis_key: run_id.keys().analysis(),
        }),
        "${AlertFunctionArn}" => serde_json::to_value(AlertOutput {
            message_id: "m-1".into(),
            subject: "subject".into(),
        }),
        "${RemediateFunctionArn}" => serde_json::to_value(RemediateOutput {
            mode: Mode::DryRun,
            started: 0,
            dry_run: 2,
            skipped: 0,
            failed: 0,
            decisions_key: run_id.keys().remediation(),
        }),
        "${StoreReportFunctionArn}" => serde_json::to_value(StoreReportOutput {
            reports: ReportKeys::under(&run_id.keys().report_prefix("2026-11-23T10:00:00Z")),
            compliance_score: Some(80.0),
            findings_total: 10,
            lifecycle: Some(LifecycleCounts::default()),
            security_hub: SecurityHubExport::Disabled,
            webhook: WebhookDelivery::NotConfigured,
        }),
        other => panic!("the walk knows no resource {other}"),
    };
    value.expect("output serialises")
}

/// Parses each function's input from what the ASL passes it: an unknown or missing field fails.
fn check_input(state: &str, resource: &str, input: &Value) {
    let result = match resource {
        "${RegionScanFunctionArn}" => parse::<RegionScanInput>(state, input).map(drop),
        "${PlanFunctionArn}" => parse::<PlanInput>(state, input).map(drop),
        "${AggregateFunctionArn}" => parse::<AggregateInput>(state, input).map(drop),
        "${AnalyzeFunctionArn}" => parse::<AnalyzeInput>(state, input).map(drop),
        "${AlertFunctionArn}" => parse::<AlertInput>(state, input).map(drop),
        "${RemediateFunctionArn}" => parse::<RemediateInput>(state, input).map(drop),
        "${StoreReportFunctionArn}" => parse::<StoreReportInput>(state, input).map(drop),
        _ => Ok(()),
    };
    result.unwrap_or_else(|e| panic!("state {e}"));
}

struct Walk {
    map_item: Value,
    tasks_seen: Vec<String>,
}

/// The units a plan lists: the scanner's own account and a member reached through its role.
fn sample_units() -> Vec<RegionScanInput> {
    let target = |id: &str, role: bool| crate::accounts::ScanTarget {
        account_id: AccountId::parse(id).unwrap(),
        name: None,
        role_arn: role.then(|| format!("arn:aws:iam::{id}:role/ComplianceScannerMemberRole")),
    };
    crate::plan::ScanPlan {
        schema_version: 1,
        run_id: RunId::parse(RUN).unwrap(),
        created_at: "2026-11-23T10:00:00Z".into(),
        own_account_id: AccountId::parse("123456789012").unwrap(),
        regions: vec![Region::parse("eu-west-1").unwrap()],
        services: Service::ALL.to_vec(),
        accounts: vec![target("123456789012", false), target("222222222222", true)],
    }
    .units()
}

/// A Distributed Map's items: the ItemReader's object must be the plan's units, and its limits
/// must be numbers the state data has.
fn distributed_items(
    reader: &Value,
    state: &Value,
    data: &Value,
    walk: &Walk,
) -> Result<Value, String> {
    let object = resolve(&reader["Parameters"], data, walk)?;
    if object["Key"] != json!(RunId::parse(RUN).unwrap().keys().plan_units()) {
        return Err(format!(
            "the ItemReader reads {object}, not the plan's units"
        ));
    }
    for limit in ["MaxConcurrencyPath", "ToleratedFailurePercentagePath"] {
        let path = state[limit].as_str().ok_or(format!("no {limit}"))?;
        if !lookup(path, data, walk)?.is_number() {
            return Err(format!("{limit} {path} is not a number"));
        }
    }
    serde_json::to_value(sample_units()).map_err(|e| e.to_string())
}

/// `$.a.b[0]`-style paths (the only kinds the definition uses); a missing field is an error.
fn lookup(path: &str, data: &Value, walk: &Walk) -> Result<Value, String> {
    match path {
        "$$.Execution.Name" => return Ok(json!(RUN)),
        "$$.Map.Item.Value" => return Ok(walk.map_item.clone()),
        "$" => return Ok(data.clone()),
        _ => {}
    }
    let rest = path
        .strip_prefix("$.")
        .ok_or_else(|| format!("unsupported path {path}"))?;
    let mut at = data;
    for part in rest.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        at = at
            .get(name)
            .ok_or_else(|| format!("{path}: no field `{name}` in {at}"))?;
        if let Some(i) = index {
            at = at.get(i).ok_or_else(|| format!("{path}: no item {i}"))?;
        }
    }
    Ok(at.clone())
}

/// The intrinsic functions the definition uses, evaluated.
fn intrinsic(expr: &str, data: &Value, walk: &Walk) -> Result<Value, String> {
    let args = |name: &str| -> Option<Vec<String>> {
        let inner = expr
            .strip_prefix(name)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        Some(inner.splitn(2, ", ").map(str::to_string).collect())
    };
    if let Some(a) = args("States.StringSplit") {
        let text = lookup(&a[0], data, walk)?;
        let delimiters: Vec<char> = a[1].trim_matches('\'').chars().collect();
        let parts: Vec<&str> = text
            .as_str()
            .ok_or("StringSplit of a non-string")?
            .split(|c| delimiters.contains(&c))
            .filter(|s| !s.is_empty())
            .collect();
        return Ok(json!(parts));
    }
    if let Some(a) = args("States.ArrayGetItem") {
        let array = lookup(&a[0], data, walk)?;
        let i: usize = a[1].parse().map_err(|_| "ArrayGetItem index")?;
        return array
            .get(i)
            .cloned()
            .ok_or_else(|| "ArrayGetItem out of range".into());
    }
    if expr.starts_with("States.") {
        return Err(format!("the walk does not evaluate {expr}"));
    }
    lookup(expr, data, walk)
}

/// A Parameters / ItemSelector / ResultSelector template, resolved against the state data.
fn resolve(template: &Value, data: &Value, walk: &Walk) -> Result<Value, String> {
    match template {
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, value) in fields {
                match key.strip_suffix(".$") {
                    Some(name) => {
                        let expr = value.as_str().ok_or("a .$ field must be a string")?;
                        out.insert(name.to_string(), intrinsic(expr, data, walk)?);
                    }
                    None => {
                        out.insert(key.clone(), resolve(value, data, walk)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

fn set_result(data: &Value, result_path: Option<&Value>, result: Value) -> Value {
    match result_path.and_then(Value::as_str) {
        None | Some("$") => result,
        Some(path) => {
            let field = path.strip_prefix("$.").expect("ResultPath $.field");
            let mut out = data.clone();
            out[field] = result;
            out
        }
    }
}

/// Runs a chain of states from `start` with `data`; returns its output. Catch and Choice
/// targets are walked too, so every path is checked.
fn run_chain(states: &Map<String, Value>, start: &str, mut data: Value, walk: &mut Walk) -> Value {
    let mut name = start.to_string();
    loop {
        let state = &states[&name];
        let fail = |e: String| -> ! { panic!("state {name}: {e}") };
        if let Some(input_path) = state.get("InputPath").and_then(Value::as_str) {
            data = lookup(input_path, &data, walk).unwrap_or_else(|e| fail(e));
        }
        let effective = match state.get("Parameters") {
            Some(p) => resolve(p, &data, walk).unwrap_or_else(|e| fail(e)),
            None => data.clone(),
        };
        let result = match state["Type"].as_str().unwrap_or_default() {
            "Pass" => effective,
            "Task" => {
                let resource = state["Resource"].as_str().unwrap_or_default();
                check_input(&name, resource, &effective);
                walk.tasks_seen.push(name.clone());
                output_of(resource, &effective)
            }
            "Parallel" => {
                let branches = state["Branches"].as_array().expect("Branches");
                Value::Array(
                    branches
                        .iter()
                        .map(|b| {
                            let inner = b["States"].as_object().expect("States");
                            run_chain(
                                inner,
                                b["StartAt"].as_str().unwrap(),
                                effective.clone(),
                                walk,
                            )
                        })
                        .collect(),
                )
            }
            "Map" => {
                let items = match state.get("ItemReader") {
                    Some(reader) => {
                        distributed_items(reader, state, &data, walk).unwrap_or_else(|e| fail(e))
                    }
                    None => lookup(state["ItemsPath"].as_str().unwrap_or("$"), &data, walk)
                        .unwrap_or_else(|e| fail(e)),
                };
                let processor = &state["ItemProcessor"];
                let inner = processor["States"].as_object().expect("States");
                let mut outputs = Vec::new();
                for item in items.as_array().expect("Map items").clone() {
                    let saved = std::mem::replace(&mut walk.map_item, item);
                    let item_input = match state.get("ItemSelector") {
                        Some(s) => resolve(s, &data, walk).unwrap_or_else(|e| fail(e)),
                        None => walk.map_item.clone(),
                    };
                    let start = processor["StartAt"].as_str().unwrap();
                    outputs.push(run_chain(inner, start, item_input, walk));
                    walk.map_item = saved;
                }
                let outputs = Value::Array(outputs);
                match state.get("ResultWriter") {
                    Some(writer) => {
                        // aggregate reads the children's outputs back from the result files.
                        crate::run::scan_entries(&outputs).unwrap_or_else(|e| fail(e.to_string()));
                        let written =
                            resolve(&writer["Parameters"], &data, walk).unwrap_or_else(|e| fail(e));
                        let prefix = written["Prefix"].as_str().expect("Prefix");
                        assert_eq!(
                            prefix,
                            RunId::parse(RUN).unwrap().keys().map_results_prefix()
                        );
                        json!({"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:x/y:z",
                            "ResultWriterDetails": {"Bucket": written["Bucket"],
                                "Key": format!("{prefix}/z/manifest.json")}})
                    }
                    None => outputs,
                }
            }
            "Choice" => {
                let choices = state["Choices"].as_array().expect("Choices");
                for choice in choices {
                    let variable = choice["Variable"].as_str().expect("Variable");
                    lookup(variable, &data, walk).unwrap_or_else(|e| fail(e));
                }
                // Every target is walked; the chain goes on with the first choice.
                if let Some(default) = state.get("Default").and_then(Value::as_str) {
                    run_chain(states, default, data.clone(), walk);
                }
                name = choices[0]["Next"].as_str().expect("Next").to_string();
                continue;
            }
            "Succeed" | "Fail" => return data,
            other => panic!("state {name}: the walk knows no type {other}"),
        };
        let result = match state.get("ResultSelector") {
            Some(s) => resolve(s, &result, walk).unwrap_or_else(|e| fail(e)),
            None => result,
        };
        for catch in state
            .get("Catch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let error = json!({"Error": "States.TaskFailed", "Cause": "a sample failure"});
            let caught = set_result(&data, catch.get("ResultPath"), error);
            run_chain(states, catch["Next"].as_str().expect("Next"), caught, walk);
        }
        data = set_result(&data, state.get("ResultPath"), result);
        if let Some(output_path) = state.get("OutputPath").and_then(Value::as_str) {
            data = match output_path {
                // The run's single-branch Parallel passes its branch's output on.
                "$[0]" => data
                    .get(0)
                    .cloned()
                    .unwrap_or_else(|| fail("no $[0]".into())),
                path => lookup(path, &data, walk).unwrap_or_else(|e| fail(e)),
            };
        }
        match state.get("Next").and_then(Value::as_str) {
            Some(next) => name = next.to_string(),
            None => return data,
        }
    }
}

#[test]
fn the_state_machine_passes_every_function_what_its_types_declare() {
    let text = std::fs::read_to_string(repo_file("statemachine/compliance_scan.asl.json"))
        .expect("read the definition");
    let definition: Value = serde_json::from_str(&text).expect("definition is JSON");
    let states = definition["States"].as_object().expect("States");
    let mut walk = Walk {
        map_item: Value::Null,
        tasks_seen: vec![],
    };
    // Init evaluates JsonMerge over the execution input; its result is what InitState reads.
    let after_init = json!({"run_id": RUN, "input": {"trigger": "scheduled"}});
    let output = run_chain(states, "InitState", after_init, &mut walk);
    assert_eq!(
        output["aggregate"]["run_key"],
        "runs/sample-run-0001/run.json"
    );
    for task in [
        "Plan",
        "ScanUnit",
        "Aggregate",
        "Analyze",
        "Alert",
        "Remediate",
        "StoreReport",
        "NotifyFailure",
    ] {
        assert!(
            walk.tasks_seen.iter().any(|t| t == task),
            "the walk reached {task}"
        );
    }
}
