//! What the scanner reads from AWS: a plain, serialisable inventory. Collectors fill it; rules read it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

mod rds;
pub use rds::{DbCluster, DbSnapshot, RdsEventSubscription};
mod lambda;
pub use lambda::LambdaFunction;
mod ec2;
pub use ec2::{
    EbsSnapshotSharing, Ec2BlockPublicAccess, FlowLog, LaunchTemplate, LaunchTemplateData,
    LaunchTemplateEbs, LaunchTemplateNetworkInterface, NetworkAcl, NetworkAclEntry,
    NetworkInterface, Subnet, Vpc, VpcEndpoint,
};

pub type Tags = BTreeMap<String, String>;

/// The AWS services the scanner covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Ec2,
    S3,
    Rds,
    CloudTrail,
    Iam,
    Lambda,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Ec2,
        Service::S3,
        Service::Rds,
        Service::CloudTrail,
        Service::Iam,
        Service::Lambda,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::S3 => "s3",
            Service::Rds => "rds",
            Service::CloudTrail => "cloudtrail",
            Service::Iam => "iam",
            Service::Lambda => "lambda",
        }
    }

    /// Account-wide services, scanned once per account (in the plan's first region), not per
    /// region: S3 bucket listing, CloudTrail's ListTrails (every trail with its home region) and
    /// IAM.
    pub fn is_global(self) -> bool {
        matches!(self, Service::S3 | Service::CloudTrail | Service::Iam)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ec2" => Ok(Service::Ec2),
            "s3" => Ok(Service::S3),
            "rds" => Ok(Service::Rds),
            "cloudtrail" => Ok(Service::CloudTrail),
            "iam" => Ok(Service::Iam),
            "lambda" => Ok(Service::Lambda),
            other => Err(CoreError::UnknownService(other.to_string())),
        }
    }
}

/// Resource types, named as in the AWS Security Finding Format so findings map 1:1 to ASFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceType {
    AwsAccount,
    AwsEc2SecurityGroup,
    AwsEc2Instance,
    AwsEc2Volume,
    AwsS3Bucket,
    AwsS3AccessPoint,
    AwsS3MultiRegionAccessPoint,
    AwsRdsDbInstance,
    AwsCloudTrailTrail,
    AwsRdsDbCluster,
    AwsRdsDbSnapshot,
    AwsRdsDbClusterSnapshot,
    AwsRdsEventSubscription,
    // EC2 networking and launch templates (issue 11).
    AwsEc2Vpc,
    AwsEc2Subnet,
    AwsEc2NetworkAcl,
    AwsEc2NetworkInterface,
    AwsEc2LaunchTemplate,
    AwsLambdaFunction,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::AwsAccount => "AwsAccount",
            ResourceType::AwsEc2SecurityGroup => "AwsEc2SecurityGroup",
            ResourceType::AwsEc2Instance => "AwsEc2Instance",
            ResourceType::AwsEc2Volume => "AwsEc2Volume",
            ResourceType::AwsS3Bucket => "AwsS3Bucket",
            ResourceType::AwsS3AccessPoint => "AwsS3AccessPoint",
            ResourceType::AwsS3MultiRegionAccessPoint => "AwsS3MultiRegionAccessPoint",
            ResourceType::AwsRdsDbInstance => "AwsRdsDbInstance",
            ResourceType::AwsCloudTrailTrail => "AwsCloudTrailTrail",
            ResourceType::AwsRdsDbCluster => "AwsRdsDbCluster",
            ResourceType::AwsRdsDbSnapshot => "AwsRdsDbSnapshot",
            ResourceType::AwsRdsDbClusterSnapshot => "AwsRdsDbClusterSnapshot",
            ResourceType::AwsRdsEventSubscription => "AwsRdsEventSubscription",
            ResourceType::AwsEc2Vpc => "AwsEc2Vpc",
            ResourceType::AwsEc2Subnet => "AwsEc2Subnet",
            ResourceType::AwsEc2NetworkAcl => "AwsEc2NetworkAcl",
            ResourceType::AwsEc2NetworkInterface => "AwsEc2NetworkInterface",
            ResourceType::AwsEc2LaunchTemplate => "AwsEc2LaunchTemplate",
            ResourceType::AwsLambdaFunction => "AwsLambdaFunction",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ARN partition of a region.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The partition an ARN names (`None` for ids that are not ARNs, such as `AWS::::Account:…`).
pub fn partition_of_arn(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .next()
        .filter(|p| !p.is_empty())
}

/// The identifier Security Hub uses for account-level resources.
pub fn account_resource_id(account_id: &str) -> String {
    format!("AWS::::Account:{account_id}")
}

