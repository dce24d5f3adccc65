//! EC2: security groups, instances, volumes and the EBS encryption default, one region at a time.

use aws_sdk_ec2::types::{IpPermission as SdkPermission, Tag};
use compliance_core::model::{EbsEncryptionDefault, Instance, IpPermission, SecurityGroup, Volume};
use compliance_core::{Inventory, Service};
use futures::future::BoxFuture;

use super::{partition, tags_from, Collected, Collector};
use crate::error::scan_error;
use crate::sdk::ClientFactory;

/// Largest pages EC2 allows, so an estate costs as few calls as possible.
const SG_PAGE: i32 = 1000;
const INSTANCE_PAGE: i32 = 1000;
const VOLUME_PAGE: i32 = 500;

pub struct Ec2Collector {
    factory: ClientFactory,
}

impl Ec2Collector {
    pub fn new(factory: ClientFactory) -> Self {
        Ec2Collector { factory }
    }
}

impl Collector for Ec2Collector {
    fn service(&self) -> Service {
        Service::Ec2
    }

    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected> {
        Box::pin(async move {
            let client = self.factory.ec2(region);
            let arn_prefix = format!("arn:{}:ec2:{region}:{account_id}", partition(region));
            let (sgs, instances, volumes, ebs_default, network, templates, sharing, bpa) = tokio::join!(
                security_groups(&client, region, &arn_prefix),
                instances(&client, region, &arn_prefix),
                volumes(&client, region, &arn_prefix),
                ebs_default(&client, region),
                super::ec2_network::collect(&client, region, &arn_prefix),
                super::ec2_storage::launch_templates(&client, region, &arn_prefix),
                super::ec2_storage::snapshot_sharing(&client, region),
                super::ec2_storage::block_public_access(&client, region),
            );
            let mut out = Collected {
                inventory: Inventory::new(account_id),
                errors: Vec::new(),
            };
            match sgs {
                Ok(v) => out.inventory.security_groups = v,
                Err(e) => out.errors.push(e),
            }
            match instances {
                Ok(v) => out.inventory.instances = v,
                Err(e) => out.errors.push(e),
            }
            match volumes {
                Ok(v) => out.inventory.volumes = v,
                Err(e) => out.errors.push(e),
            }
            match ebs_default {
                Ok(v) => out.inventory.ebs_encryption_defaults = vec![v],
                Err(e) => out.errors.push(e),
            }
            out.inventory.vpcs = network.vpcs;
            out.inventory.subnets = network.subnets;
            out.inventory.network_acls = network.network_acls;
            out.inventory.network_interfaces = network.network_interfaces;
            out.errors.extend(network.errors);
            match templates {
                Ok(v) => out.inventory.launch_templates = v,
                Err(e) => out.errors.push(e),
            }
            match sharing {
                Ok(v) => out.inventory.ebs_snapshot_sharing = vec![v],
                Err(e) => out.errors.push(e),
            }
            let (bpa, bpa_errors) = bpa;
            out.inventory.ec2_block_public_access = vec![bpa];
            out.errors.extend(bpa_errors);
            out
        })
    }
}

type Result<T> = std::result::Result<T, compliance_core::ScanError>;

pub(super) fn tags(tags: &[Tag]) -> compliance_core::model::Tags {
    tags_from(tags.iter().map(|t| (t.key(), t.value())))
}

fn permission(p: &SdkPermission) -> IpPermission {
    IpPermission {
        protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|r| r.prefix_list_id().map(str::to_string))
            .collect(),
        referenced_group_ids: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|r| r.group_id().map(str::to_string))
            .collect(),
    }
}

async fn security_groups(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<SecurityGroup>> {
    let mut pages = client
        .describe_security_groups()
        .max_results(SG_PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeSecurityGroups", None, &e))?;
        for sg in page.security_groups() {
            let Some(id) = sg.group_id() else { continue };
            out.push(SecurityGroup {
                id: id.to_string(),
                name: sg.group_name().unwrap_or_default().to_string(),
                arn: format!("{arn_prefix}:security-group/{id}"),
                region: region.to_string(),
                vpc_id: sg.vpc_id().map(str::to_string),
                ingress: sg.ip_permissions().iter().map(permission).collect(),
                egress: sg.ip_permissions_egress().iter().map(permission).collect(),
                tags: tags(sg.tags()),
            });
        }
    }
    Ok(out)
}

async fn instances(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<Instance>> {
    let mut pages = client
        .describe_instances()
        .max_results(INSTANCE_PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    // The "now" of EC2.4 (how long a stopped instance has been stopped).
    let read_at = compliance_core::time::rfc3339(std::time::SystemTime::now());
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeInstances", None, &e))?;
        for instance in page
            .reservations()
            .iter()
            .flat_map(aws_sdk_ec2::types::Reservation::instances)
        {
            let Some(id) = instance.instance_id() else {
                continue;
            };
            let metadata = instance.metadata_options();
            out.push(Instance {
                id: id.to_string(),
                arn: format!("{arn_prefix}:instance/{id}"),
                region: region.to_string(),
                state: instance
                    .state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_default(),
                metadata_http_tokens: metadata
                    .and_then(|m| m.http_tokens())
                    .map(|t| t.as_str().to_string()),
                metadata_http_endpoint: metadata
                    .and_then(|m| m.http_endpoint())
                    .map(|e| e.as_str().to_string()),
                public_ip: instance.public_ip_address().map(str::to_string),
                state_transition_reason: instance.state_transition_reason().map(str::to_string),
                launch_time: instance.launch_time().and_then(rfc3339),
                read_at: Some(read_at.clone()),
                network_interface_count: instance.network_interfaces().len(),
                virtualization_type: instance
                    .virtualization_type()
                    .map(|v| v.as_str().to_string()),
                tags: tags(instance.tags()),
            });
        }
    }
    Ok(out)
}

/// An SDK timestamp as RFC 3339 (UTC, seconds).
fn rfc3339(at: &aws_sdk_ec2::primitives::DateTime) -> Option<String> {
    let secs = u64::try_from(at.secs()).ok()?;
    Some(compliance_core::time::rfc3339(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
    ))
}

async fn volumes(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<Volume>> {
    let mut pages = client
        .describe_volumes()
        .max_results(VOLUME_PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeVolumes", None, &e))?;
        for volume in page.volumes() {
            let Some(id) = volume.volume_id() else {
                continue;
            };
            out.push(Volume {
                id: id.to_string(),
                arn: format!("{arn_prefix}:volume/{id}"),
                region: region.to_string(),
                encrypted: volume.encrypted().unwrap_or(false),
                state: volume
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                attached_instance_ids: volume
                    .attachments()
                    .iter()
                    .filter_map(|a| a.instance_id().map(str::to_string))
                    .collect(),
                tags: tags(volume.tags()),
            });
        }
    }
    Ok(out)
}

async fn ebs_default(client: &aws_sdk_ec2::Client, region: &str) -> Result<EbsEncryptionDefault> {
    let out = client
        .get_ebs_encryption_by_default()
        .send()
        .await
        .map_err(|e| scan_error(region, Service::Ec2, "GetEbsEncryptionByDefault", None, &e))?;
    Ok(EbsEncryptionDefault {
        region: region.to_string(),
        enabled: out.ebs_encryption_by_default().unwrap_or(false),
    })
}
