//! The HTML report as a browser shows it: rendered from a workflow run (lifecycle, trend of four
//! runs, a partial scan, a hostile resource id), opened in headless Chromium, and the DOM after
//! the page's script ran checked — the score, the trend, the findings table and the filter,
//! also pre-filled from the URL fragment.
//!
//! Needs Chromium (`apt-get update && apt-get install -y chromium`, or `$CHROMIUM` pointing at
//! a binary). Without it the tests fail, unless `COMPLIANCE_SKIP_BROWSER_TESTS=1`. They are
//! ignored by a plain `cargo test`, which needs no browser; `make test` runs them
//! (`--include-ignored`, after tests/ensure_chromium.sh).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use compliance_core::finding::{stable_finding_id, RuleChecks};
use compliance_core::lifecycle::{reconcile, FindingRecord, LifecycleStatus, RunClock, RunScope};
use compliance_core::model::Tags;
use compliance_core::report::document::{RunParts, TrendPoint};
use compliance_core::report::html::render_html;
use compliance_core::report::{score, RunReport, Summary};
use compliance_core::run::{FailedUnit, RunDocument, UnitRecord};
use compliance_core::{Finding, FindingStatus, ScanError, Service};

const ACCOUNT: &str = "123456789012";
const RUN: &str = "run-4";
const NOW: &str = "2024-05-04T06:00:00Z";
const XSS_ID: &str = "<script>alert(1)</script>";
const XSS_TAG: &str = "\"><img src=x onerror=alert(1)>";

struct Spec {
    rule: &'static str,
    resource: &'static str,
    region: &'static str,
}

const SPECS: [Spec; 7] = [
    Spec {
        rule: "ec2_sg_open_ssh",
        resource: "sg-0a1b2c3d",
        region: "us-east-1",
    },
    Spec {
        rule: "ec2_sg_open_ssh",
        resource: XSS_ID,
        region: "eu-west-1",
    },
    Spec {
        rule: "ec2_instance_imdsv2",
        resource: "i-0123456789abcdef0",
        region: "us-east-1",
    },
    Spec {
        rule: "s3_bucket_public_policy",
        resource: "public-assets",
        region: "us-east-1",
    },
    Spec {
        rule: "s3_bucket_versioning",
        resource: "audit-logs",
        region: "us-east-1",
    },
    Spec {
        rule: "rds_instance_public",
        resource: "orders-db",
        region: "eu-west-1",
    },
    Spec {
        rule: "ec2_ebs_volume_encrypted",
        resource: "vol-0f00ba47",
        region: "eu-central-1",
    },
];

fn arn(rule: &compliance_core::rules::Rule, resource: &str, region: &str) -> String {
    match rule.service() {
        Some(Service::S3) => format!("arn:aws:s3:::{resource}"),
        Some(Service::Rds) => format!("arn:aws:rds:{region}:{ACCOUNT}:db:{resource}"),
        _ if resource.starts_with("i-") => {
            format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{resource}")
        }
        _ if resource.starts_with("vol-") => {
            format!("arn:aws:ec2:{region}:{ACCOUNT}:volume/{resource}")
        }
        _ => format!("arn:aws:ec2:{region}:{ACCOUNT}:security-group/{resource}"),
    }
}

fn finding(spec: &Spec) -> Finding {
    let rule = compliance_core::rules::rule(spec.rule).expect("rule in the catalog");
    let arn = arn(rule, spec.resource, spec.region);
    let mut tags = Tags::new();
    tags.insert("Name".into(), spec.resource.into());
    if spec.resource == XSS_ID {
        tags.insert("owner".into(), XSS_TAG.into());
    }
    Finding {
        id: stable_finding_id(ACCOUNT, spec.region, spec.rule, &arn),
        rule_id: spec.rule.into(),
        title: rule.title.into(),
        severity: rule.severity,
        status: FindingStatus::Fail,
        muted_reason: None,
        service: rule.service().expect("a service rule"),
        resource_type: rule.resource_type().expect("a service rule"),
        resource_id: spec.resource.into(),
        resource_arn: arn,
        region: spec.region.into(),
        account_id: ACCOUNT.into(),
        evidence: serde_json::json!({ "resource": spec.resource }),
        remediation: rule.remediation.into(),
        runbook: rule.runbook,
        remediation_evidence: None,
        compliance: rule.controls.to_refs(),
        resource_tags: tags,
    }
}