/// One ingress or egress permission of a security group, as EC2 describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPermission {
    /// `-1` (all), `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    #[serde(default)]
    pub ipv4_ranges: Vec<String>,
    #[serde(default)]
    pub ipv6_ranges: Vec<String>,
    #[serde(default)]
    pub prefix_list_ids: Vec<String>,
    #[serde(default)]
    pub referenced_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub arn: String,
    pub region: String,
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub ingress: Vec<IpPermission>,
    #[serde(default)]
    pub egress: Vec<IpPermission>,
    #[serde(default)]
    pub tags: Tags,
}

impl SecurityGroup {
    /// Every VPC has exactly one group named `default`, which cannot be renamed.
    pub fn is_vpc_default(&self) -> bool {
        self.name == "default"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub arn: String,
    pub region: String,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down` or `terminated`.
    pub state: String,
    /// IMDS `HttpTokens`: `required` (IMDSv2 only) or `optional`.
    pub metadata_http_tokens: Option<String>,
    /// IMDS `HttpEndpoint`: `enabled` or `disabled`.
    pub metadata_http_endpoint: Option<String>,
    pub public_ip: Option<String>,
    /// `StateTransitionReason`, e.g. `User initiated (2026-01-01 12:00:00 GMT)`.
    #[serde(default)]
    pub state_transition_reason: Option<String>,
    /// `LaunchTime`, RFC 3339.
    #[serde(default)]
    pub launch_time: Option<String>,
    /// When the scan read the instance (RFC 3339): the "now" its stopped time is measured to.
    #[serde(default)]
    pub read_at: Option<String>,
    /// Network interfaces attached (ENIs and EFAs).
    #[serde(default)]
    pub network_interface_count: usize,
    /// `hvm` or `paravirtual`.
    #[serde(default)]
    pub virtualization_type: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl Instance {
    /// Terminated instances are gone; EC2 only keeps listing them for a while.
    pub fn exists(&self) -> bool {
        !matches!(self.state.as_str(), "terminated" | "shutting-down")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub encrypted: bool,
    pub state: String,
    #[serde(default)]
    pub attached_instance_ids: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

/// The per-region "EBS encryption by default" account setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EbsEncryptionDefault {
    pub region: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn all_enabled(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }

    /// Names of the settings that are off, for evidence.
    pub fn disabled_settings(&self) -> Vec<&'static str> {
        let mut off = Vec::new();
        if !self.block_public_acls {
            off.push("BlockPublicAcls");
        }
        if !self.ignore_public_acls {
            off.push("IgnorePublicAcls");
        }
        if !self.block_public_policy {
            off.push("BlockPublicPolicy");
        }
        if !self.restrict_public_buckets {
            off.push("RestrictPublicBuckets");
        }
        off
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclGrant {
    /// Set for group grantees, e.g. `http://acs.amazonaws.com/groups/global/AllUsers`.
    pub grantee_uri: Option<String>,
    pub grantee_id: Option<String>,
    pub permission: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketVersioning {
    /// `Enabled`, `Suspended`, or `None` when versioning was never configured.
    pub status: Option<String>,
    /// `Enabled` or `Disabled`.
    pub mfa_delete: Option<String>,
}

/// A bucket's configuration. A `None` attribute means "not configured"; an attribute whose
/// API call failed is listed in `unreadable` instead, so that no rule guesses about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub arn: String,
    pub region: String,
    pub encryption: Option<BucketEncryption>,
    pub public_access_block: Option<PublicAccessBlock>,
    #[serde(default)]
    pub acl_grants: Vec<AclGrant>,
    /// The bucket policy document as S3 returned it (user-controlled JSON).
    pub policy: Option<String>,
    /// `GetBucketPolicyStatus.IsPublic`, when S3 answered it.
    pub policy_is_public: Option<bool>,
    #[serde(default)]
    pub versioning: BucketVersioning,
    /// Target bucket of server access logging, when enabled.
    pub logging_target: Option<String>,
    /// The canonical user id of the bucket's owner (`GetBucketAcl`'s `Owner.ID`).
    #[serde(default)]
    pub owner_id: Option<String>,
    /// Lifecycle rules; `None`: no lifecycle configuration.
    #[serde(default)]
    pub lifecycle_rules: Option<Vec<LifecycleRule>>,
    /// Replication rules; `None`: no replication configuration.
    #[serde(default)]
    pub replication_rules: Option<Vec<ReplicationRule>>,
    /// Event notification destinations (`GetBucketNotificationConfiguration`).
    #[serde(default)]
    pub notifications: BucketNotifications,
    /// Object Lock; `None`: no Object Lock configuration.
    #[serde(default)]
    pub object_lock: Option<ObjectLock>,
    #[serde(default)]
    pub tags: Tags,
    /// APIs whose answer is missing for this bucket (e.g. `GetBucketPolicy` denied).
    #[serde(default)]
    pub unreadable: Vec<String>,
}

impl Bucket {
    pub fn arn_for(name: &str) -> String {
        format!("arn:aws:s3:::{name}")
    }

