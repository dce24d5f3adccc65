//! RDS DB cluster checks (Aurora and Multi-AZ DB clusters; DescribeDBClusters also lists
//! Neptune and DocumentDB clusters, which the controls that say so skip). Aurora is judged on
//! its cluster: backups, deletion protection, encryption, log exports, the port and the admin
//! user are cluster settings.

use serde_json::json;

use super::controls::NIST_ENCRYPTION_AT_REST;
use super::rds_instance::admin_username;
use super::{Check, Context, Controls, IntegerParameter, Parameter, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::DbCluster;

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    RDS_CLUSTER_DELETION_PROTECTION,
    RDS_CLUSTER_IAM_AUTHENTICATION,
    RDS_CLUSTER_BACKTRACKING,
    RDS_CLUSTER_MULTI_AZ,
    RDS_CLUSTER_COPY_TAGS_TO_SNAPSHOT,
    RDS_CLUSTER_DEFAULT_ADMIN_USERNAME,
    RDS_CLUSTER_ENCRYPTED,
    RDS_AURORA_MYSQL_AUDIT_LOGS,
    RDS_CLUSTER_AUTO_MINOR_VERSION_UPGRADE,
    RDS_AURORA_POSTGRESQL_LOGS,
    RDS_POSTGRESQL_CLUSTER_COPY_TAGS_TO_SNAPSHOT,
    RDS_MYSQL_CLUSTER_COPY_TAGS_TO_SNAPSHOT,
    RDS_CLUSTER_BACKUP_RETENTION,
];

fn flag(ok: bool, field: &str, value: impl serde::Serialize) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ field: value }))
    }
}

