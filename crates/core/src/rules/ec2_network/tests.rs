use super::*;
use crate::model::{FlowLog, Tags, VpcEndpoint};
use crate::rules::RuleParameters;

const CTX: Context = Context {
    account_id: "1",
    required_tags: &[],
    account_public_access_block: None,
    parameters: &RuleParameters::DEFAULTS,
};

fn fails(o: &Outcome) -> bool {
    matches!(o, Outcome::Fail { .. })
}

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
        ipv4_ranges: v4.iter().map(ToString::to_string).collect(),
        ipv6_ranges: v6.iter().map(ToString::to_string).collect(),
        ..Default::default()
    }
}

fn sg(ingress: Vec<IpPermission>) -> SecurityGroup {
    SecurityGroup {
        id: "sg-1".into(),
        name: "g".into(),
        arn: "arn".into(),
        region: "us-east-1".into(),
        vpc_id: Some("vpc-1".into()),
        ingress,
        egress: vec![],
        tags: Tags::new(),
    }
}

#[test]
fn authorized_ports_every_protocol_that_reaches_a_port_counts() {
    let check = |p: IpPermission| fails(&sg_authorized_ports(&sg(vec![p]), &CTX));
    // Authorized by default: TCP 80 and 443, from anywhere.
    assert!(!check(perm(
        "tcp",
        Some(443),
        Some(443),
        &["0.0.0.0/0"],
        &["::/0"]
    )));
    assert!(!check(perm("6", Some(80), Some(80), &["0.0.0.0/0"], &[])));
    // A range covering an unauthorized port fails, even if it also covers 80.
    assert!(check(perm("tcp", Some(80), Some(81), &["0.0.0.0/0"], &[])));
    assert!(check(perm("tcp", Some(22), Some(22), &[], &["::/0"])));
    // Protocol -1 reaches every TCP and UDP port.
    assert!(check(perm("-1", None, None, &["0.0.0.0/0"], &[])));
    // No UDP port is authorized by default.
    assert!(check(perm(
        "udp",
        Some(443),
        Some(443),
        &["0.0.0.0/0"],
        &[]
    )));
    // Not from the internet, or no ports (ICMP): not judged.
    assert!(!check(perm(
        "tcp",
        Some(22),
        Some(22),
        &["10.0.0.0/8"],
        &[]
    )));
    assert!(!check(perm(
        "icmp",
        Some(-1),
        Some(-1),
        &["0.0.0.0/0"],
        &[]
    )));
    assert_eq!(sg_authorized_ports(&sg(vec![]), &CTX), Outcome::Pass);
}

#[test]
fn authorized_ports_follow_the_parameters() {
    let params = RuleParameters::parse(
        r#"{"ec2_sg_authorized_ports": {"authorizedTcpPorts": [22, 443], "authorizedUdpPorts": [53]}}"#,
    )
    .unwrap();
    let ctx = Context {
        parameters: &params,
        ..CTX
    };
    let check = |p: IpPermission| fails(&sg_authorized_ports(&sg(vec![p]), &ctx));
    assert!(!check(perm("tcp", Some(22), Some(22), &["0.0.0.0/0"], &[])));
    assert!(check(perm("tcp", Some(80), Some(80), &["0.0.0.0/0"], &[])));
    assert!(!check(perm("udp", Some(53), Some(53), &["0.0.0.0/0"], &[])));
    assert!(check(perm("udp", Some(53), Some(54), &["0.0.0.0/0"], &[])));
    match sg_authorized_ports(&sg(vec![perm("-1", None, None, &["0.0.0.0/0"], &[])]), &ctx) {
        Outcome::Fail { evidence, .. } => {
            assert_eq!(evidence["authorized_tcp_ports"], json!([22, 443]));
            assert_eq!(
                evidence["unauthorized_permissions"][0]["source"],
                "0.0.0.0/0"
            );
        }
        o => panic!("{o:?}"),
    }
}

