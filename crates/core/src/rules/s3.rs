//! S3 checks. A public ACL or policy only counts when Block Public Access (bucket or account)
//! does not neutralise it; an attribute S3 did not let us read is never guessed at.

use serde_json::json;

use super::controls::{NIST_PUBLIC_ACCESS, PCI_V3_2_1_PUBLIC_BUCKET};
use super::{Check, Context, Controls, Rule, Runbook};
use crate::finding::{Outcome, Severity};
use crate::model::{Bucket, PublicAccessBlock, S3AccountSettings};
use crate::policy::BucketPolicy;

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[
    S3_BUCKET_DEFAULT_ENCRYPTION,
    S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    S3_BUCKET_PUBLIC_ACL,
    S3_BUCKET_PUBLIC_POLICY,
    S3_BUCKET_VERSIONING,
    S3_BUCKET_ACCESS_LOGGING,
    S3_BUCKET_SECURE_TRANSPORT,
    S3_BUCKET_MFA_DELETE,
    S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
];

pub const API_ENCRYPTION: &str = "GetBucketEncryption";
pub const API_PUBLIC_ACCESS_BLOCK: &str = "GetPublicAccessBlock";
pub const API_ACL: &str = "GetBucketAcl";
pub const API_POLICY: &str = "GetBucketPolicy";
pub const API_VERSIONING: &str = "GetBucketVersioning";
pub const API_LOGGING: &str = "GetBucketLogging";
pub const API_TAGGING: &str = "GetBucketTagging";

const PUBLIC_GROUPS: &[&str] = &[
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// Runs `check` unless one of the APIs it needs failed for this bucket.
pub(super) fn needs(bucket: &Bucket, apis: &[&str], check: impl FnOnce() -> Outcome) -> Outcome {
    if apis.iter().any(|api| bucket.is_unreadable(api)) {
        Outcome::NotApplicable
    } else {
        check()
    }
}

/// True when either the bucket's or the account's Block Public Access has `setting` on.
fn blocked_by(bucket: &Bucket, ctx: &Context, setting: fn(&PublicAccessBlock) -> bool) -> bool {
    bucket.public_access_block.as_ref().is_some_and(setting)
        || ctx.account_public_access_block.is_some_and(setting)
}

pub const S3_BUCKET_DEFAULT_ENCRYPTION: Rule = Rule {
    id: "s3_bucket_default_encryption",
    title: "S3 bucket has no default server-side encryption",
    severity: Severity::Medium,
    rationale: "Objects written without an explicit encryption header are stored unencrypted unless the bucket sets a default.",
    remediation: "Set default encryption on the bucket (SSE-KMS with a customer managed key, or at least SSE-S3).",
    remediation_url: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
    runbook: Some(Runbook::EncryptS3Bucket),
    controls: Controls {
        cis_v1_4_0: &["2.1.1"],
        pci_dss: &["v3.2.1/3.4"],
        // The retired S3.4's list (S3.17, KMS only, lists SC-12(2) and no AU-9(2)/AU-9(7)).
        nist_800_53_r5: &["AU-9", "AU-9(2)", "AU-9(7)", "CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(default_encryption),
};

pub fn default_encryption(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_ENCRYPTION], || match &bucket.encryption {
        Some(_) => Outcome::Pass,
        None => Outcome::fail(json!({ "server_side_encryption": null })),
    })
}

pub const S3_BUCKET_PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "s3_bucket_public_access_block",
    title: "S3 bucket does not enable all four Block Public Access settings",
    severity: Severity::High,
    rationale: "Block Public Access is the guard rail that keeps a later ACL or policy mistake from exposing data.",
    remediation: "Enable BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets on the bucket.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.8"],
        security_hub: &["S3.8"],
        cis_v1_4_0: &["2.1.5"],
        cis_v3_0_0: &["2.1.4"],
        cis_v5_0_0: &["2.1.4"],
        pci_dss: &["v4.0.1/1.4.4"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
    },
    parameters: &[],
    check: Check::Bucket(bucket_public_access_block),
};

