//! EC2 compute and storage checks beyond the basics: how long instances stay stopped, their
//! network interfaces and virtualization, launch templates, and public EBS snapshots.

use serde_json::json;

use super::controls::NIST_PUBLIC_ACCESS;
use super::{Check, Context, Controls, IntegerParameter, Parameter, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::{EbsSnapshotSharing, Ec2BlockPublicAccess, Instance, LaunchTemplate};
use crate::time::parse_rfc3339;

/// The rules of this file, in the catalog's order.
pub const RULES: &[Rule] = &[
    EC2_INSTANCE_STOPPED_TOO_LONG,
    EC2_INSTANCE_MULTIPLE_ENIS,
    EC2_INSTANCE_PARAVIRTUAL,
    EC2_LAUNCH_TEMPLATE_PUBLIC_IP,
    EC2_LAUNCH_TEMPLATE_IMDSV2,
    EC2_LAUNCH_TEMPLATE_EBS_ENCRYPTED,
    EC2_EBS_SNAPSHOT_PUBLIC,
    EC2_EBS_SNAPSHOT_BLOCK_PUBLIC_ACCESS,
];

const SECONDS_PER_DAY: i64 = 86_400;

// ------------------------------------------------------------------- EC2.4

/// Security Hub EC2.4's `AllowedDays`.
pub const ALLOWED_DAYS: IntegerParameter = IntegerParameter {
    rule_id: "ec2_instance_stopped_too_long",
    name: "AllowedDays",
    description: "Number of days the EC2 instance is allowed to be in a stopped state before generating a failed finding",
    default: 30,
    min: 1,
    max: 365,
};

pub const EC2_INSTANCE_STOPPED_TOO_LONG: Rule = Rule {
    id: "ec2_instance_stopped_too_long",
    title: "EC2 instance has been stopped for longer than allowed",
    severity: Severity::Medium,
    rationale: "A long-stopped instance is not patched or monitored; started again, it returns with months of missing fixes.",
    remediation: "Terminate the instance (keep an AMI or snapshots if its data is needed), or start it for maintenance.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-4",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.4"],
        security_hub: &["EC2.4"],
        nist_800_53_r5: &["CA-9(1)", "CM-2", "CM-2(2)"],
        ..Controls::NONE
    },
    parameters: &[Parameter::Integer(ALLOWED_DAYS)],
    check: Check::Instance(instance_stopped_too_long),
};

/// The time in a `StateTransitionReason` such as `User initiated (2026-01-01 12:00:00 GMT)`,
/// as seconds since the epoch (EC2 writes it in UTC).
pub fn transition_time(reason: &str) -> Option<i64> {
    let bytes = reason.as_bytes();
    (0..bytes.len().saturating_sub(18)).find_map(|i| {
        let candidate = reason.get(i..i + 19)?;
        let b = candidate.as_bytes();
        let shaped = b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b' '
            && b[13] == b':'
            && b[16] == b':'
            && b.iter()
                .enumerate()
                .all(|(n, c)| matches!(n, 4 | 7 | 10 | 13 | 16) || c.is_ascii_digit());
        if !shaped {
            return None;
        }
        parse_rfc3339(&format!("{}T{}Z", &candidate[..10], &candidate[11..]))
    })
}

/// EC2.4: a stopped instance fails once it has been stopped longer than `AllowedDays`, counted
/// from the time in its `StateTransitionReason`, or from its launch time when the reason has
/// none (as Security Hub does), up to when the scan read it.
pub fn instance_stopped_too_long(instance: &Instance, ctx: &Context) -> Outcome {
    if !instance.exists() {
        return Outcome::NotApplicable;
    }
    if instance.state != "stopped" {
        return Outcome::Pass;
    }
    let since = instance
        .state_transition_reason
        .as_deref()
        .and_then(transition_time)
        .map(|t| (t, "state_transition_reason"))
        .or_else(|| {
            instance
                .launch_time
                .as_deref()
                .and_then(parse_rfc3339)
                .map(|t| (t, "launch_time"))
        });
    let (Some((since, source)), Some(now)) =
        (since, instance.read_at.as_deref().and_then(parse_rfc3339))
    else {
        return Outcome::NotApplicable;
    };
    let allowed = ctx.parameters.integer(&ALLOWED_DAYS);
    let stopped_seconds = now - since;
    if stopped_seconds > allowed * SECONDS_PER_DAY {
        Outcome::fail(json!({
            "stopped_days": stopped_seconds / SECONDS_PER_DAY,
            "allowed_days": allowed,
            "stopped_since_from": source,
            "state_transition_reason": instance.state_transition_reason,
            "launch_time": instance.launch_time,
        }))
    } else {
        Outcome::Pass
    }
}

