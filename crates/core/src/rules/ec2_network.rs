//! EC2 network checks: VPC flow logs and endpoints, subnets, network ACLs, network interfaces,
//! and the security-group ports Security Hub EC2.18 authorizes.

use serde_json::{json, Value};

use super::controls::{NIST_NETWORK_BOUNDARY, NIST_PUBLIC_ACCESS};
use super::ec2::internet_sources;
use super::{Check, Context, Controls, IntegerListParameter, Parameter, Rule, StringListParameter};
use crate::finding::{Outcome, Severity};
use crate::model::{
    Ec2BlockPublicAccess, IpPermission, NetworkAcl, NetworkAclEntry, NetworkInterface,
    SecurityGroup, Subnet, Vpc,
};

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    EC2_SG_AUTHORIZED_PORTS,
    EC2_VPC_FLOW_LOGS,
    EC2_VPC_ENDPOINT_EC2,
    EC2_VPC_ENDPOINT_ECR_API,
    EC2_VPC_ENDPOINT_ECR_DKR,
    EC2_VPC_ENDPOINT_SSM,
    EC2_VPC_ENDPOINT_SSM_CONTACTS,
    EC2_VPC_ENDPOINT_SSM_INCIDENTS,
    EC2_SUBNET_AUTO_PUBLIC_IP,
    EC2_NACL_UNUSED,
    EC2_NACL_OPEN_ADMIN_PORTS,
    EC2_DEFAULT_NACL_OPEN_ADMIN_PORTS,
    EC2_ENI_SOURCE_DEST_CHECK,
    EC2_VPC_BLOCK_PUBLIC_ACCESS,
];

// ------------------------------------------------------------------ EC2.18

/// Security Hub EC2.18's `authorizedTcpPorts`.
pub const AUTHORIZED_TCP_PORTS: IntegerListParameter = IntegerListParameter {
    rule_id: "ec2_sg_authorized_ports",
    name: "authorizedTcpPorts",
    description: "List of authorized TCP ports",
    default: &[80, 443],
    min: 1,
    max: 65535,
    max_items: 32,
};

/// Security Hub EC2.18's `authorizedUdpPorts` (no default: no UDP port is authorized).
pub const AUTHORIZED_UDP_PORTS: IntegerListParameter = IntegerListParameter {
    rule_id: "ec2_sg_authorized_ports",
    name: "authorizedUdpPorts",
    description: "List of authorized UDP ports",
    default: &[],
    min: 1,
    max: 65535,
    max_items: 32,
};

pub const EC2_SG_AUTHORIZED_PORTS: Rule = Rule {
    id: "ec2_sg_authorized_ports",
    title: "Security group allows unrestricted incoming traffic on unauthorized ports",
    severity: Severity::High,
    rationale: "Every port open to 0.0.0.0/0 or ::/0 beyond the few a workload must serve publicly (by default TCP 80 and 443) widens the attack surface.",
    remediation: "Remove or narrow the internet-wide rules for ports outside authorizedTcpPorts / authorizedUdpPorts.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-18",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.18"],
        security_hub: &["EC2.18"],
        nist_800_53_r5: NIST_NETWORK_BOUNDARY,
        ..Controls::NONE
    },
    parameters: &[
        Parameter::IntegerList(AUTHORIZED_TCP_PORTS),
        Parameter::IntegerList(AUTHORIZED_UDP_PORTS),
    ],
    check: Check::SecurityGroup(sg_authorized_ports),
};

/// Whether `from..=to` holds a port that `authorized` does not list.
fn has_unauthorized_port(from: i64, to: i64, authorized: &[i64]) -> bool {
    if from > to {
        return false;
    }
    let covered = authorized
        .iter()
        .filter(|p| (from..=to).contains(*p))
        .count();
    i64::try_from(covered).map_or(true, |covered| covered < to - from + 1)
}