pub fn bucket_public_access_block(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_PUBLIC_ACCESS_BLOCK], || {
        all_four_blocked(bucket.public_access_block.as_ref())
    })
}

pub const S3_ACCOUNT_PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "s3_account_public_access_block",
    title: "S3 account-level Block Public Access is not fully enabled",
    severity: Severity::Medium,
    rationale: "The account-wide setting protects every bucket, including ones created later without their own block.",
    remediation: "Enable all four Block Public Access settings for the account (S3 console > Block Public Access settings for this account).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-1",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.1"],
        security_hub: &["S3.1"],
        cis_v1_4_0: &["2.1.5"],
        cis_v3_0_0: &["2.1.4"],
        cis_v5_0_0: &["2.1.4"],
        pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4", "v3.2.1/1.3.6", "v4.0.1/1.4.4"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
    },
    parameters: &[],
    check: Check::S3Account(account_public_access_block),
};

pub fn account_public_access_block(account: &S3AccountSettings, _: &Context) -> Outcome {
    all_four_blocked(account.public_access_block.as_ref())
}

/// Block Public Access, of a bucket or of the account, passes only with all four settings on.
fn all_four_blocked(pab: Option<&PublicAccessBlock>) -> Outcome {
    match pab {
        Some(pab) if pab.all_enabled() => Outcome::Pass,
        Some(pab) => Outcome::fail(json!({ "disabled_settings": pab.disabled_settings() })),
        None => Outcome::fail(json!({ "public_access_block": null })),
    }
}

pub const S3_BUCKET_PUBLIC_ACL: Rule = Rule {
    id: "s3_bucket_public_acl",
    title: "S3 bucket grants access to everyone through its ACL",
    severity: Severity::Critical,
    rationale: "A grant to AllUsers or AuthenticatedUsers lets anyone on the internet read or write the bucket.",
    remediation: "Remove the AllUsers / AuthenticatedUsers grants, disable ACLs (Object Ownership: BucketOwnerEnforced) and enable Block Public Access.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-2",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.2", "S3.3"],
        security_hub: &["S3.2", "S3.3"],
        pci_dss: PCI_V3_2_1_PUBLIC_BUCKET,
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(public_acl),
};

pub fn public_acl(bucket: &Bucket, ctx: &Context) -> Outcome {
    needs(bucket, &[API_ACL, API_PUBLIC_ACCESS_BLOCK], || {
        if blocked_by(bucket, ctx, |p| p.ignore_public_acls) {
            return Outcome::Pass;
        }
        let public: Vec<_> = bucket
            .acl_grants
            .iter()
            .filter(|g| {
                g.grantee_uri
                    .as_deref()
                    .is_some_and(|uri| PUBLIC_GROUPS.contains(&uri))
            })
            .map(|g| json!({ "grantee": g.grantee_uri, "permission": g.permission }))
            .collect();
        if public.is_empty() {
            Outcome::Pass
        } else {
            Outcome::fail(json!({ "public_grants": public }))
        }
    })
}

pub const S3_BUCKET_PUBLIC_POLICY: Rule = Rule {
    id: "s3_bucket_public_policy",
    title: "S3 bucket policy grants access to everyone",
    severity: Severity::Critical,
    rationale: "An Allow to the wildcard principal without a narrowing condition makes the bucket public.",
    remediation: "Restrict the policy to named principals or add a fixed condition (aws:SourceVpce, aws:PrincipalOrgID, ...); enable Block Public Access.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-2",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.2", "S3.3"],
        security_hub: &["S3.2", "S3.3"],
        pci_dss: PCI_V3_2_1_PUBLIC_BUCKET,
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(public_policy),
};

