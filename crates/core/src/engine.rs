//! Runs the catalog over an inventory: every (rule, resource) pair is evaluated exactly once.

use std::collections::BTreeMap;

use crate::finding::{stable_finding_id, Finding, FindingStatus, Outcome, RuleChecks};
use crate::model::{
    account_resource_id, AccessPoint, Bucket, DbCluster, DbInstance, DbSnapshot, Instance,
    Inventory, LambdaFunction, LaunchTemplate, MultiRegionAccessPoint, NetworkAcl,
    NetworkInterface, RdsEventSubscription, ResourceType, SecurityGroup, Service, Subnet, Tags,
    Volume, Vpc,
};
use crate::mutelist::Mutelist;
use crate::rules::{catalog, Check, Context, Rule, RuleParameters};

/// What a rule needs to know about the resource it judged, to write a finding.
struct Subject<'a> {
    service: Service,
    resource_type: ResourceType,
    id: &'a str,
    arn: &'a str,
    region: &'a str,
    tags: Option<&'a Tags>,
}

#[derive(Debug, Default)]
pub struct Evaluation {
    /// Failed checks, muted ones included (marked MUTED).
    pub findings: Vec<Finding>,
    pub checks_evaluated: usize,
    pub checks_passed: usize,
    /// The same counts per rule (framework views tell "passed" from "not evaluated" with them).
    pub checks_by_rule: BTreeMap<String, RuleChecks>,
}

#[derive(Debug, Clone, Default)]
pub struct EvaluationSettings {
    pub required_tags: Vec<String>,
    pub mutelist: Mutelist,
    /// Thresholds of the rules that take parameters (`/compliance/scanner/config/rule-parameters`).
    pub rule_parameters: RuleParameters,
}

