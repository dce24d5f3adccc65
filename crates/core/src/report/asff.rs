//! Findings in the AWS Security Finding Format, as Security Hub's `BatchImportFindings` takes
//! them. Field limits are the ones of the ASFF reference; longer values are cut, never rejected.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Finding, FindingStatus, Severity};
use crate::lifecycle::FindingRecord;
use crate::model::{partition_of_arn, ResourceType, Tags};
use crate::report::clip;
use crate::rules::{rule, Controls};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Security Hub takes at most this many findings per `BatchImportFindings` call.
pub const MAX_BATCH: usize = 100;
pub const PRODUCT_NAME: &str = "Compliance Scanner";
pub const COMPANY_NAME: &str = "Compliance Scanner";
const FIELD_PREFIX: &str = "compliance-scanner";

// Limits of the ASFF reference (AwsSecurityFinding and its nested types).
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_RESOURCE_ID: usize = 512;
const MAX_RECOMMENDATION: usize = 512;
const MAX_NOTE: usize = 512;
const MAX_REQUIREMENTS: usize = 32;
const MAX_PRODUCT_FIELD_VALUE: usize = 2048;
const MAX_RESOURCE_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
const TAG_CUT_MARKER: &str = "...";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub product_name: &'static str,
    pub company_name: &'static str,
    pub generator_id: String,
    pub aws_account_id: String,
    // No top-level `Region`: Security Hub sets it itself and ignores it on import.
    pub types: Vec<String>,
    pub first_observed_at: String,
    pub last_observed_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    pub remediation: AsffRemediation,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    pub record_state: &'static str,
    /// Severity and types as the finding provider sets them: after creation, an import can
    /// change these only here (the top-level fields belong to the customer's own updates).
    pub finding_provider_fields: AsffProviderFields,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<AsffNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffProviderFields {
    pub severity: AsffSeverity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: &'static str,
    pub original: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: AsffRecommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    #[serde(rename = "Type")]
    pub resource_type: &'static str,
    pub id: String,
    pub partition: String,
    pub region: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// `FAILED` while the finding is open, `PASSED` once the resource is fixed.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffNote {
    pub text: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// Who imports, and when.
#[derive(Debug, Clone)]
pub struct AsffContext {
    /// The region whose Security Hub receives the findings (the aggregation region).
    pub hub_region: String,
    pub partition: String,
    pub run_id: Option<String>,
    /// The import time: Security Hub applies an update only when `UpdatedAt` moves forward.
    pub updated_at: String,
}

impl AsffContext {
    pub fn product_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:securityhub:{}:{account_id}:product/{account_id}/default",
            self.partition, self.hub_region
        )
    }
}

/// First, last observation and creation times of a finding.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub first: &'a str,
    pub last: &'a str,
}

/// An open finding (FAILED, ACTIVE).
pub fn open_finding(
    f: &Finding,
    observed: Observed,
    lifecycle: &str,
    ctx: &AsffContext,
) -> AsffFinding {
    let rule = rule(&f.rule_id);
    let description = match rule {
        Some(r) => format!("{} Resource: {}.", r.rationale, f.resource_arn),
        None => format!("{} on {}.", f.title, f.resource_arn),
    };
    let mut finding = base(
        Identity {
            id: &f.id,
            rule_id: &f.rule_id,
            title: &f.title,
            severity: f.severity,
            account_id: &f.account_id,
            region: &f.region,
            resource_type: f.resource_type,
            resource_arn: &f.resource_arn,
            resource_id: &f.resource_id,
            tags: &f.resource_tags,
            remediation: &f.remediation,
        },
        &description,
        observed,
        ctx,
    );
    finding.compliance.status = "FAILED";
    finding.record_state = "ACTIVE";
    let fields = &mut finding.product_fields;
    fields.insert(field("Lifecycle"), lifecycle.to_string());
    fields.insert(
        field("Evidence"),
        clip(&f.evidence.to_string(), MAX_PRODUCT_FIELD_VALUE),
    );
    if let Some(runbook) = &f.runbook {
        fields.insert(field("Runbook"), runbook.document_name().to_string());
    }
    if f.status == FindingStatus::Muted {
        let reason = f
            .muted_reason
            .as_deref()
            .unwrap_or("muted by the mute list");
        fields.insert(field("Muted"), clip(reason, MAX_PRODUCT_FIELD_VALUE));
        finding.note = Some(AsffNote {
            text: clip(&format!("Muted (accepted risk): {reason}"), MAX_NOTE),
            updated_by: FIELD_PREFIX.to_string(),
            updated_at: ctx.updated_at.clone(),
        });
    }
    finding
}

