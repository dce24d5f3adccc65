//! Collectors read one service in one region into the core's inventory model. A failed call
//! becomes a recorded [`ScanError`] and the collector carries on with what it could read.

pub mod cloudtrail;
pub mod ec2;
pub mod ec2_network;
pub mod ec2_storage;
pub mod iam;
pub mod lambda;
pub mod rds;
pub mod rds_clusters;
pub mod rds_snapshots;
pub mod s3;
pub mod s3_access_points;

#[cfg(test)]
pub(crate) mod replay;
#[cfg(test)]
mod tests;

use compliance_core::model::Tags;
use compliance_core::{Inventory, ScanError, Service};
use futures::future::BoxFuture;

/// What one (service, region) collection produced.
#[derive(Debug, Default)]
pub struct Collected {
    pub inventory: Inventory,
    pub errors: Vec<ScanError>,
}

/// Reads one service. For a global service (S3) `region` is where account-level results are
/// reported; the collector still reaches each resource in its own region.
pub trait Collector: Send + Sync {
    fn service(&self) -> Service;
    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected>;
}

pub use compliance_core::model::partition_of_region as partition;

pub(crate) fn tags_from<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(k, v)| k.map(|k| (k.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}
