//! The lifecycle of a finding across runs: new, open, resolved, reopened.
//!
//! One record per stable finding id (the findings table). Each run reconciles the records with
//! what it found; a finding that is gone is resolved only where the run actually looked, so a
//! failed region or an unreadable API never "fixes" anything.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::finding::{Finding, ScanError, Severity};
use crate::model::{ResourceType, Service};
use crate::run::RunDocument;

pub const PARAM_FINDINGS: &str = "/compliance/scanner/config/findings";

/// `/compliance/scanner/config/findings`: where findings go beyond the reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsConfig {
    #[serde(default)]
    pub security_hub: SecurityHubConfig,
    /// Days a resolved finding's record is kept before DynamoDB's TTL removes it; a finding
    /// that comes back within them is "reopened", after them it is "new" again.
    #[serde(default = "default_retention_days")]
    pub resolved_retention_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityHubConfig {
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// The aggregation region findings are imported into (default: the stack's region).
    #[serde(default)]
    pub region: Option<String>,
}

fn enabled() -> bool {
    true
}

fn default_retention_days() -> u32 {
    90
}

impl Default for SecurityHubConfig {
    fn default() -> Self {
        SecurityHubConfig {
            enabled: true,
            region: None,
        }
    }
}

impl Default for FindingsConfig {
    fn default() -> Self {
        FindingsConfig {
            security_hub: SecurityHubConfig::default(),
            resolved_retention_days: default_retention_days(),
        }
    }
}

impl FindingsConfig {
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter {
            parameter: PARAM_FINDINGS.into(),
            reason,
        };
        let config: FindingsConfig = crate::config::from_json_naming_field(json).map_err(|e| {
            invalid(format!(
                "{e} (expected {{\"security_hub\": {{\"enabled\", \"region\"}}, \"resolved_retention_days\"}})"
            ))
        })?;
        if !(1..=3650).contains(&config.resolved_retention_days) {
            return Err(invalid(format!(
                "resolved_retention_days {} is outside 1..=3650",
                config.resolved_retention_days
            )));
        }
        if let Some(region) = &config.security_hub.region {
            if !crate::config::is_region_name(region) {
                return Err(invalid(format!(
                    "security_hub.region `{region}` is not a region name"
                )));
            }
        }
        Ok(config)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleStatus {
    New,
    Open,
    Reopened,
    Resolved,
}

impl LifecycleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStatus::New => "new",
            LifecycleStatus::Open => "open",
            LifecycleStatus::Reopened => "reopened",
            LifecycleStatus::Resolved => "resolved",
        }
    }

    pub fn is_active(self) -> bool {
        self != LifecycleStatus::Resolved
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::New, Self::Open, Self::Reopened, Self::Resolved]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// One item of the findings table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub finding_id: String,
    pub account_id: String,
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub service: Service,
    pub resource_type: ResourceType,
    pub resource_id: String,
    pub resource_arn: String,
    pub region: String,
    pub status: LifecycleStatus,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub first_run_id: String,
    pub last_run_id: String,
    pub resolved_at: Option<String>,
    pub resolved_run_id: Option<String>,
    pub times_reopened: u32,
    /// Epoch seconds after which DynamoDB deletes the item (resolved records only).
    pub expires_at: Option<i64>,
}

impl FindingRecord {
    /// The partition key of the table's `account-state-index`: active findings of an account
    /// are one Query away.
    pub fn account_state(&self) -> String {
        account_state(&self.account_id, self.status.is_active())
    }
}

pub fn account_state(account_id: &str, active: bool) -> String {
    let state = if active { "ACTIVE" } else { "RESOLVED" };
    format!("{account_id}#{state}")
}

/// Where a run looked: an (account, region, service) it scanned without errors. A finding is
/// judged only by its own account's units, so an account the run could not reach (its role
/// refused, every unit failed) resolves nothing, and one account's errors blind no other.
#[derive(Debug, Clone, Default)]
pub struct RunScope {
    scanned: BTreeSet<(String, String, Service)>,
    errors: Vec<ScanError>,
}

