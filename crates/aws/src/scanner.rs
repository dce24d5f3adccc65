//! Runs collectors over a scan plan: every (account, region, service) unit, a bounded number at
//! once across all accounts, each service of a region in parallel, S3 once per account. Member
//! accounts are reached through their role, assumed once per account; an account whose role
//! cannot be assumed yields one error per unit, and every other account is scanned as usual.

use std::collections::HashMap;

use compliance_core::accounts::ScanTarget;
use compliance_core::contract::RegionScanInput;
use compliance_core::plan::ScanPlan;
use compliance_core::{Inventory, ScanError, Service};
use futures::StreamExt;
use tokio::sync::OnceCell;

use crate::collect::cloudtrail::CloudTrailCollector;
use crate::collect::ec2::Ec2Collector;
use crate::collect::iam::IamCollector;
use crate::collect::lambda::LambdaCollector;
use crate::collect::rds::RdsCollector;
use crate::collect::s3::{S3Collector, DEFAULT_BUCKET_CONCURRENCY};
use crate::collect::{Collected, Collector};
use crate::error::AwsError;
use crate::member::MemberAccess;
use crate::sdk::{self, ClientFactory, RequestCounter};

/// Units scanned at once, across every account; each unit already runs its own calls
/// concurrently.
const UNIT_CONCURRENCY: usize = 8;

/// The name a failed role assumption is recorded under.
pub const ASSUME_ROLE_API: &str = "sts:AssumeRole";

pub struct Scanner {
    factory: ClientFactory,
    ec2: Ec2Collector,
    s3: S3Collector,
    rds: RdsCollector,
    cloudtrail: CloudTrailCollector,
    iam: IamCollector,
    lambda: LambdaCollector,
}

/// One account's part of a scan.
#[derive(Debug)]
pub struct AccountScan {
    pub target: ScanTarget,
    /// Every unit of the account, in plan order, with what it collected; each error carries
    /// the account.
    pub units: Vec<(RegionScanInput, Collected)>,
    /// True when the member role could not be assumed: no unit of the account ran, and each
    /// holds only the error that says so.
    pub unreachable: bool,
}

impl AccountScan {
    /// The account's whole inventory and errors, in an order that does not depend on which
    /// unit finished first.
    pub fn merged(self) -> (Inventory, Vec<ScanError>) {
        let mut inventory = Inventory::new(self.target.account_id.as_str());
        let mut errors = Vec::new();
        for (_, collected) in self.units {
            inventory.merge(collected.inventory);
            errors.extend(collected.errors);
        }
        sort_inventory(&mut inventory);
        sort_errors(&mut errors);
        (inventory, errors)
    }
}

/// A unit that has just finished, for progress displays.
pub struct UnitDone<'a> {
    pub unit: &'a RegionScanInput,
    pub collected: &'a Collected,
    /// Accounts all of whose units have finished, this unit's included.
    pub accounts_done: usize,
    pub accounts_total: usize,
}

/// How one account is reached, settled by the first of its units to run.
enum Reach {
    Own,
    Member(Box<Scanner>),
    /// The role could not be assumed: (code, message, role ARN).
    Unreachable {
        code: String,
        message: String,
        role_arn: String,
    },
}

impl Scanner {
    /// A scanner whose home region (STS, SSM, S3 listing) is `home_region`.
    pub async fn from_env(home_region: &str) -> Self {
        let factory = ClientFactory::new(sdk::load(home_region).await, RequestCounter::default());
        Scanner::new(factory)
    }

    pub fn new(factory: ClientFactory) -> Self {
        Scanner {
            ec2: Ec2Collector::new(factory.clone()),
            s3: S3Collector::new(factory.clone(), DEFAULT_BUCKET_CONCURRENCY),
            rds: RdsCollector::new(factory.clone()),
            cloudtrail: CloudTrailCollector::new(factory.clone()),
            iam: IamCollector::new(factory.clone()),
            lambda: LambdaCollector::new(factory.clone()),
            factory,
        }
    }

    pub fn factory(&self) -> &ClientFactory {
        &self.factory
    }

