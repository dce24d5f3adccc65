//! `compliance run`: starts the workflow on demand and, with `--wait`, follows it to the end.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::types::ExecutionStatus;
use clap::Args;
use compliance_aws::{sdk, workflow};
use compliance_core::contract::{ExecutionOutput, SecurityHubExport, WebhookDelivery};
use compliance_core::remediation::Mode;
use serde_json::json;

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
    compliance_core::contract::RunId::parse(&run_id).map_err(|e| format!("--run-id: {e}"))?;
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
                let output = state.output.as_deref().unwrap_or("null");
                return match serde_json::from_str::<ExecutionOutput>(output) {
                    Ok(output) => {
                        print!("{}", summary(&output));
                        Ok(exit::OK)
                    }
                    Err(e) => {
                        println!("run {run_id} succeeded, but its output is not a run's: {e}");
                        Ok(exit::ERROR)
                    }
                };
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
        .map_or(0, |d| d.subsec_nanos());
    format!("run-{stamp}-{:04x}", nanos & 0xffff)
}

/// The run summary from the execution output (keys and counts only).
pub fn summary(output: &ExecutionOutput) -> String {
    let agg = &output.aggregate;
    let analysis = &output.analysis;
    let sev = &agg.findings_by_severity;
    let score = analysis
        .compliance_score
        .map_or_else(|| "n/a".into(), |s| format!("{s:.1}%"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nrun {}: score {score}, {} resources scanned",
        output.run_id, agg.resources_scanned
    );
    let _ = writeln!(
        out,
        "  findings: {} critical, {} high, {} medium, {} low, {} informational",
        sev.critical, sev.high, sev.medium, sev.low, sev.informational
    );
    let _ = writeln!(
        out,
        "  since previous run ({}): {} new, {} still open, {} resolved",
        analysis.previous_run_id.as_deref().unwrap_or("none"),
        analysis.new,
        analysis.still_open,
        analysis.resolved
    );
    let _ = writeln!(
        out,
        "  decision: {} ({})",
        analysis.decision.as_str(),
        analysis.reason
    );
    if agg.partial {
        let _ = writeln!(
            out,
            "  PARTIAL: {} scan units failed",
            agg.failed_unit_count
        );
        // The account is named when it is not the scanner's own (an organization run).
        for unit in &agg.failed_units {
            let account = if unit.account_id.is_empty() || unit.account_id == agg.account_id {
                String::new()
            } else {
                format!("account {} ", unit.account_id)
            };
            let _ = writeln!(
                out,
                "    {account}{} {}: {}",
                unit.region, unit.service, unit.error
            );
        }
        if agg.failed_unit_count > agg.failed_units.len() {
            let _ = writeln!(
                out,
                "    ... and {} more (the run document lists them all)",
                agg.failed_unit_count - agg.failed_units.len()
            );
        }
    }
    if let Some((alert, remediation)) = &output.actions {
        let mode = match remediation.mode {
            Mode::DryRun => "dry-run",
            Mode::Enforce => "enforce",
        };
        let _ = writeln!(
            out,
            "  remediation ({mode}): {} started, {} dry-run, {} skipped, {} failed",
            remediation.started, remediation.dry_run, remediation.skipped, remediation.failed
        );
        let _ = writeln!(out, "  alert sent: {}", alert.subject);
    }
    if let Some(error) = &output.actions_error {
        let _ = writeln!(out, "  alert/remediation error: {}", error.error);
    }
    let report = &output.report;
    let _ = writeln!(
        out,
        "  reports: {} (also .csv, .ocsf.json, .html)",
        report.reports.json
    );
    if let Some(l) = &report.lifecycle {
        let _ = writeln!(
            out,
            "  findings table: {} new, {} open, {} reopened, {} resolved, {} unconfirmed",
            l.new, l.open, l.reopened, l.resolved, l.unconfirmed
        );
    }
    match &report.security_hub {
        SecurityHubExport::Exported {
            region,
            imported,
            failed_count,
            ..
        } => {
            let _ = writeln!(
                out,
                "  security hub ({region}): {imported} imported, {failed_count} refused"
            );
        }
        SecurityHubExport::Error { region, error } => {
            let _ = writeln!(out, "  security hub ({region}): NOT EXPORTED: {error}");
        }
        SecurityHubExport::Disabled => out.push_str("  security hub: disabled\n"),
    }
    match &report.webhook {
        WebhookDelivery::Failed { error } => {
            let _ = writeln!(out, "  webhook: FAILED: {error}");
        }
        WebhookDelivery::Delivered { .. } => out.push_str("  webhook: delivered\n"),
        WebhookDelivery::NotConfigured => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn output(failed: &serde_json::Value, failed_count: usize) -> ExecutionOutput {
        let counts = json!({"critical": 1, "high": 0, "medium": 0, "low": 0, "informational": 0});
        serde_json::from_value(json!({
            "run_id": "r1",
            "aggregate": {"run_id": "r1", "run_key": "runs/r1/run.json", "account_id": "111111111111",
                "resources_scanned": 3, "findings_total": 1, "findings_by_severity": counts,
                "failed_units": failed.clone(), "failed_unit_count": failed_count, "partial": true},
            "analysis": {"run_id": "r1", "decision": "clean", "reason": "ok", "compliance_score": 90.0,
                "findings_by_severity": counts, "new": 1, "still_open": 0, "resolved": 0,
                "previous_run_id": null, "analysis_key": "runs/r1/analysis.json"},
            "report": {"reports": {"json": "a", "csv": "b", "ocsf": "c", "html": "d", "asff": "e"},
                "compliance_score": 90.0, "findings_total": 1, "lifecycle": null,
                "security_hub": {"status": "disabled"}, "webhook": {"status": "not_configured"}}
        }))
        .unwrap()
    }

    #[test]
    fn failed_units_of_member_accounts_name_the_account() {
        let unit = |account: &str| {
            json!({"account_id": account, "region": "eu-west-1", "service": "ec2",
                "error": "ComplianceScanner.AwsError", "cause": "denied"})
        };
        let text = summary(&output(
            &json!([unit("111111111111"), unit("222222222222")]),
            25,
        ));
        assert!(text.contains("PARTIAL: 25 scan units failed"), "{text}");
        assert!(
            text.contains("\n    eu-west-1 ec2: ComplianceScanner.AwsError"),
            "{text}"
        );
        assert!(
            text.contains("account 222222222222 eu-west-1 ec2: ComplianceScanner.AwsError"),
            "{text}"
        );
        assert!(text.contains("and 23 more"), "{text}");
    }
}
