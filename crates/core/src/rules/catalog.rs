//! The rules, as data. Control ids were looked up in the Security Hub control reference and the
//! CIS AWS Foundations Benchmark mappings (sources in docs/control-mappings.md); a framework
//! without a matching control is left empty rather than approximated.

use std::sync::OnceLock;

use super::{ec2, rds, runbooks, s3, tags, Check, Controls, Rule};
use crate::finding::Severity::{self, *};
use crate::model::{ResourceType, Service};

#[allow(clippy::too_many_arguments)]
const fn define(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    service: Service,
    resource_type: ResourceType,
    rationale: &'static str,
    remediation: &'static str,
    remediation_url: &'static str,
    runbook: Option<&'static str>,
    controls: Controls,
    check: Check,
) -> Rule {
    Rule {
        id,
        title,
        severity,
        service: Some(service),
        resource_type: Some(resource_type),
        rationale,
        remediation,
        remediation_url,
        runbook,
        controls,
        check,
    }
}

const NONE: Controls = Controls {
    aws_fsbp: &[],
    security_hub: &[],
    cis_v1_4_0: &[],
    cis_v3_0_0: &[],
    pci_dss: &[],
    nist_800_53_r5: &[],
};

fn build() -> Vec<Rule> {
    use ResourceType::*;
    use Service::*;
    vec![
        // ---------------------------------------------------------------- S3
        define(
            "s3_bucket_default_encryption",
            "S3 bucket has no default server-side encryption",
            Medium, S3, AwsS3Bucket,
            "Objects written without an explicit encryption header are stored unencrypted unless the bucket sets a default.",
            "Set default encryption on the bucket (SSE-KMS with a customer managed key, or at least SSE-S3).",
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
            Some(runbooks::ENCRYPT_S3_BUCKET),
            Controls { cis_v1_4_0: &["2.1.1"], pci_dss: &["v3.2.1/3.4"], nist_800_53_r5: &["AU-9", "AU-9(2)", "AU-9(7)", "CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)"], ..NONE },
            Check::Bucket(s3::default_encryption),
        ),
        define(
            "s3_bucket_public_access_block",
            "S3 bucket does not enable all four Block Public Access settings",
            High, S3, AwsS3Bucket,
            "Block Public Access is the guard rail that keeps a later ACL or policy mistake from exposing data.",
            "Enable BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets on the bucket.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8",
            None,
            Controls { aws_fsbp: &["S3.8"], security_hub: &["S3.8"], cis_v1_4_0: &["2.1.5"], cis_v3_0_0: &["2.1.4"], pci_dss: &["v4.0.1/1.4.4"], nist_800_53_r5: &["AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)"] },
            Check::Bucket(s3::bucket_public_access_block),
        ),
        define(
            "s3_bucket_public_acl",
            "S3 bucket grants access to everyone through its ACL",
            Critical, S3, AwsS3Bucket,
            "A grant to AllUsers or AuthenticatedUsers lets anyone on the internet read or write the bucket.",
            "Remove the AllUsers / AuthenticatedUsers grants, disable ACLs (Object Ownership: BucketOwnerEnforced) and enable Block Public Access.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-2",
            None,
            Controls { aws_fsbp: &["S3.2", "S3.3"], security_hub: &["S3.2", "S3.3"], pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4", "v3.2.1/1.3.6", "v3.2.1/7.2.1"], nist_800_53_r5: &["AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)"], ..NONE },
            Check::Bucket(s3::public_acl),
        ),
        define(
            "s3_bucket_public_policy",
            "S3 bucket policy grants access to everyone",
            Critical, S3, AwsS3Bucket,
            "An Allow to the wildcard principal without a narrowing condition makes the bucket public.",
            "Restrict the policy to named principals or add a fixed condition (aws:SourceVpce, aws:PrincipalOrgID, ...); enable Block Public Access.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-2",
            None,
            Controls { aws_fsbp: &["S3.2", "S3.3"], security_hub: &["S3.2", "S3.3"], pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4", "v3.2.1/1.3.6", "v3.2.1/7.2.1"], nist_800_53_r5: &["AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)"], ..NONE },
            Check::Bucket(s3::public_policy),
        ),
        define(
            "s3_bucket_versioning",
            "S3 bucket versioning is not enabled",
            Low, S3, AwsS3Bucket,
            "Without versioning an overwrite or delete, accidental or malicious, cannot be undone.",
            "Enable versioning on the bucket, with a lifecycle rule for noncurrent versions.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-14",
            None,
            Controls { security_hub: &["S3.14"], nist_800_53_r5: &["AU-9(2)", "CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SC-5(2)", "SI-12", "SI-13(5)"], ..NONE },
            Check::Bucket(s3::versioning),
        ),
        define(
            "s3_bucket_access_logging",
            "S3 bucket server access logging is not enabled",
            Medium, S3, AwsS3Bucket,
            "Access logs are the record of who read or changed data, needed for investigations and audits.",
            "Enable server access logging to a dedicated log bucket.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-9",
            None,
            Controls { aws_fsbp: &["S3.9"], security_hub: &["S3.9"], pci_dss: &["v4.0.1/10.2.1"], nist_800_53_r5: &["AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(3)", "AU-6(4)", "CA-7", "SC-7(9)", "SI-3(8)", "SI-4(20)", "SI-7(8)"], ..NONE },
            Check::Bucket(s3::access_logging),
        ),
        define(
            "s3_bucket_secure_transport",
            "S3 bucket policy does not deny requests without TLS",
            Medium, S3, AwsS3Bucket,
            "Without a Deny on aws:SecureTransport=false, clients may read and write data over plain HTTP.",
            "Add a policy statement: Deny, Principal *, Action s3:*, Resource the bucket and its objects, Condition Bool aws:SecureTransport false.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-5",
            None,
            Controls { aws_fsbp: &["S3.5"], security_hub: &["S3.5"], cis_v1_4_0: &["2.1.2"], cis_v3_0_0: &["2.1.1"], pci_dss: &["v3.2.1/4.1", "v4.0.1/4.2.1"], nist_800_53_r5: &["AC-17(2)", "AC-4", "IA-5(1)", "SC-12(3)", "SC-13", "SC-23", "SC-23(3)", "SC-7(4)", "SC-8", "SC-8(1)", "SC-8(2)", "SI-7(6)"] },
            Check::Bucket(s3::secure_transport),
        ),
        define(
            "s3_bucket_mfa_delete",
            "S3 bucket does not require MFA to delete versions",
            Informational, S3, AwsS3Bucket,
            "MFA delete stops a stolen credential from permanently deleting object versions or suspending versioning.",
            "Enable MFA delete with the root user's MFA device (PutBucketVersioning with MFADelete=Enabled).",
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html",
            None,
            Controls { security_hub: &["S3.20"], cis_v1_4_0: &["2.1.3"], cis_v3_0_0: &["2.1.2"], nist_800_53_r5: &["CA-9(1)", "CM-2", "CM-2(2)", "CM-3", "SC-5(2)"], ..NONE },
            Check::Bucket(s3::mfa_delete),
        ),
        define(
            "s3_account_public_access_block",
            "S3 account-level Block Public Access is not fully enabled",
            Medium, S3, AwsAccount,
            "The account-wide setting protects every bucket, including ones created later without their own block.",
            "Enable all four Block Public Access settings for the account (S3 console > Block Public Access settings for this account).",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-1",
            None,
            Controls { aws_fsbp: &["S3.1"], security_hub: &["S3.1"], cis_v1_4_0: &["2.1.5"], cis_v3_0_0: &["2.1.4"], pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4", "v3.2.1/1.3.6", "v4.0.1/1.4.4"], nist_800_53_r5: &["AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)"] },
            Check::S3Account(s3::account_public_access_block),
        ),
        // ---------------------------------------------------------------- EC2 security groups
        define(
            "ec2_sg_open_ssh",
            "Security group allows SSH (TCP 22) from the internet",
            High, Ec2, AwsEc2SecurityGroup,
            "SSH open to 0.0.0.0/0 or ::/0 exposes hosts to brute force and exploitation of the daemon.",
            "Restrict the source to known CIDRs or a prefix list, or use Session Manager instead of SSH.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-13",
            Some(runbooks::RESTRICT_SECURITY_GROUP),
            Controls { aws_fsbp: &["EC2.19"], security_hub: &["EC2.13", "EC2.19", "EC2.53", "EC2.54"], cis_v1_4_0: &["5.2"], cis_v3_0_0: &["5.2", "5.3"], pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/2.2.2", "v4.0.1/1.3.1"], nist_800_53_r5: &["AC-4", "AC-4(21)", "CA-9(1)", "CM-2", "CM-2(2)", "CM-7", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)"] },
            Check::SecurityGroup(ec2::sg_open_ssh),
        ),
        define(
            "ec2_sg_open_rdp",
            "Security group allows RDP (TCP 3389) from the internet",
            High, Ec2, AwsEc2SecurityGroup,
            "RDP open to the internet is a leading ransomware entry point.",
            "Restrict the source to known CIDRs or a prefix list, or use Fleet Manager / a bastion.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-14",
            Some(runbooks::RESTRICT_SECURITY_GROUP),
            Controls { aws_fsbp: &["EC2.19"], security_hub: &["EC2.14", "EC2.19", "EC2.53", "EC2.54"], cis_v1_4_0: &["5.2"], cis_v3_0_0: &["5.2", "5.3"], pci_dss: &["v4.0.1/1.3.1"], nist_800_53_r5: &["AC-4", "AC-4(21)", "CA-9(1)", "CM-2", "CM-2(2)", "CM-7", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)"] },
            Check::SecurityGroup(ec2::sg_open_rdp),
        ),
        define(
            "ec2_sg_open_all_ports",
            "Security group allows all ports or all protocols from the internet",
            Critical, Ec2, AwsEc2SecurityGroup,
            "Every service on the attached hosts is reachable from anywhere.",
            "Replace the rule with rules for the specific ports the workload serves.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-18",
            Some(runbooks::RESTRICT_SECURITY_GROUP),
            Controls { aws_fsbp: &["EC2.18", "EC2.19"], security_hub: &["EC2.18", "EC2.19"], cis_v1_4_0: &["5.2"], cis_v3_0_0: &["5.2", "5.3"], nist_800_53_r5: &["AC-4", "AC-4(21)", "CA-9(1)", "CM-2", "CM-2(2)", "CM-7", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)"], ..NONE },
            Check::SecurityGroup(ec2::sg_open_all_ports),
        ),
        define(
            "ec2_sg_open_high_risk_ports",
            "Security group allows high-risk ports from the internet",
            Critical, Ec2, AwsEc2SecurityGroup,
            "Database, file-sharing, mail and admin ports (FSBP EC2.19 list) are common attack targets.",
            "Restrict these ports to private CIDRs, prefix lists or security group references.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19",
            Some(runbooks::RESTRICT_SECURITY_GROUP),
            Controls { aws_fsbp: &["EC2.19"], security_hub: &["EC2.19"], nist_800_53_r5: &["AC-4", "AC-4(21)", "CA-9(1)", "CM-2", "CM-2(2)", "CM-7", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)"], ..NONE },
            Check::SecurityGroup(ec2::sg_open_high_risk_ports),
        ),
        define(
            "ec2_default_sg_restricts_all",
            "VPC default security group allows traffic",
            High, Ec2, AwsEc2SecurityGroup,
            "Resources launched without a group land in the default one; it should allow nothing.",
            "Remove every inbound and outbound rule from the default security group and use dedicated groups.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2",
            None,
            Controls { aws_fsbp: &["EC2.2"], security_hub: &["EC2.2"], cis_v1_4_0: &["5.3"], cis_v3_0_0: &["5.4"], pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.4", "v3.2.1/2.1"], nist_800_53_r5: &["AC-4", "AC-4(21)", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)"] },
            Check::SecurityGroup(ec2::default_sg_restricts_all),
        ),
        // ---------------------------------------------------------------- EC2 instances and EBS
        define(
            "ec2_instance_imdsv2",
            "EC2 instance allows IMDSv1",
            High, Ec2, AwsEc2Instance,
            "IMDSv1 answers unauthenticated GETs, which SSRF bugs turn into stolen instance credentials.",
            "Set HttpTokens=required (ModifyInstanceMetadataOptions), after checking the software uses IMDSv2.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-8",
            None,
            Controls { aws_fsbp: &["EC2.8"], security_hub: &["EC2.8"], cis_v3_0_0: &["5.6"], pci_dss: &["v4.0.1/2.2.6"], nist_800_53_r5: &["AC-3", "AC-3(15)", "AC-3(7)", "AC-6"], ..NONE },
            Check::Instance(ec2::instance_imdsv2),
        ),
        define(
            "ec2_instance_public_ip",
            "EC2 instance has a public IPv4 address",
            High, Ec2, AwsEc2Instance,
            "A public address makes the instance reachable from the internet whenever a rule allows it.",
            "Launch into private subnets behind a load balancer or NAT; disable auto-assigned public IPs.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-9",
            None,
            Controls { aws_fsbp: &["EC2.9"], security_hub: &["EC2.9"], nist_800_53_r5: &["AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)"], ..NONE },
            Check::Instance(ec2::instance_public_ip),
        ),
        define(
            "ec2_ebs_volume_encrypted",
            "EBS volume is not encrypted",
            Medium, Ec2, AwsEc2Volume,
            "Unencrypted volumes and their snapshots expose data at rest.",
            "Snapshot the volume, copy the snapshot with encryption, and replace the volume; enable EBS encryption by default.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-3",
            None,
            Controls { aws_fsbp: &["EC2.3"], security_hub: &["EC2.3"], nist_800_53_r5: &["CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)"], ..NONE },
            Check::Volume(ec2::volume_encrypted),
        ),
        define(
            "ec2_ebs_default_encryption",
            "EBS encryption by default is off in the region",
            Medium, Ec2, AwsAccount,
            "With the default on, every new volume and snapshot copy is encrypted without relying on each launch.",
            "Enable EBS encryption by default in the region (EnableEbsEncryptionByDefault).",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-7",
            None,
            Controls { aws_fsbp: &["EC2.7"], security_hub: &["EC2.7"], cis_v1_4_0: &["2.2.1"], cis_v3_0_0: &["2.2.1"], nist_800_53_r5: &["CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)"], ..NONE },
            Check::EbsDefault(ec2::ebs_default_encryption),
        ),
        // ---------------------------------------------------------------- RDS
        define(
            "rds_instance_public",
            "RDS DB instance is publicly accessible",
            Critical, Rds, AwsRdsDbInstance,
            "A public endpoint exposes the database to credential attacks and engine exploits from anywhere.",
            "Modify the instance with PubliclyAccessible=false and reach it from inside the VPC.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-2",
            Some(runbooks::PRIVATE_RDS_INSTANCE),
            Controls { aws_fsbp: &["RDS.2"], security_hub: &["RDS.2"], cis_v3_0_0: &["2.3.3"], pci_dss: &["v3.2.1/1.2.1", "v3.2.1/1.3.1", "v3.2.1/1.3.2", "v3.2.1/1.3.4", "v3.2.1/1.3.6", "v3.2.1/7.2.1", "v4.0.1/1.4.4"], nist_800_53_r5: &["AC-4", "AC-4(21)", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(21)", "SC-7(4)", "SC-7(5)"], ..NONE },
            Check::DbInstance(rds::publicly_accessible),
        ),
        define(
            "rds_instance_storage_encrypted",
            "RDS DB instance storage is not encrypted",
            Medium, Rds, AwsRdsDbInstance,
            "Data, logs, backups and snapshots of an unencrypted instance are stored in clear.",
            "Restore an encrypted copy from an encrypted snapshot copy and switch over; encryption cannot be turned on in place.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-3",
            None,
            Controls { aws_fsbp: &["RDS.3"], security_hub: &["RDS.3"], cis_v1_4_0: &["2.3.1"], cis_v3_0_0: &["2.3.1"], nist_800_53_r5: &["CA-9(1)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "SI-7(6)"], ..NONE },
            Check::DbInstance(rds::storage_encrypted),
        ),
        define(
            "rds_instance_backup_enabled",
            "RDS DB instance has automated backups turned off",
            Medium, Rds, AwsRdsDbInstance,
            "Without automated backups there is no point-in-time recovery after corruption or deletion.",
            "Set a backup retention period of at least 7 days.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-11",
            None,
            Controls { aws_fsbp: &["RDS.11"], security_hub: &["RDS.11"], nist_800_53_r5: &["CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SC-5(2)", "SI-12", "SI-13(5)"], ..NONE },
            Check::DbInstance(rds::backup_enabled),
        ),
        define(
            "rds_instance_deletion_protection",
            "RDS DB instance does not have deletion protection",
            Low, Rds, AwsRdsDbInstance,
            "Deletion protection stops an accidental or malicious DeleteDBInstance.",
            "Modify the instance with DeletionProtection=true.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-8",
            None,
            Controls { aws_fsbp: &["RDS.8"], security_hub: &["RDS.8"], nist_800_53_r5: &["CM-3", "SC-5(2)", "SI-13(5)"], ..NONE },
            Check::DbInstance(rds::deletion_protection),
        ),
        define(
            "rds_instance_multi_az",
            "RDS DB instance is not Multi-AZ",
            Medium, Rds, AwsRdsDbInstance,
            "A single-AZ instance is down for the length of an AZ outage or a host failure.",
            "Modify the instance with MultiAZ=true.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-5",
            None,
            Controls { aws_fsbp: &["RDS.5"], security_hub: &["RDS.5"], nist_800_53_r5: &["CP-10", "CP-6(2)", "SC-36", "SC-5(2)", "SI-13(5)"], ..NONE },
            Check::DbInstance(rds::multi_az),
        ),
        define(
            "rds_instance_auto_minor_version_upgrade",
            "RDS DB instance does not apply minor version upgrades automatically",
            High, Rds, AwsRdsDbInstance,
            "Minor versions carry security fixes; without automatic upgrades they wait for someone to remember.",
            "Modify the instance with AutoMinorVersionUpgrade=true.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-13",
            None,
            Controls { aws_fsbp: &["RDS.13"], security_hub: &["RDS.13"], cis_v3_0_0: &["2.3.2"], pci_dss: &["v4.0.1/6.3.3"], nist_800_53_r5: &["SI-2", "SI-2(2)", "SI-2(4)", "SI-2(5)"], ..NONE },
            Check::DbInstance(rds::auto_minor_version_upgrade),
        ),
        define(
            "rds_instance_iam_authentication",
            "RDS DB instance does not use IAM database authentication",
            Medium, Rds, AwsRdsDbInstance,
            "IAM authentication replaces long-lived database passwords with short-lived tokens.",
            "Modify the instance with EnableIAMDatabaseAuthentication=true and grant rds-db:connect.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-10",
            None,
            Controls { aws_fsbp: &["RDS.10"], security_hub: &["RDS.10"], nist_800_53_r5: &["AC-2(1)", "AC-3", "AC-3(15)", "AC-3(7)", "AC-6"], ..NONE },
            Check::DbInstance(rds::iam_authentication),
        ),
        define(
            "rds_instance_copy_tags_to_snapshot",
            "RDS DB instance does not copy tags to snapshots",
            Low, Rds, AwsRdsDbInstance,
            "Untagged snapshots lose ownership and classification, and escape tag-based access control.",
            "Modify the instance with CopyTagsToSnapshot=true.",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-17",
            None,
            Controls { aws_fsbp: &["RDS.17"], security_hub: &["RDS.17"], nist_800_53_r5: &["CA-9(1)", "CM-2", "CM-2(2)"], ..NONE },
            Check::DbInstance(rds::copy_tags_to_snapshot),
        ),
        // ---------------------------------------------------------------- cross-service
        Rule {
            id: "resource_required_tags",
            title: "Resource is missing required tags",
            severity: Low,
            service: None,
            resource_type: None,
            rationale: "Ownership and classification tags route findings to the right team and drive tag-based access and cost controls.",
            remediation: "Add the missing tag keys listed in the evidence (required keys come from /compliance/scanner/config/required-tags).",
            remediation_url: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
            runbook: None,
            controls: Controls { security_hub: &["EC2.38", "EC2.43", "EC2.45", "RDS.30"], ..NONE },
            check: Check::Tags(tags::required_tags),
        },
    ]
}

/// All rules, in a fixed order.
pub fn catalog() -> &'static [Rule] {
    static CATALOG: OnceLock<Vec<Rule>> = OnceLock::new();
    CATALOG.get_or_init(build)
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
                assert!(runbook.starts_with("ComplianceScanner-"), "{runbook}");
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
