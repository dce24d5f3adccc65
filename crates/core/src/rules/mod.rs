//! The rule catalog: what is checked, how severe a failure is, and which controls it maps to.
//! A rule is one named-field definition next to its check, in the file of its service.

mod catalog;
pub mod cloudtrail;
pub mod controls;
pub mod docs;
pub mod ec2;
pub mod ec2_compute;
pub mod ec2_network;
pub mod frameworks;
pub mod iam;
pub mod lambda;
pub mod parameters;
pub mod rds;
pub mod rds_cluster;
pub mod rds_event;
pub mod rds_instance;
pub mod rds_snapshot;
pub mod runbook;
pub mod s3;
pub mod s3_access_points;
pub mod s3_protection;
pub mod tags;

use crate::finding::{Outcome, Severity};
use crate::model::{
    AccessPoint, Bucket, CloudTrailAccount, DbCluster, DbInstance, DbSnapshot,
    EbsEncryptionDefault, EbsSnapshotSharing, Ec2BlockPublicAccess, IamAccountSettings, Instance,
    LambdaFunction, LaunchTemplate, MultiRegionAccessPoint, NetworkAcl, NetworkInterface,
    PublicAccessBlock, RdsEventSubscription, ResourceType, S3AccountSettings, SecurityGroup,
    Service, Subnet, Tags, Trail, Volume, Vpc,
};

pub use catalog::{catalog, rule};
pub use controls::Controls;
pub use parameters::{
    DifferingParameter, IntegerListParameter, IntegerParameter, Parameter, ParameterUse,
    ParametersCollector, RuleParameters, RuleParametersUsed, StringListParameter,
    PARAM_RULE_PARAMETERS,
};
pub use runbook::{RemediationEvidence, Runbook, RunbookParameters};

/// What a check may consult beyond the resource itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub account_id: &'a str,
    /// Tag keys every taggable resource must carry (from config; empty disables the tag rule).
    pub required_tags: &'a [String],
    /// The account-wide S3 Block Public Access, which overrides bucket ACLs and policies.
    pub account_public_access_block: Option<&'a PublicAccessBlock>,
    /// Thresholds of the rules that take parameters (defaults unless configured).
    pub parameters: &'a RuleParameters,
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
    AccessPoint(fn(&AccessPoint, &Context) -> Outcome),
    MultiRegionAccessPoint(fn(&MultiRegionAccessPoint, &Context) -> Outcome),
    DbInstance(fn(&DbInstance, &Context) -> Outcome),
    /// The account's trails together (account-level CloudTrail settings).
    CloudTrailAccount(fn(&CloudTrailAccount, &Context) -> Outcome),
    Trail(fn(&Trail, &Context) -> Outcome),
    IamAccount(fn(&IamAccountSettings, &Context) -> Outcome),
    DbCluster(fn(&DbCluster, &Context) -> Outcome),
    /// Manual DB snapshots.
    DbSnapshot(fn(&DbSnapshot, &Context) -> Outcome),
    /// Manual DB cluster snapshots.
    DbClusterSnapshot(fn(&DbSnapshot, &Context) -> Outcome),
    RdsEventSubscription(fn(&RdsEventSubscription, &Context) -> Outcome),
    // EC2 networking, launch templates and snapshot sharing (issue 11).
    Vpc(fn(&Vpc, &Context) -> Outcome),
    Subnet(fn(&Subnet, &Context) -> Outcome),
    NetworkAcl(fn(&NetworkAcl, &Context) -> Outcome),
    NetworkInterface(fn(&NetworkInterface, &Context) -> Outcome),
    LaunchTemplate(fn(&LaunchTemplate, &Context) -> Outcome),
    /// Per region, account-level: the account's publicly restorable snapshots.
    SnapshotSharing(fn(&EbsSnapshotSharing, &Context) -> Outcome),
    /// Per region, account-level: EBS snapshot and VPC Block Public Access.
    Ec2BlockPublicAccess(fn(&Ec2BlockPublicAccess, &Context) -> Outcome),
    LambdaFunction(fn(&LambdaFunction, &Context) -> Outcome),
    /// Applies to every taggable resource of every service.
    Tags(fn(&Tags, &Context) -> Outcome),
}

