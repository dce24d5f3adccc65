use std::collections::BTreeMap;

use crate::remediation::{DecisionRecord, Mode, Outcome, RemediationDecisions};
use serde_json::json;

use super::*;
use crate::finding::{stable_finding_id, Finding, FindingStatus, RuleChecks, ScanError};
use crate::lifecycle::LifecycleStatus;
use crate::report::document::{FindingLifecycle, ResolvedEntry, TrendPoint};
use crate::report::{ScanReport, Summary};
use crate::run::FailedUnit;
use crate::Service;

const XSS_TAG: &str = "<script>alert(1)</script>";
const XSS_ATTR: &str = "\"><img src=x onerror=alert(1)>";
const XSS_SINGLE: &str = "' onmouseover='alert(1)";
const ACCOUNT: &str = "123456789012";

fn finding(rule_id: &str, resource_id: &str, arn: &str, region: &str) -> Finding {
    let rule = crate::rules::rule(rule_id).expect("rule in the catalog");
    Finding {
        id: stable_finding_id(ACCOUNT, region, rule_id, arn),
        rule_id: rule_id.into(),
        title: rule.title.into(),
        severity: rule.severity,
        status: FindingStatus::Fail,
        muted_reason: None,
        service: rule.service().unwrap_or(Service::Ec2),
        resource_type: rule
            .resource_type()
            .unwrap_or(crate::model::ResourceType::AwsAccount),
        resource_id: resource_id.into(),
        resource_arn: arn.into(),
        region: region.into(),
        account_id: ACCOUNT.into(),
        evidence: json!({"resource": resource_id}),
        remediation: rule.remediation.into(),
        runbook: rule.runbook,
        remediation_evidence: None,
        compliance: rule.controls.to_refs(),
        resource_tags: BTreeMap::from([("Name".to_string(), resource_id.to_string())]),
    }
}

fn report(findings: Vec<Finding>, evaluated: usize, passed: usize) -> RunReport {
    let mut checks_by_rule = BTreeMap::<String, RuleChecks>::new();
    for f in &findings {
        checks_by_rule
            .entry(f.rule_id.clone())
            .or_default()
            .add(false);
    }
    let active = findings.iter().filter(|f| f.status == FindingStatus::Fail);
    let scan = ScanReport {
        schema_version: 1,
        scanner_version: "0.0.0-test".into(),
        account_id: ACCOUNT.into(),
        regions: vec!["eu-west-1".into(), "us-east-1".into()],
        services: vec![Service::Ec2, Service::S3],
        started_at: "2024-05-04T06:00:00Z".into(),
        finished_at: "2024-05-04T06:01:00Z".into(),
        complete: true,
        summary: Summary {
            resources_scanned: 12,
            checks_evaluated: evaluated,
            checks_passed: passed,
            checks_failed: evaluated - passed,
            compliance_score: crate::report::score(passed, evaluated),
            findings_by_severity: crate::finding::count_by_severity(active),
            muted_findings: findings
                .iter()
                .filter(|f| f.status == FindingStatus::Muted)
                .count(),
            checks_by_rule,
        },
        accounts: Vec::new(),
        findings,
        errors: Vec::new(),
        rule_parameters: Some(crate::rules::RuleParametersUsed::uniform(
            crate::rules::RuleParameters::DEFAULTS.effective(),
        )),
    };
    RunReport::from_scan(&scan, "2024-05-04T06:02:00Z")
}

fn sample() -> RunReport {
    report(
        vec![
            finding(
                "ec2_sg_open_ssh",
                "sg-123",
                "arn:aws:ec2:us-east-1:123456789012:security-group/sg-123",
                "us-east-1",
            ),
            finding(
                "s3_bucket_versioning",
                "logs",
                "arn:aws:s3:::logs",
                "eu-west-1",
            ),
        ],
        8,
        6,
    )
}