/// The TCP and UDP port ranges a permission opens: protocol -1 opens every port of both.
fn tcp_udp_ranges(perm: &IpPermission) -> Vec<(&'static str, i64, i64)> {
    let range = || {
        (
            i64::from(perm.from_port.unwrap_or(0).max(0)),
            i64::from(perm.to_port.unwrap_or(65535).max(0)),
        )
    };
    match perm.protocol.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => vec![("tcp", 0, 65535), ("udp", 0, 65535)],
        "tcp" | "6" => {
            let (from, to) = range();
            vec![("tcp", from, to)]
        }
        "udp" | "17" => {
            let (from, to) = range();
            vec![("udp", from, to)]
        }
        // ICMP and other protocols have no ports to authorize.
        _ => Vec::new(),
    }
}

pub fn sg_authorized_ports(sg: &SecurityGroup, ctx: &Context) -> Outcome {
    let tcp = ctx.parameters.integer_list(&AUTHORIZED_TCP_PORTS);
    let udp = ctx.parameters.integer_list(&AUTHORIZED_UDP_PORTS);
    let mut unauthorized: Vec<Value> = Vec::new();
    for perm in &sg.ingress {
        let sources = internet_sources(perm);
        if sources.is_empty() {
            continue;
        }
        let reaches_unauthorized = tcp_udp_ranges(perm).into_iter().any(|(proto, from, to)| {
            has_unauthorized_port(from, to, if proto == "tcp" { &tcp } else { &udp })
        });
        if reaches_unauthorized {
            for source in sources {
                unauthorized.push(json!({
                    "protocol": perm.protocol,
                    "from_port": perm.from_port,
                    "to_port": perm.to_port,
                    "source": source,
                }));
            }
        }
    }
    if unauthorized.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "unauthorized_permissions": unauthorized,
            "authorized_tcp_ports": tcp,
            "authorized_udp_ports": udp,
        }))
    }
}

// ------------------------------------------------------------------- EC2.6

pub const EC2_VPC_FLOW_LOGS: Rule = Rule {
    id: "ec2_vpc_flow_logs",
    title: "VPC has no flow log capturing rejected traffic",
    severity: Severity::Medium,
    rationale: "Without flow logs of rejected packets there is no record of probes and blocked connections to investigate.",
    remediation: "Create a flow log for the VPC with traffic type REJECT or ALL (to CloudWatch Logs or S3).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-6",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.6"],
        security_hub: &["EC2.6"],
        cis_v1_4_0: &["3.9"],
        cis_v3_0_0: &["3.7"],
        cis_v5_0_0: &["3.7"],
        pci_dss: &["v3.2.1/10.3.3", "v3.2.1/10.3.4", "v3.2.1/10.3.5", "v3.2.1/10.3.6"],
        nist_800_53_r5: &[
            "AC-4(26)", "AU-12", "AU-2", "AU-3", "AU-6(3)", "AU-6(4)", "CA-7", "SI-7(8)",
        ],
    },
    parameters: &[],
    check: Check::Vpc(vpc_flow_logs),
};

/// EC2.6 (`vpc-flow-logs-enabled`, trafficType REJECT): an active VPC-level flow log whose
/// traffic type is REJECT, or ALL (which includes rejected traffic).
pub fn vpc_flow_logs(vpc: &Vpc, _: &Context) -> Outcome {
    let Some(flow_logs) = &vpc.flow_logs else {
        return Outcome::NotApplicable;
    };
    let logs_rejects = flow_logs.iter().any(|f| {
        matches!(
            f.traffic_type.to_ascii_uppercase().as_str(),
            "REJECT" | "ALL"
        ) && f
            .status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE"))
    });
    if logs_rejects {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "flow_logs": flow_logs
                .iter()
                .map(|f| json!({"id": f.id, "traffic_type": f.traffic_type, "status": f.status}))
                .collect::<Vec<_>>(),
        }))
    }
}

// ---------------------------------------------------- EC2.10, EC2.55-EC2.60

/// NIST 800-53 r5 requirements shared by EC2.10 and EC2.55 to EC2.60 (private API access).
const NIST_VPC_ENDPOINTS: &[&str] = &[
    "AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)",
    "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)",
];

