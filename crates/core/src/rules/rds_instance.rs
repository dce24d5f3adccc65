//! More RDS DB instance checks: Enhanced Monitoring, log exports, default port and admin user.
//! Settings that a DB cluster holds for its members (log exports, port, admin user) are judged
//! on the cluster (`rds_cluster.rs`), so these checks skip cluster members.

use serde_json::json;

use super::controls::NIST_NETWORK_BOUNDARY;
use super::{Check, Context, Controls, IntegerListParameter, Parameter, Rule, StringListParameter};
use crate::finding::{Outcome, Severity};
use crate::model::DbInstance;

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    RDS_INSTANCE_ENHANCED_MONITORING,
    RDS_INSTANCE_LOGS_TO_CLOUDWATCH,
    RDS_INSTANCE_DEFAULT_PORT,
    RDS_INSTANCE_DEFAULT_ADMIN_USERNAME,
    RDS_POSTGRESQL_LOGS_TO_CLOUDWATCH,
    RDS_SQLSERVER_LOGS_TO_CLOUDWATCH,
    RDS_MARIADB_LOGS_TO_CLOUDWATCH,
];

/// NIST 800-53 r5 controls of database logging: the requirements of RDS.9 and RDS.40 (RDS.42
/// lists the same ids in another order).
pub const NIST_DATABASE_LOGGING: &[&str] = &[
    "AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(3)", "AU-6(4)",
    "CA-7", "SC-7(10)", "SC-7(9)", "SI-3(8)", "SI-4(20)", "SI-7(8)",
];

/// Security Hub RDS.6's `monitoringInterval` (no default: any interval passes). Security Hub
/// takes one value of 1, 5, 10, 15, 30 or 60; here a list of the accepted intervals.
pub const MONITORING_INTERVAL: IntegerListParameter = IntegerListParameter {
    rule_id: "rds_instance_enhanced_monitoring",
    name: "monitoringInterval",
    description: "Number of seconds between monitoring metric collection intervals (1, 5, 10, 15, 30 or 60); empty: any interval",
    default: &[],
    min: 1,
    max: 60,
    max_items: 6,
};

pub const RDS_INSTANCE_ENHANCED_MONITORING: Rule = Rule {
    id: "rds_instance_enhanced_monitoring",
    title: "RDS DB instance does not have Enhanced Monitoring",
    severity: Severity::Low,
    rationale: "Enhanced Monitoring gives operating-system metrics of the host, which show resource exhaustion and availability problems early.",
    remediation: "Modify the instance with a MonitoringInterval (1 to 60 seconds) and a MonitoringRoleArn.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-6",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.6"],
        security_hub: &["RDS.6"],
        nist_800_53_r5: &["CA-7", "SI-2"],
        ..Controls::NONE
    },
    parameters: &[Parameter::IntegerList(MONITORING_INTERVAL)],
    check: Check::DbInstance(enhanced_monitoring),
};

/// RDS.6: fails when Enhanced Monitoring is off (interval 0), or, when `monitoringInterval`
/// is set, when the instance samples at another interval.
pub fn enhanced_monitoring(db: &DbInstance, ctx: &Context) -> Outcome {
    let wanted = ctx.parameters.integer_list(&MONITORING_INTERVAL);
    let interval = i64::from(db.monitoring_interval);
    if interval > 0 && (wanted.is_empty() || wanted.contains(&interval)) {
        return Outcome::Pass;
    }
    if wanted.is_empty() {
        Outcome::fail(json!({ "monitoring_interval": db.monitoring_interval }))
    } else {
        Outcome::fail(json!({
            "monitoring_interval": db.monitoring_interval,
            "monitoring_interval_required": wanted,
        }))
    }
}

/// The log types RDS.9 requires per engine; `None`: the engine is not evaluated.
pub fn required_log_types(engine: &str) -> Option<&'static [&'static str]> {
    match engine {
        "postgres" => Some(&["postgresql", "upgrade"]),
        "mysql" | "mariadb" | "aurora" | "aurora-mysql" => {
            Some(&["audit", "error", "general", "slowquery"])
        }
        "aurora-postgresql" => Some(&["postgresql"]),
        e if e.starts_with("oracle") || e.starts_with("custom-oracle") => {
            Some(&["alert", "audit", "trace", "listener"])
        }
        e if e.starts_with("sqlserver") || e.starts_with("custom-sqlserver") => {
            Some(&["error", "agent"])
        }
        _ => None,
    }
}

