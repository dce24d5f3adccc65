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