/// A record of the findings table as an earlier run left it.
fn record(f: &Finding, status: LifecycleStatus, first_seen: &str) -> FindingRecord {
    FindingRecord {
        finding_id: f.id.clone(),
        account_id: f.account_id.clone(),
        rule_id: f.rule_id.clone(),
        title: f.title.clone(),
        severity: f.severity,
        service: f.service,
        resource_type: f.resource_type,
        resource_id: f.resource_id.clone(),
        resource_arn: f.resource_arn.clone(),
        region: f.region.clone(),
        status,
        first_seen_at: first_seen.into(),
        last_seen_at: "2024-05-03T06:00:00Z".into(),
        first_run_id: "run-1".into(),
        last_run_id: "run-3".into(),
        resolved_at: (status == LifecycleStatus::Resolved).then(|| "2024-05-02T06:00:00Z".into()),
        resolved_run_id: (status == LifecycleStatus::Resolved).then(|| "run-2".into()),
        times_reopened: 0,
        expires_at: None,
    }
}

/// The fourth run of the account, reconciled with the findings table like the workflow does.
fn run_report() -> (RunReport, Vec<Finding>) {
    let mut findings: Vec<Finding> = SPECS.iter().map(finding).collect();
    findings[4].status = FindingStatus::Muted;
    findings[4].muted_reason = Some("audit log bucket is write-once by design".into());

    let mut checks_by_rule = BTreeMap::<String, RuleChecks>::new();
    for f in &findings {
        checks_by_rule
            .entry(f.rule_id.clone())
            .or_default()
            .add(false);
    }
    for rule in [
        "s3_bucket_default_encryption",
        "ec2_sg_open_rdp",
        "rds_instance_storage_encrypted",
    ] {
        for _ in 0..11 {
            checks_by_rule.entry(rule.into()).or_default().add(true);
        }
    }
    let evaluated: usize = checks_by_rule.values().map(|c| c.evaluated).sum();
    let passed: usize = checks_by_rule.values().map(|c| c.passed).sum();
    let active = findings.iter().filter(|f| f.status == FindingStatus::Fail);
    let unit = |region: &str, service| UnitRecord {
        account_id: ACCOUNT.into(),
        region: region.into(),
        service,
        key: format!("runs/{RUN}/units/{region}-{service}.json"),
        resources_scanned: 5,
        error_count: 0,
    };
    let run = RunDocument {
        schema_version: 1,
        run_id: RUN.into(),
        account_id: ACCOUNT.into(),
        trigger: "schedule".into(),
        created_at: NOW.into(),
        units: vec![
            unit("us-east-1", Service::Ec2),
            unit("eu-west-1", Service::Ec2),
            unit("eu-central-1", Service::Ec2),
            unit("us-east-1", Service::S3),
            unit("eu-west-1", Service::Rds),
        ],
        failed_units: vec![FailedUnit {
            account_id: "123456789012".into(),
            region: "eu-central-1".into(),
            service: "rds".into(),
            error: "States.Timeout".into(),
            cause: "the unit did not finish within 300 seconds".into(),
        }],
        complete: false,
        summary: Summary {
            resources_scanned: 25,
            checks_evaluated: evaluated,
            checks_passed: passed,
            checks_failed: evaluated - passed,
            compliance_score: score(passed, evaluated),
            findings_by_severity: compliance_core::finding::count_by_severity(active),
            muted_findings: 1,
            checks_by_rule,
        },
        accounts: Vec::new(),
        findings: findings.clone(),
        errors: vec![ScanError {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            service: Service::Ec2,
            api: "DescribeVolumes".into(),
            code: "UnauthorizedOperation".into(),
            message: format!("not authorized for volume {XSS_TAG}"),
            resource: None,
        }],
        rule_parameters: None,
    };

    // The table before this run: three open findings, one resolved that comes back, and one
    // open finding that is gone now (resolved by this run).
    let gone = finding(&Spec {
        rule: "s3_bucket_default_encryption",
        resource: "old-bucket",
        region: "us-east-1",
    });
    let mut previous = BTreeMap::new();
    for (f, status) in [
        (&findings[1], LifecycleStatus::Open),
        (&findings[2], LifecycleStatus::Resolved),
        (&findings[3], LifecycleStatus::Open),
        (&findings[6], LifecycleStatus::New),
        (&gone, LifecycleStatus::Open),
    ] {
        previous.insert(f.id.clone(), record(f, status, "2024-05-01T06:00:00Z"));
    }
    let reconciliation = reconcile(
        &run.findings,
        &previous,
        &RunScope::of_run(&run),
        RunClock {
            run_id: RUN,
            observed_at: NOW,
            observed_epoch: compliance_core::time::parse_rfc3339(NOW).unwrap(),
            resolved_retention_days: 90,
        },
    );
    let history = vec![
        trend_point("run-1", "2024-05-01T06:00:00Z", Some(61.0)),
        trend_point("run-2", "2024-05-02T06:00:00Z", None),
        trend_point("run-3", "2024-05-03T06:00:00Z", Some(75.5)),
    ];
    let report = RunReport::from_run(
        &run,
        RunParts {
            analysis: None,
            reconciliation: Some(&reconciliation),
            history,
            remediation: None,
            generated_at: "2024-05-04T06:05:00Z",
        },
    );
    (report, findings)
}

