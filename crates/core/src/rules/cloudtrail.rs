//! CloudTrail: the account's trails (ListTrails, each described in its home region). Account-level
//! rules (CloudTrail.1, S3.22, S3.23) look for one multi-Region trail that is logging and logs the
//! events asked for; per-trail rules (CloudTrail.2, .4, .5) judge the trails the account owns (an
//! organization trail that another account owns is that account's to fix).

use serde_json::json;

use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::{CloudTrailAccount, EventSelector, FieldSelector, Trail, TrailSelectors};

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[
    CLOUDTRAIL_MULTI_REGION_TRAIL,
    CLOUDTRAIL_S3_OBJECT_WRITE_EVENTS,
    CLOUDTRAIL_S3_OBJECT_READ_EVENTS,
    CLOUDTRAIL_TRAIL_KMS_ENCRYPTION,
    CLOUDTRAIL_TRAIL_LOG_FILE_VALIDATION,
    CLOUDTRAIL_TRAIL_CLOUDWATCH_LOGS,
];

pub const API_TRAIL_STATUS: &str = "GetTrailStatus";
pub const API_EVENT_SELECTORS: &str = "GetEventSelectors";

/// Which kinds of event a trail logs: read, write (both may be true).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Coverage {
    read: bool,
    write: bool,
}

impl Coverage {
    fn add(&mut self, read_write_type: &str) {
        match read_write_type {
            "ReadOnly" => self.read = true,
            "WriteOnly" => self.write = true,
            "All" => {
                self.read = true;
                self.write = true;
            }
            _ => {}
        }
    }

    /// An advanced selector's `readOnly` field: `true` logs reads, `false` writes, absent both.
    fn add_advanced(&mut self, fields: &[FieldSelector]) {
        match fields.iter().find(|f| f.field == "readOnly") {
            None => self.add("All"),
            Some(f) if !f.other.is_empty() => {}
            Some(f) => {
                for v in &f.equals {
                    self.add(if v == "true" { "ReadOnly" } else { "WriteOnly" });
                }
            }
        }
    }
}

fn equals(fields: &[FieldSelector], field: &str, value: &str) -> bool {
    fields
        .iter()
        .any(|f| f.field == field && f.other.is_empty() && f.equals.iter().any(|v| v == value))
}

/// Read and write management events, with no event source excluded (the Config rule
/// multi-region-cloudtrail-enabled with readWriteType ALL and includeManagementEvents true).
fn management_coverage(selectors: &TrailSelectors) -> Coverage {
    let mut coverage = Coverage::default();
    if selectors.basic.is_empty() && selectors.advanced.is_empty() {
        coverage.add("All");
        return coverage;
    }
    for s in &selectors.basic {
        if s.include_management_events && s.exclude_management_event_sources.is_empty() {
            coverage.add(&s.read_write_type);
        }
    }
    for fields in &selectors.advanced {
        let management = equals(fields, "eventCategory", "Management");
        // Any field but the category and readOnly (an excluded eventSource, say) narrows it.
        let narrowed = fields
            .iter()
            .any(|f| f.field != "eventCategory" && f.field != "readOnly");
        if management && !narrowed {
            coverage.add_advanced(fields);
        }
    }
    coverage
}

/// S3 object data events of every current and future bucket.
fn s3_data_coverage(selectors: &TrailSelectors) -> Coverage {
    let mut coverage = Coverage::default();
    for s in &selectors.basic {
        let all_buckets = s.data_resources.iter().any(|(kind, values)| {
            kind == "AWS::S3::Object"
                && values
                    .iter()
                    .any(|v| v == "arn:aws:s3" || v == "arn:aws:s3:::")
        });
        if all_buckets {
            coverage.add(&s.read_write_type);
        }
    }
    for fields in &selectors.advanced {
        let data = equals(fields, "eventCategory", "Data")
            && equals(fields, "resources.type", "AWS::S3::Object");
        let narrowed = fields.iter().any(|f| {
            !matches!(
                f.field.as_str(),
                "eventCategory" | "resources.type" | "readOnly"
            )
        });
        if data && !narrowed {
            coverage.add_advanced(fields);
        }
    }
    coverage
}

