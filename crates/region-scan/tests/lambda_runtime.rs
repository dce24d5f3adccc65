//! The region-scan binary run through the Lambda Runtime API (the harness's bridge), against
//! the emulator: it stores its findings in S3 and returns only the small summary.
//! Ignored by a plain `cargo test`, which needs no Python; `make test` runs it (see emulator.rs).

#[path = "../../../tests/harness/emulator.rs"]
mod emulator;

use std::process::{Command, Output};

use emulator::{repo_root, Emulator};
use serde_json::{json, Value};

const REPORTS_BUCKET: &str = "compliance-reports-test";

fn invoke(emu: &Emulator, event: &Value, with_bucket: bool) -> (Output, Value) {
    // Tests run in parallel threads of one process: every invocation gets its own event file.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let event_file =
        std::env::temp_dir().join(format!("region-scan-event-{}-{n}.json", std::process::id()));
    std::fs::write(&event_file, event.to_string()).unwrap();
    let mut cmd = Command::new(emulator::python());
    cmd.arg(repo_root().join("tests/harness/lambda_bridge.py"))
        .args([
            "invoke",
            "--name",
            "region-scan",
            "--binary",
            env!("CARGO_BIN_EXE_region-scan"),
            "--event",
        ])
        .arg(&event_file)
        .envs(emu.env());
    if with_bucket {
        cmd.args(["--env", &format!("REPORTS_BUCKET={REPORTS_BUCKET}")]);
    }
    let out = cmd.output().expect("run the Lambda bridge");
    let body: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bridge printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, body)
}

fn object(emu: &Emulator, key: &str) -> Value {
    let text = emu.python_script("s3_tool.py", &["get-object", REPORTS_BUCKET, key]);
    serde_json::from_str(&text).expect("stored document is JSON")
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn region_scan_stores_findings_and_returns_a_small_summary() {
    let dir = emulator::tempdir();
    let emu = Emulator::start();
    emu.seed(1, &dir);
    emu.python_script("s3_tool.py", &["create-bucket", REPORTS_BUCKET]);

    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/region-scan.json")).unwrap(),
    )
    .unwrap();
    let (out, summary) = invoke(&emu, &sample, true);
    assert!(
        out.status.success(),
        "{summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Vec<&str> = summary
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "account_id",
            "error_count",
            "errors",
            "findings_by_severity",
            "findings_key",
            "region",
            "resources_scanned",
            "run_id",
            "service"
        ]
    );
    assert_eq!(
        summary["findings_key"],
        "runs/sample-run-0001/scans/123456789012/us-east-1/ec2.json"
    );
    assert_eq!(summary["error_count"], 0);
    assert!(
        summary.to_string().len() < 1024,
        "the summary stays small: {summary}"
    );

    let document = object(&emu, summary["findings_key"].as_str().unwrap());
    let findings = document["findings"].as_array().unwrap();
    let by_severity = &summary["findings_by_severity"];
    let total: u64 = ["critical", "high", "medium", "low", "informational"]
        .iter()
        .map(|s| by_severity[s].as_u64().unwrap())
        .sum();
    assert_eq!(findings.len() as u64, total);
    assert!(total > 0);
    assert!(findings
        .iter()
        .all(|f| f["region"] == "us-east-1" && f["account_id"] == emulator::ACCOUNT_ID));
    assert!(!document["inventory"]["security_groups"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        summary["resources_scanned"],
        document["summary"]["resources_scanned"]
    );

    // S3 is global: one invocation reads every bucket, each in its own region.
    let (out, s3_summary) = invoke(
        &emu,
        &json!({"run_id": "sample-run-0001", "region": "us-east-1", "service": "s3"}),
        true,
    );
    assert!(out.status.success(), "{s3_summary}");
    let s3_doc = object(
        &emu,
        "runs/sample-run-0001/scans/123456789012/us-east-1/s3.json",
    );
    let regions: std::collections::BTreeSet<&str> = s3_doc["inventory"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["region"].as_str().unwrap())
        .collect();
    assert!(
        regions.contains("eu-west-1")
            && regions.contains("ap-southeast-1")
            && regions.contains("us-east-1"),
        "{regions:?}"
    );
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn malformed_events_get_an_error_naming_the_field() {
    let emu = Emulator::start();
    for (event, field) in [
        (json!({"region": "us-east-1", "service": "ec2"}), "run_id"),
        (
            json!({"run_id": "r1", "region": 42, "service": "ec2"}),
            "region",
        ),
        (
            json!({"run_id": "r1", "region": "us-east-1", "service": "sqs"}),
            "service",
        ),
        (json!("just a string"), "expected an object"),
    ] {
        let (out, error) = invoke(&emu, &event, true);
        assert_eq!(
            out.status.code(),
            Some(1),
            "function error exit code for {event}: {error}"
        );
        assert_eq!(
            error["errorType"], "ComplianceScanner.InvalidInput",
            "{error}"
        );
        assert!(
            error["errorMessage"].as_str().unwrap().contains(field),
            "{error}"
        );
    }
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn a_missing_bucket_variable_fails_at_init_with_its_name() {
    let emu = Emulator::start();
    let (out, error) = invoke(
        &emu,
        &json!({"run_id": "r1", "region": "us-east-1", "service": "ec2"}),
        false,
    );
    assert!(!out.status.success());
    let text = format!("{error}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("REPORTS_BUCKET"), "{text}");
}

/// The document without the times of the invocation that wrote it (`*_at` fields).
fn without_times(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.ends_with("_at"))
                .map(|(k, v)| (k.clone(), without_times(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_times).collect()),
        other => other.clone(),
    }
}

#[test]
#[ignore = "needs the AWS emulator (Python, `make venv`): `make test` runs it"]
fn a_redelivered_unit_writes_the_same_document_under_the_same_key() {
    // Lambda and the map's Retry deliver at least once: a second invocation of the same unit
    // overwrites its one document with the same content and answers the same summary.
    let dir = emulator::tempdir();
    let emu = Emulator::start();
    emu.seed(1, &dir);
    emu.python_script("s3_tool.py", &["create-bucket", REPORTS_BUCKET]);
    let event = json!({"run_id": "redelivered-1", "region": "eu-west-1", "service": "ec2"});

    let (first_out, first) = invoke(&emu, &event, true);
    assert!(first_out.status.success(), "{first}");
    let key = first["findings_key"].as_str().unwrap().to_string();
    let first_document = object(&emu, &key);
    let (second_out, second) = invoke(&emu, &event, true);
    assert!(second_out.status.success(), "{second}");

    assert_eq!(first, second, "the same summary, the same key");
    assert_eq!(
        without_times(&first_document),
        without_times(&object(&emu, &key)),
        "the same document apart from when it was written"
    );
    let listed = emu.python_script(
        "s3_tool.py",
        &["list-keys", REPORTS_BUCKET, "runs/redelivered-1/"],
    );
    assert_eq!(listed.trim(), key, "one document for the unit");
}