fn vpc(flow_logs: Option<Vec<FlowLog>>, endpoints: Option<Vec<VpcEndpoint>>) -> Vpc {
    Vpc {
        id: "vpc-1".into(),
        arn: "arn".into(),
        region: "us-east-1".into(),
        is_default: true,
        flow_logs,
        endpoints,
        tags: Tags::new(),
    }
}

fn flow_log(traffic: &str, status: Option<&str>) -> FlowLog {
    FlowLog {
        id: "fl-1".into(),
        traffic_type: traffic.into(),
        status: status.map(Into::into),
    }
}

#[test]
fn flow_logs_must_capture_rejected_traffic() {
    assert!(fails(&vpc_flow_logs(&vpc(Some(vec![]), None), &CTX)));
    assert!(fails(&vpc_flow_logs(
        &vpc(Some(vec![flow_log("ACCEPT", Some("ACTIVE"))]), None),
        &CTX
    )));
    assert_eq!(
        vpc_flow_logs(
            &vpc(Some(vec![flow_log("REJECT", Some("ACTIVE"))]), None),
            &CTX
        ),
        Outcome::Pass
    );
    assert_eq!(
        vpc_flow_logs(&vpc(Some(vec![flow_log("ALL", None)]), None), &CTX),
        Outcome::Pass
    );
    assert_eq!(
        vpc_flow_logs(&vpc(None, None), &CTX),
        Outcome::NotApplicable,
        "unreadable"
    );
}

fn endpoint(service: &str, kind: &str, state: &str) -> VpcEndpoint {
    VpcEndpoint {
        service_name: format!("com.amazonaws.us-east-1.{service}"),
        endpoint_type: kind.into(),
        state: Some(state.into()),
    }
}

#[test]
fn vpc_endpoints_per_service() {
    let none = vpc(None, Some(vec![]));
    for check in [
        vpc_endpoint_ec2,
        vpc_endpoint_ecr_api,
        vpc_endpoint_ecr_dkr,
        vpc_endpoint_ssm,
        vpc_endpoint_ssm_contacts,
        vpc_endpoint_ssm_incidents,
    ] {
        assert!(fails(&check(&none, &CTX)));
    }
    let some = vpc(
        None,
        Some(vec![
            endpoint("ssm", "Interface", "available"),
            endpoint("ecr.dkr", "Gateway", "available"),
            endpoint("ssm-contacts", "Interface", "deleted"),
            endpoint("ec2", "Interface", "pending"),
        ]),
    );
    assert_eq!(vpc_endpoint_ssm(&some, &CTX), Outcome::Pass);
    assert_eq!(vpc_endpoint_ec2(&some, &CTX), Outcome::Pass);
    assert!(
        fails(&vpc_endpoint_ecr_dkr(&some, &CTX)),
        "not an interface endpoint"
    );
    assert!(fails(&vpc_endpoint_ssm_contacts(&some, &CTX)), "deleted");
    // `ssm` must not match `ssm-incidents` or the reverse.
    assert!(fails(&vpc_endpoint_ssm_incidents(&some, &CTX)));
    assert_eq!(
        vpc_endpoint_ssm(&vpc(None, None), &CTX),
        Outcome::NotApplicable
    );
}

#[test]
fn subnets_auto_assigning_public_addresses_fail() {
    let mut subnet = Subnet {
        id: "subnet-1".into(),
        arn: "arn".into(),
        region: "r".into(),
        vpc_id: "vpc-1".into(),
        default_for_az: true,
        map_public_ip_on_launch: true,
        assign_ipv6_address_on_creation: false,
        tags: Tags::new(),
    };
    assert!(fails(&subnet_auto_public_ip(&subnet, &CTX)));
    subnet.map_public_ip_on_launch = false;
    assert_eq!(subnet_auto_public_ip(&subnet, &CTX), Outcome::Pass);
    subnet.assign_ipv6_address_on_creation = true;
    assert!(fails(&subnet_auto_public_ip(&subnet, &CTX)));
}