/// Judges the account by its multi-Region, logging trails: passes when one of them covers
/// what `wanted` asks; not applicable (the failed call is recorded) when none does but a
/// multi-Region trail could not be read.
fn account_check(
    account: &CloudTrailAccount,
    wanted: fn(&TrailSelectors) -> bool,
    missing: &str,
) -> Outcome {
    let mut unreadable = false;
    let mut judged = Vec::new();
    for trail in account.trails.iter().filter(|t| t.is_multi_region) {
        let (Some(logging), Some(selectors)) = (trail.is_logging, trail.selectors.as_ref()) else {
            unreadable = true;
            continue;
        };
        if logging && wanted(selectors) {
            return Outcome::Pass;
        }
        judged.push(json!({"trail": trail.arn, "is_logging": logging}));
    }
    if unreadable {
        return Outcome::NotApplicable;
    }
    let single_region: Vec<&str> = account
        .trails
        .iter()
        .filter(|t| !t.is_multi_region)
        .map(|t| t.arn.as_str())
        .collect();
    Outcome::fail(json!({
        "missing": missing,
        "multi_region_trails": judged,
        "single_region_trails": single_region,
    }))
}

pub const CLOUDTRAIL_MULTI_REGION_TRAIL: Rule = Rule {
    id: "cloudtrail_multi_region_trail",
    title: "No multi-Region CloudTrail trail logs read and write management events",
    severity: Severity::High,
    rationale: "Without a logging multi-Region trail, API activity in some regions (or of some kinds) leaves no record for detection or investigation.",
    remediation: "Create a multi-Region trail that logs all read and write management events (no excluded event sources) and start logging on it.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-1",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["CloudTrail.1"],
        security_hub: &["CloudTrail.1"],
        cis_v1_4_0: &["3.1"],
        cis_v3_0_0: &["3.1"],
        cis_v5_0_0: &["3.1"],
        pci_dss: &[],
        nist_800_53_r5: &[
            "AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(3)",
            "AU-6(4)", "AU-14(1)", "CA-7", "SC-7(9)", "SI-3(8)", "SI-4(20)", "SI-7(8)", "SA-8(22)",
        ],
    },
    parameters: &[],
    check: Check::CloudTrailAccount(multi_region_trail),
};

pub fn multi_region_trail(account: &CloudTrailAccount, _: &Context) -> Outcome {
    account_check(
        account,
        |s| {
            management_coverage(s)
                == Coverage {
                    read: true,
                    write: true,
                }
        },
        "a logging multi-Region trail with read and write management events",
    )
}