/// A finding whose resource was fixed or removed (PASSED, ARCHIVED).
pub fn resolved_finding(record: &FindingRecord, ctx: &AsffContext) -> AsffFinding {
    let rule = rule(&record.rule_id);
    let description = format!(
        "Resolved: the check no longer fails on {} (last failed {}).{}",
        record.resource_arn,
        record.last_seen_at,
        rule.map(|r| format!(" {}", r.rationale))
            .unwrap_or_default()
    );
    let no_tags = Tags::new();
    let mut finding = base(
        Identity {
            id: &record.finding_id,
            rule_id: &record.rule_id,
            title: &record.title,
            severity: record.severity,
            account_id: &record.account_id,
            region: &record.region,
            resource_type: record.resource_type,
            resource_arn: &record.resource_arn,
            resource_id: &record.resource_id,
            tags: &no_tags,
            remediation: rule.map_or("The check no longer fails; no action is needed.", |r| {
                r.remediation
            }),
        },
        &description,
        Observed {
            first: &record.first_seen_at,
            last: &record.last_seen_at,
        },
        ctx,
    );
    finding.compliance.status = "PASSED";
    finding.record_state = "ARCHIVED";
    finding
        .product_fields
        .insert(field("Lifecycle"), "resolved".to_string());
    finding
}

#[derive(Clone, Copy)]
struct Identity<'a> {
    id: &'a str,
    rule_id: &'a str,
    title: &'a str,
    severity: Severity,
    account_id: &'a str,
    region: &'a str,
    resource_type: ResourceType,
    resource_arn: &'a str,
    resource_id: &'a str,
    tags: &'a Tags,
    remediation: &'a str,
}

fn base(who: Identity, description: &str, observed: Observed, ctx: &AsffContext) -> AsffFinding {
    let rule = rule(who.rule_id);
    let controls = rule.map(|r| r.controls).unwrap_or_default();
    let mut product_fields = BTreeMap::from([
        (field("RuleId"), who.rule_id.to_string()),
        (
            field("ResourceId"),
            clip(who.resource_id, MAX_PRODUCT_FIELD_VALUE),
        ),
    ]);
    if let Some(run_id) = &ctx.run_id {
        product_fields.insert(field("RunId"), run_id.clone());
    }
    let url = rule
        .map(|r| r.remediation_url.to_string())
        .filter(|u| !u.is_empty());
    let types = finding_types(&controls);
    let severity = AsffSeverity {
        label: who.severity.as_str(),
        original: who.severity.as_str(),
    };
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: who.id.to_string(),
        product_arn: ctx.product_arn(who.account_id),
        product_name: PRODUCT_NAME,
        company_name: COMPANY_NAME,
        generator_id: who.rule_id.to_string(),
        aws_account_id: who.account_id.to_string(),
        types: types.clone(),
        first_observed_at: observed.first.to_string(),
        last_observed_at: observed.last.to_string(),
        created_at: observed.first.to_string(),
        updated_at: ctx.updated_at.clone(),
        severity: severity.clone(),
        title: clip(who.title, MAX_TITLE),
        description: clip(description, MAX_DESCRIPTION),
        source_url: url.clone(),
        remediation: AsffRemediation {
            recommendation: AsffRecommendation {
                text: clip(who.remediation, MAX_RECOMMENDATION),
                url,
            },
        },
        product_fields,
        resources: vec![AsffResource {
            resource_type: who.resource_type.as_str(),
            id: clip(who.resource_arn, MAX_RESOURCE_ID),
            partition: partition_of_arn(who.resource_arn)
                .unwrap_or(&ctx.partition)
                .to_string(),
            region: who.region.to_string(),
            tags: resource_tags(who.tags),
        }],
        compliance: AsffCompliance {
            status: "FAILED",
            related_requirements: related_requirements(&controls),
        },
        record_state: "ACTIVE",
        finding_provider_fields: AsffProviderFields { severity, types },
        note: None,
    }
}

fn field(name: &str) -> String {
    format!("{FIELD_PREFIX}/{name}")
}

/// `Types` from the ASFF taxonomy: the standards a failure concerns.
fn finding_types(controls: &Controls) -> Vec<String> {
    let mut types =
        vec!["Software and Configuration Checks/AWS Security Best Practices".to_string()];
    let standards = [
        (
            !controls.cis_v1_4_0.is_empty()
                || !controls.cis_v3_0_0.is_empty()
                || !controls.cis_v5_0_0.is_empty(),
            "CIS AWS Foundations Benchmark",
        ),
        (!controls.pci_dss.is_empty(), "PCI-DSS Controls"),
        (
            !controls.nist_800_53_r5.is_empty(),
            "NIST 800-53 Controls (USA)",
        ),
    ];
    for (applies, standard) in standards {
        if applies {
            types.push(format!(
                "Software and Configuration Checks/Industry and Regulatory Standards/{standard}"
            ));
        }
    }
    types
}

