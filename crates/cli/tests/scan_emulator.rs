//! `compliance scan` end to end against the emulator: a seeded, deliberately misconfigured
//! estate in three regions must yield exactly the expected findings, no more and no fewer.
//! An organization scan must give each account exactly its own findings and report the
//! account whose role cannot be assumed. Ignored by a plain `cargo test`, which needs no
//! Python; `make test` runs it (see emulator.rs).

#[path = "../../../tests/harness/emulator.rs"]
mod emulator;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use emulator::{tempdir, Emulator, FindingKey as Key, ACCOUNT_ID};
use serde_json::Value;

fn scan(emu: &Emulator, dir: &Path, extra: &[&str]) -> (Output, Value) {
    let report_path = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(["scan", "--format", "json", "--output"])
        .arg(&report_path)
        .args(extra)
        .envs(emu.env())
        .output()
        .expect("run compliance scan");
    let report = std::fs::read_to_string(&report_path).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, serde_json::from_str(&report).expect("report is JSON"))
}

fn found(report: &Value) -> BTreeSet<Key> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource_arn"].as_str().unwrap().to_string(),
                f["region"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn diff(found: &BTreeSet<Key>, want: &BTreeSet<Key>) -> String {
    let extra: Vec<_> = found.difference(want).collect();
    let missing: Vec<_> = want.difference(found).collect();
    format!("unexpected findings: {extra:#?}\nmissing findings: {missing:#?}")
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn scan_finds_exactly_the_seeded_violations() {
    let dir = tempdir();
    let emu = Emulator::start();
    let manifest = emu.seed(1, &dir);

    let (out, report) = scan(&emu, &dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        report["errors"],
        Value::Array(vec![]),
        "scan errors; stderr: {stderr}"
    );
    assert_eq!(report["run"]["complete"], true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "exit code without --fail-on; stderr: {stderr}"
    );
    // The estate file's expectations for what was seeded (tests/estate/estate.json).
    let want = manifest.expected_findings();
    let got = found(&report);
    assert!(got == want, "{}", diff(&got, &want));

    // The same scan as ASFF and OCSF: every finding passes the schema checks written from the
    // ASFF and OCSF references, one per finding with unique ids; the HTML page shows the score.
    for format in ["asff", "ocsf", "html"] {
        let path = dir.join(format!("scan.{format}"));
        let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
            .args(["scan", "--format", format, "--output"])
            .arg(&path)
            .envs(emu.env())
            .output()
            .expect("run compliance scan");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let body = std::fs::read_to_string(&path).unwrap();
        if format == "html" {
            let score = format!(
                "{:.1}",
                report["summary"]["compliance_score"].as_f64().unwrap()
            );
            assert!(
                body.contains(&score),
                "the HTML report shows the score {score}"
            );
            continue;
        }
        let events: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            events.as_array().unwrap().len(),
            want.len(),
            "{format}: one per finding"
        );
        let checked = emu.python_script(
            "validate_findings.py",
            &[
                "--format",
                format,
                "--require-unique-ids",
                path.to_str().unwrap(),
            ],
        );
        assert!(!checked.contains("finding["), "{format}: {checked}");
    }

    // Every finding carries the contract's fields; ids are unique and stable.
    let findings = report["findings"].as_array().unwrap();
    let ids: BTreeSet<_> = findings
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), findings.len(), "finding ids are unique");
    for f in findings {
        for field in [
            "id",
            "rule_id",
            "title",
            "severity",
            "status",
            "resource_arn",
            "resource_type",
            "region",
            "account_id",
            "compliance",
        ] {
            assert!(!f[field].is_null(), "{field} missing in {f}");
        }
        assert_eq!(f["status"], "FAIL");
        assert_eq!(f["account_id"], ACCOUNT_ID);
    }
    let summary = &report["summary"];
    let evaluated = summary["checks_evaluated"].as_u64().unwrap();
    let passed = summary["checks_passed"].as_u64().unwrap();
    assert_eq!(evaluated - passed, findings.len() as u64);
    assert!(passed > 0);

    // A re-run gives the same ids; --fail-on turns findings into exit code 3.
    let (out, again) = scan(&emu, &dir, &["--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(3));
    let again_ids: BTreeSet<_> = again["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(again_ids, ids, "finding ids are stable across runs");

    // Turning on the account-level Block Public Access removes that finding, and also the
    // public ACL and public policy findings: IgnorePublicAcls and RestrictPublicBuckets at the
    // account level neutralise them. Nothing else changes.
    emu.python_script("fix_account_pab.py", &[]);
    let (_, fixed) = scan(&emu, &dir, &["--services", "s3"]);
    let neutralised = [
        "s3_account_public_access_block",
        "s3_bucket_public_acl",
        "s3_bucket_public_policy",
    ];
    let s3_want: BTreeSet<Key> = want
        .iter()
        .filter(|(rule, arn, _)| {
            (rule.starts_with("s3_") || arn.starts_with("arn:aws:s3:::"))
                && !neutralised.contains(&rule.as_str())
        })
        .cloned()
        .collect();
    let got = found(&fixed);
    assert!(got == s3_want, "{}", diff(&got, &s3_want));
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn a_denied_region_and_service_are_recorded_and_the_rest_is_scanned() {
    let dir = tempdir();
    let emu = Emulator::start();
    let manifest = emu.seed(1, &dir);
    emu.deny(&["ec2:ap-southeast-1", "s3:eu-west-1"]);
    let (out, report) = scan(&emu, &dir, &[]);
    assert_eq!(out.status.code(), Some(4), "incomplete scan exit code");
    assert_eq!(report["run"]["complete"], false);

    // Every EC2 call in ap-southeast-1 and every call to an eu-west-1 bucket is a recorded error.
    let errors = report["errors"].as_array().unwrap();
    let apis = |region: &str, service: &str| -> BTreeSet<String> {
        errors
            .iter()
            .filter(|e| e["region"] == region && e["service"] == service)
            .map(|e| e["api"].as_str().unwrap().to_string())
            .collect()
    };
    let ec2_apis = [
        "DescribeFlowLogs",
        "DescribeInstances",
        "DescribeLaunchTemplateVersions",
        "DescribeNetworkAcls",
        "DescribeNetworkInterfaces",
        "DescribeSecurityGroups",
        "DescribeSnapshots",
        "DescribeSubnets",
        "DescribeVolumes",
        "DescribeVpcBlockPublicAccessOptions",
        "DescribeVpcEndpoints",
        "DescribeVpcs",
        "GetEbsEncryptionByDefault",
        "GetSnapshotBlockPublicAccessState",
    ];
    assert_eq!(
        apis("ap-southeast-1", "ec2"),
        ec2_apis
            .iter()
            .map(std::string::ToString::to_string)
            .collect()
    );
    assert!(errors
        .iter()
        .filter(|e| e["service"] == "ec2")
        .all(|e| e["code"] == "UnauthorizedOperation"));
    let eu_buckets: BTreeSet<String> = manifest.raw["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "bucket" && r["region"] == "eu-west-1")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    // S3 Control signs as `s3` too: the region's access point listing is denied as well.
    let denied_buckets: BTreeSet<String> = errors
        .iter()
        .filter(|e| e["service"] == "s3" && e["api"] != "ListAccessPoints")
        .map(|e| e["resource"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(denied_buckets, eu_buckets);
    assert!(apis("eu-west-1", "s3").contains("ListAccessPoints"));
    assert_eq!(
        apis("eu-west-1", "s3").len(),
        12,
        "each bucket API is named: {:?}",
        apis("eu-west-1", "s3")
    );

    // Everything else is scanned as usual; nothing about the unreadable parts is guessed.
    let want: BTreeSet<Key> = manifest
        .expected_findings()
        .into_iter()
        .filter(|(rule, arn, region)| {
            let ec2_in_denied_region =
                region == "ap-southeast-1" && (rule.starts_with("ec2_") || arn.contains(":ec2:"));
            let eu_bucket = (arn.starts_with("arn:aws:s3:::")
                || arn.starts_with("arn:aws:s3:eu-west-1:"))
                && region == "eu-west-1";
            !ec2_in_denied_region && !eu_bucket
        })
        .collect();
    let got = found(&report);
    assert!(got == want, "{}", diff(&got, &want));
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn mutelist_marks_findings_muted_and_keeps_them() {
    let dir = tempdir();
    let emu = Emulator::start();
    let manifest = emu.seed(1, &dir);
    let ssh_group = manifest.arn("sg-ssh-open-v4#0", "eu-west-1");
    let mutelist = serde_json::json!({"entries": [
        {"rule_id": "ec2_sg_open_ssh", "resource": ssh_group, "reason": "bastion, reviewed by secops"},
        {"rule_id": "rds_*", "tags": {"Name": "db-insecure*"}, "regions": ["ap-southeast-1"], "reason": "sandbox database"}
    ]});
    emu.python_script(
        "put_parameter.py",
        &[
            "--name",
            "/compliance/scanner/config/mutelist",
            "--value",
            &mutelist.to_string(),
        ],
    );
    let (out, report) = scan(
        &emu,
        &dir,
        &[
            "--regions",
            "eu-west-1,ap-southeast-1",
            "--services",
            "ec2,rds",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = report["findings"].as_array().unwrap();
    let muted: Vec<_> = findings.iter().filter(|f| f["status"] == "MUTED").collect();
    // Every RDS check the sandbox database fails (eight when this test was written).
    let db = manifest.arn("db-insecure#0", "ap-southeast-1");
    let db_checks = manifest
        .expected_findings()
        .iter()
        .filter(|(rule, arn, _)| *arn == db && rule.starts_with("rds_"))
        .count();
    assert!(db_checks >= 8, "{db_checks}");
    assert_eq!(
        muted.len(),
        1 + db_checks,
        "one SSH group and the RDS checks of the sandbox database: {muted:#?}"
    );
    assert!(muted
        .iter()
        .any(|f| f["resource_arn"] == ssh_group
            && f["muted_reason"] == "bastion, reviewed by secops"));
    assert!(muted.iter().filter(|f| f["resource_arn"] == db).count() == db_checks);
    // The same database in us-east-1 is not muted (region-limited entry) and was not scanned here.
    assert_eq!(report["summary"]["muted_findings"], 1 + db_checks as u64);
    // Muted findings do not count as unmuted severities.
    let critical = report["summary"]["findings_by_severity"]["critical"]
        .as_u64()
        .unwrap();
    let unmuted_critical = findings
        .iter()
        .filter(|f| f["status"] == "FAIL" && f["severity"] == "CRITICAL")
        .count() as u64;
    assert_eq!(critical, unmuted_critical);
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn a_bad_parameter_is_named_and_nothing_is_scanned() {
    let dir = tempdir();
    let emu = Emulator::start();
    emu.python_script(
        "put_parameter.py",
        &[
            "--name",
            "/compliance/scanner/config/regions",
            "--value",
            "us-east-1,Atlantis",
        ],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(["scan", "--output"])
        .arg(dir.join("never.json"))
        .envs(emu.env())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/compliance/scanner/config/regions") && stderr.contains("Atlantis"),
        "{stderr}"
    );
    assert!(!dir.join("never.json").exists());
}

/// Findings by account id, as (rule id, resource ARN, region).
fn found_by_account(report: &Value) -> BTreeMap<String, BTreeSet<Key>> {
    let mut by_account: BTreeMap<String, BTreeSet<Key>> = BTreeMap::new();
    for f in report["findings"].as_array().expect("findings array") {
        by_account
            .entry(f["account_id"].as_str().expect("account_id").to_string())
            .or_default()
            .insert((
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource_arn"].as_str().unwrap().to_string(),
                f["region"].as_str().unwrap().to_string(),
            ));
    }
    by_account
}

/// Each account's findings are exactly its own: the expected set of the accounts in `want`,
/// nothing of any other account, and no resource ARN naming another account.
fn assert_findings_by_account(report: &Value, want: &BTreeMap<String, BTreeSet<Key>>) {
    let got = found_by_account(report);
    for account in got.keys() {
        assert!(
            want.contains_key(account),
            "findings of account {account}, which should have none: {:#?}",
            got[account]
        );
    }
    for (account, expected) in want {
        let found = got.get(account).cloned().unwrap_or_default();
        assert!(
            &found == expected,
            "account {account}: {}",
            diff(&found, expected)
        );
    }
    for f in report["findings"].as_array().unwrap() {
        let arn = f["resource_arn"].as_str().unwrap();
        // `arn:partition:service:region:account:...`, or `AWS::::Account:<id>` for account
        // settings; bucket ARNs name no account (their names are checked above).
        let arn_account = match arn.strip_prefix("AWS::::Account:") {
            Some(account) => account,
            None => arn.split(':').nth(4).unwrap_or_default(),
        };
        assert!(
            arn_account.is_empty() || arn_account == f["account_id"],
            "finding of account {} about {arn}",
            f["account_id"]
        );
    }
}

/// Role assumptions the scan made (the request counter of `--stats`).
fn assume_role_requests(stats: &Value) -> u64 {
    stats["requests_by_operation"]
        .as_object()
        .expect("requests by operation")
        .iter()
        .filter(|(operation, _)| operation.ends_with(":AssumeRole"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

/// Units of one account: every regional service in each region, S3 once.
fn units_per_account(report: &Value) -> usize {
    let regions = report["run"]["regions"].as_array().unwrap().len();
    report["run"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let service: compliance_core::Service = s.as_str().unwrap().parse().unwrap();
            // Global services (S3, CloudTrail, IAM) are one unit per account.
            if service.is_global() {
                1
            } else {
                regions
            }
        })
        .sum()
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn an_organization_scan_reports_each_account_apart_and_the_unreachable_one_as_errors() {
    let dir = tempdir();
    let emu = Emulator::start();
    let manifest = emu.seed_organization(1, &dir);
    let unreachable = manifest.unreachable_account_id();
    let unreachable_role = manifest
        .accounts()
        .into_iter()
        .find(|a| a.id == unreachable)
        .and_then(|a| a.role)
        .expect("the unreachable account's role");
    let members = manifest.accounts().iter().filter(|a| !a.management).count();
    assert!(
        members >= 4,
        "three members with estates and one unreachable"
    );

    let stats_path = dir.join("stats.json");
    let stats_arg = stats_path.to_str().unwrap();
    let (out, report) = scan(&emu, &dir, &["--organization", "--stats", stats_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "an unreachable account leaves the scan incomplete; stderr: {stderr}"
    );
    assert_eq!(report["run"]["complete"], false);
    assert_eq!(
        report["run"]["account_id"], ACCOUNT_ID,
        "the caller's account"
    );

    // Every reachable account's exact findings, under its own account id.
    let want = manifest.expected_findings_by_account();
    assert_eq!(want.len(), manifest.accounts().len() - 1);
    assert!(!want.contains_key(&unreachable));
    assert_findings_by_account(&report, &want);
    let ids: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), report["findings"].as_array().unwrap().len());

    // The unreachable account: one error per unit, each naming the account, the role and the
    // call; nothing else went wrong.
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), units_per_account(&report), "{errors:#?}");
    let mut units = BTreeSet::new();
    for e in errors {
        assert_eq!(e["account_id"], unreachable.as_str(), "{e}");
        assert_eq!(e["api"], "sts:AssumeRole", "{e}");
        assert_eq!(e["code"], "AccessDenied", "{e}");
        assert_eq!(e["resource"], unreachable_role.as_str(), "{e}");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains(&unreachable) && message.contains(&unreachable_role),
            "{message}"
        );
        units.insert((e["region"].to_string(), e["service"].to_string()));
    }
    assert_eq!(units.len(), errors.len(), "one error per unit");

    // One AssumeRole per member account, the unreachable one's refusal included.
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(&stats_path).unwrap()).expect("stats JSON");
    assert_eq!(assume_role_requests(&stats), members as u64, "{stats}");
    assert_eq!(stats["accounts"], members as u64 + 1);
    assert_eq!(stats["member_accounts"], members as u64);
    assert_eq!(stats["unreachable_accounts"], 1);

    // The table names each finding's account and counts the accounts.
    let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(["scan", "--organization", "--services", "s3"])
        .envs(emu.env())
        .output()
        .expect("run compliance scan");
    let table = String::from_utf8_lossy(&out.stdout);
    let header = table.lines().next().unwrap_or_default();
    assert!(header.starts_with("ACCOUNT "), "{table}");
    assert!(
        table.contains(&format!("{} accounts · ", members + 1)),
        "{table}"
    );
    let member = manifest.account_id("analytics-dev");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&member) && l.contains("s3_bucket_default_encryption")),
        "{table}"
    );
    assert!(
        table.contains(&format!("not scanned: {unreachable} ")),
        "{table}"
    );
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn listed_accounts_are_scanned_and_no_other() {
    let dir = tempdir();
    let emu = Emulator::start();
    let manifest = emu.seed_organization(1, &dir);
    let want_all = manifest.expected_findings_by_account();
    let listed: Vec<String> = ["payments-prod", "analytics-dev"]
        .into_iter()
        .map(|name| manifest.account_id(name))
        .collect();

    let stats_path = dir.join("stats.json");
    let (out, report) = scan(
        &emu,
        &dir,
        &[
            "--accounts",
            &listed.join(","),
            "--stats",
            stats_path.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(report["errors"], Value::Array(vec![]));
    let want: BTreeMap<String, BTreeSet<Key>> = want_all
        .iter()
        .filter(|(id, _)| listed.contains(id))
        .map(|(id, f)| (id.clone(), f.clone()))
        .collect();
    assert_eq!(want.len(), 2);
    assert!(
        want.values().all(|f| !f.is_empty()),
        "both listed accounts have findings to find"
    );
    assert_findings_by_account(&report, &want);
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(&stats_path).unwrap()).expect("stats JSON");
    assert_eq!(assume_role_requests(&stats), 2, "{stats}");

    // Without --organization or --accounts the caller's account alone is scanned, although
    // the accounts parameter names the organization: the flags decide.
    let (out, own) = scan(&emu, &dir, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want_own = manifest.expected_findings();
    let got = found(&own);
    assert!(got == want_own, "{}", diff(&got, &want_own));
    assert!(own["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["account_id"] == ACCOUNT_ID));

    // Invalid ids are named, and nothing is scanned.
    let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(["scan", "--accounts", &format!("{},12345,abc", listed[0])])
        .arg("--output")
        .arg(dir.join("never.json"))
        .envs(emu.env())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--accounts: `12345`, `abc` are not 12-digit AWS account ids"),
        "{stderr}"
    );
    assert!(!dir.join("never.json").exists());
}
