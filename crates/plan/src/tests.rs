//! The plan's decisions with Parameter Store, the organization and the bucket in memory.

use std::collections::BTreeMap;

use compliance_aws::member::FixedIdentity;
use compliance_aws::organizations::MemoryOrganization;
use compliance_aws::params::MemoryParameters;
use compliance_aws::store::{get_json, MemoryStore};
use compliance_core::accounts::OrgAccount;
use compliance_core::contract::{parse_input, RegionScanInput};
use compliance_core::plan::PARAM_SCAN_FANOUT;
use serde_json::json;

use super::*;

const OWN: &str = "111111111111";

fn function(params: &[(&str, &str)]) -> (Function, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let account = |parent: &str, id: &str, name: &str, status: &str| {
        (
            parent.to_string(),
            OrgAccount {
                id: AccountId::parse(id).unwrap(),
                name: name.into(),
                status: status.into(),
            },
        )
    };
    let organization = MemoryOrganization {
        accounts: vec![
            account("r-root", OWN, "management", "ACTIVE"),
            account("ou-prd1-11111111", "222222222222", "prod", "ACTIVE"),
            account("ou-prd1-11111111", "333333333333", "retired", "SUSPENDED"),
            account("ou-dev1-22222222", "444444444444", "dev", "ACTIVE"),
        ],
    };
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    (
        Function {
            parameters: Arc::new(MemoryParameters(params)),
            organization: Arc::new(organization),
            identity: Arc::new(FixedIdentity(OWN.into())),
            store: store.clone(),
            bucket: "reports".into(),
            home_region: "eu-west-1".into(),
        },
        store,
    )
}

fn input() -> PlanInput {
    parse_input(json!({"run_id": "r1", "trigger": "scheduled"})).unwrap()
}

async fn units(store: &MemoryStore) -> Vec<RegionScanInput> {
    get_json(store, "runs/r1/plan-units.json", "units")
        .await
        .unwrap()
}

#[tokio::test]
async fn without_the_accounts_parameter_the_own_account_is_planned() {
    let (f, store) = function(&[(PARAM_REGIONS, "eu-west-1,us-east-1")]);
    let out = handle(&f, input()).await.unwrap();
    assert_eq!((out.account_count, out.unit_count), (1, 9));
    assert_eq!(out.units_key, "runs/r1/plan-units.json");
    assert_eq!(out.results_prefix, "runs/r1/map");
    assert_eq!(out.bucket, "reports");
    assert_eq!(
        (out.max_concurrency, out.tolerated_failure_percentage),
        (100, 5.0)
    );
    let units = units(&store).await;
    assert!(
        units
            .iter()
            .all(|u| u.role_arn.is_none()
                && u.account_id.as_ref().map(AccountId::as_str) == Some(OWN))
    );
    let plan: ScanPlan = get_json(store.as_ref(), &out.plan_key, "plan")
        .await
        .unwrap();
    assert_eq!(plan.accounts.len(), 1);
}

#[tokio::test]
async fn an_organization_is_planned_account_by_account_with_roles_and_names() {
    let (f, store) = function(&[
        (PARAM_REGIONS, "eu-west-1"),
        (PARAM_SERVICES, "ec2,s3"),
        (
            PARAM_ACCOUNTS,
            r#"{"source": "organization", "exclude": ["444444444444"]}"#,
        ),
        (
            PARAM_SCAN_FANOUT,
            r#"{"max_concurrency": 25, "tolerated_failure_percentage": 0}"#,
        ),
    ]);
    let out = handle(&f, input()).await.unwrap();
    assert_eq!((out.account_count, out.unit_count), (2, 4));
    assert_eq!(
        (out.max_concurrency, out.tolerated_failure_percentage),
        (25, 0.0)
    );
    let units = units(&store).await;
    let roles: Vec<Option<&str>> = units.iter().map(|u| u.role_arn.as_deref()).collect();
    assert_eq!(
        roles,
        [
            None,
            None,
            Some("arn:aws:iam::222222222222:role/ComplianceScannerMemberRole"),
            Some("arn:aws:iam::222222222222:role/ComplianceScannerMemberRole"),
        ]
    );
    let plan: ScanPlan = get_json(store.as_ref(), &out.plan_key, "plan")
        .await
        .unwrap();
    assert_eq!(plan.account_name("222222222222"), Some("prod"));
    assert_eq!(plan.account_name(OWN), Some("management"));
}