fn entry(
    rule_number: i32,
    protocol: &str,
    action: &str,
    cidr: Option<&str>,
    v6: Option<&str>,
    ports: Option<(i32, i32)>,
) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number,
        egress: false,
        protocol: protocol.into(),
        rule_action: action.into(),
        cidr_block: cidr.map(Into::into),
        ipv6_cidr_block: v6.map(Into::into),
        port_from: ports.map(|p| p.0),
        port_to: ports.map(|p| p.1),
    }
}

fn acl(is_default: bool, entries: Vec<NetworkAclEntry>, subnets: &[&str]) -> NetworkAcl {
    NetworkAcl {
        id: "acl-1".into(),
        arn: "arn".into(),
        region: "r".into(),
        vpc_id: "vpc-1".into(),
        is_default,
        entries,
        subnet_ids: subnets.iter().map(ToString::to_string).collect(),
        tags: Tags::new(),
    }
}

/// The default network ACL as EC2 makes it: allow everything (rule 100), then the catch-all deny.
fn allow_all() -> Vec<NetworkAclEntry> {
    vec![
        entry(100, "-1", "allow", Some("0.0.0.0/0"), None, None),
        entry(32767, "-1", "deny", Some("0.0.0.0/0"), None, None),
    ]
}

#[test]
fn unused_acls_fail_except_the_default() {
    assert!(fails(&nacl_unused(&acl(false, vec![], &[]), &CTX)));
    assert_eq!(
        nacl_unused(&acl(false, vec![], &["subnet-1"]), &CTX),
        Outcome::Pass
    );
    assert_eq!(
        nacl_unused(&acl(true, vec![], &[]), &CTX),
        Outcome::NotApplicable
    );
}

