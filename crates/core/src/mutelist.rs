//! The mute list: accepted risks. A muted finding stays in every report, marked MUTED with the
//! reason, so that auditors see what was accepted and why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

#[derive(Deserialize)]
#[serde(untagged)]
enum MutelistDocument {
    Wrapped { entries: Vec<MuteEntry> },
    Bare(Vec<MuteEntry>),
}

impl Mutelist {
    /// Parses and validates the `mutelist` parameter; `parameter` names it in errors.
    pub fn parse(json: &str, parameter: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter {
            parameter: parameter.to_string(),
            reason,
        };
        let entries = match serde_json::from_str::<MutelistDocument>(json) {
            Ok(MutelistDocument::Wrapped { entries }) | Ok(MutelistDocument::Bare(entries)) => {
                entries
            }
            Err(_) => {
                // Re-parse strictly for a precise message (untagged enums only say "no variant matched").
                let detail = serde_json::from_str::<Vec<MuteEntry>>(json)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                return Err(invalid(format!(
                    "expected {{\"entries\": [{{\"rule_id\", \"resource\"|\"tags\", \"reason\"}}]}} ({detail})"
                )));
            }
        };
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
}
