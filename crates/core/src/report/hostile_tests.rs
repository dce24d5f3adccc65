//! Hostile resource names and tag values in every format that carries them: CSV (formula
//! injection, quoting), HTML (escaping, in text and attributes), the SNS alert text, the
//! webhook payload and ASFF (its field limits, cut on a character boundary with a marker).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::asff::{open_finding, AsffContext, Observed};
use super::document::FindingLifecycle;
use super::fixtures::{two_accounts_report, two_accounts_run, PROD};
use super::html::render_html;
use super::{findings_csv, RunReport};
use crate::lifecycle::LifecycleStatus;
use crate::Severity;

/// Names an attacker who can name a resource or tag it could choose.
fn hostile_names() -> Vec<String> {
    vec![
        "=HYPERLINK(\"http://evil.example\",\"open\")".into(),
        "+1+cmd|' /C calc'!A0".into(),
        "-2+3".into(),
        "@SUM(A1:A9)".into(),
        "\t=1+1".into(),
        "\r=1+1".into(),
        "<script>alert(1)</script>".into(),
        "\" onmouseover=\"alert(1)\" x=\"".into(),
        "' autofocus onfocus='alert(1)".into(),
        "javascript:alert(1)".into(),
        "bell\u{7}esc\u{1b}[31mnul\u{0}del\u{7f}".into(),
        "two\nlines\r\nFull report: https://evil.example/".into(),
        "x".repeat(256),
        "é".repeat(256),
        "日本語のタグ🙂 Ünïcødé".into(),
    ]
}

/// The two-account report with one finding per hostile name: in its resource id and ARN, a
/// tag, the muted reason and the account name; every finding new, so the webhook lists it.
fn hostile_report() -> RunReport {
    let mut report = two_accounts_report();
    let template = report.findings[0].clone();
    report.findings = hostile_names()
        .into_iter()
        .map(|name| {
            let mut row = template.clone();
            row.finding.resource_id.clone_from(&name);
            row.finding.resource_arn =
                format!("arn:aws:ec2:eu-west-1:{PROD}:security-group/{name}");
            row.finding.resource_tags = BTreeMap::from([("Name".to_string(), name.clone())]);
            row.finding.muted_reason = Some(name.clone());
            row.finding.severity = Severity::Critical;
            row.account_name = Some(name);
            row.lifecycle = Some(FindingLifecycle {
                status: LifecycleStatus::New,
                first_seen_at: "2026-11-23T10:00:00Z".into(),
                last_seen_at: "2026-11-23T10:00:00Z".into(),
                times_reopened: 0,
            });
            row
        })
        .collect();
    report
}

fn is_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[test]
fn csv_quotes_every_hostile_name_and_neutralises_formulas() {
    let report = hostile_report();
    let text = findings_csv(&report.findings).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // A line break in a name stays inside its quoted cell: one record per finding.
    assert_eq!(rows.len(), report.findings.len());
    for (row, name) in rows.iter().zip(hostile_names()) {
        let shown = if is_formula(&name) {
            format!("'{name}")
        } else {
            name.clone()
        };
        // resource_id, muted_reason and account_name (columns 7, 22 and 24) hold the name.
        for column in [7, 22, 24] {
            assert_eq!(&row[column], shown, "column {column} of {name:?}");
        }
        for cell in row {
            assert!(
                !is_formula(cell),
                "a cell a spreadsheet would run: {cell:?}"
            );
        }
    }
}

/// The text between `<script` and `</script>`, every occurrence: the page's own script only.
fn scripts(page: &str) -> Vec<&str> {
    page.match_indices("<script")
        .map(|(at, _)| &page[at..at + page[at..].find("</script>").unwrap()])
        .collect()
}

#[test]
fn html_shows_hostile_names_only_escaped() {
    let clean = render_html(&two_accounts_report());
    let page = render_html(&hostile_report());
    assert_eq!(
        scripts(&page),
        scripts(&clean),
        "a script came from the data"
    );
    for name in hostile_names() {
        if name.contains(['<', '>', '"', '\'', '&']) {
            assert!(!page.contains(&name), "unescaped: {name}");
        }
        let escaped = super::html::escape(&name);
        assert!(page.contains(&escaped), "not shown: {name}");
    }
    // Attribute context: no quote of the data closes an attribute, so no handler appears.
    for breakout in [
        "\" onmouseover",
        "onmouseover=\"",
        "' autofocus",
        "onfocus='",
    ] {
        assert!(!page.contains(breakout), "{breakout} in the page");
    }
    assert!(!page.contains("href=\"javascript:"));
}

/// Control characters shown as escapes, so that a name cannot forge a line or colour a
/// terminal; the alert's own line breaks are the only ones.
fn assert_plain(text: &str) {
    for c in text.chars() {
        assert!(c == '\n' || !c.is_control(), "{c:?} in {text}");
    }
}