fn trend_point(run_id: &str, created_at: &str, score: Option<f64>) -> TrendPoint {
    TrendPoint {
        run_id: run_id.into(),
        created_at: created_at.into(),
        compliance_score: score,
        findings_total: 6,
    }
}

// ------------------------------------------------------------------------------- Chromium

fn skip_browser_tests() -> bool {
    std::env::var("COMPLIANCE_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1")
}

/// `$CHROMIUM`, else `chromium` or `chromium-browser` on the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("CHROMIUM").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(explicit);
        assert!(path.is_file(), "$CHROMIUM={} is not a file", path.display());
        return Some(path);
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

fn require_chromium() -> Option<PathBuf> {
    if skip_browser_tests() {
        eprintln!("COMPLIANCE_SKIP_BROWSER_TESTS=1: the headless Chromium test is skipped");
        return None;
    }
    match chromium() {
        Some(path) => Some(path),
        None => panic!(
            "Chromium is needed to test the HTML report in a browser, and none was found \
             (looked for $CHROMIUM, `chromium` and `chromium-browser` on the PATH). Install it with \
             `apt-get update && apt-get install -y chromium` (Debian/Ubuntu), or set \
             COMPLIANCE_SKIP_BROWSER_TESTS=1 to skip this test deliberately."
        ),
    }
}

fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Overwritten by the next run: the last pages and DOMs stay there for a look.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "html_chromium/{}",
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What Chromium made of the page: the serialized DOM after the scripts ran, and its log
/// (console messages and Content-Security-Policy violations included).
struct Rendered {
    dom: String,
    log: String,
}

