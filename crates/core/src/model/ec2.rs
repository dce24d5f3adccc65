//! EC2 networking and storage resources beyond security groups, instances and volumes: VPCs
//! (with their flow logs), subnets, network ACLs, network interfaces, launch templates, and the
//! per-region public sharing of EBS snapshots.

use serde::{Deserialize, Serialize};

use super::Tags;

/// A VPC flow log attached to a VPC (subnet- and interface-level flow logs are not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLog {
    pub id: String,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: String,
    /// `FlowLogStatus`: `ACTIVE` when EC2 reports it (absent from some answers).
    pub status: Option<String>,
}

/// A VPC endpoint of a VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcEndpoint {
    /// e.g. `com.amazonaws.us-east-1.ssm`.
    pub service_name: String,
    /// `Interface`, `Gateway`, `GatewayLoadBalancer`, ...
    pub endpoint_type: String,
    /// `available`, `pending`, `deleted`, ...
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub is_default: bool,
    /// The VPC's flow logs; `None` when DescribeFlowLogs failed (unknown, never guessed).
    pub flow_logs: Option<Vec<FlowLog>>,
    /// The VPC's endpoints; `None` when DescribeVpcEndpoints failed.
    pub endpoints: Option<Vec<VpcEndpoint>>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub vpc_id: String,
    /// The default subnet of its Availability Zone (in the default VPC).
    pub default_for_az: bool,
    /// `MapPublicIpOnLaunch`: instances launched here get a public IPv4 address.
    pub map_public_ip_on_launch: bool,
    /// `AssignIpv6AddressOnCreation`: network interfaces created here get an IPv6 address.
    pub assign_ipv6_address_on_creation: bool,
    #[serde(default)]
    pub tags: Tags,
}

/// One rule of a network ACL, as DescribeNetworkAcls gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// `-1` (all) or a protocol number (`6` TCP, `17` UDP, ...).
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    /// `PortRange.From` / `To`; absent for protocol -1 (every port).
    pub port_from: Option<i32>,
    pub port_to: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAcl {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub vpc_id: String,
    /// The VPC's default network ACL (it cannot be deleted).
    pub is_default: bool,
    #[serde(default)]
    pub entries: Vec<NetworkAclEntry>,
    /// Subnets associated with the ACL.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    pub id: String,
    pub arn: String,
    pub region: String,
    /// `InterfaceType`: `interface`, `efa`, `branch`, `lambda`, `nat_gateway`, ...
    pub interface_type: String,
    /// `SourceDestCheck`, when EC2 reports it.
    pub source_dest_check: Option<bool>,
    /// `RequesterManaged`: created by an AWS service on the account's behalf.
    pub requester_managed: bool,
    pub attached_instance_id: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

/// A network interface a launch template configures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTemplateNetworkInterface {
    pub device_index: Option<i32>,
    pub associate_public_ip_address: Option<bool>,
}

/// An EBS volume of a launch template's block device mappings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTemplateEbs {
    pub device_name: Option<String>,
    /// `Encrypted` as the template gives it (`None`: not set by the template).
    pub encrypted: Option<bool>,
}

/// The launch template data of one version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTemplateData {
    pub metadata_http_tokens: Option<String>,
    pub metadata_http_endpoint: Option<String>,
    #[serde(default)]
    pub network_interfaces: Vec<LaunchTemplateNetworkInterface>,
    #[serde(default)]
    pub ebs_volumes: Vec<LaunchTemplateEbs>,
}

/// A launch template, judged on its default version (what a launch without a version uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTemplate {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub name: String,
    pub default_version: Option<i64>,
    pub data: LaunchTemplateData,
    #[serde(default)]
    pub tags: Tags,
}

/// The account's EBS snapshots in one region that anyone may restore (`createVolumePermission`
/// includes the group `all`). An account-level setting: Security Hub reports EC2.1 on the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EbsSnapshotSharing {
    pub region: String,
    #[serde(default)]
    pub public_snapshot_ids: Vec<String>,
}

/// The per-region Block Public Access settings of EC2: for EBS snapshots and for VPCs. A `None`
/// setting is one whose API call failed (unknown, never guessed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ec2BlockPublicAccess {
    pub region: String,
    /// GetSnapshotBlockPublicAccessState: `block-all-sharing`, `block-new-sharing` or `unblocked`.
    pub snapshot_state: Option<String>,
    /// DescribeVpcBlockPublicAccessOptions' `InternetGatewayBlockMode`: `off`,
    /// `block-bidirectional` or `block-ingress`.
    pub vpc_internet_gateway_block_mode: Option<String>,
}
