//! The shell every state function runs in: JSON logs, the function's adapters built once from
//! its environment, then one typed invocation per event in a span that carries the run id, and
//! the error type (`errorType`) the state machine's Retry and Catch match.

use std::future::Future;

use compliance_core::contract::{parse_input, StateInput};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::Instrument;

use compliance_aws::AwsError;

#[derive(Debug, Error)]
pub enum StateError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("invalid configuration: {0}")]
    InvalidConfiguration(String),
    #[error("{0}")]
    Aws(AwsError),
}

impl StateError {
    pub fn error_type(&self) -> &'static str {
        match self {
            StateError::InvalidInput(_) => "ComplianceScanner.InvalidInput",
            StateError::InvalidConfiguration(_) => "ComplianceScanner.InvalidConfiguration",
            StateError::Aws(e) if e.is_transient() => "ComplianceScanner.TransientError",
            StateError::Aws(_) => "ComplianceScanner.AwsError",
        }
    }
}

impl From<AwsError> for StateError {
    fn from(e: AwsError) -> Self {
        match e {
            AwsError::Config(c) => StateError::InvalidConfiguration(c.to_string()),
            other => StateError::Aws(other),
        }
    }
}

impl From<compliance_core::CoreError> for StateError {
    fn from(e: compliance_core::CoreError) -> Self {
        StateError::InvalidConfiguration(e.to_string())
    }
}

impl From<StateError> for Diagnostic {
    fn from(e: StateError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// Why a function could not start: a missing environment variable, named.
#[derive(Debug, Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub &'static str);

/// A configured environment variable (resource names only; settings live in Parameter Store).
pub fn required_env(name: &'static str) -> Result<String, MissingEnv> {
    std::env::var(name).map_err(|_| MissingEnv(name))
}

/// Runs a state function: logs set up, `function` built once (its environment read, its clients
/// made), then `handler` for every event with a typed input and output.
pub async fn run<F, I, O, H, Fut>(
    function: impl Future<Output = Result<F, MissingEnv>>,
    handler: H,
) -> Result<(), lambda_runtime::Error>
where
    F: Sync + 'static,
    I: StateInput,
    O: Serialize,
    H: Fn(&'static F, I) -> Fut,
    Fut: Future<Output = Result<O, StateError>>,
{
    init_tracing();
    let function = match function.await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "function could not start");
            return Err(e.into());
        }
    };
    // One per process, alive as long as the process: the runtime's service borrows it.
    let function: &'static F = Box::leak(Box::new(function));
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        invoke(function, handler, event).await
    }))
    .await
}

async fn invoke<F, I, O, H, Fut>(
    function: &'static F,
    handler: &H,
    event: LambdaEvent<Value>,
) -> Result<O, StateError>
where
    I: StateInput,
    H: Fn(&'static F, I) -> Fut,
    Fut: Future<Output = Result<O, StateError>>,
{
    let request_id = event.context.request_id.clone();
    let input: I = parse_input(event.payload).map_err(|e| {
        tracing::error!(request_id = %request_id, error = %e, "invalid input");
        StateError::InvalidInput(e)
    })?;
    let span =
        tracing::info_span!("invocation", run_id = %input.run_id(), request_id = %request_id);
    async move {
        let result = handler(function, input).await;
        if let Err(e) = &result {
            tracing::error!(error_type = e.error_type(), error = %e, "invocation failed");
        }
        result
    }
    .instrument(span)
    .await
}

/// Structured JSON logs (CloudWatch Logs Insights reads the fields), each line with the fields
/// of its invocation's span (the run id); `RUST_LOG` overrides `info`.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .init();
}

#[cfg(test)]
mod tests {
    use compliance_core::contract::RunRef;
    use serde_json::json;

    use super::*;

    fn event(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    struct Echo;

    async fn echo(_: &'static Echo, input: RunRef) -> Result<String, StateError> {
        Ok(input.run_key)
    }

    #[tokio::test]
    async fn a_typed_input_reaches_the_handler() {
        let out = invoke(
            &Echo,
            &echo,
            event(json!({"run_id": "r1", "run_key": "runs/r1/run.json"})),
        )
        .await
        .unwrap();
        assert_eq!(out, "runs/r1/run.json");
    }

    #[tokio::test]
    async fn a_wrong_input_is_invalid_input_naming_the_field() {
        let err = invoke(&Echo, &echo, event(json!({"run_id": 7, "run_key": "x"})))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "ComplianceScanner.InvalidInput");
        assert!(err.to_string().contains("field `run_id`"), "{err}");
        let diagnostic = Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "ComplianceScanner.InvalidInput");
        let err = invoke(&Echo, &echo, event(json!("run r1")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
    }

    #[test]
    fn a_broken_setting_is_a_configuration_error() {
        let err = StateError::from(compliance_core::CoreError::InvalidParameter {
            parameter: "/compliance/scanner/config/thresholds".into(),
            reason: "not JSON".into(),
        });
        assert_eq!(err.error_type(), "ComplianceScanner.InvalidConfiguration");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = required_env("COMPLIANCE_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable COMPLIANCE_TEST_SURELY_UNSET is not set"
        );
    }
}
