//! Inputs at the sizes AWS allows: a 20 KB bucket policy (S3's limit), a security group with
//! 1,000 rules, 50 tags per resource (the AWS limit). The rules must still read all of it:
//! the one statement, rule or tag that matters is placed last. Time is not asserted.

use std::collections::BTreeMap;

use compliance_core::model::{Bucket, Inventory, IpPermission, SecurityGroup};
use compliance_core::policy::BucketPolicy;
use compliance_core::{evaluate, EvaluationSettings, FindingStatus};
use serde_json::{json, Value};

fn failing_rules(inventory: &Inventory, settings: &EvaluationSettings) -> Vec<String> {
    evaluate(inventory, settings)
        .findings
        .into_iter()
        .filter(|f| f.status == FindingStatus::Fail)
        .map(|f| f.rule_id)
        .collect()
}

#[test]
fn a_20_kb_policy_is_read_to_its_last_statement() {
    let fixed = |i: usize| {
        json!({"Sid": format!("Partner{i}"), "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 100_000_000_000 + i)},
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]})
    };
    let mut statements: Vec<Value> = (0..110).map(fixed).collect();
    statements.push(
        json!({"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
    );
    statements.push(
        json!({"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": ["*"]},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
    );
    let document = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    assert!(
        (19_000..=20_480).contains(&document.len()),
        "{} bytes",
        document.len()
    );

    let policy = BucketPolicy::parse(&document).unwrap();
    assert_eq!(policy.statements.len(), 112);
    let public: Vec<_> = policy
        .public_statements()
        .iter()
        .map(|s| s.sid.clone())
        .collect();
    assert_eq!(public, [Some("Everyone".to_string())]);
    assert!(policy.denies_insecure_transport("b"));
    let grants = policy
        .cross_account_grants("111111111111", None, &["s3:GetObject"])
        .unwrap();
    assert_eq!(grants.len(), 111, "every partner and the wildcard");

    let mut bucket: Bucket = serde_json::from_value(json!({
        "name": "b", "arn": "arn:aws:s3:::b", "region": "eu-west-1", "encryption": null,
        "public_access_block": null, "policy": document, "policy_is_public": null,
    }))
    .unwrap();
    bucket.tags = BTreeMap::new();
    let mut inventory = Inventory::new("111111111111");
    inventory.buckets = vec![bucket];
    let failing = failing_rules(&inventory, &EvaluationSettings::default());
    assert!(
        failing.iter().any(|r| r == "s3_bucket_public_policy"),
        "{failing:?}"
    );
    assert!(
        !failing.iter().any(|r| r == "s3_bucket_secure_transport"),
        "{failing:?}"
    );
}

#[test]
fn a_group_of_1000_rules_is_read_to_its_last_rule() {
    // 999 rules from private ranges, then TCP 20-23 (FTP, SSH, telnet) from the internet.
    let mut ingress: Vec<IpPermission> = (0..999)
        .map(|i| IpPermission {
            protocol: "tcp".into(),
            from_port: Some(1024 + i),
            to_port: Some(1024 + i),
            ipv4_ranges: vec![format!("10.{}.{}.0/24", i / 256, i % 256)],
            ipv6_ranges: vec![],
            prefix_list_ids: vec![],
            referenced_group_ids: vec![],
        })
        .collect();
    ingress.push(IpPermission {
        protocol: "tcp".into(),
        from_port: Some(20),
        to_port: Some(23),
        ipv4_ranges: vec!["0.0.0.0/0".into()],
        ipv6_ranges: vec![],
        prefix_list_ids: vec![],
        referenced_group_ids: vec![],
    });
    let group: SecurityGroup = serde_json::from_value(json!({
        "id": "sg-big", "name": "big", "arn": "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-big",
        "region": "eu-west-1", "vpc_id": "vpc-1", "ingress": ingress,
    }))
    .unwrap();
    assert_eq!(group.ingress.len(), 1000);
    let mut inventory = Inventory::new("111111111111");
    inventory.security_groups = vec![group.clone()];
    let failing = failing_rules(&inventory, &EvaluationSettings::default());
    for rule in [
        "ec2_sg_open_ssh",
        "ec2_sg_open_high_risk_ports",
        "ec2_sg_authorized_ports",
    ] {
        assert!(failing.iter().any(|r| r == rule), "{rule}: {failing:?}");
    }
    assert!(!failing
        .iter()
        .any(|r| r == "ec2_sg_open_rdp" || r == "ec2_sg_open_all_ports"));

    // Without that last rule, the 999 private ones open nothing to the internet.
    inventory.security_groups[0].ingress.pop();
    let failing = failing_rules(&inventory, &EvaluationSettings::default());
    assert!(
        !failing.iter().any(|r| r.starts_with("ec2_sg_")),
        "{failing:?}"
    );
}

#[test]
fn fifty_tags_are_all_read() {
    let tags: BTreeMap<String, String> = (0..49)
        .map(|i| (format!("Key{i:02}"), "v".repeat(256)))
        .chain([("Owner".to_string(), "platform".to_string())])
        .collect();
    assert_eq!(tags.len(), 50);
    let group = |tags: &BTreeMap<String, String>| -> SecurityGroup {
        serde_json::from_value(json!({
            "id": "sg-1", "name": "g", "arn": "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1",
            "region": "eu-west-1", "vpc_id": "vpc-1", "tags": tags,
        }))
        .unwrap()
    };
    let settings = EvaluationSettings {
        required_tags: vec!["Owner".into(), "Key48".into()],
        ..EvaluationSettings::default()
    };
    let mut inventory = Inventory::new("111111111111");
    inventory.security_groups = vec![group(&tags)];
    let failing = failing_rules(&inventory, &settings);
    assert!(
        !failing.iter().any(|r| r == "resource_required_tags"),
        "{failing:?}"
    );

    let mut without_owner = tags.clone();
    without_owner.remove("Owner");
    inventory.security_groups = vec![group(&without_owner)];
    let findings = evaluate(&inventory, &settings).findings;
    let tag_finding = findings
        .iter()
        .find(|f| f.rule_id == "resource_required_tags")
        .expect("the missing Owner tag is found");
    assert_eq!(tag_finding.evidence["missing_tag_keys"], json!(["Owner"]));
    assert_eq!(
        tag_finding.resource_tags.len(),
        49,
        "the finding carries every tag"
    );
}
