//! Classifies a failed SDK call by what happened: the SDK's own failure variants (dispatch,
//! timeout, response, construction), the credentials error in a dispatch failure's causes, the
//! HTTP status, and the codes of the error classes every AWS service shares but no operation
//! models (throttling, access denied, invalid credentials: the SDK's operation errors carry
//! these as `Unhandled` with a code, and the SDK's own retry classifier matches them by code
//! too). This is the only place that reads those codes.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::endpoint::Endpoint;
use crate::sdk::MAX_ATTEMPTS;

/// What kind of failure a call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The endpoint could not be reached (refused, DNS, TLS, connection reset).
    Unreachable,
    /// No answer in time.
    TimedOut,
    /// No credentials, or expired or invalid ones.
    Credentials,
    /// Valid credentials without permission for the call.
    AccessDenied,
    /// Still throttled after the SDK's retries.
    Throttled,
    /// The thing asked for does not exist (HTTP 404).
    NotFound,
    /// The endpoint does not implement the call (HTTP 501 or 405; S3-compatible stores).
    Unsupported,
    /// A fault on the service's side (HTTP 5xx).
    Unavailable,
    /// An answer that could not be read.
    BadResponse,
    /// The request could not be built (a bug or an invalid argument).
    Invalid,
    /// Any other error the service answered with (validation, conflict, ...).
    Rejected,
}

impl FailureKind {
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::Unreachable
                | FailureKind::TimedOut
                | FailureKind::Throttled
                | FailureKind::Unavailable
                | FailureKind::BadResponse
        )
    }
}

/// Invalid, expired or missing credentials, as the services answer them.
const CREDENTIALS_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidToken",
    "TokenRefreshRequired",
    "MissingAuthenticationToken",
    "IncompleteSignature",
];

/// Valid credentials without permission.
const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AllAccessDisabled",
];

/// The SDK's throttling codes (`aws-runtime`'s retry classifier).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Service faults some services answer with a 4xx status.
const SERVICE_FAULT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
];

/// An S3-compatible store without the call (S3 itself answers these with 501 and 405).
const UNSUPPORTED_CODES: &[&str] = &["NotImplemented", "MethodNotAllowed"];

/// The names failures without a service code are recorded under.
const DISPATCH_FAILURE: &str = "DispatchFailure";
const TIMEOUT_ERROR: &str = "TimeoutError";
const RESPONSE_ERROR: &str = "ResponseError";
const CONSTRUCTION_FAILURE: &str = "ConstructionFailure";

/// Whether a recorded code (a service code or one of the failure names above) is worth
/// another attempt later.
pub fn is_transient_code(code: &str) -> bool {
    kind_of_code(code).is_some_and(FailureKind::is_transient)
        || matches!(code, DISPATCH_FAILURE | TIMEOUT_ERROR | RESPONSE_ERROR)
}

fn kind_of_code(code: &str) -> Option<FailureKind> {
    if CREDENTIALS_CODES.contains(&code) {
        Some(FailureKind::Credentials)
    } else if ACCESS_DENIED_CODES.contains(&code) {
        Some(FailureKind::AccessDenied)
    } else if THROTTLING_CODES.contains(&code) {
        Some(FailureKind::Throttled)
    } else if SERVICE_FAULT_CODES.contains(&code) {
        Some(FailureKind::Unavailable)
    } else if UNSUPPORTED_CODES.contains(&code) {
        Some(FailureKind::Unsupported)
    } else {
        None
    }
}

fn kind_of_status(status: u16) -> FailureKind {
    match status {
        401 => FailureKind::Credentials,
        403 => FailureKind::AccessDenied,
        404 => FailureKind::NotFound,
        405 | 501 => FailureKind::Unsupported,
        429 => FailureKind::Throttled,
        500.. => FailureKind::Unavailable,
        _ => FailureKind::Rejected,
    }
}

/// One failed call, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub kind: FailureKind,
    /// The service's error code; for a failure without one, the SDK's name for the failure
    /// (`DispatchFailure`, `TimeoutError`, `ResponseError`, `ConstructionFailure`).
    pub code: String,
    /// What the service said, or the root cause of a failure without an answer.
    pub detail: String,
    /// Where the call went.
    pub endpoint: Endpoint,
    /// The IAM action the call needs (for the access-denied hint).
    pub action: String,
}

