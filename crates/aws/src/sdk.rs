//! One place that builds SDK configuration: explicit retry and timeout policy, and a request
//! counter on every client. Endpoints come from the standard `AWS_ENDPOINT_URL*` variables that
//! aws-config honours; the product has no endpoint flags of its own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Attempts per call, first try included. Adaptive mode adds client-side rate limiting, which
/// keeps a wide scan from turning throttling into failed regions.
pub const MAX_ATTEMPTS: u32 = 6;

pub fn retry_config() -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

/// Loads the shared configuration (credentials chain, endpoint variables) for `region`.
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
        let key = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown:unknown".to_string());
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(key).or_insert(0) += 1;
        }
        Ok(())
    }
}

/// Clients of every service the scanner uses, for one region, sharing one counter.
#[derive(Debug, Clone)]
pub struct RegionalClients {
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub s3: aws_sdk_s3::Client,
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

    pub fn home_region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_string())
    }

    pub fn regional(&self, region: &str) -> RegionalClients {
        let region_cfg = Region::new(region.to_string());
        let ec2 = aws_sdk_ec2::config::Builder::from(&self.base)
            .region(region_cfg.clone())
            .interceptor(self.counter.clone())
            .build();
        let rds = aws_sdk_rds::config::Builder::from(&self.base)
            .region(region_cfg.clone())
            .interceptor(self.counter.clone())
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(&self.base)
            .region(region_cfg)
            .interceptor(self.counter.clone())
            .build();
        RegionalClients {
            region: region.to_string(),
            ec2: aws_sdk_ec2::Client::from_conf(ec2),
            rds: aws_sdk_rds::Client::from_conf(rds),
            s3: aws_sdk_s3::Client::from_conf(s3),
        }
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.base)
            .region(Region::new(region.to_string()))
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let conf = aws_sdk_s3control::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_s3control::Client::from_conf(conf)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        let conf = aws_sdk_sns::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_sns::Client::from_conf(conf)
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        let conf = aws_sdk_cloudformation::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_cloudformation::Client::from_conf(conf)
    }

    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        let conf = aws_sdk_sfn::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_sfn::Client::from_conf(conf)
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::config::Builder::from(&self.base)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }
}
