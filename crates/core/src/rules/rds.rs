//! RDS DB instance checks. Aurora keeps backups, deletion protection and Multi-AZ at the
//! cluster level, so those instance checks do not apply to Aurora instances.

use serde_json::json;

use super::Context;
use crate::finding::Outcome;
use crate::model::DbInstance;

fn flag(ok: bool, field: &str, value: impl serde::Serialize) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail(json!({ field: value }))
    }
}

pub fn publicly_accessible(db: &DbInstance, _: &Context) -> Outcome {
    flag(
        !db.publicly_accessible,
        "publicly_accessible",
        db.publicly_accessible,
    )
}

pub fn storage_encrypted(db: &DbInstance, _: &Context) -> Outcome {
    flag(
        db.storage_encrypted,
        "storage_encrypted",
        db.storage_encrypted,
    )
}

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

pub fn deletion_protection(db: &DbInstance, _: &Context) -> Outcome {
    if db.is_aurora() {
        return Outcome::NotApplicable;
    }
    flag(
        db.deletion_protection,
        "deletion_protection",
        db.deletion_protection,
    )
}

pub fn multi_az(db: &DbInstance, _: &Context) -> Outcome {
    if db.is_aurora() {
        return Outcome::NotApplicable;
    }
    flag(db.multi_az, "multi_az", db.multi_az)
}

pub fn auto_minor_version_upgrade(db: &DbInstance, _: &Context) -> Outcome {
    flag(
        db.auto_minor_version_upgrade,
        "auto_minor_version_upgrade",
        db.auto_minor_version_upgrade,
    )
}

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

    const CTX: Context = Context {
        account_id: "1",
        required_tags: &[],
        account_public_access_block: None,
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
                Outcome::Fail(_)
            ));
        }
    }

    #[test]
    fn cluster_level_and_engine_specific_checks_do_not_apply() {
        let aurora = db("aurora-postgresql", false);
        assert_eq!(backup_enabled(&aurora, &CTX), Outcome::NotApplicable);
        assert_eq!(deletion_protection(&aurora, &CTX), Outcome::NotApplicable);
        assert_eq!(multi_az(&aurora, &CTX), Outcome::NotApplicable);
        assert!(matches!(
            publicly_accessible(&aurora, &CTX),
            Outcome::Fail(_)
        ));
        assert_eq!(
            iam_authentication(&db("sqlserver-ex", false), &CTX),
            Outcome::NotApplicable
        );
    }
}
