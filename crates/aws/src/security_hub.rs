//! Security Hub export: ASFF findings imported 100 at a time; findings Security Hub rejects are
//! sent again, and those that still fail are reported by id with Security Hub's reason. Security
//! Hub takes a finding only from the account it belongs to (the default product ARN names it),
//! so each account's findings go through that account's hub ([`HubFor`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, FindingProviderFields,
    FindingProviderSeverity, Note, Partition, Recommendation, RecordState, Remediation, Resource,
    Severity, SeverityLabel,
};
use compliance_core::report::asff::{AsffFinding, MAX_BATCH};
use serde::Serialize;

use crate::error::AwsError;
use crate::member::MemberAccess;

/// Rejected findings are sent this many more times before they are reported.
const RETRIES: u32 = 2;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportOutcome {
    pub imported: usize,
    pub failed: Vec<FailedImport>,
}

/// A finding Security Hub refused (the state output names the first ones).
pub use compliance_core::contract::RefusedFinding as FailedImport;

impl ImportOutcome {
    pub fn failed_ids(&self) -> std::collections::BTreeSet<&str> {
        self.failed.iter().map(|f| f.id.as_str()).collect()
    }
}

pub struct SecurityHub {
    client: aws_sdk_securityhub::Client,
    /// The client's region, named in errors.
    region: String,
}

impl SecurityHub {
    pub fn new(client: aws_sdk_securityhub::Client, region: impl Into<String>) -> Self {
        SecurityHub {
            client,
            region: region.into(),
        }
    }

    /// Imports every finding. An API error (Security Hub not enabled, access denied) is an
    /// error; per-finding rejections are in the outcome.
    pub async fn import(&self, findings: &[AsffFinding]) -> Result<ImportOutcome, AwsError> {
        let by_id: BTreeMap<&str, &AsffFinding> =
            findings.iter().map(|f| (f.id.as_str(), f)).collect();
        let mut outcome = ImportOutcome::default();
        for batch in findings.chunks(MAX_BATCH) {
            let mut pending: Vec<&AsffFinding> = batch.iter().collect();
            let mut attempt = 0;
            loop {
                let rejected = self.send(&pending).await?;
                outcome.imported += pending.len() - rejected.len();
                if rejected.is_empty() {
                    break;
                }
                if attempt == RETRIES {
                    tracing::warn!(
                        count = rejected.len(),
                        "Security Hub rejected findings after retries"
                    );
                    outcome.failed.extend(rejected);
                    break;
                }
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                pending = rejected
                    .iter()
                    .filter_map(|f| by_id.get(f.id.as_str()).copied())
                    .collect();
            }
        }
        Ok(outcome)
    }

    async fn send(&self, batch: &[&AsffFinding]) -> Result<Vec<FailedImport>, AwsError> {
        let response = self
            .client
            .batch_import_findings()
            .set_findings(Some(batch.iter().map(|f| to_sdk(f)).collect()))
            .send()
            .await
            .map_err(|e| {
                AwsError::api_in("securityhub", "BatchImportFindings", &self.region, &e)
            })?;
        Ok(response
            .failed_findings()
            .iter()
            .map(|f| FailedImport {
                id: f.id().unwrap_or_default().to_string(),
                code: f.error_code().unwrap_or("Unknown").to_string(),
                message: f.error_message().unwrap_or_default().to_string(),
            })
            .collect())
    }
}

fn to_sdk(f: &AsffFinding) -> AwsSecurityFinding {
    let resources = f.resources.iter().map(|r| {
        let mut resource = Resource::builder()
            .r#type(r.resource_type)
            .id(&r.id)
            .partition(Partition::from(r.partition.as_str()))
            .region(&r.region);
        for (k, v) in &r.tags {
            resource = resource.tags(k, v);
        }
        resource.build()
    });
    let mut compliance = Compliance::builder().status(ComplianceStatus::from(f.compliance.status));
    for requirement in &f.compliance.related_requirements {
        compliance = compliance.related_requirements(requirement);
    }
    let mut finding = AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(f.product_name)
        .company_name(f.company_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .first_observed_at(&f.first_observed_at)
        .last_observed_at(&f.last_observed_at)
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(f.severity.label))
                .original(f.severity.original)
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .set_source_url(f.source_url.clone())
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&f.remediation.recommendation.text)
                        .set_url(f.remediation.recommendation.url.clone())
                        .build(),
                )
                .build(),
        )
        .compliance(compliance.build())
        .record_state(RecordState::from(f.record_state))
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(SeverityLabel::from(
                            f.finding_provider_fields.severity.label,
                        ))
                        .original(f.finding_provider_fields.severity.original)
                        .build(),
                )
                .set_types(Some(f.finding_provider_fields.types.clone()))
                .build(),
        )
        .set_types(Some(f.types.clone()))
        .set_resources(Some(resources.collect()));
    for (k, v) in &f.product_fields {
        finding = finding.product_fields(k, v);
    }
    if let Some(note) = &f.note {
        finding = finding.note(
            Note::builder()
                .text(&note.text)
                .updated_by(&note.updated_by)
                .updated_at(&note.updated_at)
                .build(),
        );
    }
    finding.build()
}