/// Endpoint states that no longer serve the VPC.
const GONE: &[&str] = &["deleted", "deleting", "failed", "rejected", "expired"];

/// `vpc-endpoint-enabled` for `service` (the service name after `com.amazonaws.<region>.`):
/// the VPC has an endpoint for it, of type Interface when `interface_only`.
fn vpc_endpoint(vpc: &Vpc, service: &str, interface_only: bool) -> Outcome {
    let Some(endpoints) = &vpc.endpoints else {
        return Outcome::NotApplicable;
    };
    let prefix = format!("com.amazonaws.{}.", vpc.region);
    let found = endpoints.iter().any(|e| {
        e.service_name.strip_prefix(&prefix) == Some(service)
            && (!interface_only || e.endpoint_type.eq_ignore_ascii_case("Interface"))
            && !e
                .state
                .as_deref()
                .is_some_and(|s| GONE.contains(&s.to_ascii_lowercase().as_str()))
    });
    if found {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "missing_endpoint_service": format!("{prefix}{service}"),
            "endpoint_services": endpoints.iter().map(|e| e.service_name.as_str()).collect::<Vec<_>>(),
        }))
    }
}

macro_rules! vpc_endpoint_rule {
    ($name:ident, $check:ident, $id:literal, $control:literal, $anchor:literal, $service:literal, $label:literal, $interface_only:literal) => {
        pub const $name: Rule = Rule {
            id: $id,
            title: concat!("VPC has no ", $label, " endpoint"),
            severity: Severity::Medium,
            rationale: concat!(
                "Without a VPC endpoint, calls to ",
                $label,
                " leave the AWS network through an internet or NAT gateway."
            ),
            remediation: concat!(
                "Create an interface VPC endpoint for com.amazonaws.<region>.",
                $service,
                " in the VPC."
            ),
            remediation_url: concat!(
                "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#",
                $anchor
            ),
            runbook: None,
            controls: Controls {
                aws_fsbp: &[$control],
                security_hub: &[$control],
                nist_800_53_r5: NIST_VPC_ENDPOINTS,
                ..Controls::NONE
            },
            parameters: &[],
            check: Check::Vpc($check),
        };

        pub fn $check(vpc: &Vpc, _: &Context) -> Outcome {
            vpc_endpoint(vpc, $service, $interface_only)
        }
    };
}

vpc_endpoint_rule!(
    EC2_VPC_ENDPOINT_EC2,
    vpc_endpoint_ec2,
    "ec2_vpc_endpoint_ec2",
    "EC2.10",
    "ec2-10",
    "ec2",
    "Amazon EC2",
    false
);
vpc_endpoint_rule!(
    EC2_VPC_ENDPOINT_ECR_API,
    vpc_endpoint_ecr_api,
    "ec2_vpc_endpoint_ecr_api",
    "EC2.55",
    "ec2-55",
    "ecr.api",
    "ECR API",
    true
);
vpc_endpoint_rule!(
    EC2_VPC_ENDPOINT_ECR_DKR,
    vpc_endpoint_ecr_dkr,
    "ec2_vpc_endpoint_ecr_dkr",
    "EC2.56",
    "ec2-56",
    "ecr.dkr",
    "Docker Registry (ECR)",
    true
);
vpc_endpoint_rule!(
    EC2_VPC_ENDPOINT_SSM,
    vpc_endpoint_ssm,
    "ec2_vpc_endpoint_ssm",
    "EC2.57",
    "ec2-57",
    "ssm",
    "Systems Manager",
    true
);
vpc_endpoint_rule!(
    EC2_VPC_ENDPOINT_SSM_CONTACTS,
    vpc_endpoint_ssm_contacts,
    "ec2_vpc_endpoint_ssm_contacts",
    "EC2.58",
    "ec2-58",
    "ssm-contacts",
    "Systems Manager Incident Manager Contacts",
    true
);
vpc_endpoint_rule!(
    EC2_VPC_ENDPOINT_SSM_INCIDENTS,
    vpc_endpoint_ssm_incidents,
    "ec2_vpc_endpoint_ssm_incidents",
    "EC2.60",
    "ec2-60",
    "ssm-incidents",
    "Systems Manager Incident Manager",
    true
);