/// Every place a value from AWS or configuration reaches, poisoned.
fn poisoned() -> RunReport {
    let mut bad = finding(
        "ec2_sg_open_ssh",
        XSS_TAG,
        &format!("arn:aws:ec2:us-east-1:123456789012:security-group/{XSS_ATTR}"),
        XSS_SINGLE,
    );
    bad.resource_tags = BTreeMap::from([(XSS_ATTR.to_string(), XSS_TAG.to_string())]);
    bad.status = FindingStatus::Muted;
    bad.muted_reason = Some(XSS_TAG.into());
    bad.evidence = json!({ "cidr": XSS_ATTR, "note": XSS_TAG });
    let mut r = report(vec![bad], 4, 3);
    r.run.run_id = Some(XSS_ATTR.into());
    r.run.account_id = XSS_SINGLE.into();
    r.run.regions.push(XSS_TAG.into());
    r.run.trigger = Some(XSS_TAG.into());
    r.run.complete = false;
    r.findings[0].lifecycle = Some(FindingLifecycle {
        status: LifecycleStatus::Reopened,
        first_seen_at: XSS_TAG.into(),
        last_seen_at: XSS_ATTR.into(),
        times_reopened: 1,
    });
    r.errors.push(ScanError {
        account_id: XSS_TAG.into(),
        region: XSS_TAG.into(),
        service: Service::Ec2,
        api: "DescribeSecurityGroups".into(),
        code: XSS_ATTR.into(),
        message: XSS_TAG.into(),
        resource: Some(XSS_ATTR.into()),
    });
    r.failed_units.push(FailedUnit {
        account_id: XSS_SINGLE.into(),
        region: XSS_SINGLE.into(),
        service: XSS_TAG.into(),
        error: XSS_ATTR.into(),
        cause: XSS_TAG.into(),
    });
    r.resolved.push(ResolvedEntry {
        id: XSS_ATTR.into(),
        account_id: XSS_TAG.into(),
        rule_id: XSS_TAG.into(),
        title: XSS_TAG.into(),
        resource_arn: XSS_ATTR.into(),
        region: XSS_SINGLE.into(),
        first_seen_at: XSS_TAG.into(),
        last_seen_at: String::new(),
    });
    r.trend.insert(
        0,
        TrendPoint {
            run_id: XSS_TAG.into(),
            created_at: XSS_ATTR.into(),
            compliance_score: Some(50.0),
            findings_total: 1,
        },
    );
    r.decision = Some(crate::report::document::DecisionSummary {
        decision: XSS_TAG.into(),
        reason: XSS_ATTR.into(),
        previous_run_id: Some(XSS_SINGLE.into()),
    });
    r.remediation = Some(RemediationDecisions {
        run_id: XSS_ATTR.into(),
        mode: Mode::DryRun,
        decisions: vec![DecisionRecord {
            finding_id: XSS_TAG.into(),
            rule_id: "ec2_sg_open_ssh".into(),
            resource_arn: XSS_ATTR.into(),
            region: "eu-west-1".into(),
            runbook: None,
            outcome: Outcome::Skipped {
                reason: XSS_TAG.into(),
            },
        }],
    });
    r.scanner_version = XSS_ATTR.into();
    // A second account, whose id and name (Organizations' account names are free text) are
    // hostile: the accounts table, the account filter and column show them.
    let mut hostile = r.accounts[0].clone();
    hostile.account_id = XSS_ATTR.into();
    hostile.name = Some(XSS_TAG.into());
    hostile.failed_units = 1;
    r.accounts.insert(0, hostile);
    r.accounts[1].name = Some(XSS_SINGLE.into());
    r.findings[0].finding.account_id = XSS_ATTR.into();
    r.findings[0].account_name = Some(XSS_TAG.into());
    r.resolved[0].account_id = XSS_ATTR.into();
    r
}

/// The text of the first `<tag>…</tag>` element.
fn element<'a>(page: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = page.find(&open).expect("element present") + open.len();
    let end = start + page[start..].find(&format!("</{tag}>")).unwrap();
    &page[start..end]
}

