//! EC2 networking, one region at a time: VPCs with their flow logs and endpoints, subnets,
//! network ACLs and network interfaces. Each is one paginated list call per region (largest
//! pages); flow logs and endpoints are listed once per region and joined to their VPCs.

use std::collections::BTreeMap;

use compliance_core::model::{
    FlowLog, NetworkAcl, NetworkAclEntry, NetworkInterface, Subnet, Vpc, VpcEndpoint,
};
use compliance_core::{ScanError, Service};

use super::ec2::tags;
use crate::error::scan_error;

/// Largest pages EC2 allows for these calls.
const PAGE: i32 = 1000;

type Result<T> = std::result::Result<T, ScanError>;

/// What this module read in one region, and the calls that failed.
#[derive(Default)]
pub struct Network {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub network_acls: Vec<NetworkAcl>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub errors: Vec<ScanError>,
}

pub async fn collect(client: &aws_sdk_ec2::Client, region: &str, arn_prefix: &str) -> Network {
    let (vpcs, flow_logs, endpoints, subnets, acls, enis) = tokio::join!(
        vpcs(client, region, arn_prefix),
        flow_logs(client, region),
        vpc_endpoints(client, region),
        subnets(client, region, arn_prefix),
        network_acls(client, region, arn_prefix),
        network_interfaces(client, region, arn_prefix),
    );
    let mut out = Network::default();
    let mut flow_logs = match flow_logs {
        Ok(v) => Some(v),
        Err(e) => {
            out.errors.push(e);
            None
        }
    };
    let mut endpoints = match endpoints {
        Ok(v) => Some(v),
        Err(e) => {
            out.errors.push(e);
            None
        }
    };
    match vpcs {
        Ok(mut v) => {
            for vpc in &mut v {
                // A failed listing leaves every VPC's flow logs (endpoints) unknown.
                vpc.flow_logs = flow_logs
                    .as_mut()
                    .map(|by_vpc| by_vpc.remove(&vpc.id).unwrap_or_default());
                vpc.endpoints = endpoints
                    .as_mut()
                    .map(|by_vpc| by_vpc.remove(&vpc.id).unwrap_or_default());
            }
            out.vpcs = v;
        }
        Err(e) => out.errors.push(e),
    }
    match subnets {
        Ok(v) => out.subnets = v,
        Err(e) => out.errors.push(e),
    }
    match acls {
        Ok(v) => out.network_acls = v,
        Err(e) => out.errors.push(e),
    }
    match enis {
        Ok(v) => out.network_interfaces = v,
        Err(e) => out.errors.push(e),
    }
    out
}

async fn vpcs(client: &aws_sdk_ec2::Client, region: &str, arn_prefix: &str) -> Result<Vec<Vpc>> {
    let mut pages = client
        .describe_vpcs()
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| scan_error(region, Service::Ec2, "DescribeVpcs", None, &e))?;
        for vpc in page.vpcs() {
            let Some(id) = vpc.vpc_id() else { continue };
            out.push(Vpc {
                id: id.to_string(),
                arn: format!("{arn_prefix}:vpc/{id}"),
                region: region.to_string(),
                is_default: vpc.is_default().unwrap_or(false),
                flow_logs: None,
                endpoints: None,
                tags: tags(vpc.tags()),
            });
        }
    }
    Ok(out)
}

/// VPC-level flow logs by VPC id (subnet and interface flow logs are not VPC flow logging).
async fn flow_logs(
    client: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<BTreeMap<String, Vec<FlowLog>>> {
    let mut pages = client
        .describe_flow_logs()
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out: BTreeMap<String, Vec<FlowLog>> = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeFlowLogs", None, &e))?;
        for log in page.flow_logs() {
            let Some(resource) = log.resource_id().filter(|r| r.starts_with("vpc-")) else {
                continue;
            };
            out.entry(resource.to_string()).or_default().push(FlowLog {
                id: log.flow_log_id().unwrap_or_default().to_string(),
                traffic_type: log
                    .traffic_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                status: log.flow_log_status().map(str::to_string),
            });
        }
    }
    Ok(out)
}