impl RunScope {
    pub fn of_run(run: &RunDocument) -> Self {
        // Documents written before accounts were planned name no account: they are the run's.
        let account = |a: &str| {
            if a.is_empty() {
                run.account_id.clone()
            } else {
                a.to_string()
            }
        };
        RunScope {
            scanned: run
                .units
                .iter()
                .map(|u| (account(&u.account_id), u.region.clone(), u.service))
                .collect(),
            errors: run
                .errors
                .iter()
                .map(|e| ScanError {
                    account_id: account(&e.account_id),
                    ..e.clone()
                })
                .collect(),
        }
    }

    /// Whether the run would have seen this finding had it still been there. S3 is scanned once
    /// per account, so any S3 unit of the account covers every bucket's region.
    pub fn covers(&self, record: &FindingRecord) -> bool {
        let service = record.service;
        let scanned = self.scanned.iter().any(|(account, region, s)| {
            *account == record.account_id
                && *s == service
                && (service.is_global() || *region == record.region)
        });
        let blinded = self.errors.iter().any(|e| {
            e.account_id == record.account_id
                && e.service == service
                && match &e.resource {
                    Some(resource) => {
                        *resource == record.resource_id || *resource == record.resource_arn
                    }
                    None => service.is_global() || e.region == record.region,
                }
        });
        scanned && !blinded
    }
}

/// What the run changes in the findings table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// One record per finding of the run, in the run's order.
    pub current: Vec<FindingRecord>,
    /// Records the run resolved (gone where the run looked).
    pub resolved: Vec<FindingRecord>,
    /// Active records the run could not confirm either way (left as they were).
    pub unconfirmed: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleCounts {
    pub new: usize,
    pub open: usize,
    pub reopened: usize,
    pub resolved: usize,
    pub unconfirmed: usize,
}

impl Reconciliation {
    pub fn counts(&self) -> LifecycleCounts {
        let mut counts = LifecycleCounts {
            resolved: self.resolved.len(),
            unconfirmed: self.unconfirmed,
            ..Default::default()
        };
        for record in &self.current {
            match record.status {
                LifecycleStatus::New => counts.new += 1,
                LifecycleStatus::Open => counts.open += 1,
                LifecycleStatus::Reopened => counts.reopened += 1,
                LifecycleStatus::Resolved => {}
            }
        }
        counts
    }

    /// The run's records by finding id (one lookup per finding, not a scan of all of them).
    pub fn by_finding_id(&self) -> HashMap<&str, &FindingRecord> {
        self.current
            .iter()
            .map(|r| (r.finding_id.as_str(), r))
            .collect()
    }
}

/// The run being reconciled.
#[derive(Debug, Clone, Copy)]
pub struct RunClock<'a> {
    pub run_id: &'a str,
    /// When the run scanned (its findings were last observed then).
    pub observed_at: &'a str,
    /// Epoch seconds of `observed_at` (the TTL base).
    pub observed_epoch: i64,
    pub resolved_retention_days: u32,
}

/// Reconciles the run's findings with the table. `previous` holds every active record of the
/// run's accounts plus any record whose id the run found (resolved ones included).
pub fn reconcile(
    findings: &[Finding],
    previous: &BTreeMap<String, FindingRecord>,
    scope: &RunScope,
    clock: RunClock,
) -> Reconciliation {
    let present: BTreeSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let current = findings
        .iter()
        .map(|f| advance(f, previous.get(&f.id), clock))
        .collect();
    let mut resolved = Vec::new();
    let mut unconfirmed = 0;
    for record in previous.values() {
        if !record.status.is_active() || present.contains(record.finding_id.as_str()) {
            continue;
        }
        // A run that started later saw it (overlapping runs finishing out of order): this
        // older look does not resolve what a newer one found.
        if !scope.covers(record) || seen_after(record, clock) {
            unconfirmed += 1;
            continue;
        }
        let mut record = record.clone();
        record.status = LifecycleStatus::Resolved;
        record.resolved_at = Some(clock.observed_at.to_string());
        record.resolved_run_id = Some(clock.run_id.to_string());
        record.expires_at =
            Some(clock.observed_epoch + i64::from(clock.resolved_retention_days) * 86_400);
        resolved.push(record);
    }
    Reconciliation {
        current,
        resolved,
        unconfirmed,
    }
}