#[test]
fn escape_covers_the_five_characters() {
    assert_eq!(
        escape(r#"<a href="x" title='y'>&</a>"#),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    );
    assert_eq!(escape("sg-123 é"), "sg-123 é");
}

#[test]
fn values_from_aws_appear_only_escaped() {
    let page = render_html(&poisoned());
    for payload in [XSS_TAG, XSS_ATTR, XSS_SINGLE] {
        assert!(!page.contains(payload), "raw {payload:?} in the page");
        assert!(
            page.contains(&escape(payload)),
            "escaped {payload:?} missing"
        );
    }
    assert_eq!(page.matches("<script").count(), 1, "only our own script");
    assert!(!page.contains("<img"));
    assert!(!page.contains("onerror=alert(1)>"));
    assert!(!page.contains("onmouseover='"));
    // The script body is the static one: no data was put into it.
    assert_eq!(element(&page, "script"), assets::SCRIPT);
}

#[test]
fn nothing_is_loaded_from_anywhere() {
    let page = render_html(&sample());
    assert!(!page.contains("<link"));
    assert!(!page.contains("src="));
    assert!(!page.contains("url("));
    assert!(!page.contains("@import"));
    assert!(!page.contains("xmlns"));
    let catalog_urls: Vec<&str> = crate::rules::catalog()
        .iter()
        .map(|r| r.remediation_url)
        .collect();
    let mut links = 0;
    for scheme in ["http://", "https://"] {
        for (at, _) in page.match_indices(scheme) {
            assert!(
                page[..at].ends_with("<a href=\""),
                "a URL outside a link: {}",
                &page[at.saturating_sub(40)..at + 40]
            );
            let url = &page[at..at + page[at..].find('"').unwrap()];
            assert!(
                catalog_urls.contains(&url),
                "{url} is not a rule's documentation"
            );
            links += 1;
        }
    }
    assert_eq!(links, 2, "one documentation link per finding");
}

#[test]
fn the_policy_allows_exactly_the_inline_style_and_script() {
    let page = render_html(&sample());
    let csp = assets::content_security_policy();
    assert!(page.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        escape(&csp)
    )));
    assert!(csp.starts_with("default-src 'none';"));
    assert!(!csp.contains("unsafe"));
    assert!(csp.contains(&format!(
        "script-src '{}'",
        assets::csp_hash(element(&page, "script"))
    )));
    assert!(csp.contains(&format!(
        "style-src '{}'",
        assets::csp_hash(element(&page, "style"))
    )));
    assert!(csp.contains("img-src data:"));
    // Style attributes would need 'unsafe-inline': bars are SVG, rows are hidden by attribute.
    assert!(!page.contains("style=\""));
    assert_eq!(page.matches("<style>").count(), 1);
}

#[test]
fn the_page_shows_score_metadata_breakdowns_and_rows() {
    let page = render_html(&sample());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(
        "<span class=\"value\">75.0%</span><span class=\"detail\">6 of 8 checks passed</span>"
    ));
    assert!(page.contains("ad-hoc scan"));
    assert!(page.contains("<span class=\"badge pass\">complete</span>"));
    assert!(page.contains("eu-west-1, us-east-1"));
    assert_eq!(page.matches("<tr data-finding-id=").count(), 2);
    assert!(page.contains("2 of 2 findings shown"));
    assert!(page.contains("data-severity=\"HIGH\" data-region=\"us-east-1\" data-service=\"ec2\" data-lifecycle=\"none\""));
    for table in ["by-severity", "by-region", "by-service", "by-rule"] {
        assert!(page.contains(&format!("id=\"{table}\"")), "{table}");
    }
    // No lifecycle for an ad-hoc scan: neither the counts nor the resolved table.
    assert!(!page.contains("id=\"lifecycle-counts\""));
    assert!(!page.contains("id=\"s-resolved\""));
    // One view per framework, controls folded away.
    assert_eq!(page.matches("<div class=\"framework\"").count(), 6);
    assert!(page.contains("data-framework=\"cis_v5_0_0\""));
    assert!(page.contains("data-status=\"NOT_AUTOMATED\""));
    assert!(page.contains("needs a person: "));
    // The rule parameters in effect, none changed.
    assert!(page.contains("id=\"s-parameters\""));
    assert!(page.contains("<td><code>backupRetentionMinimum</code></td><td><code>7</code></td>"));
    assert!(!page.contains("id=\"parameters-changed\""));
    assert!(page.contains("<details><summary>Controls ("));
    // The ad-hoc scan is its own one-point trend.
    assert_eq!(page.matches("<circle class=\"trend-point").count(), 1);
}

