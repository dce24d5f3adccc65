//! EC2 checks: security groups, instances, EBS volumes and the EBS encryption default.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::controls::{
    CIS_V1_4_0_ADMIN_PORTS, CIS_V3_0_0_ADMIN_PORTS, NIST_ENCRYPTION_AT_REST, NIST_NETWORK_BOUNDARY,
    NIST_OPEN_PORTS, NIST_PUBLIC_ACCESS,
};
use super::runbook::{RemediationEvidence, Runbook};
use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::{EbsEncryptionDefault, Instance, IpPermission, SecurityGroup, Volume};

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[
    EC2_SG_OPEN_SSH,
    EC2_SG_OPEN_RDP,
    EC2_SG_OPEN_ALL_PORTS,
    EC2_SG_OPEN_HIGH_RISK_PORTS,
    EC2_DEFAULT_SG_RESTRICTS_ALL,
    EC2_INSTANCE_IMDSV2,
    EC2_INSTANCE_PUBLIC_IP,
    EC2_EBS_VOLUME_ENCRYPTED,
    EC2_EBS_DEFAULT_ENCRYPTION,
];

pub const SSH_PORT: u16 = 22;
pub const RDP_PORT: u16 = 3389;

/// The ports Security Hub control EC2.19 treats as high risk.
pub const HIGH_RISK_PORTS: &[u16] = &[
    20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500,
    5601, 8080, 8088, 8888, 9200, 9300,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    All,
    Tcp,
    Udp,
    Other,
}

fn protocol(perm: &IpPermission) -> Protocol {
    match perm.protocol.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => Protocol::All,
        "tcp" | "6" => Protocol::Tcp,
        "udp" | "17" => Protocol::Udp,
        _ => Protocol::Other,
    }
}

/// The port range a TCP/UDP permission opens (EC2 omits ports for "all").
fn port_range(perm: &IpPermission) -> (i32, i32) {
    (
        perm.from_port.unwrap_or(0).max(0),
        perm.to_port.unwrap_or(65535).max(0),
    )
}

/// Whether the permission lets TCP traffic reach `port` (protocol -1 opens every port).
/// Remote administration and database services listen on TCP, so UDP does not count here.
pub fn opens_tcp_port(perm: &IpPermission, port: u16) -> bool {
    match protocol(perm) {
        Protocol::All => true,
        Protocol::Tcp => {
            let (from, to) = port_range(perm);
            (from..=to).contains(&i32::from(port))
        }
        Protocol::Udp | Protocol::Other => false,
    }
}

/// Every protocol, or the whole TCP or UDP port range.
pub fn opens_all_ports(perm: &IpPermission) -> bool {
    match protocol(perm) {
        Protocol::All => true,
        Protocol::Tcp | Protocol::Udp => port_range(perm) == (0, 65535),
        Protocol::Other => false,
    }
}

/// Sources of a permission that are the whole internet: any IPv4 or IPv6 CIDR of length 0.
/// Prefix lists and referenced security groups are bounded sets of peers, never "the internet".
pub fn internet_sources(perm: &IpPermission) -> Vec<&str> {
    perm.ipv4_ranges
        .iter()
        .chain(perm.ipv6_ranges.iter())
        .map(String::as_str)
        .filter(|cidr| {
            cidr.trim()
                .rsplit_once('/')
                .is_some_and(|(_, len)| len.trim() == "0")
        })
        .collect()
}

/// One internet source of an ingress permission: what the evidence lists and the runbook revokes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPermission {
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// A CIDR of length 0 (`0.0.0.0/0`, `::/0`).
    pub source: String,
}

/// Ingress permissions open to the internet that satisfy `exposes`, one entry per source.
fn open_ingress(
    sg: &SecurityGroup,
    exposes: impl Fn(&IpPermission) -> bool,
) -> Vec<OpenPermission> {
    sg.ingress
        .iter()
        .filter(|perm| exposes(perm))
        .flat_map(|perm| {
            internet_sources(perm)
                .into_iter()
                .map(move |source| OpenPermission {
                    protocol: perm.protocol.clone(),
                    from_port: perm.from_port,
                    to_port: perm.to_port,
                    source: source.to_string(),
                })
        })
        .collect()
}