/// S3.22 and S3.23 belong to the CIS and PCI DSS standards, not to FSBP.
pub const CLOUDTRAIL_S3_OBJECT_WRITE_EVENTS: Rule = Rule {
    id: "cloudtrail_s3_object_write_events",
    title: "No multi-Region CloudTrail trail logs S3 object-level write events",
    severity: Severity::Medium,
    rationale: "Without object-level write events, who put or deleted which object cannot be told afterwards.",
    remediation: "Log write (or all) S3 data events for all current and future buckets on a multi-Region trail.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-22",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.22"],
        cis_v3_0_0: &["3.8"],
        cis_v5_0_0: &["3.8"],
        pci_dss: &["v4.0.1/10.2.1"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::CloudTrailAccount(s3_object_write_events),
};

pub fn s3_object_write_events(account: &CloudTrailAccount, _: &Context) -> Outcome {
    account_check(
        account,
        |s| s3_data_coverage(s).write,
        "a logging multi-Region trail with write data events of every S3 bucket",
    )
}

pub const CLOUDTRAIL_S3_OBJECT_READ_EVENTS: Rule = Rule {
    id: "cloudtrail_s3_object_read_events",
    title: "No multi-Region CloudTrail trail logs S3 object-level read events",
    severity: Severity::Medium,
    rationale: "Without object-level read events, data exfiltration from a bucket leaves no record.",
    remediation: "Log read (or all) S3 data events for all current and future buckets on a multi-Region trail.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-23",
    runbook: None,
    controls: Controls {
        security_hub: &["S3.23"],
        cis_v3_0_0: &["3.9"],
        cis_v5_0_0: &["3.9"],
        pci_dss: &["v4.0.1/10.2.1"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::CloudTrailAccount(s3_object_read_events),
};

pub fn s3_object_read_events(account: &CloudTrailAccount, _: &Context) -> Outcome {
    account_check(
        account,
        |s| s3_data_coverage(s).read,
        "a logging multi-Region trail with read data events of every S3 bucket",
    )
}

/// Trails another account owns (organization trails) are judged in that account.
fn owned(trail: &Trail, ctx: &Context) -> bool {
    trail.owner_account() == Some(ctx.account_id)
}

pub const CLOUDTRAIL_TRAIL_KMS_ENCRYPTION: Rule = Rule {
    id: "cloudtrail_trail_kms_encryption",
    title: "CloudTrail trail log files are not encrypted with a KMS key",
    severity: Severity::Medium,
    rationale: "SSE-KMS adds a key policy between the log files and anyone who can read the bucket, and records every decryption.",
    remediation: "Update the trail with a KMS key (KmsKeyId) whose policy lets CloudTrail encrypt.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-2",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["CloudTrail.2"],
        security_hub: &["CloudTrail.2"],
        cis_v1_4_0: &["3.7"],
        cis_v3_0_0: &["3.5"],
        cis_v5_0_0: &["3.5"],
        pci_dss: &["v3.2.1/3.4", "v4.0.1/10.3.2"],
        nist_800_53_r5: &[
            "AU-9", "CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)",
        ],
    },
    parameters: &[],
    check: Check::Trail(kms_encryption),
};

pub fn kms_encryption(trail: &Trail, ctx: &Context) -> Outcome {
    if !owned(trail, ctx) {
        return Outcome::NotApplicable;
    }
    match trail.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
        Some(_) => Outcome::Pass,
        None => Outcome::fail(json!({"kms_key_id": null})),
    }
}

pub const CLOUDTRAIL_TRAIL_LOG_FILE_VALIDATION: Rule = Rule {
    id: "cloudtrail_trail_log_file_validation",
    title: "CloudTrail trail log file validation is not enabled",
    severity: Severity::Low,
    rationale: "Without digest files nobody can prove a log file was not changed or deleted after delivery.",
    remediation: "Update the trail with EnableLogFileValidation=true.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-4",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["CloudTrail.4"],
        security_hub: &["CloudTrail.4"],
        cis_v1_4_0: &["3.2"],
        cis_v3_0_0: &["3.2"],
        cis_v5_0_0: &["3.2"],
        pci_dss: &["v3.2.1/10.5.2", "v3.2.1/10.5.5"],
        nist_800_53_r5: &["AU-9", "SI-4", "SI-7(1)", "SI-7(3)", "SI-7(7)"],
    },
    parameters: &[],
    check: Check::Trail(log_file_validation),
};

pub fn log_file_validation(trail: &Trail, ctx: &Context) -> Outcome {
    if !owned(trail, ctx) {
        return Outcome::NotApplicable;
    }
    if trail.log_file_validation {
        Outcome::Pass
    } else {
        Outcome::fail(json!({"log_file_validation_enabled": false}))
    }
}

pub const CLOUDTRAIL_TRAIL_CLOUDWATCH_LOGS: Rule = Rule {
    id: "cloudtrail_trail_cloudwatch_logs",
    title: "CloudTrail trail does not send its events to CloudWatch Logs",
    severity: Severity::Low,
    rationale: "Events only in S3 cannot drive the real-time metric filters and alarms that catch root use, policy changes and the like.",
    remediation: "Update the trail with a CloudWatch Logs log group (CloudWatchLogsLogGroupArn) and a role CloudTrail can assume to write to it.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-5",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["CloudTrail.5"],
        security_hub: &["CloudTrail.5"],
        cis_v1_4_0: &["3.4"],
        pci_dss: &["v3.2.1/10.5.3"],
        nist_800_53_r5: &[
            "AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(1)",
            "AU-6(3)", "AU-6(4)", "AU-6(5)", "AU-7(1)", "CA-7", "SC-7(9)", "SI-20", "SI-3(8)",
            "SI-4(20)", "SI-4(5)", "SI-7(8)",
        ],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Trail(cloudwatch_logs),
};