#[test]
fn lifecycle_counts_resolved_and_partial_runs() {
    let mut r = sample();
    r.run.run_id = Some("run-42".into());
    r.lifecycle = Some(crate::lifecycle::LifecycleCounts {
        new: 1,
        open: 1,
        reopened: 0,
        resolved: 3,
        unconfirmed: 0,
    });
    r.run.complete = false;
    r.failed_units.push(FailedUnit {
        account_id: "123456789012".into(),
        region: "ap-south-1".into(),
        service: "rds".into(),
        error: "States.Timeout".into(),
        cause: "the unit timed out".into(),
    });
    let page = render_html(&r);
    assert!(page.contains("<code>run-42</code>"));
    assert!(page.contains("id=\"lifecycle-counts\""));
    assert!(page.contains("data-lifecycle=\"resolved\"><span class=\"value\">3</span>"));
    assert!(!page.contains("unconfirmed"));
    assert!(page.contains("No finding was resolved by this run."));
    assert!(page.contains("Partial scan:"));
    assert!(page.contains("<td>the unit timed out</td>"));
}

#[test]
fn an_empty_scan_still_renders() {
    let page = render_html(&report(Vec::new(), 0, 0));
    assert!(page.contains(
        "<span class=\"value\">—</span><span class=\"detail\">no checks evaluated</span>"
    ));
    assert!(page.contains("No findings: every evaluated check passed."));
    assert!(page.contains("no-score"));
    assert!(page.ends_with("</html>\n"));
}

#[test]
fn account_names_and_ids_appear_only_escaped() {
    let page = render_html(&poisoned());
    let (id, name) = (escape(XSS_ATTR), escape(XSS_TAG));
    // The accounts table: the hostile account first (it has a failed unit).
    let accounts = &page[page.find("<table id=\"accounts\"").expect("accounts table")..];
    let accounts = &accounts[..accounts.find("</table>").unwrap()];
    assert!(accounts.contains(&format!(
        "<tr data-account=\"{id}\"><td><code>{id}</code> <span class=\"badge fail\">partial</span></td><td>{name}</td>"
    )));
    assert!(accounts.contains(&format!("<td>{}</td>", escape(XSS_SINGLE))));
    // The link to the account's findings carries the id percent-encoded.
    assert!(accounts.contains(
        "<a href=\"#account=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E\">show 1</a>"
    ));
    // The filter and the row.
    assert!(page.contains(&format!("<option value=\"{id}\">{id} · {name}</option>")));
    assert!(page.contains(&format!(
        "data-lifecycle=\"reopened\" data-account=\"{id}\">"
    )));
    assert!(page.contains(&format!("<td><code>{id}</code><br>{name}</td>")));
    for payload in [XSS_TAG, XSS_ATTR, XSS_SINGLE] {
        assert!(!page.contains(payload), "raw {payload:?} in the page");
    }
}

