//! The adapters' error type, and the translation of SDK failures into recorded scan errors.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use compliance_core::{ScanError, Service};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AwsError {
    #[error("{service} {api} failed: {code}: {message}")]
    Api {
        service: &'static str,
        api: &'static str,
        code: String,
        message: String,
    },
    #[error(transparent)]
    Config(#[from] compliance_core::CoreError),
    #[error("webhook {url} failed: {reason}")]
    Webhook { url: String, reason: String },
    #[error("could not serialise {what}: {reason}")]
    Serialise { what: &'static str, reason: String },
    #[error("{what} does not exist: s3 object {key}")]
    Missing { what: &'static str, key: String },
}

impl AwsError {
    pub fn api<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
        service: &'static str,
        api: &'static str,
        err: &SdkError<E, R>,
    ) -> Self {
        let (code, message) = describe(err);
        AwsError::Api {
            service,
            api,
            code,
            message,
        }
    }

    /// Throttling and transport failures are worth another attempt by the caller (the state
    /// machine retries them); everything else is not.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Api { code, .. } => is_transient_code(code),
            _ => false,
        }
    }
}

pub fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "SlowDown"
            | "ServiceUnavailable"
            | "InternalError"
            | "RequestTimeout"
            | "TimeoutError"
            | "DispatchFailure"
            | "ResponseError"
    )
}

/// The error code and message of an SDK failure; transport failures get a kind as their code.
pub fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> (String, String) {
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            (
                inner.code().unwrap_or("Unknown").to_string(),
                inner
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| inner.to_string()),
            )
        }
        SdkError::TimeoutError(_) => ("TimeoutError".into(), "the request timed out".into()),
        SdkError::DispatchFailure(f) => (
            "DispatchFailure".into(),
            format!("{:?}", f.as_connector_error()),
        ),
        SdkError::ResponseError(_) => (
            "ResponseError".into(),
            "the response could not be read".into(),
        ),
        SdkError::ConstructionFailure(_) => ("ConstructionFailure".into(), format!("{err:?}")),
        _ => ("Unknown".into(), err.to_string()),
    }
}

/// The error code of a service error, if the failure was one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

pub fn scan_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    region: &str,
    service: Service,
    api: &str,
    resource: Option<&str>,
    err: &SdkError<E, R>,
) -> ScanError {
    let (code, message) = describe(err);
    tracing::warn!(region, %service, api, resource, code = %code, "scan call failed; continuing without it");
    ScanError {
        region: region.to_string(),
        service,
        api: api.to_string(),
        code,
        message,
        resource: resource.map(str::to_string),
    }
}