/// A failure the security-group runbook fixes by revoking `open`; `evidence` lists it too.
fn open_ingress_failure(evidence: Value, open: Vec<OpenPermission>) -> Outcome {
    Outcome::fail_with(evidence, RemediationEvidence::OpenIngress(open))
}

fn port_outcome(sg: &SecurityGroup, port: u16) -> Outcome {
    let open = open_ingress(sg, |p| opens_tcp_port(p, port));
    if open.is_empty() {
        Outcome::Pass
    } else {
        open_ingress_failure(json!({ "port": port, "open_permissions": open }), open)
    }
}

pub const EC2_SG_OPEN_SSH: Rule = Rule {
    id: "ec2_sg_open_ssh",
    title: "Security group allows SSH (TCP 22) from the internet",
    severity: Severity::High,
    rationale: "SSH open to 0.0.0.0/0 or ::/0 exposes hosts to brute force and exploitation of the daemon.",
    remediation: "Restrict the source to known CIDRs or a prefix list, or use Session Manager instead of SSH.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-13",
    runbook: Some(Runbook::RestrictSecurityGroup),
    controls: Controls {
        aws_fsbp: &["EC2.19"],
        security_hub: &["EC2.13", "EC2.19", "EC2.53", "EC2.54"],
        cis_v1_4_0: CIS_V1_4_0_ADMIN_PORTS,
        cis_v3_0_0: CIS_V3_0_0_ADMIN_PORTS,
        cis_v5_0_0: super::controls::CIS_V5_0_0_ADMIN_PORTS,
        pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/2.2.2", "v4.0.1/1.3.1"],
        nist_800_53_r5: NIST_OPEN_PORTS,
    },
    parameters: &[],
    check: Check::SecurityGroup(sg_open_ssh),
};

pub fn sg_open_ssh(sg: &SecurityGroup, _: &Context) -> Outcome {
    port_outcome(sg, SSH_PORT)
}

pub const EC2_SG_OPEN_RDP: Rule = Rule {
    id: "ec2_sg_open_rdp",
    title: "Security group allows RDP (TCP 3389) from the internet",
    severity: Severity::High,
    rationale: "RDP open to the internet is a leading ransomware entry point.",
    remediation:
        "Restrict the source to known CIDRs or a prefix list, or use Fleet Manager / a bastion.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-14",
    runbook: Some(Runbook::RestrictSecurityGroup),
    controls: Controls {
        aws_fsbp: &["EC2.19"],
        security_hub: &["EC2.14", "EC2.19", "EC2.53", "EC2.54"],
        cis_v1_4_0: CIS_V1_4_0_ADMIN_PORTS,
        cis_v3_0_0: CIS_V3_0_0_ADMIN_PORTS,
        cis_v5_0_0: super::controls::CIS_V5_0_0_ADMIN_PORTS,
        pci_dss: &["v4.0.1/1.3.1"],
        nist_800_53_r5: NIST_OPEN_PORTS,
    },
    parameters: &[],
    check: Check::SecurityGroup(sg_open_rdp),
};

pub fn sg_open_rdp(sg: &SecurityGroup, _: &Context) -> Outcome {
    port_outcome(sg, RDP_PORT)
}

