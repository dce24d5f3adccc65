use serde_json::json;

use super::Context;
use crate::finding::Outcome;
use crate::model::Tags;

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
        Outcome::Fail(
            json!({ "missing_tag_keys": missing, "required_tag_keys": ctx.required_tags }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(required: &[String]) -> Context<'_> {
        Context {
            account_id: "1",
            required_tags: required,
            account_public_access_block: None,
        }
    }

    #[test]
    fn missing_keys_fail_case_sensitively_and_no_config_means_not_applicable() {
        let required = vec!["Owner".to_string(), "Environment".to_string()];
        let mut tags = Tags::new();
        tags.insert("owner".into(), "x".into());
        tags.insert("Environment".into(), "".into());
        match required_tags(&tags, &ctx(&required)) {
            Outcome::Fail(e) => assert_eq!(e["missing_tag_keys"], json!(["Owner"])),
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
