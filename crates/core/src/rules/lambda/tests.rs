use serde_json::json;

use super::*;
use crate::rules::RuleParameters;

const CTX: Context = Context {
    account_id: "111122223333",
    required_tags: &[],
    account_public_access_block: None,
    parameters: &RuleParameters::DEFAULTS,
};

fn fails(o: &Outcome) -> bool {
    matches!(o, Outcome::Fail { .. })
}

fn function() -> LambdaFunction {
    LambdaFunction {
        name: "f".into(),
        arn: "arn:aws:lambda:us-east-1:111122223333:function:f".into(),
        region: "us-east-1".into(),
        package_type: "Zip".into(),
        runtime: Some("python3.13".into()),
        ..LambdaFunction::default()
    }
}

fn with_statement(statement: &serde_json::Value) -> LambdaFunction {
    LambdaFunction {
        policy: Some(json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()),
        ..function()
    }
}

fn public(statement: &serde_json::Value) -> Outcome {
    function_public_access(&with_statement(statement), &CTX)
}

#[test]
fn public_access_wildcard_principals_fail_unless_narrowed() {
    let invoke = |principal: serde_json::Value| {
        json!({"Sid": "s", "Effect": "Allow", "Principal": principal, "Action": "lambda:InvokeFunction",
               "Resource": "arn:aws:lambda:us-east-1:111122223333:function:f"})
    };
    let Outcome::Fail { evidence, .. } = public(&invoke(json!("*"))) else {
        panic!("Principal * is public");
    };
    assert_eq!(evidence["public_statements"][0]["principals"], json!(["*"]));
    assert!(fails(&public(&invoke(json!({"AWS": "*"})))));
    assert!(fails(&public(&invoke(json!({"Service": "*"})))));
    // A function URL open to anyone: the auth-type condition does not narrow the principal.
    let mut url = invoke(json!("*"));
    url["Action"] = json!("lambda:InvokeFunctionUrl");
    url["Condition"] = json!({"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}});
    assert!(fails(&public(&url)));
    // Fixed narrowing conditions make it private.
    for (key, value) in [
        ("AWS:SourceAccount", "111122223333"),
        ("AWS:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic"),
        ("aws:PrincipalOrgID", "o-abc123"),
    ] {
        let mut s = invoke(json!("*"));
        s["Condition"] = json!({"StringEquals": {key: value}});
        assert!(!fails(&public(&s)), "{key}");
    }
    // A wildcard value is not fixed: still public.
    let mut s = invoke(json!("*"));
    s["Condition"] = json!({"ArnLike": {"AWS:SourceArn": "arn:aws:sns:*:*:*"}});
    assert!(fails(&public(&s)));
    // A Deny is never a grant.
    let mut deny = invoke(json!("*"));
    deny["Effect"] = json!("Deny");
    assert_eq!(public(&deny), Outcome::Pass);
}

#[test]
fn public_access_named_principals_pass() {
    for principal in [
        json!({"AWS": "arn:aws:iam::444455556666:root"}),
        json!({"AWS": "444455556666"}),
        json!({"Service": "sns.amazonaws.com"}),
        json!({"Service": "events.amazonaws.com"}),
    ] {
        let s =
            json!({"Effect": "Allow", "Principal": principal, "Action": "lambda:InvokeFunction"});
        assert_eq!(public(&s), Outcome::Pass, "{s}");
    }
}

#[test]
fn public_access_s3_needs_a_source_account() {
    let s3 = |condition: serde_json::Value| {
        json!({"Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
               "Action": "lambda:InvokeFunction", "Condition": condition})
    };
    // Without a condition, or with only the bucket ARN (which names no account): public.
    assert!(fails(&public(&s3(json!({})))));
    let arn_only = s3(json!({"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}));
    let Outcome::Fail { evidence, .. } = public(&arn_only) else {
        panic!("S3 with only a source ARN is public");
    };
    assert_eq!(
        evidence["public_statements"][0]["principals"],
        json!(["s3.amazonaws.com"])
    );
    assert_eq!(
        evidence["public_statements"][0]["conditions"][0]["key"],
        "aws:sourcearn"
    );
    // With the source account: private.
    let with_account = s3(json!({
        "StringEquals": {"AWS:SourceAccount": "111122223333"},
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
    }));
    assert_eq!(public(&with_account), Outcome::Pass);
}

#[test]
fn public_access_without_policy_passes_and_unreadable_is_not_judged() {
    assert_eq!(function_public_access(&function(), &CTX), Outcome::Pass);
    let unreadable = LambdaFunction {
        unreadable: vec![API_POLICY.into()],
        ..function()
    };
    assert_eq!(
        function_public_access(&unreadable, &CTX),
        Outcome::NotApplicable
    );
}

#[test]
fn supported_runtime_follows_the_list_and_skips_images_and_os_only() {
    assert_eq!(function_supported_runtime(&function(), &CTX), Outcome::Pass);
    let old = LambdaFunction {
        runtime: Some("python3.9".into()),
        ..function()
    };
    let Outcome::Fail { evidence, .. } = function_supported_runtime(&old, &CTX) else {
        panic!("python3.9 is not supported");
    };
    assert_eq!(evidence["runtime"], "python3.9");
    for runtime in ["provided.al2023", "provided.al2", "provided"] {
        let custom = LambdaFunction {
            runtime: Some(runtime.into()),
            ..function()
        };
        assert_eq!(
            function_supported_runtime(&custom, &CTX),
            Outcome::NotApplicable
        );
    }
    let image = LambdaFunction {
        package_type: "Image".into(),
        runtime: None,
        ..function()
    };
    assert_eq!(
        function_supported_runtime(&image, &CTX),
        Outcome::NotApplicable
    );
    // The list is a parameter.
    let parameters = RuleParameters::parse(
        r#"{"lambda_function_supported_runtime": {"runtime": ["python3.9"]}}"#,
    )
    .unwrap();
    let ctx = Context {
        parameters: &parameters,
        ..CTX
    };
    assert_eq!(function_supported_runtime(&old, &ctx), Outcome::Pass);
    assert!(fails(&function_supported_runtime(&function(), &ctx)));
}

fn in_vpc(zones: Option<&[&str]>) -> LambdaFunction {
    LambdaFunction {
        vpc_id: Some("vpc-1".into()),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        availability_zones: zones.map(|z| z.iter().map(ToString::to_string).collect()),
        ..function()
    }
}

#[test]
fn in_vpc_needs_a_vpc_configuration() {
    let Outcome::Fail { evidence, .. } = function_in_vpc(&function(), &CTX) else {
        panic!("no VPC configuration fails");
    };
    assert_eq!(evidence["subnet_ids"], json!([]));
    // ListFunctions gives an empty VpcId for functions outside a VPC.
    let empty = LambdaFunction {
        vpc_id: Some(String::new()),
        ..function()
    };
    assert!(fails(&function_in_vpc(&empty, &CTX)));
    assert_eq!(function_in_vpc(&in_vpc(None), &CTX), Outcome::Pass);
}

#[test]
fn multi_az_counts_the_subnets_zones() {
    assert_eq!(function_multi_az(&function(), &CTX), Outcome::NotApplicable);
    assert_eq!(
        function_multi_az(&in_vpc(None), &CTX),
        Outcome::NotApplicable
    );
    let one = in_vpc(Some(&["us-east-1a"]));
    let Outcome::Fail { evidence, .. } = function_multi_az(&one, &CTX) else {
        panic!("one zone fails");
    };
    assert_eq!(evidence["minimum_availability_zones"], 2);
    let two = in_vpc(Some(&["us-east-1a", "us-east-1b"]));
    assert_eq!(function_multi_az(&two, &CTX), Outcome::Pass);
    let parameters =
        RuleParameters::parse(r#"{"lambda_function_multi_az": {"availabilityZones": 3}}"#).unwrap();
    let ctx = Context {
        parameters: &parameters,
        ..CTX
    };
    assert!(fails(&function_multi_az(&two, &ctx)));
    assert!(
        RuleParameters::parse(r#"{"lambda_function_multi_az": {"availabilityZones": 1}}"#).is_err()
    );
}

#[test]
fn xray_needs_active_tracing() {
    assert!(fails(&function_xray_tracing(&function(), &CTX)));
    let pass_through = LambdaFunction {
        tracing_mode: Some("PassThrough".into()),
        ..function()
    };
    assert!(fails(&function_xray_tracing(&pass_through, &CTX)));
    let active = LambdaFunction {
        tracing_mode: Some("Active".into()),
        ..function()
    };
    assert_eq!(function_xray_tracing(&active, &CTX), Outcome::Pass);
}
