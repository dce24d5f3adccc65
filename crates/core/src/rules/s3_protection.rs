//! S3 bucket checks beyond public access: cross-account policy grants (S3.6), ACLs (S3.12),
//! lifecycle (S3.10, S3.13), replication (S3.7), event notifications (S3.11), Object Lock
//! (S3.15) and KMS encryption (S3.17). Each follows the Security Hub control and the AWS Config
//! rule it names; an attribute S3 did not let us read is never guessed at.

use serde_json::json;

use super::parameters::{IntegerListParameter, StringListParameter};
use super::s3::{needs, API_ACL, API_ENCRYPTION, API_POLICY, API_VERSIONING};
use super::{Check, Context, Controls, Parameter, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::Bucket;
use crate::policy::{wildcard_match, BucketPolicy};

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    S3_BUCKET_CROSS_ACCOUNT_DENIED_ACTIONS,
    S3_BUCKET_ACL_USER_ACCESS,
    S3_BUCKET_LIFECYCLE,
    S3_BUCKET_VERSIONED_LIFECYCLE,
    S3_BUCKET_CROSS_REGION_REPLICATION,
    S3_BUCKET_EVENT_NOTIFICATIONS,
    S3_BUCKET_OBJECT_LOCK,
    S3_BUCKET_KMS_ENCRYPTION,
];

pub const API_LIFECYCLE: &str = "GetBucketLifecycleConfiguration";
pub const API_REPLICATION: &str = "GetBucketReplication";
pub const API_NOTIFICATION: &str = "GetBucketNotificationConfiguration";
pub const API_OBJECT_LOCK: &str = "GetObjectLockConfiguration";

/// S3.6's `blacklistedactionpatterns` (not customizable).
pub const S3_6_DENIED_ACTIONS: &[&str] = &[
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
];

pub const S3_BUCKET_CROSS_ACCOUNT_DENIED_ACTIONS: Rule = Rule {
    id: "s3_bucket_cross_account_denied_actions",
    title: "S3 bucket policy lets other AWS accounts change the bucket's access or encryption",
    severity: Severity::High,
    rationale: "A principal of another account that may rewrite the bucket policy or ACLs, or the encryption configuration, can take the bucket over or expose its data.",
    remediation: "Remove s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration and s3:PutObjectAcl (and wildcards covering them) from statements that allow principals of other accounts.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-6",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.6"],
        security_hub: &["S3.6"],
        nist_800_53_r5: &["CA-9(1)", "CM-2"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(cross_account_denied_actions),
};

/// S3.6 (s3-bucket-blacklisted-actions-prohibited): fails when an `Allow` statement lets a
/// principal of another account (or everyone) perform a denied action; the Config rule reads
/// only the `Principal`, not conditions.
pub fn cross_account_denied_actions(bucket: &Bucket, ctx: &Context) -> Outcome {
    needs(bucket, &[API_POLICY], || {
        let Some(document) = &bucket.policy else {
            return Outcome::Pass;
        };
        let Ok(policy) = BucketPolicy::parse(document) else {
            return Outcome::Pass;
        };
        let owner = if bucket.is_unreadable(API_ACL) {
            None
        } else {
            bucket.owner_id.as_deref()
        };
        match policy.cross_account_grants(ctx.account_id, owner, S3_6_DENIED_ACTIONS) {
            Ok(grants) if grants.is_empty() => Outcome::Pass,
            Ok(grants) => Outcome::fail(json!({
                "statements": grants
                    .iter()
                    .map(|g| json!({
                        "sid": g.statement.sid,
                        "principals": g.principals,
                        "denied_actions_allowed": g.actions,
                    }))
                    .collect::<Vec<_>>(),
            })),
            // A CanonicalUser principal and no owner id to compare it with.
            Err(_) => Outcome::NotApplicable,
        }
    })
}

pub const S3_BUCKET_ACL_USER_ACCESS: Rule = Rule {
    id: "s3_bucket_acl_user_access",
    title: "S3 bucket ACL grants access to someone other than the bucket owner",
    severity: Severity::Medium,
    rationale: "ACLs are a legacy access mechanism outside IAM and bucket policies; grants in them are easy to overlook.",
    remediation: "Move the access the ACL grants into the bucket policy, then disable ACLs (Object Ownership: Bucket owner enforced).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-12",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.12"],
        security_hub: &["S3.12"],
        nist_800_53_r5: &["AC-2(1)", "AC-3", "AC-3(15)", "AC-3(7)", "AC-6"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(acl_user_access),
};

/// S3.12 (s3-bucket-acl-prohibited): fails when the bucket ACL grants anything to a grantee
/// other than the bucket owner (another account, a group such as AllUsers or LogDelivery).
/// With ACLs disabled (Object Ownership `BucketOwnerEnforced`) S3 answers an ACL that gives
/// the owner full control only, so such a bucket passes without another call.
pub fn acl_user_access(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_ACL], || {
        let others: Vec<_> = bucket
            .acl_grants
            .iter()
            .filter(|g| g.grantee_uri.is_some() || g.grantee_id != bucket.owner_id)
            .map(|g| {
                json!({ "grantee": g.grantee_uri.as_ref().or(g.grantee_id.as_ref()), "permission": g.permission })
            })
            .collect();
        if others.is_empty() {
            Outcome::Pass
        } else {
            Outcome::fail(json!({ "acl_grants_to_others": others }))
        }
    })
}

