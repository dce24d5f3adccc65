use super::*;
use crate::model::{LaunchTemplateData, LaunchTemplateEbs, LaunchTemplateNetworkInterface, Tags};
use crate::rules::RuleParameters;

const CTX: Context = Context {
    account_id: "1",
    required_tags: &[],
    account_public_access_block: None,
    parameters: &RuleParameters::DEFAULTS,
};

fn fails(o: &Outcome) -> bool {
    matches!(o, Outcome::Fail { .. })
}

fn instance(state: &str, reason: Option<&str>, launch: Option<&str>) -> Instance {
    Instance {
        id: "i-1".into(),
        arn: "arn".into(),
        region: "r".into(),
        state: state.into(),
        metadata_http_tokens: Some("required".into()),
        metadata_http_endpoint: Some("enabled".into()),
        public_ip: None,
        state_transition_reason: reason.map(Into::into),
        launch_time: launch.map(Into::into),
        read_at: Some("2026-03-01T00:00:00Z".into()),
        network_interface_count: 1,
        virtualization_type: Some("hvm".into()),
        tags: Tags::new(),
    }
}

#[test]
fn transition_time_reads_ec2_reasons() {
    assert_eq!(
        transition_time("User initiated (2026-01-30 00:00:00 GMT)"),
        parse_rfc3339("2026-01-30T00:00:00Z")
    );
    assert_eq!(
        transition_time("User initiated (2026-01-30 10:11:12 UTC)"),
        parse_rfc3339("2026-01-30T10:11:12Z")
    );
    assert_eq!(transition_time("Server.InternalError"), None);
    assert_eq!(transition_time(""), None);
}

