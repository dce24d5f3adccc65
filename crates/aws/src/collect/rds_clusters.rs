//! RDS DB clusters and event notification subscriptions of one region: one paginated list call
//! each, which returns every setting the rules read (tags of clusters included).

use aws_sdk_rds::types::{DbCluster as SdkDbCluster, EventSubscription as SdkEventSubscription};
use aws_sdk_rds::Client;
use compliance_core::model::{DbCluster, RdsEventSubscription};
use compliance_core::{ScanError, Service};

use super::{partition, tags_from};
use crate::error::scan_error;

const PAGE: i32 = 100;

/// Every DB cluster of the region (Aurora, Multi-AZ DB clusters, Neptune, DocumentDB).
pub async fn clusters(
    client: &Client,
    account_id: &str,
    region: &str,
    errors: &mut Vec<ScanError>,
) -> Vec<DbCluster> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_db_clusters()
        .max_records(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => out.extend(
                page.db_clusters()
                    .iter()
                    .filter_map(|c| convert_cluster(c, account_id, region)),
            ),
            Err(e) => {
                errors.push(scan_error(
                    region,
                    Service::Rds,
                    "DescribeDBClusters",
                    None,
                    &e,
                ));
                break;
            }
        }
    }
    out
}

fn convert_cluster(c: &SdkDbCluster, account_id: &str, region: &str) -> Option<DbCluster> {
    let id = c.db_cluster_identifier()?;
    let arn = c.db_cluster_arn().map_or_else(
        || {
            format!(
                "arn:{}:rds:{region}:{account_id}:cluster:{id}",
                partition(region)
            )
        },
        str::to_string,
    );
    Some(DbCluster {
        id: id.to_string(),
        arn,
        region: region.to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        engine_mode: c.engine_mode().map(str::to_string),
        storage_encrypted: c.storage_encrypted().unwrap_or(false),
        deletion_protection: c.deletion_protection().unwrap_or(false),
        iam_database_authentication: c.iam_database_authentication_enabled().unwrap_or(false),
        multi_az: c.multi_az().unwrap_or(false),
        copy_tags_to_snapshot: c.copy_tags_to_snapshot().unwrap_or(false),
        backup_retention_period: c.backup_retention_period().unwrap_or(0),
        backtrack_window: c.backtrack_window(),
        auto_minor_version_upgrade: c.auto_minor_version_upgrade(),
        master_username: c.master_username().map(str::to_string),
        enabled_cloudwatch_logs_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
        tags: tags_from(c.tag_list().iter().map(|t| (t.key(), t.value()))),
    })
}

/// Every event notification subscription of the region.
pub async fn event_subscriptions(
    client: &Client,
    account_id: &str,
    region: &str,
    errors: &mut Vec<ScanError>,
) -> Vec<RdsEventSubscription> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_event_subscriptions()
        .max_records(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => out.extend(
                page.event_subscriptions_list()
                    .iter()
                    .filter_map(|s| convert_subscription(s, account_id, region)),
            ),
            Err(e) => {
                errors.push(scan_error(
                    region,
                    Service::Rds,
                    "DescribeEventSubscriptions",
                    None,
                    &e,
                ));
                break;
            }
        }
    }
    out
}

fn convert_subscription(
    s: &SdkEventSubscription,
    account_id: &str,
    region: &str,
) -> Option<RdsEventSubscription> {
    let id = s.cust_subscription_id()?;
    let arn = s.event_subscription_arn().map_or_else(
        || {
            format!(
                "arn:{}:rds:{region}:{account_id}:es:{id}",
                partition(region)
            )
        },
        str::to_string,
    );
    Some(RdsEventSubscription {
        id: id.to_string(),
        arn,
        region: region.to_string(),
        source_type: s
            .source_type()
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        event_categories: s.event_categories_list().to_vec(),
        source_ids: s.source_ids_list().to_vec(),
        // RDS enables a subscription unless told otherwise.
        enabled: s.enabled().unwrap_or(true),
        tags: compliance_core::model::Tags::new(),
    })
}