// ------------------------------------------------------------------ EC2.15

pub const EC2_SUBNET_AUTO_PUBLIC_IP: Rule = Rule {
    id: "ec2_subnet_auto_public_ip",
    title: "Subnet automatically assigns public IP addresses",
    severity: Severity::Medium,
    rationale: "Every instance launched into the subnet becomes reachable from the internet unless its launch says otherwise.",
    remediation: "Turn off auto-assign public IPv4 (MapPublicIpOnLaunch) and IPv6 (AssignIpv6AddressOnCreation) on the subnet.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-15",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.15"],
        security_hub: &["EC2.15"],
        pci_dss: &["v4.0.1/1.4.4"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Subnet(subnet_auto_public_ip),
};

/// EC2.15 fails when the subnet auto-assigns public IPv4 or IPv6 addresses.
pub fn subnet_auto_public_ip(subnet: &Subnet, _: &Context) -> Outcome {
    if subnet.map_public_ip_on_launch || subnet.assign_ipv6_address_on_creation {
        Outcome::fail(json!({
            "map_public_ip_on_launch": subnet.map_public_ip_on_launch,
            "assign_ipv6_address_on_creation": subnet.assign_ipv6_address_on_creation,
            "default_for_az": subnet.default_for_az,
        }))
    } else {
        Outcome::Pass
    }
}

// ------------------------------------------------------------------ EC2.16

pub const EC2_NACL_UNUSED: Rule = Rule {
    id: "ec2_nacl_unused",
    title: "Network ACL is not associated with any subnet",
    severity: Severity::Low,
    rationale: "Unused network ACLs clutter the inventory and can be attached later with rules nobody reviewed.",
    remediation: "Delete the network ACL, or associate it with the subnets it was made for.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-16",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.16"],
        security_hub: &["EC2.16"],
        pci_dss: &["v4.0.1/1.2.7"],
        nist_800_53_r5: &["CM-8(1)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::NetworkAcl(nacl_unused),
};

/// EC2.16: a network ACL without subnets fails; the default network ACL is not judged.
pub fn nacl_unused(acl: &NetworkAcl, _: &Context) -> Outcome {
    if acl.is_default {
        Outcome::NotApplicable
    } else if acl.subnet_ids.is_empty() {
        Outcome::fail(json!({ "associated_subnets": 0, "vpc_id": acl.vpc_id }))
    } else {
        Outcome::Pass
    }
}

// ------------------------------------------------------------------ EC2.21

/// Remote administration ports (SSH, RDP).
const ADMIN_PORTS: [i32; 2] = [22, 3389];

fn is_internet(cidr: Option<&str>) -> Option<&str> {
    cidr.filter(|c| {
        c.trim()
            .rsplit_once('/')
            .is_some_and(|(_, len)| len.trim() == "0")
    })
}

/// Whether the entry matches TCP traffic to `port` (protocol -1, or TCP with its range;
/// UDP (17) and other protocols never reach a TCP port).
fn entry_matches_tcp_port(entry: &NetworkAclEntry, port: i32) -> bool {
    match entry.protocol.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => true,
        "6" | "tcp" => {
            let from = entry.port_from.unwrap_or(0);
            let to = entry.port_to.unwrap_or(65535);
            (from..=to).contains(&port)
        }
        _ => false,
    }
}

/// Inbound TCP traffic from the whole internet (IPv4 `0.0.0.0/0`, IPv6 `::/0`) to the admin
/// ports that the ACL lets in. Network ACL rules are evaluated in rule-number order and the
/// first match decides, so a lower-numbered deny from /0 closes the port for that address
/// family; rules for narrower CIDRs neither open nor close it to the whole internet.
pub fn nacl_open_admin_ports(acl: &NetworkAcl) -> Vec<Value> {
    let mut ingress: Vec<&NetworkAclEntry> = acl.entries.iter().filter(|e| !e.egress).collect();
    ingress.sort_by_key(|e| e.rule_number);
    let mut open = Vec::new();
    for port in ADMIN_PORTS {
        for family in [false, true] {
            let first = ingress.iter().find_map(|e| {
                let cidr = if family {
                    e.ipv6_cidr_block.as_deref()
                } else {
                    e.cidr_block.as_deref()
                };
                is_internet(cidr)
                    .filter(|_| entry_matches_tcp_port(e, port))
                    .map(|source| (*e, source))
            });
            if let Some((entry, source)) = first {
                if entry.rule_action.eq_ignore_ascii_case("allow") {
                    open.push(json!({
                        "port": port,
                        "source": source,
                        "rule_number": entry.rule_number,
                        "protocol": entry.protocol,
                    }));
                }
            }
        }
    }
    open
}

fn nacl_admin_outcome(acl: &NetworkAcl) -> Outcome {
    let open = nacl_open_admin_ports(acl);
    if open.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "open_entries": open }))
    }
}

