//! Lambda functions: what ListFunctions returns (runtime, package type, VPC configuration,
//! tracing), each function's resource-based policy (GetPolicy) and the Availability Zones of the
//! subnets it connects to (EC2 DescribeSubnets).

use serde::{Deserialize, Serialize};

/// A Lambda function (its unpublished `$LATEST` configuration) as ListFunctions returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LambdaFunction {
    pub name: String,
    pub arn: String,
    pub region: String,
    /// `Zip` or `Image` (container image).
    pub package_type: String,
    /// The runtime identifier (`python3.13`, `provided.al2023`, ...); `None` for container images.
    #[serde(default)]
    pub runtime: Option<String>,
    /// `VpcConfig.VpcId`; `None` (or empty) when the function is not connected to a VPC.
    #[serde(default)]
    pub vpc_id: Option<String>,
    /// `VpcConfig.SubnetIds`.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// The Availability Zones of `subnet_ids` (DescribeSubnets), sorted and deduplicated;
    /// `None` when not read (no subnets, or the call failed: then listed in `unreadable`).
    #[serde(default)]
    pub availability_zones: Option<Vec<String>>,
    /// `TracingConfig.Mode`: `Active` or `PassThrough`.
    #[serde(default)]
    pub tracing_mode: Option<String>,
    /// The function policy (GetPolicy `Policy`, JSON); `None` when the function has none, or when
    /// the call failed (then listed in `unreadable`).
    #[serde(default)]
    pub policy: Option<String>,
    /// APIs whose answer is missing for this function.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

impl LambdaFunction {
    /// Connected to a VPC: ListFunctions gives a VPC id and subnets.
    pub fn in_vpc(&self) -> bool {
        self.vpc_id.as_deref().is_some_and(|v| !v.is_empty()) || !self.subnet_ids.is_empty()
    }

    pub fn is_unreadable(&self, api: &str) -> bool {
        self.unreadable.iter().any(|a| a == api)
    }
}