/// Evidence of the log types an instance does not publish, or a pass.
fn missing_logs<'a>(db: &DbInstance, required: impl IntoIterator<Item = &'a str>) -> Outcome {
    let missing: Vec<&str> = required
        .into_iter()
        .filter(|log| !db.exports_log(log))
        .collect();
    if missing.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "engine": db.engine,
            "missing_log_types": missing,
            "enabled_cloudwatch_logs_exports": db.enabled_cloudwatch_logs_exports,
        }))
    }
}

pub const RDS_INSTANCE_LOGS_TO_CLOUDWATCH: Rule = Rule {
    id: "rds_instance_logs_to_cloudwatch",
    title: "RDS DB instance does not publish its engine's logs to CloudWatch Logs",
    severity: Severity::Medium,
    rationale: "Database logs record logins, errors and statements: without them in CloudWatch Logs an intrusion or an outage leaves no durable trace.",
    remediation: "Modify the instance's CloudwatchLogsExportConfiguration to enable every log type of its engine (and set the engine parameters that produce them).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-9",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.9"],
        security_hub: &["RDS.9"],
        pci_dss: &["v4.0.1/10.2.1"],
        nist_800_53_r5: NIST_DATABASE_LOGGING,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(logs_to_cloudwatch),
};

/// RDS.9: every log type of the engine is published. Cluster members publish through their
/// cluster (RDS.34, RDS.37), so they are not judged here.
pub fn logs_to_cloudwatch(db: &DbInstance, _: &Context) -> Outcome {
    if db.in_cluster() {
        return Outcome::NotApplicable;
    }
    match required_log_types(&db.engine) {
        Some(required) => missing_logs(db, required.iter().copied()),
        None => Outcome::NotApplicable,
    }
}

/// The port an engine listens on unless told otherwise.
pub fn default_port(engine: &str) -> Option<i32> {
    match engine {
        "mysql" | "mariadb" | "aurora" | "aurora-mysql" => Some(3306),
        "postgres" | "aurora-postgresql" => Some(5432),
        e if e.starts_with("oracle") || e.starts_with("custom-oracle") => Some(1521),
        e if e.starts_with("sqlserver") || e.starts_with("custom-sqlserver") => Some(1433),
        e if e.starts_with("db2") => Some(50000),
        _ => None,
    }
}

pub const RDS_INSTANCE_DEFAULT_PORT: Rule = Rule {
    id: "rds_instance_default_port",
    title: "RDS DB instance uses its engine's default port",
    severity: Severity::Low,
    rationale: "A default port tells an attacker which engine answers and saves them a scan.",
    remediation: "Modify the instance with another DBPortNumber, then update connection strings and security group rules.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-23",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.23"],
        security_hub: &["RDS.23"],
        nist_800_53_r5: NIST_NETWORK_BOUNDARY,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(no_default_port),
};

/// RDS.23: does not apply to instances that are part of a cluster.
pub fn no_default_port(db: &DbInstance, _: &Context) -> Outcome {
    if db.in_cluster() {
        return Outcome::NotApplicable;
    }
    match (db.port, default_port(&db.engine)) {
        (Some(port), Some(default)) if port == default => {
            Outcome::fail(json!({ "engine": db.engine, "port": port }))
        }
        (Some(_), Some(_)) => Outcome::Pass,
        _ => Outcome::NotApplicable,
    }
}

/// The admin usernames Security Hub (AWS Config's `rds-instance-default-admin-check` and
/// `rds-cluster-default-admin-check`) counts as defaults.
pub const DEFAULT_ADMIN_USERNAMES: [&str; 2] = ["postgres", "admin"];

/// Evidence of a default admin username, or a pass.
pub fn admin_username(username: &str) -> Outcome {
    if DEFAULT_ADMIN_USERNAMES.contains(&username) {
        Outcome::fail(json!({ "master_username": username }))
    } else {
        Outcome::Pass
    }
}