    pub fn is_unreadable(&self, api: &str) -> bool {
        self.unreadable.iter().any(|a| a == api)
    }
}

/// One lifecycle rule, reduced to what the checks compare.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// `Status` is `Enabled` (the other value is `Disabled`).
    pub enabled: bool,
    /// `Expiration.Days`, when the rule expires objects after a number of days.
    pub expiration_days: Option<i32>,
    #[serde(default)]
    pub transitions: Vec<LifecycleTransition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleTransition {
    pub days: Option<i32>,
    /// `STANDARD_IA`, `GLACIER`, ...
    pub storage_class: Option<String>,
}

/// One replication rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationRule {
    pub enabled: bool,
    /// The destination bucket's ARN.
    pub destination_bucket: String,
    /// The destination's region, when the scan read that bucket (the account's own buckets).
    pub destination_region: Option<String>,
}

/// A bucket's event notification destinations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketNotifications {
    /// Event types of each SNS, SQS and Lambda destination (e.g. `s3:ObjectCreated:*`).
    #[serde(default)]
    pub event_types: Vec<Vec<String>>,
    /// Amazon EventBridge receives every event of the bucket.
    #[serde(default)]
    pub eventbridge: bool,
}

impl BucketNotifications {
    pub fn is_enabled(&self) -> bool {
        self.eventbridge || !self.event_types.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    /// `ObjectLockEnabled` is `Enabled`.
    pub enabled: bool,
    /// The default retention mode, `GOVERNANCE` or `COMPLIANCE`, when one is set.
    pub default_retention_mode: Option<String>,
}

/// An S3 access point (regional), with its own Block Public Access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPoint {
    pub name: String,
    pub arn: String,
    pub region: String,
    pub bucket: String,
    /// `None` when `GetAccessPoint` did not answer (listed in `unreadable`).
    pub public_access_block: Option<PublicAccessBlock>,
    /// APIs whose answer is missing for this access point.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

/// An S3 Multi-Region Access Point (global), with its Block Public Access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiRegionAccessPoint {
    pub name: String,
    pub arn: String,
    /// The region its findings are reported in (the account's S3 unit).
    pub region: String,
    pub public_access_block: Option<PublicAccessBlock>,
}

/// Account-wide S3 settings (S3 Control).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3AccountSettings {
    /// The region the account-level finding is reported in (S3 Control is global).
    pub region: String,
    pub public_access_block: Option<PublicAccessBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInstance {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub engine: String,
    pub publicly_accessible: bool,
    pub storage_encrypted: bool,
    pub backup_retention_period: i32,
    pub deletion_protection: bool,
    pub multi_az: bool,
    pub auto_minor_version_upgrade: bool,
    pub iam_database_authentication: bool,
    pub copy_tags_to_snapshot: bool,
    /// The cluster the instance belongs to (Aurora, or a Multi-AZ DB cluster).
    #[serde(default)]
    pub db_cluster_identifier: Option<String>,
    /// Seconds between Enhanced Monitoring samples; 0: Enhanced Monitoring off.
    #[serde(default)]
    pub monitoring_interval: i32,
    /// Log types published to CloudWatch Logs.
    #[serde(default)]
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// The port the instance listens on.
    #[serde(default)]
    pub port: Option<i32>,
    #[serde(default)]
    pub master_username: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl DbInstance {
    /// Aurora keeps backups, deletion protection and Multi-AZ on the cluster, not the instance.
    pub fn is_aurora(&self) -> bool {
        self.engine.starts_with("aurora")
    }

    /// A member of a DB cluster (Aurora or Multi-AZ DB cluster), whose cluster holds settings
    /// such as backups, log exports, the port and the admin user.
    pub fn in_cluster(&self) -> bool {
        self.db_cluster_identifier.is_some()
    }

    pub fn exports_log(&self, log_type: &str) -> bool {
        self.enabled_cloudwatch_logs_exports
            .iter()
            .any(|l| l == log_type)
    }
}

/// One basic event selector of a trail (`GetEventSelectors.EventSelectors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSelector {
    /// `ReadOnly`, `WriteOnly` or `All`.
    pub read_write_type: String,
    pub include_management_events: bool,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
    /// Data resources: (type, values), e.g. (`AWS::S3::Object`, [`arn:aws:s3`]).
    #[serde(default)]
    pub data_resources: Vec<(String, Vec<String>)>,
}