fn advance(f: &Finding, previous: Option<&FindingRecord>, clock: RunClock) -> FindingRecord {
    let mut record = FindingRecord {
        finding_id: f.id.clone(),
        account_id: f.account_id.clone(),
        rule_id: f.rule_id.clone(),
        title: f.title.clone(),
        severity: f.severity,
        service: f.service,
        resource_type: f.resource_type,
        resource_id: f.resource_id.clone(),
        resource_arn: f.resource_arn.clone(),
        region: f.region.clone(),
        status: LifecycleStatus::New,
        first_seen_at: clock.observed_at.to_string(),
        last_seen_at: clock.observed_at.to_string(),
        first_run_id: clock.run_id.to_string(),
        last_run_id: clock.run_id.to_string(),
        resolved_at: None,
        resolved_run_id: None,
        times_reopened: 0,
        expires_at: None,
    };
    let Some(prev) = previous else {
        return record;
    };
    record.first_seen_at.clone_from(&prev.first_seen_at);
    record.first_run_id.clone_from(&prev.first_run_id);
    record.times_reopened = prev.times_reopened;
    if prev.last_run_id != clock.run_id && seen_after(prev, clock) {
        // A run that started later already recorded it: the record keeps that newer look and
        // only learns that the finding was there earlier (as if the runs had finished in the
        // order they started).
        let mut kept = prev.clone();
        if is_before(clock.observed_at, &prev.first_seen_at) {
            kept.first_seen_at = clock.observed_at.to_string();
            kept.first_run_id = clock.run_id.to_string();
            if kept.status == LifecycleStatus::New {
                kept.status = LifecycleStatus::Open;
            }
        }
        return kept;
    }
    record.status = if prev.last_run_id == clock.run_id {
        // The same run reconciled again (a retried state): keep what it decided the first time.
        prev.status
    } else if prev.status.is_active() {
        LifecycleStatus::Open
    } else {
        record.times_reopened += 1;
        LifecycleStatus::Reopened
    };
    record
}

/// Whether a run that started after this one last looked at the record (saw it, or resolved it).
fn seen_after(record: &FindingRecord, clock: RunClock) -> bool {
    let last_look = record
        .resolved_at
        .as_deref()
        .unwrap_or(&record.last_seen_at);
    is_before(
        clock.observed_at,
        last_look.max(record.last_seen_at.as_str()),
    )
}

