//! Findings as OCSF Detection Finding events (class 2004, schema 1.1.0), the format Prowler and
//! Security Hub's OCSF views speak. Times are epoch milliseconds, as OCSF `timestamp_t` requires.

use serde_json::{json, Value};

use crate::finding::{FindingStatus, Severity};
use crate::lifecycle::LifecycleStatus;
use crate::report::asff::related_requirements;
use crate::report::document::{ReportFinding, ResolvedEntry, RunReport};
use crate::rules::rule;
use crate::time::parse_rfc3339;

pub const OCSF_VERSION: &str = "1.1.0";
const CLASS_UID: u32 = 2004;
const CATEGORY_UID: u32 = 2;

fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Informational => "Informational",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// Activity: 1 Create (first seen), 2 Update (seen again), 3 Close (resolved).
fn activity(lifecycle: Option<LifecycleStatus>) -> (u8, &'static str) {
    match lifecycle {
        None | Some(LifecycleStatus::New) => (1, "Create"),
        Some(LifecycleStatus::Open | LifecycleStatus::Reopened) => (2, "Update"),
        Some(LifecycleStatus::Resolved) => (3, "Close"),
    }
}

fn millis(rfc3339: &str) -> Option<i64> {
    parse_rfc3339(rfc3339).map(|s| s * 1000)
}

fn metadata(report: &RunReport, rule_id: &str) -> Value {
    json!({
        "version": OCSF_VERSION,
        "product": {
            "name": crate::report::asff::PRODUCT_NAME,
            "vendor_name": crate::report::asff::COMPANY_NAME,
            "version": report.scanner_version,
        },
        "event_code": rule_id,
        "profiles": ["cloud"],
    })
}

/// The cloud an event concerns. `account.name` is the name Organizations gave the account, or
/// its id when there is none: consumers such as py-ocsf-models (Prowler's) require a name.
fn cloud(account_id: &str, name: Option<&str>, region: &str) -> Value {
    let name = name.unwrap_or(account_id);
    json!({
        "provider": "AWS",
        "region": region,
        "account": {"uid": account_id, "name": name, "type": "AWS Account", "type_id": 10},
    })
}

/// The rule's compliance mappings, `null` for a rule no framework covers (the tag policy).
fn compliance(rule_id: &str, passed: bool) -> Value {
    let controls = rule(rule_id).map(|r| r.controls).unwrap_or_default();
    let mut standards: Vec<&str> = Vec::new();
    for (has, name) in [
        (
            !controls.aws_fsbp.is_empty(),
            "AWS Foundational Security Best Practices",
        ),
        (
            !controls.cis_v5_0_0.is_empty(),
            "CIS AWS Foundations Benchmark v5.0.0",
        ),
        (
            !controls.cis_v3_0_0.is_empty(),
            "CIS AWS Foundations Benchmark v3.0.0",
        ),
        (
            !controls.cis_v1_4_0.is_empty(),
            "CIS AWS Foundations Benchmark v1.4.0",
        ),
        (!controls.pci_dss.is_empty(), "PCI DSS"),
        (!controls.nist_800_53_r5.is_empty(), "NIST SP 800-53 Rev. 5"),
    ] {
        if has {
            standards.push(name);
        }
    }
    if standards.is_empty() {
        return Value::Null;
    }
    let (status_id, status) = if passed { (1, "Pass") } else { (3, "Fail") };
    json!({
        "control": rule_id,
        "requirements": related_requirements(&controls),
        "standards": standards,
        "status_id": status_id,
        "status": status,
    })
}

/// One event per finding of the report, then one Close event per resolved finding.
pub fn detection_findings(report: &RunReport) -> Vec<Value> {
    let mut out: Vec<Value> = report
        .findings
        .iter()
        .map(|f| open_event(report, f))
        .collect();
    out.extend(report.resolved.iter().map(|r| resolved_event(report, r)));
    out.iter_mut().for_each(prune_nulls);
    out
}

/// OCSF leaves an unknown attribute out rather than setting it to null.
fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

/// The class, activity, severity, status and time every event carries, added to `body`.
fn with_envelope(
    (activity_id, activity_name): (u8, &str),
    severity: Severity,
    (status_id, status): (u8, &str),
    observed: &str,
    mut body: Value,
) -> Value {
    let envelope = json!({
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": CLASS_UID * 100 + u32::from(activity_id),
        "type_name": format!("Detection Finding: {activity_name}"),
        "time": millis(observed),
        "severity_id": severity_id(severity),
        "severity": severity_name(severity),
        "status_id": status_id,
        "status": status,
    });
    if let (Value::Object(body), Value::Object(envelope)) = (&mut body, envelope) {
        body.extend(envelope);
    }
    body
}

fn partition(arn: &str) -> &str {
    crate::model::partition_of_arn(arn).unwrap_or("aws")
}

