use super::*;
use crate::rules::rds::BACKUP_RETENTION_MINIMUM;

fn error(json: &str) -> String {
    RuleParameters::parse(json).unwrap_err().to_string()
}

#[test]
fn absent_values_take_their_defaults() {
    assert_eq!(
        RuleParameters::DEFAULTS.integer(&BACKUP_RETENTION_MINIMUM),
        7
    );
    assert_eq!(
        RuleParameters::parse("{}").unwrap(),
        RuleParameters::DEFAULTS
    );
    assert_eq!(
        RuleParameters::parse(r#"{"rds_instance_backup_retention": {}}"#)
            .unwrap()
            .integer(&BACKUP_RETENTION_MINIMUM),
        7
    );
    let set = RuleParameters::parse(
        r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 14}}"#,
    )
    .unwrap();
    assert_eq!(set.integer(&BACKUP_RETENTION_MINIMUM), 14);
}

#[test]
fn errors_name_the_parameter_and_what_is_wrong() {
    let cases = [
        ("not json", "expected {\"rule_id\""),
        ("[7]", "expected an object keyed by rule id"),
        (
            r#"{"rds_instance_backup_retentoin": {"backupRetentionMinimum": 14}}"#,
            "`rds_instance_backup_retentoin` is not a known rule",
        ),
        (
            r#"{"rds_instance_backup_enabled": {"backupRetentionMinimum": 14}}"#,
            "rule `rds_instance_backup_enabled` takes no parameters",
        ),
        (
            r#"{"rds_instance_backup_retention": 14}"#,
            "`rds_instance_backup_retention` must be an object",
        ),
        (
            r#"{"rds_instance_backup_retention": {"minimumBackupRetentionPeriod": 14}}"#,
            "rule `rds_instance_backup_retention` has no parameter `minimumBackupRetentionPeriod` (it takes backupRetentionMinimum)",
        ),
        (
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": "14"}}"#,
            "`rds_instance_backup_retention.backupRetentionMinimum` must be an integer, not \"14\"",
        ),
        (
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 7.5}}"#,
            "must be an integer, not 7.5",
        ),
        (
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 3}}"#,
            "`rds_instance_backup_retention.backupRetentionMinimum` is 3; it must be from 7 to 35",
        ),
        (
            r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 36}}"#,
            "is 36; it must be from 7 to 35",
        ),
    ];
    for (json, expected) in cases {
        let err = error(json);
        assert!(err.contains(PARAM_RULE_PARAMETERS), "{err}");
        assert!(err.contains(expected), "{json}: {err}");
    }
}

const PORTS: IntegerListParameter = IntegerListParameter {
    rule_id: "r",
    name: "authorizedTcpPorts",
    description: "ports",
    default: &[80, 443],
    min: 1,
    max: 65535,
    max_items: 32,
};

const RUNTIMES: StringListParameter = StringListParameter {
    rule_id: "r",
    name: "supportedRuntimes",
    description: "runtimes",
    default: &["python3.12"],
    allowed: &["python3.12", "python3.13", "nodejs22.x"],
    max_items: 3,
};

#[test]
fn lists_are_checked_item_by_item_sorted_and_deduplicated() {
    let ports = Parameter::IntegerList(PORTS);
    assert_eq!(
        ports.parse_value(&json!([443, 80, 443])),
        Ok(ParameterValue::IntegerList(vec![80, 443]))
    );
    assert_eq!(
        ports.parse_value(&json!([])),
        Ok(ParameterValue::IntegerList(vec![]))
    );
    for (value, expected) in [
        (
            json!("80,443"),
            "`r.authorizedTcpPorts` must be a list of integers: not \"80,443\"",
        ),
        (json!([80, "443"]), "\"443\" is not an integer"),
        (
            json!([0]),
            "`r.authorizedTcpPorts` lists 0; it must be from 1 to 65535",
        ),
        (json!(vec![1; 33]), "33 items, at most 32"),
    ] {
        let err = ports.parse_value(&value).unwrap_err();
        assert!(err.contains(expected), "{value}: {err}");
    }
    let runtimes = Parameter::StringList(RUNTIMES);
    assert_eq!(
        runtimes.parse_value(&json!(["python3.13", "nodejs22.x"])),
        Ok(ParameterValue::StringList(vec![
            "nodejs22.x".into(),
            "python3.13".into()
        ]))
    );
    let err = runtimes.parse_value(&json!(["python2.7"])).unwrap_err();
    assert!(
        err.contains("lists `python2.7`, which is not one of python3.12, python3.13, nodejs22.x"),
        "{err}"
    );
    assert!(runtimes
        .parse_value(&json!([1]))
        .unwrap_err()
        .contains("1 is not a string"));
}

#[test]
fn unset_lists_take_their_defaults() {
    assert_eq!(RuleParameters::DEFAULTS.integer_list(&PORTS), vec![80, 443]);
    assert_eq!(
        RuleParameters::DEFAULTS.string_list(&RUNTIMES),
        vec!["python3.12".to_string()]
    );
}

#[test]
fn the_effective_values_name_every_parameter_of_every_rule() {
    let set = RuleParameters::parse(
        r#"{"rds_instance_backup_retention": {"backupRetentionMinimum": 14}}"#,
    )
    .unwrap();
    let effective = set.effective();
    assert_eq!(
        effective["rds_instance_backup_retention"],
        json!({"backupRetentionMinimum": 14})
    );
    let all: usize = crate::rules::catalog()
        .iter()
        .map(|r| r.parameters.len())
        .sum();
    let listed: usize = effective
        .values()
        .map(|v| v.as_object().map_or(0, serde_json::Map::len))
        .sum();
    assert_eq!(listed, all);
}