pub const RDS_INSTANCE_DEFAULT_ADMIN_USERNAME: Rule = Rule {
    id: "rds_instance_default_admin_username",
    title: "RDS DB instance uses a default administrator username",
    severity: Severity::Medium,
    rationale: "Default admin usernames are public knowledge; a custom one leaves an attacker to guess both halves of the credential.",
    remediation: "Create a new instance (or restore a snapshot) with a custom MasterUsername and move to it; the admin username cannot be changed in place.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-25",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.25"],
        security_hub: &["RDS.25"],
        pci_dss: &["v4.0.1/2.2.2"],
        nist_800_53_r5: &["CA-9(1)", "CM-2"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(instance_admin_username),
};

/// RDS.25: not for Neptune or DocumentDB, nor for instances that are part of a cluster.
pub fn instance_admin_username(db: &DbInstance, _: &Context) -> Outcome {
    if db.in_cluster() || matches!(db.engine.as_str(), "neptune" | "docdb") {
        return Outcome::NotApplicable;
    }
    db.master_username
        .as_deref()
        .map_or(Outcome::NotApplicable, admin_username)
}

pub const RDS_POSTGRESQL_LOGS_TO_CLOUDWATCH: Rule = Rule {
    id: "rds_postgresql_logs_to_cloudwatch",
    title: "RDS for PostgreSQL DB instance does not publish PostgreSQL logs to CloudWatch Logs",
    severity: Severity::Medium,
    rationale: "The PostgreSQL log records connections, errors and statements; in CloudWatch Logs it is kept durably and can raise alarms.",
    remediation: "Modify the instance's CloudwatchLogsExportConfiguration to enable the postgresql log type.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-36",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.36"],
        security_hub: &["RDS.36"],
        pci_dss: &["v4.0.1/10.4.2"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::DbInstance(postgresql_logs),
};

/// RDS.36 (`logTypes` is `postgresql`, not customizable).
pub fn postgresql_logs(db: &DbInstance, _: &Context) -> Outcome {
    if db.engine != "postgres" || db.in_cluster() {
        return Outcome::NotApplicable;
    }
    missing_logs(db, ["postgresql"])
}

/// Security Hub RDS.40's `logTypes`.
pub const SQLSERVER_LOG_TYPES: StringListParameter = StringListParameter {
    rule_id: "rds_sqlserver_logs_to_cloudwatch",
    name: "logTypes",
    description: "Log types an RDS for SQL Server DB instance must publish to CloudWatch Logs",
    default: &["agent", "error"],
    allowed: &["agent", "error"],
    max_items: 2,
};

pub const RDS_SQLSERVER_LOGS_TO_CLOUDWATCH: Rule = Rule {
    id: "rds_sqlserver_logs_to_cloudwatch",
    title: "RDS for SQL Server DB instance does not publish its logs to CloudWatch Logs",
    severity: Severity::Medium,
    rationale: "SQL Server error and agent logs record failures and job problems; in CloudWatch Logs they are kept durably and can raise alarms.",
    remediation: "Modify the instance's CloudwatchLogsExportConfiguration to enable the agent and error log types.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-40",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.40"],
        security_hub: &["RDS.40"],
        nist_800_53_r5: NIST_DATABASE_LOGGING,
        ..Controls::NONE
    },
    parameters: &[Parameter::StringList(SQLSERVER_LOG_TYPES)],
    check: Check::DbInstance(sqlserver_logs),
};

pub fn sqlserver_logs(db: &DbInstance, ctx: &Context) -> Outcome {
    if !db.engine.starts_with("sqlserver") || db.in_cluster() {
        return Outcome::NotApplicable;
    }
    let required = ctx.parameters.string_list(&SQLSERVER_LOG_TYPES);
    missing_logs(db, required.iter().map(String::as_str))
}

/// Security Hub RDS.42's `logTypes`.
pub const MARIADB_LOG_TYPES: StringListParameter = StringListParameter {
    rule_id: "rds_mariadb_logs_to_cloudwatch",
    name: "logTypes",
    description: "Log types an RDS for MariaDB DB instance must publish to CloudWatch Logs",
    default: &["audit", "error"],
    allowed: &["audit", "error", "general", "slowquery"],
    max_items: 4,
};

pub const RDS_MARIADB_LOGS_TO_CLOUDWATCH: Rule = Rule {
    id: "rds_mariadb_logs_to_cloudwatch",
    title: "RDS for MariaDB DB instance does not publish its logs to CloudWatch Logs",
    severity: Severity::Medium,
    rationale: "MariaDB audit and error logs record logins, changes and failures; in CloudWatch Logs they are kept durably and can raise alarms.",
    remediation: "Modify the instance's CloudwatchLogsExportConfiguration to enable the audit and error log types (and the audit plugin in its option group).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-42",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["RDS.42"],
        security_hub: &["RDS.42"],
        nist_800_53_r5: NIST_DATABASE_LOGGING,
        ..Controls::NONE
    },
    parameters: &[Parameter::StringList(MARIADB_LOG_TYPES)],
    check: Check::DbInstance(mariadb_logs),
};

