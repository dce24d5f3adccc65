//! Manual RDS DB snapshots and DB cluster snapshots of one region. The list calls return
//! encryption and tags; who may restore a snapshot (public or not) is only in its attributes,
//! one call per snapshot, made with bounded concurrency.

use aws_sdk_rds::Client;
use compliance_core::model::DbSnapshot;
use compliance_core::rules::rds_snapshot::{
    API_CLUSTER_SNAPSHOT_ATTRIBUTES, API_SNAPSHOT_ATTRIBUTES,
};
use compliance_core::{ScanError, Service};
use futures::StreamExt;

use super::{partition, tags_from};
use crate::error::scan_error;

const PAGE: i32 = 100;
/// Attribute calls in flight at once, per region.
pub const SNAPSHOT_ATTRIBUTE_CONCURRENCY: usize = 8;
/// Only manual snapshots can be shared or made public; automated ones carry their source's
/// encryption, which RDS.3 and RDS.27 judge.
const MANUAL: &str = "manual";

/// The `restore` attribute's values, from an attribute list.
fn restore_values<'a>(
    attributes: impl IntoIterator<Item = (Option<&'a str>, &'a [String])>,
) -> Vec<String> {
    attributes
        .into_iter()
        .filter(|(name, _)| *name == Some("restore"))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect()
}

/// Manual DB snapshots, each with its `restore` attribute.
pub async fn db_snapshots(
    client: &Client,
    account_id: &str,
    region: &str,
    errors: &mut Vec<ScanError>,
) -> Vec<DbSnapshot> {
    let mut listed = Vec::new();
    let mut pages = client
        .describe_db_snapshots()
        .snapshot_type(MANUAL)
        .max_records(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => listed.extend(page.db_snapshots().iter().filter_map(|s| {
                let id = s.db_snapshot_identifier()?;
                Some(DbSnapshot {
                    id: id.to_string(),
                    arn: s.db_snapshot_arn().map_or_else(
                        || {
                            format!(
                                "arn:{}:rds:{region}:{account_id}:snapshot:{id}",
                                partition(region)
                            )
                        },
                        str::to_string,
                    ),
                    region: region.to_string(),
                    engine: s.engine().unwrap_or_default().to_string(),
                    snapshot_type: s.snapshot_type().unwrap_or(MANUAL).to_string(),
                    encrypted: s.encrypted().unwrap_or(false),
                    restore_accounts: None,
                    tags: tags_from(s.tag_list().iter().map(|t| (t.key(), t.value()))),
                    unreadable: Vec::new(),
                })
            })),
            Err(e) => {
                errors.push(scan_error(
                    region,
                    Service::Rds,
                    "DescribeDBSnapshots",
                    None,
                    &e,
                ));
                break;
            }
        }
    }
    let mut results = futures::stream::iter(listed)
        .map(|mut snapshot| async move {
            let answer = client
                .describe_db_snapshot_attributes()
                .db_snapshot_identifier(&snapshot.id)
                .send()
                .await;
            let error = match answer {
                Ok(out) => {
                    let attributes = out
                        .db_snapshot_attributes_result()
                        .map(aws_sdk_rds::types::DbSnapshotAttributesResult::db_snapshot_attributes)
                        .unwrap_or_default();
                    snapshot.restore_accounts = Some(restore_values(
                        attributes
                            .iter()
                            .map(|a| (a.attribute_name(), a.attribute_values())),
                    ));
                    None
                }
                Err(e) => {
                    snapshot
                        .unreadable
                        .push(API_SNAPSHOT_ATTRIBUTES.to_string());
                    Some(scan_error(
                        region,
                        Service::Rds,
                        API_SNAPSHOT_ATTRIBUTES,
                        Some(&snapshot.id),
                        &e,
                    ))
                }
            };
            (snapshot, error)
        })
        .buffer_unordered(SNAPSHOT_ATTRIBUTE_CONCURRENCY);
    let mut out = Vec::new();
    while let Some((snapshot, error)) = results.next().await {
        errors.extend(error);
        out.push(snapshot);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Manual DB cluster snapshots, each with its `restore` attribute.
pub async fn db_cluster_snapshots(
    client: &Client,
    account_id: &str,
    region: &str,
    errors: &mut Vec<ScanError>,
) -> Vec<DbSnapshot> {
    let mut listed = Vec::new();
    let mut pages = client
        .describe_db_cluster_snapshots()
        .snapshot_type(MANUAL)
        .max_records(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => listed.extend(page.db_cluster_snapshots().iter().filter_map(|s| {
                let id = s.db_cluster_snapshot_identifier()?;
                Some(DbSnapshot {
                    id: id.to_string(),
                    arn: s.db_cluster_snapshot_arn().map_or_else(
                        || {
                            format!(
                                "arn:{}:rds:{region}:{account_id}:cluster-snapshot:{id}",
                                partition(region)
                            )
                        },
                        str::to_string,
                    ),
                    region: region.to_string(),
                    engine: s.engine().unwrap_or_default().to_string(),
                    snapshot_type: s.snapshot_type().unwrap_or(MANUAL).to_string(),
                    encrypted: s.storage_encrypted().unwrap_or(false),
                    restore_accounts: None,
                    tags: tags_from(s.tag_list().iter().map(|t| (t.key(), t.value()))),
                    unreadable: Vec::new(),
                })
            })),
            Err(e) => {
                errors.push(scan_error(
                    region,
                    Service::Rds,
                    "DescribeDBClusterSnapshots",
                    None,
                    &e,
                ));
                break;
            }
        }
    }
    let mut results = futures::stream::iter(listed)
        .map(|mut snapshot| async move {
            let answer = client
                .describe_db_cluster_snapshot_attributes()
                .db_cluster_snapshot_identifier(&snapshot.id)
                .send()
                .await;
            let error = match answer {
                Ok(out) => {
                    let attributes = out
                        .db_cluster_snapshot_attributes_result()
                        .map(aws_sdk_rds::types::DbClusterSnapshotAttributesResult::db_cluster_snapshot_attributes)
                        .unwrap_or_default();
                    snapshot.restore_accounts = Some(restore_values(
                        attributes
                            .iter()
                            .map(|a| (a.attribute_name(), a.attribute_values())),
                    ));
                    None
                }
                Err(e) => {
                    snapshot
                        .unreadable
                        .push(API_CLUSTER_SNAPSHOT_ATTRIBUTES.to_string());
                    Some(scan_error(
                        region,
                        Service::Rds,
                        API_CLUSTER_SNAPSHOT_ATTRIBUTES,
                        Some(&snapshot.id),
                        &e,
                    ))
                }
            };
            (snapshot, error)
        })
        .buffer_unordered(SNAPSHOT_ATTRIBUTE_CONCURRENCY);
    let mut out = Vec::new();
    while let Some((snapshot, error)) = results.next().await {
        errors.extend(error);
        out.push(snapshot);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}
