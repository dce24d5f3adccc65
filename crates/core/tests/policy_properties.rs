//! Bucket policy analysis and mute-list patterns against reference models: a statement shape
//! the analysis misreads is a public bucket reported private.
//! `PROPTEST_CASES=100000 cargo test -p compliance-core --test policy_properties` runs longer.

use std::collections::BTreeMap;

use compliance_core::mutelist::Mutelist;
use compliance_core::policy::{wildcard_match, BucketPolicy};
use proptest::prelude::*;
use serde_json::{json, Value};

/// The reference glob: `*` any run, `?` one character, by plain recursion (inputs are short).
fn glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => glob(rest, text) || (!text.is_empty() && glob(pattern, &text[1..])),
        Some(('?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

fn reference_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob(&p, &t)
}

/// Who a statement names, and whether that is everyone (the reference's reading).
fn principal() -> impl Strategy<Value = (Option<(&'static str, Value)>, bool)> {
    prop_oneof![
        Just((Some(("Principal", json!("*"))), true)),
        Just((Some(("Principal", json!({"AWS": "*"}))), true)),
        Just((
            Some((
                "Principal",
                json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]})
            )),
            true
        )),
        Just((
            Some(("Principal", json!({"AWS": ["*", "222222222222"]}))),
            true
        )),
        Just((
            Some(("Principal", json!({"AWS": "arn:aws:iam::*:root"}))),
            true
        )),
        Just((Some(("Principal", json!({"CanonicalUser": "*"}))), true)),
        Just((
            Some((
                "Principal",
                json!({"AWS": "arn:aws:iam::111122223333:root"})
            )),
            false
        )),
        Just((
            Some((
                "Principal",
                json!({"AWS": ["111122223333", "222222222222"]})
            )),
            false
        )),
        Just((
            Some(("Principal", json!({"Service": "logging.s3.amazonaws.com"}))),
            false
        )),
        Just((Some(("Principal", json!({"Federated": "*"}))), false)),
        Just((
            Some((
                "NotPrincipal",
                json!({"AWS": "arn:aws:iam::111122223333:root"})
            )),
            true
        )),
        Just((None, false)),
    ]
}

/// A condition block and whether it narrows a grant to known parties (the documented rules:
/// a positive operator, a narrowing key, fixed values).
fn condition() -> impl Strategy<Value = (Value, bool)> {
    prop::sample::select(vec![
        (
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
            true,
        ),
        (
            json!({"stringequals": {"AWS:SOURCEVPCE": ["vpce-1", "vpce-2"]}}),
            true,
        ),
        (
            json!({"StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}}),
            true,
        ),
        (
            json!({"StringEquals": {"aws:SourceAccount": 111_122_223_333_u64}}),
            true,
        ),
        (
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}),
            true,
        ),
        (
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}}),
            true,
        ),
        (
            json!({"ForAnyValue:StringEquals": {"aws:SourceVpc": "vpc-1"}}),
            true,
        ),
        (
            json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}),
            true,
        ),
        (
            json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}),
            false,
        ),
        (json!({"StringLike": {"aws:SourceVpce": "vpce-*"}}), false),
        (
            json!({"StringLike": {"aws:SourceArn": "arn:aws:s3:::?"}}),
            false,
        ),
        (
            json!({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}),
            false,
        ),
        (
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}),
            false,
        ),
        (
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            false,
        ),
        (
            json!({"StringEquals": {"s3:x-amz-acl": "public-read"}}),
            false,
        ),
        (json!({"Bool": {"aws:SecureTransport": "true"}}), false),
        (
            json!({"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}}),
            false,
        ),
        (json!({"StringLike": {"aws:userid": "*"}}), false),
        (json!({"StringLike": {"aws:userid": "*:*"}}), false),
        (json!({"StringEquals": {"aws:SourceVpce": []}}), false),
        (json!({"StringEquals": "not an object"}), false),
    ])
}

fn effect() -> impl Strategy<Value = (Option<&'static str>, bool)> {
    prop::sample::select(vec![
        (Some("Allow"), true),
        (Some("allow"), true),
        (Some("Deny"), false),
        (Some("Audit"), false),
        (None, false),
    ])
}

fn action() -> impl Strategy<Value = (&'static str, Value)> {
    prop::sample::select(vec![
        ("Action", json!("s3:GetObject")),
        ("Action", json!(["s3:GetObject", "s3:ListBucket"])),
        ("Action", json!("s3:*")),
        ("Action", json!("*")),
        ("NotAction", json!("s3:DeleteBucket")),
    ])
}

