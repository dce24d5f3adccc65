use compliance_aws::AwsError;
use lambda_runtime::Diagnostic;
use thiserror::Error;

/// Errors of the region-scan function. Their `errorType` is what the state machine's Retry and
/// Catch match on: only `ComplianceScanner.TransientError` is worth retrying.
#[derive(Debug, Error)]
pub enum RegionScanError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("invalid configuration: {0}")]
    InvalidConfiguration(String),
    #[error("{0}")]
    Aws(AwsError),
}

impl RegionScanError {
    pub fn error_type(&self) -> &'static str {
        match self {
            RegionScanError::InvalidInput(_) => "ComplianceScanner.InvalidInput",
            RegionScanError::InvalidConfiguration(_) => "ComplianceScanner.InvalidConfiguration",
            RegionScanError::Aws(e) if e.is_transient() => "ComplianceScanner.TransientError",
            RegionScanError::Aws(_) => "ComplianceScanner.AwsError",
        }
    }
}

impl From<AwsError> for RegionScanError {
    fn from(e: AwsError) -> Self {
        match e {
            AwsError::Config(c) => RegionScanError::InvalidConfiguration(c.to_string()),
            other => RegionScanError::Aws(other),
        }
    }
}

impl From<RegionScanError> for Diagnostic {
    fn from(e: RegionScanError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}
