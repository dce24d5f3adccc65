//! Rule parameters: thresholds a rule takes, named like the matching Security Hub control's
//! parameter, set in the Parameter Store parameter `/compliance/scanner/config/rule-parameters`
//! as JSON keyed by rule id: `{"rds_instance_backup_retention": {"backupRetentionMinimum": 14}}`.
//! A parameter that is not set keeps its default.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::CoreError;

pub const PARAM_RULE_PARAMETERS: &str = "/compliance/scanner/config/rule-parameters";

/// An integer parameter of one rule, with its default and the values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegerParameter {
    /// The rule that takes the parameter (the key of its object in the JSON).
    pub rule_id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

/// The parameter values set for this scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleParameters {
    /// By (rule id, parameter name); only values that were set, each checked against its rule.
    values: BTreeMap<(&'static str, &'static str), i64>,
}

impl RuleParameters {
    /// Every parameter at its default.
    pub const DEFAULTS: RuleParameters = RuleParameters {
        values: BTreeMap::new(),
    };

    /// Parses the parameter's JSON; an unknown rule or parameter, a value of the wrong type or
    /// out of range is an error that names it.
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        let root: Value = serde_json::from_str(json).map_err(|e| {
            invalid(format!(
                "{e} (expected {{\"rule_id\": {{\"parameterName\": value}}}})"
            ))
        })?;
        let Value::Object(rules) = root else {
            return Err(invalid(format!(
                "expected an object keyed by rule id, like {{\"rds_instance_backup_retention\": {{\"backupRetentionMinimum\": 14}}}}, not {root}"
            )));
        };
        let mut values = BTreeMap::new();
        for (rule_id, given) in rules {
            let rule = super::rule(&rule_id)
                .ok_or_else(|| invalid(format!("`{rule_id}` is not a known rule")))?;
            if rule.parameters.is_empty() {
                return Err(invalid(format!("rule `{rule_id}` takes no parameters")));
            }
            let Value::Object(given) = given else {
                return Err(invalid(format!(
                    "`{rule_id}` must be an object of parameter names and values, not {given}"
                )));
            };
            for (name, value) in given {
                let parameter =
                    rule.parameters
                        .iter()
                        .find(|p| p.name == name)
                        .ok_or_else(|| {
                            let known: Vec<&str> = rule.parameters.iter().map(|p| p.name).collect();
                            invalid(format!(
                                "rule `{rule_id}` has no parameter `{name}` (it takes {})",
                                known.join(", ")
                            ))
                        })?;
                let number = value.as_i64().ok_or_else(|| {
                    invalid(format!(
                        "`{rule_id}.{name}` must be an integer, not {value}"
                    ))
                })?;
                if !(parameter.min..=parameter.max).contains(&number) {
                    return Err(invalid(format!(
                        "`{rule_id}.{name}` is {number}; it must be from {} to {}",
                        parameter.min, parameter.max
                    )));
                }
                values.insert((rule.id, parameter.name), number);
            }
        }
        Ok(RuleParameters { values })
    }

    /// The value set for `parameter`, or its default.
    pub fn integer(&self, parameter: &IntegerParameter) -> i64 {
        self.values
            .get(&(parameter.rule_id, parameter.name))
            .copied()
            .unwrap_or(parameter.default)
    }
}

fn invalid(reason: String) -> CoreError {
    CoreError::InvalidParameter {
        parameter: PARAM_RULE_PARAMETERS.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
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
}
