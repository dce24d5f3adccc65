//! The rule parameters a run used: each unit document records the values in effect when it was
//! evaluated ([`super::RuleParameters::effective`]); the run document and the report carry
//! them, and a parameter whose value differed between units (it was changed while the run was
//! going) is listed with each value and the units that used it, rather than one picked.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The parameter values a scan or run used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleParametersUsed {
    /// `{"rule_id": {"parameterName": value}}`: every parameter on which all units agreed.
    pub values: Map<String, Value>,
    /// Parameters whose value differed between units; none of them is in `values`.
    #[serde(default)]
    pub differing: Vec<DifferingParameter>,
}

/// One parameter that units of the same run used with different values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DifferingParameter {
    pub rule_id: String,
    pub parameter: String,
    /// Each value with the units (`account/region/service`) that used it, in the order the
    /// values were first met; `null`: the unit did not record this parameter.
    pub values: Vec<ParameterUse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterUse {
    pub value: Value,
    pub units: Vec<String>,
}

impl RuleParametersUsed {
    /// What one evaluation (every unit with the same settings) used.
    pub fn uniform(values: Map<String, Value>) -> Self {
        RuleParametersUsed {
            values,
            differing: Vec::new(),
        }
    }

    /// Whether every unit used the same values.
    pub fn consistent(&self) -> bool {
        self.differing.is_empty()
    }
}

/// Gathers the units' parameters as a run is merged. Units are grouped by their whole set of
/// values, so the common case (one set for the run) holds one map and the unit names.
#[derive(Debug, Clone, Default)]
pub struct ParametersCollector {
    groups: Vec<(Map<String, Value>, Vec<String>)>,
}

impl ParametersCollector {
    /// Records what the unit called `unit` used.
    pub fn add(&mut self, unit: String, values: &Map<String, Value>) {
        match self.groups.iter_mut().find(|(v, _)| v == values) {
            Some((_, units)) => units.push(unit),
            None => self.groups.push((values.clone(), vec![unit])),
        }
    }

    /// `None` when no unit recorded its parameters (documents written before they did).
    pub fn finish(self) -> Option<RuleParametersUsed> {
        let mut groups = self.groups;
        match groups.len() {
            0 => return None,
            1 => {
                return groups
                    .pop()
                    .map(|(values, _)| RuleParametersUsed::uniform(values))
            }
            _ => {}
        }
        // Every (rule, parameter) any unit recorded, in first-met order.
        let mut keys: Vec<(String, String)> = Vec::new();
        for (values, _) in &groups {
            for (rule, params) in values {
                for name in params.as_object().into_iter().flat_map(Map::keys) {
                    let key = (rule.clone(), name.clone());
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        let mut used = RuleParametersUsed::default();
        for (rule, name) in keys {
            let mut uses: Vec<ParameterUse> = Vec::new();
            for (values, units) in &groups {
                let value = values
                    .get(&rule)
                    .and_then(|p| p.get(&name))
                    .cloned()
                    .unwrap_or(Value::Null);
                match uses.iter_mut().find(|u| u.value == value) {
                    Some(u) => u.units.extend(units.iter().cloned()),
                    None => uses.push(ParameterUse {
                        value,
                        units: units.clone(),
                    }),
                }
            }
            if let [only] = uses.as_slice() {
                if let Value::Object(params) = used
                    .values
                    .entry(rule.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    params.insert(name, only.value.clone());
                }
            } else {
                used.differing.push(DifferingParameter {
                    rule_id: rule,
                    parameter: name,
                    values: uses,
                });
            }
        }
        Some(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn one_set_of_values_is_recorded_as_is() {
        let values = map(json!({"rds_instance_backup_retention": {"backupRetentionMinimum": 7}}));
        let mut c = ParametersCollector::default();
        c.add("1/eu-west-1/rds".into(), &values);
        c.add("1/us-east-1/rds".into(), &values);
        let used = c.finish().unwrap();
        assert_eq!(used, RuleParametersUsed::uniform(values));
        assert!(used.consistent());
        assert_eq!(ParametersCollector::default().finish(), None);
    }

    #[test]
    fn a_value_changed_mid_run_is_listed_with_its_units() {
        let before = map(json!({
            "rds_instance_backup_retention": {"backupRetentionMinimum": 7},
            "ec2_sg": {"authorizedTcpPorts": [80, 443]}
        }));
        let after = map(json!({
            "rds_instance_backup_retention": {"backupRetentionMinimum": 14},
            "ec2_sg": {"authorizedTcpPorts": [80, 443]}
        }));
        let mut c = ParametersCollector::default();
        c.add("1/eu-west-1/rds".into(), &before);
        c.add("1/us-east-1/rds".into(), &after);
        c.add("2/eu-west-1/rds".into(), &before);
        let used = c.finish().unwrap();
        assert!(!used.consistent());
        assert_eq!(
            Value::Object(used.values.clone()),
            json!({"ec2_sg": {"authorizedTcpPorts": [80, 443]}})
        );
        assert_eq!(
            serde_json::to_value(&used.differing).unwrap(),
            json!([{
                "rule_id": "rds_instance_backup_retention",
                "parameter": "backupRetentionMinimum",
                "values": [
                    {"value": 7, "units": ["1/eu-west-1/rds", "2/eu-west-1/rds"]},
                    {"value": 14, "units": ["1/us-east-1/rds"]}
                ]
            }])
        );
    }
}