// ------------------------------------------------------------------ EC2.17

pub const EC2_INSTANCE_MULTIPLE_ENIS: Rule = Rule {
    id: "ec2_instance_multiple_enis",
    title: "EC2 instance uses multiple network interfaces",
    severity: Severity::Low,
    rationale: "A dual-homed instance joins several subnets, opening network paths that bypass the intended segmentation.",
    remediation: "Detach the additional network interfaces, or document why this instance must bridge subnets.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-17",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.17"],
        security_hub: &["EC2.17"],
        nist_800_53_r5: &["AC-4(21)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Instance(instance_multiple_enis),
};

pub fn instance_multiple_enis(instance: &Instance, _: &Context) -> Outcome {
    if !instance.exists() {
        return Outcome::NotApplicable;
    }
    if instance.network_interface_count > 1 {
        Outcome::fail(json!({ "network_interfaces": instance.network_interface_count }))
    } else {
        Outcome::Pass
    }
}

// ------------------------------------------------------------------ EC2.24

pub const EC2_INSTANCE_PARAVIRTUAL: Rule = Rule {
    id: "ec2_instance_paravirtual",
    title: "EC2 instance uses paravirtual virtualization",
    severity: Severity::Medium,
    rationale: "Paravirtual (PV) AMIs are a legacy platform without current instance types, enhanced networking or security fixes HVM gets.",
    remediation: "Rebuild the workload on an HVM AMI and a current instance type.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-24",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.24"],
        security_hub: &["EC2.24"],
        nist_800_53_r5: &["CM-2", "CM-2(2)"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Instance(instance_paravirtual),
};

pub fn instance_paravirtual(instance: &Instance, _: &Context) -> Outcome {
    if !instance.exists() {
        return Outcome::NotApplicable;
    }
    match instance.virtualization_type.as_deref() {
        Some("paravirtual") => Outcome::fail(json!({ "virtualization_type": "paravirtual" })),
        Some(_) => Outcome::Pass,
        None => Outcome::NotApplicable,
    }
}

// ------------------------------------------------------------------ EC2.25

pub const EC2_LAUNCH_TEMPLATE_PUBLIC_IP: Rule = Rule {
    id: "ec2_launch_template_public_ip",
    title: "EC2 launch template assigns public IP addresses to network interfaces",
    severity: Severity::High,
    rationale: "Every instance launched from the template is reachable from the internet whenever a security group allows it.",
    remediation: "Create a template version with AssociatePublicIpAddress false on every network interface and make it the default.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-25",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.25"],
        security_hub: &["EC2.25"],
        pci_dss: &["v4.0.1/1.4.4"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::LaunchTemplate(launch_template_public_ip),
};

/// EC2.25 (`ec2-launch-template-public-ip-disabled`): the default version has a network
/// interface with `AssociatePublicIpAddress` true.
pub fn launch_template_public_ip(template: &LaunchTemplate, _: &Context) -> Outcome {
    let public: Vec<Option<i32>> = template
        .data
        .network_interfaces
        .iter()
        .filter(|n| n.associate_public_ip_address == Some(true))
        .map(|n| n.device_index)
        .collect();
    if public.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "version": template.default_version,
            "public_ip_device_indexes": public,
        }))
    }
}

// ----------------------------------------------------------------- EC2.170

pub const EC2_LAUNCH_TEMPLATE_IMDSV2: Rule = Rule {
    id: "ec2_launch_template_imdsv2",
    title: "EC2 launch template does not require IMDSv2",
    severity: Severity::Low,
    rationale: "Instances launched from the template answer IMDSv1 requests, which SSRF bugs turn into stolen credentials.",
    remediation: "Create a template version with MetadataOptions HttpTokens=required and make it the default.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-170",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.170"],
        security_hub: &["EC2.170"],
        pci_dss: &["v4.0.1/2.2.6"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::LaunchTemplate(launch_template_imdsv2),
};

/// EC2.170 (`ec2-launch-template-imdsv2-check`): the default version must specify
/// `HttpTokens: required`; `optional` or nothing fails. A template that turns the metadata
/// endpoint off has no IMDSv1 either and passes.
pub fn launch_template_imdsv2(template: &LaunchTemplate, _: &Context) -> Outcome {
    let data = &template.data;
    if data.metadata_http_tokens.as_deref() == Some("required")
        || data.metadata_http_endpoint.as_deref() == Some("disabled")
    {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "version": template.default_version,
            "http_tokens": data.metadata_http_tokens,
            "http_endpoint": data.metadata_http_endpoint,
        }))
    }
}

