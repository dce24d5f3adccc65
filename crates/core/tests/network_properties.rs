//! Security group and network ACL port coverage against a reference model that enumerates
//! ports: a mistake here is a false negative (an open port reported closed).
//! `PROPTEST_CASES=100000 cargo test -p compliance-core --test network_properties` runs longer.

use compliance_core::finding::Outcome;
use compliance_core::model::{IpPermission, NetworkAcl, NetworkAclEntry, SecurityGroup};
use compliance_core::rules::ec2::{opens_all_ports, opens_tcp_port};
use compliance_core::rules::ec2_network::{nacl_open_admin_ports, sg_authorized_ports};
use compliance_core::rules::{Context, RuleParameters};
use proptest::prelude::*;
use serde_json::json;

const PORTS: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Proto {
    All,
    Tcp,
    Udp,
    Other,
}

/// The protocol as EC2 writes it, in the spellings the API and people use.
fn protocol() -> impl Strategy<Value = (String, Proto)> {
    prop_oneof![
        Just(("-1".to_string(), Proto::All)),
        Just(("all".to_string(), Proto::All)),
        Just(("tcp".to_string(), Proto::Tcp)),
        Just(("TCP".to_string(), Proto::Tcp)),
        Just((" tcp ".to_string(), Proto::Tcp)),
        Just(("6".to_string(), Proto::Tcp)),
        Just(("udp".to_string(), Proto::Udp)),
        Just(("17".to_string(), Proto::Udp)),
        Just(("icmp".to_string(), Proto::Other)),
        Just(("1".to_string(), Proto::Other)),
        Just(("58".to_string(), Proto::Other)),
        Just(("icmpv6".to_string(), Proto::Other)),
    ]
}

/// A port bound: absent, -1, an edge, a well-known port or any port.
fn bound() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![
        Just(None),
        Just(Some(-1)),
        Just(Some(0)),
        Just(Some(65_535)),
        prop::sample::select(vec![21, 22, 23, 80, 443, 3388, 3389, 3390]).prop_map(Some),
        (0..=65_535_i32).prop_map(Some),
    ]
}

fn sources() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    (
        prop::sample::subsequence(
            vec!["0.0.0.0/0", "10.0.0.0/8", " 0.0.0.0/0 ", "1.2.3.4/32"],
            0..=2,
        ),
        prop::sample::subsequence(vec!["::/0", "2001:db8::/32"], 0..=2),
    )
        .prop_map(|(v4, v6)| {
            (
                v4.into_iter().map(String::from).collect(),
                v6.into_iter().map(String::from).collect(),
            )
        })
}

fn permission() -> impl Strategy<Value = (IpPermission, Proto)> {
    (protocol(), bound(), bound(), sources()).prop_map(|((protocol, kind), from, to, (v4, v6))| {
        (
            IpPermission {
                protocol,
                from_port: from,
                to_port: to,
                ipv4_ranges: v4,
                ipv6_ranges: v6,
                prefix_list_ids: vec![],
                referenced_group_ids: vec![],
            },
            kind,
        )
    })
}

/// The reference: which ports of `proto` the permission opens, port by port. EC2 omits the
/// ports of protocol -1; an absent bound is the end of the range and a negative one is 0
/// (the scanner's documented reading).
fn reference_ports(perm: &IpPermission, kind: Proto, proto: Proto) -> Vec<bool> {
    let mut open = vec![false; PORTS];
    let applies = kind == Proto::All || (kind == proto && proto != Proto::Other);
    if !applies {
        return open;
    }
    let (from, to) = if kind == Proto::All {
        (0, 65_535)
    } else {
        (
            perm.from_port.unwrap_or(0).max(0),
            perm.to_port.unwrap_or(65_535).max(0),
        )
    };
    for (port, slot) in open.iter_mut().enumerate() {
        let port = i32::try_from(port).expect("a port fits in i32");
        *slot = from <= port && port <= to;
    }
    open
}

