//! The remediation ledger: at most one SSM Automation execution per (runbook, resource) within
//! the cooldown, enforced by a conditional write so that concurrent runs cannot both start one.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::AwsError;

/// What claiming a (runbook, resource) for a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// It was free: it is this run's now.
    Claimed,
    /// This run claimed it already (the state is being run again): what that attempt recorded.
    ClaimedByThisRun {
        status: String,
        execution_id: Option<String>,
    },
    /// Another run started an execution within the cooldown.
    Taken,
}

pub struct RemediationLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl RemediationLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        RemediationLedger {
            client,
            table: table.into(),
        }
    }

    /// Claims `key` for a new execution of `run_id` (see [`Claim`]).
    pub async fn claim(
        &self,
        key: &str,
        run_id: &str,
        now_epoch: u64,
        cooldown_secs: u64,
    ) -> Result<Claim, AwsError> {
        let item = HashMap::from([
            ("finding_id".to_string(), AttributeValue::S(key.to_string())),
            ("run_id".to_string(), AttributeValue::S(run_id.to_string())),
            (
                "started_at".to_string(),
                AttributeValue::N(now_epoch.to_string()),
            ),
            ("status".to_string(), AttributeValue::S("claimed".into())),
            // TTL: the entry outlives its cooldown, then DynamoDB removes it.
            (
                "expires_at".to_string(),
                AttributeValue::N((now_epoch + cooldown_secs * 2).to_string()),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(finding_id) OR started_at < :cutoff")
            .expression_attribute_values(
                ":cutoff",
                AttributeValue::N(now_epoch.saturating_sub(cooldown_secs).to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception) =>
            {
                self.holder(key, run_id).await
            }
            Err(e) => Err(AwsError::api("dynamodb", "PutItem", &e)),
        }
    }

    /// Who holds a claimed entry: this run (a re-run of the state) or another one.
    async fn holder(&self, key: &str, run_id: &str) -> Result<Claim, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("finding_id", AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::api("dynamodb", "GetItem", &e))?;
        let text = |name: &str| {
            out.item()
                .and_then(|item| item.get(name))
                .and_then(|v| v.as_s().ok())
                .cloned()
        };
        Ok(if text("run_id").as_deref() == Some(run_id) {
            Claim::ClaimedByThisRun {
                status: text("status").unwrap_or_default(),
                execution_id: text("execution_id"),
            }
        } else {
            Claim::Taken
        })
    }

    /// Records the execution id (or the failure) on the claimed entry.
    pub async fn record(
        &self,
        key: &str,
        status: &str,
        execution_id: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("finding_id", AttributeValue::S(key.to_string()))
            .update_expression(if execution_id.is_some() {
                "SET #s = :s, execution_id = :e"
            } else {
                "SET #s = :s"
            })
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", AttributeValue::S(status.to_string()));
        if let Some(id) = execution_id {
            update = update.expression_attribute_values(":e", AttributeValue::S(id.to_string()));
        }
        update
            .send()
            .await
            .map_err(|e| AwsError::api("dynamodb", "UpdateItem", &e))?;
        Ok(())
    }
}

/// The remediation ledger: one execution per (runbook, resource) within the cooldown.
pub trait Ledger: Send + Sync {
    /// Claims `key` for a new execution of `run_id` (see [`Claim`]).
    fn claim<'a>(
        &'a self,
        key: &'a str,
        run_id: &'a str,
        now_epoch: u64,
        cooldown_secs: u64,
    ) -> futures::future::BoxFuture<'a, Result<Claim, AwsError>>;

    /// Records the execution id (or the failure) on the claimed entry.
    fn record<'a>(
        &'a self,
        key: &'a str,
        status: &'a str,
        execution_id: Option<&'a str>,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>>;
}

impl Ledger for RemediationLedger {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        run_id: &'a str,
        now_epoch: u64,
        cooldown_secs: u64,
    ) -> futures::future::BoxFuture<'a, Result<Claim, AwsError>> {
        Box::pin(RemediationLedger::claim(
            self,
            key,
            run_id,
            now_epoch,
            cooldown_secs,
        ))
    }

    fn record<'a>(
        &'a self,
        key: &'a str,
        status: &'a str,
        execution_id: Option<&'a str>,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(RemediationLedger::record(self, key, status, execution_id))
    }
}

/// One ledger entry in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub run_id: String,
    pub started_at: u64,
    pub status: String,
    pub execution_id: Option<String>,
}

/// The ledger in memory (same claim rule as the table's condition), for tests.
#[derive(Default)]
pub struct MemoryLedger(
    pub std::sync::Mutex<std::collections::BTreeMap<String, LedgerEntry>>,
    /// Records (of a start or a failure) a test makes fail.
    pub crate::fault::WriteFault,
);

impl MemoryLedger {
    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, LedgerEntry>> {
        crate::lock(&self.0)
    }
}

impl Ledger for MemoryLedger {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        run_id: &'a str,
        now_epoch: u64,
        cooldown_secs: u64,
    ) -> futures::future::BoxFuture<'a, Result<Claim, AwsError>> {
        let mut entries = self.entries();
        let cutoff = now_epoch.saturating_sub(cooldown_secs);
        let claim = match entries.get(key) {
            Some(e) if e.started_at >= cutoff && e.run_id == run_id => Claim::ClaimedByThisRun {
                status: e.status.clone(),
                execution_id: e.execution_id.clone(),
            },
            Some(e) if e.started_at >= cutoff => Claim::Taken,
            _ => {
                entries.insert(
                    key.to_string(),
                    LedgerEntry {
                        run_id: run_id.to_string(),
                        started_at: now_epoch,
                        status: "claimed".into(),
                        execution_id: None,
                    },
                );
                Claim::Claimed
            }
        };
        Box::pin(async move { Ok(claim) })
    }

    fn record<'a>(
        &'a self,
        key: &'a str,
        status: &'a str,
        execution_id: Option<&'a str>,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        if let Err(e) = self.1.check("dynamodb", "UpdateItem") {
            return Box::pin(async move { Err(e) });
        }
        if let Some(entry) = self.entries().get_mut(key) {
            entry.status = status.to_string();
            entry.execution_id = execution_id.map(str::to_string);
        }
        Box::pin(async { Ok(()) })
    }
}
