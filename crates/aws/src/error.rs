//! The adapters' error type, and what a failed SDK call becomes: a [`CallFailure`] whose kind
//! decides whether the state machine retries, whether an optional read treats it as absent, and
//! the one sentence a person reads.

mod absent;
mod classify;
mod endpoint;
#[cfg(all(test, feature = "scan"))]
mod tests;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use compliance_core::{ScanError, Service};
use thiserror::Error;

pub use absent::{is_bucket_gone, optional, NotFound};
pub use classify::{is_transient_code, CallFailure, FailureKind};
pub use endpoint::Endpoint;

#[derive(Debug, Error)]
pub enum AwsError {
    /// An AWS call failed (the SDK's retries included).
    #[error("{service} {api} failed: {failure}")]
    Call {
        service: &'static str,
        api: &'static str,
        /// Boxed: every `Result<_, AwsError>` carries its size.
        failure: Box<CallFailure>,
    },
    /// A member account could not be reached: its role could not be assumed.
    #[error("account {account_id}: sts AssumeRole of {role_arn} failed: {failure}")]
    AssumeRole {
        account_id: String,
        role_arn: String,
        failure: Box<CallFailure>,
    },
    /// An AWS call answered, but not with something usable.
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
    /// Step Functions keeps execution names for 90 days: a run id that already ran (or runs
    /// with other input) is refused, so two executions never interleave on one run's objects.
    #[error(
        "run {run_id} already has an execution of {state_machine} (execution names are unique \
         for 90 days): start the run under another run id"
    )]
    RunExists {
        run_id: String,
        state_machine: String,
    },
}

impl AwsError {
    /// A failed call of a client in the home region (`AWS_REGION`, where every function and
    /// the CLI build their own clients).
    pub fn api<E>(service: &'static str, api: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        AwsError::api_in(service, api, &crate::sdk::home_region(), err)
    }

    /// A failed call of a client in `region`.
    pub fn api_in<E>(
        service: &'static str,
        api: &'static str,
        region: &str,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        AwsError::Call {
            service,
            api,
            failure: Box::new(CallFailure::of(service, api, region, err)),
        }
    }

    /// What kind of failure a failed call was; `None` for errors that are not failed calls.
    pub fn kind(&self) -> Option<FailureKind> {
        match self {
            AwsError::Call { failure, .. } | AwsError::AssumeRole { failure, .. } => {
                Some(failure.kind)
            }
            _ => None,
        }
    }

    /// Throttling, service faults and transport failures are worth another attempt by the
    /// caller (the state machine retries them); everything else is not.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Call { failure, .. } | AwsError::AssumeRole { failure, .. } => {
                failure.kind.is_transient()
            }
            AwsError::Api { code, .. } => is_transient_code(code),
            _ => false,
        }
    }

    /// The thing asked for does not exist (HTTP 404, e.g. S3 `NoSuchKey`). Denied, throttled
    /// and unreachable are not "not found": a reader that treats an object as optional must
    /// still fail on those.
    pub fn is_not_found(&self) -> bool {
        self.kind() == Some(FailureKind::NotFound)
    }
}

/// A failed collector call as the scan records it: named by region, service, API and resource,
/// with the failure's code and its one-sentence explanation.
pub fn scan_error<E>(
    region: &str,
    service: Service,
    api: &str,
    resource: Option<&str>,
    err: &SdkError<E, HttpResponse>,
) -> ScanError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = CallFailure::of(service.as_str(), api, region, err);
    record(region, service, api, resource, failure)
}

/// Records an already classified failure under the name `api` (which may differ from the
/// SDK operation, e.g. `GetPublicAccessBlock (account)`).
pub fn record(
    region: &str,
    service: Service,
    api: &str,
    resource: Option<&str>,
    failure: CallFailure,
) -> ScanError {
    tracing::warn!(
        region, %service, api, resource, code = %failure.code, kind = ?failure.kind,
        "scan call failed; continuing without it"
    );
    ScanError {
        account_id: String::new(),
        region: region.to_string(),
        service,
        api: api.to_string(),
        message: failure.to_string(),
        code: failure.code,
        resource: resource.map(str::to_string),
    }
}