/// The Config rule cloud-trail-cloud-watch-logs-enabled: fails when CloudWatchLogsLogGroupArn is
/// empty.
pub fn cloudwatch_logs(trail: &Trail, ctx: &Context) -> Outcome {
    if !owned(trail, ctx) {
        return Outcome::NotApplicable;
    }
    match trail
        .cloudwatch_logs_log_group_arn
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        Some(_) => Outcome::Pass,
        None => Outcome::fail(json!({"cloudwatch_logs_log_group_arn": null})),
    }
}

/// A basic selector, for tests and the collector's conversions.
pub fn basic_selector(read_write_type: &str, management: bool) -> EventSelector {
    EventSelector {
        read_write_type: read_write_type.to_string(),
        include_management_events: management,
        exclude_management_event_sources: Vec::new(),
        data_resources: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleParameters;

    const CTX: Context = Context {
        account_id: "123456789012",
        required_tags: &[],
        account_public_access_block: None,
        parameters: &RuleParameters::DEFAULTS,
    };

    fn trail(name: &str, multi_region: bool, selectors: TrailSelectors) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:123456789012:trail/{name}"),
            region: "us-east-1".into(),
            is_multi_region: multi_region,
            is_organization_trail: false,
            log_file_validation: true,
            kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            cloudwatch_logs_log_group_arn: Some(
                "arn:aws:logs:us-east-1:123456789012:log-group:ct:*".into(),
            ),
            s3_bucket_name: Some("logs".into()),
            is_logging: Some(true),
            selectors: Some(selectors),
            unreadable: Vec::new(),
        }
    }

    fn account(trails: Vec<Trail>) -> CloudTrailAccount {
        CloudTrailAccount {
            region: "us-east-1".into(),
            trails,
        }
    }

    fn field(name: &str, values: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.into(),
            equals: values.iter().map(|v| (*v).to_string()).collect(),
            other: Vec::new(),
        }
    }

    fn basic(selectors: Vec<EventSelector>) -> TrailSelectors {
        TrailSelectors {
            basic: selectors,
            advanced: Vec::new(),
        }
    }

    fn advanced(selectors: Vec<Vec<FieldSelector>>) -> TrailSelectors {
        TrailSelectors {
            basic: Vec::new(),
            advanced: selectors,
        }
    }

    fn fails(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Fail { .. })
    }

    #[test]
    fn a_logging_multi_region_trail_with_all_management_events_passes() {
        // No custom selectors: CloudTrail's default, all management events.
        let ok = account(vec![trail("t", true, TrailSelectors::default())]);
        assert_eq!(multi_region_trail(&ok, &CTX), Outcome::Pass);
        let ok = account(vec![trail(
            "t",
            true,
            basic(vec![basic_selector("All", true)]),
        )]);
        assert_eq!(multi_region_trail(&ok, &CTX), Outcome::Pass);
        // Read and write from two advanced selectors.
        let ok = account(vec![trail(
            "t",
            true,
            advanced(vec![
                vec![
                    field("eventCategory", &["Management"]),
                    field("readOnly", &["true"]),
                ],
                vec![
                    field("eventCategory", &["Management"]),
                    field("readOnly", &["false"]),
                ],
            ]),
        )]);
        assert_eq!(multi_region_trail(&ok, &CTX), Outcome::Pass);
    }

    #[test]
    fn missing_region_kind_logging_or_excluded_sources_fail() {
        assert!(fails(&multi_region_trail(&account(vec![]), &CTX)));
        let single = account(vec![trail("t", false, TrailSelectors::default())]);
        assert!(fails(&multi_region_trail(&single, &CTX)));
        let mut stopped = trail("t", true, TrailSelectors::default());
        stopped.is_logging = Some(false);
        assert!(fails(&multi_region_trail(&account(vec![stopped]), &CTX)));
        let write_only = account(vec![trail(
            "t",
            true,
            basic(vec![basic_selector("WriteOnly", true)]),
        )]);
        assert!(fails(&multi_region_trail(&write_only, &CTX)));
        let mut excluding = basic_selector("All", true);
        excluding.exclude_management_event_sources = vec!["kms.amazonaws.com".into()];
        let excluding = account(vec![trail("t", true, basic(vec![excluding]))]);
        assert!(fails(&multi_region_trail(&excluding, &CTX)));
        let mut not_kms = field("eventSource", &[]);
        not_kms.other = vec![("NotEquals".into(), vec!["kms.amazonaws.com".into()])];
        let narrowed = account(vec![trail(
            "t",
            true,
            advanced(vec![vec![field("eventCategory", &["Management"]), not_kms]]),
        )]);
        assert!(fails(&multi_region_trail(&narrowed, &CTX)));
        // Data events only.
        let data_only = account(vec![trail(
            "t",
            true,
            basic(vec![basic_selector("All", false)]),
        )]);
        assert!(fails(&multi_region_trail(&data_only, &CTX)));
    }

    #[test]
    fn an_unreadable_multi_region_trail_is_not_guessed() {
        let mut unknown = trail("t", true, TrailSelectors::default());
        unknown.is_logging = None;
        assert_eq!(
            multi_region_trail(&account(vec![unknown.clone()]), &CTX),
            Outcome::NotApplicable
        );
        // Another trail that passes settles it.
        let good = trail("u", true, TrailSelectors::default());
        assert_eq!(
            multi_region_trail(&account(vec![unknown, good]), &CTX),
            Outcome::Pass
        );
    }

    #[test]
    fn s3_object_events_need_every_bucket_and_the_kind() {
        let mut all_buckets = basic_selector("WriteOnly", true);
        all_buckets.data_resources = vec![("AWS::S3::Object".into(), vec!["arn:aws:s3".into()])];
        let write = account(vec![trail("t", true, basic(vec![all_buckets.clone()]))]);
        assert_eq!(s3_object_write_events(&write, &CTX), Outcome::Pass);
        assert!(fails(&s3_object_read_events(&write, &CTX)));
        let mut one_bucket = all_buckets.clone();
        one_bucket.read_write_type = "All".into();
        one_bucket.data_resources =
            vec![("AWS::S3::Object".into(), vec!["arn:aws:s3:::b/".into()])];
        let one = account(vec![trail("t", true, basic(vec![one_bucket]))]);
        assert!(fails(&s3_object_write_events(&one, &CTX)));
        let adv = account(vec![trail(
            "t",
            true,
            advanced(vec![vec![
                field("eventCategory", &["Data"]),
                field("resources.type", &["AWS::S3::Object"]),
            ]]),
        )]);
        assert_eq!(s3_object_write_events(&adv, &CTX), Outcome::Pass);
        assert_eq!(s3_object_read_events(&adv, &CTX), Outcome::Pass);
        let adv_one = account(vec![trail(
            "t",
            true,
            advanced(vec![vec![
                field("eventCategory", &["Data"]),
                field("resources.type", &["AWS::S3::Object"]),
                field("resources.ARN", &["arn:aws:s3:::b/"]),
            ]]),
        )]);
        assert!(fails(&s3_object_read_events(&adv_one, &CTX)));
        // Default selectors log no data events.
        let none = account(vec![trail("t", true, TrailSelectors::default())]);
        assert!(fails(&s3_object_read_events(&none, &CTX)));
        let mut single = trail("t", false, basic(vec![all_buckets]));
        single.is_multi_region = false;
        assert!(fails(&s3_object_write_events(&account(vec![single]), &CTX)));
    }

    #[test]
    fn trail_settings_pass_fail_and_foreign_trails_are_skipped() {
        let good = trail("t", true, TrailSelectors::default());
        for check in [kms_encryption, log_file_validation, cloudwatch_logs] {
            assert_eq!(check(&good, &CTX), Outcome::Pass);
        }
        let bad = Trail {
            kms_key_id: None,
            log_file_validation: false,
            cloudwatch_logs_log_group_arn: None,
            ..good.clone()
        };
        for check in [kms_encryption, log_file_validation, cloudwatch_logs] {
            assert!(fails(&check(&bad, &CTX)));
        }
        let foreign = Trail {
            arn: "arn:aws:cloudtrail:us-east-1:999999999999:trail/org".into(),
            is_organization_trail: true,
            ..bad
        };
        for check in [kms_encryption, log_file_validation, cloudwatch_logs] {
            assert_eq!(check(&foreign, &CTX), Outcome::NotApplicable);
        }
    }
}
