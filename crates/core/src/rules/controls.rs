//! Control ids per framework, and the lists several rules share. Each shared list is copied
//! exactly from the "Related requirements" of the Security Hub control(s) its name cites
//! (sources in docs/control-mappings.md).

use crate::finding::ComplianceRefs;

/// Control ids of one rule per framework, as static data. Empty: no matching control.
#[derive(Debug, Clone, Copy, Default)]
pub struct Controls {
    /// Controls of the AWS Foundational Security Best Practices standard.
    pub aws_fsbp: &'static [&'static str],
    /// Every Security Hub control that fires on the same condition, FSBP or not (e.g. EC2.13,
    /// which belongs to the CIS and PCI standards only).
    pub security_hub: &'static [&'static str],
    pub cis_v1_4_0: &'static [&'static str],
    pub cis_v3_0_0: &'static [&'static str],
    /// CIS AWS Foundations Benchmark v5.0.0, the newest version Security Hub supports.
    pub cis_v5_0_0: &'static [&'static str],
    pub pci_dss: &'static [&'static str],
    pub nist_800_53_r5: &'static [&'static str],
}

impl Controls {
    /// No control in any framework; the base of `Controls { ..Controls::NONE }`.
    pub const NONE: Controls = Controls {
        aws_fsbp: &[],
        security_hub: &[],
        cis_v1_4_0: &[],
        cis_v3_0_0: &[],
        cis_v5_0_0: &[],
        pci_dss: &[],
        nist_800_53_r5: &[],
    };

    pub fn to_refs(&self) -> ComplianceRefs {
        let own = |ids: &[&str]| ids.iter().map(std::string::ToString::to_string).collect();
        ComplianceRefs {
            aws_fsbp: own(self.aws_fsbp),
            security_hub: own(self.security_hub),
            cis_v1_4_0: own(self.cis_v1_4_0),
            cis_v3_0_0: own(self.cis_v3_0_0),
            cis_v5_0_0: own(self.cis_v5_0_0),
            pci_dss: own(self.pci_dss),
            nist_800_53_r5: own(self.nist_800_53_r5),
        }
    }
}

/// NIST 800-53 r5 controls against public access (access enforcement, boundary protection):
/// the requirements of S3.1, S3.2, S3.3, S3.8 and EC2.9.
pub const NIST_PUBLIC_ACCESS: &[&str] = &[
    "AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)",
    "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)",
];

/// NIST 800-53 r5 controls against ports open to the internet: the requirements of EC2.19.
pub const NIST_OPEN_PORTS: &[&str] = &[
    "AC-4", "AC-4(21)", "CA-9(1)", "CM-2", "CM-2(2)", "CM-7", "SC-7", "SC-7(11)", "SC-7(16)",
    "SC-7(21)", "SC-7(4)", "SC-7(5)",
];

/// NIST 800-53 r5 boundary protection of network paths: the requirements of EC2.2 and RDS.2.
pub const NIST_NETWORK_BOUNDARY: &[&str] = &[
    "AC-4", "AC-4(21)", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)",
];

/// NIST 800-53 r5 controls for encryption at rest: the requirements of EC2.3, EC2.7 and RDS.3.
pub const NIST_ENCRYPTION_AT_REST: &[&str] = &[
    "CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)",
];

/// NIST 800-53 r5 controls for backups and recovery: the requirements of RDS.11.
pub const NIST_BACKUPS: &[&str] = &[
    "CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SC-5(2)", "SI-12", "SI-13(5)",
];

/// PCI DSS v3.2.1 requirements against public read or write access to a bucket: those of S3.3
/// (S3.2 lists the same without 1.3.4).
pub const PCI_V3_2_1_PUBLIC_BUCKET: &[&str] = &[
    "v3.2.1/1.2.1",
    "v3.2.1/1.3.1",
    "v3.2.1/1.3.2",
    "v3.2.1/1.3.4",
    "v3.2.1/1.3.6",
    "v3.2.1/7.2.1",
];

/// CIS AWS Foundations Benchmark v1.4.0 recommendation against remote administration ports
/// open to 0.0.0.0/0 (5.2; mapped through Prowler, Security Hub maps none).
pub const CIS_V1_4_0_ADMIN_PORTS: &[&str] = &["5.2"];

/// CIS AWS Foundations Benchmark v3.0.0 recommendations against remote administration ports
/// open to 0.0.0.0/0 (5.2) and ::/0 (5.3).
pub const CIS_V3_0_0_ADMIN_PORTS: &[&str] = &["5.2", "5.3"];

/// CIS AWS Foundations Benchmark v5.0.0 recommendations against remote administration ports
/// open to 0.0.0.0/0 (5.3, EC2.53) and ::/0 (5.4, EC2.54).
pub const CIS_V5_0_0_ADMIN_PORTS: &[&str] = &["5.3", "5.4"];
