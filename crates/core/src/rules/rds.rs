//! RDS DB instance checks. Aurora keeps backups, deletion protection and Multi-AZ at the
//! cluster level, so those instance checks do not apply to Aurora instances. Read replicas are
//! judged like any instance (the model does not record the replica source yet; Security Hub's
//! RDS.11 skips them).

use serde_json::json;

use super::controls::{NIST_BACKUPS, NIST_ENCRYPTION_AT_REST, NIST_NETWORK_BOUNDARY};
use super::{Check, Context, Controls, IntegerParameter, Parameter, Rule, Runbook};
use crate::finding::{Outcome, Severity};
use crate::model::DbInstance;

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[
    RDS_INSTANCE_PUBLIC,
    RDS_INSTANCE_STORAGE_ENCRYPTED,
    RDS_INSTANCE_BACKUP_ENABLED,
    RDS_INSTANCE_BACKUP_RETENTION,
    RDS_INSTANCE_DELETION_PROTECTION,
    RDS_INSTANCE_MULTI_AZ,
    RDS_INSTANCE_AUTO_MINOR_VERSION_UPGRADE,
    RDS_INSTANCE_IAM_AUTHENTICATION,
    RDS_INSTANCE_COPY_TAGS_TO_SNAPSHOT,
];

fn flag(ok: bool, field: &str, value: impl serde::Serialize) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ field: value }))
    }
}

pub const RDS_INSTANCE_PUBLIC: Rule = Rule {
    id: "rds_instance_public",
    title: "RDS DB instance is publicly accessible",
    severity: Severity::Critical,
    rationale: "A public endpoint exposes the database to credential attacks and engine exploits from anywhere.",
    remediation: "Modify the instance with PubliclyAccessible=false and reach it from inside the VPC.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-2",
    runbook: Some(Runbook::PrivateRdsInstance),
    controls: Controls {
        aws_fsbp: &["RDS.2"],
        security_hub: &["RDS.2"],
        cis_v3_0_0: &["2.3.3"],
        cis_v5_0_0: &["2.2.3"],
        pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4", "v3.2.1/1.3.6", "v3.2.1/7.2.1", "v4.0.1/1.4.4"],
        nist_800_53_r5: NIST_NETWORK_BOUNDARY,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(publicly_accessible),
};

pub fn publicly_accessible(db: &DbInstance, _: &Context) -> Outcome {
    flag(
        !db.publicly_accessible,
        "publicly_accessible",
        db.publicly_accessible,
    )
}

pub const RDS_INSTANCE_STORAGE_ENCRYPTED: Rule = Rule {
    id: "rds_instance_storage_encrypted",
    title: "RDS DB instance storage is not encrypted",
    severity: Severity::Medium,
    rationale: "Data, logs, backups and snapshots of an unencrypted instance are stored in clear.",
    remediation: "Restore an encrypted copy from an encrypted snapshot copy and switch over; encryption cannot be turned on in place.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-3",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.3"],
        security_hub: &["RDS.3"],
        cis_v1_4_0: &["2.3.1"],
        cis_v3_0_0: &["2.3.1"],
        cis_v5_0_0: &["2.2.1"],
        nist_800_53_r5: NIST_ENCRYPTION_AT_REST,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(storage_encrypted),
};

pub fn storage_encrypted(db: &DbInstance, _: &Context) -> Outcome {
    flag(
        db.storage_encrypted,
        "storage_encrypted",
        db.storage_encrypted,
    )
}

/// FSBP RDS.11 (automated backups, kept long enough): two rules, one finding per instance.
const RDS_11: Controls = Controls {
    aws_fsbp: &["RDS.11"],
    security_hub: &["RDS.11"],
    nist_800_53_r5: NIST_BACKUPS,
    ..Controls::NONE
};

pub const RDS_INSTANCE_BACKUP_ENABLED: Rule = Rule {
    id: "rds_instance_backup_enabled",
    title: "RDS DB instance has automated backups turned off",
    severity: Severity::Medium,
    rationale:
        "Without automated backups there is no point-in-time recovery after corruption or deletion.",
    remediation: "Set a backup retention period of at least 7 days.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-11",
    runbook: None,
    controls: RDS_11,
    parameters: &[],
    check: Check::DbInstance(backup_enabled),
};

pub fn backup_enabled(db: &DbInstance, _: &Context) -> Outcome {
    if db.is_aurora() {
        return Outcome::NotApplicable;
    }
    flag(
        db.backup_retention_period > 0,
        "backup_retention_period",
        db.backup_retention_period,
    )
}

/// Security Hub RDS.11's `backupRetentionMinimum`: days of automated backups an instance keeps.
pub const BACKUP_RETENTION_MINIMUM: IntegerParameter = IntegerParameter {
    rule_id: "rds_instance_backup_retention",
    name: "backupRetentionMinimum",
    description: "Minimum backup retention period in days",
    default: 7,
    min: 7,
    max: 35,
};

pub const RDS_INSTANCE_BACKUP_RETENTION: Rule = Rule {
    id: "rds_instance_backup_retention",
    title: "RDS DB instance keeps automated backups for fewer days than required",
    severity: Severity::Medium,
    rationale: "Corruption or a bad change is often noticed days later; a short retention leaves no clean restore point by then.",
    remediation: "Raise the backup retention period to at least the minimum (7 days unless rule-parameters sets backupRetentionMinimum).",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-11",
    runbook: None,
    controls: RDS_11,
    parameters: &[Parameter::Integer(BACKUP_RETENTION_MINIMUM)],
    check: Check::DbInstance(backup_retention),
};

/// RDS.11 fails an instance whose backups are off or kept for fewer days than the minimum.
/// Off is `rds_instance_backup_enabled`'s finding (same control), so this rule judges only the
/// length of a retention that exists: one finding per instance, as Security Hub reports one.
pub fn backup_retention(db: &DbInstance, ctx: &Context) -> Outcome {
    if db.is_aurora() || db.backup_retention_period <= 0 {
        return Outcome::NotApplicable;
    }
    let minimum = ctx.parameters.integer(&BACKUP_RETENTION_MINIMUM);
    if i64::from(db.backup_retention_period) >= minimum {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "backup_retention_period": db.backup_retention_period,
            "backup_retention_minimum": minimum,
        }))
    }
}