pub fn evaluate(inventory: &Inventory, settings: &EvaluationSettings) -> Evaluation {
    let account_pab = inventory
        .s3_account
        .as_ref()
        .and_then(|a| a.public_access_block.as_ref());
    let ctx = Context {
        account_id: &inventory.account_id,
        required_tags: &settings.required_tags,
        account_public_access_block: account_pab,
        parameters: &settings.rule_parameters,
    };
    let account_arn = account_resource_id(&inventory.account_id);
    let mut out = Evaluation::default();
    for rule in catalog() {
        let mut record = |subject: Subject, outcome: Outcome| {
            out.record(rule, &subject, outcome, &ctx, &settings.mutelist);
        };
        match rule.check {
            Check::SecurityGroup(check) => {
                for sg in &inventory.security_groups {
                    record(sg.subject(), check(sg, &ctx));
                }
            }
            Check::Instance(check) => {
                for i in &inventory.instances {
                    record(i.subject(), check(i, &ctx));
                }
            }
            Check::Volume(check) => {
                for v in &inventory.volumes {
                    record(v.subject(), check(v, &ctx));
                }
            }
            Check::EbsDefault(check) => {
                for setting in &inventory.ebs_encryption_defaults {
                    let subject = Subject::account(
                        Service::Ec2,
                        &inventory.account_id,
                        &account_arn,
                        &setting.region,
                    );
                    record(subject, check(setting, &ctx));
                }
            }
            Check::Bucket(check) => {
                for b in &inventory.buckets {
                    record(b.subject(), check(b, &ctx));
                }
            }
            Check::S3Account(check) => {
                if let Some(account) = &inventory.s3_account {
                    let subject = Subject::account(
                        Service::S3,
                        &inventory.account_id,
                        &account_arn,
                        &account.region,
                    );
                    record(subject, check(account, &ctx));
                }
            }
            Check::AccessPoint(check) => {
                for ap in &inventory.access_points {
                    record(ap.subject(), check(ap, &ctx));
                }
            }
            Check::MultiRegionAccessPoint(check) => {
                for mrap in &inventory.multi_region_access_points {
                    record(mrap.subject(), check(mrap, &ctx));
                }
            }
            Check::DbInstance(check) => {
                for db in &inventory.db_instances {
                    record(db.subject(), check(db, &ctx));
                }
            }
            Check::CloudTrailAccount(check) => {
                if let Some(account) = &inventory.cloudtrail {
                    let subject = Subject::account(
                        Service::CloudTrail,
                        &inventory.account_id,
                        &account_arn,
                        &account.region,
                    );
                    record(subject, check(account, &ctx));
                }
            }
            Check::Trail(check) => {
                for trail in inventory.cloudtrail.iter().flat_map(|c| &c.trails) {
                    let subject = Subject {
                        service: Service::CloudTrail,
                        resource_type: ResourceType::AwsCloudTrailTrail,
                        id: &trail.name,
                        arn: &trail.arn,
                        region: &trail.region,
                        tags: None,
                    };
                    record(subject, check(trail, &ctx));
                }
            }
            Check::IamAccount(check) => {
                if let Some(account) = &inventory.iam_account {
                    let subject = Subject::account(
                        Service::Iam,
                        &inventory.account_id,
                        &account_arn,
                        &account.region,
                    );
                    record(subject, check(account, &ctx));
                }
            }
            Check::DbCluster(check) => {
                for cluster in &inventory.db_clusters {
                    record(cluster.subject(), check(cluster, &ctx));
                }
            }
            Check::DbSnapshot(check) => {
                for snapshot in &inventory.db_snapshots {
                    let subject = snapshot_subject(snapshot, ResourceType::AwsRdsDbSnapshot);
                    record(subject, check(snapshot, &ctx));
                }
            }
            Check::DbClusterSnapshot(check) => {
                for snapshot in &inventory.db_cluster_snapshots {
                    let subject = snapshot_subject(snapshot, ResourceType::AwsRdsDbClusterSnapshot);
                    record(subject, check(snapshot, &ctx));
                }
            }
            Check::RdsEventSubscription(check) => {
                for subscription in &inventory.rds_event_subscriptions {
                    record(subscription.subject(), check(subscription, &ctx));
                }
            }
            Check::Vpc(check) => {
                for vpc in &inventory.vpcs {
                    record(vpc.subject(), check(vpc, &ctx));
                }
            }
            Check::Subnet(check) => {
                for subnet in &inventory.subnets {
                    record(subnet.subject(), check(subnet, &ctx));
                }
            }
            Check::NetworkAcl(check) => {
                for acl in &inventory.network_acls {
                    record(acl.subject(), check(acl, &ctx));
                }
            }
            Check::NetworkInterface(check) => {
                for eni in &inventory.network_interfaces {
                    record(eni.subject(), check(eni, &ctx));
                }
            }
            Check::LaunchTemplate(check) => {
                for template in &inventory.launch_templates {
                    record(template.subject(), check(template, &ctx));
                }
            }
            Check::SnapshotSharing(check) => {
                for sharing in &inventory.ebs_snapshot_sharing {
                    let subject = Subject::account(
                        Service::Ec2,
                        &inventory.account_id,
                        &account_arn,
                        &sharing.region,
                    );
                    record(subject, check(sharing, &ctx));
                }
            }
            Check::Ec2BlockPublicAccess(check) => {
                for settings in &inventory.ec2_block_public_access {
                    let subject = Subject::account(
                        Service::Ec2,
                        &inventory.account_id,
                        &account_arn,
                        &settings.region,
                    );
                    record(subject, check(settings, &ctx));
                }
            }
            Check::LambdaFunction(check) => {
                for function in &inventory.lambda_functions {
                    record(function.subject(), check(function, &ctx));
                }
            }
            Check::Tags(check) => {
                for subject in taggable(inventory) {
                    let outcome = subject
                        .tags
                        .map_or(Outcome::NotApplicable, |t| check(t, &ctx));
                    record(subject, outcome);
                }
            }
        }
    }
    out.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.region.cmp(&b.region))
            .then_with(|| a.resource_arn.cmp(&b.resource_arn))
    });
    out
}

impl<'a> Subject<'a> {
    fn account(service: Service, account_id: &'a str, arn: &'a str, region: &'a str) -> Self {
        Subject {
            service,
            resource_type: ResourceType::AwsAccount,
            id: account_id,
            arn,
            region,
            tags: None,
        }
    }
}

/// How a resource of the inventory appears in a finding.
trait Described {
    fn subject(&self) -> Subject<'_>;
}

macro_rules! described {
    ($type:ty, $service:expr, $resource_type:expr, $id:ident) => {
        impl Described for $type {
            fn subject(&self) -> Subject<'_> {
                Subject {
                    service: $service,
                    resource_type: $resource_type,
                    id: &self.$id,
                    arn: &self.arn,
                    region: &self.region,
                    tags: Some(&self.tags),
                }
            }
        }
    };
}