#[test]
fn a_run_of_several_accounts_has_the_accounts_section_column_and_filter() {
    use crate::report::fixtures::{self, PROD, PROD_NAME, UNNAMED};
    let page = render_html(&fixtures::two_accounts_report());
    assert!(page.contains("<title>Compliance report · 2 accounts · run-7</title>"));
    assert!(page.contains(&format!(
        "<strong>2 accounts</strong> (scanner account <code>{PROD}</code>)"
    )));
    assert!(page.contains("<li><a href=\"#s-accounts\">Accounts</a></li>"));
    // Worst first: the account with a failed unit, then Production.
    let rows: Vec<&str> = page
        .match_indices("<tr data-account=\"")
        .map(|(at, m)| {
            let rest = &page[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(rows, [UNNAMED, PROD]);
    assert!(page.contains(&format!(
        "<tr data-account=\"{UNNAMED}\"><td><code>{UNNAMED}</code> <span class=\"badge fail\">partial</span></td>\
         <td class=\"muted\">—</td><td class=\"num\">75.0%</td><td class=\"num\">0</td><td class=\"num\">1</td>"
    )));
    assert!(page.contains(&format!(
        "<tr data-account=\"{PROD}\"><td><code>{PROD}</code></td><td>{PROD_NAME}</td><td class=\"num\">80.0%</td>\
         <td class=\"num\">1</td>"
    )));
    assert!(page.contains(&format!("<a href=\"#account={PROD}\">show 2</a>")));
    assert!(page.contains("1 could not be read in full"));
    // The findings: an account column and filter; every row names its account.
    assert!(page.contains("<th scope=\"col\">Region</th><th scope=\"col\">Account</th>"));
    assert!(page.contains(&format!(
        "<select id=\"filter-account\"><option value=\"\">All</option><option value=\"{PROD}\">{PROD} · {PROD_NAME}</option>\
         <option value=\"{UNNAMED}\">{UNNAMED}</option></select>"
    )));
    assert_eq!(
        page.matches(&format!("data-account=\"{PROD}\"")).count(),
        1 + 2
    );
    assert_eq!(
        page.matches(&format!("data-account=\"{UNNAMED}\"")).count(),
        1 + 1
    );
    // Failed units and errors say whose they are.
    assert!(page.contains(&format!(
        "<td><code>{UNNAMED}</code></td><td>eu-west-1</td><td>s3</td>"
    )));
    assert!(page.contains("<dt>Scanner account</dt>"));
}

#[test]
fn a_run_of_one_account_has_no_account_section_column_or_filter() {
    let page = render_html(&sample());
    assert!(!page.contains("id=\"s-accounts\""));
    assert!(!page.contains("id=\"filter-account\""));
    assert!(!page.contains("<th scope=\"col\">Account</th>"));
    assert!(page.contains(&format!("Account <strong>{ACCOUNT}</strong> ·")));
    assert!(page.contains(&format!(
        "<title>Compliance report · {ACCOUNT} · ad-hoc scan</title>"
    )));
    // The rows still carry their account (the filter script ignores it).
    assert_eq!(
        page.matches(&format!("data-account=\"{ACCOUNT}\"")).count(),
        2
    );
}

#[test]
fn rule_parameters_changed_mid_run_are_shown_with_their_units() {
    use crate::rules::{DifferingParameter, ParameterUse, RuleParametersUsed};
    let mut r = sample();
    r.rule_parameters = Some(RuleParametersUsed {
        values: serde_json::Map::new(),
        differing: vec![DifferingParameter {
            rule_id: "rds_instance_backup_retention".into(),
            parameter: "backupRetentionMinimum".into(),
            values: vec![
                ParameterUse {
                    value: serde_json::json!(7),
                    units: vec!["111111111111/eu-west-1/rds".into()],
                },
                ParameterUse {
                    value: serde_json::json!(14),
                    units: vec!["111111111111/us-east-1/rds".into()],
                },
            ],
        }],
    });
    let page = render_html(&r);
    assert!(page.contains("id=\"parameters-changed\""));
    assert!(page.contains("<td><code>14</code></td><td>111111111111/us-east-1/rds</td>"));
    assert!(!page.contains("Values in effect"));
    r.rule_parameters = None;
    assert!(render_html(&r).contains("Not recorded: this run's units"));
}