pub const EC2_SG_OPEN_ALL_PORTS: Rule = Rule {
    id: "ec2_sg_open_all_ports",
    title: "Security group allows all ports or all protocols from the internet",
    severity: Severity::Critical,
    rationale: "Every service on the attached hosts is reachable from anywhere.",
    remediation: "Replace the rule with rules for the specific ports the workload serves.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-18",
    runbook: Some(Runbook::RestrictSecurityGroup),
    // Not EC2.18 (`ec2_sg_authorized_ports` implements it) nor EC2.19 (the SSH, RDP and
    // high-risk port rules do): "all ports" is stricter than either control.
    controls: Controls {
        cis_v1_4_0: CIS_V1_4_0_ADMIN_PORTS,
        cis_v3_0_0: CIS_V3_0_0_ADMIN_PORTS,
        cis_v5_0_0: super::controls::CIS_V5_0_0_ADMIN_PORTS,
        nist_800_53_r5: NIST_OPEN_PORTS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::SecurityGroup(sg_open_all_ports),
};

pub fn sg_open_all_ports(sg: &SecurityGroup, _: &Context) -> Outcome {
    let open = open_ingress(sg, opens_all_ports);
    if open.is_empty() {
        Outcome::Pass
    } else {
        open_ingress_failure(json!({ "open_permissions": open }), open)
    }
}

pub const EC2_SG_OPEN_HIGH_RISK_PORTS: Rule = Rule {
    id: "ec2_sg_open_high_risk_ports",
    title: "Security group allows high-risk ports from the internet",
    severity: Severity::Critical,
    rationale:
        "Database, file-sharing, mail and admin ports (FSBP EC2.19 list) are common attack targets.",
    remediation:
        "Restrict these ports to private CIDRs, prefix lists or security group references.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19",
    runbook: Some(Runbook::RestrictSecurityGroup),
    controls: Controls {
        aws_fsbp: &["EC2.19"],
        security_hub: &["EC2.19"],
        nist_800_53_r5: NIST_OPEN_PORTS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::SecurityGroup(sg_open_high_risk_ports),
};

/// The high-risk ports other than SSH and RDP, which have rules of their own.
pub fn sg_open_high_risk_ports(sg: &SecurityGroup, _: &Context) -> Outcome {
    let ports: Vec<u16> = HIGH_RISK_PORTS
        .iter()
        .copied()
        .filter(|port| *port != SSH_PORT && *port != RDP_PORT)
        .filter(|port| {
            sg.ingress
                .iter()
                .any(|p| opens_tcp_port(p, *port) && !internet_sources(p).is_empty())
        })
        .collect();
    if ports.is_empty() {
        return Outcome::Pass;
    }
    let open = open_ingress(sg, |p| ports.iter().any(|port| opens_tcp_port(p, *port)));
    open_ingress_failure(
        json!({ "exposed_ports": ports, "open_permissions": open }),
        open,
    )
}

pub const EC2_DEFAULT_SG_RESTRICTS_ALL: Rule = Rule {
    id: "ec2_default_sg_restricts_all",
    title: "VPC default security group allows traffic",
    severity: Severity::High,
    rationale: "Resources launched without a group land in the default one; it should allow nothing.",
    remediation: "Remove every inbound and outbound rule from the default security group and use dedicated groups.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.2"],
        security_hub: &["EC2.2"],
        cis_v1_4_0: &["5.3"],
        cis_v3_0_0: &["5.4"],
        cis_v5_0_0: &["5.5"],
        pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.4", "v3.2.1/2.1"],
        nist_800_53_r5: NIST_NETWORK_BOUNDARY,
    },
    parameters: &[],
    check: Check::SecurityGroup(default_sg_restricts_all),
};

/// A VPC's default group should have no rules at all, so nothing uses it by accident.
pub fn default_sg_restricts_all(sg: &SecurityGroup, _: &Context) -> Outcome {
    if !sg.is_vpc_default() {
        return Outcome::NotApplicable;
    }
    if sg.ingress.is_empty() && sg.egress.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "ingress_permissions": sg.ingress.len(),
            "egress_permissions": sg.egress.len(),
        }))
    }
}

pub const EC2_EBS_VOLUME_ENCRYPTED: Rule = Rule {
    id: "ec2_ebs_volume_encrypted",
    title: "EBS volume is not encrypted",
    severity: Severity::Medium,
    rationale: "Unencrypted volumes and their snapshots expose data at rest.",
    remediation: "Snapshot the volume, copy the snapshot with encryption, and replace the volume; enable EBS encryption by default.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-3",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.3"],
        security_hub: &["EC2.3"],
        nist_800_53_r5: NIST_ENCRYPTION_AT_REST,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Volume(volume_encrypted),
};