/// `a` is strictly earlier than `b` (RFC 3339 times; one that does not parse is not ordered).
fn is_before(a: &str, b: &str) -> bool {
    match (crate::time::parse_rfc3339(a), crate::time::parse_rfc3339(b)) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingStatus;

    fn finding(rule: &str, arn: &str, region: &str, service: Service) -> Finding {
        Finding {
            id: crate::finding::stable_finding_id("123456789012", region, rule, arn),
            rule_id: rule.into(),
            title: rule.into(),
            severity: Severity::High,
            status: FindingStatus::Fail,
            muted_reason: None,
            service,
            resource_type: ResourceType::AwsEc2SecurityGroup,
            resource_id: arn.rsplit(['/', ':']).next().unwrap_or(arn).into(),
            resource_arn: arn.into(),
            region: region.into(),
            account_id: "123456789012".into(),
            evidence: serde_json::Value::Null,
            remediation: String::new(),
            runbook: None,
            remediation_evidence: None,
            compliance: Default::default(),
            resource_tags: Default::default(),
        }
    }

    fn scope(units: &[(&str, Service)], errors: Vec<ScanError>) -> RunScope {
        let units: Vec<_> = units
            .iter()
            .map(|(r, s)| ("123456789012", *r, *s))
            .collect();
        account_scope(&units, errors)
    }

    fn account_scope(units: &[(&str, &str, Service)], errors: Vec<ScanError>) -> RunScope {
        RunScope {
            scanned: units
                .iter()
                .map(|(a, r, s)| (a.to_string(), r.to_string(), *s))
                .collect(),
            errors,
        }
    }

    fn clock(run_id: &str, day: i64) -> RunClock<'static> {
        let at: &'static str = Box::leak(format!("2026-11-{day:02}T00:00:00Z").into_boxed_str());
        RunClock {
            run_id: Box::leak(run_id.to_string().into_boxed_str()),
            observed_at: at,
            observed_epoch: crate::time::parse_rfc3339(at).unwrap(),
            resolved_retention_days: 30,
        }
    }

    fn table(records: &[FindingRecord]) -> BTreeMap<String, FindingRecord> {
        records
            .iter()
            .map(|r| (r.finding_id.clone(), r.clone()))
            .collect()
    }

    #[test]
    fn new_open_resolved_reopened() {
        let open_sg = finding(
            "ec2_sg_open_ssh",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-1",
            "eu-west-1",
            Service::Ec2,
        );
        let other = finding(
            "ec2_sg_open_rdp",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-2",
            "eu-west-1",
            Service::Ec2,
        );
        let everywhere = scope(&[("eu-west-1", Service::Ec2)], vec![]);

        let run1 = reconcile(
            &[open_sg.clone(), other.clone()],
            &BTreeMap::new(),
            &everywhere,
            clock("r1", 1),
        );
        assert!(run1
            .current
            .iter()
            .all(|r| r.status == LifecycleStatus::New));
        assert_eq!(run1.counts().new, 2);

        let run2 = reconcile(
            std::slice::from_ref(&open_sg),
            &table(&run1.current),
            &everywhere,
            clock("r2", 2),
        );
        assert_eq!(run2.current[0].status, LifecycleStatus::Open);
        assert_eq!(run2.current[0].first_seen_at, "2026-11-01T00:00:00Z");
        assert_eq!(run2.current[0].last_seen_at, "2026-11-02T00:00:00Z");
        assert_eq!(run2.resolved.len(), 1);
        let gone = &run2.resolved[0];
        assert_eq!(
            (gone.finding_id.as_str(), gone.status),
            (other.id.as_str(), LifecycleStatus::Resolved)
        );
        assert_eq!(gone.resolved_run_id.as_deref(), Some("r2"));
        assert_eq!(
            gone.expires_at,
            Some(crate::time::parse_rfc3339("2026-12-02T00:00:00Z").unwrap())
        );
        assert_eq!(gone.account_state(), "123456789012#RESOLVED");

        let mut after2 = table(&run2.current);
        after2.extend(table(&run2.resolved));
        let run3 = reconcile(
            &[open_sg, other.clone()],
            &after2,
            &everywhere,
            clock("r3", 3),
        );
        let back = run3.by_finding_id()[other.id.as_str()];
        assert_eq!(
            (back.status, back.times_reopened, back.expires_at),
            (LifecycleStatus::Reopened, 1, None)
        );
        assert_eq!(back.first_seen_at, "2026-11-01T00:00:00Z");
        assert_eq!(
            run3.counts(),
            LifecycleCounts {
                open: 1,
                reopened: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn nothing_resolves_where_the_run_did_not_look() {
        let eu = finding(
            "ec2_sg_open_ssh",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-1",
            "eu-west-1",
            Service::Ec2,
        );
        let bucket = finding(
            "s3_bucket_versioning",
            "arn:aws:s3:::logs",
            "ap-southeast-1",
            Service::S3,
        );
        let before = reconcile(
            &[eu, bucket],
            &BTreeMap::new(),
            &scope(&[], vec![]),
            clock("r1", 1),
        );
        let previous = table(&before.current);

        // eu-west-1 EC2 failed as a unit; the bucket's policy could not be read.
        let denied = ScanError {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            service: Service::S3,
            api: "GetBucketVersioning".into(),
            code: "AccessDenied".into(),
            message: String::new(),
            resource: Some("logs".into()),
        };
        let partial = scope(
            &[("us-east-1", Service::Ec2), ("us-east-1", Service::S3)],
            vec![denied],
        );
        let run = reconcile(&[], &previous, &partial, clock("r2", 2));
        assert!(run.resolved.is_empty());
        assert_eq!(run.unconfirmed, 2);

        // A clean S3 scan from any region covers every bucket.
        let s3_ok = scope(&[("us-east-1", Service::S3)], vec![]);
        let run = reconcile(&[], &previous, &s3_ok, clock("r2", 2));
        assert_eq!(run.resolved.len(), 1);
        assert_eq!(run.resolved[0].rule_id, "s3_bucket_versioning");
    }

    fn of_account(account: &str, mut f: Finding) -> Finding {
        f.id = crate::finding::stable_finding_id(account, &f.region, &f.rule_id, &f.resource_arn);
        f.account_id = account.into();
        f
    }

    /// Each account is judged by its own units: an unreachable member resolves nothing, and a
    /// member's failed API blinds that member only.
    #[test]
    fn nothing_resolves_in_an_account_the_run_did_not_reach() {
        const OWN: &str = "123456789012";
        const MEMBER: &str = "222222222222";
        const UNREACHABLE: &str = "333333333333";
        let sg = |account: &str| {
            of_account(
                account,
                finding(
                    "ec2_sg_open_ssh",
                    &format!("arn:aws:ec2:eu-west-1:{account}:security-group/sg-1"),
                    "eu-west-1",
                    Service::Ec2,
                ),
            )
        };
        let first = reconcile(
            &[sg(OWN), sg(MEMBER), sg(UNREACHABLE)],
            &BTreeMap::new(),
            &RunScope::default(),
            clock("r1", 1),
        );
        assert!(first
            .current
            .iter()
            .all(|r| r.status == LifecycleStatus::New));
        let previous = table(&first.current);

        // Run 2: all three fixed, but only the own account and the member were scanned, and
        // the member's EC2 could not be read in eu-west-1.
        let denied = ScanError {
            account_id: MEMBER.into(),
            region: "eu-west-1".into(),
            service: Service::Ec2,
            api: "DescribeSecurityGroups".into(),
            code: "UnauthorizedOperation".into(),
            message: String::new(),
            resource: None,
        };
        let units = [
            (OWN, "eu-west-1", Service::Ec2),
            (MEMBER, "eu-west-1", Service::Ec2),
        ];
        let run = reconcile(
            &[],
            &previous,
            &account_scope(&units, vec![denied]),
            clock("r2", 2),
        );
        let resolved: Vec<&str> = run.resolved.iter().map(|r| r.account_id.as_str()).collect();
        assert_eq!(
            resolved,
            [OWN],
            "only the own account's finding was confirmed gone"
        );
        assert_eq!(run.unconfirmed, 2);

        // Another account's unit of the same region and service covers nothing here.
        let member_only = account_scope(&[(MEMBER, "eu-west-1", Service::Ec2)], vec![]);
        let run = reconcile(&[], &previous, &member_only, clock("r2", 2));
        let resolved: Vec<&str> = run.resolved.iter().map(|r| r.account_id.as_str()).collect();
        assert_eq!(resolved, [MEMBER]);
        assert_eq!(run.unconfirmed, 2);
    }

    #[test]
    fn units_and_errors_without_an_account_are_the_runs_own() {
        let mut unit = crate::testing::ec2_unit("r1", "eu-west-1", &[("sg-1", &[22])]);
        unit.errors.push(ScanError {
            account_id: String::new(),
            region: "eu-west-1".into(),
            service: Service::Ec2,
            api: "DescribeSecurityGroups".into(),
            code: "Throttling".into(),
            message: String::new(),
            resource: Some("sg-2".into()),
        });
        let mut run = crate::testing::run_document("r1", vec![unit], vec![]);
        for u in &mut run.units {
            u.account_id.clear();
        }
        let scope = RunScope::of_run(&run);
        let record = |resource: &str| {
            let mut r = advance(&run.findings[0], None, clock("r1", 1));
            r.resource_id = resource.into();
            r
        };
        assert_eq!(run.findings[0].account_id, run.account_id);
        assert!(scope.covers(&record("sg-1")));
        assert!(
            !scope.covers(&record("sg-2")),
            "the error blinds its resource"
        );
    }

    #[test]
    fn a_retried_run_keeps_its_first_decision() {
        let f = finding(
            "ec2_sg_open_ssh",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-1",
            "eu-west-1",
            Service::Ec2,
        );
        let s = scope(&[("eu-west-1", Service::Ec2)], vec![]);
        let first = reconcile(
            std::slice::from_ref(&f),
            &BTreeMap::new(),
            &s,
            clock("r1", 1),
        );
        let again = reconcile(&[f], &table(&first.current), &s, clock("r1", 1));
        assert_eq!(again.current[0].status, LifecycleStatus::New);
    }

    /// The table after `runs` are applied in the given order.
    fn applied(
        runs: &[(&[Finding], RunClock<'static>)],
        everywhere: &RunScope,
    ) -> BTreeMap<String, FindingRecord> {
        let mut records = BTreeMap::new();
        for (findings, clock) in runs {
            let r = reconcile(findings, &records, everywhere, *clock);
            for record in r.current.into_iter().chain(r.resolved) {
                records.insert(record.finding_id.clone(), record);
            }
        }
        records
    }

    #[test]
    fn an_older_run_finishing_after_a_newer_one_does_not_undo_what_the_newer_saw() {
        let sg = |n: u8, rule: &str| {
            finding(
                rule,
                &format!("arn:aws:ec2:eu-west-1:1:security-group/sg-{n}"),
                "eu-west-1",
                Service::Ec2,
            )
        };
        let (kept, fixed_then_back, first_seen_by_a) = (
            sg(1, "ec2_sg_open_ssh"),
            sg(2, "ec2_sg_open_rdp"),
            sg(3, "ec2_sg_open_ssh"),
        );
        let everywhere = scope(&[("eu-west-1", Service::Ec2)], vec![]);
        let baseline = [kept.clone(), fixed_then_back.clone()];
        // A starts on day 2 and sees sg-2 fixed and sg-3 open; B starts on day 3 and sees sg-2
        // open again and sg-3 too.
        let a = [kept.clone(), first_seen_by_a.clone()];
        let b = [
            kept.clone(),
            fixed_then_back.clone(),
            first_seen_by_a.clone(),
        ];
        let in_start_order = applied(
            &[
                (&baseline, clock("r0", 1)),
                (&a, clock("A", 2)),
                (&b, clock("B", 3)),
            ],
            &everywhere,
        );
        let b_first = applied(
            &[
                (&baseline, clock("r0", 1)),
                (&b, clock("B", 3)),
                (&a, clock("A", 2)),
            ],
            &everywhere,
        );
        let view = |records: &BTreeMap<String, FindingRecord>, f: &Finding| {
            let r = &records[&f.id];
            (
                r.status.is_active(),
                r.first_seen_at.clone(),
                r.first_run_id.clone(),
                r.last_seen_at.clone(),
                r.last_run_id.clone(),
            )
        };
        // Every finding ends active, first seen and last seen by the same runs either way.
        for f in [&kept, &fixed_then_back, &first_seen_by_a] {
            assert_eq!(
                view(&b_first, f),
                view(&in_start_order, f),
                "{}",
                f.resource_id
            );
        }
        assert_eq!(b_first[&first_seen_by_a.id].first_run_id, "A");
        assert_eq!(b_first[&first_seen_by_a.id].status, LifecycleStatus::Open);
        // A's look at sg-2 (gone) is older than B's (there): A does not resolve it.
        assert_eq!(b_first[&fixed_then_back.id].status, LifecycleStatus::Open);
        // What only the start order can know: sg-2 was resolved by A and reopened by B.
        assert_eq!(
            in_start_order[&fixed_then_back.id].status,
            LifecycleStatus::Reopened
        );
    }

    #[test]
    fn an_older_run_does_not_reopen_what_a_newer_one_resolved() {
        let f = finding(
            "ec2_sg_open_ssh",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-1",
            "eu-west-1",
            Service::Ec2,
        );
        let everywhere = scope(&[("eu-west-1", Service::Ec2)], vec![]);
        let with = [f.clone()];
        let without: [Finding; 0] = [];
        // B (day 3) no longer sees it and resolves it; A (day 2) still saw it and ends last.
        let records = applied(
            &[
                (&with, clock("r0", 1)),
                (&without, clock("B", 3)),
                (&with, clock("A", 2)),
            ],
            &everywhere,
        );
        let r = &records[&f.id];
        assert_eq!(r.status, LifecycleStatus::Resolved);
        assert_eq!(r.resolved_run_id.as_deref(), Some("B"));
        assert_eq!(r.times_reopened, 0);
    }

    #[test]
    fn config_defaults_and_errors_name_the_parameter() {
        let c = FindingsConfig::parse("{}").unwrap();
        assert!(c.security_hub.enabled);
        assert_eq!(c.resolved_retention_days, 90);
        let c = FindingsConfig::parse(r#"{"security_hub":{"enabled":false,"region":"eu-west-1"}}"#)
            .unwrap();
        assert_eq!(c.security_hub.region.as_deref(), Some("eu-west-1"));
        for bad in [
            r#"{"resolved_retention_days":0}"#,
            r#"{"security_hub":{"region":"Mars"}}"#,
            r#"{"sh":1}"#,
        ] {
            let err = FindingsConfig::parse(bad).unwrap_err().to_string();
            assert!(err.contains(PARAM_FINDINGS), "{err}");
        }
    }
}