const STORAGE_CLASSES: &[&str] = &[
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER",
    "GLACIER_IR",
    "DEEP_ARCHIVE",
];

/// S3.13 `targetTransitionDays` (Security Hub: optional integer, no default): an empty list
/// is "not set", one item is the value.
pub const TARGET_TRANSITION_DAYS: IntegerListParameter = IntegerListParameter {
    rule_id: "s3_bucket_lifecycle",
    name: "targetTransitionDays",
    description:
        "Days after object creation when objects are transitioned (at most one value; none: any)",
    default: &[],
    min: 1,
    max: 36500,
    max_items: 1,
};

/// S3.13 `targetExpirationDays` (optional integer, no default).
pub const TARGET_EXPIRATION_DAYS: IntegerListParameter = IntegerListParameter {
    rule_id: "s3_bucket_lifecycle",
    name: "targetExpirationDays",
    description:
        "Days after object creation when objects are deleted (at most one value; none: any)",
    default: &[],
    min: 1,
    max: 36500,
    max_items: 1,
};

/// S3.13 `targetTransitionStorageClass` (optional enum, no default).
pub const TARGET_TRANSITION_STORAGE_CLASS: StringListParameter = StringListParameter {
    rule_id: "s3_bucket_lifecycle",
    name: "targetTransitionStorageClass",
    description: "Destination storage class of the transition (at most one value; none: any)",
    default: &[],
    allowed: STORAGE_CLASSES,
    max_items: 1,
};

