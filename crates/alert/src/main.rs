//! alert: tells people about a run that breached its thresholds (score, counts, the most severe
//! findings, what is new, where the report is), or about a run that failed.

use compliance_aws::lambda::{
    expect_object, init_tracing, required_env, run_id, run_key, StateError,
};
use compliance_aws::notify::Notifier;
use compliance_aws::sdk;
use compliance_aws::store::{get_json, S3Store};
use compliance_core::alert::{failure_alert, findings_alert};
use compliance_core::analysis::Analysis;
use compliance_core::run::RunDocument;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

struct Function {
    store: S3Store,
    /// Findings alerts go to the alerts topic, failed runs to the operators' failure topic.
    alerts: Notifier,
    failures: Notifier,
}

async fn handle(f: &Function, event: LambdaEvent<Value>) -> Result<Value, StateError> {
    let event = event.payload;
    expect_object(&event, r#"{"run_id", "mode": "findings"|"failure", ...}"#)?;
    let run_id = run_id(&event)?;
    let mode = event
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("findings");
    let (message, account) = match mode {
        "failure" => {
            let text = |field: &str| match event.get(field) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (
                failure_alert(&run_id, &text("error"), &text("cause")),
                String::new(),
            )
        }
        "findings" => {
            let run_key = run_key(&event, &run_id)?;
            let run: RunDocument = get_json(&f.store, &run_key, "the run document").await?;
            let analysis = get_json::<Analysis>(&f.store, &Analysis::key(&run_id), "the analysis")
                .await
                .ok();
            let location = format!("s3://{}/{}", f.store.bucket(), run_key);
            (
                findings_alert(&run, analysis.as_ref(), &location),
                run.account_id.clone(),
            )
        }
        other => {
            return Err(StateError::InvalidInput(format!(
                "field `mode`: `{other}` is neither `findings` nor `failure`"
            )));
        }
    };
    let mut attributes = vec![("run_id", run_id.clone()), ("kind", mode.to_string())];
    if let Some(severity) = message.severity {
        attributes.push(("severity", severity.to_string()));
    }
    if !account.is_empty() {
        attributes.push(("account", account));
    }
    let notifier = if mode == "failure" {
        &f.failures
    } else {
        &f.alerts
    };
    let message_id = notifier
        .publish(&message.subject, &message.body, &attributes)
        .await?;
    tracing::info!(run_id = %run_id, mode, message_id = %message_id, "alert published");
    Ok(json!({ "message_id": message_id, "subject": message.subject }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let bucket = required_env("REPORTS_BUCKET")?;
    let alerts_topic = required_env("ALERTS_TOPIC_ARN")?;
    let failure_topic = required_env("FAILURE_TOPIC_ARN")?;
    let region = sdk::home_region();
    let factory = sdk::factory(&region).await;
    let function = Function {
        store: S3Store::new(factory.s3(&region), bucket),
        alerts: Notifier::new(factory.sns(), alerts_topic),
        failures: Notifier::new(factory.sns(), failure_topic),
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle(function, event))).await
}