/// One statement as JSON and whether the reference calls it public.
fn statement() -> impl Strategy<Value = (Value, bool)> {
    (
        effect(),
        principal(),
        action(),
        prop::collection::vec(condition(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |((effect, allows), (principal, everyone), (verb, actions), conditions, sid)| {
                let mut s = serde_json::Map::new();
                if sid {
                    s.insert("Sid".into(), json!("S1"));
                }
                if let Some(effect) = effect {
                    s.insert("Effect".into(), json!(effect));
                }
                if let Some((key, value)) = principal {
                    s.insert(key.into(), value);
                }
                s.insert(verb.into(), actions);
                s.insert("Resource".into(), json!("arn:aws:s3:::b/*"));
                // One block per operator: a second condition under an operator already used is left
                // out (and so does not count as narrowing).
                let mut block = serde_json::Map::new();
                let mut narrowed = false;
                for (c, narrows) in &conditions {
                    for (operator, keys) in c.as_object().expect("a condition object") {
                        if !block.contains_key(operator) {
                            block.insert(operator.clone(), keys.clone());
                            narrowed |= *narrows;
                        }
                    }
                }
                if !block.is_empty() {
                    s.insert("Condition".into(), Value::Object(block));
                }
                (Value::Object(s), allows && everyone && !narrowed)
            },
        )
}

/// The policy document: `Statement` as a list, or as a single object.
fn policy() -> impl Strategy<Value = (String, bool)> {
    (prop::collection::vec(statement(), 1..5), any::<bool>()).prop_map(|(statements, single)| {
        let public = statements.iter().any(|(_, p)| *p);
        let mut values: Vec<Value> = statements.into_iter().map(|(s, _)| s).collect();
        let body = if single && values.len() == 1 {
            values.remove(0)
        } else {
            Value::Array(values)
        };
        (
            json!({"Version": "2012-10-17", "Statement": body}).to_string(),
            public,
        )
    })
}

const DENIED: &[&str] = &[
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
];
const OWN: &str = "111111111111";

proptest! {
    #[test]
    fn public_statements_agree_with_the_reference((document, public) in policy()) {
        let parsed = BucketPolicy::parse(&document).expect("a well-formed policy");
        prop_assert_eq!(!parsed.public_statements().is_empty(), public, "{}", document);
    }

    /// S3.6: the actions of the list that a statement lets another account perform, with
    /// wildcards in `Action`, `NotAction`, and principals of every shape.
    #[test]
    fn cross_account_grants_agree_with_the_reference(
        patterns in prop::collection::vec(prop::sample::select(vec![
            "s3:*", "*", "s3:Put*", "s3:PutBucket?cl", "S3:PUTOBJECTACL", "s3:Get*",
            "s3:DeleteBucketPolicy", "s3:Put*Policy", "s3:?ut*", "iam:*", "s3:PutObject",
        ]), 1..4),
        not_action in any::<bool>(),
        principal in prop::sample::select(vec![
            (json!("*"), true),
            (json!({"AWS": "222222222222"}), true),
            (json!({"AWS": ["arn:aws:iam::222222222222:role/x"]}), true),
            (json!({"AWS": ["arn:aws:iam::*:root"]}), true),
            (json!({"AWS": OWN}), false),
            (json!({"AWS": format!("arn:aws:iam::{OWN}:root")}), false),
            (json!({"Service": "logging.s3.amazonaws.com"}), false),
            (json!({"CanonicalUser": "owner"}), false),
            (json!({"CanonicalUser": "someone-else"}), true),
        ]),
        effect in prop::sample::select(vec!["Allow", "Deny"]),
    ) {
        let (principal, external) = principal;
        let verb = if not_action { "NotAction" } else { "Action" };
        let document = json!({"Statement": {"Effect": effect, "Principal": principal, verb: patterns, "Resource": "*"}}).to_string();
        let expected: Vec<&str> = if effect == "Allow" && external {
            DENIED
                .iter()
                .copied()
                .filter(|a| {
                    let listed = patterns.iter().any(|p| reference_match(&p.to_lowercase(), &a.to_lowercase()));
                    listed != not_action
                })
                .collect()
        } else {
            Vec::new()
        };
        let parsed = BucketPolicy::parse(&document).expect("a well-formed policy");
        let grants = parsed
            .cross_account_grants(OWN, Some("owner"), DENIED)
            .expect("the owner is known");
        let actual: Vec<&str> = grants.iter().flat_map(|g| g.actions.iter().copied()).collect();
        prop_assert_eq!(actual, expected, "{}", document);
    }

    #[test]
    fn insecure_transport_deny_agrees_with_the_reference(
        effect in prop::sample::select(vec![("Deny", true), ("Allow", false)]),
        principal in prop::sample::select(vec![(json!("*"), true), (json!({"AWS": "*"}), true), (json!({"AWS": "222222222222"}), false)]),
        action in prop::sample::select(vec![(json!("s3:*"), true), (json!("*"), true), (json!(["S3:*"]), true), (json!("s3:GetObject"), false), (json!("s3:Get*"), false)]),
        resource in prop::sample::select(vec![(json!("*"), true), (json!("arn:aws:s3:::b/*"), true), (json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"]), true), (json!("arn:aws:s3:::*"), true), (json!("arn:aws:s3:::other/*"), false), (json!("arn:aws:s3:::b"), false)]),
        condition in prop::sample::select(vec![
            (json!({"Bool": {"aws:SecureTransport": "false"}}), true),
            (json!({"Bool": {"aws:SecureTransport": false}}), true),
            (json!({"BoolIfExists": {"AWS:SecureTransport": "FALSE"}}), true),
            (json!({"Bool": {"aws:SecureTransport": "true"}}), false),
            (json!({"StringEquals": {"aws:SecureTransport": "false"}}), false),
            (json!({}), false),
        ]),
    ) {
        let document = json!({"Statement": [{
            "Effect": effect.0, "Principal": principal.0, "Action": action.0,
            "Resource": resource.0, "Condition": condition.0,
        }]}).to_string();
        let expected = effect.1 && principal.1 && action.1 && resource.1 && condition.1;
        let parsed = BucketPolicy::parse(&document).expect("a well-formed policy");
        prop_assert_eq!(parsed.denies_insecure_transport("b"), expected, "{}", document);
    }

    #[test]
    fn wildcard_match_agrees_with_the_reference(
        pattern in "[ab*?é]{0,10}",
        text in "[abé]{0,12}",
    ) {
        prop_assert_eq!(wildcard_match(&pattern, &text), reference_match(&pattern, &text), "{} ~ {}", pattern, text);
    }

    /// A mute entry matches when its rule pattern, resource pattern, region list and every tag
    /// pattern match; the first such entry wins.
    #[test]
    fn mutelist_matching_agrees_with_the_reference(
        entries in prop::collection::vec(mute_entry(), 1..4),
        rule_id in prop::sample::select(vec!["ec2_sg_open_ssh", "ec2_sg_open_rdp", "s3_bucket_public_policy"]),
        arn in prop::sample::select(vec![
            "arn:aws:ec2:eu-west-1:1:security-group/sg-bastion1",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-web",
            "arn:aws:s3:::www",
        ]),
        region in prop::sample::select(vec!["eu-west-1", "us-east-1"]),
        tags in prop::collection::btree_map(
            prop::sample::select(vec!["Team", "Purpose"]).prop_map(String::from),
            prop::sample::select(vec!["web", "public-website", "wéb"]).prop_map(String::from),
            0..3,
        ),
    ) {
        let document = Value::Array(entries.clone()).to_string();
        let list = Mutelist::parse(&document, "/compliance/scanner/config/mutelist").expect("a valid mute list");
        let expected = entries.iter().position(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str);
            text("rule_id").is_some_and(|p| reference_match(p, rule_id))
                && text("resource").is_none_or(|p| reference_match(p, arn))
                && e.get("regions").and_then(Value::as_array).is_none_or(|r| r.is_empty() || r.iter().any(|r| r == region))
                && e.get("tags").and_then(Value::as_object).is_none_or(|want| want.iter().all(|(k, v)| {
                    tags.get(k).is_some_and(|actual| reference_match(v.as_str().expect("a tag pattern"), actual))
                }))
        });
        let actual = list
            .matching(rule_id, arn, region, &tags)
            .map(|m| list.entries.iter().position(|e| std::ptr::eq(e, m)).expect("an entry of the list"));
        prop_assert_eq!(actual, expected, "{} on {} {} {:?}", document, rule_id, arn, tags);
    }
}

fn mute_entry() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "ec2_sg_open_ssh",
            "ec2_*",
            "*_open_???",
            "s3_*",
            "*",
            "ec2_sg_open_rd?",
        ]),
        prop::option::of(prop::sample::select(vec![
            "*",
            "arn:aws:ec2:*:*:security-group/sg-bastion*",
            "arn:aws:s3:::w?w",
            "arn:aws:ec2:*",
        ])),
        prop::collection::btree_map(
            prop::sample::select(vec!["Team", "Purpose"]).prop_map(String::from),
            prop::sample::select(vec!["web", "*", "w?b", "public-*"]).prop_map(String::from),
            0..2,
        ),
        prop::sample::subsequence(vec!["eu-west-1", "us-east-1"], 0..=2),
    )
        .prop_map(
            |(rule_id, resource, tags, regions): (_, _, BTreeMap<String, String>, _)| {
                let mut e = json!({"rule_id": rule_id, "reason": "accepted", "regions": regions});
                // An entry needs a resource or tags: without either, it mutes every resource.
                let resource = if resource.is_none() && tags.is_empty() {
                    Some("*")
                } else {
                    resource
                };
                if let Some(resource) = resource {
                    e["resource"] = json!(resource);
                }
                if !tags.is_empty() {
                    e["tags"] = json!(tags);
                }
                e
            },
        )
}