#[test]
fn stopped_instances_are_judged_after_the_allowed_days() {
    // Read 2026-03-01: stopped 2026-01-30 is 30 days (allowed), 2026-01-29 is 31 (not).
    let at_limit = instance(
        "stopped",
        Some("User initiated (2026-01-30 00:00:00 GMT)"),
        None,
    );
    assert_eq!(instance_stopped_too_long(&at_limit, &CTX), Outcome::Pass);
    let over = instance(
        "stopped",
        Some("User initiated (2026-01-29 00:00:00 GMT)"),
        None,
    );
    match instance_stopped_too_long(&over, &CTX) {
        Outcome::Fail { evidence, .. } => {
            assert_eq!(evidence["stopped_days"], 31);
            assert_eq!(evidence["allowed_days"], 30);
        }
        o => panic!("{o:?}"),
    }
    // Without a time in the reason, the launch time counts.
    let no_time = instance(
        "stopped",
        Some("Server.InternalError"),
        Some("2025-12-01T00:00:00Z"),
    );
    assert!(fails(&instance_stopped_too_long(&no_time, &CTX)));
    let recent_launch = instance("stopped", None, Some("2026-02-20T00:00:00Z"));
    assert_eq!(
        instance_stopped_too_long(&recent_launch, &CTX),
        Outcome::Pass
    );
    // Running instances pass whatever their history; terminated ones are gone.
    let running = instance("running", Some(""), Some("2020-01-01T00:00:00Z"));
    assert_eq!(instance_stopped_too_long(&running, &CTX), Outcome::Pass);
    assert_eq!(
        instance_stopped_too_long(&instance("terminated", None, None), &CTX),
        Outcome::NotApplicable
    );
    // Unknown times: not judged.
    assert_eq!(
        instance_stopped_too_long(&instance("stopped", None, None), &CTX),
        Outcome::NotApplicable
    );
    // AllowedDays set to 60.
    let params =
        RuleParameters::parse(r#"{"ec2_instance_stopped_too_long": {"AllowedDays": 60}}"#).unwrap();
    let ctx = Context {
        parameters: &params,
        ..CTX
    };
    assert_eq!(instance_stopped_too_long(&over, &ctx), Outcome::Pass);
}

#[test]
fn interfaces_and_virtualization() {
    let mut i = instance("running", None, None);
    assert_eq!(instance_multiple_enis(&i, &CTX), Outcome::Pass);
    assert_eq!(instance_paravirtual(&i, &CTX), Outcome::Pass);
    i.network_interface_count = 2;
    assert!(fails(&instance_multiple_enis(&i, &CTX)));
    i.virtualization_type = Some("paravirtual".into());
    assert!(fails(&instance_paravirtual(&i, &CTX)));
    i.virtualization_type = None;
    assert_eq!(instance_paravirtual(&i, &CTX), Outcome::NotApplicable);
    i.state = "terminated".into();
    assert_eq!(instance_multiple_enis(&i, &CTX), Outcome::NotApplicable);
}

fn template(data: LaunchTemplateData) -> LaunchTemplate {
    LaunchTemplate {
        id: "lt-1".into(),
        arn: "arn".into(),
        region: "r".into(),
        name: "t".into(),
        default_version: Some(1),
        data,
        tags: Tags::new(),
    }
}

#[test]
fn launch_templates() {
    let empty = template(LaunchTemplateData::default());
    assert_eq!(launch_template_public_ip(&empty, &CTX), Outcome::Pass);
    assert_eq!(
        launch_template_ebs_encrypted(&empty, &CTX),
        Outcome::Pass,
        "nothing set: not judged"
    );
    assert!(
        fails(&launch_template_imdsv2(&empty, &CTX)),
        "IMDSv2 not specified"
    );

    let bad = template(LaunchTemplateData {
        metadata_http_tokens: Some("optional".into()),
        metadata_http_endpoint: Some("enabled".into()),
        network_interfaces: vec![
            LaunchTemplateNetworkInterface {
                device_index: Some(0),
                associate_public_ip_address: Some(false),
            },
            LaunchTemplateNetworkInterface {
                device_index: Some(1),
                associate_public_ip_address: Some(true),
            },
        ],
        ebs_volumes: vec![
            LaunchTemplateEbs {
                device_name: Some("/dev/xvda".into()),
                encrypted: Some(true),
            },
            LaunchTemplateEbs {
                device_name: Some("/dev/xvdb".into()),
                encrypted: Some(false),
            },
        ],
    });
    match launch_template_public_ip(&bad, &CTX) {
        Outcome::Fail { evidence, .. } => {
            assert_eq!(evidence["public_ip_device_indexes"], json!([1]));
        }
        o => panic!("{o:?}"),
    }
    assert!(fails(&launch_template_imdsv2(&bad, &CTX)));
    match launch_template_ebs_encrypted(&bad, &CTX) {
        Outcome::Fail { evidence, .. } => {
            assert_eq!(evidence["unencrypted_devices"], json!(["/dev/xvdb"]));
        }
        o => panic!("{o:?}"),
    }

    let good = template(LaunchTemplateData {
        metadata_http_tokens: Some("required".into()),
        metadata_http_endpoint: None,
        network_interfaces: vec![LaunchTemplateNetworkInterface {
            device_index: Some(0),
            associate_public_ip_address: None,
        }],
        ebs_volumes: vec![LaunchTemplateEbs {
            device_name: None,
            encrypted: Some(true),
        }],
    });
    assert_eq!(launch_template_public_ip(&good, &CTX), Outcome::Pass);
    assert_eq!(launch_template_imdsv2(&good, &CTX), Outcome::Pass);
    assert_eq!(launch_template_ebs_encrypted(&good, &CTX), Outcome::Pass);
    let imds_off = template(LaunchTemplateData {
        metadata_http_tokens: Some("optional".into()),
        metadata_http_endpoint: Some("disabled".into()),
        ..LaunchTemplateData::default()
    });
    assert_eq!(launch_template_imdsv2(&imds_off, &CTX), Outcome::Pass);
}

#[test]
fn public_snapshots_fail_the_region() {
    let mut sharing = EbsSnapshotSharing {
        region: "r".into(),
        public_snapshot_ids: vec![],
    };
    assert_eq!(ebs_snapshot_public(&sharing, &CTX), Outcome::Pass);
    sharing.public_snapshot_ids = vec!["snap-1".into()];
    match ebs_snapshot_public(&sharing, &CTX) {
        Outcome::Fail { evidence, .. } => {
            assert_eq!(evidence["public_snapshot_ids"], json!(["snap-1"]));
        }
        o => panic!("{o:?}"),
    }
}

fn bpa(snapshot: Option<&str>, vpc: Option<&str>) -> Ec2BlockPublicAccess {
    Ec2BlockPublicAccess {
        region: "r".into(),
        snapshot_state: snapshot.map(Into::into),
        vpc_internet_gateway_block_mode: vpc.map(Into::into),
    }
}

#[test]
fn snapshot_block_public_access_must_block_all_sharing() {
    assert_eq!(
        ebs_snapshot_block_public_access(&bpa(Some("block-all-sharing"), None), &CTX),
        Outcome::Pass
    );
    assert!(fails(&ebs_snapshot_block_public_access(
        &bpa(Some("block-new-sharing"), None),
        &CTX
    )));
    assert!(fails(&ebs_snapshot_block_public_access(
        &bpa(Some("unblocked"), None),
        &CTX
    )));
    assert_eq!(
        ebs_snapshot_block_public_access(&bpa(None, None), &CTX),
        Outcome::NotApplicable
    );
}
