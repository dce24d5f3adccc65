//! The input and output of every state function, as the state machine passes them
//! (docs/workflow-contract.md). Inputs whose shape the ASL controls deny unknown fields, so a
//! renamed field in the definition fails loudly instead of being ignored.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::ids::{AccountId, Region, RunId, RunRef};
use crate::analysis::Decision;
use crate::finding::SeverityCounts;
use crate::lifecycle::LifecycleCounts;
use crate::model::Service;
use crate::remediation::Mode;
use crate::run::{scan_entries, FailedUnit, ScanEntry};

/// What every state input carries: the run it belongs to (the span of each invocation names it).
pub trait StateInput: serde::de::DeserializeOwned {
    fn run_id(&self) -> &RunId;
}

// ------------------------------------------------------------------ region-scan

/// `region-scan`: one (account, region, service) unit of a run, as the plan lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRegionScanInput")]
pub struct RegionScanInput {
    pub run_id: RunId,
    pub region: Region,
    /// Any case (`S3`, `ec2`): the name is what a person typing an event would write.
    pub service: Service,
    /// The account to scan; the function's own account when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    /// The member role to assume for it; absent for the scanner's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegionScanInput {
    run_id: RunId,
    region: Region,
    #[serde(deserialize_with = "service_by_name")]
    service: Service,
    #[serde(default)]
    account_id: Option<AccountId>,
    #[serde(default)]
    role_arn: Option<String>,
}

impl TryFrom<RawRegionScanInput> for RegionScanInput {
    type Error = crate::CoreError;
    fn try_from(raw: RawRegionScanInput) -> Result<Self, Self::Error> {
        if let Some(arn) = &raw.role_arn {
            check_role_arn(arn, raw.account_id.as_ref())?;
        }
        Ok(RegionScanInput {
            run_id: raw.run_id,
            region: raw.region,
            service: raw.service,
            account_id: raw.account_id,
            role_arn: raw.role_arn,
        })
    }
}

/// A member role must be an IAM role of the account it scans: `arn:{partition}:iam::{account}:role/{name}`.
fn check_role_arn(arn: &str, account: Option<&AccountId>) -> Result<(), crate::CoreError> {
    let invalid = |reason: String| crate::CoreError::InvalidParameter {
        parameter: "role_arn".into(),
        reason,
    };
    let Some(account) = account else {
        return Err(invalid(format!(
            "`{arn}` is given without the `account_id` it belongs to"
        )));
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = matches!(parts.as_slice(),
        ["arn", partition, "iam", "", acct, resource]
            if partition.starts_with("aws") && *acct == account.as_str()
                && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()));
    if well_formed {
        Ok(())
    } else {
        Err(invalid(format!(
            "`{arn}` is not an IAM role ARN of account {account}"
        )))
    }
}

impl StateInput for RegionScanInput {
    fn run_id(&self) -> &RunId {
        &self.run_id
    }
}

fn service_by_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Service, D::Error> {
    String::deserialize(deserializer)?
        .parse()
        .map_err(serde::de::Error::custom)
}

/// `region-scan`'s output is [`crate::unit::UnitScanSummary`]: keys and counts only.
pub use crate::unit::UnitScanSummary as RegionScanOutput;

// ------------------------------------------------------------------ plan

/// `plan`: the run to plan (the state data after Init).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub run_id: RunId,
    #[serde(default = "manual")]
    pub trigger: String,
}

impl StateInput for PlanInput {
    fn run_id(&self) -> &RunId {
        &self.run_id
    }
}

/// What the Distributed Map needs to read the plan and write its results, and the counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    /// The reports bucket: the map's ItemReader and ResultWriter use it.
    pub bucket: String,
    pub plan_key: String,
    /// The JSON array of region-scan inputs the map iterates over.
    pub units_key: String,
    /// Where the map's ResultWriter writes (`runs/{run}/map`).
    pub results_prefix: String,
    pub account_count: usize,
    pub unit_count: usize,
    pub regions: Vec<Region>,
    pub max_concurrency: u32,
    pub tolerated_failure_percentage: f64,
}

// ------------------------------------------------------------------ aggregate

/// `aggregate`: the run's plan and the scan map's results, merged into the run document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateInput {
    pub run_id: RunId,
    #[serde(default = "manual")]
    pub trigger: String,
    /// The ResultWriter's manifest (`runs/{run}/map/.../manifest.json`).
    pub manifest_key: String,
}

fn manual() -> String {
    "manual".into()
}

impl StateInput for AggregateInput {
    fn run_id(&self) -> &RunId {
        &self.run_id
    }
}

/// The flattened entries of a scan fan-out; a malformed entry is named by its path
/// (`scans[0][1]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanResults(pub Vec<ScanEntry>);

