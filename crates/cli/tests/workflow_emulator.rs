//! The whole workflow, on the production definition: template.yaml deployed into the emulator,
//! state machines executed by its Step Functions engine, every Task served by the real function
//! binaries through the Lambda Runtime API, started and followed by `compliance run --wait`.
//! Ignored by a plain `cargo test`, which needs no Python; `make test` runs it (see emulator.rs).

#[path = "../../../tests/harness/emulator.rs"]
mod emulator;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use emulator::{Bridge, Deployment, Emulator, STACK_NAME};
use serde_json::{json, Value};

struct Workflow {
    emu: Emulator,
    bridge: Bridge,
    deployment: Deployment,
    dir: PathBuf,
}

fn binaries_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_compliance"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where this test's AWS requests are logged, from the workflow's start (after deployment and
/// seeding): `$COMPLIANCE_REQUEST_LOG_DIR` (`make test` sets it), else the target directory's
/// tmp/request-log, one file per test. tests/template/least_privilege.py compares each
/// function's calls with what template.yaml and member-role.yaml grant.
fn request_log() -> PathBuf {
    let dir = std::env::var_os("COMPLIANCE_REQUEST_LOG_DIR").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).join("request-log"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    // libtest names each test's thread after the test.
    let test = std::thread::current()
        .name()
        .unwrap_or("workflow")
        .replace("::", "-");
    let path = dir.join(format!("{test}.jsonl"));
    // The emulator appends: a previous run's lines must not count.
    if path.exists() {
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    path
}

impl Workflow {
    fn start() -> Workflow {
        Workflow::start_with(|emu, dir| {
            emu.seed(1, dir);
        })
    }

    /// Deployed, with the estate `seed` makes.
    fn start_with(seed: impl FnOnce(&Emulator, &Path)) -> Workflow {
        let dir = emulator::tempdir();
        let emu = Emulator::start();
        let deployment = Deployment::deploy(&emu, &binaries_dir());
        for (name, binary) in &deployment.functions {
            assert!(
                binary.exists(),
                "{name}: {} is not built (cargo test --workspace builds it)",
                binary.display()
            );
        }
        let bridge = Bridge::start(&emu, &deployment);
        seed(&emu, &dir);
        emu.log_requests(&request_log());
        Workflow {
            emu,
            bridge,
            deployment,
            dir,
        }
    }

    fn inspect(&self, args: &[&str]) -> Value {
        let out = self.emu.python_script("inspect_emulator.py", args);
        serde_json::from_str(out.trim()).unwrap_or(Value::String(out.trim().to_string()))
    }

    fn put_parameter(&self, name: &str, value: &str) {
        self.emu
            .python_script("put_parameter.py", &["--name", name, "--value", value]);
    }

    /// `compliance run --wait`; returns (exit code, what it printed, the execution's output).
    fn run(&self, run_id: &str) -> (i32, String, Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
            .args([
                "run",
                "--wait",
                "--timeout",
                "600",
                "--stack-name",
                STACK_NAME,
                "--run-id",
                run_id,
            ])
            .envs(self.emu.env())
            .output()
            .expect("compliance run");
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        let execution_arn = printed
            .lines()
            .find_map(|l| l.trim().strip_prefix("execution "))
            .unwrap_or_else(|| {
                panic!(
                    "no execution ARN in {printed}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .to_string();
        let history = self.inspect(&["execution", &execution_arn]);
        (out.status.code().unwrap_or(-1), printed, history)
    }

    /// `compliance ARGS --stack-name STACK`; asserts success, returns standard output.
    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_compliance"))
            .args(args)
            .args(["--stack-name", STACK_NAME])
            .envs(self.emu.env())
            .output()
            .expect("run compliance");
        assert!(
            out.status.success(),
            "compliance {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Security Hub's findings in the stack's region, by id.
    fn security_hub(&self) -> std::collections::BTreeMap<String, Value> {
        self.security_hub_of(None)
    }

    /// Security Hub's findings of `account` (a member's, read through its role), by id.
    fn security_hub_of(&self, account: Option<&str>) -> std::collections::BTreeMap<String, Value> {
        let mut args = vec!["securityhub-findings", "us-east-1"];
        args.extend(account);
        let all = self.inspect(&args);
        let all = all.as_array().unwrap();
        let by_id: std::collections::BTreeMap<String, Value> = all
            .iter()
            .map(|f| (f["Id"].as_str().unwrap().to_string(), f.clone()))
            .collect();
        assert_eq!(by_id.len(), all.len(), "duplicate Security Hub findings");
        by_id
    }

    /// The findings table, by finding id.
    fn findings_table(&self) -> std::collections::BTreeMap<String, Value> {
        let items = self.inspect(&["table-items", &self.deployment.output("FindingsTableName")]);
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["finding_id"].as_str().unwrap().to_string(), i.clone()))
            .collect()
    }

    fn report(&self, run_id: &str) -> Value {
        let bucket = self.deployment.output("ReportsBucketName");
        let keys = self.inspect(&["s3-keys", &bucket, "reports/"]);
        let key = keys
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|k| k.ends_with(&format!("/{run_id}/report.json")))
            .unwrap_or_else(|| panic!("no report.json for {run_id} in {keys}"))
            .to_string();
        for other in [
            "report.csv",
            "report.html",
            "report.ocsf.json",
            "findings.asff.json",
        ] {
            let other = key.replace("report.json", other);
            assert!(
                keys.as_array().unwrap().iter().any(|k| k == other.as_str()),
                "{other} missing: {keys}"
            );
        }
        // Both machine formats pass the schema checks written from the ASFF and OCSF references.
        for (file, format) in [("findings.asff.json", "asff"), ("report.ocsf.json", "ocsf")] {
            let body = self.emu.python_script(
                "s3_tool.py",
                &["get-object", &bucket, &key.replace("report.json", file)],
            );
            let path = self.dir.join(format!("{run_id}-{file}"));
            std::fs::write(&path, body).unwrap();
            let out = self.emu.python_script(
                "validate_findings.py",
                &[
                    "--format",
                    format,
                    "--require-unique-ids",
                    path.to_str().unwrap(),
                ],
            );
            assert!(!out.contains("finding["), "{file} of {run_id}: {out}");
        }
        let csv_key = key.replace("report.json", "report.csv");
        let csv = self
            .emu
            .python_script("s3_tool.py", &["get-object", &bucket, &csv_key]);
        assert!(
            csv.starts_with("id,rule_id,title,severity"),
            "CSV report: {}",
            &csv[..csv.len().min(200)]
        );
        serde_json::from_str(
            &self
                .emu
                .python_script("s3_tool.py", &["get-object", &bucket, &key]),
        )
        .unwrap()
    }
}

fn entered(history: &Value) -> BTreeSet<String> {
    history["states_entered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn count(history: &Value, event_type: &str) -> u64 {
    history["event_types"][event_type].as_u64().unwrap_or(0)
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn scheduled_run_alerts_remediates_and_closes_the_loop() {
    let wf = Workflow::start();
    let queue = wf.inspect(&["subscribe-queue", &wf.deployment.output("AlertsTopicArn")]);
    let queue = queue.as_str().unwrap().to_string();

    // Run 1: the seeded estate breaches the default thresholds; remediation is dry-run.
    let (code, printed, history) = wf.run("run-0001");
    assert_eq!(code, 0, "{printed}");
    let states = entered(&history);
    // The units run as the Distributed Map's child executions: their states are not in this
    // execution's history (as in AWS), the map run is.
    assert_eq!(count(&history, "MapRunSucceeded"), 1, "one map run");
    for state in [
        "Plan",
        "ScanEstate",
        "Aggregate",
        "Analyze",
        "Decide",
        "Respond",
        "Alert",
        "Remediate",
        "StoreReport",
    ] {
        assert!(states.contains(state), "{state} not entered: {states:?}");
    }
    let largest = history["largest_payload_bytes"].as_u64().unwrap();
    assert!(largest < 32 * 1024, "largest state payload {largest} bytes");
    assert!(printed.contains("decision: alert"), "{printed}");
    assert!(
        printed.contains("remediation (dry-run): 0 started"),
        "{printed}"
    );

    let messages = wf.inspect(&["receive", &queue]);
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 1, "one alert: {messages:?}");
    assert!(
        messages[0]["subject"]
            .as_str()
            .unwrap()
            .contains("critical"),
        "{}",
        messages[0]
    );
    assert_eq!(messages[0]["attributes"]["severity"], "CRITICAL");
    assert_eq!(messages[0]["attributes"]["account"], "123456789012");
    assert!(messages[0]["message"]
        .as_str()
        .unwrap()
        .contains("Full report: s3://"));

    let report = wf.report("run-0001");
    assert_eq!(report["run"]["complete"], true, "{}", report["errors"]);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["lifecycle"]["status"] == "new"));
    let first_ids: BTreeSet<String> = findings
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let hub = wf.security_hub();
    assert_eq!(
        hub.len(),
        first_ids.len(),
        "one Security Hub finding per finding"
    );
    assert!(hub
        .values()
        .all(|f| f["RecordState"] == "ACTIVE" && f["Compliance"]["Status"] == "FAILED"));
    assert!(hub.values().all(|f| f["ProductArn"]
        == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"));
    assert_eq!(hub.keys().cloned().collect::<BTreeSet<_>>(), first_ids);
    let table = wf.findings_table();
    assert_eq!(table.keys().cloned().collect::<BTreeSet<_>>(), first_ids);
    assert!(table
        .values()
        .all(|r| r["status"] == "new" && r["account_state"] == "123456789012#ACTIVE"));
    let history_items = wf.inspect(&["table-items", &wf.deployment.output("HistoryTableName")]);
    assert_eq!(history_items.as_array().unwrap().len(), 1);

    // Run 2: enforce the three runbooks; executions start and change the resources.
    wf.put_parameter(
        "/compliance/scanner/config/remediation",
        &json!({"mode": "enforce", "allowed_rules": ["s3_bucket_default_encryption", "rds_instance_public", "ec2_sg_open_ssh"],
                "max_executions_per_run": 20, "cooldown_minutes": 60})
        .to_string(),
    );
    let (code, printed, _) = wf.run("run-0002");
    assert_eq!(code, 0, "{printed}");
    let automations = wf.inspect(&["automations"]);
    let automations = automations.as_array().unwrap();
    assert!(!automations.is_empty(), "{printed}");
    assert!(
        automations
            .iter()
            .all(|a| a["AutomationExecutionStatus"] == "Success"),
        "{automations:?}"
    );
    let documents: BTreeSet<&str> = automations
        .iter()
        .map(|a| a["DocumentName"].as_str().unwrap())
        .collect();
    assert_eq!(
        documents,
        BTreeSet::from([
            "ComplianceScanner-RemediateOpenSecurityGroup",
            "ComplianceScanner-RemediatePublicRdsInstance",
            "ComplianceScanner-RemediateUnencryptedS3Bucket"
        ])
    );

    // Run 3: the remediated findings are reported resolved; nothing is started twice.
    let (code, printed, _) = wf.run("run-0003");
    assert_eq!(code, 0, "{printed}");
    let report = wf.report("run-0003");
    let resolved: BTreeSet<(String, String)> = report["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_string(),
                r["resource_arn"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        resolved.contains(&(
            "s3_bucket_default_encryption".into(),
            "arn:aws:s3:::cs-0-no-encryption".into()
        )),
        "{resolved:?}"
    );
    assert!(
        resolved
            .iter()
            .any(|(rule, arn)| rule == "rds_instance_public" && arn.contains(":us-east-1:")),
        "{resolved:?}"
    );
    assert!(
        resolved
            .iter()
            .any(|(rule, arn)| rule == "ec2_sg_open_ssh" && arn.contains(":us-east-1:")),
        "{resolved:?}"
    );
    assert_eq!(
        wf.inspect(&["automations"]).as_array().unwrap().len(),
        automations.len(),
        "no duplicate executions"
    );

    // Security Hub holds exactly one finding per (rule, resource): the fixed ones archived and
    // passed, the others still active and failed; the findings table agrees.
    let resolved_ids: BTreeSet<String> = report["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let open_ids: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| first_ids.contains(f["id"].as_str().unwrap()))
        .all(|f| f["lifecycle"]["status"] == "open"
            && f["lifecycle"]["first_seen_at"] != f["lifecycle"]["last_seen_at"]));
    assert!(
        printed.contains(&format!("{} resolved, 0 unconfirmed", resolved_ids.len()))
            && printed.contains(&format!(
                "security hub (us-east-1): {} imported, 0 refused",
                open_ids.len() + resolved_ids.len()
            )),
        "{printed}"
    );
    let hub = wf.security_hub();
    // Account-level settings that are regional (EBS encryption by default) name the account as
    // their resource: their resource is the account in that region.
    let per_resource: BTreeSet<(String, String, String)> = hub
        .values()
        .map(|f| {
            let resource = &f["Resources"][0];
            let text = |v: &Value| v.as_str().unwrap().to_string();
            (
                text(&f["GeneratorId"]),
                text(&resource["Id"]),
                text(&resource["Region"]),
            )
        })
        .collect();
    assert_eq!(
        per_resource.len(),
        hub.len(),
        "one finding per (rule, resource)"
    );
    assert_eq!(
        hub.keys().cloned().collect::<BTreeSet<_>>(),
        open_ids.union(&resolved_ids).cloned().collect()
    );
    for id in &resolved_ids {
        assert_eq!(
            (
                hub[id]["RecordState"].as_str(),
                hub[id]["Compliance"]["Status"].as_str()
            ),
            (Some("ARCHIVED"), Some("PASSED")),
            "{id}"
        );
    }
    for id in &open_ids {
        assert_eq!(
            (
                hub[id]["RecordState"].as_str(),
                hub[id]["Compliance"]["Status"].as_str()
            ),
            (Some("ACTIVE"), Some("FAILED")),
            "{id}"
        );
    }
    // Framework views of the stored run, and a legal hold on its objects.
    let cis = wf.cli(&[
        "report",
        "--framework",
        "cis",
        "--run",
        "run-0003",
        "--format",
        "json",
    ]);
    let cis: Value = serde_json::from_str(&cis).unwrap();
    let views = cis["frameworks"].as_array().unwrap();
    assert_eq!(views.len(), 3, "every CIS version: v5.0.0, v3.0.0, v1.4.0");
    let controls: Vec<&Value> = views
        .iter()
        .flat_map(|v| v["controls"].as_array().unwrap())
        .collect();
    assert!(controls
        .iter()
        .any(|c| c["status"] == "FAIL" && !c["failing_findings"].as_array().unwrap().is_empty()));
    assert!(controls.iter().any(|c| c["status"] == "PASS"));
    assert!(controls
        .iter()
        .any(|c| c["status"] == "NOT_AUTOMATED" && c["not_automated"]["reason"].is_string()));
    let latest = wf.cli(&["report", "--framework", "pci"]);
    assert!(
        latest.starts_with("run run-0003 "),
        "the latest run by default: {latest}"
    );
    assert!(
        latest.contains("PCI DSS") && latest.contains("FAIL"),
        "{latest}"
    );
    let bucket = wf.deployment.output("ReportsBucketName");
    let report_key = wf
        .inspect(&["s3-keys", &bucket, "reports/"])
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|k| k.ends_with("/run-0003/report.html"))
        .unwrap()
        .to_string();
    let held = wf.cli(&["report", "hold", "run-0003"]);
    assert!(
        held.lines().any(|l| l == format!("ON {report_key}")),
        "{held}"
    );
    assert!(
        held.lines().any(|l| l == "ON runs/run-0003/run.json"),
        "{held}"
    );
    let status = |key: &str| {
        wf.emu
            .python_script("s3_tool.py", &["legal-hold", &bucket, key])
            .trim()
            .to_string()
    };
    assert_eq!(status(&report_key), "ON");
    wf.cli(&["report", "release", "run-0003"]);
    assert_eq!(status(&report_key), "OFF");
    assert_eq!(status("runs/run-0003/run.json"), "OFF");

    let table = wf.findings_table();
    for id in &resolved_ids {
        assert_eq!(table[id]["status"], "resolved", "{id}");
        assert_eq!(table[id]["resolved_run_id"], "run-0003");
        assert!(table[id]["expires_at"].as_i64().unwrap() > 0);
    }
    for id in &open_ids {
        assert!(
            ["open", "new"].contains(&table[id]["status"].as_str().unwrap()),
            "{id}: {}",
            table[id]
        );
    }
    assert_eq!(
        wf.inspect(&["table-items", &wf.deployment.output("HistoryTableName")])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn failed_units_are_retried_or_caught_and_clean_runs_do_not_alert() {
    let wf = Workflow::start();
    let queue = wf.inspect(&["subscribe-queue", &wf.deployment.output("AlertsTopicArn")]);
    let queue = queue.as_str().unwrap().to_string();
    // Thresholds no estate can breach: the clean path.
    wf.put_parameter(
        "/compliance/scanner/config/thresholds",
        &json!({"max_critical": -1, "max_high": -1, "max_medium": -1, "max_low": -1, "min_score": 0}).to_string(),
    );
    // One transient failure (retried) and one permanent failure (caught: a partial report).
    wf.bridge.inject_faults(&json!([
        {"function": "compliance-scanner-region-scan-dev", "error_type": "ComplianceScanner.TransientError", "count": 1,
         "match": {"region": "eu-west-1", "service": "ec2"}},
        {"function": "compliance-scanner-region-scan-dev", "error_type": "ComplianceScanner.AwsError", "count": 100,
         "match": {"region": "ap-southeast-1", "service": "rds"}}
    ]));
    // And a region whose EC2 API denies us: recorded errors, the rest scanned.
    wf.emu.deny(&["ec2:ap-southeast-1"]);
    // Security Hub refuses one rule's findings twice (the retries get them in) and another's
    // for good (reported, and their records still written).
    wf.emu.reject_security_hub(&json!([
        {"generator_id": "rds_instance_iam_authentication", "times": 2},
        {"generator_id": "ec2_instance_imdsv2", "times": 100}
    ]));
    // The webhook integration: a local receiver, its key a SecureString.
    let receiver = emulator::HttpReceiver::start();
    let secret = "wh-key-7f3a9c1e-never-logged";
    wf.emu.python_script(
        "put_parameter.py",
        &[
            "--name",
            "/compliance/scanner/secrets/security-hub-api-key",
            "--value",
            secret,
            "--type",
            "SecureString",
        ],
    );
    wf.put_parameter(
        "/compliance/scanner/config/webhook",
        &json!({"url": receiver.url, "min_severity": "LOW"}).to_string(),
    );
    let (code, printed, history) = wf.run("run-faults");
    assert_eq!(code, 0, "a failed unit must not fail the run: {printed}");
    assert!(
        printed.contains("PARTIAL: 1 scan units failed"),
        "{printed}"
    );
    assert!(
        printed.contains("ap-southeast-1 rds: ComplianceScanner.AwsError"),
        "{printed}"
    );
    assert!(printed.contains("decision: clean"), "{printed}");
    // The units' retries and catches happen in the map's child executions; their outcome is
    // in the map's result files, read back by aggregate: the permanent failure was caught
    // (its error is the function's, not a States.* one), the transient one retried (its
    // findings are in the report, below).
    let states = entered(&history);
    assert!(
        !states.contains("Alert") && !states.contains("Remediate"),
        "{states:?}"
    );
    assert_eq!(count(&history, "MapRunSucceeded"), 1, "{history}");
    // The same run id again (a repeated on-demand start, a replayed schedule): refused by name,
    // never a second execution writing the same run's objects.
    let again = Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(["run", "--stack-name", STACK_NAME, "--run-id", "run-faults"])
        .envs(wf.emu.env())
        .output()
        .expect("compliance run");
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "{refused}");
    assert!(
        refused.contains("run run-faults already has an execution"),
        "{refused}"
    );
    let report = wf.report("run-faults");
    assert_eq!(report["run"]["complete"], false);
    let hub = &history["output"]["report"]["security_hub"];
    assert_eq!(hub["status"], "exported", "{hub}");
    let failed: BTreeSet<&str> = hub["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let rule_of = |rule: &str| -> BTreeSet<&str> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == rule)
            .map(|f| f["id"].as_str().unwrap())
            .collect()
    };
    assert!(!failed.is_empty());
    assert_eq!(
        failed,
        rule_of("ec2_instance_imdsv2"),
        "the refused findings are reported"
    );
    let imported = wf.security_hub();
    assert!(
        rule_of("rds_instance_iam_authentication")
            .iter()
            .all(|id| imported.contains_key(*id)),
        "retried into Security Hub"
    );
    assert!(failed.iter().all(|id| !imported.contains_key(*id)));
    let hooks = receiver.requests();
    assert_eq!(hooks.len(), 1, "one webhook delivery: {hooks:?}");
    assert!(
        hooks[0].request_line.starts_with("POST /hook "),
        "{:?}",
        hooks[0]
    );
    assert_eq!(
        hooks[0].header("authorization"),
        Some(format!("Bearer {secret}").as_str())
    );
    let payload: Value = serde_json::from_str(&hooks[0].body).unwrap();
    assert_eq!(payload["run_id"], "run-faults");
    // New, unmuted findings at LOW or above are listed; muted and informational ones are not.
    let listed = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["lifecycle"]["status"] == "new"
                && f["status"] == "FAIL"
                && f["severity"] != "INFORMATIONAL"
        })
        .count();
    assert!(listed > 0);
    assert_eq!(
        usize::try_from(payload["new"]["total"].as_u64().unwrap()).unwrap(),
        listed
    );
    assert!(payload["reports"]["keys"]["html"]
        .as_str()
        .unwrap()
        .ends_with("/run-faults/report.html"));
    let logs = std::fs::read_to_string(&wf.bridge.function_log).unwrap_or_default();
    assert!(
        logs.contains("report stored"),
        "the functions' logs are captured"
    );
    assert!(!logs.contains(secret), "the webhook key was logged");
    assert!(
        !report.to_string().contains(secret),
        "the webhook key is in the report"
    );
    assert_eq!(report["failed_units"][0]["region"], "ap-southeast-1");
    let denied: BTreeSet<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["region"] == "ap-southeast-1"
                && e["service"] == "ec2"
                && e["code"] == "UnauthorizedOperation"
        })
        .map(|e| e["api"].as_str().unwrap())
        .collect();
    // Every read of the EC2 collector, each recorded once: none stops the others.
    let every_ec2_read = BTreeSet::from([
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
    ]);
    assert_eq!(
        denied, every_ec2_read,
        "every EC2 call in the denied region is recorded"
    );
    // eu-west-1 ec2 succeeded on the retry: its findings are in the report.
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["region"] == "eu-west-1" && f["service"] == "ec2"));
    assert_eq!(
        wf.inspect(&["receive", &queue]).as_array().unwrap().len(),
        0,
        "clean runs send no alert"
    );
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn sample_events_run_against_the_deployed_functions_and_rules() {
    let wf = Workflow::start();
    let alerts = wf.inspect(&["subscribe-queue", &wf.deployment.output("AlertsTopicArn")]);
    let failures = wf.inspect(&["subscribe-queue", &wf.deployment.output("FailureTopicArn")]);
    let events = emulator::repo_root().join("events");
    let function = |name: &str| format!("compliance-scanner-{name}-dev");
    let invoke = |name: &str, file: &str| -> Value {
        let out = wf.inspect(&[
            "invoke",
            &wf.bridge.endpoint,
            &function(name),
            events.join(file).to_str().unwrap(),
        ]);
        assert!(out["error"].is_null(), "{file}: {out}");
        assert!(out["payload"].is_object(), "{file}: {out}");
        out["payload"].clone()
    };
    // The function samples form one run, in workflow order: a plan of two units.
    wf.put_parameter("/compliance/scanner/config/regions", "us-east-1");
    wf.put_parameter("/compliance/scanner/config/services", "ec2,rds");
    let plan = invoke("plan", "plan.json");
    assert_eq!(plan["unit_count"], 2, "{plan}");
    let scanned = invoke("region-scan", "region-scan.json");
    // What the scan map's ResultWriter leaves: region-scan's output and a caught rds failure.
    let aggregate: Value =
        serde_json::from_str(&std::fs::read_to_string(events.join("aggregate.json")).unwrap())
            .unwrap();
    let manifest_key = aggregate["manifest_key"].as_str().unwrap();
    let results_key = manifest_key.replace("manifest.json", "SUCCEEDED_0.json");
    let caught = json!({"run_id": "sample-run-0001", "account_id": emulator::ACCOUNT_ID,
        "region": "us-east-1", "service": "rds", "error": {"Error": "ComplianceScanner.AwsError",
        "Cause": "rds DescribeDBInstances failed: AccessDenied"}});
    let children = json!([
        {"Status": "SUCCEEDED", "Input": "{}", "Output": scanned.to_string()},
        {"Status": "SUCCEEDED", "Input": "{}", "Output": caught.to_string()},
    ]);
    let manifest = json!({"DestinationBucket": plan["bucket"], "MapRunArn": "arn:sample",
        "ResultFiles": {"SUCCEEDED": [{"Key": results_key, "Size": 1}], "FAILED": [], "PENDING": []}});
    for (key, body) in [
        (&results_key, &children),
        (&manifest_key.to_string(), &manifest),
    ] {
        wf.emu.python_script_with_input(
            "s3_tool.py",
            &["put-object", plan["bucket"].as_str().unwrap(), key],
            body.to_string().as_bytes(),
        );
    }
    for (name, file) in [
        ("aggregate", "aggregate.json"),
        ("analyze", "analyze.json"),
        ("alert", "alert.json"),
        ("alert", "alert-failure.json"),
        ("remediate", "remediate.json"),
        ("store-report", "store-report.json"),
    ] {
        invoke(name, file);
    }
    // The findings alert goes to the alerts topic, the failed-run alert to the operators' topic.
    let kinds = |queue: &Value| -> Vec<String> {
        wf.inspect(&["receive", queue.as_str().unwrap()])
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["attributes"]["kind"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    assert_eq!(kinds(&alerts), ["findings"]);
    assert_eq!(kinds(&failures), ["failure"]);
    let report = wf.report("sample-run-0001");
    assert_eq!(
        report["failed_units"][0]["service"], "rds",
        "the sample's caught unit is reported"
    );

    // The on-demand rule starts the state machine with trigger "on-demand".
    let state_machine = wf.deployment.output("StateMachineArn");
    assert_eq!(
        wf.inspect(&[
            "put-event",
            events.join("eventbridge-on-demand.json").to_str().unwrap()
        ]),
        json!(0)
    );
    let started = wf.inspect(&["executions", &state_machine]);
    let started = started.as_array().unwrap();
    assert_eq!(started.len(), 1, "{started:?}");
    assert!(
        started[0]["input"].as_str().unwrap().contains("on-demand"),
        "{started:?}"
    );

    // A raw scheduled event as execution input (a target without Input) still runs: trigger "manual".
    let out = wf.inspect(&[
        "start",
        &state_machine,
        "scheduled-sample",
        events.join("eventbridge-scheduled.json").to_str().unwrap(),
    ]);
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
    assert_eq!(out["output"]["trigger"], "manual", "{out}");
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn an_organization_is_scanned_account_by_account_with_the_unreachable_one_reported() {
    let manifest = std::cell::RefCell::new(None);
    let wf = Workflow::start_with(|emu, dir| {
        *manifest.borrow_mut() = Some(emu.seed_organization(1, dir));
    });
    let manifest = manifest.into_inner().unwrap();
    let unreachable = manifest.unreachable_account_id();
    let expected = manifest.expected_findings_by_account();
    assert_eq!(
        expected.len(),
        4,
        "the management account and three reachable members"
    );

    let (code, printed, history) = wf.run("org-run-1");
    assert_eq!(
        code, 0,
        "an unreachable account must not fail the run: {printed}"
    );
    assert_eq!(count(&history, "MapRunSucceeded"), 1, "{history}");
    let largest = history["largest_payload_bytes"].as_u64().unwrap();
    assert!(largest < 32 * 1024, "largest state payload {largest} bytes");
    let output = &history["output"];
    assert_eq!(output["plan"]["account_count"], 5, "{}", output["plan"]);

    let report = wf.report("org-run-1");
    assert_eq!(report["run"]["complete"], false);
    // The unreachable account: every one of its units failed, each naming account, role, call.
    let failed = report["failed_units"].as_array().unwrap();
    assert!(!failed.is_empty());
    for unit in failed {
        assert_eq!(unit["account_id"], unreachable.as_str(), "{unit}");
        let cause = unit["cause"].as_str().unwrap();
        assert!(
            cause.contains(&unreachable)
                && cause.contains("ComplianceScannerMemberRole")
                && cause.contains("AssumeRole")
                && cause.contains("AccessDenied"),
            "{cause}"
        );
    }
    // Every reachable account's findings, exactly, and nothing filed under another account.
    let mut found: BTreeMap<String, BTreeSet<emulator::FindingKey>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let account = f["account_id"].as_str().unwrap().to_string();
        let arn = f["resource_arn"].as_str().unwrap();
        found.entry(account).or_default().insert((
            f["rule_id"].as_str().unwrap().to_string(),
            arn.to_string(),
            f["region"].as_str().unwrap().to_string(),
        ));
    }
    // The stack's own buckets (reports, access logs) and functions are the management
    // account's too; the estate's manifest does not know them.
    let stack_bucket = |key: &emulator::FindingKey| {
        key.1.starts_with("arn:aws:s3:::compliance-scanner-")
            || (key.1.starts_with("arn:aws:lambda:")
                && key.1.contains(":function:compliance-scanner-"))
    };
    for (account, want) in &expected {
        assert!(!want.iter().any(stack_bucket));
        let mut got = found.remove(account).unwrap_or_default();
        got.retain(|k| !stack_bucket(k));
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "account {account}: missing {missing:?}, unexpected {extra:?}"
        );
    }
    assert!(
        found.is_empty(),
        "findings of unplanned accounts: {found:?}"
    );
    // The per-account view names every account, the unreachable one included.
    let names = manifest.account_names();
    let accounts = report["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 5, "{accounts:?}");
    for a in accounts {
        let id = a["account_id"].as_str().unwrap();
        assert_eq!(a["name"].as_str(), names.get(id).map(String::as_str), "{a}");
    }
    // Security Hub holds each account's findings under its own AwsAccountId, imported there.
    for account in expected.keys() {
        let own = account == emulator::ACCOUNT_ID;
        let hub = wf.security_hub_of((!own).then_some(account.as_str()));
        let ids: BTreeSet<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["account_id"] == account.as_str())
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            hub.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            ids,
            "account {account}"
        );
        assert!(hub.values().all(|f| f["AwsAccountId"] == account.as_str()
            && f["ProductArn"]
                == format!("arn:aws:securityhub:us-east-1:{account}:product/{account}/default")));
    }

    // Run 2: remediation enforced across the organization. The member role stack (with its
    // runbooks) is rolled out to every reachable member first, as a StackSet would.
    let manifest_path = wf.dir.join("manifest-1.json");
    wf.emu.python_script(
        "deploy_member_roles.py",
        &[
            "--endpoint",
            &wf.emu.endpoint,
            "--manifest",
            manifest_path.to_str().unwrap(),
        ],
    );
    let rules = [
        "s3_bucket_default_encryption",
        "ec2_sg_open_ssh",
        "rds_instance_public",
    ];
    wf.put_parameter(
        "/compliance/scanner/config/remediation",
        &json!({"mode": "enforce", "allowed_rules": rules, "max_executions_per_run": 100,
                "cooldown_minutes": 60})
        .to_string(),
    );
    let (code, printed, _) = wf.run("org-run-2");
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains(" 0 failed"), "{printed}");
    // Run 3: every member violation of those rules was fixed in its own account.
    let (code, printed, _) = wf.run("org-run-3");
    assert_eq!(code, 0, "{printed}");
    let report = wf.report("org-run-3");
    let resolved: BTreeSet<(String, String)> = report["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_string(),
                r["resource_arn"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let fixed_in_members: BTreeSet<(String, String)> = expected
        .iter()
        .filter(|(account, _)| account.as_str() != emulator::ACCOUNT_ID)
        .flat_map(|(_, keys)| keys.iter())
        .filter(|(rule, _, _)| rules.contains(&rule.as_str()))
        .map(|(rule, arn, _)| (rule.clone(), arn.clone()))
        .collect();
    assert!(
        !fixed_in_members.is_empty(),
        "the members violate the rules"
    );
    let missing: Vec<_> = fixed_in_members.difference(&resolved).collect();
    assert!(
        missing.is_empty(),
        "not remediated in the members: {missing:?}"
    );
}
