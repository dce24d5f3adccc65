//! CloudTrail: ListTrails (once per account: it lists every trail with its home region), then
//! each home region's trails in one DescribeTrails, and per trail the two settings no list call
//! returns (GetTrailStatus, GetEventSelectors), trails concurrently up to a bound.

use std::collections::BTreeMap;

use aws_sdk_cloudtrail::types::{AdvancedFieldSelector, Trail as SdkTrail};
use compliance_core::model::{
    CloudTrailAccount, EventSelector, FieldSelector, Trail, TrailSelectors,
};
use compliance_core::rules::cloudtrail::{API_EVENT_SELECTORS, API_TRAIL_STATUS};
use compliance_core::{Inventory, ScanError, Service};
use futures::future::BoxFuture;
use futures::StreamExt;

use super::{Collected, Collector};
use crate::error::scan_error;
use crate::sdk::ClientFactory;

/// Trails read at once (two small calls each).
const TRAIL_CONCURRENCY: usize = 8;

pub struct CloudTrailCollector {
    factory: ClientFactory,
}

impl CloudTrailCollector {
    pub fn new(factory: ClientFactory) -> Self {
        CloudTrailCollector { factory }
    }
}

impl Collector for CloudTrailCollector {
    fn service(&self) -> Service {
        Service::CloudTrail
    }

    /// `region` is where ListTrails is called and the account-level findings are reported.
    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected> {
        Box::pin(async move {
            let mut out = Collected {
                inventory: Inventory::new(account_id),
                errors: Vec::new(),
            };
            let listed = match self.list(region).await {
                Ok(listed) => listed,
                Err(e) => {
                    out.errors.push(e);
                    return out;
                }
            };
            let mut described = Vec::new();
            for (home, arns) in listed {
                match self.describe(&home, arns).await {
                    Ok(trails) => described.extend(trails),
                    Err(e) => out.errors.push(e),
                }
            }
            let mut reads = futures::stream::iter(described)
                .map(|trail| self.read_trail(trail))
                .buffer_unordered(TRAIL_CONCURRENCY);
            let mut trails = Vec::new();
            while let Some((trail, errors)) = reads.next().await {
                out.errors.extend(errors);
                trails.push(trail);
            }
            trails.sort_by(|a, b| a.arn.cmp(&b.arn));
            out.inventory.cloudtrail = Some(CloudTrailAccount {
                region: region.to_string(),
                trails,
            });
            out
        })
    }
}

impl CloudTrailCollector {
    /// Trail ARNs by home region.
    async fn list(&self, region: &str) -> Result<BTreeMap<String, Vec<String>>, ScanError> {
        let mut pages = self
            .factory
            .cloudtrail(region)
            .list_trails()
            .into_paginator()
            .send();
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| scan_error(region, Service::CloudTrail, "ListTrails", None, &e))?;
            for t in page.trails() {
                if let (Some(arn), Some(home)) = (t.trail_arn(), t.home_region()) {
                    out.entry(home.to_string())
                        .or_default()
                        .push(arn.to_string());
                }
            }
        }
        Ok(out)
    }

    /// One home region's trails, in one call.
    async fn describe(&self, home: &str, arns: Vec<String>) -> Result<Vec<Trail>, ScanError> {
        let out = self
            .factory
            .cloudtrail(home)
            .describe_trails()
            .set_trail_name_list(Some(arns.clone()))
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| scan_error(home, Service::CloudTrail, "DescribeTrails", None, &e))?;
        Ok(out
            .trail_list()
            .iter()
            .filter(|t| t.trail_arn().is_some_and(|a| arns.iter().any(|x| x == a)))
            .map(|t| convert(t, home))
            .collect())
    }

    async fn read_trail(&self, mut trail: Trail) -> (Trail, Vec<ScanError>) {
        let client = self.factory.cloudtrail(&trail.region);
        let (status, selectors) = tokio::join!(
            client.get_trail_status().name(&trail.arn).send(),
            client.get_event_selectors().trail_name(&trail.arn).send(),
        );
        let mut errors = Vec::new();
        match status {
            Ok(out) => trail.is_logging = Some(out.is_logging().unwrap_or(false)),
            Err(e) => {
                errors.push(scan_error(
                    &trail.region,
                    Service::CloudTrail,
                    API_TRAIL_STATUS,
                    Some(&trail.arn),
                    &e,
                ));
                trail.unreadable.push(API_TRAIL_STATUS.to_string());
            }
        }
        match selectors {
            Ok(out) => {
                trail.selectors = Some(TrailSelectors {
                    basic: out
                        .event_selectors()
                        .iter()
                        .map(|s| EventSelector {
                            read_write_type: s
                                .read_write_type()
                                .map_or("All", |t| t.as_str())
                                .to_string(),
                            include_management_events: s
                                .include_management_events()
                                .unwrap_or(true),
                            exclude_management_event_sources: s
                                .exclude_management_event_sources()
                                .to_vec(),
                            data_resources: s
                                .data_resources()
                                .iter()
                                .map(|d| {
                                    (
                                        d.r#type().unwrap_or_default().to_string(),
                                        d.values().to_vec(),
                                    )
                                })
                                .collect(),
                        })
                        .collect(),
                    advanced: out
                        .advanced_event_selectors()
                        .iter()
                        .map(|s| s.field_selectors().iter().map(field_selector).collect())
                        .collect(),
                });
            }
            Err(e) => {
                errors.push(scan_error(
                    &trail.region,
                    Service::CloudTrail,
                    API_EVENT_SELECTORS,
                    Some(&trail.arn),
                    &e,
                ));
                trail.unreadable.push(API_EVENT_SELECTORS.to_string());
            }
        }
        (trail, errors)
    }
}

fn field_selector(f: &AdvancedFieldSelector) -> FieldSelector {
    let other = [
        ("StartsWith", f.starts_with()),
        ("EndsWith", f.ends_with()),
        ("NotEquals", f.not_equals()),
        ("NotStartsWith", f.not_starts_with()),
        ("NotEndsWith", f.not_ends_with()),
    ]
    .into_iter()
    .filter(|(_, values)| !values.is_empty())
    .map(|(operator, values)| (operator.to_string(), values.to_vec()))
    .collect();
    FieldSelector {
        field: f.field().to_string(),
        equals: f.equals().to_vec(),
        other,
    }
}

fn convert(t: &SdkTrail, home: &str) -> Trail {
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    Trail {
        name: t.name().unwrap_or_default().to_string(),
        arn: t.trail_arn().unwrap_or_default().to_string(),
        region: t.home_region().unwrap_or(home).to_string(),
        is_multi_region: t.is_multi_region_trail().unwrap_or(false),
        is_organization_trail: t.is_organization_trail().unwrap_or(false),
        log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
        kms_key_id: non_empty(t.kms_key_id()),
        cloudwatch_logs_log_group_arn: non_empty(t.cloud_watch_logs_log_group_arn()),
        s3_bucket_name: non_empty(t.s3_bucket_name()),
        is_logging: None,
        selectors: None,
        unreadable: Vec::new(),
    }
}
