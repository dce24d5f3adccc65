//! The mute list: accepted risks. A muted finding stays in every report, marked MUTED with the
//! reason, so that auditors see what was accepted and why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::CoreError;
use crate::model::Tags;
use crate::policy::wildcard_match;
use crate::rules::rule;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteEntry {
    /// A rule id, or a pattern with `*` / `?` (e.g. `s3_*`).
    pub rule_id: String,
    /// Resource ARN pattern with `*` / `?`; omitted means any resource (then `tags` is required).
    #[serde(default)]
    pub resource: Option<String>,
    /// Tags the resource must all carry; values may be patterns.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Regions the entry is limited to; empty means all.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Why the risk is accepted. Required: an unexplained mute is not an audit trail.
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutelist {
    pub entries: Vec<MuteEntry>,
}

/// An entry shown in an error: its JSON, clipped so that one long entry stays one line.
const ENTRY_SHOWN_CHARS: usize = 160;

impl Mutelist {
    /// Parses and validates the `mutelist` parameter; `parameter` names it in errors.
    /// Accepts `{"entries": [...]}` or a bare list of entries.
    pub fn parse(json: &str, parameter: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter {
            parameter: parameter.to_string(),
            reason,
        };
        let document: Value =
            serde_json::from_str(json).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let items = match &document {
            Value::Array(items) => items,
            Value::Object(fields) => match fields.get("entries") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    return Err(invalid(format!(
                        "`entries` must be a list of entries, got {}",
                        json_type(other)
                    )))
                }
                None => {
                    return Err(invalid(format!(
                        "the object has no `entries`; expected {SHAPE}"
                    )))
                }
            },
            other => {
                return Err(invalid(format!(
                    "expected {SHAPE} or a list of entries, got {}",
                    json_type(other)
                )))
            }
        };
        // Entry by entry, so that an error names the entry (serde's own message for a list of
        // structs would only say which type it expected at which column).
        let mut entries = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let shown = shown_entry(item);
            let Value::Object(fields) = item else {
                return Err(invalid(format!(
                    "entries[{index}] {shown} is not an object"
                )));
            };
            let lacking = lacking_fields(fields);
            if !lacking.is_empty() {
                return Err(invalid(format!(
                    "entries[{index}] {shown} lacks {}",
                    lacking.join(" and ")
                )));
            }
            let entry = MuteEntry::deserialize(item)
                .map_err(|e| invalid(format!("entries[{index}] {shown}: {e}")))?;
            entries.push(entry);
        }
        for (index, entry) in entries.iter().enumerate() {
            let is_pattern = entry.rule_id.contains(['*', '?']);
            if !is_pattern && rule(&entry.rule_id).is_none() {
                return Err(invalid(format!(
                    "entries[{index}].rule_id `{}` is not a known rule",
                    entry.rule_id
                )));
            }
            if entry.resource.is_none() && entry.tags.is_empty() {
                return Err(invalid(format!(
                    "entries[{index}] needs `resource` or `tags` (use \"resource\": \"*\" to mute a rule everywhere)"
                )));
            }
            if entry.reason.trim().is_empty() {
                return Err(invalid(format!("entries[{index}].reason is empty")));
            }
        }
        Ok(Mutelist { entries })
    }

    /// The first entry that mutes `rule_id` on this resource, if any.
    pub fn matching(
        &self,
        rule_id: &str,
        arn: &str,
        region: &str,
        tags: &Tags,
    ) -> Option<&MuteEntry> {
        self.entries.iter().find(|e| {
            wildcard_match(&e.rule_id, rule_id)
                && e.resource.as_deref().is_none_or(|p| wildcard_match(p, arn))
                && (e.regions.is_empty() || e.regions.iter().any(|r| r == region))
                && e.tags
                    .iter()
                    .all(|(k, v)| tags.get(k).is_some_and(|actual| wildcard_match(v, actual)))
        })
    }
}

/// The documented shape, quoted in errors.
const SHAPE: &str = r#"{"entries": [{"rule_id", "resource"|"tags", "reason"}]}"#;

/// Required fields an entry does not have, in the words of the documented shape. Empty when
/// only `resource`/`tags` is missing: the validation below explains that case on its own.
fn lacking_fields(fields: &Map<String, Value>) -> Vec<&'static str> {
    let mut lacking = Vec::new();
    if !fields.contains_key("rule_id") {
        lacking.push("`rule_id`");
    }
    if !fields.contains_key("reason") {
        lacking.push("`reason`");
    }
    if !lacking.is_empty() && !fields.contains_key("resource") && !fields.contains_key("tags") {
        lacking.push("`resource` or `tags`");
    }
    lacking
}

