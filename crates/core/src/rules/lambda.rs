//! Lambda functions (Lambda.1, .2, .3, .5, .7), each judged on what ListFunctions returns, its
//! function policy (GetPolicy) and the Availability Zones of its subnets. Semantics are those of
//! the AWS Config rules the Security Hub controls use (sources in docs/control-mappings.md).

use serde_json::json;

use super::controls::NIST_PUBLIC_ACCESS;
use super::{Check, Context, Controls, IntegerParameter, Parameter, Rule, StringListParameter};
use crate::finding::{Outcome, Severity};
use crate::model::LambdaFunction;
use crate::policy::{BucketPolicy, Statement};

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[
    LAMBDA_FUNCTION_PUBLIC_ACCESS,
    LAMBDA_FUNCTION_SUPPORTED_RUNTIME,
    LAMBDA_FUNCTION_IN_VPC,
    LAMBDA_FUNCTION_MULTI_AZ,
    LAMBDA_FUNCTION_XRAY_TRACING,
];

/// The per-function call whose answer Lambda.1 needs (recorded in `LambdaFunction::unreadable`).
pub const API_POLICY: &str = "GetPolicy";
/// The call whose answer Lambda.5 needs (the subnets' Availability Zones).
pub const API_SUBNETS: &str = "DescribeSubnets";

// ------------------------------------------------------------------- Lambda.1

/// Condition keys that keep an Amazon S3 grant to one account: a bucket ARN (`aws:SourceArn`)
/// names no account, so only these narrow it (lambda-function-public-access-prohibited: "a
/// condition to limit public access, such as AWS:SourceAccount").
const S3_SOURCE_ACCOUNT_KEYS: &[&str] = &["aws:sourceaccount", "aws:sourceowner"];

pub const LAMBDA_FUNCTION_PUBLIC_ACCESS: Rule = Rule {
    id: "lambda_function_public_access",
    title: "Lambda function policy allows public access",
    severity: Severity::Critical,
    rationale: "A function policy that grants everyone (or Amazon S3 without a source account) lets anyone invoke the function or reach its code, with your data and your bill.",
    remediation: "Remove the public statement (aws lambda remove-permission --statement-id SID) or add a fixed aws:SourceAccount, aws:SourceArn or aws:PrincipalOrgID condition; grant Amazon S3 only with aws:SourceAccount.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-1",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["Lambda.1"],
        security_hub: &["Lambda.1"],
        pci_dss: &[
            "v3.2.1/1.2.1",
            "v3.2.1/1.3.1",
            "v3.2.1/1.3.2",
            "v3.2.1/1.3.4",
            "v3.2.1/7.2.1",
            "v4.0.1/7.2.1",
        ],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::LambdaFunction(function_public_access),
};

/// An `Allow` open to anyone: a wildcard in any principal (`"*"`, `{"AWS": "*"}`,
/// `{"Service": "*"}`) or `NotPrincipal`, without a fixed narrowing condition
/// (`aws:SourceAccount`, `aws:SourceArn`, `aws:PrincipalOrgID`, ...); or Amazon S3 as the
/// principal without a fixed `aws:SourceAccount`.
fn is_public(s: &Statement) -> bool {
    if !s.allow {
        return false;
    }
    let wildcard = s.wildcard_principal
        || s.not_principal
        || s.service_principals.iter().any(|p| p.contains('*'));
    let s3 = s
        .service_principals
        .iter()
        .any(|p| p.eq_ignore_ascii_case("s3.amazonaws.com"));
    (wildcard && !s.is_narrowed()) || (s3 && !s.is_narrowed_by(S3_SOURCE_ACCOUNT_KEYS))
}