fn open_event(report: &RunReport, row: &ReportFinding) -> Value {
    let f = &row.finding;
    let lifecycle = row.lifecycle.as_ref();
    let (activity_id, activity_name) = activity(lifecycle.map(|l| l.status));
    let observed = report.run.started_at.as_str();
    let first_seen = lifecycle.map_or(observed, |l| l.first_seen_at.as_str());
    let last_seen = lifecycle.map_or(observed, |l| l.last_seen_at.as_str());
    let (status_id, status) = match f.status {
        FindingStatus::Fail => (1, "New"),
        FindingStatus::Muted => (3, "Suppressed"),
    };
    let rule = rule(&f.rule_id);
    with_envelope(
        (activity_id, activity_name),
        f.severity,
        (status_id, status),
        observed,
        json!({
        "status_detail": f.muted_reason,
        "message": format!("{}: {}", f.title, f.resource_arn),
        "metadata": metadata(report, &f.rule_id),
        "finding_info": {
            "uid": f.id,
            "title": f.title,
            "desc": rule.map_or(f.title.as_str(), |r| r.rationale),
            "types": [f.service.to_string()],
            "created_time": millis(first_seen),
            "first_seen_time": millis(first_seen),
            "last_seen_time": millis(last_seen),
            "modified_time": millis(&report.run.generated_at),
        },
        "cloud": cloud(&f.account_id, row.account_name.as_deref(), &f.region),
        "resources": [{
            "uid": f.resource_arn,
            "name": f.resource_id,
            "type": f.resource_type.as_str(),
            "region": f.region,
            "cloud_partition": partition(&f.resource_arn),
            "labels": f.resource_tags.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>(),
            "data": {"evidence": f.evidence},
        }],
        "remediation": {
            "desc": f.remediation,
            "references": rule.map(|r| vec![r.remediation_url]).unwrap_or_default(),
        },
        // Detection Finding (2004) has no `compliance` attribute in OCSF 1.1.0; like Prowler,
        // the mappings travel in `unmapped`.
        "unmapped": {
            "compliance": compliance(&f.rule_id, false),
            "run_id": report.run.run_id,
            "lifecycle": lifecycle.map(|l| l.status.as_str()),
            "runbook": f.runbook,
        },
        }),
    )
}

/// A resolved entry of a report before schema 3 has no account: the run's own.
fn resolved_account<'a>(report: &'a RunReport, r: &'a ResolvedEntry) -> &'a str {
    if r.account_id.is_empty() {
        &report.run.account_id
    } else {
        &r.account_id
    }
}