// ----------------------------------------------------------------- EC2.181

pub const EC2_LAUNCH_TEMPLATE_EBS_ENCRYPTED: Rule = Rule {
    id: "ec2_launch_template_ebs_encrypted",
    title: "EC2 launch template turns EBS encryption off for a volume",
    severity: Severity::Medium,
    rationale: "Volumes created from the template are unencrypted at rest, and so are their snapshots.",
    remediation: "Create a template version with Encrypted true on every EBS block device and make it the default.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-181",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.181"],
        security_hub: &["EC2.181"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::LaunchTemplate(launch_template_ebs_encrypted),
};

/// EC2.181: fails when the default version sets `Encrypted` false on an EBS volume; settings
/// the template does not make (account default, AMI, snapshot) are not judged.
pub fn launch_template_ebs_encrypted(template: &LaunchTemplate, _: &Context) -> Outcome {
    let unencrypted: Vec<Option<&str>> = template
        .data
        .ebs_volumes
        .iter()
        .filter(|v| v.encrypted == Some(false))
        .map(|v| v.device_name.as_deref())
        .collect();
    if unencrypted.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({
            "version": template.default_version,
            "unencrypted_devices": unencrypted,
        }))
    }
}

// ------------------------------------------------------------------- EC2.1

pub const EC2_EBS_SNAPSHOT_PUBLIC: Rule = Rule {
    id: "ec2_ebs_snapshot_public",
    title: "EBS snapshots are publicly restorable",
    severity: Severity::Critical,
    rationale: "Anyone with an AWS account can create a volume from a public snapshot and read all its data.",
    remediation: "Make each listed snapshot private (ModifySnapshotAttribute: remove the createVolumePermission of group all); enable EBS snapshot Block Public Access.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-1",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.1"],
        security_hub: &["EC2.1"],
        pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.4", "v3.2.1/7.2.1"],
        nist_800_53_r5: NIST_PUBLIC_ACCESS,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::SnapshotSharing(ebs_snapshot_public),
};

/// EC2.1 is an account-level control: it fails in a region where any snapshot the account owns
/// is restorable by `all`, and names them.
pub fn ebs_snapshot_public(sharing: &EbsSnapshotSharing, _: &Context) -> Outcome {
    if sharing.public_snapshot_ids.is_empty() {
        Outcome::Pass
    } else {
        Outcome::fail(json!({ "public_snapshot_ids": sharing.public_snapshot_ids }))
    }
}

// ----------------------------------------------------------------- EC2.182

pub const EC2_EBS_SNAPSHOT_BLOCK_PUBLIC_ACCESS: Rule = Rule {
    id: "ec2_ebs_snapshot_block_public_access",
    title: "EBS snapshot Block Public Access does not block all sharing in the region",
    severity: Severity::High,
    rationale: "Without it, any snapshot can be made public by mistake, and snapshots already public stay readable by anyone.",
    remediation: "Enable block public access for EBS snapshots in the region in block-all-sharing mode (EnableSnapshotBlockPublicAccess).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-182",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["EC2.182"],
        security_hub: &["EC2.182"],
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::Ec2BlockPublicAccess(ebs_snapshot_block_public_access),
};

/// EC2.182 (`ebs-snapshot-block-public-access`): compliant only when all public sharing is
/// blocked (`block-all-sharing`); `block-new-sharing` leaves public snapshots public.
pub fn ebs_snapshot_block_public_access(settings: &Ec2BlockPublicAccess, _: &Context) -> Outcome {
    match settings.snapshot_state.as_deref() {
        None => Outcome::NotApplicable,
        Some("block-all-sharing") => Outcome::Pass,
        Some(state) => Outcome::fail(json!({ "snapshot_block_public_access_state": state })),
    }
}

#[cfg(test)]
mod tests;
