//! Custom CloudWatch metrics for the dashboard.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

use crate::error::AwsError;

pub use aws_sdk_cloudwatch::types::StandardUnit;

/// PutMetricData takes at most 1000 data points per call.
const BATCH: usize = 1000;

pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub unit: StandardUnit,
    pub dimensions: Vec<(&'static str, String)>,
}

pub async fn put_metrics(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metrics: Vec<Metric>,
) -> Result<usize, AwsError> {
    let data: Vec<MetricDatum> = metrics
        .into_iter()
        .map(|m| {
            let dims = m
                .dimensions
                .into_iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect();
            MetricDatum::builder()
                .metric_name(m.name)
                .value(m.value)
                .unit(m.unit)
                .set_dimensions(Some(dims))
                .build()
        })
        .collect();
    let count = data.len();
    for chunk in data.chunks(BATCH) {
        client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::api("cloudwatch", "PutMetricData", &e))?;
    }
    Ok(count)
}

/// Where the dashboard's metrics go (CloudWatch in production, memory in tests).
pub trait MetricsSink: Send + Sync {
    /// Sends the metrics; returns how many data points went out.
    fn put<'a>(
        &'a self,
        namespace: &'a str,
        metrics: Vec<Metric>,
    ) -> futures::future::BoxFuture<'a, Result<usize, AwsError>>;
}

impl MetricsSink for aws_sdk_cloudwatch::Client {
    fn put<'a>(
        &'a self,
        namespace: &'a str,
        metrics: Vec<Metric>,
    ) -> futures::future::BoxFuture<'a, Result<usize, AwsError>> {
        Box::pin(put_metrics(self, namespace, metrics))
    }
}

/// Metrics in memory (name, value), for tests.
#[derive(Default)]
pub struct MemoryMetrics(pub std::sync::Mutex<Vec<(String, f64)>>);

impl MetricsSink for MemoryMetrics {
    fn put<'a>(
        &'a self,
        _namespace: &'a str,
        metrics: Vec<Metric>,
    ) -> futures::future::BoxFuture<'a, Result<usize, AwsError>> {
        let count = metrics.len();
        crate::lock(&self.0).extend(metrics.into_iter().map(|m| (m.name.to_string(), m.value)));
        Box::pin(async move { Ok(count) })
    }
}
