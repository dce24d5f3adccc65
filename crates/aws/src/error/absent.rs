//! Optional reads: which failure of which operation means "there is none", so that a reader
//! treats only that as absent and every other failure (denied, throttled, unreachable) as an
//! error.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::{
    get_bucket_acl::GetBucketAclError, get_bucket_encryption::GetBucketEncryptionError,
    get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationError,
    get_bucket_logging::GetBucketLoggingError,
    get_bucket_notification_configuration::GetBucketNotificationConfigurationError,
    get_bucket_policy::GetBucketPolicyError, get_bucket_policy_status::GetBucketPolicyStatusError,
    get_bucket_replication::GetBucketReplicationError, get_bucket_tagging::GetBucketTaggingError,
    get_bucket_versioning::GetBucketVersioningError,
    get_object_lock_configuration::GetObjectLockConfigurationError,
    get_public_access_block::GetPublicAccessBlockError,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// An operation error that can mean "the thing read does not exist".
pub trait NotFound {
    fn is_not_found(&self) -> bool;
}

/// A read whose target may legitimately not exist: `Ok(None)` for "not found" as the
/// operation defines it, the failure itself for anything else.
// The error is the SDK's own, passed on unchanged: the size is that of every `send()` result.
#[allow(clippy::result_large_err)]
pub fn optional<T, E: NotFound>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>, SdkError<E, HttpResponse>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.as_service_error().is_some_and(E::is_not_found) => Ok(None),
        Err(err) => Err(err),
    }
}

// Modelled: the SDK has a variant for "not found".

#[cfg(feature = "ssm")]
impl NotFound for aws_sdk_ssm::operation::get_parameter::GetParameterError {
    fn is_not_found(&self) -> bool {
        self.is_parameter_not_found()
    }
}

#[cfg(feature = "scan")]
impl NotFound for aws_sdk_s3control::operation::get_public_access_block::GetPublicAccessBlockError {
    fn is_not_found(&self) -> bool {
        self.is_no_such_public_access_block_configuration()
    }
}

/// A function without a resource-based policy (or gone since it was listed).
#[cfg(feature = "scan")]
impl NotFound for aws_sdk_lambda::operation::get_policy::GetPolicyError {
    fn is_not_found(&self) -> bool {
        self.is_resource_not_found_exception()
    }
}

// Not modelled: S3 answers "this bucket has no such configuration" with an error code that the
// operation's model does not declare (its error enum has only `Unhandled`), so the code is read
// here, and only here, one code per operation.

/// The code S3 answers, for each bucket-configuration read, when the bucket has none.
macro_rules! absent_when_code {
    ($($error:ty => $code:literal,)+) => {
        $(impl NotFound for $error {
            fn is_not_found(&self) -> bool {
                self.code() == Some($code)
            }
        })+
    };
}

absent_when_code! {
    GetBucketEncryptionError => "ServerSideEncryptionConfigurationNotFoundError",
    GetPublicAccessBlockError => "NoSuchPublicAccessBlockConfiguration",
    GetBucketPolicyError => "NoSuchBucketPolicy",
    GetBucketTaggingError => "NoSuchTagSet",
    GetBucketLifecycleConfigurationError => "NoSuchLifecycleConfiguration",
    GetBucketReplicationError => "ReplicationConfigurationNotFoundError",
    GetObjectLockConfigurationError => "ObjectLockConfigurationNotFoundError",
}

/// Reads that always have an answer for an existing bucket (a default ACL, `Status` absent
/// when versioning was never enabled, no `LoggingEnabled` when logging is off).
macro_rules! never_absent {
    ($($error:ty,)+) => {
        $(impl NotFound for $error {
            fn is_not_found(&self) -> bool {
                false
            }
        })+
    };
}

never_absent! {
    GetBucketAclError,
    GetBucketVersioningError,
    GetBucketLoggingError,
    GetBucketPolicyStatusError,
    GetBucketNotificationConfigurationError,
}

/// The bucket itself is gone (deleted between listing and reading). S3's bucket-configuration
/// reads do not model `NoSuchBucket` either.
pub fn is_bucket_gone<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.code() == Some("NoSuchBucket"))
}