async fn vpc_endpoints(
    client: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<BTreeMap<String, Vec<VpcEndpoint>>> {
    let mut pages = client
        .describe_vpc_endpoints()
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out: BTreeMap<String, Vec<VpcEndpoint>> = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeVpcEndpoints", None, &e))?;
        for endpoint in page.vpc_endpoints() {
            let Some(vpc) = endpoint.vpc_id() else {
                continue;
            };
            out.entry(vpc.to_string()).or_default().push(VpcEndpoint {
                service_name: endpoint.service_name().unwrap_or_default().to_string(),
                endpoint_type: endpoint
                    .vpc_endpoint_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                state: endpoint.state().map(|s| s.as_str().to_string()),
            });
        }
    }
    Ok(out)
}

async fn subnets(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<Subnet>> {
    let mut pages = client
        .describe_subnets()
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeSubnets", None, &e))?;
        for subnet in page.subnets() {
            let Some(id) = subnet.subnet_id() else {
                continue;
            };
            out.push(Subnet {
                id: id.to_string(),
                arn: subnet
                    .subnet_arn()
                    .map_or_else(|| format!("{arn_prefix}:subnet/{id}"), str::to_string),
                region: region.to_string(),
                vpc_id: subnet.vpc_id().unwrap_or_default().to_string(),
                default_for_az: subnet.default_for_az().unwrap_or(false),
                map_public_ip_on_launch: subnet.map_public_ip_on_launch().unwrap_or(false),
                assign_ipv6_address_on_creation: subnet
                    .assign_ipv6_address_on_creation()
                    .unwrap_or(false),
                tags: tags(subnet.tags()),
            });
        }
    }
    Ok(out)
}

async fn network_acls(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<NetworkAcl>> {
    let mut pages = client
        .describe_network_acls()
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| scan_error(region, Service::Ec2, "DescribeNetworkAcls", None, &e))?;
        for acl in page.network_acls() {
            let Some(id) = acl.network_acl_id() else {
                continue;
            };
            out.push(NetworkAcl {
                id: id.to_string(),
                arn: format!("{arn_prefix}:network-acl/{id}"),
                region: region.to_string(),
                vpc_id: acl.vpc_id().unwrap_or_default().to_string(),
                is_default: acl.is_default().unwrap_or(false),
                entries: acl
                    .entries()
                    .iter()
                    .map(|e| NetworkAclEntry {
                        rule_number: e.rule_number().unwrap_or_default(),
                        egress: e.egress().unwrap_or(false),
                        protocol: e.protocol().unwrap_or("-1").to_string(),
                        rule_action: e
                            .rule_action()
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                        cidr_block: e.cidr_block().map(str::to_string),
                        ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_string),
                        port_from: e.port_range().and_then(aws_sdk_ec2::types::PortRange::from),
                        port_to: e.port_range().and_then(aws_sdk_ec2::types::PortRange::to),
                    })
                    .collect(),
                subnet_ids: acl
                    .associations()
                    .iter()
                    .filter_map(|a| a.subnet_id().map(str::to_string))
                    .collect(),
                tags: tags(acl.tags()),
            });
        }
    }
    Ok(out)
}

async fn network_interfaces(
    client: &aws_sdk_ec2::Client,
    region: &str,
    arn_prefix: &str,
) -> Result<Vec<NetworkInterface>> {
    let mut pages = client
        .describe_network_interfaces()
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| scan_error(region, Service::Ec2, "DescribeNetworkInterfaces", None, &e))?;
        for eni in page.network_interfaces() {
            let Some(id) = eni.network_interface_id() else {
                continue;
            };
            out.push(NetworkInterface {
                id: id.to_string(),
                arn: format!("{arn_prefix}:network-interface/{id}"),
                region: region.to_string(),
                interface_type: eni
                    .interface_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                source_dest_check: eni.source_dest_check(),
                requester_managed: eni.requester_managed().unwrap_or(false),
                attached_instance_id: eni
                    .attachment()
                    .and_then(|a| a.instance_id())
                    .map(str::to_string),
                tags: tags(eni.tag_set()),
            });
        }
    }
    Ok(out)
}