pub const S3_BUCKET_LIFECYCLE: Rule = Rule {
    id: "s3_bucket_lifecycle",
    title: "S3 bucket has no active lifecycle rule (matching the configured targets)",
    severity: Severity::Low,
    rationale: "Without lifecycle rules, objects and old versions are kept and paid for indefinitely, and retention is not enforced.",
    remediation: "Add an enabled lifecycle rule that transitions and/or expires objects as your retention policy requires.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-13",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.13"],
        security_hub: &["S3.13"],
        nist_800_53_r5: &["CP-10", "CP-6(2)", "CP-9", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[
        Parameter::IntegerList(TARGET_TRANSITION_DAYS),
        Parameter::IntegerList(TARGET_EXPIRATION_DAYS),
        Parameter::StringList(TARGET_TRANSITION_STORAGE_CLASS),
    ],
    check: Check::Bucket(lifecycle),
};

/// S3.13 (s3-lifecycle-policy-check): fails without an enabled lifecycle rule; with targets
/// set, an enabled rule must expire objects after `targetExpirationDays` and have a transition
/// after `targetTransitionDays` to `targetTransitionStorageClass` (each only when set).
pub fn lifecycle(bucket: &Bucket, ctx: &Context) -> Outcome {
    needs(bucket, &[API_LIFECYCLE], || {
        let transition_days = ctx.parameters.integer_list(&TARGET_TRANSITION_DAYS);
        let expiration_days = ctx.parameters.integer_list(&TARGET_EXPIRATION_DAYS);
        let storage_class = ctx.parameters.string_list(&TARGET_TRANSITION_STORAGE_CLASS);
        let rules = bucket.lifecycle_rules.as_deref().unwrap_or_default();
        let matches = rules.iter().filter(|r| r.enabled).any(|r| {
            let expiration_ok = expiration_days
                .first()
                .is_none_or(|d| r.expiration_days.map(i64::from) == Some(*d));
            let transition_ok = (transition_days.is_empty() && storage_class.is_empty())
                || r.transitions.iter().any(|t| {
                    transition_days
                        .first()
                        .is_none_or(|d| t.days.map(i64::from) == Some(*d))
                        && storage_class
                            .first()
                            .is_none_or(|c| t.storage_class.as_deref() == Some(c.as_str()))
                });
            expiration_ok && transition_ok
        });
        if matches {
            Outcome::Pass
        } else {
            Outcome::fail(json!({
                "lifecycle_rules": rules.len(),
                "enabled_rules": rules.iter().filter(|r| r.enabled).count(),
                "targetTransitionDays": transition_days.first(),
                "targetExpirationDays": expiration_days.first(),
                "targetTransitionStorageClass": storage_class.first(),
            }))
        }
    })
}

pub const S3_BUCKET_VERSIONED_LIFECYCLE: Rule = Rule {
    id: "s3_bucket_versioned_lifecycle",
    title: "Versioned S3 bucket has no active lifecycle rule",
    severity: Severity::Medium,
    rationale: "A versioned bucket keeps every overwritten and deleted object; without lifecycle rules noncurrent versions accumulate forever.",
    remediation: "Add an enabled lifecycle rule, for example one that expires noncurrent versions after a retention period.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-10",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.10"],
        nist_800_53_r5: &["CP-10", "CP-6(2)", "CP-9", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(versioned_lifecycle),
};

/// S3.10 (s3-version-lifecycle-policy-check): a bucket with versioning enabled fails without an
/// enabled lifecycle rule; other buckets are not evaluated.
pub fn versioned_lifecycle(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_VERSIONING, API_LIFECYCLE], || {
        if bucket.versioning.status.as_deref() != Some("Enabled") {
            return Outcome::NotApplicable;
        }
        let rules = bucket.lifecycle_rules.as_deref().unwrap_or_default();
        if rules.iter().any(|r| r.enabled) {
            Outcome::Pass
        } else {
            Outcome::fail(json!({ "versioning_status": "Enabled", "enabled_lifecycle_rules": 0 }))
        }
    })
}

pub const S3_BUCKET_CROSS_REGION_REPLICATION: Rule = Rule {
    id: "s3_bucket_cross_region_replication",
    title: "S3 bucket does not replicate to another region",
    severity: Severity::Low,
    rationale: "A copy in a second region keeps data available when a region, or the bucket, is lost.",
    remediation: "Enable versioning and add an enabled replication rule whose destination bucket is in another region.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-7",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.7"],
        pci_dss: &["v3.2.1/2.2"],
        nist_800_53_r5: &["AU-9(2)", "CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SC-36(2)", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(cross_region_replication),
};

/// S3.7 (s3-bucket-cross-region-replication-enabled): passes with an enabled replication rule
/// whose destination bucket is in another region. A destination outside the account, whose
/// region the scan did not read, is not guessed at: not evaluated unless another rule passes.
pub fn cross_region_replication(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_REPLICATION], || {
        let rules = bucket.replication_rules.as_deref().unwrap_or_default();
        let enabled: Vec<_> = rules.iter().filter(|r| r.enabled).collect();
        if enabled.iter().any(|r| {
            r.destination_region
                .as_deref()
                .is_some_and(|d| d != bucket.region)
        }) {
            return Outcome::Pass;
        }
        if enabled.iter().any(|r| r.destination_region.is_none()) {
            return Outcome::NotApplicable;
        }
        Outcome::fail(json!({
            "replication_rules": rules.len(),
            "enabled_destinations": enabled
                .iter()
                .map(|r| json!({ "bucket": r.destination_bucket, "region": r.destination_region }))
                .collect::<Vec<_>>(),
        }))
    })
}