/// Requirement ids in the form Security Hub's own control findings use, e.g.
/// `PCI DSS v3.2.1/1.2.1`, `CIS AWS Foundations Benchmark v5.0.0/5.3`, `NIST.800-53.r5 AC-4`.
/// At most 32 are allowed: the framework order below decides which survive.
pub fn related_requirements(c: &Controls) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(
        c.aws_fsbp
            .iter()
            .map(|id| format!("AWS Foundational Security Best Practices v1.0.0/{id}")),
    );
    out.extend(
        c.cis_v5_0_0
            .iter()
            .map(|id| format!("CIS AWS Foundations Benchmark v5.0.0/{id}")),
    );
    out.extend(
        c.cis_v3_0_0
            .iter()
            .map(|id| format!("CIS AWS Foundations Benchmark v3.0.0/{id}")),
    );
    out.extend(
        c.cis_v1_4_0
            .iter()
            .map(|id| format!("CIS AWS Foundations Benchmark v1.4.0/{id}")),
    );
    out.extend(c.pci_dss.iter().map(|id| format!("PCI DSS {id}")));
    out.extend(
        c.nist_800_53_r5
            .iter()
            .map(|id| format!("NIST.800-53.r5 {id}")),
    );
    out.truncate(MAX_REQUIREMENTS);
    out
}

