//! RDS resources beyond DB instances: DB clusters (Aurora and Multi-AZ DB clusters), manual DB
//! and DB cluster snapshots, and event notification subscriptions.

use serde::{Deserialize, Serialize};

use super::Tags;

/// A DB cluster as DescribeDBClusters returns it (also lists Neptune and DocumentDB clusters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbCluster {
    pub id: String,
    pub arn: String,
    pub region: String,
    /// `aurora-mysql`, `aurora-postgresql`, `aurora` (Aurora MySQL 5.6), `mysql` or `postgres`
    /// (Multi-AZ DB clusters), `neptune`, `docdb`.
    pub engine: String,
    /// `provisioned`, `serverless` (Aurora Serverless v1), `parallelquery`, `global`, `multimaster`.
    #[serde(default)]
    pub engine_mode: Option<String>,
    pub storage_encrypted: bool,
    pub deletion_protection: bool,
    pub iam_database_authentication: bool,
    pub multi_az: bool,
    pub copy_tags_to_snapshot: bool,
    /// Days of automated backups (1 to 35: clusters cannot turn them off).
    pub backup_retention_period: i32,
    /// Seconds Aurora MySQL can backtrack; 0 or absent: backtracking off.
    #[serde(default)]
    pub backtrack_window: Option<i64>,
    /// Reported for Multi-AZ DB clusters only.
    #[serde(default)]
    pub auto_minor_version_upgrade: Option<bool>,
    #[serde(default)]
    pub master_username: Option<String>,
    #[serde(default)]
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl DbCluster {
    pub fn is_aurora(&self) -> bool {
        self.engine.starts_with("aurora")
    }

    /// Aurora MySQL: `aurora-mysql`, and `aurora` for the MySQL 5.6-compatible generation.
    pub fn is_aurora_mysql(&self) -> bool {
        matches!(self.engine.as_str(), "aurora-mysql" | "aurora")
    }

    /// Neptune and DocumentDB clusters are listed by the RDS API too.
    pub fn is_neptune_or_docdb(&self) -> bool {
        matches!(self.engine.as_str(), "neptune" | "docdb")
    }

    /// A Multi-AZ DB cluster (RDS for MySQL or PostgreSQL, not Aurora).
    pub fn is_multi_az_db_cluster(&self) -> bool {
        matches!(self.engine.as_str(), "mysql" | "postgres")
    }

    pub fn exports_log(&self, log_type: &str) -> bool {
        self.enabled_cloudwatch_logs_exports
            .iter()
            .any(|l| l == log_type)
    }
}

/// A manual DB snapshot or DB cluster snapshot (automated snapshots cannot be shared, and carry
/// the encryption of their source, which the instance and cluster rules judge).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbSnapshot {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub engine: String,
    /// `manual` (the collector lists manual snapshots only).
    pub snapshot_type: String,
    pub encrypted: bool,
    /// The `restore` attribute's values (account ids, or `all` for public); `None` when the
    /// attributes call failed (see `unreadable`).
    #[serde(default)]
    pub restore_accounts: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Tags,
    /// APIs whose answer is missing for this snapshot (e.g. `DescribeDBSnapshotAttributes`).
    #[serde(default)]
    pub unreadable: Vec<String>,
}

impl DbSnapshot {
    /// Public: restorable by every AWS account. `None`: the attributes could not be read.
    pub fn is_public(&self) -> Option<bool> {
        self.restore_accounts
            .as_ref()
            .map(|accounts| accounts.iter().any(|a| a == "all"))
    }
}

/// An RDS event notification subscription (per region).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdsEventSubscription {
    /// The subscription name (`CustSubscriptionId`).
    pub id: String,
    pub arn: String,
    pub region: String,
    /// `db-instance`, `db-cluster`, `db-parameter-group`, `db-security-group`, ...; `None`: every
    /// source type.
    #[serde(default)]
    pub source_type: Option<String>,
    /// Empty: every event category of the source type.
    #[serde(default)]
    pub event_categories: Vec<String>,
    /// Specific sources; empty: every source of the type.
    #[serde(default)]
    pub source_ids: Vec<String>,
    pub enabled: bool,
    #[serde(default)]
    pub tags: Tags,
}
