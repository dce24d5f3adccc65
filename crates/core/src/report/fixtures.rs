//! A run of two accounts for the report tests: `111111111111` ("Production", the scanner's own
//! account) and `222222222222`, which Organizations gave no name and one of whose units failed
//! (so it comes first, worst first).

use std::collections::BTreeMap;

use serde_json::json;

use crate::finding::{stable_finding_id, Finding, FindingStatus, RuleChecks, ScanError};
use crate::report::document::{RunParts, RunReport};
use crate::report::{score, Summary};
use crate::run::{AccountSummary, FailedUnit, RunDocument, UnitRecord};
use crate::Service;

pub const PROD: &str = "111111111111";
pub const PROD_NAME: &str = "Production";
pub const UNNAMED: &str = "222222222222";
pub const RUN: &str = "run-7";
pub const CREATED_AT: &str = "2026-11-23T10:00:00Z";

/// A failing finding of `rule_id` on `resource` in `account`.
pub fn finding(account: &str, rule_id: &str, resource: &str, region: &str) -> Finding {
    let rule = crate::rules::rule(rule_id).expect("rule in the catalog");
    let service = rule.service().unwrap_or(Service::Ec2);
    let arn = match service {
        Service::S3 => format!("arn:aws:s3:::{resource}"),
        other => format!("arn:aws:{other}:{region}:{account}:resource/{resource}"),
    };
    Finding {
        id: stable_finding_id(account, region, rule_id, &arn),
        rule_id: rule_id.into(),
        title: rule.title.into(),
        severity: rule.severity,
        status: FindingStatus::Fail,
        muted_reason: None,
        service,
        resource_type: rule
            .resource_type()
            .unwrap_or(crate::model::ResourceType::AwsAccount),
        resource_id: resource.into(),
        resource_arn: arn,
        region: region.into(),
        account_id: account.into(),
        evidence: json!({"resource": resource}),
        remediation: rule.remediation.into(),
        runbook: rule.runbook,
        remediation_evidence: None,
        compliance: rule.controls.to_refs(),
        resource_tags: BTreeMap::new(),
    }
}

/// The numbers of `findings`, with `evaluated` checks of which `passed` passed.
pub fn summary(findings: &[&Finding], evaluated: usize, passed: usize) -> Summary {
    let mut checks_by_rule = BTreeMap::<String, RuleChecks>::new();
    for f in findings {
        checks_by_rule
            .entry(f.rule_id.clone())
            .or_default()
            .add(false);
    }
    Summary {
        resources_scanned: evaluated,
        checks_evaluated: evaluated,
        checks_passed: passed,
        checks_failed: evaluated - passed,
        compliance_score: score(passed, evaluated),
        findings_by_severity: crate::finding::count_by_severity(
            findings
                .iter()
                .copied()
                .filter(|f| f.status == FindingStatus::Fail),
        ),
        muted_findings: findings
            .iter()
            .filter(|f| f.status == FindingStatus::Muted)
            .count(),
        checks_by_rule,
    }
}