/// One field selector of an advanced event selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSelector {
    /// `eventCategory`, `readOnly`, `eventSource`, `resources.type`, `resources.ARN`, ...
    pub field: String,
    #[serde(default)]
    pub equals: Vec<String>,
    /// Any other operator (`NotEquals`, `StartsWith`, `NotStartsWith`, `EndsWith`, ...) with its
    /// values: each narrows what the selector logs.
    #[serde(default)]
    pub other: Vec<(String, Vec<String>)>,
}

/// What a trail logs (`GetEventSelectors`). Both lists empty: no custom selectors, which is
/// CloudTrail's default of every read and write management event and no data events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailSelectors {
    #[serde(default)]
    pub basic: Vec<EventSelector>,
    /// Advanced event selectors, each a list of field selectors.
    #[serde(default)]
    pub advanced: Vec<Vec<FieldSelector>>,
}

/// A CloudTrail trail, described in its home region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    /// The trail's home region.
    pub region: String,
    pub is_multi_region: bool,
    pub is_organization_trail: bool,
    pub log_file_validation: bool,
    pub kms_key_id: Option<String>,
    pub cloudwatch_logs_log_group_arn: Option<String>,
    pub s3_bucket_name: Option<String>,
    /// `GetTrailStatus.IsLogging`; `None` when unreadable (listed in `unreadable`).
    pub is_logging: Option<bool>,
    /// `None` when unreadable (listed in `unreadable`).
    pub selectors: Option<TrailSelectors>,
    /// APIs whose answer is missing for this trail.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

impl Trail {
    /// The account that owns the trail (an organization trail's is the management account).
    pub fn owner_account(&self) -> Option<&str> {
        self.arn.split(':').nth(4)
    }
}

/// The account's trails as ListTrails gave them, each described in its home region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudTrailAccount {
    /// The region the account-level findings are reported in (the scan's first region).
    pub region: String,
    #[serde(default)]
    pub trails: Vec<Trail>,
}

/// The root user's settings (IAM GetAccountSummary, ListVirtualMFADevices). `None`: unreadable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamAccountSettings {
    /// The region the account-level findings are reported in (IAM is global).
    pub region: String,
    /// `AccountMFAEnabled`: the root user has an MFA device.
    pub root_mfa_enabled: Option<bool>,
    /// `AccountAccessKeysPresent`: the root user has access keys.
    pub root_access_keys_present: Option<bool>,
    /// Serial numbers of assigned virtual MFA devices whose user is the root user.
    pub root_virtual_mfa_devices: Option<Vec<String>>,
}

/// Everything one scan read. Partial inventories (one region, one service) merge into one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub account_id: String,
    #[serde(default)]
    pub security_groups: Vec<SecurityGroup>,
    #[serde(default)]
    pub instances: Vec<Instance>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    #[serde(default)]
    pub ebs_encryption_defaults: Vec<EbsEncryptionDefault>,
    #[serde(default)]
    pub buckets: Vec<Bucket>,
    #[serde(default)]
    pub s3_account: Option<S3AccountSettings>,
    #[serde(default)]
    pub access_points: Vec<AccessPoint>,
    #[serde(default)]
    pub multi_region_access_points: Vec<MultiRegionAccessPoint>,
    #[serde(default)]
    pub db_instances: Vec<DbInstance>,
    #[serde(default)]
    pub cloudtrail: Option<CloudTrailAccount>,
    #[serde(default)]
    pub iam_account: Option<IamAccountSettings>,
    #[serde(default)]
    pub db_clusters: Vec<DbCluster>,
    /// Manual DB snapshots.
    #[serde(default)]
    pub db_snapshots: Vec<DbSnapshot>,
    /// Manual DB cluster snapshots.
    #[serde(default)]
    pub db_cluster_snapshots: Vec<DbSnapshot>,
    #[serde(default)]
    pub rds_event_subscriptions: Vec<RdsEventSubscription>,
    // EC2 networking, launch templates and snapshot sharing (issue 11).
    #[serde(default)]
    pub vpcs: Vec<Vpc>,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub network_acls: Vec<NetworkAcl>,
    #[serde(default)]
    pub network_interfaces: Vec<NetworkInterface>,
    #[serde(default)]
    pub launch_templates: Vec<LaunchTemplate>,
    #[serde(default)]
    pub ebs_snapshot_sharing: Vec<EbsSnapshotSharing>,
    #[serde(default)]
    pub ec2_block_public_access: Vec<Ec2BlockPublicAccess>,
    #[serde(default)]
    pub lambda_functions: Vec<LambdaFunction>,
}

