//! Remediation planning: which findings get an SSM Automation execution, with which
//! parameters, in which account and region, and why the others do not. Guardrails: dry-run by
//! default, a rule allowlist, an exclusion tag, a cap per run across every account of the run
//! (the ledger's cooldown is checked by the caller).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::finding::{Finding, FindingStatus};
use crate::rules::{Runbook, RunbookParameters};
use crate::run::RunDocument;

pub const PARAM_REMEDIATION: &str = "/compliance/scanner/config/remediation";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    DryRun,
    Enforce,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationConfig {
    #[serde(default = "dry_run")]
    pub mode: Mode,
    #[serde(default)]
    pub allowed_rules: Vec<String>,
    /// Resources carrying this tag key (any value but `false`) are never remediated.
    #[serde(default = "default_exclusion_tag")]
    pub exclusion_tag: String,
    #[serde(default = "default_cap")]
    pub max_executions_per_run: usize,
    /// No second execution for a finding within this many minutes of the last one.
    #[serde(default = "default_cooldown")]
    pub cooldown_minutes: u64,
}

fn dry_run() -> Mode {
    Mode::DryRun
}
fn default_exclusion_tag() -> String {
    "compliance-scanner:exclude".into()
}
fn default_cap() -> usize {
    10
}
fn default_cooldown() -> u64 {
    360
}

impl Default for RemediationConfig {
    fn default() -> Self {
        RemediationConfig {
            mode: Mode::DryRun,
            allowed_rules: Vec::new(),
            exclusion_tag: default_exclusion_tag(),
            max_executions_per_run: default_cap(),
            cooldown_minutes: default_cooldown(),
        }
    }
}

impl RemediationConfig {
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        let config: RemediationConfig = crate::config::from_json_naming_field(json).map_err(|e| CoreError::InvalidParameter {
            parameter: PARAM_REMEDIATION.into(),
            reason: format!("{e} (expected {{\"mode\": \"dry-run\"|\"enforce\", \"allowed_rules\", \"exclusion_tag\", \"max_executions_per_run\", \"cooldown_minutes\"}})"),
        })?;
        for rule_id in &config.allowed_rules {
            match crate::rules::rule(rule_id) {
                Some(rule) if rule.runbook.is_some() => {}
                Some(_) => {
                    return Err(CoreError::InvalidParameter {
                        parameter: PARAM_REMEDIATION.into(),
                        reason: format!("rule `{rule_id}` has no remediation runbook"),
                    })
                }
                None => {
                    return Err(CoreError::InvalidParameter {
                        parameter: PARAM_REMEDIATION.into(),
                        reason: format!("`{rule_id}` is not a known rule"),
                    })
                }
            }
        }
        Ok(config)
    }
}