pub fn volume_encrypted(volume: &Volume, _: &Context) -> Outcome {
    if volume.encrypted {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "encrypted": false,
            "state": volume.state,
            "attached_instance_ids": volume.attached_instance_ids,
        }))
    }
}

pub const EC2_EBS_DEFAULT_ENCRYPTION: Rule = Rule {
    id: "ec2_ebs_default_encryption",
    title: "EBS encryption by default is off in the region",
    severity: Severity::Medium,
    rationale: "With the default on, every new volume and snapshot copy is encrypted without relying on each launch.",
    remediation: "Enable EBS encryption by default in the region (EnableEbsEncryptionByDefault).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-7",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.7"],
        security_hub: &["EC2.7"],
        cis_v1_4_0: &["2.2.1"],
        cis_v3_0_0: &["2.2.1"],
        cis_v5_0_0: &["5.1.1"],
        nist_800_53_r5: NIST_ENCRYPTION_AT_REST,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::EbsDefault(ebs_default_encryption),
};

pub fn ebs_default_encryption(setting: &EbsEncryptionDefault, _: &Context) -> Outcome {
    if setting.enabled {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "ebs_encryption_by_default": false }))
    }
}

pub const EC2_INSTANCE_IMDSV2: Rule = Rule {
    id: "ec2_instance_imdsv2",
    title: "EC2 instance allows IMDSv1",
    severity: Severity::High,
    rationale: "IMDSv1 answers unauthenticated GETs, which SSRF bugs turn into stolen instance credentials.",
    remediation: "Set HttpTokens=required (ModifyInstanceMetadataOptions), after checking the software uses IMDSv2.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-8",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.8"],
        security_hub: &["EC2.8"],
        cis_v3_0_0: &["5.6"],
        cis_v5_0_0: &["5.7"],
        pci_dss: &["v4.0.1/2.2.6"],
        nist_800_53_r5: &["AC-3", "AC-3(15)", "AC-3(7)", "AC-6"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Instance(instance_imdsv2),
};

pub fn instance_imdsv2(instance: &Instance, _: &Context) -> Outcome {
    if !instance.exists() {
        return Outcome::NotApplicable;
    }
    let endpoint = instance.metadata_http_endpoint.as_deref();
    let tokens = instance.metadata_http_tokens.as_deref();
    // With the endpoint off there is no IMDS at all, so no IMDSv1 either.
    if endpoint == Some("disabled") || tokens == Some("required") {
        return Outcome::Pass;
    }
    match tokens {
        Some(tokens) => Outcome::fail(json!({ "http_tokens": tokens, "http_endpoint": endpoint })),
        None => Outcome::NotApplicable,
    }
}

pub const EC2_INSTANCE_PUBLIC_IP: Rule = Rule {
    id: "ec2_instance_public_ip",
    title: "EC2 instance has a public IPv4 address",
    severity: Severity::High,
    rationale: "A public address makes the instance reachable from the internet whenever a rule allows it.",
    remediation: "Launch into private subnets behind a load balancer or NAT; disable auto-assigned public IPs.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-9",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.9"],
        security_hub: &["EC2.9"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Instance(instance_public_ip),
};

pub fn instance_public_ip(instance: &Instance, _: &Context) -> Outcome {
    if !instance.exists() {
        return Outcome::NotApplicable;
    }
    match &instance.public_ip {
        Some(ip) => Outcome::fail(json!({ "public_ip": ip, "state": instance.state })),
        None => Outcome::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;
    use crate::rules::RuleParameters;

    const CTX: Context = Context {
        account_id: "1",
        required_tags: &[],
        account_public_access_block: None,
        parameters: &RuleParameters::DEFAULTS,
    };

    fn perm(
        protocol: &str,
        from: Option<i32>,
        to: Option<i32>,
        v4: &[&str],
        v6: &[&str],
    ) -> IpPermission {
        IpPermission {
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            ipv4_ranges: v4.iter().map(std::string::ToString::to_string).collect(),
            ipv6_ranges: v6.iter().map(std::string::ToString::to_string).collect(),
            ..Default::default()
        }
    }

    fn sg(name: &str, ingress: Vec<IpPermission>) -> SecurityGroup {
        SecurityGroup {
            id: "sg-1".into(),
            name: name.into(),
            arn: "arn:aws:ec2:us-east-1:1:security-group/sg-1".into(),
            region: "us-east-1".into(),
            vpc_id: Some("vpc-1".into()),
            ingress,
            egress: vec![],
            tags: Tags::new(),
        }
    }

    fn fails(o: &Outcome) -> bool {
        matches!(o, Outcome::Fail { .. })
    }

    #[test]
    fn ssh_exposure_semantics() {
        let open = |p| fails(&sg_open_ssh(&sg("g", vec![p]), &CTX));
        assert!(open(perm("tcp", Some(22), Some(22), &["0.0.0.0/0"], &[])));
        assert!(open(perm("tcp", Some(22), Some(22), &[], &["::/0"])));
        assert!(open(perm("tcp", Some(0), Some(65535), &["0.0.0.0/0"], &[])));
        assert!(open(perm("-1", None, None, &["0.0.0.0/0"], &[])));
        assert!(open(perm("6", Some(20), Some(23), &["0.0.0.0/0"], &[])));
        assert!(!open(perm("tcp", Some(22), Some(22), &["10.0.0.0/8"], &[])));
        assert!(!open(perm("tcp", Some(23), Some(80), &["0.0.0.0/0"], &[])));
        assert!(!open(perm("udp", Some(22), Some(22), &["0.0.0.0/0"], &[])));
        assert!(!open(perm("icmp", Some(-1), Some(-1), &["0.0.0.0/0"], &[])));
        let mut prefix = perm("tcp", Some(22), Some(22), &[], &[]);
        prefix.prefix_list_ids = vec!["pl-1".into()];
        assert!(!open(prefix));
        let mut peer = perm("-1", None, None, &[], &[]);
        peer.referenced_group_ids = vec!["sg-2".into()];
        assert!(!open(peer));
    }

    #[test]
    fn egress_never_counts_as_exposure() {
        let mut group = sg("g", vec![]);
        group.egress = vec![perm("-1", None, None, &["0.0.0.0/0"], &["::/0"])];
        assert!(!fails(&sg_open_all_ports(&group, &CTX)));
        assert!(!fails(&sg_open_ssh(&group, &CTX)));
    }

    #[test]
    fn rdp_all_ports_and_high_risk() {
        let all = sg("g", vec![perm("-1", None, None, &["0.0.0.0/0"], &[])]);
        assert!(fails(&sg_open_rdp(&all, &CTX)));
        assert!(fails(&sg_open_all_ports(&all, &CTX)));
        assert!(fails(&sg_open_high_risk_ports(&all, &CTX)));
        let udp_all = sg("g", vec![perm("udp", Some(0), Some(65535), &[], &["::/0"])]);
        assert!(fails(&sg_open_all_ports(&udp_all, &CTX)));
        assert!(!fails(&sg_open_high_risk_ports(&udp_all, &CTX)));
        let mysql = sg(
            "g",
            vec![perm("tcp", Some(3306), Some(3306), &["0.0.0.0/0"], &[])],
        );
        match sg_open_high_risk_ports(&mysql, &CTX) {
            Outcome::Fail { evidence: e, .. } => assert_eq!(e["exposed_ports"], json!([3306])),
            o => panic!("{o:?}"),
        }
        assert!(!fails(&sg_open_all_ports(&mysql, &CTX)));
        let ssh_only = sg(
            "g",
            vec![perm("tcp", Some(22), Some(22), &["0.0.0.0/0"], &[])],
        );
        assert!(
            !fails(&sg_open_high_risk_ports(&ssh_only, &CTX)),
            "SSH has its own rule"
        );
        let https = sg(
            "g",
            vec![perm("tcp", Some(443), Some(443), &["0.0.0.0/0"], &["::/0"])],
        );
        assert!(!fails(&sg_open_high_risk_ports(&https, &CTX)));
        // A private rule for 3306 next to an internet rule for 443 must not be reported.
        let mixed = sg(
            "g",
            vec![
                perm("tcp", Some(3306), Some(3306), &["10.0.0.0/8"], &[]),
                perm("tcp", Some(443), Some(443), &["0.0.0.0/0"], &[]),
            ],
        );
        assert!(!fails(&sg_open_high_risk_ports(&mixed, &CTX)));
        let range = sg(
            "g",
            vec![perm("tcp", Some(20), Some(23), &["0.0.0.0/0"], &[])],
        );
        match sg_open_high_risk_ports(&range, &CTX) {
            Outcome::Fail { evidence: e, .. } => {
                assert_eq!(e["exposed_ports"], json!([20, 21, 23]));
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn default_group_must_be_empty() {
        let mut default = sg("default", vec![]);
        assert_eq!(default_sg_restricts_all(&default, &CTX), Outcome::Pass);
        default.egress = vec![perm("-1", None, None, &["0.0.0.0/0"], &[])];
        assert!(fails(&default_sg_restricts_all(&default, &CTX)));
        assert_eq!(
            default_sg_restricts_all(&sg("web", vec![]), &CTX),
            Outcome::NotApplicable
        );
    }

    fn instance(
        state: &str,
        tokens: Option<&str>,
        endpoint: Option<&str>,
        ip: Option<&str>,
    ) -> Instance {
        Instance {
            id: "i-1".into(),
            arn: "arn".into(),
            region: "us-east-1".into(),
            state: state.into(),
            metadata_http_tokens: tokens.map(Into::into),
            metadata_http_endpoint: endpoint.map(Into::into),
            public_ip: ip.map(Into::into),
            state_transition_reason: None,
            launch_time: None,
            read_at: None,
            network_interface_count: 1,
            virtualization_type: Some("hvm".into()),
            tags: Tags::new(),
        }
    }

    #[test]
    fn instance_checks() {
        assert!(fails(&instance_imdsv2(
            &instance("running", Some("optional"), Some("enabled"), None),
            &CTX
        )));
        assert_eq!(
            instance_imdsv2(
                &instance("stopped", Some("required"), Some("enabled"), None),
                &CTX
            ),
            Outcome::Pass
        );
        assert_eq!(
            instance_imdsv2(
                &instance("running", Some("optional"), Some("disabled"), None),
                &CTX
            ),
            Outcome::Pass
        );
        assert_eq!(
            instance_imdsv2(
                &instance("terminated", Some("optional"), Some("enabled"), None),
                &CTX
            ),
            Outcome::NotApplicable
        );
        assert!(fails(&instance_public_ip(
            &instance("running", None, None, Some("54.1.2.3")),
            &CTX
        )));
        assert_eq!(
            instance_public_ip(&instance("running", None, None, None), &CTX),
            Outcome::Pass
        );
        assert_eq!(
            instance_public_ip(&instance("terminated", None, None, Some("54.1.2.3")), &CTX),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn ebs_checks() {
        let mut vol = Volume {
            id: "vol-1".into(),
            arn: "arn".into(),
            region: "r".into(),
            encrypted: false,
            state: "available".into(),
            attached_instance_ids: vec![],
            tags: Tags::new(),
        };
        assert!(fails(&volume_encrypted(&vol, &CTX)));
        vol.encrypted = true;
        assert_eq!(volume_encrypted(&vol, &CTX), Outcome::Pass);
        assert!(fails(&ebs_default_encryption(
            &EbsEncryptionDefault {
                region: "r".into(),
                enabled: false
            },
            &CTX
        )));
        assert_eq!(
            ebs_default_encryption(
                &EbsEncryptionDefault {
                    region: "r".into(),
                    enabled: true
                },
                &CTX
            ),
            Outcome::Pass
        );
    }
}