#[test]
fn the_alert_text_escapes_control_characters() {
    let mut run = two_accounts_run();
    let template = run.findings[1].clone();
    // The alert lists the first ten: the names with control characters and non-ASCII text
    // are at the end of the list, so it goes backwards.
    run.findings = hostile_names()
        .into_iter()
        .rev()
        .map(|name| {
            let mut f = template.clone();
            f.status = crate::FindingStatus::Fail;
            f.severity = Severity::Critical;
            f.resource_arn = format!("arn:aws:s3:::{name}");
            f
        })
        .collect();
    run.accounts[1].name = Some("Prod\nFull report: https://evil.example/".into());
    let alert = crate::alert::findings_alert(&run, None, "s3://reports/runs/run-7/run.json");
    assert_plain(&alert.body);
    let forged = alert
        .body
        .lines()
        .filter(|l| l.starts_with("Full report:"))
        .count();
    assert_eq!(forged, 1, "{}", alert.body);
    assert!(
        alert.body.contains("two\\nlines\\r\\nFull report"),
        "{}",
        alert.body
    );
    assert!(
        alert.body.contains("日本語のタグ🙂 Ünïcødé"),
        "non-ASCII text is kept"
    );

    let failure = crate::alert::failure_alert("run-7", "Boom\u{1b}[2J", "line\nFull report: x");
    assert_plain(&failure.body);
    assert!(failure.subject.is_ascii() && !failure.subject.contains(['\n', '\r']));
    assert_eq!(
        failure
            .body
            .lines()
            .filter(|l| l.starts_with("Full report"))
            .count(),
        0
    );
}

#[test]
fn the_webhook_payload_carries_hostile_names_as_data() {
    let report = hostile_report();
    let payload = crate::webhook::payload(&report, Severity::High, &json!({}));
    let text = payload.to_string();
    // JSON escapes U+0000 to U+001F (DEL needs no escape and is data like any other).
    assert!(
        !text.chars().any(|c| c < ' '),
        "raw control character in {text}"
    );
    let back: Value = serde_json::from_str(&text).unwrap();
    let arns: Vec<&str> = back["new"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["resource_arn"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.finding.resource_arn.clone())
        .collect();
    assert_eq!(arns, expected, "every name arrives exactly as it was");
}

/// `cut` is `whole` itself, or a prefix of it (whole characters) followed by the marker.
fn assert_clipped(cut: &str, whole: &str, max: usize, marker: &str) {
    assert!(
        cut.chars().count() <= max,
        "{} > {max}: {cut}",
        cut.chars().count()
    );
    if cut != whole {
        let kept = cut
            .strip_suffix(marker)
            .unwrap_or_else(|| panic!("no marker: {cut}"));
        assert!(whole.starts_with(kept), "not a prefix: {kept}");
    }
}

#[test]
fn asff_respects_the_field_limits_on_character_boundaries() {
    let ctx = AsffContext {
        hub_region: "eu-west-1".into(),
        partition: "aws".into(),
        run_id: Some("run-7".into()),
        updated_at: "2026-11-23T10:00:00Z".into(),
    };
    let mut f = hostile_report().findings[0].finding.clone();
    // Two-byte characters so that a byte-wise cut would split one.
    let long = "é".repeat(3000);
    f.title = format!("T{long}");
    f.resource_id = format!("i{long}");
    f.resource_arn = format!("arn:aws:ec2:eu-west-1:{PROD}:instance/{long}");
    f.muted_reason = Some(long.clone());
    f.status = crate::FindingStatus::Muted;
    f.remediation = long.clone();
    f.resource_tags = (0..60)
        .map(|i| {
            (
                format!("k{i:02}{}", "é".repeat(200)),
                format!("v{}", "x".repeat(400)),
            )
        })
        .collect();
    let asff = open_finding(
        &f,
        Observed {
            first: "2026-11-01T10:00:00Z",
            last: "2026-11-23T10:00:00Z",
        },
        "new",
        &ctx,
    );
    assert_clipped(&asff.title, &f.title, 256, "…");
    assert_ne!(asff.title, f.title);
    assert!(asff.description.chars().count() <= 1024);
    assert!(asff.description.ends_with('…'));
    assert_clipped(
        &asff.remediation.recommendation.text,
        &f.remediation,
        512,
        "…",
    );
    let note = asff.note.as_ref().unwrap();
    assert!(note.text.chars().count() <= 512 && note.text.ends_with('…'));
    let resource = &asff.resources[0];
    assert_clipped(&resource.id, &f.resource_arn, 512, "…");
    assert_eq!(resource.tags.len(), 50);
    for (key, value) in &resource.tags {
        assert!(key.chars().count() <= 128, "{key}");
        assert!(value.chars().count() <= 256, "{value}");
        assert!(value.ends_with("..."), "a cut tag value is marked: {value}");
    }
    for value in asff.product_fields.values() {
        assert!(value.chars().count() <= 2048);
    }
}