/// Lambda.1 (lambda-function-public-access-prohibited): no policy passes; an unreadable one is
/// a recorded scan error, not a guess.
pub fn function_public_access(f: &LambdaFunction, _: &Context) -> Outcome {
    if f.is_unreadable(API_POLICY) {
        return Outcome::NotApplicable;
    }
    let Some(document) = &f.policy else {
        return Outcome::Pass;
    };
    let Ok(policy) = BucketPolicy::parse(document) else {
        return Outcome::NotApplicable;
    };
    let public: Vec<_> = policy
        .statements
        .iter()
        .filter(|s| is_public(s))
        .map(|s| {
            let mut principals: Vec<&str> = s
                .aws_principals
                .iter()
                .chain(&s.service_principals)
                .map(String::as_str)
                .collect();
            if principals.is_empty() && s.wildcard_principal {
                principals.push("*");
            }
            json!({
                "sid": s.sid,
                "principals": principals,
                "not_principal": s.not_principal,
                "actions": s.actions,
                "conditions": s.conditions.iter().map(|c| json!({"operator": c.operator, "key": c.key, "values": c.values})).collect::<Vec<_>>(),
            })
        })
        .collect();
    if public.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "public_statements": public }))
    }
}

// ------------------------------------------------------------------- Lambda.2

/// Security Hub Lambda.2's `runtime` list ("Security Hub CSPM controls for AWS Lambda", where
/// it is not customizable; here it may be set, e.g. when Lambda adds a runtime).
pub const RUNTIME: StringListParameter = StringListParameter {
    rule_id: "lambda_function_supported_runtime",
    name: "runtime",
    description: "Comma-separated list of AWS Lambda runtime values",
    default: &[
        "dotnet8",
        "java25",
        "java21",
        "java17",
        "java11",
        "java8.al2",
        "nodejs24.x",
        "nodejs22.x",
        "nodejs20.x",
        "python3.14",
        "python3.13",
        "python3.12",
        "python3.11",
        "python3.10",
        "ruby3.4",
        "ruby3.3",
        "ruby3.2",
    ],
    allowed: &[],
    max_items: 100,
};

pub const LAMBDA_FUNCTION_SUPPORTED_RUNTIME: Rule = Rule {
    id: "lambda_function_supported_runtime",
    title: "Lambda function uses an unsupported runtime",
    severity: Severity::Medium,
    rationale: "A deprecated runtime no longer receives security patches, though the function keeps running on it.",
    remediation: "Move the function to a supported runtime of its language (update-function-configuration --runtime) after testing it there.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-2",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["Lambda.2"],
        security_hub: &["Lambda.2"],
        pci_dss: &["v4.0.1/12.3.4"],
        nist_800_53_r5: &["CA-9(1)", "CM-2", "SI-2", "SI-2(2)", "SI-2(4)", "SI-2(5)"],
        ..Controls::NONE
    },
    parameters: &[Parameter::StringList(RUNTIME)],
    check: Check::LambdaFunction(function_supported_runtime),
};

/// OS-only runtimes (custom runtimes on Amazon Linux), which lambda-function-settings-check
/// ignores.
fn is_os_only(runtime: &str) -> bool {
    runtime == "provided" || runtime.starts_with("provided.")
}

/// Lambda.2 (lambda-function-settings-check with `runtime`): the runtime must be listed;
/// container images (`Image`) and OS-only runtimes are not judged.
pub fn function_supported_runtime(f: &LambdaFunction, ctx: &Context) -> Outcome {
    if f.package_type == "Image" {
        return Outcome::NotApplicable;
    }
    let Some(runtime) = f.runtime.as_deref().filter(|r| !r.is_empty()) else {
        return Outcome::NotApplicable;
    };
    if is_os_only(runtime) {
        return Outcome::NotApplicable;
    }
    let supported = ctx.parameters.string_list(&RUNTIME);
    if supported.iter().any(|s| s == runtime) {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "runtime": runtime, "supported_runtimes": supported }))
    }
}

// ------------------------------------------------------------------- Lambda.3

