//! A run's scan plan: which accounts, regions and services it covers, written by the `plan`
//! state as two objects, the plan (`runs/{run}/plan.json`, accounts with their names) and its
//! units (`runs/{run}/plan-units.json`, the array the Distributed Map reads, one item per unit).

use serde::{Deserialize, Serialize};

use crate::accounts::ScanTarget;
use crate::config::Setting;
use crate::contract::{AccountId, Region, RegionScanInput, RunId};
use crate::error::CoreError;
use crate::model::Service;

pub const PARAM_SCAN_FANOUT: &str = "/compliance/scanner/config/scan-fanout";

/// Step Functions' ceiling for a Distributed Map's concurrent child executions.
pub const MAX_MAP_CONCURRENCY: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPlan {
    pub schema_version: u32,
    pub run_id: RunId,
    pub created_at: String,
    /// The account the scanner runs in (scanned with its own credentials when planned).
    pub own_account_id: AccountId,
    pub regions: Vec<Region>,
    pub services: Vec<Service>,
    pub accounts: Vec<ScanTarget>,
}

impl ScanPlan {
    /// One unit per (account, region, regional service), and each global service once per
    /// account under the first region; account-major, so one account's units are adjacent.
    pub fn units(&self) -> Vec<RegionScanInput> {
        self.accounts
            .iter()
            .flat_map(|account| self.units_of(account))
            .collect()
    }

    /// One account's units, in plan order.
    pub fn units_of(&self, account: &ScanTarget) -> Vec<RegionScanInput> {
        let mut units = Vec::new();
        for service in &self.services {
            let regions = if service.is_global() {
                &self.regions[..self.regions.len().min(1)]
            } else {
                &self.regions[..]
            };
            units.extend(regions.iter().map(|region| RegionScanInput {
                run_id: self.run_id.clone(),
                account_id: Some(account.account_id.clone()),
                region: region.clone(),
                service: *service,
                role_arn: account.role_arn.clone(),
            }));
        }
        units
    }

    /// The name Organizations gave an account, when the plan knows it.
    pub fn account_name(&self, account: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.account_id.as_str() == account)
            .and_then(|a| a.name.as_deref())
    }
}

/// The Distributed Map's limits (`/compliance/scanner/config/scan-fanout`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanFanout {
    /// Child executions (units) at once: bounds the Lambda concurrency and the API rate a run
    /// puts on each member account.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: u32,
    /// Child executions that may fail outright (a caught unit failure does not count: it is a
    /// reported, partial result) before the run fails.
    #[serde(default = "default_tolerated")]
    pub tolerated_failure_percentage: f64,
}

fn default_concurrency() -> u32 {
    100
}

fn default_tolerated() -> f64 {
    5.0
}

impl Default for ScanFanout {
    fn default() -> Self {
        ScanFanout {
            max_concurrency: default_concurrency(),
            tolerated_failure_percentage: default_tolerated(),
        }
    }
}

impl Setting for ScanFanout {
    const PARAMETER: &'static str = PARAM_SCAN_FANOUT;

    fn parse_json(json: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidParameter {
            parameter: PARAM_SCAN_FANOUT.into(),
            reason,
        };
        let fanout: ScanFanout = crate::config::from_json_naming_field(json).map_err(invalid)?;
        if !(1..=MAX_MAP_CONCURRENCY).contains(&fanout.max_concurrency) {
            return Err(invalid(format!(
                "`max_concurrency` {} is outside 1-{MAX_MAP_CONCURRENCY}",
                fanout.max_concurrency
            )));
        }
        if !(0.0..=100.0).contains(&fanout.tolerated_failure_percentage) {
            return Err(invalid(format!(
                "`tolerated_failure_percentage` {} is outside 0-100",
                fanout.tolerated_failure_percentage
            )));
        }
        Ok(fanout)
    }
}

/// Accounts of a plan in the order their units run, with the number of units each has.
pub fn units_per_account(units: &[RegionScanInput]) -> Vec<(AccountId, usize)> {
    let mut out: Vec<(AccountId, usize)> = Vec::new();
    for unit in units {
        let Some(account) = &unit.account_id else {
            continue;
        };
        match out.last_mut() {
            Some((last, n)) if last == account => *n += 1,
            _ => out.push((account.clone(), 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::REPORT_SCHEMA_VERSION;

    fn plan() -> ScanPlan {
        let account = |id: &str, role: bool| ScanTarget {
            account_id: AccountId::parse(id).unwrap(),
            name: Some(format!("acct-{id}")),
            role_arn: role.then(|| format!("arn:aws:iam::{id}:role/R")),
        };
        ScanPlan {
            schema_version: REPORT_SCHEMA_VERSION,
            run_id: RunId::parse("r1").unwrap(),
            created_at: "2026-12-01T00:00:00Z".into(),
            own_account_id: AccountId::parse("111111111111").unwrap(),
            regions: vec![
                Region::parse("eu-west-1").unwrap(),
                Region::parse("us-east-1").unwrap(),
            ],
            services: vec![Service::Ec2, Service::S3, Service::Rds, Service::Lambda],
            accounts: vec![
                account("111111111111", false),
                account("222222222222", true),
            ],
        }
    }

    #[test]
    fn units_cover_every_account_region_and_service_with_s3_once_per_account() {
        let plan = plan();
        let units = plan.units();
        let described: Vec<String> = units
            .iter()
            .map(|u| {
                format!(
                    "{} {} {} {}",
                    u.account_id.as_ref().unwrap(),
                    u.region,
                    u.service,
                    u.role_arn.is_some()
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                "111111111111 eu-west-1 ec2 false",
                "111111111111 us-east-1 ec2 false",
                "111111111111 eu-west-1 s3 false",
                "111111111111 eu-west-1 rds false",
                "111111111111 us-east-1 rds false",
                "111111111111 eu-west-1 lambda false",
                "111111111111 us-east-1 lambda false",
                "222222222222 eu-west-1 ec2 true",
                "222222222222 us-east-1 ec2 true",
                "222222222222 eu-west-1 s3 true",
                "222222222222 eu-west-1 rds true",
                "222222222222 us-east-1 rds true",
                "222222222222 eu-west-1 lambda true",
                "222222222222 us-east-1 lambda true",
            ]
        );
        let per_account = units_per_account(&units);
        assert_eq!(per_account.len(), 2);
        assert!(per_account.iter().all(|(_, n)| *n == 7));
        assert_eq!(plan.account_name("222222222222"), Some("acct-222222222222"));
        // Every item is a valid region-scan input as the Map hands it over.
        for unit in &units {
            let json = serde_json::to_value(unit).unwrap();
            let back: RegionScanInput = serde_json::from_value(json).unwrap();
            assert_eq!(&back, unit);
        }
    }

    #[test]
    fn fanout_limits_are_checked() {
        assert_eq!(
            ScanFanout::from_parameter(None).unwrap(),
            ScanFanout::default()
        );
        let f = ScanFanout::parse_json(r#"{"max_concurrency": 40}"#).unwrap();
        assert_eq!(f.max_concurrency, 40);
        for bad in [
            r#"{"max_concurrency": 0}"#,
            r#"{"max_concurrency": 20000}"#,
            r#"{"tolerated_failure_percentage": 101}"#,
            r#"{"max_concurency": 4}"#,
        ] {
            let err = ScanFanout::parse_json(bad).unwrap_err().to_string();
            assert!(err.contains(PARAM_SCAN_FANOUT), "{bad}: {err}");
        }
    }
}
