//! IAM: the root user's MFA and access keys (GetAccountSummary, ListVirtualMFADevices), judged
//! once per account. A setting IAM would not show us is not guessed: the check does not apply
//! and the failed call is a recorded scan error.

use serde_json::json;

use super::{Check, Context, Controls, Rule};
use crate::finding::{Outcome, Severity};
use crate::model::IamAccountSettings;

/// The rules of this file, in the catalog's order: a new rule is defined below and listed here.
pub const RULES: &[Rule] = &[IAM_ROOT_ACCESS_KEYS, IAM_ROOT_MFA, IAM_ROOT_HARDWARE_MFA];

/// NIST 800-53 r5 controls of root MFA: the requirements of IAM.6 and IAM.9.
const NIST_ROOT_MFA: &[&str] = &[
    "AC-2(1)", "AC-3(15)", "IA-2(1)", "IA-2(2)", "IA-2(6)", "IA-2(8)",
];

pub const IAM_ROOT_ACCESS_KEYS: Rule = Rule {
    id: "iam_root_access_keys",
    title: "The root user has access keys",
    severity: Severity::Critical,
    rationale: "A root access key is a long-lived credential with unrestricted access to the account that no policy can limit.",
    remediation: "Sign in as the root user and delete its access keys (Security credentials); use IAM roles instead.",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-4",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["IAM.4"],
        security_hub: &["IAM.4"],
        cis_v1_4_0: &["1.4"],
        cis_v3_0_0: &["1.4"],
        cis_v5_0_0: &["1.3"],
        pci_dss: &["v3.2.1/2.1", "v3.2.1/2.2", "v3.2.1/7.2.1"],
        nist_800_53_r5: &["AC-2(1)", "AC-3(15)", "AC-3(7)", "AC-6", "AC-6(10)", "AC-6(2)"],
    },
    parameters: &[],
    check: Check::IamAccount(root_access_keys),
};

/// The Config rule iam-root-access-key-check: `AccountAccessKeysPresent` is 1.
pub fn root_access_keys(account: &IamAccountSettings, _: &Context) -> Outcome {
    match account.root_access_keys_present {
        None => Outcome::NotApplicable,
        Some(false) => Outcome::Pass,
        Some(true) => Outcome::fail(json!({"account_access_keys_present": true})),
    }
}

pub const IAM_ROOT_MFA: Rule = Rule {
    id: "iam_root_mfa",
    title: "The root user has no MFA",
    severity: Severity::Critical,
    rationale: "Anyone with the root password alone controls the whole account, billing and closure included.",
    remediation: "Sign in as the root user and assign an MFA device (Security credentials).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-9",
    runbook: None,
    controls: Controls {
        // IAM.9 belongs to the CIS, PCI and NIST standards, not to FSBP.
        security_hub: &["IAM.9"],
        cis_v1_4_0: &["1.5"],
        cis_v3_0_0: &["1.5"],
        cis_v5_0_0: &["1.4"],
        pci_dss: &["v3.2.1/8.3.1", "v4.0.1/8.4.2"],
        nist_800_53_r5: NIST_ROOT_MFA,
        ..Controls::NONE
    },
    parameters: &[],
    check: Check::IamAccount(root_mfa),
};

/// The Config rule root-account-mfa-enabled: `AccountMFAEnabled` is 0.
pub fn root_mfa(account: &IamAccountSettings, _: &Context) -> Outcome {
    match account.root_mfa_enabled {
        None => Outcome::NotApplicable,
        Some(true) => Outcome::Pass,
        Some(false) => Outcome::fail(json!({"account_mfa_enabled": false})),
    }
}

pub const IAM_ROOT_HARDWARE_MFA: Rule = Rule {
    id: "iam_root_hardware_mfa",
    title: "The root user has no hardware MFA",
    severity: Severity::Critical,
    rationale: "A virtual MFA device lives on a phone or computer that may be lost, shared or compromised; a hardware device for root is kept apart.",
    remediation: "Replace the root user's virtual MFA device with a hardware MFA device (FIDO key or hardware TOTP token).",
    remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-6",
    runbook: None,
    controls: Controls {
        aws_fsbp: &["IAM.6"],
        security_hub: &["IAM.6"],
        cis_v1_4_0: &["1.6"],
        cis_v3_0_0: &["1.6"],
        cis_v5_0_0: &["1.5"],
        pci_dss: &["v3.2.1/8.3.1", "v4.0.1/8.4.2"],
        nist_800_53_r5: NIST_ROOT_MFA,
    },
    parameters: &[],
    check: Check::IamAccount(root_hardware_mfa),
};

/// The Config rule root-account-hardware-mfa-enabled: fails when the root user has no MFA, or
/// when an assigned virtual MFA device belongs to the root user.
pub fn root_hardware_mfa(account: &IamAccountSettings, _: &Context) -> Outcome {
    match (account.root_mfa_enabled, &account.root_virtual_mfa_devices) {
        (Some(false), _) => Outcome::fail(json!({"account_mfa_enabled": false})),
        (Some(true), Some(devices)) if devices.is_empty() => Outcome::Pass,
        (Some(true), Some(devices)) => Outcome::fail(json!({"root_virtual_mfa_devices": devices})),
        _ => Outcome::NotApplicable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleParameters;

    const CTX: Context = Context {
        account_id: "123456789012",
        required_tags: &[],
        account_public_access_block: None,
        parameters: &RuleParameters::DEFAULTS,
    };

    fn settings(
        mfa: Option<bool>,
        keys: Option<bool>,
        virt: Option<&[&str]>,
    ) -> IamAccountSettings {
        IamAccountSettings {
            region: "us-east-1".into(),
            root_mfa_enabled: mfa,
            root_access_keys_present: keys,
            root_virtual_mfa_devices: virt.map(|v| v.iter().map(|s| (*s).to_string()).collect()),
        }
    }

    fn fails(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Fail { .. })
    }

    #[test]
    fn hardened_root_passes_everything() {
        let ok = settings(Some(true), Some(false), Some(&[]));
        for check in [root_access_keys, root_mfa, root_hardware_mfa] {
            assert_eq!(check(&ok, &CTX), Outcome::Pass);
        }
    }

    #[test]
    fn keys_no_mfa_and_virtual_mfa_fail() {
        let bad = settings(Some(false), Some(true), Some(&[]));
        for check in [root_access_keys, root_mfa, root_hardware_mfa] {
            assert!(fails(&check(&bad, &CTX)));
        }
        let virtual_root = settings(
            Some(true),
            Some(false),
            Some(&["arn:aws:iam::123456789012:mfa/root-account-mfa-device"]),
        );
        assert_eq!(root_mfa(&virtual_root, &CTX), Outcome::Pass);
        assert!(fails(&root_hardware_mfa(&virtual_root, &CTX)));
    }

    #[test]
    fn unreadable_settings_are_not_guessed() {
        let unknown = settings(None, None, None);
        for check in [root_access_keys, root_mfa, root_hardware_mfa] {
            assert_eq!(check(&unknown, &CTX), Outcome::NotApplicable);
        }
        // MFA on, but the virtual devices could not be listed.
        let partial = settings(Some(true), Some(false), None);
        assert_eq!(root_hardware_mfa(&partial, &CTX), Outcome::NotApplicable);
        // MFA off fails whatever the device list says.
        assert!(fails(&root_hardware_mfa(
            &settings(Some(false), None, None),
            &CTX
        )));
    }
}
