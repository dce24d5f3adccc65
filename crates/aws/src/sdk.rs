//! One place that builds SDK configuration: explicit retry and timeout policy, and a request
//! counter on every client. Endpoints come from the standard `AWS_ENDPOINT_URL*` variables that
//! aws-config honours; the product has no endpoint flags of its own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Attempts per call, first try included: with the backoff below, a call whose API never
/// recovers gives up after at most about 18 s of waiting (10 s measured), and the unit reports
/// it by name.
pub const MAX_ATTEMPTS: u32 = 20;

/// Standard retries with short, jittered exponential backoff. Throttling a scanner meets is
/// mostly not of its own making (another tool sharing the account's API budget, sporadic S3
/// SlowDown), so the adaptive mode's client-side rate limiter, which lowers the send rate on
/// every throttling answer and recovers slowly, turned 20% throttling into an 80-fold slower
/// scan (bench/RESULTS.md, "Under faults"). A throttled request is simply retried after a
/// short random wait; the attempt cap and the operation timeout bound what one call can cost.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(1))
}

/// The SDK shares one retry quota per service across every client of the process (500
/// tokens, 5 per throttled and 14 per failed attempt), and refuses retries once it is spent:
/// a long scan under sustained throttling would then fail calls that one more attempt would
/// have served. The scanner bounds retries per call instead (attempts, operation timeout).
fn retry_partition(service: &'static str) -> RetryPartition {
    RetryPartition::custom(service)
        .token_bucket(TokenBucket::unlimited())
        .build()
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

/// Loads the shared configuration (credentials chain, endpoint variables) for `region`.
/// The region the process runs in: `AWS_REGION` (set by Lambda), else `AWS_DEFAULT_REGION`,
/// else us-east-1.
pub fn home_region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".to_string())
}

/// A factory for `region` (the function's own region in Lambda).
pub async fn factory(region: &str) -> ClientFactory {
    ClientFactory::new(load(region).await, RequestCounter::default())
}

pub async fn load(region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .load()
        .await
}

/// Counts HTTP requests (retries included) per `service:operation`, for the benchmark and for
/// the scan summary's cost figures.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Requests per service (`ec2`, `s3`, ...), summed over operations.
    pub fn by_service(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (key, n) in self.snapshot() {
            let service = key
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            *out.entry(service).or_insert(0) += n;
        }
        out
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = cfg.load::<Metadata>().map_or_else(
            || "unknown:unknown".to_string(),
            |m| format!("{}:{}", m.service(), m.name()),
        );
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(key).or_insert(0) += 1;
        }
        Ok(())
    }
}

/// A client of a regional service in `region`, counted by the request counter.
macro_rules! regional_client {
    ($name:ident, $sdk:ident) => {
        pub fn $name(&self, region: &str) -> $sdk::Client {
            let conf = $sdk::config::Builder::from(&self.base)
                .region(Region::new(region.to_string()))
                .interceptor(self.counter.clone())
                .retry_partition(retry_partition(stringify!($name)))
                .build();
            $sdk::Client::from_conf(conf)
        }
    };
}

/// A client of a service in the factory's home region, counted by the request counter.
// Unused only when no enabled feature names a home-region client (the aggregate function).
#[allow(unused_macros)]
macro_rules! client {
    ($name:ident, $sdk:ident) => {
        pub fn $name(&self) -> $sdk::Client {
            let conf = $sdk::config::Builder::from(&self.base)
                .interceptor(self.counter.clone())
                .retry_partition(retry_partition(stringify!($name)))
                .build();
            $sdk::Client::from_conf(conf)
        }
    };
}

/// Builds clients on demand for any region from one loaded base configuration.
#[derive(Debug, Clone)]
pub struct ClientFactory {
    base: SdkConfig,
    counter: RequestCounter,
}

impl ClientFactory {
    pub fn new(base: SdkConfig, counter: RequestCounter) -> Self {
        ClientFactory { base, counter }
    }

    pub fn counter(&self) -> &RequestCounter {
        &self.counter
    }

    /// The same configuration and counter with other credentials (a member account's).
    #[cfg(feature = "member")]
    pub fn with_credentials(
        &self,
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
    ) -> ClientFactory {
        ClientFactory {
            base: self
                .base
                .to_builder()
                .credentials_provider(credentials)
                .build(),
            counter: self.counter.clone(),
        }
    }

    #[cfg(feature = "scan")]
    regional_client!(ec2, aws_sdk_ec2);
    #[cfg(feature = "scan")]
    regional_client!(rds, aws_sdk_rds);
    #[cfg(feature = "scan")]
    regional_client!(cloudtrail, aws_sdk_cloudtrail);
    #[cfg(feature = "scan")]
    client!(iam, aws_sdk_iam);
    #[cfg(feature = "scan")]
    regional_client!(lambda, aws_sdk_lambda);
    regional_client!(s3, aws_sdk_s3);
    #[cfg(feature = "security-hub")]
    regional_client!(securityhub, aws_sdk_securityhub);
    #[cfg(feature = "scan")]
    client!(s3control, aws_sdk_s3control);
    // S3 Control in one region (access points are regional).
    #[cfg(feature = "scan")]
    regional_client!(s3control_in, aws_sdk_s3control);
    #[cfg(feature = "member")]
    client!(sts, aws_sdk_sts);
    #[cfg(feature = "organizations")]
    client!(organizations, aws_sdk_organizations);
    #[cfg(feature = "tables")]
    client!(dynamodb, aws_sdk_dynamodb);
    #[cfg(feature = "sns")]
    client!(sns, aws_sdk_sns);
    #[cfg(feature = "cloudwatch")]
    client!(cloudwatch, aws_sdk_cloudwatch);
    #[cfg(feature = "workflow")]
    client!(cloudformation, aws_sdk_cloudformation);
    #[cfg(feature = "workflow")]
    client!(sfn, aws_sdk_sfn);
    #[cfg(feature = "ssm")]
    client!(ssm, aws_sdk_ssm);
}