    /// Every request of the scanner, member accounts' and role assumptions included.
    pub fn requests(&self) -> &RequestCounter {
        self.factory.counter()
    }

    /// The account the credentials belong to (ARNs and finding ids need it).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        use crate::member::CallerIdentity;
        crate::member::StsIdentity::new(self.factory.sts())
            .account_id()
            .await
    }

    fn collector(&self, service: Service) -> &dyn Collector {
        match service {
            Service::Ec2 => &self.ec2,
            Service::S3 => &self.s3,
            Service::Rds => &self.rds,
            Service::CloudTrail => &self.cloudtrail,
            Service::Iam => &self.iam,
            Service::Lambda => &self.lambda,
        }
    }

    pub async fn collect(&self, account_id: &str, region: &str, service: Service) -> Collected {
        let started = std::time::Instant::now();
        let collected = self.collector(service).collect(account_id, region).await;
        tracing::info!(
            account = account_id,
            region,
            %service,
            resources = collected.inventory.resource_count(),
            errors = collected.errors.len(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "collected"
        );
        collected
    }

    /// Scans every unit of the plan, at most [`UNIT_CONCURRENCY`] at once over all accounts;
    /// returns each account's results in the plan's account order. `on_done` sees each unit as
    /// it completes (progress bars). `external_id` goes with every role assumption.
    pub async fn scan(
        &self,
        plan: &ScanPlan,
        external_id: Option<&str>,
        mut on_done: impl FnMut(UnitDone<'_>),
    ) -> Vec<AccountScan> {
        let members = MemberAccess::new(self.factory.clone());
        let index: HashMap<&str, usize> = plan
            .accounts
            .iter()
            .enumerate()
            .map(|(i, t)| (t.account_id.as_str(), i))
            .collect();
        let reach: Vec<OnceCell<Reach>> = plan.accounts.iter().map(|_| OnceCell::new()).collect();
        let mut pending = vec![0usize; plan.accounts.len()];
        let mut planned = Vec::new();
        for (position, unit) in plan.units().into_iter().enumerate() {
            let account = unit.account_id.as_ref().map_or("", |a| a.as_str());
            // Units come from the plan's own accounts, so every one has an index.
            let Some(&i) = index.get(account) else {
                continue;
            };
            pending[i] += 1;
            planned.push((position, i, unit));
        }
        let mut finished: Vec<Vec<(usize, RegionScanInput, Collected)>> =
            plan.accounts.iter().map(|_| Vec::new()).collect();
        let (members, reach, accounts) = (&members, &reach, &plan.accounts);
        let mut units = futures::stream::iter(planned)
            .map(|(position, i, unit)| async move {
                let reached = reach[i]
                    .get_or_init(|| self.reach(members, &accounts[i], external_id))
                    .await;
                let collected = self.collect_unit(reached, &unit).await;
                (position, i, unit, collected)
            })
            .buffer_unordered(UNIT_CONCURRENCY);
        let mut accounts_done = 0;
        while let Some((position, i, unit, mut collected)) = units.next().await {
            for error in &mut collected.errors {
                error.account_id = accounts[i].account_id.to_string();
            }
            pending[i] -= 1;
            if pending[i] == 0 {
                accounts_done += 1;
            }
            on_done(UnitDone {
                unit: &unit,
                collected: &collected,
                accounts_done,
                accounts_total: accounts.len(),
            });
            finished[i].push((position, unit, collected));
        }
        accounts
            .iter()
            .zip(finished)
            .zip(reach)
            .map(|((target, mut units), reached)| {
                units.sort_by_key(|(position, _, _)| *position);
                AccountScan {
                    target: target.clone(),
                    units: units.into_iter().map(|(_, u, c)| (u, c)).collect(),
                    unreachable: matches!(reached.get(), Some(Reach::Unreachable { .. })),
                }
            })
            .collect()
    }

    /// The account's own scanner: its member role assumed (once: the caller caches the answer),
    /// or this one for the scanner's own account.
    async fn reach(
        &self,
        members: &MemberAccess,
        target: &ScanTarget,
        external_id: Option<&str>,
    ) -> Reach {
        let Some(role_arn) = target.role_arn.as_deref() else {
            return Reach::Own;
        };
        match members
            .factory(target.account_id.as_str(), Some(role_arn), external_id)
            .await
        {
            Ok(factory) => Reach::Member(Box::new(Scanner::new(factory))),
            Err(e) => {
                tracing::warn!(account = %target.account_id, role = role_arn, error = %e,
                    "member role not assumed; the account is not scanned");
                let code = match &e {
                    AwsError::AssumeRole { failure, .. } | AwsError::Call { failure, .. } => {
                        failure.code.clone()
                    }
                    AwsError::Api { code, .. } => code.clone(),
                    _ => "AssumeRoleFailed".into(),
                };
                let message = match &e {
                    // The AssumeRole error already names the account and the role.
                    AwsError::AssumeRole { .. } => e.to_string(),
                    _ => format!(
                        "account {}: sts AssumeRole of {role_arn} failed: {e}",
                        target.account_id
                    ),
                };
                Reach::Unreachable {
                    code,
                    message,
                    role_arn: role_arn.to_string(),
                }
            }
        }
    }

    async fn collect_unit(&self, reached: &Reach, unit: &RegionScanInput) -> Collected {
        let account = unit.account_id.as_ref().map_or("", |a| a.as_str());
        let region = unit.region.as_str();
        match reached {
            Reach::Own => self.collect(account, region, unit.service).await,
            Reach::Member(scanner) => scanner.collect(account, region, unit.service).await,
            Reach::Unreachable {
                code,
                message,
                role_arn,
            } => Collected {
                inventory: Inventory::new(account),
                errors: vec![ScanError {
                    account_id: account.to_string(),
                    region: region.to_string(),
                    service: unit.service,
                    api: ASSUME_ROLE_API.into(),
                    code: code.clone(),
                    message: message.clone(),
                    resource: Some(role_arn.clone()),
                }],
            },
        }
    }
}

/// Completion order varies; reports must not.
fn sort_inventory(inv: &mut Inventory) {
    inv.security_groups.sort_by(|a, b| a.arn.cmp(&b.arn));
    inv.instances.sort_by(|a, b| a.arn.cmp(&b.arn));
    inv.volumes.sort_by(|a, b| a.arn.cmp(&b.arn));
    inv.ebs_encryption_defaults
        .sort_by(|a, b| a.region.cmp(&b.region));
    inv.buckets.sort_by(|a, b| a.name.cmp(&b.name));
    inv.db_instances.sort_by(|a, b| a.arn.cmp(&b.arn));
}

/// Errors by account, region, service, API and resource.
pub fn sort_errors(errors: &mut [ScanError]) {
    errors.sort_by(|a, b| {
        (&a.account_id, &a.region, a.service, &a.api, &a.resource).cmp(&(
            &b.account_id,
            &b.region,
            b.service,
            &b.api,
            &b.resource,
        ))
    });
}

#[cfg(test)]
mod tests {
    use compliance_core::contract::{AccountId, Region, RunId};

    use super::*;

    fn plan(regions: &[&str], services: &[Service]) -> ScanPlan {
        let own = AccountId::parse("123456789012").unwrap();
        ScanPlan {
            schema_version: 1,
            run_id: RunId::parse("cli").unwrap(),
            created_at: String::new(),
            accounts: compliance_core::accounts::own_account_only(&own),
            own_account_id: own,
            regions: regions.iter().map(|r| Region::parse(r).unwrap()).collect(),
            services: services.to_vec(),
        }
    }

    #[test]
    fn global_services_are_planned_once_under_the_first_region() {
        let plan = plan(
            &["eu-west-1", "us-east-1"],
            &[Service::Ec2, Service::S3, Service::Rds],
        );
        let units: Vec<(String, Service)> = plan
            .units()
            .into_iter()
            .map(|u| (u.region.to_string(), u.service))
            .collect();
        assert_eq!(
            units,
            vec![
                ("eu-west-1".to_string(), Service::Ec2),
                ("us-east-1".to_string(), Service::Ec2),
                ("eu-west-1".to_string(), Service::S3),
                ("eu-west-1".to_string(), Service::Rds),
                ("us-east-1".to_string(), Service::Rds),
            ]
        );
    }
}