/// One SSM Automation execution: a runbook on one resource, covering one or more findings, with
/// its parameters as StartAutomationExecution takes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedExecution {
    /// The ledger key: one execution per (account, runbook, resource) at a time.
    pub key: String,
    /// The document name.
    pub runbook: String,
    /// The account the resource is in, where the runbook runs.
    pub account_id: String,
    /// Whether that is the scanner's own account (its own credentials and automation role).
    pub own_account: bool,
    /// The region StartAutomationExecution is called in.
    pub automation_region: String,
    pub resource_arn: String,
    /// The resource's region.
    pub region: String,
    pub finding_ids: Vec<String>,
    pub parameters: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Outcome {
    Started { execution_id: String },
    DryRun,
    Skipped { reason: String },
    Failed { error: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub finding_id: String,
    pub rule_id: String,
    pub resource_arn: String,
    pub region: String,
    pub runbook: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What `remediate` decided for a run (`runs/{run}/remediation.json`); the run report embeds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemediationDecisions {
    pub run_id: String,
    pub mode: Mode,
    pub decisions: Vec<DecisionRecord>,
}

/// The role a member account's runbooks run as: member-role.yaml's `<RoleName>-automation`,
/// in the member role's account and partition.
pub fn member_automation_role(member_role_arn: &str) -> String {
    format!("{member_role_arn}-automation")
}

/// Where a run's runbooks can start. The scanner's own account has them in its home region
/// only (template.yaml); a member account has them in every region its member-role stack set
/// covers, which docs/operations.md asks to be the scanned regions.
#[derive(Debug, Clone)]
pub struct Placement {
    own_account: String,
    home_region: String,
    /// The regions the run scanned in each member account.
    member_regions: BTreeMap<String, BTreeSet<String>>,
}

impl Placement {
    /// A run of the scanner's own account only.
    pub fn own_account_only(own_account: &str, home_region: &str) -> Self {
        Placement {
            own_account: own_account.to_string(),
            home_region: home_region.to_string(),
            member_regions: BTreeMap::new(),
        }
    }

    /// The run's accounts: its own, and each member with the regions the run scanned there.
    pub fn of_run(run: &RunDocument, home_region: &str) -> Self {
        let mut placement = Placement::own_account_only(&run.account_id, home_region);
        for unit in &run.units {
            if !placement.is_own(&unit.account_id) {
                placement
                    .member_regions
                    .entry(unit.account_id.clone())
                    .or_default()
                    .insert(unit.region.clone());
            }
        }
        placement
    }

    /// Findings of documents written before accounts were planned name no account.
    fn is_own(&self, account_id: &str) -> bool {
        account_id.is_empty() || account_id == self.own_account
    }

    /// The region an execution of `runbook` for `f` starts in, or why there is none.
    fn region_for(&self, f: &Finding, runbook: Runbook) -> Result<String, String> {
        if self.is_own(&f.account_id) {
            return if runbook.reaches_other_regions() || f.region == self.home_region {
                Ok(self.home_region.clone())
            } else {
                Err(format!(
                    "the runbook runs in {}; the resource is in {}",
                    self.home_region, f.region
                ))
            };
        }
        let regions = self.member_regions.get(&f.account_id);
        let scanned = |region: &str| regions.is_some_and(|r| r.contains(region));
        if scanned(&f.region) {
            Ok(f.region.clone())
        } else if let Some(first) = regions
            .and_then(|r| r.first())
            .filter(|_| runbook.reaches_other_regions())
        {
            // S3's API reaches every bucket from any region where the runbook exists.
            Ok(first.clone())
        } else {
            Err(format!(
                "account {}'s runbooks run in the regions the run scanned there; the resource is in {}",
                f.account_id, f.region
            ))
        }
    }

    /// The ledger key of an execution. The own account keeps the key it always had (its
    /// cooldowns carry over); a member's names the account, since an S3 ARN does not and a
    /// bucket name freed in one account can be taken in another.
    fn ledger_key(&self, runbook: Runbook, f: &Finding) -> String {
        if self.is_own(&f.account_id) {
            format!("{}|{}", runbook.document_name(), f.resource_arn)
        } else {
            format!(
                "{}|{}|{}",
                runbook.document_name(),
                f.account_id,
                f.resource_arn
            )
        }
    }
}

/// The findings one execution fixes, with the typed parameters they add up to.
struct Group {
    key: String,
    account_id: String,
    own_account: bool,
    automation_region: String,
    resource_arn: String,
    region: String,
    finding_ids: Vec<String>,
    parameters: RunbookParameters,
}

impl Group {
    fn into_execution(self) -> PlannedExecution {
        PlannedExecution {
            key: self.key,
            runbook: self.parameters.runbook().document_name().to_string(),
            account_id: self.account_id,
            own_account: self.own_account,
            automation_region: self.automation_region,
            resource_arn: self.resource_arn,
            region: self.region,
            finding_ids: self.finding_ids,
            parameters: self.parameters.to_ssm(),
        }
    }
}

/// Splits findings into executions to attempt (severity first, capped across every account of
/// the run) and decisions already made (skips). Findings without a runbook are not remediation
/// candidates and are not listed. Automation documents are regional: `placement` says where
/// each account has them, and EC2 and RDS resources elsewhere are skipped (S3's API reaches
/// every bucket from any region).
pub fn plan(
    findings: &[Finding],
    config: &RemediationConfig,
    placement: &Placement,
) -> (Vec<PlannedExecution>, Vec<DecisionRecord>) {
    let mut skipped = Vec::new();
    let mut grouped: BTreeMap<String, Group> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let skip = |f: &Finding, reason: String| DecisionRecord {
        finding_id: f.id.clone(),
        rule_id: f.rule_id.clone(),
        resource_arn: f.resource_arn.clone(),
        region: f.region.clone(),
        runbook: f.runbook.map(|r| r.document_name().to_string()),
        outcome: Outcome::Skipped { reason },
    };
    let mut candidates: Vec<(&Finding, Runbook)> = findings
        .iter()
        .filter_map(|f| f.runbook.map(|runbook| (f, runbook)))
        .collect();
    candidates.sort_by(|(a, _), (b, _)| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    for (f, runbook) in candidates {
        if f.status == FindingStatus::Muted {
            skipped.push(skip(f, "muted".into()));
            continue;
        }
        if !config.allowed_rules.iter().any(|r| r == &f.rule_id) {
            skipped.push(skip(f, "rule not in allowed_rules".into()));
            continue;
        }
        if f.resource_tags
            .get(&config.exclusion_tag)
            .is_some_and(|v| !v.eq_ignore_ascii_case("false"))
        {
            skipped.push(skip(
                f,
                format!("resource has the exclusion tag {}", config.exclusion_tag),
            ));
            continue;
        }
        let automation_region = match placement.region_for(f, runbook) {
            Ok(region) => region,
            Err(reason) => {
                skipped.push(skip(f, reason));
                continue;
            }
        };
        let Some(parameters) = runbook.parameters(&f.resource_id, f.remediation_evidence.as_ref())
        else {
            skipped.push(skip(
                f,
                "the finding's evidence does not say what to change".into(),
            ));
            continue;
        };
        let key = placement.ledger_key(runbook, f);
        if let Some(existing) = grouped.get_mut(&key) {
            existing.finding_ids.push(f.id.clone());
            existing.parameters.absorb(parameters);
        } else {
            order.push(key.clone());
            grouped.insert(
                key.clone(),
                Group {
                    key,
                    account_id: f.account_id.clone(),
                    own_account: placement.is_own(&f.account_id),
                    automation_region,
                    resource_arn: f.resource_arn.clone(),
                    region: f.region.clone(),
                    finding_ids: vec![f.id.clone()],
                    parameters,
                },
            );
        }
    }
    let mut planned = Vec::new();
    for (i, key) in order.into_iter().enumerate() {
        let Some(group) = grouped.remove(&key) else {
            continue;
        };
        if i >= config.max_executions_per_run {
            for id in &group.finding_ids {
                if let Some(f) = findings.iter().find(|f| &f.id == id) {
                    skipped.push(skip(
                        f,
                        format!(
                            "cap of {} executions per run reached",
                            config.max_executions_per_run
                        ),
                    ));
                }
            }
        } else {
            planned.push(group.into_execution());
        }
    }
    (planned, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{ComplianceRefs, Severity};
    use crate::model::{Inventory, IpPermission, ResourceType, SecurityGroup, Service};
    use crate::rules::ec2::OpenPermission;
    use crate::rules::RemediationEvidence;
    use serde_json::{json, Value};

    fn open(protocol: &str, port: Option<i32>, source: &str) -> RemediationEvidence {
        RemediationEvidence::OpenIngress(vec![OpenPermission {
            protocol: protocol.into(),
            from_port: port,
            to_port: port,
            source: source.into(),
        }])
    }

    fn finding(
        rule: &str,
        resource: &str,
        remediation_evidence: Option<RemediationEvidence>,
        tags: &[(&str, &str)],
    ) -> Finding {
        let r = crate::rules::rule(rule).unwrap();
        Finding {
            id: format!("{rule}-{resource}"),
            rule_id: rule.into(),
            title: r.title.into(),
            severity: r.severity,
            status: FindingStatus::Fail,
            muted_reason: None,
            service: Service::Ec2,
            resource_type: ResourceType::AwsEc2SecurityGroup,
            resource_id: resource.into(),
            resource_arn: format!("arn:{resource}"),
            region: "eu-west-1".into(),
            account_id: "1".into(),
            evidence: json!({}),
            remediation: String::new(),
            runbook: r.runbook,
            remediation_evidence,
            compliance: ComplianceRefs::default(),
            resource_tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn config(rules: &[&str], cap: usize) -> RemediationConfig {
        RemediationConfig {
            allowed_rules: rules.iter().map(std::string::ToString::to_string).collect(),
            max_executions_per_run: cap,
            ..Default::default()
        }
    }

    #[test]
    fn guardrails_allowlist_exclusion_cap_and_grouping() {
        let ssh = Some(open("tcp", Some(22), "0.0.0.0/0"));
        let all = Some(open("-1", None, "::/0"));
        let findings = vec![
            finding("ec2_sg_open_ssh", "sg-1", ssh.clone(), &[]),
            finding("ec2_sg_open_all_ports", "sg-1", all, &[]),
            finding(
                "ec2_sg_open_ssh",
                "sg-2",
                ssh.clone(),
                &[("compliance-scanner:exclude", "true")],
            ),
            finding("ec2_sg_open_rdp", "sg-3", ssh.clone(), &[]),
            finding("s3_bucket_default_encryption", "bucket-a", None, &[]),
            finding("rds_instance_public", "db-1", None, &[]),
            finding("ec2_sg_open_ssh", "sg-4", ssh, &[]),
        ];
        let mut elsewhere = finding("rds_instance_public", "db-far", None, &[]);
        elsewhere.region = "ap-southeast-1".into();
        let mut findings = findings;
        findings.push(elsewhere);
        let allowed = [
            "ec2_sg_open_ssh",
            "ec2_sg_open_all_ports",
            "s3_bucket_default_encryption",
            "rds_instance_public",
        ];
        let (planned, skipped) = plan(
            &findings,
            &config(&allowed, 3),
            &Placement::own_account_only("1", "eu-west-1"),
        );
        let reasons: Vec<(&str, &str)> = skipped
            .iter()
            .map(|d| {
                (
                    d.finding_id.as_str(),
                    match &d.outcome {
                        Outcome::Skipped { reason } => reason.as_str(),
                        _ => "",
                    },
                )
            })
            .collect();
        assert!(reasons.contains(&(
            "ec2_sg_open_ssh-sg-2",
            "resource has the exclusion tag compliance-scanner:exclude"
        )));
        assert!(reasons.contains(&("ec2_sg_open_rdp-sg-3", "rule not in allowed_rules")));
        assert!(reasons.contains(&(
            "rds_instance_public-db-far",
            "the runbook runs in eu-west-1; the resource is in ap-southeast-1"
        )));
        assert!(reasons.contains(&(
            "rds_instance_public-db-far",
            "the runbook runs in eu-west-1; the resource is in ap-southeast-1"
        )));
        assert_eq!(planned.len(), 3);
        // sg-1's two findings became one execution revoking both permissions.
        let sg1 = planned
            .iter()
            .find(|p| p.resource_arn == "arn:sg-1")
            .unwrap();
        assert_eq!(sg1.finding_ids.len(), 2);
        let perms: Vec<Value> = serde_json::from_str(&sg1.parameters["IpPermissions"][0]).unwrap();
        assert_eq!(perms.len(), 2);
        assert!(perms.contains(&json!({"IpProtocol":"-1","Ipv6Ranges":[{"CidrIpv6":"::/0"}]})));
        assert!(reasons.iter().any(|(_, r)| r.starts_with("cap of 3")));
        assert!(planned
            .iter()
            .any(|p| p.parameters.get("DBInstanceIdentifier") == Some(&vec!["db-1".to_string()])));
        let _ = Severity::Critical;
    }

    /// The engine's findings, through the run document's JSON, give the runbook exactly the
    /// permissions the check found open, and nothing for a finding whose evidence is missing.
    #[test]
    fn check_evidence_reaches_the_runbook_through_the_run_document() {
        let mut inventory = Inventory::new("123456789012");
        inventory.security_groups = vec![SecurityGroup {
            id: "sg-web".into(),
            name: "web".into(),
            arn: "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-web".into(),
            region: "eu-west-1".into(),
            vpc_id: Some("vpc-1".into()),
            ingress: vec![
                IpPermission {
                    protocol: "tcp".into(),
                    from_port: Some(22),
                    to_port: Some(22),
                    ipv4_ranges: vec!["0.0.0.0/0".into(), "10.0.0.0/8".into()],
                    ipv6_ranges: vec!["::/0".into()],
                    ..Default::default()
                },
                IpPermission {
                    protocol: "tcp".into(),
                    from_port: Some(443),
                    to_port: Some(443),
                    ipv4_ranges: vec!["0.0.0.0/0".into()],
                    ..Default::default()
                },
            ],
            egress: vec![],
            tags: Default::default(),
        }];
        let evaluation = crate::evaluate(&inventory, &Default::default());
        let ssh = evaluation
            .findings
            .iter()
            .find(|f| f.rule_id == "ec2_sg_open_ssh")
            .unwrap();
        assert_eq!(ssh.runbook, Some(Runbook::RestrictSecurityGroup));
        let own = Placement::own_account_only("123456789012", "eu-west-1");
        let text = serde_json::to_string(&evaluation.findings).unwrap();
        let mut read_back: Vec<Finding> = serde_json::from_str(&text).unwrap();
        assert_eq!(read_back, evaluation.findings);
        let (planned, skipped) = plan(&read_back, &config(&["ec2_sg_open_ssh"], 10), &own);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(planned.len(), 1);
        assert_eq!(
            planned[0].runbook,
            "ComplianceScanner-RemediateOpenSecurityGroup"
        );
        assert_eq!(planned[0].parameters["GroupId"], vec!["sg-web".to_string()]);
        let perms: Vec<Value> =
            serde_json::from_str(&planned[0].parameters["IpPermissions"][0]).unwrap();
        assert_eq!(
            perms,
            vec![
                json!({"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}),
                json!({"IpProtocol":"tcp","FromPort":22,"ToPort":22,"Ipv6Ranges":[{"CidrIpv6":"::/0"}]}),
            ]
        );
        for f in &mut read_back {
            f.remediation_evidence = None;
        }
        let (planned, skipped) = plan(&read_back, &config(&["ec2_sg_open_ssh"], 10), &own);
        assert!(planned.is_empty());
        assert!(
            matches!(&skipped[0].outcome, Outcome::Skipped { reason } if reason == "the finding's evidence does not say what to change")
        );
    }

    /// Members' runbooks start in the member's scanned regions, under ledger keys that name the
    /// account, and one cap holds across every account of the run.
    #[test]
    fn member_accounts_keep_their_own_keys_regions_and_share_the_cap() {
        let ssh = Some(open("tcp", Some(22), "0.0.0.0/0"));
        let of = |account: &str, mut f: Finding, region: &str| {
            f.id = format!("{account}-{}", f.id);
            f.account_id = account.into();
            f.region = region.into();
            f
        };
        let placement = Placement {
            own_account: "1".into(),
            home_region: "eu-west-1".into(),
            member_regions: BTreeMap::from([(
                "2".to_string(),
                BTreeSet::from(["ap-southeast-1".to_string(), "us-east-1".to_string()]),
            )]),
        };
        let bucket = |account: &str| {
            let mut f = finding("s3_bucket_default_encryption", "shared", None, &[]);
            f.resource_type = crate::model::ResourceType::AwsS3Bucket;
            of(account, f, "sa-east-1")
        };
        let findings = vec![
            of(
                "1",
                finding("ec2_sg_open_ssh", "sg-1", ssh.clone(), &[]),
                "eu-west-1",
            ),
            of(
                "2",
                finding("ec2_sg_open_ssh", "sg-1", ssh.clone(), &[]),
                "us-east-1",
            ),
            of(
                "2",
                finding("ec2_sg_open_ssh", "sg-9", ssh, &[]),
                "eu-west-1",
            ),
            bucket("1"),
            bucket("2"),
        ];
        let allowed = ["ec2_sg_open_ssh", "s3_bucket_default_encryption"];
        let (planned, skipped) = plan(&findings, &config(&allowed, 10), &placement);
        let described: Vec<(&str, bool, &str, &str)> = planned
            .iter()
            .map(|p| {
                (
                    p.account_id.as_str(),
                    p.own_account,
                    p.automation_region.as_str(),
                    p.key.as_str(),
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                (
                    "1",
                    true,
                    "eu-west-1",
                    "ComplianceScanner-RemediateOpenSecurityGroup|arn:sg-1"
                ),
                (
                    "2",
                    false,
                    "us-east-1",
                    "ComplianceScanner-RemediateOpenSecurityGroup|2|arn:sg-1"
                ),
                (
                    "1",
                    true,
                    "eu-west-1",
                    "ComplianceScanner-RemediateUnencryptedS3Bucket|arn:shared"
                ),
                (
                    "2",
                    false,
                    "ap-southeast-1",
                    "ComplianceScanner-RemediateUnencryptedS3Bucket|2|arn:shared"
                ),
            ]
        );
        assert_eq!(skipped.len(), 1);
        assert!(
            matches!(&skipped[0].outcome, Outcome::Skipped { reason }
                if reason == "account 2's runbooks run in the regions the run scanned there; the resource is in eu-west-1"),
            "{skipped:?}"
        );
        // The cap counts executions of every account together.
        let (planned, skipped) = plan(&findings, &config(&allowed, 2), &placement);
        assert_eq!(planned.len(), 2);
        let capped = skipped
            .iter()
            .filter(|d| matches!(&d.outcome, Outcome::Skipped { reason } if reason.starts_with("cap of 2")))
            .count();
        assert_eq!(capped, 2);
        assert_eq!(
            member_automation_role("arn:aws:iam::2:role/ComplianceScannerMemberRole"),
            "arn:aws:iam::2:role/ComplianceScannerMemberRole-automation"
        );
    }

    #[test]
    fn the_placement_of_a_run_knows_its_members_scanned_regions() {
        use crate::testing::{account_ec2_unit, ec2_unit, run_document};
        let run = run_document(
            "r1",
            vec![
                ec2_unit("r1", "eu-west-1", &[]),
                account_ec2_unit("222222222222", "r1", "us-east-1", &[]),
            ],
            vec![],
        );
        let placement = Placement::of_run(&run, "eu-west-1");
        assert_eq!(placement.own_account, run.account_id);
        assert_eq!(
            placement.member_regions,
            BTreeMap::from([(
                "222222222222".to_string(),
                BTreeSet::from(["us-east-1".to_string()])
            )])
        );
    }

    #[test]
    fn config_validation_names_the_problem() {
        assert_eq!(RemediationConfig::parse("{}").unwrap().mode, Mode::DryRun);
        let err = RemediationConfig::parse(r#"{"allowed_rules":["s3_bucket_versioning"]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no remediation runbook"), "{err}");
        assert!(RemediationConfig::parse(r#"{"mode":"yolo"}"#)
            .unwrap_err()
            .to_string()
            .contains(PARAM_REMEDIATION));
        assert_eq!(
            RemediationConfig::parse(
                r#"{"mode":"enforce","allowed_rules":["rds_instance_public"]}"#
            )
            .unwrap()
            .mode,
            Mode::Enforce
        );
    }
}