const EVENT_TYPES: &[&str] = &[
    "s3:IntelligentTiering",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:ObjectAcl:Put",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Put",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ObjectRestore:Post",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Delete",
    "s3:ObjectTagging:Put",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:TestEvent",
];

/// S3.11 `eventTypes` (no default).
pub const EVENT_TYPES_PARAMETER: StringListParameter = StringListParameter {
    rule_id: "s3_bucket_event_notifications",
    name: "eventTypes",
    description: "Event types notifications must be enabled for (none: any notification)",
    default: &[],
    allowed: EVENT_TYPES,
    max_items: 28,
};

pub const S3_BUCKET_EVENT_NOTIFICATIONS: Rule = Rule {
    id: "s3_bucket_event_notifications",
    title: "S3 bucket has no event notifications (for the configured event types)",
    severity: Severity::Medium,
    rationale: "Event notifications alert teams to object creation, deletion and ACL changes that may signal unauthorised access.",
    remediation: "Configure event notifications to SNS, SQS, Lambda or EventBridge for the events you monitor.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-11",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.11"],
        nist_800_53_r5: &["CA-7", "SI-3(8)", "SI-4", "SI-4(4)"],
        ..Controls::NONE
    },
    parameters: &[Parameter::StringList(EVENT_TYPES_PARAMETER)],
    check: Check::Bucket(event_notifications),
};

/// S3.11 (s3-event-notifications-enabled): fails without any notification; with `eventTypes`
/// set, every listed type must be covered by a destination's events (a configured wildcard
/// such as `s3:ObjectCreated:*` covers its types; EventBridge receives every event).
pub fn event_notifications(bucket: &Bucket, ctx: &Context) -> Outcome {
    needs(bucket, &[API_NOTIFICATION], || {
        let n = &bucket.notifications;
        if !n.is_enabled() {
            return Outcome::fail(json!({ "event_notifications": null }));
        }
        if n.eventbridge {
            return Outcome::Pass;
        }
        let missing: Vec<String> = ctx
            .parameters
            .string_list(&EVENT_TYPES_PARAMETER)
            .into_iter()
            .filter(|wanted| {
                !n.event_types
                    .iter()
                    .flatten()
                    .any(|configured| wildcard_match(configured, wanted))
            })
            .collect();
        if missing.is_empty() {
            Outcome::Pass
        } else {
            Outcome::fail(json!({ "event_types_without_notification": missing }))
        }
    })
}

/// S3.15 `mode` (no default).
pub const OBJECT_LOCK_MODE: StringListParameter = StringListParameter {
    rule_id: "s3_bucket_object_lock",
    name: "mode",
    description: "Retention mode Object Lock must use by default (at most one value; none: any)",
    default: &[],
    allowed: &["GOVERNANCE", "COMPLIANCE"],
    max_items: 1,
};

pub const S3_BUCKET_OBJECT_LOCK: Rule = Rule {
    id: "s3_bucket_object_lock",
    title: "S3 bucket does not have Object Lock enabled (in the configured mode)",
    severity: Severity::Medium,
    rationale: "Object Lock stores objects write-once-read-many, so they cannot be deleted or overwritten during retention.",
    remediation: "Enable Object Lock on the bucket (versioning required) with a default retention in the mode your policy requires.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-15",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.15"],
        pci_dss: &["v4.0.1/10.5.1"],
        nist_800_53_r5: &["CP-6(2)"],
        ..Controls::NONE
    },
    parameters: &[Parameter::StringList(OBJECT_LOCK_MODE)],
    check: Check::Bucket(object_lock),
};