pub const RDS_INSTANCE_DELETION_PROTECTION: Rule = Rule {
    id: "rds_instance_deletion_protection",
    title: "RDS DB instance does not have deletion protection",
    severity: Severity::Low,
    rationale: "Deletion protection stops an accidental or malicious DeleteDBInstance.",
    remediation: "Modify the instance with DeletionProtection=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-8",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.8"],
        security_hub: &["RDS.8"],
        nist_800_53_r5: &["CM-3", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(deletion_protection),
};

/// The engines RDS.8 evaluates (its `databaseEngines` parameter, not customizable): not
/// Aurora, whose cluster holds deletion protection (RDS.7), nor Neptune or DocumentDB.
pub const DELETION_PROTECTION_ENGINES: &[&str] = &[
    "mariadb",
    "mysql",
    "custom-oracle-ee",
    "oracle-ee-cdb",
    "oracle-se2-cdb",
    "oracle-ee",
    "oracle-se2",
    "oracle-se1",
    "oracle-se",
    "postgres",
    "sqlserver-ee",
    "sqlserver-se",
    "sqlserver-ex",
    "sqlserver-web",
];

pub fn deletion_protection(db: &DbInstance, _: &Context) -> Outcome {
    if !DELETION_PROTECTION_ENGINES.contains(&db.engine.as_str()) {
        return Outcome::NotApplicable;
    }
    flag(
        db.deletion_protection,
        "deletion_protection",
        db.deletion_protection,
    )
}

pub const RDS_INSTANCE_MULTI_AZ: Rule = Rule {
    id: "rds_instance_multi_az",
    title: "RDS DB instance is not Multi-AZ",
    severity: Severity::Medium,
    rationale: "A single-AZ instance is down for the length of an AZ outage or a host failure.",
    remediation: "Modify the instance with MultiAZ=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-5",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.5"],
        security_hub: &["RDS.5"],
        cis_v5_0_0: &["2.2.4"],
        nist_800_53_r5: &["CP-10", "CP-6(2)", "SC-36", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(multi_az),
};

/// RDS.5 does not apply to instances of a Multi-AZ DB cluster, nor to Aurora instances, whose
/// availability is the cluster's (RDS.15).
pub fn multi_az(db: &DbInstance, _: &Context) -> Outcome {
    if db.is_aurora() || db.in_cluster() {
        return Outcome::NotApplicable;
    }
    flag(db.multi_az, "multi_az", db.multi_az)
}

pub const RDS_INSTANCE_AUTO_MINOR_VERSION_UPGRADE: Rule = Rule {
    id: "rds_instance_auto_minor_version_upgrade",
    title: "RDS DB instance does not apply minor version upgrades automatically",
    severity: Severity::High,
    rationale: "Minor versions carry security fixes; without automatic upgrades they wait for someone to remember.",
    remediation: "Modify the instance with AutoMinorVersionUpgrade=true.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-13",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.13"],
        security_hub: &["RDS.13"],
        cis_v3_0_0: &["2.3.2"],
        cis_v5_0_0: &["2.2.2"],
        pci_dss: &["v4.0.1/6.3.3"],
        nist_800_53_r5: &["SI-2", "SI-2(2)", "SI-2(4)", "SI-2(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(auto_minor_version_upgrade),
};

pub fn auto_minor_version_upgrade(db: &DbInstance, _: &Context) -> Outcome {
    flag(
        db.auto_minor_version_upgrade,
        "auto_minor_version_upgrade",
        db.auto_minor_version_upgrade,
    )
}

pub const RDS_INSTANCE_IAM_AUTHENTICATION: Rule = Rule {
    id: "rds_instance_iam_authentication",
    title: "RDS DB instance does not use IAM database authentication",
    severity: Severity::Medium,
    rationale: "IAM authentication replaces long-lived database passwords with short-lived tokens.",
    remediation:
        "Modify the instance with EnableIAMDatabaseAuthentication=true and grant rds-db:connect.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-10",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.10"],
        security_hub: &["RDS.10"],
        nist_800_53_r5: &["AC-2(1)", "AC-3", "AC-3(15)", "AC-3(7)", "AC-6"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(iam_authentication),
};

/// IAM authentication exists only for MySQL, MariaDB, PostgreSQL and their Aurora flavours.
pub fn iam_authentication(db: &DbInstance, _: &Context) -> Outcome {
    let supported = ["mysql", "mariadb", "postgres", "aurora"]
        .iter()
        .any(|engine| db.engine.starts_with(engine));
    if !supported {
        return Outcome::NotApplicable;
    }
    flag(
        db.iam_database_authentication,
        "iam_database_authentication",
        db.iam_database_authentication,
    )
}

pub const RDS_INSTANCE_COPY_TAGS_TO_SNAPSHOT: Rule = Rule {
    id: "rds_instance_copy_tags_to_snapshot",
    title: "RDS DB instance does not copy tags to snapshots",
    severity: Severity::Low,
    rationale:
        "Untagged snapshots lose ownership and classification, and escape tag-based access control.",
    remediation: "Modify the instance with CopyTagsToSnapshot=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-17",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.17"],
        security_hub: &["RDS.17"],
        nist_800_53_r5: &["CA-9(1)", "CM-2", "CM-2(2)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(copy_tags_to_snapshot),
};

pub fn copy_tags_to_snapshot(db: &DbInstance, _: &Context) -> Outcome {
    if db.is_aurora() {
        return Outcome::NotApplicable;
    }
    flag(
        db.copy_tags_to_snapshot,
        "copy_tags_to_snapshot",
        db.copy_tags_to_snapshot,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;
    use crate::rules::RuleParameters;

    const CTX: Context = Context {
        account_id: "1",
        required_tags: &[],
        account_public_access_block: None,
        parameters: &RuleParameters::DEFAULTS,
    };

    fn db(engine: &str, hardened: bool) -> DbInstance {
        DbInstance {
            id: "db".into(),
            arn: "arn:aws:rds:us-east-1:1:db:db".into(),
            region: "us-east-1".into(),
            engine: engine.into(),
            publicly_accessible: !hardened,
            storage_encrypted: hardened,
            backup_retention_period: if hardened { 7 } else { 0 },
            deletion_protection: hardened,
            multi_az: hardened,
            auto_minor_version_upgrade: hardened,
            iam_database_authentication: hardened,
            copy_tags_to_snapshot: hardened,
            db_cluster_identifier: None,
            monitoring_interval: 60,
            enabled_cloudwatch_logs_exports: Vec::new(),
            port: Some(5433),
            master_username: Some("csadmin".into()),
            tags: Tags::new(),
        }
    }

    const CHECKS: [fn(&DbInstance, &Context) -> Outcome; 8] = [
        publicly_accessible,
        storage_encrypted,
        backup_enabled,
        deletion_protection,
        multi_az,
        auto_minor_version_upgrade,
        iam_authentication,
        copy_tags_to_snapshot,
    ];

    #[test]
    fn hardened_passes_and_insecure_fails_everything() {
        for check in CHECKS {
            assert_eq!(check(&db("postgres", true), &CTX), Outcome::Pass);
            assert!(matches!(
                check(&db("postgres", false), &CTX),
                Outcome::Fail { .. }
            ));
        }
    }

    fn retention(days: i32) -> DbInstance {
        DbInstance {
            backup_retention_period: days,
            ..db("postgres", true)
        }
    }

    fn evidence(outcome: Outcome) -> serde_json::Value {
        match outcome {
            Outcome::Fail { evidence, .. } => evidence,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn retention_below_the_minimum_fails_with_both_numbers() {
        assert_eq!(
            evidence(backup_retention(&retention(3), &CTX)),
            json!({"backup_retention_period": 3, "backup_retention_minimum": 7})
        );
        assert!(matches!(
            backup_retention(&retention(6), &CTX),
            Outcome::Fail { .. }
        ));
        assert_eq!(backup_retention(&retention(7), &CTX), Outcome::Pass);
        assert_eq!(backup_retention(&retention(10), &CTX), Outcome::Pass);
    }

    #[test]
    fn the_minimum_is_a_rule_parameter() {
        let fourteen = RuleParameters::parse(
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 14}}"#,
        )
        .unwrap();
        let ctx = Context {
            parameters: &fourteen,
            ..CTX
        };
        assert_eq!(
            evidence(backup_retention(&retention(10), &ctx)),
            json!({"backup_retention_period": 10, "backup_retention_minimum": 14})
        );
        assert_eq!(backup_retention(&retention(14), &ctx), Outcome::Pass);
        assert_eq!(backup_retention(&retention(35), &ctx), Outcome::Pass);
    }

    #[test]
    fn retention_does_not_judge_aurora_or_backups_that_are_off() {
        let aurora = DbInstance {
            backup_retention_period: 1,
            ..db("aurora-mysql", true)
        };
        assert_eq!(backup_retention(&aurora, &CTX), Outcome::NotApplicable);
        // Backups off: rds_instance_backup_enabled fails RDS.11 for this instance instead.
        assert_eq!(
            backup_retention(&retention(0), &CTX),
            Outcome::NotApplicable
        );
        assert!(matches!(
            backup_enabled(&retention(0), &CTX),
            Outcome::Fail { .. }
        ));
    }

    /// Through the engine: one RDS.11 finding per failing instance, never two.
    #[test]
    fn one_rds_11_finding_per_instance() {
        let mut inventory = crate::model::Inventory::new("1");
        inventory.db_instances = vec![
            DbInstance {
                id: "db-off".into(),
                arn: "arn:aws:rds:us-east-1:1:db:db-off".into(),
                ..retention(0)
            },
            DbInstance {
                id: "db-short".into(),
                arn: "arn:aws:rds:us-east-1:1:db:db-short".into(),
                ..retention(3)
            },
            DbInstance {
                id: "db-week".into(),
                arn: "arn:aws:rds:us-east-1:1:db:db-week".into(),
                ..retention(7)
            },
        ];
        let evaluation = crate::evaluate(&inventory, &Default::default());
        let rds_11: Vec<(&str, &str)> = evaluation
            .findings
            .iter()
            .filter(|f| f.compliance.aws_fsbp.contains(&"RDS.11".to_string()))
            .map(|f| (f.rule_id.as_str(), f.resource_id.as_str()))
            .collect();
        assert_eq!(
            rds_11,
            vec![
                ("rds_instance_backup_enabled", "db-off"),
                ("rds_instance_backup_retention", "db-short"),
            ]
        );
        let retention_checks = evaluation.checks_by_rule["rds_instance_backup_retention"];
        assert_eq!(
            (retention_checks.evaluated, retention_checks.passed),
            (2, 1)
        );
    }

    #[test]
    fn cluster_level_and_engine_specific_checks_do_not_apply() {
        let aurora = db("aurora-postgresql", false);
        assert_eq!(backup_enabled(&aurora, &CTX), Outcome::NotApplicable);
        assert_eq!(deletion_protection(&aurora, &CTX), Outcome::NotApplicable);
        assert_eq!(multi_az(&aurora, &CTX), Outcome::NotApplicable);
        assert!(matches!(
            publicly_accessible(&aurora, &CTX),
            Outcome::Fail { .. }
        ));
        assert_eq!(
            iam_authentication(&db("sqlserver-ex", false), &CTX),
            Outcome::NotApplicable
        );
        for engine in ["neptune", "docdb", "db2-se"] {
            assert_eq!(
                deletion_protection(&db(engine, false), &CTX),
                Outcome::NotApplicable
            );
        }
        let multi_az_cluster_member = DbInstance {
            db_cluster_identifier: Some("cluster".into()),
            ..db("postgres", false)
        };
        assert_eq!(
            multi_az(&multi_az_cluster_member, &CTX),
            Outcome::NotApplicable
        );
    }
}