pub fn mariadb_logs(db: &DbInstance, ctx: &Context) -> Outcome {
    if db.engine != "mariadb" || db.in_cluster() {
        return Outcome::NotApplicable;
    }
    let required = ctx.parameters.string_list(&MARIADB_LOG_TYPES);
    missing_logs(db, required.iter().map(String::as_str))
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

    fn db(engine: &str, logs: &[&str]) -> DbInstance {
        DbInstance {
            id: "db".into(),
            arn: "arn:aws:rds:us-east-1:1:db:db".into(),
            region: "us-east-1".into(),
            engine: engine.into(),
            publicly_accessible: false,
            storage_encrypted: true,
            backup_retention_period: 7,
            deletion_protection: true,
            multi_az: true,
            auto_minor_version_upgrade: true,
            iam_database_authentication: true,
            copy_tags_to_snapshot: true,
            db_cluster_identifier: None,
            monitoring_interval: 60,
            enabled_cloudwatch_logs_exports: logs.iter().map(|l| (*l).to_string()).collect(),
            port: Some(6543),
            master_username: Some("csadmin".into()),
            tags: Tags::new(),
        }
    }

    fn member(engine: &str) -> DbInstance {
        DbInstance {
            db_cluster_identifier: Some("cluster".into()),
            port: default_port(engine),
            master_username: Some("admin".into()),
            ..db(engine, &[])
        }
    }

    fn evidence(outcome: Outcome) -> serde_json::Value {
        match outcome {
            Outcome::Fail { evidence, .. } => evidence,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    fn with(json: &str) -> RuleParameters {
        RuleParameters::parse(json).unwrap()
    }

    #[test]
    fn enhanced_monitoring_needs_an_interval_and_the_configured_one() {
        let off = DbInstance {
            monitoring_interval: 0,
            ..db("postgres", &[])
        };
        assert_eq!(
            evidence(enhanced_monitoring(&off, &CTX)),
            json!({"monitoring_interval": 0})
        );
        assert_eq!(
            enhanced_monitoring(&db("postgres", &[]), &CTX),
            Outcome::Pass
        );
        let thirty = with(r#"{"rds_instance_enhanced_monitoring": {"monitoringInterval": [30]}}"#);
        let ctx = Context {
            parameters: &thirty,
            ..CTX
        };
        assert_eq!(
            evidence(enhanced_monitoring(&db("postgres", &[]), &ctx)),
            json!({"monitoring_interval": 60, "monitoring_interval_required": [30]})
        );
        let every_thirty = DbInstance {
            monitoring_interval: 30,
            ..db("postgres", &[])
        };
        assert_eq!(enhanced_monitoring(&every_thirty, &ctx), Outcome::Pass);
        // Aurora instances have their own Enhanced Monitoring: judged like any instance.
        assert!(matches!(
            enhanced_monitoring(
                &DbInstance {
                    monitoring_interval: 0,
                    ..member("aurora-mysql")
                },
                &CTX
            ),
            Outcome::Fail { .. }
        ));
    }

    #[test]
    fn logs_are_the_engines_log_types() {
        assert_eq!(
            logs_to_cloudwatch(&db("postgres", &["postgresql", "upgrade"]), &CTX),
            Outcome::Pass
        );
        assert_eq!(
            evidence(logs_to_cloudwatch(&db("postgres", &["postgresql"]), &CTX)),
            json!({"engine": "postgres", "missing_log_types": ["upgrade"], "enabled_cloudwatch_logs_exports": ["postgresql"]})
        );
        assert_eq!(
            logs_to_cloudwatch(
                &db("mysql", &["audit", "error", "general", "slowquery"]),
                &CTX
            ),
            Outcome::Pass
        );
        assert!(matches!(
            logs_to_cloudwatch(&db("mariadb", &["audit", "error"]), &CTX),
            Outcome::Fail { .. }
        ));
        assert_eq!(
            logs_to_cloudwatch(
                &db("oracle-ee", &["alert", "audit", "trace", "listener"]),
                &CTX
            ),
            Outcome::Pass
        );
        assert_eq!(
            logs_to_cloudwatch(&db("sqlserver-ex", &["error", "agent"]), &CTX),
            Outcome::Pass
        );
        assert!(matches!(
            logs_to_cloudwatch(&db("sqlserver-se", &["error"]), &CTX),
            Outcome::Fail { .. }
        ));
        assert_eq!(
            logs_to_cloudwatch(&db("db2-se", &[]), &CTX),
            Outcome::NotApplicable
        );
        // Cluster members publish through the cluster (RDS.34, RDS.37).
        assert_eq!(
            logs_to_cloudwatch(&member("aurora-mysql"), &CTX),
            Outcome::NotApplicable
        );
        assert_eq!(
            logs_to_cloudwatch(&member("postgres"), &CTX),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn default_port_fails_outside_clusters() {
        let on_default = DbInstance {
            port: Some(5432),
            ..db("postgres", &[])
        };
        assert_eq!(
            evidence(no_default_port(&on_default, &CTX)),
            json!({"engine": "postgres", "port": 5432})
        );
        assert_eq!(no_default_port(&db("postgres", &[]), &CTX), Outcome::Pass);
        let mysql = DbInstance {
            port: Some(3306),
            ..db("mysql", &[])
        };
        assert!(matches!(
            no_default_port(&mysql, &CTX),
            Outcome::Fail { .. }
        ));
        let sqlserver = DbInstance {
            port: Some(1433),
            ..db("sqlserver-ee", &[])
        };
        assert!(matches!(
            no_default_port(&sqlserver, &CTX),
            Outcome::Fail { .. }
        ));
        assert_eq!(
            no_default_port(&member("aurora-postgresql"), &CTX),
            Outcome::NotApplicable
        );
        assert_eq!(
            no_default_port(&db("neptune", &[]), &CTX),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn admin_username_postgres_and_admin_are_defaults() {
        for name in ["postgres", "admin"] {
            let dflt = DbInstance {
                master_username: Some(name.into()),
                ..db("postgres", &[])
            };
            assert_eq!(
                evidence(instance_admin_username(&dflt, &CTX)),
                json!({"master_username": name})
            );
        }
        assert_eq!(
            instance_admin_username(&db("postgres", &[]), &CTX),
            Outcome::Pass
        );
        assert_eq!(
            instance_admin_username(&member("aurora-mysql"), &CTX),
            Outcome::NotApplicable
        );
        let docdb = DbInstance {
            master_username: Some("admin".into()),
            ..db("docdb", &[])
        };
        assert_eq!(
            instance_admin_username(&docdb, &CTX),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn engine_specific_logs() {
        assert_eq!(
            postgresql_logs(&db("postgres", &["postgresql"]), &CTX),
            Outcome::Pass
        );
        assert!(matches!(
            postgresql_logs(&db("postgres", &["upgrade"]), &CTX),
            Outcome::Fail { .. }
        ));
        assert_eq!(
            postgresql_logs(&db("mysql", &[]), &CTX),
            Outcome::NotApplicable
        );
        assert_eq!(
            postgresql_logs(&member("postgres"), &CTX),
            Outcome::NotApplicable
        );

        assert_eq!(
            sqlserver_logs(&db("sqlserver-ex", &["agent", "error"]), &CTX),
            Outcome::Pass
        );
        assert_eq!(
            evidence(sqlserver_logs(&db("sqlserver-ex", &["error"]), &CTX))["missing_log_types"],
            json!(["agent"])
        );
        assert_eq!(
            sqlserver_logs(&db("postgres", &[]), &CTX),
            Outcome::NotApplicable
        );
        let error_only = with(r#"{"rds_sqlserver_logs_to_cloudwatch": {"logTypes": ["error"]}}"#);
        let ctx = Context {
            parameters: &error_only,
            ..CTX
        };
        assert_eq!(
            sqlserver_logs(&db("sqlserver-ex", &["error"]), &ctx),
            Outcome::Pass
        );

        assert_eq!(
            mariadb_logs(&db("mariadb", &["audit", "error"]), &CTX),
            Outcome::Pass
        );
        assert_eq!(
            evidence(mariadb_logs(&db("mariadb", &["error", "general"]), &CTX))
                ["missing_log_types"],
            json!(["audit"])
        );
        assert_eq!(
            mariadb_logs(&db("mysql", &[]), &CTX),
            Outcome::NotApplicable
        );
        let all = with(
            r#"{"rds_mariadb_logs_to_cloudwatch": {"logTypes": ["audit", "error", "general", "slowquery"]}}"#,
        );
        let ctx = Context {
            parameters: &all,
            ..CTX
        };
        assert!(matches!(
            mariadb_logs(&db("mariadb", &["audit", "error"]), &ctx),
            Outcome::Fail { .. }
        ));
    }
}
