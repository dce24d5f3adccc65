//! Rule parameters: settings a rule takes, named like the matching Security Hub control's
//! parameter, set in the Parameter Store parameter `/compliance/scanner/config/rule-parameters`
//! as JSON keyed by rule id: `{"rds_instance_backup_retention": {"backupRetentionMinimum": 14}}`.
//! A parameter that is not set keeps its default.

use std::collections::BTreeMap;

use serde_json::{json, Value};

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

/// A list of integers (ports, for example), each within `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegerListParameter {
    pub rule_id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub default: &'static [i64],
    pub min: i64,
    pub max: i64,
    pub max_items: usize,
}

/// A list of strings; when `allowed` is not empty, every item must be one of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringListParameter {
    pub rule_id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub default: &'static [&'static str],
    pub allowed: &'static [&'static str],
    pub max_items: usize,
}

/// One parameter of a rule, whatever its type (what `Rule::parameters` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    Integer(IntegerParameter),
    IntegerList(IntegerListParameter),
    StringList(StringListParameter),
}

impl Parameter {
    pub const fn rule_id(&self) -> &'static str {
        match self {
            Parameter::Integer(p) => p.rule_id,
            Parameter::IntegerList(p) => p.rule_id,
            Parameter::StringList(p) => p.rule_id,
        }
    }

    pub const fn name(&self) -> &'static str {
        match self {
            Parameter::Integer(p) => p.name,
            Parameter::IntegerList(p) => p.name,
            Parameter::StringList(p) => p.name,
        }
    }

    pub const fn description(&self) -> &'static str {
        match self {
            Parameter::Integer(p) => p.description,
            Parameter::IntegerList(p) => p.description,
            Parameter::StringList(p) => p.description,
        }
    }

    /// The type as Security Hub names it (`int`, `IntegerList`, `StringList`).
    pub const fn type_name(&self) -> &'static str {
        match self {
            Parameter::Integer(_) => "int",
            Parameter::IntegerList(_) => "IntegerList",
            Parameter::StringList(_) => "StringList",
        }
    }

    pub fn default_value(&self) -> Value {
        match self {
            Parameter::Integer(p) => json!(p.default),
            Parameter::IntegerList(p) => json!(p.default),
            Parameter::StringList(p) => json!(p.default),
        }
    }

    /// What values are accepted, for documentation.
    pub fn allowed(&self) -> String {
        match self {
            Parameter::Integer(p) => format!("{} to {}", p.min, p.max),
            Parameter::IntegerList(p) => format!(
                "up to {} integers, each {} to {}",
                p.max_items, p.min, p.max
            ),
            Parameter::StringList(p) if p.allowed.is_empty() => {
                format!("up to {} strings", p.max_items)
            }
            Parameter::StringList(p) => {
                format!("up to {} of: {}", p.max_items, p.allowed.join(", "))
            }
        }
    }

    /// Checks a configured value against the parameter's type and range.
    fn parse_value(&self, value: &Value) -> Result<ParameterValue, String> {
        let at = format!("`{}.{}`", self.rule_id(), self.name());
        match self {
            Parameter::Integer(p) => {
                let n = value
                    .as_i64()
                    .ok_or_else(|| format!("{at} must be an integer, not {value}"))?;
                in_range(n, p.min, p.max).map_err(|range| format!("{at} is {n}; {range}"))?;
                Ok(ParameterValue::Integer(n))
            }
            Parameter::IntegerList(p) => {
                let items = list(value, p.max_items)
                    .map_err(|e| format!("{at} must be a list of integers: {e}"))?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let n = item.as_i64().ok_or_else(|| {
                        format!("{at} must be a list of integers; {item} is not an integer")
                    })?;
                    in_range(n, p.min, p.max)
                        .map_err(|range| format!("{at} lists {n}; {range}"))?;
                    out.push(n);
                }
                out.sort_unstable();
                out.dedup();
                Ok(ParameterValue::IntegerList(out))
            }
            Parameter::StringList(p) => {
                let items = list(value, p.max_items)
                    .map_err(|e| format!("{at} must be a list of strings: {e}"))?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let s = item.as_str().ok_or_else(|| {
                        format!("{at} must be a list of strings; {item} is not a string")
                    })?;
                    if !p.allowed.is_empty() && !p.allowed.contains(&s) {
                        return Err(format!(
                            "{at} lists `{s}`, which is not one of {}",
                            p.allowed.join(", ")
                        ));
                    }
                    out.push(s.to_string());
                }
                out.sort_unstable();
                out.dedup();
                Ok(ParameterValue::StringList(out))
            }
        }
    }
}