pub fn public_policy(bucket: &Bucket, ctx: &Context) -> Outcome {
    needs(bucket, &[API_POLICY, API_PUBLIC_ACCESS_BLOCK], || {
        if blocked_by(bucket, ctx, |p| p.restrict_public_buckets) {
            return Outcome::Pass;
        }
        let Some(document) = &bucket.policy else {
            return Outcome::Pass;
        };
        let statements: Vec<_> = match BucketPolicy::parse(document) {
            Ok(policy) => policy
                .public_statements()
                .iter()
                .map(|s| json!({ "sid": s.sid, "actions": s.actions, "resources": s.resources }))
                .collect(),
            Err(_) => Vec::new(),
        };
        // S3's own verdict wins when it sees a public grant our reading does not.
        if statements.is_empty() && bucket.policy_is_public != Some(true) {
            Outcome::Pass
        } else {
            Outcome::fail(
                json!({ "public_statements": statements, "policy_status_is_public": bucket.policy_is_public }),
            )
        }
    })
}

pub const S3_BUCKET_SECURE_TRANSPORT: Rule = Rule {
    id: "s3_bucket_secure_transport",
    title: "S3 bucket policy does not deny requests without TLS",
    severity: Severity::Medium,
    rationale: "Without a Deny on aws:SecureTransport=false, clients may read and write data over plain HTTP.",
    remediation: "Add a policy statement: Deny, Principal *, Action s3:*, Resource the bucket and its objects, Condition Bool aws:SecureTransport false.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-5",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.5"],
        security_hub: &["S3.5"],
        cis_v1_4_0: &["2.1.2"],
        cis_v3_0_0: &["2.1.1"],
        cis_v5_0_0: &["2.1.1"],
        pci_dss: &["v3.2.1/4.1", "v4.0.1/4.2.1"],
        nist_800_53_r5: &["AC-17(2)", "AC-4", "IA-5(1)", "SC-12(3)", "SC-13", "SC-23", "SC-23(3)", "SC-7(4)", "SC-8", "SC-8(1)", "SC-8(2)", "SI-7(6)"],
    },
    parameters: &[],
    check: Check::Bucket(secure_transport),
};

pub fn secure_transport(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_POLICY], || {
        let enforced = bucket
            .policy
            .as_deref()
            .and_then(|doc| BucketPolicy::parse(doc).ok())
            .is_some_and(|policy| policy.denies_insecure_transport(&bucket.name));
        if enforced {
            Outcome::Pass
        } else {
            Outcome::fail(
                json!({ "has_policy": bucket.policy.is_some(), "denies_insecure_transport": false }),
            )
        }
    })
}

pub const S3_BUCKET_VERSIONING: Rule = Rule {
    id: "s3_bucket_versioning",
    title: "S3 bucket versioning is not enabled",
    severity: Severity::Low,
    rationale:
        "Without versioning an overwrite or delete, accidental or malicious, cannot be undone.",
    remediation: "Enable versioning on the bucket, with a lifecycle rule for noncurrent versions.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-14",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.14"],
        nist_800_53_r5: &[
            "AU-9(2)", "CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SC-5(2)", "SI-12",
            "SI-13(5)",
        ],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(versioning),
};

pub fn versioning(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_VERSIONING], || {
        match bucket.versioning.status.as_deref() {
            Some("Enabled") => Outcome::Pass,
            status => Outcome::fail(json!({ "versioning_status": status })),
        }
    })
}

