//! The cross-service rule: required tag keys on every taggable resource.

use serde_json::json;

use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::Tags;

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[RESOURCE_REQUIRED_TAGS];

pub const RESOURCE_REQUIRED_TAGS: Rule = Rule {
    id: "resource_required_tags",
    title: "Resource is missing required tags",
    severity: Severity::Low,
    rationale: "Ownership and classification tags route findings to the right team and drive tag-based access and cost controls.",
    remediation: "Add the missing tag keys listed in the evidence (required keys come from /compliance/scanner/config/required-tags).",
    remediation_url: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
    runbook: None,
    controls: Controls {
        // The Resource Tagging standard's controls; S3 has none.
        security_hub: &["EC2.38", "EC2.43", "EC2.45", "RDS.30"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Tags(required_tags),
};

pub fn required_tags(tags: &Tags, ctx: &Context) -> Outcome {
    if ctx.required_tags.is_empty() {
        return Outcome::NotApplicable;
    }
    // Tag keys are case-sensitive in AWS: `owner` does not satisfy `Owner`.
    let missing: Vec<&String> = ctx
        .required_tags
        .iter()
        .filter(|key| !tags.contains_key(key.as_str()))
        .collect();
    if missing.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(
            json!({ "missing_tag_keys": missing, "required_tag_keys": ctx.required_tags }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleParameters;

    const NO_PARAMETERS: &RuleParameters = &RuleParameters::DEFAULTS;

    fn ctx(required: &[String]) -> Context<'_> {
        Context {
            account_id: "1",
            required_tags: required,
            account_public_access_block: None,
            parameters: NO_PARAMETERS,
        }
    }

    #[test]
    fn missing_keys_fail_case_sensitively_and_no_config_means_not_applicable() {
        let required = vec!["Owner".to_string(), "Environment".to_string()];
        let mut tags = Tags::new();
        tags.insert("owner".into(), "x".into());
        tags.insert("Environment".into(), String::new());
        match required_tags(&tags, &ctx(&required)) {
            Outcome::Fail { evidence: e, .. } => {
                assert_eq!(e["missing_tag_keys"], json!(["Owner"]));
            }
            other => panic!("{other:?}"),
        }
        tags.insert("Owner".into(), "secops".into());
        assert_eq!(required_tags(&tags, &ctx(&required)), Outcome::Pass);
        assert_eq!(
            required_tags(&Tags::new(), &ctx(&[])),
            Outcome::NotApplicable
        );
    }
}
