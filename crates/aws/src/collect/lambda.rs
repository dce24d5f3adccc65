//! Lambda: the functions of one region (ListFunctions returns runtime, package type, VPC
//! configuration and tracing: no per-function call for those), each function's resource-based
//! policy (GetPolicy, the one setting no list call returns, functions concurrently up to a
//! bound), and the Availability Zones of the subnets the functions use (EC2 DescribeSubnets,
//! once per region for those subnet ids).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Filter;
use aws_sdk_lambda::types::FunctionConfiguration;
use compliance_core::model::LambdaFunction;
use compliance_core::rules::lambda::{API_POLICY, API_SUBNETS};
use compliance_core::{Inventory, ScanError, Service};
use futures::future::BoxFuture;
use futures::StreamExt;

use super::{Collected, Collector};
use crate::error::{optional, scan_error};
use crate::sdk::ClientFactory;

/// ListFunctions' largest page.
const PAGE: i32 = 50;
/// Function policies read at once.
const POLICY_CONCURRENCY: usize = 8;
/// Subnet ids per DescribeSubnets filter (well within EC2's limit of filter values).
const SUBNETS_PER_CALL: usize = 200;

pub struct LambdaCollector {
    factory: ClientFactory,
}

impl LambdaCollector {
    pub fn new(factory: ClientFactory) -> Self {
        LambdaCollector { factory }
    }
}

impl Collector for LambdaCollector {
    fn service(&self) -> Service {
        Service::Lambda
    }

    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected> {
        Box::pin(async move {
            let mut out = Collected {
                inventory: Inventory::new(account_id),
                errors: Vec::new(),
            };
            let listed = match self.list(region).await {
                Ok(listed) => listed,
                Err(e) => {
                    out.errors.push(e);
                    return out;
                }
            };
            let subnet_ids: BTreeSet<String> = listed
                .iter()
                .flat_map(|f| f.subnet_ids.iter().cloned())
                .collect();
            let client = self.factory.lambda(region);
            let policies = futures::stream::iter(listed)
                .map(|f| read_policy(&client, f))
                .buffer_unordered(POLICY_CONCURRENCY)
                .collect::<Vec<_>>();
            let (read, zones) = tokio::join!(policies, self.subnet_zones(region, subnet_ids));
            let mut functions = Vec::with_capacity(read.len());
            for (mut function, error) in read {
                out.errors.extend(error);
                if function.in_vpc() {
                    match &zones {
                        Ok(zones) => {
                            let set: BTreeSet<&String> = function
                                .subnet_ids
                                .iter()
                                .filter_map(|s| zones.get(s))
                                .collect();
                            function.availability_zones = Some(set.into_iter().cloned().collect());
                        }
                        Err(_) => function.unreadable.push(API_SUBNETS.to_string()),
                    }
                }
                functions.push(function);
            }
            if let Err(e) = zones {
                out.errors.push(e);
            }
            functions.sort_by(|a, b| a.arn.cmp(&b.arn));
            out.inventory.lambda_functions = functions;
            out
        })
    }
}

impl LambdaCollector {
    async fn list(&self, region: &str) -> Result<Vec<LambdaFunction>, ScanError> {
        let mut pages = self
            .factory
            .lambda(region)
            .list_functions()
            .max_items(PAGE)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| scan_error(region, Service::Lambda, "ListFunctions", None, &e))?;
            out.extend(page.functions().iter().filter_map(|f| convert(f, region)));
        }
        Ok(out)
    }

    /// Subnet id -> Availability Zone, for the subnets the region's functions use. Filtered by
    /// `subnet-id` (a subnet that no longer exists is left out, where `SubnetIds` would fail
    /// the whole call).
    async fn subnet_zones(
        &self,
        region: &str,
        subnet_ids: BTreeSet<String>,
    ) -> Result<BTreeMap<String, String>, ScanError> {
        let mut zones = BTreeMap::new();
        if subnet_ids.is_empty() {
            return Ok(zones);
        }
        let client = self.factory.ec2(region);
        let ids: Vec<String> = subnet_ids.into_iter().collect();
        for chunk in ids.chunks(SUBNETS_PER_CALL) {
            let filter = Filter::builder()
                .name("subnet-id")
                .set_values(Some(chunk.to_vec()))
                .build();
            let mut pages = client
                .describe_subnets()
                .filters(filter)
                .max_results(1000)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| scan_error(region, Service::Lambda, API_SUBNETS, None, &e))?;
                for subnet in page.subnets() {
                    if let (Some(id), Some(zone)) = (subnet.subnet_id(), subnet.availability_zone())
                    {
                        zones.insert(id.to_string(), zone.to_string());
                    }
                }
            }
        }
        Ok(zones)
    }
}

/// The function's policy; none is not an error, any other failure is (and marks it unreadable).
async fn read_policy(
    client: &aws_sdk_lambda::Client,
    mut function: LambdaFunction,
) -> (LambdaFunction, Option<ScanError>) {
    let result = client
        .get_policy()
        .function_name(&function.arn)
        .send()
        .await;
    match optional(result) {
        Ok(policy) => {
            function.policy = policy.and_then(|p| p.policy().map(str::to_string));
            (function, None)
        }
        Err(e) => {
            let error = scan_error(
                &function.region,
                Service::Lambda,
                API_POLICY,
                Some(&function.arn),
                &e,
            );
            function.unreadable.push(API_POLICY.to_string());
            (function, Some(error))
        }
    }
}

fn convert(f: &FunctionConfiguration, region: &str) -> Option<LambdaFunction> {
    let name = f.function_name()?;
    let arn = f.function_arn()?;
    let vpc = f.vpc_config();
    Some(LambdaFunction {
        name: name.to_string(),
        arn: arn.to_string(),
        region: region.to_string(),
        package_type: f
            .package_type()
            .map_or("Zip", aws_sdk_lambda::types::PackageType::as_str)
            .to_string(),
        runtime: f.runtime().map(|r| r.as_str().to_string()),
        vpc_id: vpc
            .and_then(|v| v.vpc_id())
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        subnet_ids: vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
        availability_zones: None,
        tracing_mode: f
            .tracing_config()
            .and_then(|t| t.mode())
            .map(|m| m.as_str().to_string()),
        policy: None,
        unreadable: Vec::new(),
    })
}