described!(
    SecurityGroup,
    Service::Ec2,
    ResourceType::AwsEc2SecurityGroup,
    id
);
described!(Instance, Service::Ec2, ResourceType::AwsEc2Instance, id);
described!(Volume, Service::Ec2, ResourceType::AwsEc2Volume, id);
described!(DbInstance, Service::Rds, ResourceType::AwsRdsDbInstance, id);
described!(DbCluster, Service::Rds, ResourceType::AwsRdsDbCluster, id);
described!(
    RdsEventSubscription,
    Service::Rds,
    ResourceType::AwsRdsEventSubscription,
    id
);

/// DB snapshots and DB cluster snapshots share a model; the list they come from sets the type.
fn snapshot_subject(snapshot: &DbSnapshot, resource_type: ResourceType) -> Subject<'_> {
    Subject {
        service: Service::Rds,
        resource_type,
        id: &snapshot.id,
        arn: &snapshot.arn,
        region: &snapshot.region,
        tags: Some(&snapshot.tags),
    }
}

described!(Vpc, Service::Ec2, ResourceType::AwsEc2Vpc, id);
described!(Subnet, Service::Ec2, ResourceType::AwsEc2Subnet, id);
described!(NetworkAcl, Service::Ec2, ResourceType::AwsEc2NetworkAcl, id);
described!(
    NetworkInterface,
    Service::Ec2,
    ResourceType::AwsEc2NetworkInterface,
    id
);
described!(
    LaunchTemplate,
    Service::Ec2,
    ResourceType::AwsEc2LaunchTemplate,
    id
);

impl Described for Bucket {
    fn subject(&self) -> Subject<'_> {
        Subject {
            service: Service::S3,
            resource_type: ResourceType::AwsS3Bucket,
            id: &self.name,
            arn: &self.arn,
            region: &self.region,
            // Tags S3 would not show us are unknown, not missing.
            tags: (!self.is_unreadable(crate::rules::s3::API_TAGGING)).then_some(&self.tags),
        }
    }
}

/// Access points carry no tags the scanner reads (not taggable here).
macro_rules! described_untagged {
    ($type:ty, $resource_type:expr) => {
        impl Described for $type {
            fn subject(&self) -> Subject<'_> {
                Subject {
                    service: Service::S3,
                    resource_type: $resource_type,
                    id: &self.name,
                    arn: &self.arn,
                    region: &self.region,
                    tags: None,
                }
            }
        }
    };
}

described_untagged!(AccessPoint, ResourceType::AwsS3AccessPoint);
described_untagged!(
    MultiRegionAccessPoint,
    ResourceType::AwsS3MultiRegionAccessPoint
);

/// Lambda functions: ListFunctions returns no tags, and none are read (not taggable here).
impl Described for LambdaFunction {
    fn subject(&self) -> Subject<'_> {
        Subject {
            service: Service::Lambda,
            resource_type: ResourceType::AwsLambdaFunction,
            id: &self.name,
            arn: &self.arn,
            region: &self.region,
            tags: None,
        }
    }
}

/// Every resource that carries tags (terminated instances are gone and excluded).
fn taggable(inv: &Inventory) -> impl Iterator<Item = Subject<'_>> {
    let sgs = inv.security_groups.iter().map(Described::subject);
    let instances = inv
        .instances
        .iter()
        .filter(|i| i.exists())
        .map(Described::subject);
    let volumes = inv.volumes.iter().map(Described::subject);
    let buckets = inv.buckets.iter().map(Described::subject);
    let dbs = inv.db_instances.iter().map(Described::subject);
    sgs.chain(instances)
        .chain(volumes)
        .chain(buckets)
        .chain(dbs)
}