/// Resource tags as ASFF accepts them: non-empty, at most 50, and only letters, digits,
/// spaces and `. : + = @ _ / -` (other characters become `_`; long values are cut, marked
/// with `...`, as `…` is not among the characters allowed).
fn resource_tags(tags: &Tags) -> BTreeMap<String, String> {
    let allowed = |s: &str, max: usize| -> String {
        let cut = s.chars().count() > max;
        let kept = if cut { max - TAG_CUT_MARKER.len() } else { max };
        let mut out: String = s
            .chars()
            .take(kept)
            .map(|c| {
                if c.is_ascii_alphanumeric() || " .:+=@_/-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if cut {
            out.push_str(TAG_CUT_MARKER);
        }
        out
    };
    tags.iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !k.starts_with("aws:"))
        .take(MAX_RESOURCE_TAGS)
        .map(|(k, v)| (allowed(k, MAX_TAG_KEY), allowed(v, MAX_TAG_VALUE)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::LifecycleStatus;
    use crate::model::partition_of_region;
    use crate::model::Service;

    fn ctx() -> AsffContext {
        AsffContext {
            hub_region: "us-east-1".into(),
            partition: "aws".into(),
            run_id: Some("run-1".into()),
            updated_at: "2026-11-23T10:00:00Z".into(),
        }
    }

    fn open_ssh() -> Finding {
        let rule = rule("ec2_sg_open_ssh").expect("rule exists");
        Finding {
            id: "f".repeat(32),
            rule_id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status: FindingStatus::Fail,
            muted_reason: None,
            service: Service::Ec2,
            resource_type: ResourceType::AwsEc2SecurityGroup,
            resource_id: "sg-1".into(),
            resource_arn: "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1".into(),
            region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            evidence: serde_json::json!({"port": 22}),
            remediation: rule.remediation.into(),
            runbook: rule.runbook,
            remediation_evidence: None,
            compliance: rule.controls.to_refs(),
            resource_tags: Tags::from([("Name".to_string(), "=cmd()".repeat(100))]),
        }
    }

    #[test]
    fn an_open_finding_carries_what_security_hub_requires() {
        let f = open_finding(
            &open_ssh(),
            Observed {
                first: "2026-11-01T00:00:00Z",
                last: "2026-11-23T09:00:00Z",
            },
            "open",
            &ctx(),
        );
        assert_eq!(
            f.product_arn,
            "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
        );
        assert_eq!(
            (f.generator_id.as_str(), f.resources[0].region.as_str()),
            ("ec2_sg_open_ssh", "eu-west-1")
        );
        assert_eq!(f.finding_provider_fields.types, f.types);
        assert!(f.resources[0].tags["Name"].starts_with("=cmd__=cmd__"));
        assert_eq!((f.compliance.status, f.record_state), ("FAILED", "ACTIVE"));
        assert_eq!(f.created_at, "2026-11-01T00:00:00Z");
        assert!(f
            .compliance
            .related_requirements
            .iter()
            .any(|r| r.starts_with("NIST.800-53.r5 ")));
        assert_eq!(f.resources[0].resource_type, "AwsEc2SecurityGroup");
        assert_eq!(f.resources[0].tags["Name"].chars().count(), 256);
        assert!(f.resources[0].tags["Name"].starts_with("=cmd__=cmd__"));
        assert_eq!(f.product_fields["compliance-scanner/RunId"], "run-1");
        let json = serde_json::to_value(&f).unwrap();
        for key in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        assert_eq!(json["Resources"][0]["Type"], "AwsEc2SecurityGroup");
    }

    #[test]
    fn a_resolved_record_is_archived_and_passed() {
        let open = open_ssh();
        let record = FindingRecord {
            finding_id: open.id.clone(),
            account_id: open.account_id.clone(),
            rule_id: open.rule_id.clone(),
            title: open.title.clone(),
            severity: open.severity,
            service: open.service,
            resource_type: open.resource_type,
            resource_id: open.resource_id.clone(),
            resource_arn: open.resource_arn.clone(),
            region: open.region.clone(),
            status: LifecycleStatus::Resolved,
            first_seen_at: "2026-11-01T00:00:00Z".into(),
            last_seen_at: "2026-11-22T00:00:00Z".into(),
            first_run_id: "r0".into(),
            last_run_id: "r9".into(),
            resolved_at: Some("2026-11-23T00:00:00Z".into()),
            resolved_run_id: Some("run-1".into()),
            times_reopened: 0,
            expires_at: Some(1),
        };
        let f = resolved_finding(&record, &ctx());
        assert_eq!(
            (f.compliance.status, f.record_state),
            ("PASSED", "ARCHIVED")
        );
        assert_eq!(f.id, open.id);
        assert_eq!(f.last_observed_at, "2026-11-22T00:00:00Z");
        assert!(!f.remediation.recommendation.text.is_empty());
    }

    #[test]
    fn each_finding_is_imported_as_its_own_accounts() {
        use crate::report::fixtures::{self, PROD, UNNAMED};
        let run = fixtures::two_accounts_run();
        let observed = Observed {
            first: fixtures::CREATED_AT,
            last: fixtures::CREATED_AT,
        };
        let open: Vec<AsffFinding> = run
            .findings
            .iter()
            .map(|f| open_finding(f, observed, "new", &ctx()))
            .collect();
        let accounts: Vec<&str> = open.iter().map(|f| f.aws_account_id.as_str()).collect();
        assert_eq!(accounts, [UNNAMED, PROD, PROD]);
        for (asff, finding) in open.iter().zip(&run.findings) {
            assert_eq!(asff.aws_account_id, finding.account_id);
            assert_eq!(
                asff.product_arn,
                format!(
                    "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
                    finding.account_id
                )
            );
        }
        // A resolved finding is archived in the account it was found in, not the scanner's.
        let member = &run.findings[0];
        let record = FindingRecord {
            finding_id: member.id.clone(),
            account_id: member.account_id.clone(),
            rule_id: member.rule_id.clone(),
            title: member.title.clone(),
            severity: member.severity,
            service: member.service,
            resource_type: member.resource_type,
            resource_id: member.resource_id.clone(),
            resource_arn: member.resource_arn.clone(),
            region: member.region.clone(),
            status: LifecycleStatus::Resolved,
            first_seen_at: "2026-11-01T00:00:00Z".into(),
            last_seen_at: "2026-11-22T00:00:00Z".into(),
            first_run_id: "r0".into(),
            last_run_id: "r9".into(),
            resolved_at: None,
            resolved_run_id: None,
            times_reopened: 0,
            expires_at: None,
        };
        let resolved = resolved_finding(&record, &ctx());
        assert_eq!(resolved.aws_account_id, UNNAMED);
        assert_eq!(
            resolved.product_arn,
            format!("arn:aws:securityhub:us-east-1:{UNNAMED}:product/{UNNAMED}/default")
        );
        assert_ne!(UNNAMED, run.account_id, "not the scanner's own account");
    }

    #[test]
    fn requirements_are_capped_at_32() {
        let many: &'static [&'static str] = Box::leak(
            (0..40)
                .map(|i| &*Box::leak(format!("AC-{i}").into_boxed_str()))
                .collect::<Vec<&str>>()
                .into_boxed_slice(),
        );
        let c = Controls {
            nist_800_53_r5: many,
            ..Default::default()
        };
        assert_eq!(related_requirements(&c).len(), 32);
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("eu-west-1"), "aws");
    }
}
