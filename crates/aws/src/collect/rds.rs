//! RDS: DB instances of one region (tags come with DescribeDBInstances: no extra call).

use aws_sdk_rds::types::DbInstance as SdkDbInstance;
use compliance_core::model::DbInstance;
use compliance_core::{Inventory, Service};
use futures::future::BoxFuture;

use super::{partition, tags_from, Collected, Collector};
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
            out
        })
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
        tags: tags_from(db.tag_list().iter().map(|t| (t.key(), t.value()))),
    })
}