impl<'de> Deserialize<'de> for ScanResults {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        scan_entries(&value)
            .map(ScanResults)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateOutput {
    pub run_id: RunId,
    pub run_key: String,
    pub account_id: String,
    pub resources_scanned: usize,
    pub findings_total: usize,
    pub findings_by_severity: SeverityCounts,
    /// The first [`crate::run::MAX_INLINE_FAILED_UNITS`]; the run document has them all.
    pub failed_units: Vec<FailedUnit>,
    pub failed_unit_count: usize,
    /// A unit failed or an API could not be read.
    pub partial: bool,
}

// ------------------------------------------------------------------ analyze, remediate, store-report

/// `analyze`, `remediate` and `store-report` take the run and its document's key.
pub type AnalyzeInput = RunRef;
pub type RemediateInput = RunRef;
pub type StoreReportInput = RunRef;

impl StateInput for RunRef {
    fn run_id(&self) -> &RunId {
        &self.run_id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeOutput {
    pub run_id: RunId,
    pub decision: Decision,
    pub reason: String,
    pub compliance_score: Option<f64>,
    pub findings_by_severity: SeverityCounts,
    pub new: usize,
    pub still_open: usize,
    pub resolved: usize,
    pub previous_run_id: Option<String>,
    pub analysis_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediateOutput {
    pub mode: Mode,
    pub started: usize,
    pub dry_run: usize,
    pub skipped: usize,
    pub failed: usize,
    pub decisions_key: String,
}

/// Where `store-report` wrote each format of the run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportKeys {
    pub json: String,
    pub csv: String,
    pub ocsf: String,
    pub html: String,
    pub asff: String,
}

impl ReportKeys {
    /// The keys under a run's report prefix ([`super::RunKeys::report_prefix`]).
    pub fn under(prefix: &str) -> Self {
        ReportKeys {
            json: format!("{prefix}/report.json"),
            csv: format!("{prefix}/report.csv"),
            ocsf: format!("{prefix}/report.ocsf.json"),
            html: format!("{prefix}/report.html"),
            asff: format!("{prefix}/findings.asff.json"),
        }
    }
}

/// A finding Security Hub refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedFinding {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// What the Security Hub export did; a refusal is reported here, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SecurityHubExport {
    Disabled,
    Exported {
        region: String,
        imported: usize,
        failed_count: usize,
        /// The first refused findings (the state output stays small; the logs have them all).
        failed: Vec<RefusedFinding>,
    },
    /// The API refused the whole export (not enabled, access denied).
    Error {
        region: String,
        error: String,
    },
}

impl SecurityHubExport {
    /// Findings not exported, for the failure metric; `None` when the export is off.
    pub fn failures(&self) -> Option<usize> {
        match self {
            SecurityHubExport::Disabled => None,
            SecurityHubExport::Exported { failed_count, .. } => Some(*failed_count),
            SecurityHubExport::Error { .. } => Some(1),
        }
    }
}

/// What the optional webhook delivery did; a failure is reported here, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WebhookDelivery {
    NotConfigured,
    Delivered { http_status: u16, attempts: u32 },
    Failed { error: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreReportOutput {
    pub reports: ReportKeys,
    pub compliance_score: Option<f64>,
    pub findings_total: usize,
    pub lifecycle: Option<LifecycleCounts>,
    pub security_hub: SecurityHubExport,
    pub webhook: WebhookDelivery,
}

// ------------------------------------------------------------------ alert

/// `alert`: a findings alert for a run over its thresholds, or a failed run's alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AlertInput {
    Findings(RunRef),
    Failure(FailureAlert),
}

const ALERT_MODES: &[&str] = &["findings", "failure"];

/// By hand rather than serde's internally tagged enum, which buffers the fields and so loses
/// their names: `run_id: null` would be refused as just "invalid type: null".
impl<'de> Deserialize<'de> for AlertInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let mode = match fields.remove("mode") {
            Some(Value::String(mode)) => mode,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "field `mode`: expected \"findings\" or \"failure\", got {other}"
                )))
            }
            None => return Err(D::Error::missing_field("mode")),
        };
        let rest = Value::Object(fields);
        match mode.as_str() {
            "findings" => naming_field(rest).map(AlertInput::Findings),
            "failure" => naming_field(rest).map(AlertInput::Failure),
            other => Err(D::Error::custom(format!(
                "field `mode`: {}",
                D::Error::unknown_variant(other, ALERT_MODES)
            ))),
        }
    }
}

/// `value` as a `T`, an error naming the field at fault as [`super::parse_input`] does.
fn naming_field<T: serde::de::DeserializeOwned, E: serde::de::Error>(value: Value) -> Result<T, E> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            E::custom(e.into_inner())
        } else {
            E::custom(format!("field `{path}`: {}", e.into_inner()))
        }
    })
}

/// The top-level Catch's error, as Step Functions recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureAlert {
    pub run_id: RunId,
    #[serde(default, deserialize_with = "any_text")]
    pub error: String,
    #[serde(default, deserialize_with = "any_text")]
    pub cause: String,
}

/// Step Functions passes strings here, but a failure alert must go out whatever it got: other
/// JSON is kept as its text, null as empty.
fn any_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

impl StateInput for AlertInput {
    fn run_id(&self) -> &RunId {
        match self {
            AlertInput::Findings(r) => &r.run_id,
            AlertInput::Failure(f) => &f.run_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertOutput {
    pub message_id: String,
    pub subject: String,
}

// ------------------------------------------------------------------ the execution

/// What a succeeded execution returns: the run's state data after its last state
/// (`compliance run --wait` prints it). Other state data may be there too; it is not read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecutionOutput {
    pub run_id: RunId,
    pub aggregate: AggregateOutput,
    pub analysis: AnalyzeOutput,
    /// The alert and remediation results, when the run alerted (branch order of `Respond`).
    #[serde(default)]
    pub actions: Option<(AlertOutput, RemediateOutput)>,
    /// Why alerting or remediation failed, when it did (the report is stored all the same).
    #[serde(default)]
    pub actions_error: Option<CaughtError>,
    pub report: StoreReportOutput,
}

/// An error a Catch recorded (`ResultPath` of the Catch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}