/// Where ASFF findings are imported (Security Hub in production, memory in tests).
pub trait FindingsHub: Send + Sync {
    /// Imports every finding; per-finding rejections are in the outcome.
    fn import<'a>(
        &'a self,
        findings: &'a [AsffFinding],
    ) -> futures::future::BoxFuture<'a, Result<ImportOutcome, AwsError>>;
}

impl FindingsHub for SecurityHub {
    fn import<'a>(
        &'a self,
        findings: &'a [AsffFinding],
    ) -> futures::future::BoxFuture<'a, Result<ImportOutcome, AwsError>> {
        Box::pin(SecurityHub::import(self, findings))
    }
}

/// A hub in memory: the latest import of each finding id, by id, for tests.
#[derive(Default)]
pub struct MemoryHub(pub std::sync::Mutex<BTreeMap<String, AsffFinding>>);

impl FindingsHub for MemoryHub {
    fn import<'a>(
        &'a self,
        findings: &'a [AsffFinding],
    ) -> futures::future::BoxFuture<'a, Result<ImportOutcome, AwsError>> {
        let mut stored = crate::lock(&self.0);
        for finding in findings {
            stored.insert(finding.id.clone(), finding.clone());
        }
        let outcome = ImportOutcome {
            imported: findings.len(),
            failed: vec![],
        };
        Box::pin(async move { Ok(outcome) })
    }
}

/// The Security Hub of each account: its own credentials for the scanner's account, the member
/// role for any other (production), or hubs in memory (tests).
pub trait HubFor: Send + Sync {
    /// The hub of `account_id` in `region`, reached through `role_arn` (`None`: the scanner's
    /// own credentials). An account whose role cannot be assumed is an error naming the
    /// account, the role and the call.
    fn hub<'a>(
        &'a self,
        account_id: &'a str,
        role_arn: Option<&'a str>,
        external_id: Option<&'a str>,
        region: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn FindingsHub>, AwsError>>;
}

/// Security Hub clients of every account, the member role assumed once per account.
pub struct AccountHubs {
    members: Arc<MemberAccess>,
}

impl AccountHubs {
    pub fn new(members: Arc<MemberAccess>) -> Self {
        AccountHubs { members }
    }
}

impl HubFor for AccountHubs {
    fn hub<'a>(
        &'a self,
        account_id: &'a str,
        role_arn: Option<&'a str>,
        external_id: Option<&'a str>,
        region: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn FindingsHub>, AwsError>> {
        Box::pin(async move {
            let factory = self
                .members
                .factory(account_id, role_arn, external_id)
                .await?;
            Ok(
                Arc::new(SecurityHub::new(factory.securityhub(region), region))
                    as Arc<dyn FindingsHub>,
            )
        })
    }
}

/// What a test adapter was asked for: (account, role ARN, external id, region).
pub type AccountRequest = (String, Option<String>, Option<String>, String);

/// One hub in memory per account, for tests: `unreachable` accounts' roles cannot be assumed,
/// `throttled` accounts' hubs answer every import with throttling.
#[derive(Default)]
pub struct MemoryHubs {
    pub hubs: Mutex<BTreeMap<String, Arc<MemoryHub>>>,
    pub unreachable: BTreeSet<String>,
    pub throttled: BTreeSet<String>,
    /// Every hub asked for: (account, role ARN, external id, region).
    pub requests: Mutex<Vec<AccountRequest>>,
}

impl MemoryHubs {
    /// The hub of an account (created empty on first use).
    pub fn of(&self, account_id: &str) -> Arc<MemoryHub> {
        crate::lock(&self.hubs)
            .entry(account_id.to_string())
            .or_default()
            .clone()
    }
}

impl HubFor for MemoryHubs {
    fn hub<'a>(
        &'a self,
        account_id: &'a str,
        role_arn: Option<&'a str>,
        external_id: Option<&'a str>,
        region: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn FindingsHub>, AwsError>> {
        crate::lock(&self.requests).push((
            account_id.to_string(),
            role_arn.map(str::to_string),
            external_id.map(str::to_string),
            region.to_string(),
        ));
        let result = if self.unreachable.contains(account_id) {
            Err(AwsError::Api {
                service: "sts",
                api: "AssumeRole",
                code: "AccessDenied".into(),
                message: format!(
                    "account {account_id}: {} may not be assumed (test)",
                    role_arn.unwrap_or("no role")
                ),
            })
        } else if self.throttled.contains(account_id) {
            Ok(Arc::new(ThrottledHub) as Arc<dyn FindingsHub>)
        } else {
            Ok(self.of(account_id) as Arc<dyn FindingsHub>)
        };
        Box::pin(async move { result })
    }
}

/// A hub that throttles every import, for tests.
struct ThrottledHub;

impl FindingsHub for ThrottledHub {
    fn import<'a>(
        &'a self,
        _findings: &'a [AsffFinding],
    ) -> futures::future::BoxFuture<'a, Result<ImportOutcome, AwsError>> {
        Box::pin(async {
            Err(AwsError::Api {
                service: "securityhub",
                api: "BatchImportFindings",
                code: "ThrottlingException".into(),
                message: "rate exceeded (test)".into(),
            })
        })
    }
}
