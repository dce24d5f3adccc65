//! Manual RDS DB snapshots and DB cluster snapshots (RDS.1, RDS.4). Security Hub evaluates
//! both resource types under each control: one rule per (control, resource type) here, so each
//! finding names its own type.

use serde_json::json;

use super::controls::{NIST_ENCRYPTION_AT_REST, NIST_PUBLIC_ACCESS};
use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::DbSnapshot;

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    RDS_SNAPSHOT_PUBLIC,
    RDS_CLUSTER_SNAPSHOT_PUBLIC,
    RDS_SNAPSHOT_ENCRYPTED,
    RDS_CLUSTER_SNAPSHOT_ENCRYPTED,
];

/// The API whose answer RDS.1 needs, per snapshot type (recorded in `DbSnapshot::unreadable`).
pub const API_SNAPSHOT_ATTRIBUTES: &str = "DescribeDBSnapshotAttributes";
pub const API_CLUSTER_SNAPSHOT_ATTRIBUTES: &str = "DescribeDBClusterSnapshotAttributes";

const RDS_1: Controls = Controls {
    aws_fsbp: &["RDS.1"],
    security_hub: &["RDS.1"],
    pci_dss: &[
        "v3.2.1/1.2.1",
        "v3.2.1/1.3.1",
        "v3.2.1/1.3.4",
        "v3.2.1/1.3.6",
        "v3.2.1/7.2.1",
    ],
    nist_800_53_r5: NIST_PUBLIC_ACCESS,
    ..Controls::NONE
};

const RDS_4: Controls = Controls {
    aws_fsbp: &["RDS.4"],
    security_hub: &["RDS.4"],
    nist_800_53_r5: NIST_ENCRYPTION_AT_REST,
    ..Controls::NONE
};

pub const RDS_SNAPSHOT_PUBLIC: Rule = Rule {
    id: "rds_snapshot_public",
    title: "RDS DB snapshot is public",
    severity: Severity::Critical,
    rationale:
        "Any AWS account can restore a public snapshot, and with it every row of the database.",
    remediation:
        "Modify the snapshot attribute `restore` to remove `all` (DB snapshot visibility: Private).",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-1",
    runbook: None,
    controls: RDS_1,
    parameters: &[],
    check: Check::DbSnapshot(snapshot_public),
};

pub const RDS_CLUSTER_SNAPSHOT_PUBLIC: Rule = Rule {
    id: "rds_cluster_snapshot_public",
    title: "RDS DB cluster snapshot is public",
    check: Check::DbClusterSnapshot(snapshot_public),
    ..RDS_SNAPSHOT_PUBLIC
};

/// RDS.1: public when the `restore` attribute lists `all`. Unreadable attributes are a scan
/// error, not a guess.
pub fn snapshot_public(s: &DbSnapshot, _: &Context) -> Outcome {
    match s.is_public() {
        Some(true) => Outcome::fail(json!({ "restore": s.restore_accounts })),
        Some(false) => Outcome::Pass,
        None => Outcome::NotApplicable,
    }
}

pub const RDS_SNAPSHOT_ENCRYPTED: Rule = Rule {
    id: "rds_snapshot_encrypted",
    title: "RDS DB snapshot is not encrypted",
    severity: Severity::Medium,
    rationale: "An unencrypted snapshot holds the database's data in clear, and can be copied or shared as it is.",
    remediation: "Copy the snapshot with a KMS key (CopyDBSnapshot with KmsKeyId) and delete the unencrypted one.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-4",
    runbook: None,
    controls: RDS_4,
    parameters: &[],
    check: Check::DbSnapshot(snapshot_encrypted),
};

pub const RDS_CLUSTER_SNAPSHOT_ENCRYPTED: Rule = Rule {
    id: "rds_cluster_snapshot_encrypted",
    title: "RDS DB cluster snapshot is not encrypted",
    remediation: "Copy the snapshot with a KMS key (CopyDBClusterSnapshot with KmsKeyId) and delete the unencrypted one.",
    check: Check::DbClusterSnapshot(snapshot_encrypted),
    ..RDS_SNAPSHOT_ENCRYPTED
};