impl Evaluation {
    fn record(
        &mut self,
        rule: &Rule,
        subject: &Subject,
        outcome: Outcome,
        ctx: &Context,
        mutelist: &Mutelist,
    ) {
        let (evidence, remediation) = match outcome {
            Outcome::NotApplicable => return,
            Outcome::Pass => {
                self.checks_evaluated += 1;
                self.checks_passed += 1;
                self.checks_by_rule
                    .entry(rule.id.to_string())
                    .or_default()
                    .add(true);
                return;
            }
            Outcome::Fail {
                evidence,
                remediation,
            } => (evidence, remediation),
        };
        self.checks_evaluated += 1;
        self.checks_by_rule
            .entry(rule.id.to_string())
            .or_default()
            .add(false);
        let empty = Tags::new();
        let tags = subject.tags.unwrap_or(&empty);
        let mute = mutelist.matching(rule.id, subject.arn, subject.region, tags);
        self.findings.push(Finding {
            id: stable_finding_id(ctx.account_id, subject.region, rule.id, subject.arn),
            rule_id: rule.id.to_string(),
            title: rule.title.to_string(),
            severity: rule.severity,
            status: if mute.is_some() {
                FindingStatus::Muted
            } else {
                FindingStatus::Fail
            },
            muted_reason: mute.map(|m| m.reason.clone()),
            service: subject.service,
            resource_type: subject.resource_type,
            resource_id: subject.id.to_string(),
            resource_arn: subject.arn.to_string(),
            region: subject.region.to_string(),
            account_id: ctx.account_id.to_string(),
            evidence,
            remediation: rule.remediation.to_string(),
            runbook: rule.runbook,
            // Kept only where a runbook will read it.
            remediation_evidence: rule.runbook.and(remediation),
            compliance: rule.controls.to_refs(),
            resource_tags: tags.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IpPermission, SecurityGroup};
    use crate::mutelist::Mutelist;
    use crate::summary::Summary;

    fn group(id: &str, open_ssh: bool, tags: &[(&str, &str)]) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            name: id.into(),
            arn: format!("arn:aws:ec2:eu-west-1:123456789012:security-group/{id}"),
            region: "eu-west-1".into(),
            vpc_id: Some("vpc-1".into()),
            ingress: if open_ssh {
                vec![IpPermission {
                    protocol: "tcp".into(),
                    from_port: Some(22),
                    to_port: Some(22),
                    ipv4_ranges: vec!["0.0.0.0/0".into()],
                    ..Default::default()
                }]
            } else {
                vec![]
            },
            egress: vec![],
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn findings_are_counted_muted_and_identified_stably() {
        let mut inventory = Inventory::new("123456789012");
        inventory.security_groups = vec![
            group("sg-open", true, &[("Owner", "a")]),
            group("sg-bastion", true, &[("Role", "bastion")]),
            group("sg-closed", false, &[("Owner", "a")]),
        ];
        let settings = EvaluationSettings {
            required_tags: vec!["Owner".into()],
            mutelist: Mutelist::parse(
                r#"[{"rule_id":"ec2_sg_open_ssh","tags":{"Role":"bastion"},"reason":"jump host"}]"#,
                "mutelist",
            )
            .unwrap(),
            // SSH authorized for EC2.18, so that only the SSH rule fires on the open groups.
            rule_parameters: RuleParameters::parse(
                r#"{"ec2_sg_authorized_ports": {"authorizedTcpPorts": [22]}}"#,
            )
            .unwrap(),
        };
        let evaluation = evaluate(&inventory, &settings);
        let ids: Vec<(&str, &str, FindingStatus)> = evaluation
            .findings
            .iter()
            .map(|f| (f.rule_id.as_str(), f.resource_id.as_str(), f.status))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("ec2_sg_open_ssh", "sg-bastion", FindingStatus::Muted),
                ("ec2_sg_open_ssh", "sg-open", FindingStatus::Fail),
                ("resource_required_tags", "sg-bastion", FindingStatus::Fail),
            ]
        );
        // Per group: ssh, rdp, all ports, high-risk ports, authorized ports, tags (the
        // default-group rule does not apply).
        assert_eq!(evaluation.checks_evaluated, 18);
        assert_eq!(evaluation.checks_passed, 15);
        let summary = Summary::new(inventory.resource_count(), &evaluation);
        assert_eq!(summary.compliance_score, Some(83.3));
        assert_eq!(summary.muted_findings, 1);
        assert_eq!(summary.findings_by_severity.high, 1);
        assert_eq!(summary.findings_by_severity.low, 1);
        let again = evaluate(&inventory, &settings);
        assert_eq!(
            evaluation
                .findings
                .iter()
                .map(|f| &f.id)
                .collect::<Vec<_>>(),
            again.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
        );
    }
}
