//! Every Parameter Store setting's parser against arbitrary JSON and against valid documents
//! with one field dropped, renamed or retyped: never a panic; an error names the parameter,
//! and for a mutated document the field too.
//! `PROPTEST_CASES=100000 cargo test -p compliance-core --test parameter_fuzz` runs longer.

mod common;

use std::collections::BTreeMap;

use common::{arbitrary_json, field_paths, mutate, mutation};
use compliance_core::accounts::{AccountsConfig, PARAM_ACCOUNTS};
use compliance_core::analysis::{Thresholds, PARAM_THRESHOLDS};
use compliance_core::config::{
    ScannerConfig, Setting, PARAM_MUTELIST, PARAM_REGIONS, PARAM_REQUIRED_TAGS, PARAM_SERVICES,
};
use compliance_core::lifecycle::{FindingsConfig, PARAM_FINDINGS};
use compliance_core::mutelist::Mutelist;
use compliance_core::plan::{ScanFanout, PARAM_SCAN_FANOUT};
use compliance_core::remediation::{RemediationConfig, PARAM_REMEDIATION};
use compliance_core::rules::{RuleParameters, PARAM_RULE_PARAMETERS};
use compliance_core::webhook::{WebhookConfig, PARAM_WEBHOOK};
use compliance_core::CoreError;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A JSON setting's parser: the error it gives a document, if any.
type Parser = fn(&str) -> Option<CoreError>;

/// Every JSON setting: its parameter, its parser and a valid document.
fn settings() -> Vec<(&'static str, Parser, Value)> {
    vec![
        (
            PARAM_MUTELIST,
            |j| Mutelist::parse(j, PARAM_MUTELIST).err(),
            json!({"entries": [
            {"rule_id": "ec2_sg_open_ssh", "resource": "arn:aws:ec2:*:*:security-group/sg-bastion*",
             "tags": {"Team": "web"}, "regions": ["eu-west-1"], "reason": "bastion"}]}),
        ),
        (
            PARAM_ACCOUNTS,
            |j| AccountsConfig::parse(j).err(),
            json!({"source": "list",
            "accounts": ["111111111111"], "exclude": ["222222222222"],
            "role_name": "ComplianceScannerMemberRole", "external_id": "scanner-1"}),
        ),
        (
            PARAM_ACCOUNTS,
            |j| AccountsConfig::parse(j).err(),
            json!({"source": "organization",
            "organizational_units": ["ou-ab12-abcd1234"], "exclude": ["222222222222"]}),
        ),
        (
            PARAM_SCAN_FANOUT,
            |j| ScanFanout::parse_json(j).err(),
            json!({"max_concurrency": 10, "tolerated_failure_percentage": 5.0}),
        ),
        (
            PARAM_RULE_PARAMETERS,
            |j| RuleParameters::parse(j).err(),
            json!({
            "ec2_sg_authorized_ports": {"authorizedTcpPorts": [80, 443], "authorizedUdpPorts": [53]},
            "rds_instance_backup_retention": {"backupRetentionMinimum": 14}}),
        ),
        (
            PARAM_THRESHOLDS,
            |j| Thresholds::parse(j).err(),
            json!({"max_critical": 0, "max_high": 5,
            "max_medium": -1, "max_low": -1, "min_score": 80.0}),
        ),
        (
            PARAM_REMEDIATION,
            |j| RemediationConfig::parse(j).err(),
            json!({"mode": "enforce",
            "allowed_rules": ["ec2_sg_open_ssh"], "exclusion_tag": "keep",
            "max_executions_per_run": 5, "cooldown_minutes": 60}),
        ),
        (
            PARAM_FINDINGS,
            |j| FindingsConfig::parse(j).err(),
            json!({
            "security_hub": {"enabled": true, "region": "eu-west-1"}, "resolved_retention_days": 30}),
        ),
        (
            PARAM_WEBHOOK,
            |j| WebhookConfig::parse(j).err(),
            json!({"url": "https://siem.example.com/hook",
            "min_severity": "HIGH", "header": "Authorization", "scheme": "Bearer", "timeout_seconds": 10}),
        ),
    ]
}

