//! The rule catalog: what is checked, how severe a failure is, and which controls it maps to.

mod catalog;
pub mod ec2;
pub mod rds;
pub mod s3;
pub mod tags;

use crate::finding::{ComplianceRefs, Outcome, Severity};
use crate::model::{
    Bucket, DbInstance, EbsEncryptionDefault, Instance, PublicAccessBlock, ResourceType,
    S3AccountSettings, SecurityGroup, Service, Tags, Volume,
};

pub use catalog::{catalog, rule};

/// What a check may consult beyond the resource itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub account_id: &'a str,
    /// Tag keys every taggable resource must carry (from config; empty disables the tag rule).
    pub required_tags: &'a [String],
    /// The account-wide S3 Block Public Access, which overrides bucket ACLs and policies.
    pub account_public_access_block: Option<&'a PublicAccessBlock>,
}

/// A check, typed by the resource it inspects. Plain function pointers keep the catalog a
/// static table that is trivial to audit.
#[derive(Clone, Copy)]
pub enum Check {
    SecurityGroup(fn(&SecurityGroup, &Context) -> Outcome),
    Instance(fn(&Instance, &Context) -> Outcome),
    Volume(fn(&Volume, &Context) -> Outcome),
    EbsDefault(fn(&EbsEncryptionDefault, &Context) -> Outcome),
    Bucket(fn(&Bucket, &Context) -> Outcome),
    S3Account(fn(&S3AccountSettings, &Context) -> Outcome),
    DbInstance(fn(&DbInstance, &Context) -> Outcome),
    /// Applies to every taggable resource of every service.
    Tags(fn(&Tags, &Context) -> Outcome),
}

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
    pub pci_dss: &'static [&'static str],
    pub nist_800_53_r5: &'static [&'static str],
}

impl Controls {
    pub fn to_refs(&self) -> ComplianceRefs {
        let own = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect();
        ComplianceRefs {
            aws_fsbp: own(self.aws_fsbp),
            security_hub: own(self.security_hub),
            cis_v1_4_0: own(self.cis_v1_4_0),
            cis_v3_0_0: own(self.cis_v3_0_0),
            pci_dss: own(self.pci_dss),
            nist_800_53_r5: own(self.nist_800_53_r5),
        }
    }
}

pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// `None` for cross-service rules (required tags).
    pub service: Option<Service>,
    /// `None` for cross-service rules (required tags).
    pub resource_type: Option<ResourceType>,
    pub rationale: &'static str,
    pub remediation: &'static str,
    /// Where the remediation is documented (the Security Hub control page when there is one).
    pub remediation_url: &'static str,
    /// The SSM Automation document that fixes a failure, when automatic remediation exists.
    pub runbook: Option<&'static str>,
    pub controls: Controls,
    pub check: Check,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Rule {
    pub fn applies_to(&self, service: Service) -> bool {
        self.service.is_none_or(|s| s == service)
    }
}

/// SSM Automation documents the template defines; names may not start with `AWS-`/`Amazon`/`amzn`.
pub mod runbooks {
    pub const ENCRYPT_S3_BUCKET: &str = "ComplianceScanner-RemediateUnencryptedS3Bucket";
    pub const PRIVATE_RDS_INSTANCE: &str = "ComplianceScanner-RemediatePublicRdsInstance";
    pub const RESTRICT_SECURITY_GROUP: &str = "ComplianceScanner-RemediateOpenSecurityGroup";
}