#[tokio::test]
async fn organizational_units_limit_the_accounts() {
    let (f, store) = function(&[(
        PARAM_ACCOUNTS,
        r#"{"source": "organization", "organizational_units": ["ou-dev1-22222222"]}"#,
    )]);
    handle(&f, input()).await.unwrap();
    let units = units(&store).await;
    assert!(units
        .iter()
        .all(|u| u.account_id.as_ref().map(AccountId::as_str) == Some("444444444444")));
}

#[tokio::test]
async fn invalid_settings_stop_the_run_and_name_the_parameter() {
    for (name, value, expected) in [
        (
            PARAM_ACCOUNTS,
            r#"{"source": "list"}"#,
            "`accounts` is empty",
        ),
        (PARAM_ACCOUNTS, "not json", PARAM_ACCOUNTS),
        (
            PARAM_SCAN_FANOUT,
            r#"{"max_concurrency": 0}"#,
            PARAM_SCAN_FANOUT,
        ),
        (PARAM_REGIONS, "mars-1", "mars-1"),
        (
            PARAM_RULE_PARAMETERS,
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": "7"}}"#,
            "`rds_instance_backup_retention.backupRetentionMinimum` must be an integer",
        ),
        (
            PARAM_RULE_PARAMETERS,
            r#"{"no_such_rule": {}}"#,
            "`no_such_rule` is not a known rule",
        ),
        (PARAM_MUTELIST, "[", PARAM_MUTELIST),
    ] {
        let (f, store) = function(&[(name, value)]);
        let err = handle(&f, input()).await.unwrap_err();
        assert_eq!(
            err.error_type(),
            "ComplianceScanner.InvalidConfiguration",
            "{name}"
        );
        let text = err.to_string();
        assert!(text.contains(expected), "{name}={value}: {text}");
        assert!(
            store.keys().is_empty(),
            "nothing is planned from an invalid setting"
        );
    }
}

// ------------------------------------------------------------------ at least once

/// The plan without the time it was made (the one field a re-run changes).
fn plan_without_time(store: &MemoryStore) -> serde_json::Value {
    let mut plan = store.json("runs/r1/plan.json").expect("the plan");
    plan.as_object_mut().unwrap().remove("created_at");
    plan
}

const ORGANIZATION: &str = r#"{"source": "organization", "role_name": "ScannerRole"}"#;

#[tokio::test]
async fn a_second_invocation_plans_the_same_units_and_answers_the_same() {
    let params = [
        (PARAM_REGIONS, "eu-west-1,us-east-1"),
        (PARAM_ACCOUNTS, ORGANIZATION),
    ];
    let (f, store) = function(&params);
    let first = handle(&f, input()).await.unwrap();
    let units = store.bytes("runs/r1/plan-units.json").unwrap();
    let plan = plan_without_time(&store);
    let second = handle(&f, input()).await.unwrap();
    assert_eq!(second, first);
    // The units the map reads are the same bytes; the plan differs only in when it was made.
    assert_eq!(store.bytes("runs/r1/plan-units.json").unwrap(), units);
    assert_eq!(plan_without_time(&store), plan);
    assert_eq!(
        store.keys(),
        ["runs/r1/plan-units.json", "runs/r1/plan.json"]
    );
}

#[tokio::test]
async fn a_rerun_after_a_failed_write_plans_the_same() {
    let params = [
        (PARAM_REGIONS, "eu-west-1,us-east-1"),
        (PARAM_ACCOUNTS, ORGANIZATION),
    ];
    let (f, store) = function(&params);
    let expected = handle(&f, input()).await.unwrap();
    let expected_units = store.bytes("runs/r1/plan-units.json").unwrap();
    let expected_plan = plan_without_time(&store);
    // The plan's two writes: its units, then the plan.
    for nth in 1..=2 {
        let (f, store) = function(&params);
        store.writes.fail_nth(nth);
        let err = handle(&f, input()).await.unwrap_err();
        assert_eq!(
            err.error_type(),
            "ComplianceScanner.TransientError",
            "write {nth}: {err}"
        );
        assert_eq!(handle(&f, input()).await.unwrap(), expected, "write {nth}");
        assert_eq!(
            store.bytes("runs/r1/plan-units.json").unwrap(),
            expected_units,
            "write {nth}"
        );
        assert_eq!(plan_without_time(&store), expected_plan, "write {nth}");
    }
}
