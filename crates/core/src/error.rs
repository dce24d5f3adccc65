use thiserror::Error;

/// Errors of the pure core: all of them are about input the scanner was given.
#[derive(Debug, Error)]
pub enum CoreError {
    #[error("unknown service `{0}` (expected ec2, s3 or rds)")]
    UnknownService(String),
    #[error("unknown severity `{0}` (expected critical, high, medium, low or informational)")]
    UnknownSeverity(String),
    #[error("parameter `{parameter}` is invalid: {reason}")]
    InvalidParameter { parameter: String, reason: String },
    #[error("could not write the {format} report: {reason}")]
    Report {
        format: &'static str,
        reason: String,
    },
}