pub const S3_BUCKET_MFA_DELETE: Rule = Rule {
    id: "s3_bucket_mfa_delete",
    title: "S3 bucket does not require MFA to delete versions",
    severity: Severity::Informational,
    rationale: "MFA delete stops a stolen credential from permanently deleting object versions or suspending versioning.",
    remediation: "Enable MFA delete with the root user's MFA device (PutBucketVersioning with MFADelete=Enabled).",
    remediation_url: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.20"],
        cis_v1_4_0: &["2.1.3"],
        cis_v3_0_0: &["2.1.2"],
        cis_v5_0_0: &["2.1.2"],
        nist_800_53_r5: &["CA-9(1)", "CM-2", "CM-2(2)", "CM-3", "SC-5(2)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(mfa_delete),
};

/// S3.20 "doesn't produce findings for buckets that have a lifecycle configuration" (MFA delete
/// cannot be used with one): such a bucket is not evaluated.
pub fn mfa_delete(bucket: &Bucket, _: &Context) -> Outcome {
    needs(
        bucket,
        &[API_VERSIONING, super::s3_protection::API_LIFECYCLE],
        || {
            if bucket.lifecycle_rules.is_some() {
                return Outcome::NotApplicable;
            }
            match bucket.versioning.mfa_delete.as_deref() {
                Some("Enabled") => Outcome::Pass,
                mfa => Outcome::fail(
                    json!({ "mfa_delete": mfa, "versioning_status": bucket.versioning.status }),
                ),
            }
        },
    )
}

pub const S3_BUCKET_ACCESS_LOGGING: Rule = Rule {
    id: "s3_bucket_access_logging",
    title: "S3 bucket server access logging is not enabled",
    severity: Severity::Medium,
    rationale: "Access logs are the record of who read or changed data, needed for investigations and audits.",
    remediation: "Enable server access logging to a dedicated log bucket.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-9",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.9"],
        security_hub: &["S3.9"],
        pci_dss: &["v4.0.1/10.2.1"],
        nist_800_53_r5: &["AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(3)", "AU-6(4)", "CA-7", "SC-7(9)", "SI-3(8)", "SI-4(20)", "SI-7(8)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Bucket(access_logging),
};

pub fn access_logging(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_LOGGING], || match &bucket.logging_target {
        Some(_) => Outcome::Pass,
        None => Outcome::fail(json!({ "logging_target": null })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AclGrant, BucketEncryption, BucketNotifications, BucketVersioning, Tags};
    use crate::rules::RuleParameters;

    const NO_PARAMETERS: &RuleParameters = &RuleParameters::DEFAULTS;

    const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    fn ctx(account: Option<&PublicAccessBlock>) -> Context<'_> {
        Context {
            account_id: "1",
            required_tags: &[],
            account_public_access_block: account,
            parameters: NO_PARAMETERS,
        }
    }

    fn bucket() -> Bucket {
        Bucket {
            name: "b".into(),
            arn: Bucket::arn_for("b"),
            region: "eu-west-1".into(),
            encryption: Some(BucketEncryption { algorithm: "AES256".into(), kms_key_id: None }),
            public_access_block: Some(ALL_ON),
            acl_grants: vec![],
            policy: Some(r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#.into()),
            policy_is_public: None,
            versioning: BucketVersioning { status: Some("Enabled".into()), mfa_delete: Some("Enabled".into()) },
            logging_target: Some("logs".into()),
            owner_id: None,
            lifecycle_rules: None,
            replication_rules: None,
            notifications: BucketNotifications::default(),
            object_lock: None,
            tags: Tags::new(),
            unreadable: vec![],
        }
    }

    fn fails(o: &Outcome) -> bool {
        matches!(o, Outcome::Fail { .. })
    }

    #[test]
    fn hardened_bucket_passes_every_check() {
        let b = bucket();
        let c = ctx(None);
        for check in [
            default_encryption,
            bucket_public_access_block,
            public_acl,
            public_policy,
            secure_transport,
            versioning,
            mfa_delete,
            access_logging,
        ] {
            assert_eq!(check(&b, &c), Outcome::Pass);
        }
    }

    #[test]
    fn each_missing_setting_fails_its_check() {
        let c = ctx(None);
        let mut b = bucket();
        b.encryption = None;
        assert!(fails(&default_encryption(&b, &c)));
        let mut b = bucket();
        b.public_access_block = Some(PublicAccessBlock {
            block_public_policy: false,
            ..ALL_ON
        });
        match bucket_public_access_block(&b, &c) {
            Outcome::Fail { evidence: e, .. } => {
                assert_eq!(e["disabled_settings"], json!(["BlockPublicPolicy"]));
            }
            o => panic!("{o:?}"),
        }
        b.public_access_block = None;
        assert!(fails(&bucket_public_access_block(&b, &c)));
        let mut b = bucket();
        b.versioning = BucketVersioning {
            status: Some("Suspended".into()),
            mfa_delete: Some("Disabled".into()),
        };
        assert!(fails(&versioning(&b, &c)));
        assert!(fails(&mfa_delete(&b, &c)));
        b.lifecycle_rules = Some(vec![]);
        assert_eq!(
            mfa_delete(&b, &c),
            Outcome::NotApplicable,
            "S3.20 skips lifecycle buckets"
        );
        let mut b = bucket();
        b.logging_target = None;
        assert!(fails(&access_logging(&b, &c)));
        let mut b = bucket();
        b.policy = None;
        assert!(fails(&secure_transport(&b, &c)));
        b.policy = Some("not json".into());
        assert!(fails(&secure_transport(&b, &c)));
        assert_eq!(public_policy(&b, &c), Outcome::Pass);
    }

    #[test]
    fn public_acl_counts_only_when_not_ignored() {
        let mut b = bucket();
        b.acl_grants = vec![AclGrant {
            grantee_uri: Some("http://acs.amazonaws.com/groups/global/AllUsers".into()),
            grantee_id: None,
            permission: "READ".into(),
        }];
        assert_eq!(
            public_acl(&b, &ctx(None)),
            Outcome::Pass,
            "bucket IgnorePublicAcls neutralises"
        );
        b.public_access_block = None;
        assert!(fails(&public_acl(&b, &ctx(None))));
        assert_eq!(
            public_acl(&b, &ctx(Some(&ALL_ON))),
            Outcome::Pass,
            "account IgnorePublicAcls neutralises"
        );
        b.acl_grants[0].grantee_uri = Some("http://acs.amazonaws.com/groups/s3/LogDelivery".into());
        assert_eq!(public_acl(&b, &ctx(None)), Outcome::Pass);
    }

    #[test]
    fn public_policy_semantics() {
        let mut b = bucket();
        b.public_access_block = Some(PublicAccessBlock::default());
        b.policy = Some(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#.into());
        assert!(fails(&public_policy(&b, &ctx(None))));
        assert_eq!(public_policy(&b, &ctx(Some(&ALL_ON))), Outcome::Pass);
        b.policy = Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#.into());
        assert_eq!(public_policy(&b, &ctx(None)), Outcome::Pass);
        b.policy_is_public = Some(true);
        assert!(fails(&public_policy(&b, &ctx(None))), "S3's verdict wins");
    }

    #[test]
    fn unreadable_attributes_are_not_evaluated() {
        let mut b = bucket();
        b.policy = None;
        b.unreadable = vec![API_POLICY.into()];
        assert_eq!(secure_transport(&b, &ctx(None)), Outcome::NotApplicable);
        assert_eq!(public_policy(&b, &ctx(None)), Outcome::NotApplicable);
        assert_eq!(versioning(&b, &ctx(None)), Outcome::Pass);
    }

    #[test]
    fn account_block_public_access() {
        let account = |pab| S3AccountSettings {
            region: "us-east-1".into(),
            public_access_block: pab,
        };
        assert_eq!(
            account_public_access_block(&account(Some(ALL_ON)), &ctx(None)),
            Outcome::Pass
        );
        assert!(fails(&account_public_access_block(
            &account(None),
            &ctx(None)
        )));
        assert!(fails(&account_public_access_block(
            &account(Some(PublicAccessBlock {
                ignore_public_acls: false,
                ..ALL_ON
            })),
            &ctx(None)
        )));
    }
}