#[test]
fn acl_admin_ports_in_rule_number_order() {
    // The default ACL allows 0.0.0.0/0 on all ports: SSH and RDP exposed (CIS), judged by the
    // default-ACL rule only (Security Hub's EC2.21 skips default ACLs).
    let default = acl(true, allow_all(), &["subnet-1"]);
    match default_nacl_open_admin(&default, &CTX) {
        Outcome::Fail { evidence, .. } => {
            let ports: Vec<_> = evidence["open_entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["port"].clone())
                .collect();
            assert_eq!(ports, vec![json!(22), json!(3389)]);
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(nacl_open_admin(&default, &CTX), Outcome::NotApplicable);
    let custom = |entries| acl(false, entries, &["subnet-1"]);
    assert!(fails(&nacl_open_admin(&custom(allow_all()), &CTX)));
    assert_eq!(
        default_nacl_open_admin(&custom(allow_all()), &CTX),
        Outcome::NotApplicable
    );
    // A lower-numbered deny from 0.0.0.0/0 for both ports closes them.
    let mut denied = vec![
        entry(10, "6", "deny", Some("0.0.0.0/0"), None, Some((22, 22))),
        entry(20, "6", "deny", Some("0.0.0.0/0"), None, Some((3389, 3389))),
    ];
    denied.extend(allow_all());
    assert_eq!(nacl_open_admin(&custom(denied), &CTX), Outcome::Pass);
    // The deny after the allow does not.
    let late_deny = vec![
        entry(100, "-1", "allow", Some("0.0.0.0/0"), None, None),
        entry(200, "6", "deny", Some("0.0.0.0/0"), None, Some((0, 65535))),
    ];
    assert!(fails(&nacl_open_admin(&custom(late_deny), &CTX)));
    // A deny for a narrower CIDR does not close the port to the internet.
    let narrow_deny = vec![
        entry(10, "6", "deny", Some("10.0.0.0/8"), None, Some((22, 22))),
        entry(100, "6", "allow", Some("0.0.0.0/0"), None, Some((22, 22))),
    ];
    assert!(fails(&nacl_open_admin(&custom(narrow_deny), &CTX)));
    // UDP never reaches a TCP port; a TCP range not covering 22 or 3389 is fine.
    let udp_and_web = vec![
        entry(
            100,
            "17",
            "allow",
            Some("0.0.0.0/0"),
            None,
            Some((0, 65535)),
        ),
        entry(110, "6", "allow", Some("0.0.0.0/0"), None, Some((80, 443))),
    ];
    assert_eq!(nacl_open_admin(&custom(udp_and_web), &CTX), Outcome::Pass);
    // IPv6 is judged on its own: an IPv4 deny does not close ::/0.
    let v6 = vec![
        entry(10, "-1", "deny", Some("0.0.0.0/0"), None, None),
        entry(20, "6", "allow", None, Some("::/0"), Some((3389, 3389))),
    ];
    match nacl_open_admin(&custom(v6), &CTX) {
        Outcome::Fail { evidence, .. } => {
            assert_eq!(
                evidence["open_entries"],
                json!([{"port": 3389, "source": "::/0", "rule_number": 20, "protocol": "6"}])
            );
        }
        o => panic!("{o:?}"),
    }
    // Egress rules are not ingress.
    let mut egress_only = allow_all();
    for e in &mut egress_only {
        e.egress = true;
    }
    assert_eq!(nacl_open_admin(&custom(egress_only), &CTX), Outcome::Pass);
}

#[test]
fn source_dest_check_on_user_managed_interfaces() {
    let mut eni = NetworkInterface {
        id: "eni-1".into(),
        arn: "arn".into(),
        region: "r".into(),
        interface_type: "interface".into(),
        source_dest_check: Some(false),
        requester_managed: false,
        attached_instance_id: Some("i-1".into()),
        tags: Tags::new(),
    };
    assert!(fails(&eni_source_dest_check(&eni, &CTX)));
    eni.source_dest_check = Some(true);
    assert_eq!(eni_source_dest_check(&eni, &CTX), Outcome::Pass);
    eni.source_dest_check = Some(false);
    eni.interface_type = "nat_gateway".into();
    assert_eq!(eni_source_dest_check(&eni, &CTX), Outcome::NotApplicable);
    eni.interface_type = "lambda".into();
    assert!(fails(&eni_source_dest_check(&eni, &CTX)));
}

fn bpa(mode: Option<&str>) -> Ec2BlockPublicAccess {
    Ec2BlockPublicAccess {
        region: "r".into(),
        snapshot_state: None,
        vpc_internet_gateway_block_mode: mode.map(Into::into),
    }
}

#[test]
fn vpc_block_public_access_must_block_internet_gateways() {
    assert!(fails(&vpc_block_public_access(&bpa(Some("off")), &CTX)));
    assert_eq!(
        vpc_block_public_access(&bpa(Some("block-ingress")), &CTX),
        Outcome::Pass
    );
    assert_eq!(
        vpc_block_public_access(&bpa(Some("block-bidirectional")), &CTX),
        Outcome::Pass
    );
    assert_eq!(
        vpc_block_public_access(&bpa(None), &CTX),
        Outcome::NotApplicable
    );
    let params = RuleParameters::parse(
        r#"{"ec2_vpc_block_public_access": {"vpcBpaInternetGatewayBlockMode": ["block-bidirectional"]}}"#,
    )
    .unwrap();
    let ctx = Context {
        parameters: &params,
        ..CTX
    };
    assert!(fails(&vpc_block_public_access(
        &bpa(Some("block-ingress")),
        &ctx
    )));
    assert_eq!(
        vpc_block_public_access(&bpa(Some("block-bidirectional")), &ctx),
        Outcome::Pass
    );
    assert!(RuleParameters::parse(
        r#"{"ec2_vpc_block_public_access": {"vpcBpaInternetGatewayBlockMode": ["off"]}}"#
    )
    .is_err());
}