pub const RDS_CLUSTER_DELETION_PROTECTION: Rule = Rule {
    id: "rds_cluster_deletion_protection",
    title: "RDS DB cluster does not have deletion protection",
    severity: Severity::Medium,
    rationale: "Deletion protection stops an accidental or malicious DeleteDBCluster.",
    remediation: "Modify the cluster with DeletionProtection=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-7",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.7"],
        security_hub: &["RDS.7"],
        nist_800_53_r5: &["CM-3", "SC-5(2)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(deletion_protection),
};

pub fn deletion_protection(c: &DbCluster, _: &Context) -> Outcome {
    flag(
        c.deletion_protection,
        "deletion_protection",
        c.deletion_protection,
    )
}

pub const RDS_CLUSTER_IAM_AUTHENTICATION: Rule = Rule {
    id: "rds_cluster_iam_authentication",
    title: "RDS DB cluster does not use IAM database authentication",
    severity: Severity::Medium,
    rationale: "IAM authentication replaces long-lived database passwords with short-lived tokens.",
    remediation:
        "Modify the cluster with EnableIAMDatabaseAuthentication=true and grant rds-db:connect.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-12",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.12"],
        security_hub: &["RDS.12"],
        nist_800_53_r5: &["AC-2(1)", "AC-3", "AC-3(15)", "AC-3(7)", "AC-6"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(iam_authentication),
};

pub fn iam_authentication(c: &DbCluster, _: &Context) -> Outcome {
    flag(
        c.iam_database_authentication,
        "iam_database_authentication",
        c.iam_database_authentication,
    )
}

pub const RDS_CLUSTER_BACKTRACKING: Rule = Rule {
    id: "rds_cluster_backtracking",
    title: "Aurora MySQL DB cluster does not have backtracking",
    severity: Severity::Medium,
    rationale: "Backtracking rewinds the cluster to a point in time in minutes, without restoring a backup into a new cluster.",
    remediation: "Backtracking cannot be turned on for an existing cluster: create a clone or restore with BacktrackWindow set, and move to it.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-14",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.14"],
        security_hub: &["RDS.14"],
        nist_800_53_r5: &["CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(backtracking),
};

/// RDS.14 (AWS Config `aurora-mysql-backtracking-enabled`): Aurora MySQL clusters only.
pub fn backtracking(c: &DbCluster, _: &Context) -> Outcome {
    if !c.is_aurora_mysql() {
        return Outcome::NotApplicable;
    }
    let window = c.backtrack_window.unwrap_or(0);
    flag(window > 0, "backtrack_window", window)
}

pub const RDS_CLUSTER_MULTI_AZ: Rule = Rule {
    id: "rds_cluster_multi_az",
    title: "RDS DB cluster is not deployed in multiple Availability Zones",
    severity: Severity::Medium,
    rationale: "A cluster whose instances share one AZ is down for the length of an AZ outage.",
    remediation: "Add a reader instance in another Availability Zone (Aurora), or deploy a Multi-AZ DB cluster.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-15",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.15"],
        security_hub: &["RDS.15"],
        cis_v5_0_0: &["2.2.4"],
        nist_800_53_r5: &["CP-10", "CP-6(2)", "SC-36", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(multi_az),
};

pub fn multi_az(c: &DbCluster, _: &Context) -> Outcome {
    flag(c.multi_az, "multi_az", c.multi_az)
}

/// Controls of copying tags to snapshots (RDS.16, RDS.47, RDS.48 list the same NIST ids where
/// they list any).
const NIST_COPY_TAGS: &[&str] = &["CA-9(1)", "CM-2", "CM-2(2)"];

pub const RDS_CLUSTER_COPY_TAGS_TO_SNAPSHOT: Rule = Rule {
    id: "rds_cluster_copy_tags_to_snapshot",
    title: "Aurora DB cluster does not copy tags to snapshots",
    severity: Severity::Low,
    rationale:
        "Untagged snapshots lose ownership and classification, and escape tag-based access control.",
    remediation: "Modify the cluster with CopyTagsToSnapshot=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-16",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.16"],
        security_hub: &["RDS.16"],
        nist_800_53_r5: NIST_COPY_TAGS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(aurora_copy_tags),
};

pub fn aurora_copy_tags(c: &DbCluster, _: &Context) -> Outcome {
    copy_tags_if(c, c.is_aurora())
}

fn copy_tags_if(c: &DbCluster, applies: bool) -> Outcome {
    if !applies {
        return Outcome::NotApplicable;
    }
    flag(
        c.copy_tags_to_snapshot,
        "copy_tags_to_snapshot",
        c.copy_tags_to_snapshot,
    )
}

pub const RDS_POSTGRESQL_CLUSTER_COPY_TAGS_TO_SNAPSHOT: Rule = Rule {
    id: "rds_postgresql_cluster_copy_tags_to_snapshot",
    title: "RDS for PostgreSQL DB cluster does not copy tags to snapshots",
    severity: Severity::Low,
    rationale:
        "Untagged snapshots lose ownership and classification, and escape tag-based access control.",
    remediation: "Modify the cluster with CopyTagsToSnapshot=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-47",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.47"],
        security_hub: &["RDS.47"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(postgresql_copy_tags),
};

/// RDS.47: RDS for PostgreSQL (Multi-AZ) DB clusters, engine `postgres`.
pub fn postgresql_copy_tags(c: &DbCluster, _: &Context) -> Outcome {
    copy_tags_if(c, c.engine == "postgres")
}

pub const RDS_MYSQL_CLUSTER_COPY_TAGS_TO_SNAPSHOT: Rule = Rule {
    id: "rds_mysql_cluster_copy_tags_to_snapshot",
    title: "RDS for MySQL DB cluster does not copy tags to snapshots",
    severity: Severity::Low,
    rationale:
        "Untagged snapshots lose ownership and classification, and escape tag-based access control.",
    remediation: "Modify the cluster with CopyTagsToSnapshot=true.",
    remediation_url:
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-48",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.48"],
        security_hub: &["RDS.48"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(mysql_copy_tags),
};

/// RDS.48: RDS for MySQL (Multi-AZ) DB clusters, engine `mysql`.
pub fn mysql_copy_tags(c: &DbCluster, _: &Context) -> Outcome {
    copy_tags_if(c, c.engine == "mysql")
}

pub const RDS_CLUSTER_DEFAULT_ADMIN_USERNAME: Rule = Rule {
    id: "rds_cluster_default_admin_username",
    title: "RDS DB cluster uses a default administrator username",
    severity: Severity::Medium,
    rationale: "Default admin usernames are public knowledge; a custom one leaves an attacker to guess both halves of the credential.",
    remediation: "Create a new cluster (or restore a snapshot) with a custom MasterUsername and move to it; the admin username cannot be changed in place.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-24",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.24"],
        security_hub: &["RDS.24"],
        pci_dss: &["v4.0.1/2.2.2"],
        nist_800_53_r5: &["CA-9(1)", "CM-2"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(cluster_admin_username),
};

/// RDS.24: not for Neptune or DocumentDB clusters.
pub fn cluster_admin_username(c: &DbCluster, _: &Context) -> Outcome {
    if c.is_neptune_or_docdb() {
        return Outcome::NotApplicable;
    }
    c.master_username
        .as_deref()
        .map_or(Outcome::NotApplicable, admin_username)
}

pub const RDS_CLUSTER_ENCRYPTED: Rule = Rule {
    id: "rds_cluster_encrypted",
    title: "RDS DB cluster storage is not encrypted",
    severity: Severity::Medium,
    rationale: "Data, logs, backups and snapshots of an unencrypted cluster are stored in clear.",
    remediation: "Restore an encrypted copy from an encrypted snapshot copy and switch over; encryption cannot be turned on in place.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-27",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.27"],
        security_hub: &["RDS.27"],
        nist_800_53_r5: NIST_ENCRYPTION_AT_REST,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(encrypted),
};

pub fn encrypted(c: &DbCluster, _: &Context) -> Outcome {
    flag(
        c.storage_encrypted,
        "storage_encrypted",
        c.storage_encrypted,
    )
}

pub const RDS_AURORA_MYSQL_AUDIT_LOGS: Rule = Rule {
    id: "rds_aurora_mysql_audit_logs",
    title: "Aurora MySQL DB cluster does not publish audit logs to CloudWatch Logs",
    severity: Severity::Medium,
    rationale: "The audit log records logins, data changes and schema changes; in CloudWatch Logs it is kept durably and can raise alarms.",
    remediation: "Modify the cluster's CloudwatchLogsExportConfiguration to enable the audit log type (and server_audit_logging in its parameter group).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-34",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.34"],
        security_hub: &["RDS.34"],
        pci_dss: &["v4.0.1/10.2.1"],
        nist_800_53_r5: &[
            "AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(3)",
            "AU-6(4)", "CA-7", "SC-7(9)", "SI-3(8)", "SI-4(20)", "SI-7(8)",
        ],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(aurora_mysql_audit_logs),
};

fn missing_log(c: &DbCluster, log_type: &str) -> Outcome {
    if c.exports_log(log_type) {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "missing_log_types": [log_type],
            "enabled_cloudwatch_logs_exports": c.enabled_cloudwatch_logs_exports,
        }))
    }
}

/// RDS.34: Aurora MySQL clusters, except Aurora Serverless v1 (engine mode `serverless`).
pub fn aurora_mysql_audit_logs(c: &DbCluster, _: &Context) -> Outcome {
    if !c.is_aurora_mysql() || c.engine_mode.as_deref() == Some("serverless") {
        return Outcome::NotApplicable;
    }
    missing_log(c, "audit")
}

pub const RDS_CLUSTER_AUTO_MINOR_VERSION_UPGRADE: Rule = Rule {
    id: "rds_cluster_auto_minor_version_upgrade",
    title: "RDS Multi-AZ DB cluster does not apply minor version upgrades automatically",
    severity: Severity::Medium,
    rationale: "Minor versions carry security fixes; without automatic upgrades they wait for someone to remember.",
    remediation: "Modify the Multi-AZ DB cluster with AutoMinorVersionUpgrade=true.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-35",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.35"],
        security_hub: &["RDS.35"],
        pci_dss: &["v4.0.1/6.3.3"],
        nist_800_53_r5: &["SI-2", "SI-2(2)", "SI-2(4)", "SI-2(5)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(auto_minor_version_upgrade),
};

/// RDS.35: Multi-AZ DB clusters only (not Aurora, whose instances carry the setting: RDS.13).
pub fn auto_minor_version_upgrade(c: &DbCluster, _: &Context) -> Outcome {
    if !c.is_multi_az_db_cluster() {
        return Outcome::NotApplicable;
    }
    match c.auto_minor_version_upgrade {
        Some(on) => flag(on, "auto_minor_version_upgrade", on),
        None => Outcome::NotApplicable,
    }
}

pub const RDS_AURORA_POSTGRESQL_LOGS: Rule = Rule {
    id: "rds_aurora_postgresql_logs",
    title: "Aurora PostgreSQL DB cluster does not publish PostgreSQL logs to CloudWatch Logs",
    severity: Severity::Medium,
    rationale: "The PostgreSQL log records connections, errors and statements; in CloudWatch Logs it is kept durably and can raise alarms.",
    remediation: "Modify the cluster's CloudwatchLogsExportConfiguration to enable the postgresql log type.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-37",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.37"],
        security_hub: &["RDS.37"],
        pci_dss: &["v4.0.1/10.4.2"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbCluster(aurora_postgresql_logs),
};

pub fn aurora_postgresql_logs(c: &DbCluster, _: &Context) -> Outcome {
    if c.engine != "aurora-postgresql" {
        return Outcome::NotApplicable;
    }
    missing_log(c, "postgresql")
}

/// Security Hub RDS.50's `minimumBackupRetentionPeriod`.
pub const MINIMUM_BACKUP_RETENTION_PERIOD: IntegerParameter = IntegerParameter {
    rule_id: "rds_cluster_backup_retention",
    name: "minimumBackupRetentionPeriod",
    description: "The minimum backup retention period in days for the control to check",
    default: 7,
    min: 7,
    max: 35,
};

pub const RDS_CLUSTER_BACKUP_RETENTION: Rule = Rule {
    id: "rds_cluster_backup_retention",
    title: "RDS DB cluster keeps automated backups for fewer days than required",
    severity: Severity::Medium,
    rationale: "Corruption or a bad change is often noticed days later; a short retention leaves no clean restore point by then.",
    remediation: "Modify the cluster's BackupRetentionPeriod to at least the minimum (7 days unless rule-parameters sets minimumBackupRetentionPeriod).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-50",
    runbook: None,
    controls: Controls {
        // Not in the FSBP list of controls [SH-FSBP]; its page lists no related requirements.
        security_hub: &["RDS.50"],
        ..Controls::NONE
    },
    parameters: &[Parameter::Integer(MINIMUM_BACKUP_RETENTION_PERIOD)],
    check: Check::DbCluster(backup_retention),
};

/// RDS.50: every kind of DB cluster (Aurora, Multi-AZ, Neptune, DocumentDB).
pub fn backup_retention(c: &DbCluster, ctx: &Context) -> Outcome {
    let minimum = ctx.parameters.integer(&MINIMUM_BACKUP_RETENTION_PERIOD);
    if i64::from(c.backup_retention_period) >= minimum {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "backup_retention_period": c.backup_retention_period,
            "minimum_backup_retention_period": minimum,
        }))
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

    fn cluster(engine: &str, hardened: bool) -> DbCluster {
        let logs: &[&str] = match engine {
            "aurora-mysql" => &["audit", "error"],
            "aurora-postgresql" => &["postgresql"],
            _ => &[],
        };
        DbCluster {
            id: "c".into(),
            arn: "arn:aws:rds:us-east-1:1:cluster:c".into(),
            region: "us-east-1".into(),
            engine: engine.into(),
            engine_mode: Some("provisioned".into()),
            storage_encrypted: hardened,
            deletion_protection: hardened,
            iam_database_authentication: hardened,
            multi_az: hardened,
            copy_tags_to_snapshot: hardened,
            backup_retention_period: if hardened { 7 } else { 1 },
            backtrack_window: Some(if hardened { 3600 } else { 0 }),
            auto_minor_version_upgrade: Some(hardened),
            master_username: Some(if hardened { "csadmin" } else { "admin" }.into()),
            enabled_cloudwatch_logs_exports: if hardened {
                logs.iter().map(|l| (*l).to_string()).collect()
            } else {
                Vec::new()
            },
            tags: crate::model::Tags::new(),
        }
    }

    type ClusterCheck = fn(&DbCluster, &Context) -> Outcome;

    /// Each check with an engine it applies to.
    const APPLICABLE: [(ClusterCheck, &str); 13] = [
        (deletion_protection, "aurora-mysql"),
        (iam_authentication, "aurora-postgresql"),
        (backtracking, "aurora-mysql"),
        (multi_az, "postgres"),
        (aurora_copy_tags, "aurora-postgresql"),
        (postgresql_copy_tags, "postgres"),
        (mysql_copy_tags, "mysql"),
        (cluster_admin_username, "aurora-mysql"),
        (encrypted, "mysql"),
        (aurora_mysql_audit_logs, "aurora-mysql"),
        (auto_minor_version_upgrade, "postgres"),
        (aurora_postgresql_logs, "aurora-postgresql"),
        (backup_retention, "neptune"),
    ];

    #[test]
    fn hardened_passes_and_insecure_fails() {
        for (check, engine) in APPLICABLE {
            assert_eq!(
                check(&cluster(engine, true), &CTX),
                Outcome::Pass,
                "{engine}"
            );
            assert!(
                matches!(check(&cluster(engine, false), &CTX), Outcome::Fail { .. }),
                "{engine}"
            );
        }
    }

    #[test]
    fn engine_specific_checks_skip_other_engines() {
        let skipped: [(ClusterCheck, &str); 10] = [
            (backtracking, "aurora-postgresql"),
            (aurora_copy_tags, "postgres"),
            (postgresql_copy_tags, "aurora-postgresql"),
            (mysql_copy_tags, "aurora-mysql"),
            (cluster_admin_username, "docdb"),
            (cluster_admin_username, "neptune"),
            (aurora_mysql_audit_logs, "aurora-postgresql"),
            (auto_minor_version_upgrade, "aurora-mysql"),
            (aurora_postgresql_logs, "postgres"),
            (aurora_postgresql_logs, "aurora-mysql"),
        ];
        for (check, engine) in skipped {
            assert_eq!(
                check(&cluster(engine, false), &CTX),
                Outcome::NotApplicable,
                "{engine}"
            );
        }
        let serverless_v1 = DbCluster {
            engine_mode: Some("serverless".into()),
            ..cluster("aurora-mysql", false)
        };
        assert_eq!(
            aurora_mysql_audit_logs(&serverless_v1, &CTX),
            Outcome::NotApplicable
        );
        // The legacy Aurora MySQL 5.6 engine name is Aurora MySQL.
        assert!(matches!(
            backtracking(&cluster("aurora", false), &CTX),
            Outcome::Fail { .. }
        ));
    }

    #[test]
    fn retention_minimum_is_a_parameter() {
        let short = DbCluster {
            backup_retention_period: 3,
            ..cluster("aurora-mysql", true)
        };
        match backup_retention(&short, &CTX) {
            Outcome::Fail { evidence, .. } => assert_eq!(
                evidence,
                json!({"backup_retention_period": 3, "minimum_backup_retention_period": 7})
            ),
            other => panic!("{other:?}"),
        }
        let fourteen = RuleParameters::parse(
            r#"{"rds_cluster_backup_retention": {"minimumBackupRetentionPeriod": 14}}"#,
        )
        .unwrap();
        let ctx = Context {
            parameters: &fourteen,
            ..CTX
        };
        assert!(matches!(
            backup_retention(&cluster("aurora-mysql", true), &ctx),
            Outcome::Fail { .. }
        ));
        let fortnight = DbCluster {
            backup_retention_period: 14,
            ..cluster("aurora-mysql", true)
        };
        assert_eq!(backup_retention(&fortnight, &ctx), Outcome::Pass);
    }

    #[test]
    fn evidence_names_what_is_missing() {
        match aurora_mysql_audit_logs(
            &DbCluster {
                enabled_cloudwatch_logs_exports: vec!["error".into()],
                ..cluster("aurora-mysql", true)
            },
            &CTX,
        ) {
            Outcome::Fail { evidence, .. } => assert_eq!(
                evidence,
                json!({"missing_log_types": ["audit"], "enabled_cloudwatch_logs_exports": ["error"]})
            ),
            other => panic!("{other:?}"),
        }
        let unknown = DbCluster {
            auto_minor_version_upgrade: None,
            ..cluster("postgres", false)
        };
        assert_eq!(
            auto_minor_version_upgrade(&unknown, &CTX),
            Outcome::NotApplicable
        );
    }
}