pub fn snapshot_encrypted(s: &DbSnapshot, _: &Context) -> Outcome {
    if s.encrypted {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "encrypted": false }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleParameters;

    const CTX: Context = Context {
        account_id: "1",
        required_tags: &[],
        account_public_access_block: None,
        parameters: &RuleParameters::DEFAULTS,
    };

    fn snapshot(restore: Option<&[&str]>, encrypted: bool) -> DbSnapshot {
        DbSnapshot {
            id: "s".into(),
            arn: "arn:aws:rds:us-east-1:1:snapshot:s".into(),
            region: "us-east-1".into(),
            engine: "postgres".into(),
            snapshot_type: "manual".into(),
            encrypted,
            restore_accounts: restore.map(|r| r.iter().map(|a| (*a).to_string()).collect()),
            ..DbSnapshot::default()
        }
    }

    #[test]
    fn public_means_restorable_by_all() {
        match snapshot_public(&snapshot(Some(&["111122223333", "all"]), true), &CTX) {
            Outcome::Fail { evidence, .. } => {
                assert_eq!(evidence, json!({"restore": ["111122223333", "all"]}));
            }
            other => panic!("{other:?}"),
        }
        // Shared with named accounts only: private.
        assert_eq!(
            snapshot_public(&snapshot(Some(&["111122223333"]), true), &CTX),
            Outcome::Pass
        );
        assert_eq!(
            snapshot_public(&snapshot(Some(&[]), true), &CTX),
            Outcome::Pass
        );
        // Attributes unreadable: not judged.
        assert_eq!(
            snapshot_public(&snapshot(None, true), &CTX),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn encryption() {
        assert_eq!(
            snapshot_encrypted(&snapshot(None, true), &CTX),
            Outcome::Pass
        );
        assert!(matches!(
            snapshot_encrypted(&snapshot(None, false), &CTX),
            Outcome::Fail { .. }
        ));
    }

    #[test]
    fn each_snapshot_type_has_its_own_rule_and_type() {
        use crate::model::ResourceType;
        assert_eq!(
            RDS_SNAPSHOT_PUBLIC.resource_type(),
            Some(ResourceType::AwsRdsDbSnapshot)
        );
        assert_eq!(
            RDS_CLUSTER_SNAPSHOT_PUBLIC.resource_type(),
            Some(ResourceType::AwsRdsDbClusterSnapshot)
        );
        let mut inventory = crate::model::Inventory::new("1");
        inventory.db_snapshots = vec![snapshot(Some(&["all"]), false)];
        inventory.db_cluster_snapshots = vec![DbSnapshot {
            id: "cs".into(),
            arn: "arn:aws:rds:us-east-1:1:cluster-snapshot:cs".into(),
            ..snapshot(Some(&["all"]), false)
        }];
        let evaluation = crate::evaluate(&inventory, &Default::default());
        let mut found: Vec<(&str, &str, &str)> = evaluation
            .findings
            .iter()
            .map(|f| {
                (
                    f.rule_id.as_str(),
                    f.resource_id.as_str(),
                    f.resource_type.as_str(),
                )
            })
            .collect();
        found.sort_unstable();
        assert_eq!(
            found,
            vec![
                (
                    "rds_cluster_snapshot_encrypted",
                    "cs",
                    "AwsRdsDbClusterSnapshot"
                ),
                (
                    "rds_cluster_snapshot_public",
                    "cs",
                    "AwsRdsDbClusterSnapshot"
                ),
                ("rds_snapshot_encrypted", "s", "AwsRdsDbSnapshot"),
                ("rds_snapshot_public", "s", "AwsRdsDbSnapshot"),
            ]
        );
    }
}
