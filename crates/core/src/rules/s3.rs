//! S3 checks. A public ACL or policy only counts when Block Public Access (bucket or account)
//! does not neutralise it; an attribute S3 did not let us read is never guessed at.

use serde_json::json;

use super::Context;
use crate::finding::Outcome;
use crate::model::{Bucket, PublicAccessBlock, S3AccountSettings};
use crate::policy::BucketPolicy;

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
fn needs(bucket: &Bucket, apis: &[&str], check: impl FnOnce() -> Outcome) -> Outcome {
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

pub fn default_encryption(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_ENCRYPTION], || match &bucket.encryption {
        Some(_) => Outcome::Pass,
        None => Outcome::Fail(json!({ "server_side_encryption": null })),
    })
}

pub fn bucket_public_access_block(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_PUBLIC_ACCESS_BLOCK], || {
        match &bucket.public_access_block {
            Some(pab) if pab.all_enabled() => Outcome::Pass,
            Some(pab) => Outcome::Fail(json!({ "disabled_settings": pab.disabled_settings() })),
            None => Outcome::Fail(json!({ "public_access_block": null })),
        }
    })
}

pub fn account_public_access_block(account: &S3AccountSettings, _: &Context) -> Outcome {
    match &account.public_access_block {
        Some(pab) if pab.all_enabled() => Outcome::Pass,
        Some(pab) => Outcome::Fail(json!({ "disabled_settings": pab.disabled_settings() })),
        None => Outcome::Fail(json!({ "public_access_block": null })),
    }
}

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
            Outcome::Fail(json!({ "public_grants": public }))
        }
    })
}

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
            Outcome::Fail(
                json!({ "public_statements": statements, "policy_status_is_public": bucket.policy_is_public }),
            )
        }
    })
}

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
            Outcome::Fail(
                json!({ "has_policy": bucket.policy.is_some(), "denies_insecure_transport": false }),
            )
        }
    })
}

pub fn versioning(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_VERSIONING], || {
        match bucket.versioning.status.as_deref() {
            Some("Enabled") => Outcome::Pass,
            status => Outcome::Fail(json!({ "versioning_status": status })),
        }
    })
}

pub fn mfa_delete(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_VERSIONING], || {
        match bucket.versioning.mfa_delete.as_deref() {
            Some("Enabled") => Outcome::Pass,
            mfa => Outcome::Fail(
                json!({ "mfa_delete": mfa, "versioning_status": bucket.versioning.status }),
            ),
        }
    })
}

pub fn access_logging(bucket: &Bucket, _: &Context) -> Outcome {
    needs(bucket, &[API_LOGGING], || match &bucket.logging_target {
        Some(_) => Outcome::Pass,
        None => Outcome::Fail(json!({ "logging_target": null })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AclGrant, BucketEncryption, BucketVersioning, Tags};

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
            tags: Tags::new(),
            unreadable: vec![],
        }
    }

    fn fails(o: Outcome) -> bool {
        matches!(o, Outcome::Fail(_))
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
        assert!(fails(default_encryption(&b, &c)));
        let mut b = bucket();
        b.public_access_block = Some(PublicAccessBlock {
            block_public_policy: false,
            ..ALL_ON
        });
        match bucket_public_access_block(&b, &c) {
            Outcome::Fail(e) => assert_eq!(e["disabled_settings"], json!(["BlockPublicPolicy"])),
            o => panic!("{o:?}"),
        }
        b.public_access_block = None;
        assert!(fails(bucket_public_access_block(&b, &c)));
        let mut b = bucket();
        b.versioning = BucketVersioning {
            status: Some("Suspended".into()),
            mfa_delete: Some("Disabled".into()),
        };
        assert!(fails(versioning(&b, &c)));
        assert!(fails(mfa_delete(&b, &c)));
        let mut b = bucket();
        b.logging_target = None;
        assert!(fails(access_logging(&b, &c)));
        let mut b = bucket();
        b.policy = None;
        assert!(fails(secure_transport(&b, &c)));
        b.policy = Some("not json".into());
        assert!(fails(secure_transport(&b, &c)));
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
        assert!(fails(public_acl(&b, &ctx(None))));
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
        assert!(fails(public_policy(&b, &ctx(None))));
        assert_eq!(public_policy(&b, &ctx(Some(&ALL_ON))), Outcome::Pass);
        b.policy = Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#.into());
        assert_eq!(public_policy(&b, &ctx(None)), Outcome::Pass);
        b.policy_is_public = Some(true);
        assert!(fails(public_policy(&b, &ctx(None))), "S3's verdict wins");
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
        assert!(fails(account_public_access_block(
            &account(None),
            &ctx(None)
        )));
        assert!(fails(account_public_access_block(
            &account(Some(PublicAccessBlock {
                ignore_public_acls: false,
                ..ALL_ON
            })),
            &ctx(None)
        )));
    }
}