impl Inventory {
    pub fn new(account_id: impl Into<String>) -> Self {
        Inventory {
            account_id: account_id.into(),
            ..Default::default()
        }
    }

    pub fn merge(&mut self, other: Inventory) {
        if self.account_id.is_empty() {
            self.account_id = other.account_id;
        }
        self.security_groups.extend(other.security_groups);
        self.instances.extend(other.instances);
        self.volumes.extend(other.volumes);
        self.ebs_encryption_defaults
            .extend(other.ebs_encryption_defaults);
        self.buckets.extend(other.buckets);
        if other.s3_account.is_some() {
            self.s3_account = other.s3_account;
        }
        self.access_points.extend(other.access_points);
        self.multi_region_access_points
            .extend(other.multi_region_access_points);
        self.db_instances.extend(other.db_instances);
        if other.cloudtrail.is_some() {
            self.cloudtrail = other.cloudtrail;
        }
        if other.iam_account.is_some() {
            self.iam_account = other.iam_account;
        }
        self.db_clusters.extend(other.db_clusters);
        self.db_snapshots.extend(other.db_snapshots);
        self.db_cluster_snapshots.extend(other.db_cluster_snapshots);
        self.rds_event_subscriptions
            .extend(other.rds_event_subscriptions);
        self.vpcs.extend(other.vpcs);
        self.subnets.extend(other.subnets);
        self.network_acls.extend(other.network_acls);
        self.network_interfaces.extend(other.network_interfaces);
        self.launch_templates.extend(other.launch_templates);
        self.ebs_snapshot_sharing.extend(other.ebs_snapshot_sharing);
        self.ec2_block_public_access
            .extend(other.ec2_block_public_access);
        self.lambda_functions.extend(other.lambda_functions);
    }

    /// Resources and account settings read, the denominator users expect in "N resources scanned".
    pub fn resource_count(&self) -> usize {
        self.resources_by_type().values().sum()
    }

    /// Resources read per ASFF resource type; account-wide settings (one per account, or one per
    /// region such as EBS encryption by default) count under `AwsAccount`. The bench divides
    /// requests by these.
    pub fn resources_by_type(&self) -> BTreeMap<&'static str, usize> {
        let account_settings = self.ebs_encryption_defaults.len()
            + usize::from(self.s3_account.is_some())
            + usize::from(self.cloudtrail.is_some())
            + usize::from(self.iam_account.is_some())
            + self.ebs_snapshot_sharing.len()
            + self.ec2_block_public_access.len();
        let counts = [
            (ResourceType::AwsAccount, account_settings),
            (
                ResourceType::AwsEc2SecurityGroup,
                self.security_groups.len(),
            ),
            (
                ResourceType::AwsEc2Instance,
                self.instances.iter().filter(|i| i.exists()).count(),
            ),
            (ResourceType::AwsEc2Volume, self.volumes.len()),
            (ResourceType::AwsEc2Vpc, self.vpcs.len()),
            (ResourceType::AwsEc2Subnet, self.subnets.len()),
            (ResourceType::AwsEc2NetworkAcl, self.network_acls.len()),
            (
                ResourceType::AwsEc2NetworkInterface,
                self.network_interfaces.len(),
            ),
            (
                ResourceType::AwsEc2LaunchTemplate,
                self.launch_templates.len(),
            ),
            (ResourceType::AwsS3Bucket, self.buckets.len()),
            (ResourceType::AwsS3AccessPoint, self.access_points.len()),
            (
                ResourceType::AwsS3MultiRegionAccessPoint,
                self.multi_region_access_points.len(),
            ),
            (ResourceType::AwsRdsDbInstance, self.db_instances.len()),
            (ResourceType::AwsRdsDbCluster, self.db_clusters.len()),
            (ResourceType::AwsRdsDbSnapshot, self.db_snapshots.len()),
            (
                ResourceType::AwsRdsDbClusterSnapshot,
                self.db_cluster_snapshots.len(),
            ),
            (
                ResourceType::AwsRdsEventSubscription,
                self.rds_event_subscriptions.len(),
            ),
            (
                ResourceType::AwsCloudTrailTrail,
                self.cloudtrail.as_ref().map_or(0, |c| c.trails.len()),
            ),
            (ResourceType::AwsLambdaFunction, self.lambda_functions.len()),
        ];
        counts
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (t.as_str(), n))
            .collect()
    }
}