fn shown_entry(item: &Value) -> String {
    let text = item.to_string();
    match text.char_indices().nth(ENTRY_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_resource_pattern_tag_and_region() {
        let list = Mutelist::parse(
            r#"{"entries":[
                {"rule_id":"ec2_sg_open_ssh","resource":"arn:aws:ec2:*:*:security-group/sg-bastion*","reason":"bastion"},
                {"rule_id":"s3_*","tags":{"Purpose":"public-website"},"regions":["eu-west-1"],"reason":"static site"}
            ]}"#,
            "/compliance/scanner/config/mutelist",
        )
        .unwrap();
        let none = Tags::new();
        assert_eq!(
            list.matching(
                "ec2_sg_open_ssh",
                "arn:aws:ec2:us-east-1:1:security-group/sg-bastion1",
                "us-east-1",
                &none
            )
            .map(|e| e.reason.as_str()),
            Some("bastion")
        );
        assert!(list
            .matching(
                "ec2_sg_open_rdp",
                "arn:aws:ec2:us-east-1:1:security-group/sg-bastion1",
                "us-east-1",
                &none
            )
            .is_none());
        let mut site = Tags::new();
        site.insert("Purpose".into(), "public-website".into());
        assert!(list
            .matching(
                "s3_bucket_public_policy",
                "arn:aws:s3:::www",
                "eu-west-1",
                &site
            )
            .is_some());
        assert!(list
            .matching(
                "s3_bucket_public_policy",
                "arn:aws:s3:::www",
                "us-east-1",
                &site
            )
            .is_none());
        assert!(list
            .matching(
                "s3_bucket_public_policy",
                "arn:aws:s3:::www",
                "eu-west-1",
                &none
            )
            .is_none());
    }

    #[test]
    fn invalid_lists_name_the_problem() {
        let p = "/compliance/scanner/config/mutelist";
        let err = |json: &str| Mutelist::parse(json, p).unwrap_err().to_string();
        assert!(err("{").contains(p));
        assert!(
            err(r#"[{"rule_id":"no_such_rule","resource":"*","reason":"x"}]"#)
                .contains("no_such_rule")
        );
        assert!(err(r#"[{"rule_id":"ec2_sg_open_ssh","reason":"x"}]"#).contains("entries[0] needs"));
        assert!(
            err(r#"[{"rule_id":"ec2_sg_open_ssh","resource":"*","reason":" "}]"#)
                .contains("reason is empty")
        );
        assert!(
            err(r#"[{"rule_id":"ec2_sg_open_ssh","resource":"*","reason":"x","typo":1}]"#)
                .contains("typo")
        );
        assert!(Mutelist::parse("[]", p).unwrap().entries.is_empty());
    }

    #[test]
    fn an_entry_missing_fields_is_named_with_the_fields_it_lacks() {
        let p = "/compliance/scanner/config/mutelist";
        let err = |json: &str| Mutelist::parse(json, p).unwrap_err().to_string();
        let wrapped = err(
            r#"{"entries":[{"rule_id":"ec2_sg_open_ssh","resource":"*","reason":"x"},{"rule_id":"s3_*"}]}"#,
        );
        assert_eq!(
            wrapped,
            format!(
                "parameter `{p}` is invalid: entries[1] {{\"rule_id\":\"s3_*\"}} lacks `reason` and `resource` or `tags`"
            )
        );
        let bare = err(r#"[{"rule_id":"ec2_sg_open_ssh","tags":{"Team":"web"}}]"#);
        assert!(
            bare.ends_with(
                r#"entries[0] {"rule_id":"ec2_sg_open_ssh","tags":{"Team":"web"}} lacks `reason`"#
            ),
            "{bare}"
        );
        assert!(err(r#"{"entries":[{"resource":"*","reason":"x"}]}"#).contains("lacks `rule_id`"));
        assert!(
            err(r#"{"entries":[{"rule_id":7,"resource":"*","reason":"x"}]}"#).ends_with(
                r#"entries[0] {"reason":"x","resource":"*","rule_id":7}: invalid type: integer `7`, expected a string"#
            ),
        );
        assert!(
            err(r#"{"entries":{}}"#).contains("`entries` must be a list of entries, got an object")
        );
        assert!(err(r#"{"rules":[]}"#).contains("no `entries`"));
        assert!(err("7").contains("got a number"));
        assert!(err("[7]").contains("entries[0] 7 is not an object"));
    }
}