pub fn two_accounts_run() -> RunDocument {
    let unnamed = [finding(UNNAMED, "ec2_sg_open_ssh", "sg-2", "eu-west-1")];
    let mut prod = vec![
        finding(
            PROD,
            "s3_bucket_public_policy",
            "public-assets",
            "us-east-1",
        ),
        finding(PROD, "ec2_instance_imdsv2", "i-1", "eu-west-1"),
    ];
    prod[1].status = FindingStatus::Muted;
    prod[1].muted_reason = Some("legacy AMI".into());
    let all: Vec<&Finding> = unnamed.iter().chain(&prod).collect();
    let unit = |account: &str, region: &str, service: Service| UnitRecord {
        account_id: account.into(),
        region: region.into(),
        service,
        key: format!("runs/{RUN}/scans/{account}/{region}/{service}.json"),
        resources_scanned: 3,
        error_count: 0,
    };
    RunDocument {
        schema_version: 1,
        run_id: RUN.into(),
        account_id: PROD.into(),
        trigger: "scheduled".into(),
        created_at: CREATED_AT.into(),
        units: vec![
            unit(PROD, "eu-west-1", Service::Ec2),
            unit(PROD, "us-east-1", Service::S3),
            unit(UNNAMED, "eu-west-1", Service::Ec2),
        ],
        failed_units: vec![FailedUnit {
            account_id: UNNAMED.into(),
            region: "eu-west-1".into(),
            service: "s3".into(),
            error: "States.TaskFailed".into(),
            cause: "could not assume the member role".into(),
        }],
        complete: false,
        summary: summary(&all, 14, 11),
        accounts: vec![
            AccountSummary {
                account_id: UNNAMED.into(),
                name: None,
                summary: summary(&unnamed.iter().collect::<Vec<_>>(), 4, 3),
                units: 1,
                failed_units: 1,
                errors: 1,
            },
            AccountSummary {
                account_id: PROD.into(),
                name: Some(PROD_NAME.into()),
                summary: summary(&prod.iter().collect::<Vec<_>>(), 10, 8),
                units: 2,
                failed_units: 0,
                errors: 0,
            },
        ],
        findings: unnamed.iter().chain(&prod).cloned().collect(),
        errors: vec![ScanError {
            account_id: UNNAMED.into(),
            region: "eu-west-1".into(),
            service: Service::Ec2,
            api: "DescribeVolumes".into(),
            code: "UnauthorizedOperation".into(),
            message: "not authorized".into(),
            resource: None,
        }],
        rule_parameters: None,
    }
}

pub fn two_accounts_report() -> RunReport {
    RunReport::from_run(
        &two_accounts_run(),
        RunParts {
            analysis: None,
            reconciliation: None,
            history: Vec::new(),
            remediation: None,
            generated_at: "2026-11-23T10:05:00Z",
        },
    )
}

/// The two accounts' report with one finding of every rule of the catalog (accounts taking
/// turns; every lifecycle status; one muted) and a resolved finding in each account: the
/// widest output the renderers make.
pub fn catalog_report() -> RunReport {
    use crate::lifecycle::LifecycleStatus;
    use crate::report::document::{FindingLifecycle, ResolvedEntry};

    let mut report = two_accounts_report();
    let statuses = [
        LifecycleStatus::New,
        LifecycleStatus::Open,
        LifecycleStatus::Reopened,
    ];
    report.findings = crate::rules::catalog()
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let (account, name) = if i % 2 == 0 {
                (PROD, Some(PROD_NAME.to_string()))
            } else {
                (UNNAMED, None)
            };
            let region = if i % 3 == 0 { "us-east-1" } else { "eu-west-1" };
            let mut f = finding(account, rule.id, &format!("resource-{i}"), region);
            if i == 1 {
                f.status = FindingStatus::Muted;
                f.muted_reason = Some("accepted until the migration".into());
            }
            crate::report::ReportFinding {
                finding: f,
                account_name: name,
                lifecycle: Some(FindingLifecycle {
                    status: statuses[i % statuses.len()],
                    first_seen_at: "2026-11-01T10:00:00Z".into(),
                    last_seen_at: CREATED_AT.into(),
                    times_reopened: u32::from(i % 3 == 2),
                }),
            }
        })
        .collect();
    report.resolved = [(PROD, "s3_bucket_versioning"), (UNNAMED, "ec2_sg_open_rdp")]
        .into_iter()
        .map(|(account, rule_id)| {
            let gone = finding(account, rule_id, "gone", "eu-west-1");
            ResolvedEntry {
                id: gone.id,
                account_id: account.into(),
                rule_id: rule_id.into(),
                title: gone.title,
                resource_arn: gone.resource_arn,
                region: gone.region,
                first_seen_at: "2026-10-01T10:00:00Z".into(),
                last_seen_at: "2026-11-22T10:00:00Z".into(),
            }
        })
        .collect();
    // The sample must not change with the crate's version.
    report.scanner_version = "0.0.0-sample".into();
    report
}
