//! S3 access point checks: Block Public Access of access points (S3.19) and Multi-Region
//! Access Points (S3.24). Both settings are fixed when the access point is created.

use serde_json::json;

use super::controls::NIST_PUBLIC_ACCESS;
use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::{AccessPoint, MultiRegionAccessPoint, PublicAccessBlock};

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    S3_ACCESS_POINT_PUBLIC_ACCESS_BLOCK,
    S3_MULTI_REGION_ACCESS_POINT_PUBLIC_ACCESS_BLOCK,
];

pub const API_GET_ACCESS_POINT: &str = "GetAccessPoint";

pub const S3_ACCESS_POINT_PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "s3_access_point_public_access_block",
    title: "S3 access point does not enable all four Block Public Access settings",
    severity: Severity::Critical,
    rationale: "An access point's Block Public Access keeps a later access point policy mistake from exposing the bucket's data through it.",
    remediation: "Block Public Access of an access point cannot be changed: create a replacement with all four settings on (the default), move clients to it and delete the old one.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-19",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.19"],
        security_hub: &["S3.19"],
        pci_dss: &["v4.0.1/1.4.4"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::AccessPoint(access_point_public_access_block),
};

/// S3.19 (s3-access-point-public-access-blocks): fails when any of the access point's four
/// Block Public Access settings is off.
pub fn access_point_public_access_block(ap: &AccessPoint, _: &Context) -> Outcome {
    if ap.unreadable.iter().any(|a| a == API_GET_ACCESS_POINT) {
        return Outcome::NotApplicable;
    }
    all_four(ap.public_access_block.as_ref())
}

pub const S3_MULTI_REGION_ACCESS_POINT_PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "s3_multi_region_access_point_public_access_block",
    title: "S3 Multi-Region Access Point does not enable all four Block Public Access settings",
    severity: Severity::High,
    rationale: "A Multi-Region Access Point without Block Public Access can expose the data of every bucket behind it.",
    remediation: "Block Public Access of a Multi-Region Access Point cannot be changed: create a replacement with all four settings on (the default) and delete the old one.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-24",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["S3.24"],
        security_hub: &["S3.24"],
        pci_dss: &["v4.0.1/1.4.4"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::MultiRegionAccessPoint(multi_region_public_access_block),
};

/// S3.24 (s3-mrap-public-access-blocked): fails when any of the four settings is off.
pub fn multi_region_public_access_block(mrap: &MultiRegionAccessPoint, _: &Context) -> Outcome {
    all_four(mrap.public_access_block.as_ref())
}

fn all_four(pab: Option<&PublicAccessBlock>) -> Outcome {
    match pab {
        Some(pab) if pab.all_enabled() => Outcome::Pass,
        Some(pab) => Outcome::fail(json!({ "disabled_settings": pab.disabled_settings() })),
        None => Outcome::fail(json!({ "public_access_block": null })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleParameters;

    const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    const DEFAULTS: &RuleParameters = &RuleParameters::DEFAULTS;

    fn ctx() -> Context<'static> {
        Context {
            account_id: "1",
            required_tags: &[],
            account_public_access_block: None,
            parameters: DEFAULTS,
        }
    }

    fn ap(pab: Option<PublicAccessBlock>) -> AccessPoint {
        AccessPoint {
            name: "ap".into(),
            arn: "arn:aws:s3:eu-west-1:1:accesspoint/ap".into(),
            region: "eu-west-1".into(),
            bucket: "b".into(),
            public_access_block: pab,
            unreadable: vec![],
        }
    }

    #[test]
    fn access_point_needs_all_four_settings() {
        assert_eq!(
            access_point_public_access_block(&ap(Some(ALL_ON)), &ctx()),
            Outcome::Pass
        );
        let partial = ap(Some(PublicAccessBlock {
            restrict_public_buckets: false,
            ..ALL_ON
        }));
        match access_point_public_access_block(&partial, &ctx()) {
            Outcome::Fail { evidence, .. } => {
                assert_eq!(
                    evidence["disabled_settings"],
                    json!(["RestrictPublicBuckets"])
                );
            }
            o => panic!("{o:?}"),
        }
        let mut unread = ap(None);
        unread.unreadable = vec![API_GET_ACCESS_POINT.into()];
        assert_eq!(
            access_point_public_access_block(&unread, &ctx()),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn multi_region_access_point_needs_all_four_settings() {
        let mrap = |pab| MultiRegionAccessPoint {
            name: "m".into(),
            arn: "arn:aws:s3::1:accesspoint/m.mrap".into(),
            region: "us-east-1".into(),
            public_access_block: pab,
        };
        assert_eq!(
            multi_region_public_access_block(&mrap(Some(ALL_ON)), &ctx()),
            Outcome::Pass
        );
        assert!(matches!(
            multi_region_public_access_block(&mrap(Some(PublicAccessBlock::default())), &ctx()),
            Outcome::Fail { .. }
        ));
    }
}
