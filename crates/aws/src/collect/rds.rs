//! RDS: DB instances of one region (tags come with DescribeDBInstances: no extra call), and,
//! alongside, its DB clusters, event subscriptions ([`super::rds_clusters`]) and manual
//! snapshots ([`super::rds_snapshots`]).

use aws_sdk_rds::types::DbInstance as SdkDbInstance;
use compliance_core::model::DbInstance;
use compliance_core::{Inventory, Service};
use futures::future::BoxFuture;

use super::{partition, rds_clusters, rds_snapshots, tags_from, Collected, Collector};
use crate::error::scan_error;
use crate::sdk::ClientFactory;

const PAGE: i32 = 100;

pub struct RdsCollector {
    factory: ClientFactory,
}

impl RdsCollector {
    pub fn new(factory: ClientFactory) -> Self {
        RdsCollector { factory }
    }
}

impl Collector for RdsCollector {
    fn service(&self) -> Service {
        Service::Rds
    }

    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected> {
        Box::pin(async move {
            let client = self.factory.rds(region);
            let mut out = Collected {
                inventory: Inventory::new(account_id),
                errors: Vec::new(),
            };
            let (mut cluster_errors, mut subscription_errors) = (Vec::new(), Vec::new());
            let (mut snapshot_errors, mut cluster_snapshot_errors) = (Vec::new(), Vec::new());
            let (clusters, subscriptions, snapshots, cluster_snapshots, ()) = tokio::join!(
                rds_clusters::clusters(&client, account_id, region, &mut cluster_errors),
                rds_clusters::event_subscriptions(
                    &client,
                    account_id,
                    region,
                    &mut subscription_errors
                ),
                rds_snapshots::db_snapshots(&client, account_id, region, &mut snapshot_errors),
                rds_snapshots::db_cluster_snapshots(
                    &client,
                    account_id,
                    region,
                    &mut cluster_snapshot_errors
                ),
                instances(&client, account_id, region, &mut out),
            );
            out.inventory.db_clusters = clusters;
            out.inventory.rds_event_subscriptions = subscriptions;
            out.inventory.db_snapshots = snapshots;
            out.inventory.db_cluster_snapshots = cluster_snapshots;
            out.errors.extend(
                cluster_errors
                    .into_iter()
                    .chain(subscription_errors)
                    .chain(snapshot_errors)
                    .chain(cluster_snapshot_errors),
            );
            out
        })
    }
}

/// Every DB instance of the region.
async fn instances(
    client: &aws_sdk_rds::Client,
    account_id: &str,
    region: &str,
    out: &mut Collected,
) {
    let mut pages = client
        .describe_db_instances()
        .max_records(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => out.inventory.db_instances.extend(
                page.db_instances()
                    .iter()
                    .filter_map(|db| convert(db, account_id, region)),
            ),
            Err(e) => {
                out.errors.push(scan_error(
                    region,
                    Service::Rds,
                    "DescribeDBInstances",
                    None,
                    &e,
                ));
                break;
            }
        }
    }
}

fn convert(db: &SdkDbInstance, account_id: &str, region: &str) -> Option<DbInstance> {
    let id = db.db_instance_identifier()?;
    let arn = db.db_instance_arn().map_or_else(
        || {
            format!(
                "arn:{}:rds:{region}:{account_id}:db:{id}",
                partition(region)
            )
        },
        str::to_string,
    );
    Some(DbInstance {
        id: id.to_string(),
        arn,
        region: region.to_string(),
        engine: db.engine().unwrap_or_default().to_string(),
        publicly_accessible: db.publicly_accessible().unwrap_or(false),
        storage_encrypted: db.storage_encrypted().unwrap_or(false),
        backup_retention_period: db.backup_retention_period().unwrap_or(0),
        deletion_protection: db.deletion_protection().unwrap_or(false),
        multi_az: db.multi_az().unwrap_or(false),
        auto_minor_version_upgrade: db.auto_minor_version_upgrade().unwrap_or(false),
        iam_database_authentication: db.iam_database_authentication_enabled().unwrap_or(false),
        copy_tags_to_snapshot: db.copy_tags_to_snapshot().unwrap_or(false),
        db_cluster_identifier: db
            .db_cluster_identifier()
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        monitoring_interval: db.monitoring_interval().unwrap_or(0),
        enabled_cloudwatch_logs_exports: db.enabled_cloudwatch_logs_exports().to_vec(),
        // The endpoint's port; DbInstancePort is 0 for instances outside a cluster.
        port: db
            .endpoint()
            .and_then(aws_sdk_rds::types::Endpoint::port)
            .or(db.db_instance_port().filter(|p| *p > 0)),
        master_username: db.master_username().map(str::to_string),
        tags: tags_from(db.tag_list().iter().map(|t| (t.key(), t.value()))),
    })
}
