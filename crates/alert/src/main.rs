//! alert: tells people about a run that breached its thresholds (score, counts, the most severe
//! findings, what is new, where the report is), or about a run that failed.

use std::sync::Arc;

use compliance_aws::notify::{Message, Notifier, Publisher};
use compliance_aws::sdk;
use compliance_aws::store::{get_optional_json, read_run_document, ObjectStore, S3Store};
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
    let (kind, alert, account, topic): (_, AlertMessage, _, &dyn Publisher) = match &input {
        AlertInput::Failure(failure) => (
            "failure",
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
                "findings",
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
    Ok(AlertOutput {
        message_id,
        subject: message.subject,
    })
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