const NACL_ADMIN_CIS_V1_4_0: &[&str] = &["5.1"];
const NACL_ADMIN_CIS_V3_0_0: &[&str] = &["5.1"];
const NACL_ADMIN_CIS_V5_0_0: &[&str] = &["5.2"];

pub const EC2_NACL_OPEN_ADMIN_PORTS: Rule = Rule {
    id: "ec2_nacl_open_admin_ports",
    title: "Network ACL allows ingress from the internet to port 22 or 3389",
    severity: Severity::Medium,
    rationale: "SSH and RDP reachable from anywhere at the subnet boundary leave only the security groups between the internet and remote administration.",
    remediation: "Add a lower-numbered deny for TCP 22 and 3389 from 0.0.0.0/0 and ::/0, or narrow the allow rule's source.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-21",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.21"],
        security_hub: &["EC2.21"],
        cis_v1_4_0: NACL_ADMIN_CIS_V1_4_0,
        cis_v3_0_0: NACL_ADMIN_CIS_V3_0_0,
        cis_v5_0_0: NACL_ADMIN_CIS_V5_0_0,
        pci_dss: &["v4.0.1/1.3.1"],
        nist_800_53_r5: &[
            "AC-4(21)", "CA-9(1)", "CM-2", "CM-2(2)", "CM-7", "SC-7", "SC-7(21)", "SC-7(5)",
        ],
    },
    parameters: &[],
    check: Check::NetworkAcl(nacl_open_admin),
};

/// EC2.21 as Security Hub runs it: it does not judge default network ACLs (see
/// `ec2_default_nacl_open_admin_ports` for those, which the CIS recommendation covers).
pub fn nacl_open_admin(acl: &NetworkAcl, _: &Context) -> Outcome {
    if acl.is_default {
        Outcome::NotApplicable
    } else {
        nacl_admin_outcome(acl)
    }
}

