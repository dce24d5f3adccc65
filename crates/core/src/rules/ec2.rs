//! EC2 checks: security groups, instances, EBS volumes and the EBS encryption default.

use serde_json::{json, Value};

use super::Context;
use crate::finding::Outcome;
use crate::model::{EbsEncryptionDefault, Instance, IpPermission, SecurityGroup, Volume};

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

fn describe(perm: &IpPermission, source: &str) -> Value {
    json!({
        "protocol": perm.protocol,
        "from_port": perm.from_port,
        "to_port": perm.to_port,
        "source": source,
    })
}

/// Ingress permissions open to the internet that satisfy `exposes`, as evidence entries.
fn open_ingress(sg: &SecurityGroup, exposes: impl Fn(&IpPermission) -> bool) -> Vec<Value> {
    sg.ingress
        .iter()
        .filter(|perm| exposes(perm))
        .flat_map(|perm| {
            internet_sources(perm)
                .into_iter()
                .map(move |src| describe(perm, src))
        })
        .collect()
}

fn port_outcome(sg: &SecurityGroup, port: u16) -> Outcome {
    let open = open_ingress(sg, |p| opens_tcp_port(p, port));
    if open.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(json!({ "port": port, "open_permissions": open }))
    }
}

pub fn sg_open_ssh(sg: &SecurityGroup, _: &Context) -> Outcome {
    port_outcome(sg, SSH_PORT)
}

pub fn sg_open_rdp(sg: &SecurityGroup, _: &Context) -> Outcome {
    port_outcome(sg, RDP_PORT)
}

pub fn sg_open_all_ports(sg: &SecurityGroup, _: &Context) -> Outcome {
    let open = open_ingress(sg, opens_all_ports);
    if open.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(json!({ "open_permissions": open }))
    }
}

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
    Outcome::Fail(json!({ "exposed_ports": ports, "open_permissions": open }))
}

/// A VPC's default group should have no rules at all, so nothing uses it by accident.
pub fn default_sg_restricts_all(sg: &SecurityGroup, _: &Context) -> Outcome {
    if !sg.is_vpc_default() {
        return Outcome::NotApplicable;
    }
    if sg.ingress.is_empty() && sg.egress.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(json!({
            "ingress_permissions": sg.ingress.len(),
            "egress_permissions": sg.egress.len(),
        }))
    }
}

pub fn volume_encrypted(volume: &Volume, _: &Context) -> Outcome {
    if volume.encrypted {
        Outcome::Pass
    } else {
        Outcome::Fail(json!({
            "encrypted": false,
            "state": volume.state,
            "attached_instance_ids": volume.attached_instance_ids,
        }))
    }
}

pub fn ebs_default_encryption(setting: &EbsEncryptionDefault, _: &Context) -> Outcome {
    if setting.enabled {
        Outcome::Pass
    } else {
        Outcome::Fail(json!({ "ebs_encryption_by_default": false }))
    }
}

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
        Some(tokens) => Outcome::Fail(json!({ "http_tokens": tokens, "http_endpoint": endpoint })),
        None => Outcome::NotApplicable,
    }
}

pub fn instance_public_ip(instance: &Instance, _: &Context) -> Outcome {
    if !instance.exists() {
        return Outcome::NotApplicable;
    }
    match &instance.public_ip {
        Some(ip) => Outcome::Fail(json!({ "public_ip": ip, "state": instance.state })),
        None => Outcome::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;

    const CTX: Context = Context {
        account_id: "1",
        required_tags: &[],
        account_public_access_block: None,
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
            ipv4_ranges: v4.iter().map(|s| s.to_string()).collect(),
            ipv6_ranges: v6.iter().map(|s| s.to_string()).collect(),
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

    fn fails(o: Outcome) -> bool {
        matches!(o, Outcome::Fail(_))
    }

    #[test]
    fn ssh_exposure_semantics() {
        let open = |p| fails(sg_open_ssh(&sg("g", vec![p]), &CTX));
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
        assert!(!fails(sg_open_all_ports(&group, &CTX)));
        assert!(!fails(sg_open_ssh(&group, &CTX)));
    }

    #[test]
    fn rdp_all_ports_and_high_risk() {
        let all = sg("g", vec![perm("-1", None, None, &["0.0.0.0/0"], &[])]);
        assert!(fails(sg_open_rdp(&all, &CTX)));
        assert!(fails(sg_open_all_ports(&all, &CTX)));
        assert!(fails(sg_open_high_risk_ports(&all, &CTX)));
        let udp_all = sg("g", vec![perm("udp", Some(0), Some(65535), &[], &["::/0"])]);
        assert!(fails(sg_open_all_ports(&udp_all, &CTX)));
        assert!(!fails(sg_open_high_risk_ports(&udp_all, &CTX)));
        let mysql = sg(
            "g",
            vec![perm("tcp", Some(3306), Some(3306), &["0.0.0.0/0"], &[])],
        );
        match sg_open_high_risk_ports(&mysql, &CTX) {
            Outcome::Fail(e) => assert_eq!(e["exposed_ports"], json!([3306])),
            o => panic!("{o:?}"),
        }
        assert!(!fails(sg_open_all_ports(&mysql, &CTX)));
        let ssh_only = sg(
            "g",
            vec![perm("tcp", Some(22), Some(22), &["0.0.0.0/0"], &[])],
        );
        assert!(
            !fails(sg_open_high_risk_ports(&ssh_only, &CTX)),
            "SSH has its own rule"
        );
        let https = sg(
            "g",
            vec![perm("tcp", Some(443), Some(443), &["0.0.0.0/0"], &["::/0"])],
        );
        assert!(!fails(sg_open_high_risk_ports(&https, &CTX)));
        // A private rule for 3306 next to an internet rule for 443 must not be reported.
        let mixed = sg(
            "g",
            vec![
                perm("tcp", Some(3306), Some(3306), &["10.0.0.0/8"], &[]),
                perm("tcp", Some(443), Some(443), &["0.0.0.0/0"], &[]),
            ],
        );
        assert!(!fails(sg_open_high_risk_ports(&mixed, &CTX)));
        let range = sg(
            "g",
            vec![perm("tcp", Some(20), Some(23), &["0.0.0.0/0"], &[])],
        );
        match sg_open_high_risk_ports(&range, &CTX) {
            Outcome::Fail(e) => assert_eq!(e["exposed_ports"], json!([20, 21, 23])),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn default_group_must_be_empty() {
        let mut default = sg("default", vec![]);
        assert_eq!(default_sg_restricts_all(&default, &CTX), Outcome::Pass);
        default.egress = vec![perm("-1", None, None, &["0.0.0.0/0"], &[])];
        assert!(fails(default_sg_restricts_all(&default, &CTX)));
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
            tags: Tags::new(),
        }
    }

    #[test]
    fn instance_checks() {
        assert!(fails(instance_imdsv2(
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
        assert!(fails(instance_public_ip(
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
        assert!(fails(volume_encrypted(&vol, &CTX)));
        vol.encrypted = true;
        assert_eq!(volume_encrypted(&vol, &CTX), Outcome::Pass);
        assert!(fails(ebs_default_encryption(
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