impl Check {
    /// The service whose resources the check inspects; `None` for cross-service checks.
    pub const fn service(&self) -> Option<Service> {
        match self {
            Check::SecurityGroup(_)
            | Check::Instance(_)
            | Check::Volume(_)
            | Check::EbsDefault(_)
            | Check::Vpc(_)
            | Check::Subnet(_)
            | Check::NetworkAcl(_)
            | Check::NetworkInterface(_)
            | Check::LaunchTemplate(_)
            | Check::SnapshotSharing(_)
            | Check::Ec2BlockPublicAccess(_) => Some(Service::Ec2),
            Check::Bucket(_)
            | Check::S3Account(_)
            | Check::AccessPoint(_)
            | Check::MultiRegionAccessPoint(_) => Some(Service::S3),
            Check::DbInstance(_)
            | Check::DbCluster(_)
            | Check::DbSnapshot(_)
            | Check::DbClusterSnapshot(_)
            | Check::RdsEventSubscription(_) => Some(Service::Rds),
            Check::CloudTrailAccount(_) | Check::Trail(_) => Some(Service::CloudTrail),
            Check::IamAccount(_) => Some(Service::Iam),
            Check::LambdaFunction(_) => Some(Service::Lambda),
            Check::Tags(_) => None,
        }
    }

    /// The type of resource a finding names; account-wide settings are the account.
    pub const fn resource_type(&self) -> Option<ResourceType> {
        match self {
            Check::SecurityGroup(_) => Some(ResourceType::AwsEc2SecurityGroup),
            Check::Instance(_) => Some(ResourceType::AwsEc2Instance),
            Check::Volume(_) => Some(ResourceType::AwsEc2Volume),
            Check::EbsDefault(_)
            | Check::S3Account(_)
            | Check::CloudTrailAccount(_)
            | Check::IamAccount(_)
            | Check::SnapshotSharing(_)
            | Check::Ec2BlockPublicAccess(_) => Some(ResourceType::AwsAccount),
            Check::Trail(_) => Some(ResourceType::AwsCloudTrailTrail),
            Check::Vpc(_) => Some(ResourceType::AwsEc2Vpc),
            Check::Subnet(_) => Some(ResourceType::AwsEc2Subnet),
            Check::NetworkAcl(_) => Some(ResourceType::AwsEc2NetworkAcl),
            Check::NetworkInterface(_) => Some(ResourceType::AwsEc2NetworkInterface),
            Check::LaunchTemplate(_) => Some(ResourceType::AwsEc2LaunchTemplate),
            Check::Bucket(_) => Some(ResourceType::AwsS3Bucket),
            Check::AccessPoint(_) => Some(ResourceType::AwsS3AccessPoint),
            Check::MultiRegionAccessPoint(_) => Some(ResourceType::AwsS3MultiRegionAccessPoint),
            Check::DbInstance(_) => Some(ResourceType::AwsRdsDbInstance),
            Check::DbCluster(_) => Some(ResourceType::AwsRdsDbCluster),
            Check::DbSnapshot(_) => Some(ResourceType::AwsRdsDbSnapshot),
            Check::DbClusterSnapshot(_) => Some(ResourceType::AwsRdsDbClusterSnapshot),
            Check::RdsEventSubscription(_) => Some(ResourceType::AwsRdsEventSubscription),
            Check::LambdaFunction(_) => Some(ResourceType::AwsLambdaFunction),
            Check::Tags(_) => None,
        }
    }
}

/// One rule: what it checks, how it is reported, and what fixes it.
#[derive(Clone)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub rationale: &'static str,
    pub remediation: &'static str,
    /// Where the remediation is documented (the Security Hub control page when there is one).
    pub remediation_url: &'static str,
    /// The SSM Automation document that fixes a failure, when automatic remediation exists.
    pub runbook: Option<Runbook>,
    pub controls: Controls,
    /// The settings the check reads from `Context::parameters`.
    pub parameters: &'static [Parameter],
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
    /// `None` for cross-service rules (required tags).
    pub const fn service(&self) -> Option<Service> {
        self.check.service()
    }

    /// `None` for cross-service rules (required tags).
    pub const fn resource_type(&self) -> Option<ResourceType> {
        self.check.resource_type()
    }

    pub fn applies_to(&self, service: Service) -> bool {
        self.service().is_none_or(|s| s == service)
    }
}