fn in_range(n: i64, min: i64, max: i64) -> Result<(), String> {
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(format!("it must be from {min} to {max}"))
    }
}

fn list(value: &Value, max_items: usize) -> Result<&Vec<Value>, String> {
    let items = value.as_array().ok_or_else(|| format!("not {value}"))?;
    if items.len() > max_items {
        return Err(format!("{} items, at most {max_items}", items.len()));
    }
    Ok(items)
}

/// A configured value, checked against its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParameterValue {
    Integer(i64),
    IntegerList(Vec<i64>),
    StringList(Vec<String>),
}

/// The parameter values set for this scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleParameters {
    /// By (rule id, parameter name); only values that were set, each checked against its rule.
    values: BTreeMap<(&'static str, &'static str), ParameterValue>,
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
                let parameter = rule
                    .parameters
                    .iter()
                    .find(|p| p.name() == name)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            rule.parameters.iter().map(Parameter::name).collect();
                        invalid(format!(
                            "rule `{rule_id}` has no parameter `{name}` (it takes {})",
                            known.join(", ")
                        ))
                    })?;
                let checked = parameter.parse_value(&value).map_err(invalid)?;
                values.insert((rule.id, parameter.name()), checked);
            }
        }
        Ok(RuleParameters { values })
    }

    /// The value set for `parameter`, or its default.
    pub fn integer(&self, parameter: &IntegerParameter) -> i64 {
        match self.values.get(&(parameter.rule_id, parameter.name)) {
            Some(ParameterValue::Integer(n)) => *n,
            _ => parameter.default,
        }
    }

    /// The list set for `parameter` (sorted, without duplicates), or its default.
    pub fn integer_list(&self, parameter: &IntegerListParameter) -> Vec<i64> {
        match self.values.get(&(parameter.rule_id, parameter.name)) {
            Some(ParameterValue::IntegerList(list)) => list.clone(),
            _ => parameter.default.to_vec(),
        }
    }

    /// The list set for `parameter` (sorted, without duplicates), or its default.
    pub fn string_list(&self, parameter: &StringListParameter) -> Vec<String> {
        match self.values.get(&(parameter.rule_id, parameter.name)) {
            Some(ParameterValue::StringList(list)) => list.clone(),
            _ => parameter
                .default
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
        }
    }

    /// The value in effect for `parameter`, configured or default, as JSON.
    pub fn value(&self, parameter: &Parameter) -> Value {
        match parameter {
            Parameter::Integer(p) => json!(self.integer(p)),
            Parameter::IntegerList(p) => json!(self.integer_list(p)),
            Parameter::StringList(p) => json!(self.string_list(p)),
        }
    }

    /// Whether `parameter` was configured (rather than left at its default).
    pub fn is_set(&self, parameter: &Parameter) -> bool {
        self.values
            .contains_key(&(parameter.rule_id(), parameter.name()))
    }

    /// Every parameter of every rule with the value in effect, as the report records it:
    /// `{"rule_id": {"parameterName": value}}`, in catalog order of rules.
    pub fn effective(&self) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        for rule in super::catalog() {
            if rule.parameters.is_empty() {
                continue;
            }
            let values = rule
                .parameters
                .iter()
                .map(|p| (p.name().to_string(), self.value(p)))
                .collect();
            out.insert(rule.id.to_string(), Value::Object(values));
        }
        out
    }
}

fn invalid(reason: String) -> CoreError {
    CoreError::InvalidParameter {
        parameter: PARAM_RULE_PARAMETERS.to_string(),
        reason,
    }
}

mod used;
pub use used::{DifferingParameter, ParameterUse, ParametersCollector, RuleParametersUsed};

#[cfg(test)]
mod tests;