impl CallFailure {
    /// `service` is the SDK client's name (`sts`, `s3`, `s3control`, ...), `api` the operation.
    pub fn of<E>(service: &str, api: &str, region: &str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let (kind, code, detail) = match err {
            SdkError::ServiceError(service_err) => {
                let inner = service_err.err();
                let status = service_err.raw().status().as_u16();
                let detail = inner.message().filter(|m| !m.is_empty()).map_or_else(
                    || format!("HTTP {status}: {}", root_cause(inner)),
                    str::to_string,
                );
                match inner.code() {
                    Some(code) => (
                        kind_of_code(code).unwrap_or(kind_of_status(status)),
                        code.to_string(),
                        detail,
                    ),
                    // A success status whose body the SDK could not read.
                    None if status < 300 => {
                        (FailureKind::BadResponse, RESPONSE_ERROR.to_string(), detail)
                    }
                    None => (kind_of_status(status), "Unknown".to_string(), detail),
                }
            }
            SdkError::DispatchFailure(failure) => {
                let kind = if credentials_error(err).is_some() {
                    FailureKind::Credentials
                } else if failure.is_timeout() {
                    FailureKind::TimedOut
                } else if failure.is_user() {
                    FailureKind::Invalid
                } else {
                    FailureKind::Unreachable
                };
                (kind, DISPATCH_FAILURE.to_string(), root_cause(err))
            }
            SdkError::TimeoutError(_) => (
                FailureKind::TimedOut,
                TIMEOUT_ERROR.to_string(),
                root_cause(err),
            ),
            SdkError::ResponseError(_) => (
                FailureKind::BadResponse,
                RESPONSE_ERROR.to_string(),
                root_cause(err),
            ),
            SdkError::ConstructionFailure(_) => (
                FailureKind::Invalid,
                CONSTRUCTION_FAILURE.to_string(),
                root_cause(err),
            ),
            _ => (
                FailureKind::Rejected,
                "Unknown".to_string(),
                root_cause(err),
            ),
        };
        CallFailure {
            kind,
            code,
            detail,
            endpoint: Endpoint::of(service, region),
            action: iam_action(service, api),
        }
    }

    /// The service's words: `Code: message`, or for a failure without a code, its cause.
    fn said(&self) -> String {
        match self.code.as_str() {
            DISPATCH_FAILURE | TIMEOUT_ERROR | RESPONSE_ERROR | CONSTRUCTION_FAILURE => {
                self.detail.clone()
            }
            code => format!("{code}: {}", self.detail),
        }
    }
}

/// One sentence: what happened, the likely cause, and what to check.
impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let said = self.said();
        let endpoint = &self.endpoint;
        match self.kind {
            FailureKind::Unreachable => write!(
                f,
                "could not reach {endpoint}: {said}; {}",
                endpoint.what_to_check()
            ),
            FailureKind::TimedOut => write!(
                f,
                "no answer from {endpoint} in time: {said}; {}",
                endpoint.what_to_check()
            ),
            FailureKind::Credentials => write!(
                f,
                "no valid AWS credentials ({said}); check AWS_PROFILE or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, and renew expired session credentials"
            ),
            FailureKind::AccessDenied => write!(
                f,
                "access denied ({said}); the credentials in use need permission for {}",
                self.action
            ),
            FailureKind::Throttled => write!(
                f,
                "throttled by AWS ({said}) through the SDK's retries (up to {MAX_ATTEMPTS} \
                 attempts); try again later or scan fewer regions at once"
            ),
            FailureKind::NotFound => write!(f, "not found ({said})"),
            FailureKind::Unsupported => {
                write!(f, "{endpoint} does not implement this call ({said})")
            }
            FailureKind::Unavailable => write!(
                f,
                "the service failed ({said}); this is usually temporary, try again later"
            ),
            FailureKind::BadResponse => write!(
                f,
                "the answer from {endpoint} could not be read: {said}; check that it is an AWS \
                 endpoint or a compatible emulator"
            ),
            FailureKind::Invalid => write!(f, "the request could not be built ({said})"),
            FailureKind::Rejected => f.write_str(&said),
        }
    }
}

/// The credentials provider's error, when identity resolution is what failed (the SDK reports
/// that as a dispatch failure whose cause is the provider's error).
fn credentials_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a CredentialsError> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

/// The innermost cause's message (e.g. `Connection refused (os error 111)`), which says what
/// went wrong where the outer layers only say where.
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    if text.is_empty() {
        err.to_string()
    } else {
        text
    }
}

/// The IAM action a call needs: the service's prefix and the operation, except where S3's
/// actions are named differently from its operations.
fn iam_action(service: &str, api: &str) -> String {
    let renamed = match (service, api) {
        ("s3", "GetBucketEncryption") => Some("s3:GetEncryptionConfiguration"),
        ("s3", "GetPublicAccessBlock") => Some("s3:GetBucketPublicAccessBlock"),
        ("s3", "ListBuckets") => Some("s3:ListAllMyBuckets"),
        ("s3", "ListObjectsV2") => Some("s3:ListBucket"),
        ("s3control", "GetPublicAccessBlock") => Some("s3:GetAccountPublicAccessBlock"),
        _ => None,
    };
    if let Some(action) = renamed {
        return action.to_string();
    }
    let prefix = match service {
        "sfn" => "states",
        "s3control" => "s3",
        other => other,
    };
    format!("{prefix}:{api}")
}