fn resolved_event(report: &RunReport, r: &ResolvedEntry) -> Value {
    let rule = rule(&r.rule_id);
    let severity = rule.map_or(Severity::Informational, |x| x.severity);
    let account = resolved_account(report, r);
    let observed = report.run.started_at.as_str();
    let nonempty = |s: &str| {
        if s.is_empty() {
            observed.to_string()
        } else {
            s.to_string()
        }
    };
    with_envelope(
        (3, "Close"),
        severity,
        (4, "Resolved"),
        observed,
        json!({
        "message": format!("Resolved: {} on {}", r.title, r.resource_arn),
        "metadata": metadata(report, &r.rule_id),
        "finding_info": {
            "uid": r.id,
            "title": r.title,
            "desc": rule.map_or(r.title.as_str(), |x| x.rationale),
            "created_time": millis(&nonempty(&r.first_seen_at)),
            "first_seen_time": millis(&nonempty(&r.first_seen_at)),
            "last_seen_time": millis(&nonempty(&r.last_seen_at)),
            "modified_time": millis(&report.run.generated_at),
        },
        "cloud": cloud(account, report.account_name(account), &r.region),
        "resources": [{
            "uid": r.resource_arn,
            "region": r.region,
            "type": rule.and_then(super::super::rules::Rule::resource_type).map_or("Other", super::super::model::ResourceType::as_str),
            "cloud_partition": partition(&r.resource_arn),
        }],
        "unmapped": {"compliance": compliance(&r.rule_id, true), "run_id": report.run.run_id, "lifecycle": "resolved"},
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::ResolvedEntry;
    use crate::report::{ScanReport, Summary};

    fn report() -> RunReport {
        let rule = rule("rds_instance_public").unwrap();
        let finding = crate::Finding {
            id: "a".repeat(32),
            rule_id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status: FindingStatus::Muted,
            muted_reason: Some("accepted until the migration".into()),
            service: crate::Service::Rds,
            resource_type: crate::model::ResourceType::AwsRdsDbInstance,
            resource_id: "db1".into(),
            resource_arn: "arn:aws-cn:rds:cn-north-1:123456789012:db:db1".into(),
            region: "cn-north-1".into(),
            account_id: "123456789012".into(),
            evidence: json!({"PubliclyAccessible": true}),
            remediation: rule.remediation.into(),
            runbook: None,
            remediation_evidence: None,
            compliance: rule.controls.to_refs(),
            resource_tags: Default::default(),
        };
        let scan = ScanReport {
            schema_version: 1,
            scanner_version: "0".into(),
            account_id: "123456789012".into(),
            regions: vec!["cn-north-1".into()],
            services: vec![crate::Service::Rds],
            started_at: "2026-11-23T10:00:00Z".into(),
            finished_at: "2026-11-23T10:01:00Z".into(),
            complete: true,
            summary: Summary {
                resources_scanned: 1,
                checks_evaluated: 1,
                checks_passed: 0,
                checks_failed: 1,
                compliance_score: Some(0.0),
                findings_by_severity: Default::default(),
                muted_findings: 1,
                checks_by_rule: Default::default(),
            },
            accounts: Vec::new(),
            findings: vec![finding],
            errors: vec![],
            rule_parameters: None,
        };
        let mut report = RunReport::from_scan(&scan, "2026-11-23T10:02:00Z");
        report.resolved.push(ResolvedEntry {
            id: "b".repeat(32),
            account_id: "123456789012".into(),
            rule_id: "ec2_sg_open_ssh".into(),
            title: "open ssh".into(),
            resource_arn: "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1".into(),
            region: "eu-west-1".into(),
            first_seen_at: "2026-11-01T00:00:00Z".into(),
            last_seen_at: String::new(),
        });
        report
    }

    #[test]
    fn open_muted_and_closed_events() {
        let events = detection_findings(&report());
        assert_eq!(events.len(), 2);
        let muted = &events[0];
        assert_eq!(
            (muted["class_uid"].as_u64(), muted["type_uid"].as_u64()),
            (Some(2004), Some(200_401))
        );
        assert_eq!(
            (muted["status_id"].as_u64(), muted["status"].as_str()),
            (Some(3), Some("Suppressed"))
        );
        assert_eq!(muted["time"].as_i64(), Some(1_795_428_000_000));
        assert_eq!(muted["resources"][0]["cloud_partition"], "aws-cn");
        assert!(
            muted.get("compliance").is_none(),
            "not an attribute of Detection Finding"
        );
        assert!(muted["unmapped"]["compliance"]["requirements"]
            .as_array()
            .is_some_and(|r| !r.is_empty()));
        assert!(
            muted["unmapped"].get("run_id").is_none(),
            "nulls are left out"
        );
        let closed = &events[1];
        assert_eq!(
            (closed["activity_id"].as_u64(), closed["type_uid"].as_u64()),
            (Some(3), Some(200_403))
        );
        assert_eq!(
            (closed["status_id"].as_u64(), closed["status"].as_str()),
            (Some(4), Some("Resolved"))
        );
        assert_eq!(closed["unmapped"]["compliance"]["status"], "Pass");
        // An unknown last-seen time falls back to the run's own time.
        assert_eq!(closed["finding_info"]["last_seen_time"], closed["time"]);
        // Without a name from Organizations, the account is named by its id.
        for event in &events {
            assert_eq!(
                event["cloud"]["account"],
                json!({"uid": "123456789012", "name": "123456789012", "type": "AWS Account", "type_id": 10})
            );
        }
    }

    #[test]
    fn every_event_names_its_own_account() {
        use crate::report::fixtures::{self, PROD, PROD_NAME, UNNAMED};
        let report = fixtures::catalog_report();
        let events = detection_findings(&report);
        assert_eq!(events.len(), report.findings.len() + report.resolved.len());
        let expected_account = |uid: &str| {
            let name = if uid == PROD { PROD_NAME } else { uid };
            json!({"uid": uid, "name": name, "type": "AWS Account", "type_id": 10})
        };
        for (event, row) in events.iter().zip(&report.findings) {
            assert_eq!(event["finding_info"]["uid"], row.finding.id.as_str());
            assert_eq!(
                event["cloud"]["account"],
                expected_account(&row.finding.account_id)
            );
        }
        let closed = &events[report.findings.len()..];
        assert_eq!(closed[0]["cloud"]["account"], expected_account(PROD));
        assert_eq!(closed[1]["cloud"]["account"], expected_account(UNNAMED));
        let accounts: std::collections::BTreeSet<&str> = events
            .iter()
            .map(|e| e["cloud"]["account"]["uid"].as_str().unwrap())
            .collect();
        assert_eq!(accounts.len(), 2);
    }

    /// tests/schemas/samples/ocsf_rendered.json is this renderer's output for
    /// [`fixtures::catalog_report`]; tests/schemas checks it with the OCSF schema and with
    /// py-ocsf-models. `UPDATE_DOCS=1 cargo test -p compliance-core` rewrites it.
    #[test]
    fn the_rendered_sample_is_current() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/schemas/samples/ocsf_rendered.json");
        let events = detection_findings(&crate::report::fixtures::catalog_report());
        let expected = serde_json::to_string_pretty(&events).unwrap() + "\n";
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == expected {
            return;
        }
        if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, expected)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        } else {
            panic!(
                "{} is not what the OCSF renderer makes; run `UPDATE_DOCS=1 cargo test -p compliance-core` and commit the result",
                path.display()
            );
        }
    }
}
