//! analyze: compares a run with the thresholds and the previous run, labels findings new /
//! still open / resolved, and returns the alert-or-clean decision with its reason.

use std::sync::Arc;

use compliance_aws::history::{HistoryStore, RunHistory};
use compliance_aws::params::{load_setting, ParameterStore};
use compliance_aws::sdk;
use compliance_aws::store::{get_json, put_json, read_run_document, ObjectStore, S3Store};
use compliance_core::analysis::{analyse, keep_comparable, Analysis, Thresholds};
use compliance_core::contract::{AnalyzeInput, AnalyzeOutput};
use compliance_core::run::RunDocument;
use compliance_lambda::{self as lambda, required_env, MissingEnv, StateError};

struct Function {
    store: Arc<dyn ObjectStore>,
    history: Arc<dyn RunHistory>,
    parameters: Arc<dyn ParameterStore>,
}

async fn handle(f: &Function, input: AnalyzeInput) -> Result<AnalyzeOutput, StateError> {
    let run_id = &input.run_id;
    let thresholds: Thresholds = load_setting(f.parameters.as_ref()).await?;
    let run = read_run_document(f.store.as_ref(), &input).await?;
    // The history is the scanner deployment's (keyed by its own account), whatever accounts a
    // run covers: the previous run is this deployment's previous run.
    let mut previous = match f.history.latest(&run.account_id, run_id.as_str()).await? {
        Some(item) => {
            match get_json::<RunDocument>(
                f.store.as_ref(),
                &item.run_key,
                "the previous run document",
            )
            .await
            {
                Ok(doc) => Some(doc),
                Err(e) => {
                    // An expired or deleted previous report must not block this run's report.
                    tracing::warn!(previous_run = %item.run_id, error = %e, "previous run unreadable; comparing with nothing");
                    None
                }
            }
        }
        None => None,
    };
    if let Some(previous) = &mut previous {
        keep_comparable(previous, &run);
    }
    let analysis: Analysis = analyse(
        run_id.as_str(),
        &run.summary,
        &run.findings,
        previous
            .as_ref()
            .map(|p| (p.run_id.as_str(), p.findings.as_slice())),
        &thresholds,
    );
    let analysis_key = run_id.keys().analysis();
    put_json(f.store.as_ref(), &analysis_key, &analysis, "the analysis").await?;
    tracing::info!(decision = ?analysis.decision, reason = %analysis.reason, new = analysis.new.len(), resolved = analysis.resolved.len(), "run analysed");
    Ok(AnalyzeOutput {
        run_id: run_id.clone(),
        decision: analysis.decision,
        reason: analysis.reason,
        compliance_score: run.summary.compliance_score,
        findings_by_severity: run.summary.findings_by_severity,
        new: analysis.new.len(),
        still_open: analysis.still_open,
        resolved: analysis.resolved.len(),
        previous_run_id: analysis.previous_run_id,
        analysis_key,
    })
}

impl Function {
    async fn from_env() -> Result<Function, MissingEnv> {
        let bucket = required_env("REPORTS_BUCKET")?;
        let table = required_env("HISTORY_TABLE")?;
        let region = sdk::home_region();
        let factory = sdk::factory(&region).await;
        Ok(Function {
            store: Arc::new(S3Store::new(factory.s3(&region), bucket)),
            history: Arc::new(HistoryStore::new(factory.dynamodb(), table)),
            parameters: Arc::new(factory.ssm()),
        })
    }
}

#[cfg(test)]
mod tests;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run(Function::from_env(), handle).await
}
