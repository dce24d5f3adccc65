//! The human-readable table of `compliance scan`.

use std::fmt::Write;

use compliance_core::report::clip;
use compliance_core::{ScanReport, Severity};

fn colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Informational => "\x1b[2m",
    }
}

/// The resource id, with its `Name` tag when it has one (security group ids alone say little).
fn display_name(f: &compliance_core::Finding) -> String {
    match f.resource_tags.get("Name") {
        Some(name) if !name.is_empty() && name != &f.resource_id => {
            format!("{} ({name})", f.resource_id)
        }
        _ => f.resource_id.clone(),
    }
}

/// One line per finding; an ACCOUNT column when the scan covered more than one account.
pub fn table(report: &ScanReport, ansi: bool) -> String {
    let mut out = String::new();
    // Several accounts (scanned, or reached only by an error): each line says whose it is.
    let several = report.account_ids().len() > 1;
    let mut headers = vec!["SEVERITY", "STATUS", "RULE", "REGION", "RESOURCE"];
    if several {
        headers.insert(0, "ACCOUNT");
    }
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            let mut row = vec![
                f.severity.to_string(),
                f.status.as_str().to_string(),
                f.rule_id.clone(),
                f.region.clone(),
                clip(&display_name(f), 60),
            ];
            if several {
                row.insert(0, f.account_id.clone());
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let header: Vec<String> = headers.iter().map(|h| (*h).to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    for (row, finding) in rows.iter().zip(&report.findings) {
        let text = line(row);
        if ansi {
            let _ = writeln!(out, "{}{text}\x1b[0m", colour(finding.severity));
        } else {
            let _ = writeln!(out, "{text}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", summary_line(report));
    for e in &report.errors {
        let resource = e
            .resource
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let account = if several && !e.account_id.is_empty() {
            format!("{} ", e.account_id)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  not scanned: {account}{} {} {}{resource}: {}: {}",
            e.region, e.service, e.api, e.code, e.message
        );
    }
    out
}

pub fn summary_line(report: &ScanReport) -> String {
    let s = &report.summary;
    let c = &s.findings_by_severity;
    let score = s
        .compliance_score
        .map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"));
    let accounts = report.account_ids().len();
    let scope = if accounts > 1 {
        format!("{accounts} accounts")
    } else {
        format!("account {}", report.account_id)
    };
    format!(
        "{scope} · {} resources · score {score} ({} of {} checks passed) · findings: {} critical, {} high, {} medium, {} low, {} informational, {} muted{}",
        s.resources_scanned,
        s.checks_passed,
        s.checks_evaluated,
        c.critical,
        c.high,
        c.medium,
        c.low,
        c.informational,
        s.muted_findings,
        if report.complete { String::new() } else { format!(" · INCOMPLETE: {} errors", report.errors.len()) }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use compliance_core::finding::stable_finding_id;
    use compliance_core::{Finding, FindingStatus, ScanError, Service, Summary};

    fn finding(account: &str, resource: &str) -> Finding {
        let rule = compliance_core::rules::rule("ec2_sg_open_ssh").unwrap();
        let arn = format!("arn:aws:ec2:eu-west-1:{account}:security-group/{resource}");
        Finding {
            id: stable_finding_id(account, "eu-west-1", rule.id, &arn),
            rule_id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status: FindingStatus::Fail,
            muted_reason: None,
            service: Service::Ec2,
            resource_type: compliance_core::model::ResourceType::AwsEc2SecurityGroup,
            resource_id: resource.into(),
            resource_arn: arn,
            region: "eu-west-1".into(),
            account_id: account.into(),
            evidence: serde_json::json!({}),
            remediation: rule.remediation.into(),
            runbook: None,
            remediation_evidence: None,
            compliance: rule.controls.to_refs(),
            resource_tags: Default::default(),
        }
    }

    fn scan(findings: Vec<Finding>) -> ScanReport {
        ScanReport {
            schema_version: 1,
            scanner_version: "0".into(),
            account_id: "111111111111".into(),
            regions: vec!["eu-west-1".into()],
            services: vec![Service::Ec2],
            started_at: "2026-11-23T10:00:00Z".into(),
            finished_at: "2026-11-23T10:01:00Z".into(),
            complete: false,
            summary: Summary {
                resources_scanned: 2,
                checks_evaluated: 2,
                checks_passed: 0,
                checks_failed: 2,
                compliance_score: Some(0.0),
                findings_by_severity: Default::default(),
                muted_findings: 0,
                checks_by_rule: Default::default(),
            },
            accounts: Vec::new(),
            findings,
            errors: vec![ScanError {
                account_id: "222222222222".into(),
                region: "eu-west-1".into(),
                service: Service::Ec2,
                api: "DescribeVolumes".into(),
                code: "AccessDenied".into(),
                message: "denied".into(),
                resource: None,
            }],
            rule_parameters: None,
        }
    }

    #[test]
    fn several_accounts_get_an_account_column() {
        let report = scan(vec![
            finding("111111111111", "sg-1"),
            finding("222222222222", "sg-2"),
        ]);
        let out = table(&report, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "ACCOUNT       SEVERITY  STATUS  RULE             REGION     RESOURCE"
        );
        assert_eq!(
            lines[2],
            "222222222222  HIGH      FAIL    ec2_sg_open_ssh  eu-west-1  sg-2"
        );
        assert!(out.contains(
            "  not scanned: 222222222222 eu-west-1 ec2 DescribeVolumes: AccessDenied: denied"
        ));
        assert!(summary_line(&report).starts_with("2 accounts · 2 resources"));
    }

    #[test]
    fn one_account_keeps_the_table_it_had() {
        let mut report = scan(vec![finding("111111111111", "sg-1")]);
        report.errors[0].account_id = "111111111111".into();
        let out = table(&report, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "SEVERITY  STATUS  RULE             REGION     RESOURCE"
        );
        assert_eq!(
            lines[1],
            "HIGH      FAIL    ec2_sg_open_ssh  eu-west-1  sg-1"
        );
        assert!(out.contains("  not scanned: eu-west-1 ec2 DescribeVolumes: AccessDenied: denied"));
        assert!(summary_line(&report).starts_with("account 111111111111 · 2 resources"));
    }
}
