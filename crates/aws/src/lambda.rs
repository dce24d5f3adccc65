//! What every state function shares: its error type (with the `errorType` the state machine's
//! Retry and Catch match), JSON logging, and input field parsing that names the field at fault.

use lambda_runtime::Diagnostic;
use serde_json::Value;
use thiserror::Error;

use crate::error::AwsError;

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

/// Structured JSON logs (CloudWatch Logs Insights reads the fields); `RUST_LOG` overrides `info`.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();
}

/// A configured environment variable (resource names only), or an init error naming it.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The event must be an object; `shape` describes what was expected.
pub fn expect_object(event: &Value, shape: &str) -> Result<(), StateError> {
    if event.is_object() {
        Ok(())
    } else {
        Err(StateError::InvalidInput(format!(
            "expected an object {shape}, got {}",
            type_name(event)
        )))
    }
}

pub fn required_string<'a>(event: &'a Value, field: &str) -> Result<&'a str, StateError> {
    match event.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(StateError::InvalidInput(format!(
            "field `{field}` must be a string, got {}",
            type_name(other)
        ))),
        None => Err(StateError::InvalidInput(format!("missing field `{field}`"))),
    }
}

/// A run id (validated: it becomes part of S3 keys).
pub fn run_id(event: &Value) -> Result<String, StateError> {
    let id = required_string(event, "run_id")?;
    compliance_core::unit::validate_run_id(id)
        .map_err(|e| StateError::InvalidInput(format!("field `run_id`: {e}")))?;
    Ok(id.to_string())
}

/// A run document key, which must belong to the run (no reading other runs' objects).
pub fn run_key(event: &Value, run_id: &str) -> Result<String, StateError> {
    let key = required_string(event, "run_key")?;
    if key != compliance_core::run::RunDocument::key(run_id) {
        return Err(StateError::InvalidInput(format!(
            "field `run_key`: `{key}` is not the run document of run `{run_id}`"
        )));
    }
    Ok(key.to_string())
}
