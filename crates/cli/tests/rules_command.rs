//! `compliance rules` run as a binary: the JSON shape, a framework view, the CSV header and the
//! errors for an unknown framework or format (no AWS, no emulator).

use std::process::{Command, Output};

use serde_json::Value;

fn compliance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compliance"))
        .args(args)
        .output()
        .expect("the compliance binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&stdout(&compliance(args))).expect("JSON on stdout")
}

#[test]
fn json_lists_every_rule_with_parameters_runbook_and_controls() {
    let doc = json(&["rules", "--format", "json"]);
    assert_eq!(doc["schema_version"], 1);
    let rules = doc["rules"].as_array().expect("rules[]");
    assert!(rules.len() >= 28, "{} rules", rules.len());
    for rule in rules {
        for key in ["id", "title", "severity", "remediation", "remediation_url"] {
            assert!(rule[key].is_string(), "{key}: {rule}");
        }
        for key in ["service", "resource_type", "runbook"] {
            assert!(
                rule[key].is_string() || rule[key].is_null(),
                "{key}: {rule}"
            );
        }
        assert!(rule["parameters"].is_array(), "{rule}");
        let controls = rule["controls"].as_object().expect("controls");
        let keys: Vec<&str> = controls.keys().map(String::as_str).collect();
        for key in [
            "aws_fsbp",
            "security_hub",
            "cis_v1_4_0",
            "cis_v3_0_0",
            "cis_v5_0_0",
            "pci_dss",
            "nist_800_53_r5",
        ] {
            assert!(keys.contains(&key), "{key}: {keys:?}");
            assert!(controls[key].is_array());
        }
    }
    let by_id = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let retention = by_id("rds_instance_backup_retention");
    assert_eq!(retention["service"], "rds");
    assert_eq!(retention["resource_type"], "AwsRdsDbInstance");
    let parameter = &retention["parameters"][0];
    assert_eq!(parameter["name"], "backupRetentionMinimum");
    assert_eq!(parameter["type"], "int");
    assert_eq!(parameter["default"], 7);
    assert_eq!(parameter["allowed"], "7 to 35");
    let ssh = by_id("ec2_sg_open_ssh");
    assert_eq!(
        ssh["runbook"],
        "ComplianceScanner-RemediateOpenSecurityGroup"
    );
    assert_eq!(
        ssh["controls"]["cis_v5_0_0"],
        serde_json::json!(["5.3", "5.4"])
    );
    let tags = by_id("resource_required_tags");
    assert!(tags["service"].is_null() && tags["resource_type"].is_null());
}

#[test]
fn a_framework_view_shows_rules_and_what_is_not_automated() {
    let doc = json(&["rules", "--framework", "cis-5.0", "--format", "json"]);
    assert_eq!(doc["framework"], "cis_v5_0_0");
    assert_eq!(doc["name"], "CIS AWS Foundations Benchmark v5.0.0");
    let controls = doc["controls"].as_array().expect("controls[]");
    assert_eq!(controls.len(), 63);
    let total = doc["automated"].as_u64().unwrap() + doc["not_automated"].as_u64().unwrap();
    assert_eq!(total, 63);
    let control = |id: &str| {
        controls
            .iter()
            .find(|c| c["control_id"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let imds = control("5.7");
    assert_eq!(imds["status"], "automated");
    assert_eq!(imds["rules"], serde_json::json!(["ec2_instance_imdsv2"]));
    assert!(imds["not_automated"].is_null());
    let contacts = control("1.1");
    assert_eq!(contacts["status"], "not_automated");
    assert_eq!(contacts["not_automated"]["reason"], "manual");
    assert!(contacts["rules"].as_array().unwrap().is_empty());

    let table = stdout(&compliance(&["rules", "--framework", "fsbp"]));
    assert!(
        table.starts_with("AWS Foundational Security Best Practices: "),
        "{table}"
    );
    assert!(table.contains("\nS3.5 "), "{table}");
    assert!(table.contains("s3_bucket_secure_transport"));
    assert!(table.contains("not automated  Amazon EC2 Transit Gateways should not automatically accept VPC attachment requests"));
    assert!(
        table.contains("s3_bucket_secure_transport")
            && table.contains("lambda_function_supported_runtime")
    );

    let pci = json(&["rules", "--framework", "pci", "--format", "json"]);
    assert!(pci["source"].is_null());
    assert_eq!(pci["not_automated"], 0);
}

#[test]
fn csv_headers_and_the_rule_table() {
    let csv = stdout(&compliance(&["rules", "--format", "csv"]));
    assert_eq!(
        csv.lines().next(),
        Some(
            "id,title,severity,service,resource_type,runbook,parameters,aws_fsbp,security_hub,\
             cis_v1_4_0,cis_v3_0_0,cis_v5_0_0,pci_dss,nist_800_53_r5,remediation_url"
        )
    );
    assert!(csv.contains("\nrds_instance_backup_retention,"));
    assert!(csv.contains("backupRetentionMinimum=7"));
    let framework = stdout(&compliance(&[
        "rules",
        "--framework",
        "cis-1.4",
        "--format",
        "csv",
    ]));
    assert_eq!(
        framework.lines().next(),
        Some("framework,control_id,title,status,rules,reason,note")
    );
    assert_eq!(framework.lines().count(), 1 + 58);

    let table = stdout(&compliance(&["rules"]));
    assert!(table.contains("rds_instance_backup_retention  MEDIUM  rds  AwsRdsDbInstance"));
    assert!(table.contains("parameter backupRetentionMinimum (int, default 7; 7 to 35)"));
    assert!(table.contains("  CIS 5.0: 5.3, 5.4"));
}

#[test]
fn unknown_framework_or_format_names_the_valid_values() {
    let bad = compliance(&["rules", "--framework", "sox"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    for valid in ["cis-1.4", "cis-3.0", "cis-5.0", "pci", "nist", "fsbp"] {
        assert!(err.contains(valid), "{valid}: {err}");
    }
    let bad = compliance(&["rules", "--format", "xml"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    for valid in ["table", "json", "csv"] {
        assert!(err.contains(valid), "{valid}: {err}");
    }
    assert!(bad.stdout.is_empty());
}