/// Lambda.3 is in the PCI DSS v3.2.1 and NIST 800-53 standards, not in FSBP.
pub const LAMBDA_FUNCTION_IN_VPC: Rule = Rule {
    id: "lambda_function_in_vpc",
    title: "Lambda function is not connected to a VPC",
    severity: Severity::Low,
    rationale: "A function outside a VPC cannot be confined by security groups, network ACLs and VPC endpoints.",
    remediation: "Connect the function to private subnets (at least two) of a VPC with a security group that allows what it needs.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-3",
    runbook: None,
    controls: Controls {
        security_hub: &["Lambda.3"],
        pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::LambdaFunction(function_in_vpc),
};

/// Lambda.3 (lambda-inside-vpc): fails when ListFunctions gives no VPC configuration.
pub fn function_in_vpc(f: &LambdaFunction, _: &Context) -> Outcome {
    if f.in_vpc() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "vpc_id": f.vpc_id, "subnet_ids": f.subnet_ids }))
    }
}

// ------------------------------------------------------------------- Lambda.5

/// Security Hub Lambda.5's `availabilityZones`: an enum of 2 to 6, default 2.
pub const AVAILABILITY_ZONES: IntegerParameter = IntegerParameter {
    rule_id: "lambda_function_multi_az",
    name: "availabilityZones",
    description: "Minimum number of Availability Zones",
    default: 2,
    min: 2,
    max: 6,
};

pub const LAMBDA_FUNCTION_MULTI_AZ: Rule = Rule {
    id: "lambda_function_multi_az",
    title: "VPC Lambda function does not operate in multiple Availability Zones",
    severity: Severity::Medium,
    rationale: "A function whose subnets are all in one Availability Zone stops when that zone fails.",
    remediation: "Give the function's VPC configuration subnets in at least two (or `availabilityZones`) Availability Zones.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-5",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["Lambda.5"],
        security_hub: &["Lambda.5"],
        nist_800_53_r5: &["CP-10", "CP-6(2)", "SC-36", "SC-5(2)", "SI-13(5)"],
        ..Controls::NONE
    },
    parameters: &[Parameter::Integer(AVAILABILITY_ZONES)],
    check: Check::LambdaFunction(function_multi_az),
};

/// Lambda.5 (lambda-vpc-multi-az-check): functions connected to a VPC must reach at least
/// `availabilityZones` zones through their subnets; others are not judged, nor functions whose
/// subnets could not be read (a recorded scan error).
pub fn function_multi_az(f: &LambdaFunction, ctx: &Context) -> Outcome {
    if !f.in_vpc() {
        return Outcome::NotApplicable;
    }
    let Some(zones) = f.availability_zones.as_ref() else {
        return Outcome::NotApplicable;
    };
    let minimum = ctx.parameters.integer(&AVAILABILITY_ZONES);
    if i64::try_from(zones.len()).unwrap_or(i64::MAX) >= minimum {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "subnet_ids": f.subnet_ids,
            "availability_zones": zones,
            "minimum_availability_zones": minimum,
        }))
    }
}

// ------------------------------------------------------------------- Lambda.7

/// Lambda.7 is in the NIST 800-53 standard, not in FSBP.
pub const LAMBDA_FUNCTION_XRAY_TRACING: Rule = Rule {
    id: "lambda_function_xray_tracing",
    title: "Lambda function does not have AWS X-Ray active tracing",
    severity: Severity::Low,
    rationale: "Without active tracing, slow or failing invocations and unexpected data flows are hard to trace.",
    remediation: "Turn on active tracing (update-function-configuration --tracing-config Mode=Active); the execution role needs the X-Ray write permissions.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-7",
    runbook: None,
    controls: Controls {
        security_hub: &["Lambda.7"],
        nist_800_53_r5: &["CA-7"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::LambdaFunction(function_xray_tracing),
};

/// Lambda.7 (lambda-function-xray-enabled): `TracingConfig.Mode` must be `Active`.
pub fn function_xray_tracing(f: &LambdaFunction, _: &Context) -> Outcome {
    if f.tracing_mode.as_deref() == Some("Active") {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "tracing_mode": f.tracing_mode }))
    }
}

#[cfg(test)]
mod tests;