/// Opens the report at `fragment` (`""` or `#…`) in headless Chromium.
fn open_in_chromium(chromium: &Path, html: &str, fragment: &str) -> Rendered {
    let dir = scratch_dir();
    let page = dir.join("report.html");
    std::fs::write(&page, html).unwrap();
    let (out_path, err_path) = (dir.join("dom.html"), dir.join("chromium.log"));
    let url = format!("file://{}{fragment}", page.display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within 120 s ({url})");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = std::fs::read_to_string(&out_path).unwrap();
    let log = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(dir.join("profile"));
    assert!(
        status.success() && dom.contains("</html>"),
        "Chromium failed ({status}) on {url}:\n{log}"
    );
    Rendered { dom, log }
}

// ----------------------------------------------------------------------- DOM inspection

/// The opening tags of the findings table's body rows.
fn finding_rows(dom: &str) -> Vec<&str> {
    let start = dom.find("<table id=\"findings\"").expect("findings table");
    let table = &dom[start..start + dom[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").expect("tbody")..];
    body.match_indices("<tr ")
        .map(|(at, _)| &body[at..=(at + body[at..].find('>').unwrap())])
        .collect()
}

fn row_id(tag: &str) -> &str {
    let at = tag.find("data-finding-id=\"").unwrap() + "data-finding-id=\"".len();
    &tag[at..at + tag[at..].find('"').unwrap()]
}

fn is_hidden(tag: &str) -> bool {
    tag.contains(" hidden=\"\"") || tag.contains(" hidden>") || tag.contains("display: none")
}

fn visible_ids(dom: &str) -> Vec<String> {
    let mut ids: Vec<String> = finding_rows(dom)
        .into_iter()
        .filter(|t| !is_hidden(t))
        .map(|t| row_id(t).to_string())
        .collect();
    ids.sort();
    ids
}

fn ids_of(findings: &[Finding], indexes: &[usize]) -> Vec<String> {
    let mut ids: Vec<String> = indexes.iter().map(|&i| findings[i].id.clone()).collect();
    ids.sort();
    ids
}

fn count_text(dom: &str) -> &str {
    let at = dom.find("id=\"findings-count\"").expect("count element");
    let text = &dom[at + dom[at..].find('>').unwrap() + 1..];
    &text[..text.find('<').unwrap()]
}

/// The page's own policy held: nothing was refused (a refused script or style is logged).
fn assert_no_csp_violation(rendered: &Rendered) {
    for line in rendered.log.lines() {
        assert!(
            !line.contains("Content Security Policy") && !line.contains("Refused to"),
            "Chromium reported a policy violation: {line}"
        );
    }
}

// ------------------------------------------------------------------------------- tests

#[test]
#[ignore = "needs headless Chromium: `make test` runs it"]
fn chromium_shows_the_score_the_trend_and_every_finding() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let (report, findings) = run_report();
    let rendered = open_in_chromium(&chromium, &render_html(&report), "");
    let dom = &rendered.dom;
    assert_no_csp_violation(&rendered);

    // The score, big, with the checks behind it.
    let expected = score(
        report.summary.checks_passed,
        report.summary.checks_evaluated,
    )
    .unwrap();
    assert!(
        dom.contains(&format!("<span class=\"value\">{expected:.1}%</span>")),
        "score {expected:.1}% not shown"
    );
    assert!(dom.contains(&format!(
        "{} of {} checks passed",
        report.summary.checks_passed, report.summary.checks_evaluated
    )));
    assert!(dom.contains("<code>run-4</code>"));
    assert!(dom.contains("<span class=\"badge fail\">partial</span>"));
    assert!(dom.contains("States.Timeout"));

    // The trend: one marker per run, oldest first; run-2 evaluated nothing.
    let svg_start = dom.find("<svg class=\"trend\"").expect("trend chart");
    let svg = &dom[svg_start..svg_start + dom[svg_start..].find("</svg>").unwrap()];
    assert_eq!(svg.matches("<circle class=\"trend-point").count(), 4);
    let runs: Vec<&str> = svg
        .match_indices("data-run=\"")
        .map(|(at, m)| {
            let rest = &svg[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(runs, ["run-1", "run-2", "run-3", "run-4"]);
    assert_eq!(svg.matches("no-score").count(), 1);
    assert!(svg.contains("data-score=\"75.5\""));

    // Lifecycle counts from the reconciliation, and the finding it resolved.
    let lifecycle = report.lifecycle.expect("reconciled");
    assert_eq!(
        (
            lifecycle.new,
            lifecycle.open,
            lifecycle.reopened,
            lifecycle.resolved
        ),
        (3, 3, 1, 1)
    );
    assert!(dom.contains("data-lifecycle=\"resolved\"><span class=\"value\">1</span>"));
    assert!(dom.contains("arn:aws:s3:::old-bucket"));

    // Every finding is a row, none hidden, and the script ran (it shows the filter panel).
    let rows = finding_rows(dom);
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| !is_hidden(r)));
    assert_eq!(count_text(dom), "7 of 7 findings shown");
    assert!(dom.contains(
        "<div id=\"filters\" class=\"filters\" role=\"search\" aria-label=\"Filter the findings\">"
    ));
    let ids: Vec<usize> = (0..7).collect();
    assert_eq!(visible_ids(dom), ids_of(&findings, &ids));

    // The hostile resource id and tag are text: no element was injected.
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!dom.contains("<img"));
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(dom.contains("onerror=alert(1)&gt;"));
}

#[test]
#[ignore = "needs headless Chromium: `make test` runs it"]
fn the_url_fragment_prefills_the_filter() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let (report, findings) = run_report();
    let html = render_html(&report);

    // Severity and region, case-insensitively, and free text: the two HIGH EC2 findings in
    // us-east-1 (the third HIGH one is in eu-west-1).
    let rendered = open_in_chromium(&chromium, &html, "#q=EC2&severity=high&region=us-east-1");
    assert_no_csp_violation(&rendered);
    assert_eq!(count_text(&rendered.dom), "2 of 7 findings shown");
    assert_eq!(visible_ids(&rendered.dom), ids_of(&findings, &[0, 2]));
    assert_eq!(
        finding_rows(&rendered.dom)
            .iter()
            .filter(|r| is_hidden(r))
            .count(),
        5
    );

    // Free text finds the hostile id as the text it is; lifecycle narrows to open findings.
    let rendered = open_in_chromium(&chromium, &html, "#q=%3Cscript%3E&lifecycle=open");
    assert_eq!(count_text(&rendered.dom), "1 of 7 findings shown");
    assert_eq!(visible_ids(&rendered.dom), ids_of(&findings, &[1]));

    // A value this report does not have matches nothing (it does not fall back to "all").
    let rendered = open_in_chromium(&chromium, &html, "#severity=INFORMATIONAL");
    assert_eq!(count_text(&rendered.dom), "0 of 7 findings shown");
    assert!(visible_ids(&rendered.dom).is_empty());
    assert!(rendered
        .dom
        .contains("<p id=\"findings-none\" class=\"empty\">No finding matches the filter.</p>"));
}

#[test]
#[ignore = "needs headless Chromium: `make test` runs it"]
fn a_run_of_several_accounts_filters_by_account() {
    use compliance_core::report::accounts::ReportAccount;
    const MEMBER: &str = "222222222222";
    let Some(chromium) = require_chromium() else {
        return;
    };
    let (mut report, _) = run_report();
    // The last two findings belong to a member account named by Organizations.
    for row in &mut report.findings[5..] {
        row.finding.account_id = MEMBER.into();
        row.account_name = Some("Payments <prod>".into());
    }
    let own = report.accounts[0].clone();
    report.accounts.push(ReportAccount {
        account_id: MEMBER.into(),
        name: Some("Payments <prod>".into()),
        ..own
    });
    let member_ids: Vec<String> = {
        let mut ids: Vec<String> = report.findings[5..]
            .iter()
            .map(|r| r.finding.id.clone())
            .collect();
        ids.sort();
        ids
    };
    let html = render_html(&report);

    let rendered = open_in_chromium(&chromium, &html, &format!("#account={MEMBER}"));
    assert_no_csp_violation(&rendered);
    assert_eq!(count_text(&rendered.dom), "2 of 7 findings shown");
    assert_eq!(visible_ids(&rendered.dom), member_ids);
    assert!(rendered.dom.contains("<table id=\"accounts\""));
    assert!(rendered.dom.contains("Payments &lt;prod&gt;"));

    // The scanner's own account: the other five.
    let rendered = open_in_chromium(&chromium, &html, &format!("#account={ACCOUNT}"));
    assert_eq!(count_text(&rendered.dom), "5 of 7 findings shown");
    assert!(visible_ids(&rendered.dom)
        .iter()
        .all(|id| !member_ids.contains(id)));
}
