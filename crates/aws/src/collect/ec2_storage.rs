//! EC2 launch templates and public EBS snapshots, one region at a time.
//!
//! Launch templates: one paginated DescribeLaunchTemplateVersions with `Versions=[$Default]`
//! and no template named returns the default version of every template in the region, with
//! its id, name and data (no DescribeLaunchTemplates, no call per template).
//! Public snapshots: DescribeSnapshots with `OwnerIds=[self]` and `RestorableByUserIds=[all]`
//! returns exactly the account's snapshots whose createVolumePermission includes `all` (the
//! API's documented meaning of `all`), so no DescribeSnapshotAttribute per snapshot is needed.

use aws_sdk_ec2::types::ResponseLaunchTemplateData;
use compliance_core::model::{
    EbsSnapshotSharing, Ec2BlockPublicAccess, LaunchTemplate, LaunchTemplateData,
    LaunchTemplateEbs, LaunchTemplateNetworkInterface,
};
use compliance_core::{ScanError, Service};

use crate::error::scan_error;

/// Largest pages EC2 allows.
const TEMPLATE_VERSION_PAGE: i32 = 200;
const SNAPSHOT_PAGE: i32 = 1000;

type Result<T> = std::result::Result<T, ScanError>;

pub async fn launch_templates(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<LaunchTemplate>> {
    let mut pages = client
        .describe_launch_template_versions()
        .versions("$Default")
        .max_results(TEMPLATE_VERSION_PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            scan_error(
                region,
                Service::Ec2,
                "DescribeLaunchTemplateVersions",
                None,
                &e,
            )
        })?;
        for version in page.launch_template_versions() {
            let Some(id) = version.launch_template_id() else {
                continue;
            };
            let data = version.launch_template_data();
            let metadata = data.and_then(|d| d.metadata_options());
            out.push(LaunchTemplate {
                id: id.to_string(),
                arn: format!("{arn_prefix}:launch-template/{id}"),
                region: region.to_string(),
                name: version
                    .launch_template_name()
                    .unwrap_or_default()
                    .to_string(),
                default_version: version.version_number(),
                data: LaunchTemplateData {
                    metadata_http_tokens: metadata
                        .and_then(|m| m.http_tokens())
                        .map(|t| t.as_str().to_string()),
                    metadata_http_endpoint: metadata
                        .and_then(|m| m.http_endpoint())
                        .map(|e| e.as_str().to_string()),
                    network_interfaces: data
                        .map(ResponseLaunchTemplateData::network_interfaces)
                        .unwrap_or_default()
                        .iter()
                        .map(|n| LaunchTemplateNetworkInterface {
                            device_index: n.device_index(),
                            associate_public_ip_address: n.associate_public_ip_address(),
                        })
                        .collect(),
                    ebs_volumes: data
                        .map(ResponseLaunchTemplateData::block_device_mappings)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|m| {
                            m.ebs().map(|ebs| LaunchTemplateEbs {
                                device_name: m.device_name().map(str::to_string),
                                encrypted: ebs.encrypted(),
                            })
                        })
                        .collect(),
                },
                tags: compliance_core::model::Tags::new(),
            });
        }
    }
    Ok(out)
}

pub async fn snapshot_sharing(
    client: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<EbsSnapshotSharing> {
    let mut pages = client
        .describe_snapshots()
        .owner_ids("self")
        .restorable_by_user_ids("all")
        .max_results(SNAPSHOT_PAGE)
        .into_paginator()
        .send();
    let mut public_snapshot_ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeSnapshots", None, &e))?;
        public_snapshot_ids.extend(
            page.snapshots()
                .iter()
                .filter_map(|s| s.snapshot_id().map(str::to_string)),
        );
    }
    public_snapshot_ids.sort();
    Ok(EbsSnapshotSharing {
        region: region.to_string(),
        public_snapshot_ids,
    })
}

/// The region's EBS snapshot and VPC Block Public Access settings: one call each. A failed
/// call leaves its setting unknown and is returned as an error.
pub async fn block_public_access(
    client: &aws_sdk_ec2::Client,
    region: &str,
) -> (Ec2BlockPublicAccess, Vec<ScanError>) {
    let (snapshot, vpc) = tokio::join!(
        client.get_snapshot_block_public_access_state().send(),
        client.describe_vpc_block_public_access_options().send(),
    );
    let mut errors = Vec::new();
    let snapshot_state = match snapshot {
        Ok(out) => out.state().map(|s| s.as_str().to_string()),
        Err(e) => {
            errors.push(scan_error(
                region,
                Service::Ec2,
                "GetSnapshotBlockPublicAccessState",
                None,
                &e,
            ));
            None
        }
    };
    let vpc_internet_gateway_block_mode = match vpc {
        Ok(out) => out
            .vpc_block_public_access_options()
            .and_then(|o| o.internet_gateway_block_mode())
            .map(|m| m.as_str().to_string()),
        Err(e) => {
            errors.push(scan_error(
                region,
                Service::Ec2,
                "DescribeVpcBlockPublicAccessOptions",
                None,
                &e,
            ));
            None
        }
    };
    let settings = Ec2BlockPublicAccess {
        region: region.to_string(),
        snapshot_state,
        vpc_internet_gateway_block_mode,
    };
    (settings, errors)
}