fn is_internet(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

/// Ports worth asking about: the bounds and their neighbours, the edges, the admin ports.
fn probe_ports(perm: &IpPermission, extra: &[u16]) -> Vec<u16> {
    let mut ports: Vec<u16> = vec![0, 1, 22, 3389, 65_534, 65_535];
    for bound in [perm.from_port, perm.to_port].into_iter().flatten() {
        for p in [bound - 1, bound, bound + 1] {
            if let Ok(p) = u16::try_from(p) {
                ports.push(p);
            }
        }
    }
    ports.extend_from_slice(extra);
    ports
}

fn group(ingress: &[IpPermission]) -> SecurityGroup {
    serde_json::from_value(json!({
        "id": "sg-1", "name": "sg-1", "arn": "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1",
        "region": "eu-west-1", "vpc_id": "vpc-1", "ingress": ingress,
    }))
    .expect("a security group")
}

proptest! {
    #[test]
    fn opens_tcp_port_agrees_with_the_reference(
        (perm, kind) in permission(),
        extra in prop::collection::vec(any::<u16>(), 16),
    ) {
        let tcp = reference_ports(&perm, kind, Proto::Tcp);
        for port in probe_ports(&perm, &extra) {
            prop_assert_eq!(
                opens_tcp_port(&perm, port),
                tcp[usize::from(port)],
                "port {} of {:?}", port, perm
            );
        }
    }

    #[test]
    fn opens_all_ports_agrees_with_the_reference((perm, kind) in permission()) {
        let whole = |proto| reference_ports(&perm, kind, proto).iter().all(|open| *open);
        let expected = kind == Proto::All || whole(Proto::Tcp) || whole(Proto::Udp);
        prop_assert_eq!(opens_all_ports(&perm), expected, "{:?}", perm);
    }

    /// EC2.18: a group fails when an internet-wide permission opens any TCP or UDP port that
    /// the authorized lists do not hold (lists given with duplicates, as people write them).
    #[test]
    fn authorized_ports_agree_with_the_reference(
        perms in prop::collection::vec(permission(), 0..5),
        tcp in prop::collection::vec(prop::sample::select(vec![1_i64, 22, 80, 443, 3389, 8080, 65_535]), 0..6),
        udp in prop::collection::vec(prop::sample::select(vec![53_i64, 123, 65_535]), 0..4),
    ) {
        let parameters = RuleParameters::parse(
            &json!({"ec2_sg_authorized_ports": {"authorizedTcpPorts": tcp, "authorizedUdpPorts": udp}}).to_string(),
        ).expect("valid port lists");
        let ctx = Context {
            account_id: "123456789012",
            required_tags: &[],
            account_public_access_block: None,
            parameters: &parameters,
        };
        let mut expected = false;
        for (perm, kind) in &perms {
            let internet = perm.ipv4_ranges.iter().chain(&perm.ipv6_ranges).any(|c| is_internet(c));
            if !internet {
                continue;
            }
            for (proto, authorized) in [(Proto::Tcp, &tcp), (Proto::Udp, &udp)] {
                let open = reference_ports(perm, *kind, proto);
                expected |= open.iter().enumerate().any(|(port, open)| {
                    *open && !authorized.contains(&i64::try_from(port).expect("port"))
                });
            }
        }
        let ingress: Vec<IpPermission> = perms.into_iter().map(|(p, _)| p).collect();
        let outcome = sg_authorized_ports(&group(&ingress), &ctx);
        prop_assert_eq!(
            matches!(outcome, Outcome::Fail { .. }),
            expected,
            "tcp {:?} udp {:?} ingress {:?}", tcp, udp, ingress
        );
    }

    /// EC2.21: rules are evaluated in rule-number order and the first whose CIDR is the whole
    /// internet (of the packet's address family) and whose protocol and ports match decides.
    #[test]
    fn nacl_admin_ports_follow_rule_order(entries in nacl_entries()) {
        let acl = NetworkAcl {
            id: "acl-1".into(),
            arn: "arn:aws:ec2:eu-west-1:123456789012:network-acl/acl-1".into(),
            region: "eu-west-1".into(),
            vpc_id: "vpc-1".into(),
            is_default: false,
            entries: entries.clone(),
            subnet_ids: vec![],
            tags: Default::default(),
        };
        let mut expected = Vec::new();
        for port in [22_i32, 3389] {
            for ipv6 in [false, true] {
                if reference_nacl_allows(&entries, port, ipv6) {
                    expected.push((i64::from(port), ipv6));
                }
            }
        }
        let actual: Vec<(i64, bool)> = nacl_open_admin_ports(&acl)
            .iter()
            .map(|v| (
                v["port"].as_i64().expect("port"),
                v["source"].as_str().expect("source").contains(':'),
            ))
            .collect();
        prop_assert_eq!(actual, expected, "{:?}", entries);
    }
}

/// A packet from an internet address that no narrower rule names: walk the inbound rules from
/// the lowest number, the implicit `*` deny last.
fn reference_nacl_allows(entries: &[NetworkAclEntry], port: i32, ipv6: bool) -> bool {
    let mut inbound: Vec<&NetworkAclEntry> = entries.iter().filter(|e| !e.egress).collect();
    inbound.sort_by_key(|e| e.rule_number);
    for e in inbound {
        let cidr = if ipv6 {
            &e.ipv6_cidr_block
        } else {
            &e.cidr_block
        };
        if !cidr.as_deref().is_some_and(is_internet) {
            continue;
        }
        let matches = match e.protocol.trim() {
            "-1" => true,
            "6" | "tcp" => e.port_from.unwrap_or(0) <= port && port <= e.port_to.unwrap_or(65_535),
            _ => false,
        };
        if matches {
            return e.rule_action == "allow";
        }
    }
    false
}

fn nacl_entries() -> impl Strategy<Value = Vec<NetworkAclEntry>> {
    let entry = (
        any::<bool>(),
        prop::sample::select(vec!["-1", "6", "tcp", "17", "1"]),
        prop::sample::select(vec!["allow", "deny"]),
        prop::sample::select(vec![None, Some("0.0.0.0/0"), Some("10.0.0.0/8")]),
        prop::sample::select(vec![None, Some("::/0"), Some("2001:db8::/32")]),
        prop::sample::select(vec![
            (Some(22), Some(22)),
            (Some(0), Some(1024)),
            (Some(3389), Some(3389)),
            (Some(23), Some(65_535)),
            (None, None),
            (Some(1), Some(21)),
        ]),
    );
    // Rule numbers are unique per direction: the index keeps them so while the order varies.
    (
        prop::collection::vec(entry, 0..8),
        prop::collection::vec(1..32_767_i32, 8),
    )
        .prop_map(|(entries, numbers)| {
            entries
                .into_iter()
                .enumerate()
                .map(
                    |(i, (egress, protocol, action, v4, v6, (from, to)))| NetworkAclEntry {
                        rule_number: numbers[i] * 8 + i32::try_from(i).expect("index"),
                        egress,
                        protocol: protocol.into(),
                        rule_action: action.into(),
                        cidr_block: v4.map(String::from),
                        ipv6_cidr_block: v6.map(String::from),
                        port_from: from,
                        port_to: to,
                    },
                )
                .collect()
        })
}