const FIELDS: &[&str] = &[
    "entries",
    "rule_id",
    "resource",
    "tags",
    "regions",
    "reason",
    "source",
    "accounts",
    "organizational_units",
    "exclude",
    "role_name",
    "external_id",
    "max_concurrency",
    "tolerated_failure_percentage",
    "ec2_sg_authorized_ports",
    "authorizedTcpPorts",
    "max_critical",
    "max_high",
    "max_medium",
    "max_low",
    "min_score",
    "mode",
    "allowed_rules",
    "exclusion_tag",
    "max_executions_per_run",
    "cooldown_minutes",
    "security_hub",
    "enabled",
    "region",
    "resolved_retention_days",
    "url",
    "min_severity",
    "header",
    "scheme",
    "timeout_seconds",
    "list",
    "organization",
    "enforce",
    "dry-run",
    "ec2_sg_open_ssh",
];

fn parameter_of(error: &CoreError) -> Option<&str> {
    match error {
        CoreError::InvalidParameter { parameter, .. } => Some(parameter),
        _ => None,
    }
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics_and_errors_name_the_parameter(
        which in any::<prop::sample::Index>(),
        document in arbitrary_json(FIELDS),
    ) {
        let all = settings();
        let (parameter, parse, _) = &all[which.index(all.len())];
        if let Some(error) = parse(&document.to_string()) {
            prop_assert_eq!(parameter_of(&error), Some(*parameter), "{}: {}", document, error);
            prop_assert!(error.to_string().contains(parameter), "{}", error);
        }
    }

    /// Not even JSON: cut short, or any text.
    #[test]
    fn broken_text_is_refused_naming_the_parameter(
        which in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        text in ".{0,40}",
    ) {
        let all = settings();
        let (parameter, parse, valid) = &all[which.index(all.len())];
        let valid = valid.to_string();
        let chars: Vec<char> = valid.chars().collect();
        let truncated: String = chars[..cut.index(chars.len())].iter().collect();
        for document in [truncated, text.clone()] {
            if let Some(error) = parse(&document) {
                prop_assert!(error.to_string().contains(parameter), "{:?}: {}", document, error);
            }
        }
    }

    #[test]
    fn a_mutated_setting_is_refused_naming_the_parameter_and_field(
        which in any::<prop::sample::Index>(),
        field in any::<prop::sample::Index>(),
        change in mutation(),
    ) {
        let all = settings();
        let (parameter, parse, valid) = &all[which.index(all.len())];
        prop_assert!(parse(&valid.to_string()).is_none(), "{} takes {}", parameter, valid);
        let mut document = valid.clone();
        let paths = field_paths(&document);
        let path = &paths[field.index(paths.len())];
        let names = mutate(&mut document, path, change);
        if let Some(error) = parse(&document.to_string()) {
            let text = error.to_string();
            prop_assert!(text.contains(parameter), "{}", text);
            prop_assert!(
                names.iter().any(|n| text.contains(n.as_str())),
                "{:?} of {:?} in {}: {}", change, names, document, text
            );
        }
    }

    /// The plain-text parameters (comma-separated lists).
    #[test]
    fn list_parameters_never_panic_and_name_the_parameter(
        parameter in prop::sample::select(vec![PARAM_REGIONS, PARAM_SERVICES, PARAM_REQUIRED_TAGS]),
        value in prop_oneof![".{0,40}", "[a-z0-9, -]{0,30}", Just("eu-west-1, ,EU-WEST-1".to_string())],
    ) {
        let params = BTreeMap::from([(parameter.to_string(), value.clone())]);
        if let Err(error) = ScannerConfig::from_parameters(&params) {
            prop_assert_eq!(parameter_of(&error), Some(parameter), "{:?}: {}", value, error);
        }
    }
}