pub const EC2_DEFAULT_NACL_OPEN_ADMIN_PORTS: Rule = Rule {
    id: "ec2_default_nacl_open_admin_ports",
    title: "Default network ACL allows ingress from the internet to port 22 or 3389",
    severity: Severity::Medium,
    rationale: "A VPC's default network ACL allows all inbound traffic, so every subnet left on it exposes SSH and RDP at the subnet boundary.",
    remediation: "Add deny rules for TCP 22 and 3389 from 0.0.0.0/0 and ::/0 to the default network ACL, or associate the subnets with a restrictive ACL.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-21",
    runbook: None,
    // Security Hub's EC2.21 skips default ACLs; the CIS recommendation covers every ACL.
    controls: Controls {
        cis_v1_4_0: NACL_ADMIN_CIS_V1_4_0,
        cis_v3_0_0: NACL_ADMIN_CIS_V3_0_0,
        cis_v5_0_0: NACL_ADMIN_CIS_V5_0_0,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::NetworkAcl(default_nacl_open_admin),
};

pub fn default_nacl_open_admin(acl: &NetworkAcl, _: &Context) -> Outcome {
    if acl.is_default {
        nacl_admin_outcome(acl)
    } else {
        Outcome::NotApplicable
    }
}

// ----------------------------------------------------------------- EC2.180

/// The interface types EC2.180 judges (user-managed ENIs).
const SOURCE_DEST_CHECKED_TYPES: &[&str] = &[
    "aws_codestar_connections_managed",
    "branch",
    "efa",
    "interface",
    "lambda",
    "quicksight",
];

pub const EC2_ENI_SOURCE_DEST_CHECK: Rule = Rule {
    id: "ec2_eni_source_dest_check",
    title: "Network interface has source/destination checking disabled",
    severity: Severity::Medium,
    rationale: "Without the check the interface accepts and forwards traffic not addressed to it, which enables spoofing and unintended routing.",
    remediation: "Enable source/destination checking on the interface (ModifyNetworkInterfaceAttribute); use a NAT gateway instead of a NAT instance.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-180",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.180"],
        security_hub: &["EC2.180"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::NetworkInterface(eni_source_dest_check),
};

pub fn eni_source_dest_check(eni: &NetworkInterface, _: &Context) -> Outcome {
    if !SOURCE_DEST_CHECKED_TYPES.contains(&eni.interface_type.as_str()) {
        return Outcome::NotApplicable;
    }
    match eni.source_dest_check {
        Some(true) => Outcome::Pass,
        Some(false) => Outcome::fail(json!({
            "source_dest_check": false,
            "interface_type": eni.interface_type,
            "attached_instance_id": eni.attached_instance_id,
        })),
        None => Outcome::NotApplicable,
    }
}

// ----------------------------------------------------------------- EC2.172

/// The `InternetGatewayBlockMode` values that block internet gateway traffic.
const BLOCKING_MODES: &[&str] = &["block-bidirectional", "block-ingress"];

/// Security Hub EC2.172's `vpcBpaInternetGatewayBlockMode` (an enum there, no default): the one
/// mode required; empty, either blocking mode passes.
pub const VPC_BPA_INTERNET_GATEWAY_BLOCK_MODE: StringListParameter = StringListParameter {
    rule_id: "ec2_vpc_block_public_access",
    name: "vpcBpaInternetGatewayBlockMode",
    description: "String value of the VPC BPA options mode",
    default: &[],
    allowed: BLOCKING_MODES,
    max_items: 1,
};

pub const EC2_VPC_BLOCK_PUBLIC_ACCESS: Rule = Rule {
    id: "ec2_vpc_block_public_access",
    title: "VPC Block Public Access does not block internet gateway traffic in the region",
    severity: Severity::Medium,
    rationale: "Account-wide VPC Block Public Access keeps every VPC and subnet of the region off the internet unless excluded on purpose.",
    remediation: "Turn on VPC Block Public Access in the region in bidirectional or ingress-only mode (ModifyVpcBlockPublicAccessOptions), with exclusions for the VPCs that must be reachable.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-172",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.172"],
        security_hub: &["EC2.172"],
        ..Controls::NONE
    },
    parameters: &[Parameter::StringList(VPC_BPA_INTERNET_GATEWAY_BLOCK_MODE)],
    check: Check::Ec2BlockPublicAccess(vpc_block_public_access),
};

/// EC2.172: `InternetGatewayBlockMode` must be `block-bidirectional` or `block-ingress`, or the
/// mode `vpcBpaInternetGatewayBlockMode` names when it is set.
pub fn vpc_block_public_access(settings: &Ec2BlockPublicAccess, ctx: &Context) -> Outcome {
    let Some(mode) = settings.vpc_internet_gateway_block_mode.as_deref() else {
        return Outcome::NotApplicable;
    };
    let required = ctx
        .parameters
        .string_list(&VPC_BPA_INTERNET_GATEWAY_BLOCK_MODE);
    let compliant = if required.is_empty() {
        BLOCKING_MODES.contains(&mode)
    } else {
        required.iter().any(|r| r == mode)
    };
    if compliant {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "internet_gateway_block_mode": mode, "required_modes": required }))
    }
}

#[cfg(test)]
mod tests;
