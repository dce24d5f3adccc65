//! `compliance run`: starts the workflow on demand and, with `--wait`, follows it to the end.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::types::ExecutionStatus;
use clap::Args;
use compliance_aws::{sdk, workflow};
use serde_json::{json, Value};

use crate::exit;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The state machine to start.
    #[arg(long, value_name = "ARN", conflicts_with = "stack_name")]
    state_machine: Option<String>,
    /// Read the state machine from this stack's StateMachineArn output.
    #[arg(long, value_name = "NAME", default_value = "compliance-scanner")]
    stack_name: String,
    /// Execution name, which becomes the run id [default: run-<UTC time>].
    #[arg(long, value_name = "RUN_ID")]
    run_id: Option<String>,
    /// Follow the execution, printing state progress, then the run summary.
    #[arg(long)]
    wait: bool,
    /// Give up waiting after this many seconds (the execution goes on).
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
}

pub async fn run(args: RunArgs) -> Result<u8, String> {
    let region = compliance_aws::sdk::home_region();
    let factory = sdk::factory(&region).await;
    let sfn = factory.sfn();
    let state_machine = match args.state_machine {
        Some(arn) => arn,
        None => workflow::state_machine_from_stack(&factory.cloudformation(), &args.stack_name)
            .await
            .map_err(|e| e.to_string())?,
    };
    let run_id = args.run_id.unwrap_or_else(default_run_id);
    compliance_core::unit::validate_run_id(&run_id).map_err(|e| format!("--run-id: {e}"))?;
    let execution = workflow::start(
        &sfn,
        &state_machine,
        &run_id,
        &json!({"trigger": "on-demand"}).to_string(),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("started run {run_id}\n  execution {execution}");
    if !args.wait {
        return Ok(exit::OK);
    }

    let deadline = std::time::Instant::now() + Duration::from_secs(args.timeout);
    let mut last_event = 0;
    loop {
        for event in workflow::events_since(&sfn, &execution, last_event)
            .await
            .map_err(|e| e.to_string())?
        {
            last_event = last_event.max(event.id());
            if let Some(line) = workflow::describe_event(&event) {
                println!("  {line}");
            }
        }
        let state = workflow::describe(&sfn, &execution)
            .await
            .map_err(|e| e.to_string())?;
        match state.status {
            ExecutionStatus::Running | ExecutionStatus::PendingRedrive => {}
            ExecutionStatus::Succeeded => {
                // Step Functions only produces JSON output; anything else is worth saying.
                let output: Value = match state.output.as_deref() {
                    Some(text) => serde_json::from_str(text).map_err(|e| {
                        format!("run {run_id} succeeded but its output is not JSON: {e}")
                    })?,
                    None => Value::Null,
                };
                print!("{}", summary(&run_id, &output));
                return Ok(exit::OK);
            }
            other => {
                println!(
                    "run {run_id} ended {}: {} {}",
                    other.as_str(),
                    state.error.unwrap_or_default(),
                    state.cause.unwrap_or_default()
                );
                return Ok(exit::ERROR);
            }
        }
        if std::time::Instant::now() > deadline {
            println!(
                "still running after {} s; follow it with the execution ARN above",
                args.timeout
            );
            return Ok(exit::ERROR);
        }
        tokio::time::sleep(Duration::from_millis(750)).await;
    }
}

fn default_run_id() -> String {
    let now = SystemTime::now();
    let stamp = compliance_core::time::rfc3339(now).replace([':', '-'], "");
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("run-{stamp}-{:04x}", nanos & 0xffff)
}

/// The run summary from the execution output (keys and counts only).
pub fn summary(run_id: &str, output: &Value) -> String {
    let n = |v: &Value| {
        v.as_u64()
            .map(|x| x.to_string())
            .unwrap_or_else(|| "-".into())
    };
    let agg = &output["aggregate"];
    let analysis = &output["analysis"];
    let sev = &agg["findings_by_severity"];
    let score = analysis["compliance_score"]
        .as_f64()
        .map(|s| format!("{s:.1}%"))
        .unwrap_or_else(|| "n/a".into());
    let mut out = String::new();
    out.push_str(&format!(
        "\nrun {run_id}: score {score}, {} resources scanned\n",
        n(&agg["resources_scanned"])
    ));
    out.push_str(&format!(
        "  findings: {} critical, {} high, {} medium, {} low, {} informational\n",
        n(&sev["critical"]),
        n(&sev["high"]),
        n(&sev["medium"]),
        n(&sev["low"]),
        n(&sev["informational"])
    ));
    out.push_str(&format!(
        "  since previous run ({}): {} new, {} still open, {} resolved\n",
        analysis["previous_run_id"].as_str().unwrap_or("none"),
        n(&analysis["new"]),
        n(&analysis["still_open"]),
        n(&analysis["resolved"])
    ));
    out.push_str(&format!(
        "  decision: {} ({})\n",
        analysis["decision"].as_str().unwrap_or("-"),
        analysis["reason"].as_str().unwrap_or("-")
    ));
    if agg["partial"] == true {
        out.push_str(&format!(
            "  PARTIAL: {} scan units failed\n",
            n(&agg["failed_unit_count"])
        ));
        for unit in agg["failed_units"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "    {} {}: {}\n",
                unit["region"].as_str().unwrap_or("?"),
                unit["service"].as_str().unwrap_or("?"),
                unit["error"].as_str().unwrap_or("?")
            ));
        }
    }
    if let Some(actions) = output["actions"].as_array() {
        for action in actions {
            if action.get("mode").is_some() {
                out.push_str(&format!(
                    "  remediation ({}): {} started, {} dry-run, {} skipped, {} failed\n",
                    action["mode"].as_str().unwrap_or("-"),
                    n(&action["started"]),
                    n(&action["dry_run"]),
                    n(&action["skipped"]),
                    n(&action["failed"])
                ));
            } else if action.get("message_id").is_some() {
                out.push_str(&format!(
                    "  alert sent: {}\n",
                    action["subject"].as_str().unwrap_or("-")
                ));
            }
        }
    }
    if !output["actions_error"].is_null() {
        out.push_str(&format!(
            "  alert/remediation error: {}\n",
            output["actions_error"]["Error"].as_str().unwrap_or("?")
        ));
    }
    let report = &output["report"];
    out.push_str(&format!(
        "  reports: {} (also .csv, .ocsf.json, .html)\n",
        report["reports"]["json"].as_str().unwrap_or("-"),
    ));
    let lifecycle = &report["lifecycle"];
    if lifecycle.is_object() {
        out.push_str(&format!(
            "  findings table: {} new, {} open, {} reopened, {} resolved, {} unconfirmed\n",
            n(&lifecycle["new"]),
            n(&lifecycle["open"]),
            n(&lifecycle["reopened"]),
            n(&lifecycle["resolved"]),
            n(&lifecycle["unconfirmed"])
        ));
    }
    let hub = &report["security_hub"];
    match hub["status"].as_str() {
        Some("exported") => out.push_str(&format!(
            "  security hub ({}): {} imported, {} refused\n",
            hub["region"].as_str().unwrap_or("-"),
            n(&hub["imported"]),
            n(&hub["failed_count"])
        )),
        Some("error") => out.push_str(&format!(
            "  security hub ({}): NOT EXPORTED: {}\n",
            hub["region"].as_str().unwrap_or("-"),
            hub["error"].as_str().unwrap_or("?")
        )),
        Some(other) => out.push_str(&format!("  security hub: {other}\n")),
        None => {}
    }
    match report["webhook"]["status"].as_str() {
        Some("failed") => out.push_str(&format!(
            "  webhook: FAILED: {}\n",
            report["webhook"]["error"].as_str().unwrap_or("?")
        )),
        Some("delivered") => out.push_str("  webhook: delivered\n"),
        _ => {}
    }
    out
}
