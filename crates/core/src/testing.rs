//! Fixtures for the tests of the crates above core (the state functions' handlers): runs with
//! real findings, evaluated by the engine from a small inventory. Not part of the product: only
//! the `testing` feature, which those crates enable for their tests, builds it.

use serde_json::json;

use crate::contract::RunId;
use crate::model::{Inventory, SecurityGroup, Service};
use crate::run::{FailedUnit, RunDocument};
use crate::unit::UnitScanDocument;
use crate::EvaluationSettings;

pub const ACCOUNT_ID: &str = "123456789012";
pub const CREATED_AT: &str = "2026-11-23T10:00:00Z";

/// A security group of `region`; `open_ports` are open to 0.0.0.0/0 over TCP.
pub fn security_group(region: &str, id: &str, open_ports: &[i32]) -> SecurityGroup {
    account_security_group(ACCOUNT_ID, region, id, open_ports)
}

/// [`security_group`] of another account.
pub fn account_security_group(
    account: &str,
    region: &str,
    id: &str,
    open_ports: &[i32],
) -> SecurityGroup {
    let ingress: Vec<_> = open_ports
        .iter()
        .map(|p| json!({"protocol": "tcp", "from_port": p, "to_port": p, "ipv4_ranges": ["0.0.0.0/0"]}))
        .collect();
    serde_json::from_value(json!({
        "id": id,
        "name": id,
        "arn": format!("arn:aws:ec2:{region}:{account}:security-group/{id}"),
        "region": region,
        "vpc_id": "vpc-1",
        "ingress": ingress,
        "tags": {"Owner": "platform"},
    }))
    .unwrap_or_else(|e| panic!("fixture security group: {e}"))
}

/// The ec2 unit of `region`, evaluated: one group per entry of `groups` (id, open ports).
pub fn ec2_unit(run_id: &str, region: &str, groups: &[(&str, &[i32])]) -> UnitScanDocument {
    account_ec2_unit(ACCOUNT_ID, run_id, region, groups)
}

/// [`ec2_unit`] of another account.
pub fn account_ec2_unit(
    account: &str,
    run_id: &str,
    region: &str,
    groups: &[(&str, &[i32])],
) -> UnitScanDocument {
    let mut inventory = Inventory::new(account);
    inventory.security_groups = groups
        .iter()
        .map(|(id, ports)| account_security_group(account, region, id, ports))
        .collect();
    // The fixtures' open ports are authorized for EC2.18, so that each open port is one
    // finding (of the port's own rule), as the fixtures' users count them.
    let mut authorized: Vec<i32> = groups
        .iter()
        .flat_map(|(_, ports)| ports.iter().copied())
        .collect();
    authorized.sort_unstable();
    authorized.dedup();
    let rule_parameters = crate::rules::RuleParameters::parse(
        &json!({ "ec2_sg_authorized_ports": { "authorizedTcpPorts": authorized } }).to_string(),
    )
    .expect("the fixtures' ports are valid authorizedTcpPorts");
    let settings = EvaluationSettings {
        required_tags: vec!["Owner".into()],
        rule_parameters,
        ..EvaluationSettings::default()
    };
    UnitScanDocument::new(
        run_id,
        region,
        Service::Ec2,
        CREATED_AT.into(),
        inventory,
        vec![],
        &settings,
    )
}

/// A run of two regions' ec2 units, merged as `aggregate` merges them.
pub fn run_document(
    run_id: &str,
    units: Vec<UnitScanDocument>,
    failed: Vec<FailedUnit>,
) -> RunDocument {
    let id = RunId::parse(run_id).unwrap_or_else(|e| panic!("fixture run id: {e}"));
    let units = units
        .into_iter()
        .map(|u| (id.keys().unit(&u.account_id, &u.region, u.service), u))
        .collect();
    RunDocument::merge(run_id, "scheduled", CREATED_AT.into(), units, failed)
}
