//! Runs collectors over a scan plan: regions in parallel, each service of a region in parallel,
//! S3 once per account.

use compliance_core::{Inventory, ScanError, Service};
use futures::StreamExt;

use crate::collect::ec2::Ec2Collector;
use crate::collect::rds::RdsCollector;
use crate::collect::s3::{S3Collector, DEFAULT_BUCKET_CONCURRENCY};
use crate::collect::{Collected, Collector};
use crate::error::AwsError;
use crate::sdk::{self, ClientFactory, RequestCounter};

/// (region, service) pairs a scan covers. Global services appear once, under the first region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPlan {
    pub regions: Vec<String>,
    pub services: Vec<Service>,
}

impl ScanPlan {
    pub fn units(&self) -> Vec<(String, Service)> {
        let mut units = Vec::new();
        for service in &self.services {
            if service.is_global() {
                if let Some(home) = self.regions.first() {
                    units.push((home.clone(), *service));
                }
            } else {
                units.extend(self.regions.iter().map(|r| (r.clone(), *service)));
            }
        }
        units
    }
}

/// Units scanned at once; each unit already runs its own calls concurrently.
const UNIT_CONCURRENCY: usize = 8;

pub struct Scanner {
    factory: ClientFactory,
    ec2: Ec2Collector,
    s3: S3Collector,
    rds: RdsCollector,
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
            factory,
        }
    }

    pub fn factory(&self) -> &ClientFactory {
        &self.factory
    }

    pub fn requests(&self) -> &RequestCounter {
        self.factory.counter()
    }

    /// The account the credentials belong to (ARNs and finding ids need it).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let out = self
            .factory
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::api("sts", "GetCallerIdentity", &e))?;
        out.account()
            .map(str::to_string)
            .ok_or_else(|| AwsError::Api {
                service: "sts",
                api: "GetCallerIdentity",
                code: "MissingAccount".into(),
                message: "the response carried no account id".into(),
            })
    }

    fn collector(&self, service: Service) -> &dyn Collector {
        match service {
            Service::Ec2 => &self.ec2,
            Service::S3 => &self.s3,
            Service::Rds => &self.rds,
        }
    }

    pub async fn collect(&self, account_id: &str, region: &str, service: Service) -> Collected {
        let started = std::time::Instant::now();
        let collected = self.collector(service).collect(account_id, region).await;
        tracing::info!(
            region,
            %service,
            resources = collected.inventory.resource_count(),
            errors = collected.errors.len(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "collected"
        );
        collected
    }

    /// Scans every unit of the plan; `on_done` sees each unit as it completes (progress bars).
    pub async fn scan(
        &self,
        account_id: &str,
        plan: &ScanPlan,
        mut on_done: impl FnMut(&str, Service, &Collected),
    ) -> (Inventory, Vec<ScanError>) {
        let mut inventory = Inventory::new(account_id);
        let mut errors = Vec::new();
        let mut units = futures::stream::iter(plan.units())
            .map(|(region, service)| async move {
                let collected = self.collect(account_id, &region, service).await;
                (region, service, collected)
            })
            .buffer_unordered(UNIT_CONCURRENCY);
        while let Some((region, service, collected)) = units.next().await {
            on_done(&region, service, &collected);
            inventory.merge(collected.inventory);
            errors.extend(collected.errors);
        }
        sort_inventory(&mut inventory);
        errors.sort_by(|a, b| {
            (&a.region, a.service, &a.api, &a.resource).cmp(&(
                &b.region,
                b.service,
                &b.api,
                &b.resource,
            ))
        });
        (inventory, errors)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_services_are_planned_once_under_the_first_region() {
        let plan = ScanPlan {
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            services: vec![Service::Ec2, Service::S3, Service::Rds],
        };
        assert_eq!(
            plan.units(),
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
