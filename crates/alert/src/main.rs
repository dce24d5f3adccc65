//! alert: tells people about a run that breached its thresholds (score, counts, the most severe
//! findings, what is new, where the report is), or about a run that failed.

use std::sync::Arc;

use compliance_aws::notify::{Message, Notifier, Publisher};
use compliance_aws::sdk;
use compliance_aws::store::{get_optional_json, put_json, read_run_document, ObjectStore, S3Store};
use compliance_core::alert::{failure_alert, findings_alert, AlertMessage};
use compliance_core::analysis::Analysis;
use compliance_core::contract::{AlertInput, AlertOutput, StateInput};
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};

struct Function {
    store: Arc<dyn ObjectStore>,
    /// `s3://bucket`, named in findings alerts as where the run's documents are.
    location: String,
    /// Findings alerts go to the alerts topic, failed runs to the operators' failure topic.
    alerts: Arc<dyn Publisher>,
    failures: Arc<dyn Publisher>,
}

async fn handle(f: &Function, input: AlertInput) -> Result<AlertOutput, StateError> {
    let kind = match &input {
        AlertInput::Failure(_) => "failure",
        AlertInput::Findings(_) => "findings",
    };
    // Step Functions' Retry and Lambda redelivery may run this state again for the same run:
    // an alert already sent is answered from its record instead of being sent twice.
    let sent_key = input.run_id().keys().alert_sent(kind);
    let sent: Option<AlertOutput> =
        get_optional_json(f.store.as_ref(), &sent_key, "the alert sent").await?;
    if let Some(sent) = sent {
        tracing::info!(kind, message_id = %sent.message_id, "alert already sent for this run");
        return Ok(sent);
    }
    let (alert, account, topic): (AlertMessage, _, &dyn Publisher) = match &input {
        AlertInput::Failure(failure) => (
            failure_alert(failure.run_id.as_str(), &failure.error, &failure.cause),
            None,
            f.failures.as_ref(),
        ),
        AlertInput::Findings(run_ref) => {
            let run = read_run_document(f.store.as_ref(), run_ref).await?;
            // A run alerted on without its analysis (a replay of this state alone) still alerts.
            let analysis: Option<Analysis> = get_optional_json(
                f.store.as_ref(),
                &run_ref.run_id.keys().analysis(),
                "the analysis",
            )
            .await?;
            let location = format!("{}/{}", f.location, run_ref.run_key);
            (
                findings_alert(&run, analysis.as_ref(), &location),
                Some(run.account_id),
                f.alerts.as_ref(),
            )
        }
    };
    let mut attributes = vec![
        ("run_id", input.run_id().to_string()),
        ("kind", kind.to_string()),
    ];
    if let Some(severity) = alert.severity {
        attributes.push(("severity", severity.to_string()));
    }
    if let Some(account) = account.filter(|a| !a.is_empty()) {
        attributes.push(("account", account));
    }
    let message = Message {
        subject: alert.subject,
        body: alert.body,
        attributes,
    };
    let message_id = topic.publish(&message).await?;
    tracing::info!(kind, message_id = %message_id, "alert published");
    let output = AlertOutput {
        message_id,
        subject: message.subject,
    };
    // Recorded after publishing: a record written first and a publish that then failed would
    // lose the alert. A record that cannot be written is not a failure of the state (the alert
    // is out); only a re-run after it could send it again.
    if let Err(e) = put_json(f.store.as_ref(), &sent_key, &output, "the alert sent").await {
        tracing::warn!(kind, key = %sent_key, error = %e, "alert sent but not recorded");
    }
    Ok(output)
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env("REPORTS_BUCKET")?;
        let alerts_topic = required_env("ALERTS_TOPIC_ARN")?;
        let failure_topic = required_env("FAILURE_TOPIC_ARN")?;
        let region = sdk::home_region();
        let factory = sdk::factory(&region).await;
        Ok(Function {
            location: format!("s3://{bucket}"),
            store: Arc::new(S3Store::new(factory.s3(&region), bucket)),
            alerts: Arc::new(Notifier::new(factory.sns(), alerts_topic)),
            failures: Arc::new(Notifier::new(factory.sns(), failure_topic)),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}

#[cfg(test)]
mod tests;
