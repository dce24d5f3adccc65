//! S3 access points (S3 Control). Access points are regional: `ListAccessPoints` is called in
//! each region that holds one of the account's buckets (an access point lives in its bucket's
//! region) and in the scan's home region; it does not return Block Public Access, so each access
//! point costs one `GetAccessPoint`, with bounded concurrency. Multi-Region Access Points are
//! listed once per account, with their Block Public Access, from the us-west-2 control plane.

use std::collections::BTreeSet;

use aws_sdk_s3control::error::{ProvideErrorMetadata, SdkError};
use compliance_core::model::{AccessPoint, MultiRegionAccessPoint, PublicAccessBlock};
use compliance_core::rules::s3_access_points::API_GET_ACCESS_POINT;
use compliance_core::{ScanError, Service};
use futures::StreamExt;

use crate::error::{record, CallFailure};
use crate::sdk::ClientFactory;

const LIST_PAGE: i32 = 1000;
/// Multi-Region Access Points are managed through us-west-2 only.
const MRAP_CONTROL_REGION: &str = "us-west-2";

macro_rules! public_access_block {
    ($c:expr) => {
        PublicAccessBlock {
            block_public_acls: $c.block_public_acls().unwrap_or(false),
            ignore_public_acls: $c.ignore_public_acls().unwrap_or(false),
            block_public_policy: $c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: $c.restrict_public_buckets().unwrap_or(false),
        }
    };
}

fn failed<E>(region: &str, api: &str, resource: Option<&str>, e: &SdkError<E>) -> ScanError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = CallFailure::of("s3control", api, region, e);
    record(region, Service::S3, api, resource, failure)
}

/// Every access point of the account in `regions`, each with its Block Public Access.
pub async fn access_points(
    factory: &ClientFactory,
    account_id: &str,
    regions: BTreeSet<String>,
    concurrency: usize,
) -> (Vec<AccessPoint>, Vec<ScanError>) {
    let mut errors = Vec::new();
    let mut listed = Vec::new();
    let mut lists = futures::stream::iter(regions)
        .map(|region| async move {
            let result = list_in(factory, account_id, &region).await;
            (region, result)
        })
        .buffer_unordered(concurrency);
    while let Some((region, result)) = lists.next().await {
        match result {
            Ok(names) => listed.extend(names.into_iter().map(|n| (region.clone(), n))),
            Err(e) => errors.push(e),
        }
    }
    let mut out = Vec::new();
    let mut reads = futures::stream::iter(listed)
        .map(|(region, (name, arn, bucket))| async move {
            let answer = factory
                .s3control_in(&region)
                .get_access_point()
                .account_id(account_id)
                .name(&name)
                .send()
                .await;
            let mut ap = AccessPoint {
                name,
                arn,
                region,
                bucket,
                public_access_block: None,
                unreadable: Vec::new(),
            };
            match answer {
                Ok(got) => {
                    ap.public_access_block = got
                        .public_access_block_configuration()
                        .map(|c| public_access_block!(c));
                    (Some(ap), None)
                }
                // Deleted between listing and reading: gone, nothing to judge.
                Err(e)
                    if e.as_service_error().and_then(ProvideErrorMetadata::code)
                        == Some("NoSuchAccessPoint") =>
                {
                    (None, None)
                }
                Err(e) => {
                    let error = failed(&ap.region, API_GET_ACCESS_POINT, Some(&ap.arn), &e);
                    ap.unreadable.push(API_GET_ACCESS_POINT.to_string());
                    (Some(ap), Some(error))
                }
            }
        })
        .buffer_unordered(concurrency);
    while let Some((ap, error)) = reads.next().await {
        out.extend(ap);
        errors.extend(error);
    }
    out.sort_by(|a, b| (&a.region, &a.name).cmp(&(&b.region, &b.name)));
    (out, errors)
}

/// (name, ARN, bucket) of every access point `ListAccessPoints` answers in `region`.
async fn list_in(
    factory: &ClientFactory,
    account_id: &str,
    region: &str,
) -> Result<Vec<(String, String, String)>, ScanError> {
    let mut pages = factory
        .s3control_in(region)
        .list_access_points()
        .account_id(account_id)
        .max_results(LIST_PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(region, "ListAccessPoints", None, &e))?;
        for ap in page.access_point_list() {
            let arn = ap.access_point_arn().map_or_else(
                || format!("arn:aws:s3:{region}:{account_id}:accesspoint/{}", ap.name()),
                str::to_string,
            );
            out.push((ap.name().to_string(), arn, ap.bucket().to_string()));
        }
    }
    Ok(out)
}

/// Every Multi-Region Access Point of the account; findings are reported in `home`.
pub async fn multi_region_access_points(
    factory: &ClientFactory,
    account_id: &str,
    home: &str,
) -> Result<Vec<MultiRegionAccessPoint>, ScanError> {
    let partition = compliance_core::model::partition_of_region(home);
    if partition != "aws" {
        // Multi-Region Access Points exist in the commercial partition only.
        return Ok(Vec::new());
    }
    let client = factory.s3control_in(MRAP_CONTROL_REGION);
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_multi_region_access_points()
            .account_id(account_id)
            .max_results(100)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| failed(MRAP_CONTROL_REGION, "ListMultiRegionAccessPoints", None, &e))?;
        for mrap in page.access_points() {
            let Some(name) = mrap.name() else { continue };
            let id = mrap.alias().unwrap_or(name);
            out.push(MultiRegionAccessPoint {
                name: name.to_string(),
                arn: format!("arn:{partition}:s3::{account_id}:accesspoint/{id}"),
                region: home.to_string(),
                public_access_block: mrap.public_access_block().map(|c| public_access_block!(c)),
            });
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => break,
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