/// S3.15 (s3-bucket-default-lock-enabled): fails unless Object Lock is enabled; with `mode`
/// set, the default retention must use that mode.
pub fn object_lock(bucket: &Bucket, ctx: &Context) -> Outcome {
    needs(bucket, &[API_OBJECT_LOCK], || {
        let enabled = bucket.object_lock.as_ref().is_some_and(|l| l.enabled);
        let mode = bucket
            .object_lock
            .as_ref()
            .and_then(|l| l.default_retention_mode.as_deref());
        let wanted = ctx.parameters.string_list(&OBJECT_LOCK_MODE);
        if enabled && wanted.first().is_none_or(|w| Some(w.as_str()) == mode) {
            Outcome::Pass
        } else {
            Outcome::fail(json!({
                "object_lock_enabled": enabled,
                "default_retention_mode": mode,
                "required_mode": wanted.first(),
            }))
        }
    })
}

pub const S3_BUCKET_KMS_ENCRYPTION: Rule = Rule {
    id: "s3_bucket_kms_encryption",
    title: "S3 bucket is not encrypted by default with AWS KMS keys",
    severity: Severity::Medium,
    rationale: "SSE-KMS (or DSSE-KMS) adds key policies, key usage logging and key rotation control over SSE-S3.",
    remediation: "Set the bucket's default encryption to SSE-KMS or DSSE-KMS, preferably with a customer managed key.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-17",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.17"],
        pci_dss: &["v4.0.1/3.5.1"],
        nist_800_53_r5: &["AU-9", "CA-9(1)", "CM-3(6)", "SC-12(2)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(kms_encryption),
};

/// S3.17 (s3-default-encryption-kms): passes with default encryption `aws:kms` or
/// `aws:kms:dsse`; SSE-S3 (`AES256`) or no default encryption fails.
pub fn kms_encryption(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_ENCRYPTION], || {
        let algorithm = bucket.encryption.as_ref().map(|e| e.algorithm.as_str());
        match algorithm {
            Some("aws:kms" | "aws:kms:dsse") => Outcome::Pass,
            other => Outcome::fail(json!({ "sse_algorithm": other })),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AclGrant, BucketEncryption, BucketNotifications, BucketVersioning, LifecycleRule,
        LifecycleTransition, ObjectLock, PublicAccessBlock, ReplicationRule, Tags,
    };
    use crate::rules::RuleParameters;

    const ACCOUNT: &str = "111111111111";

    fn ctx(parameters: &RuleParameters) -> Context<'_> {
        Context {
            account_id: ACCOUNT,
            required_tags: &[],
            account_public_access_block: None,
            parameters,
        }
    }

    fn bucket() -> Bucket {
        Bucket {
            name: "b".into(),
            arn: Bucket::arn_for("b"),
            region: "eu-west-1".into(),
            encryption: Some(BucketEncryption {
                algorithm: "aws:kms".into(),
                kms_key_id: None,
            }),
            public_access_block: Some(PublicAccessBlock::default()),
            acl_grants: vec![AclGrant {
                grantee_uri: None,
                grantee_id: Some("owner".into()),
                permission: "FULL_CONTROL".into(),
            }],
            policy: None,
            policy_is_public: None,
            versioning: BucketVersioning {
                status: Some("Enabled".into()),
                mfa_delete: None,
            },
            logging_target: None,
            owner_id: Some("owner".into()),
            lifecycle_rules: Some(vec![LifecycleRule {
                enabled: true,
                expiration_days: Some(365),
                transitions: vec![LifecycleTransition {
                    days: Some(30),
                    storage_class: Some("STANDARD_IA".into()),
                }],
            }]),
            replication_rules: Some(vec![ReplicationRule {
                enabled: true,
                destination_bucket: "arn:aws:s3:::replica".into(),
                destination_region: Some("us-east-1".into()),
            }]),
            notifications: BucketNotifications {
                event_types: vec![vec!["s3:ObjectCreated:*".into()]],
                eventbridge: false,
            },
            object_lock: Some(ObjectLock {
                enabled: true,
                default_retention_mode: Some("GOVERNANCE".into()),
            }),
            tags: Tags::new(),
            unreadable: vec![],
        }
    }

    fn fails(o: &Outcome) -> bool {
        matches!(o, Outcome::Fail { .. })
    }

    fn params(json: &str) -> RuleParameters {
        RuleParameters::parse(json).unwrap()
    }

    #[test]
    fn compliant_bucket_passes_every_rule() {
        let b = bucket();
        let p = RuleParameters::DEFAULTS;
        for rule in RULES {
            let Check::Bucket(check) = rule.check else {
                panic!("{}", rule.id)
            };
            assert_eq!(check(&b, &ctx(&p)), Outcome::Pass, "{}", rule.id);
        }
    }

    #[test]
    fn cross_account_policy() {
        let p = RuleParameters::DEFAULTS;
        let mut b = bucket();
        b.policy = Some(r#"{"Statement":[{"Sid":"x","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:Put*","Resource":"arn:aws:s3:::b"}]}"#.into());
        match cross_account_denied_actions(&b, &ctx(&p)) {
            Outcome::Fail { evidence, .. } => {
                assert_eq!(
                    evidence["statements"][0]["denied_actions_allowed"]
                        .as_array()
                        .map(Vec::len),
                    Some(4)
                );
            }
            o => panic!("{o:?}"),
        }
        b.policy = Some(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/r"},"Action":"s3:*","Resource":"*"}]}"#.into());
        assert_eq!(cross_account_denied_actions(&b, &ctx(&p)), Outcome::Pass);
        b.unreadable = vec![API_POLICY.into()];
        assert_eq!(
            cross_account_denied_actions(&b, &ctx(&p)),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn acl_grants_beyond_the_owner_fail() {
        let p = RuleParameters::DEFAULTS;
        let mut b = bucket();
        b.acl_grants.push(AclGrant {
            grantee_uri: Some("http://acs.amazonaws.com/groups/s3/LogDelivery".into()),
            grantee_id: None,
            permission: "WRITE".into(),
        });
        assert!(fails(&acl_user_access(&b, &ctx(&p))));
        b.acl_grants.pop();
        b.acl_grants.push(AclGrant {
            grantee_uri: None,
            grantee_id: Some("another-account".into()),
            permission: "READ".into(),
        });
        assert!(fails(&acl_user_access(&b, &ctx(&p))));
        b.unreadable = vec![API_ACL.into()];
        assert_eq!(acl_user_access(&b, &ctx(&p)), Outcome::NotApplicable);
    }

    #[test]
    fn lifecycle_rules_and_targets() {
        let defaults = RuleParameters::DEFAULTS;
        let mut b = bucket();
        let matching = params(
            r#"{"s3_bucket_lifecycle":{"targetTransitionDays":[30],"targetExpirationDays":[365],"targetTransitionStorageClass":["STANDARD_IA"]}}"#,
        );
        assert_eq!(lifecycle(&b, &ctx(&matching)), Outcome::Pass);
        let other_class =
            params(r#"{"s3_bucket_lifecycle":{"targetTransitionStorageClass":["GLACIER"]}}"#);
        assert!(fails(&lifecycle(&b, &ctx(&other_class))));
        let other_expiry = params(r#"{"s3_bucket_lifecycle":{"targetExpirationDays":[30]}}"#);
        assert!(fails(&lifecycle(&b, &ctx(&other_expiry))));
        assert!(
            RuleParameters::parse(r#"{"s3_bucket_lifecycle":{"targetExpirationDays":[1,2]}}"#)
                .is_err()
        );
        if let Some(rules) = b.lifecycle_rules.as_mut() {
            rules[0].enabled = false;
        }
        assert!(fails(&lifecycle(&b, &ctx(&defaults))));
        assert!(fails(&versioned_lifecycle(&b, &ctx(&defaults))));
        b.lifecycle_rules = None;
        assert!(fails(&lifecycle(&b, &ctx(&defaults))));
        assert!(fails(&versioned_lifecycle(&b, &ctx(&defaults))));
        b.versioning.status = Some("Suspended".into());
        assert_eq!(
            versioned_lifecycle(&b, &ctx(&defaults)),
            Outcome::NotApplicable
        );
        b.unreadable = vec![API_LIFECYCLE.into()];
        assert_eq!(lifecycle(&b, &ctx(&defaults)), Outcome::NotApplicable);
    }

    #[test]
    fn replication_must_cross_regions() {
        let p = RuleParameters::DEFAULTS;
        let mut b = bucket();
        let rule = |region: Option<&str>, enabled| ReplicationRule {
            enabled,
            destination_bucket: "arn:aws:s3:::d".into(),
            destination_region: region.map(str::to_string),
        };
        b.replication_rules = Some(vec![rule(Some("eu-west-1"), true)]);
        assert!(
            fails(&cross_region_replication(&b, &ctx(&p))),
            "same region"
        );
        b.replication_rules = Some(vec![rule(Some("us-east-1"), false)]);
        assert!(fails(&cross_region_replication(&b, &ctx(&p))), "disabled");
        b.replication_rules = Some(vec![rule(None, true)]);
        assert_eq!(
            cross_region_replication(&b, &ctx(&p)),
            Outcome::NotApplicable
        );
        b.replication_rules = Some(vec![rule(None, true), rule(Some("us-east-1"), true)]);
        assert_eq!(cross_region_replication(&b, &ctx(&p)), Outcome::Pass);
        b.replication_rules = None;
        assert!(fails(&cross_region_replication(&b, &ctx(&p))));
    }

    #[test]
    fn notifications_and_event_types() {
        let defaults = RuleParameters::DEFAULTS;
        let mut b = bucket();
        let created =
            params(r#"{"s3_bucket_event_notifications":{"eventTypes":["s3:ObjectCreated:Put"]}}"#);
        assert_eq!(event_notifications(&b, &ctx(&created)), Outcome::Pass);
        let removed = params(
            r#"{"s3_bucket_event_notifications":{"eventTypes":["s3:ObjectRemoved:*","s3:ObjectCreated:Put"]}}"#,
        );
        match event_notifications(&b, &ctx(&removed)) {
            Outcome::Fail { evidence, .. } => {
                assert_eq!(
                    evidence["event_types_without_notification"],
                    json!(["s3:ObjectRemoved:*"])
                );
            }
            o => panic!("{o:?}"),
        }
        b.notifications.eventbridge = true;
        assert_eq!(event_notifications(&b, &ctx(&removed)), Outcome::Pass);
        b.notifications = BucketNotifications::default();
        assert!(fails(&event_notifications(&b, &ctx(&defaults))));
    }

    #[test]
    fn object_lock_and_mode() {
        let defaults = RuleParameters::DEFAULTS;
        let compliance = params(r#"{"s3_bucket_object_lock":{"mode":["COMPLIANCE"]}}"#);
        let mut b = bucket();
        assert!(fails(&object_lock(&b, &ctx(&compliance))));
        b.object_lock = Some(ObjectLock {
            enabled: true,
            default_retention_mode: None,
        });
        assert_eq!(object_lock(&b, &ctx(&defaults)), Outcome::Pass);
        b.object_lock = None;
        assert!(fails(&object_lock(&b, &ctx(&defaults))));
    }

    #[test]
    fn only_kms_encryption_passes_s3_17() {
        let p = RuleParameters::DEFAULTS;
        let mut b = bucket();
        b.encryption = Some(BucketEncryption {
            algorithm: "aws:kms:dsse".into(),
            kms_key_id: None,
        });
        assert_eq!(kms_encryption(&b, &ctx(&p)), Outcome::Pass);
        b.encryption = Some(BucketEncryption {
            algorithm: "AES256".into(),
            kms_key_id: None,
        });
        assert!(fails(&kms_encryption(&b, &ctx(&p))));
        b.encryption = None;
        assert!(fails(&kms_encryption(&b, &ctx(&p))));
    }
}
