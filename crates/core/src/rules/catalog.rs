//! The catalog: every rule, in a fixed order (reports and framework views list rules in it).
//! Each rule is defined next to its check in the file of its service; control ids were looked
//! up in the Security Hub control reference and the CIS AWS Foundations Benchmark mappings
//! (sources in docs/control-mappings.md), and a framework without a matching control is left
//! empty rather than approximated.

use super::{ec2, rds, s3, tags, Rule};

static CATALOG: [Rule; 28] = [
    // S3
    s3::S3_BUCKET_DEFAULT_ENCRYPTION,
    s3::S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    s3::S3_BUCKET_PUBLIC_ACL,
    s3::S3_BUCKET_PUBLIC_POLICY,
    s3::S3_BUCKET_VERSIONING,
    s3::S3_BUCKET_ACCESS_LOGGING,
    s3::S3_BUCKET_SECURE_TRANSPORT,
    s3::S3_BUCKET_MFA_DELETE,
    s3::S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    // EC2 security groups
    ec2::EC2_SG_OPEN_SSH,
    ec2::EC2_SG_OPEN_RDP,
    ec2::EC2_SG_OPEN_ALL_PORTS,
    ec2::EC2_SG_OPEN_HIGH_RISK_PORTS,
    ec2::EC2_DEFAULT_SG_RESTRICTS_ALL,
    // EC2 instances and EBS
    ec2::EC2_INSTANCE_IMDSV2,
    ec2::EC2_INSTANCE_PUBLIC_IP,
    ec2::EC2_EBS_VOLUME_ENCRYPTED,
    ec2::EC2_EBS_DEFAULT_ENCRYPTION,
    // RDS
    rds::RDS_INSTANCE_PUBLIC,
    rds::RDS_INSTANCE_STORAGE_ENCRYPTED,
    rds::RDS_INSTANCE_BACKUP_ENABLED,
    rds::RDS_INSTANCE_BACKUP_RETENTION,
    rds::RDS_INSTANCE_DELETION_PROTECTION,
    rds::RDS_INSTANCE_MULTI_AZ,
    rds::RDS_INSTANCE_AUTO_MINOR_VERSION_UPGRADE,
    rds::RDS_INSTANCE_IAM_AUTHENTICATION,
    rds::RDS_INSTANCE_COPY_TAGS_TO_SNAPSHOT,
    // Cross-service
    tags::RESOURCE_REQUIRED_TAGS,
];

/// All rules, in a fixed order.
pub fn catalog() -> &'static [Rule] {
    &CATALOG
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    catalog().iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalog_is_large_unique_and_complete() {
        let rules = catalog();
        assert!(rules.len() >= 25, "{} rules", rules.len());
        let ids: HashSet<_> = rules.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), rules.len(), "duplicate rule id");
        for r in rules {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                r.id
            );
            assert!(
                !r.title.is_empty() && !r.rationale.is_empty() && !r.remediation.is_empty(),
                "{}",
                r.id
            );
            assert!(r.remediation_url.starts_with("https://"), "{}", r.id);
            if let Some(runbook) = r.runbook {
                assert!(
                    runbook.document_name().starts_with("ComplianceScanner-"),
                    "{runbook}"
                );
            }
        }
    }

    #[test]
    fn rule_parameters_belong_to_their_rule_and_default_within_range() {
        for r in catalog() {
            let mut names = HashSet::new();
            for p in r.parameters {
                assert_eq!(p.rule_id, r.id, "{}", p.name);
                assert!(names.insert(p.name), "{}: duplicate {}", r.id, p.name);
                assert!(
                    p.min <= p.default && p.default <= p.max,
                    "{}.{}",
                    r.id,
                    p.name
                );
            }
        }
    }

    #[test]
    fn control_ids_have_the_framework_shape() {
        let fsbp = |id: &str| {
            id.split_once('.')
                .is_some_and(|(svc, n)| !svc.is_empty() && n.parse::<u32>().is_ok())
        };
        let cis = |id: &str| id.split('.').all(|p| p.parse::<u32>().is_ok());
        for r in catalog() {
            let c = &r.controls;
            assert!(
                c.aws_fsbp.iter().all(|id| fsbp(id)),
                "{}: {:?}",
                r.id,
                c.aws_fsbp
            );
            assert!(
                c.cis_v1_4_0.iter().chain(c.cis_v3_0_0).all(|id| cis(id)),
                "{}",
                r.id
            );
            assert!(
                c.pci_dss
                    .iter()
                    .all(|id| id.starts_with("v3.2.1/") || id.starts_with("v4.0.1/")),
                "{}: {:?}",
                r.id,
                c.pci_dss
            );
            assert!(
                c.nist_800_53_r5
                    .iter()
                    .all(|id| id.len() >= 4 && id.as_bytes()[2] == b'-'),
                "{}: {:?}",
                r.id,
                c.nist_800_53_r5
            );
        }
    }
}
