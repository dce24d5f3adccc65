//! The remediation ledger: at most one SSM Automation execution per (runbook, resource) within
//! the cooldown, enforced by a conditional write so that concurrent runs cannot both start one.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::AwsError;

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

    /// Claims `key` for a new execution; `false` when another one started within the cooldown.
    pub async fn claim(
        &self,
        key: &str,
        run_id: &str,
        now_epoch: u64,
        cooldown_secs: u64,
    ) -> Result<bool, AwsError> {
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
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(e) => Err(AwsError::api("dynamodb", "PutItem", &e)),
        }
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
    /// Claims `key` for a new execution; `false` when another one started within the cooldown.
    fn claim<'a>(
        &'a self,
        key: &'a str,
        run_id: &'a str,
        now_epoch: u64,
        cooldown_secs: u64,
    ) -> futures::future::BoxFuture<'a, Result<bool, AwsError>>;

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
    ) -> futures::future::BoxFuture<'a, Result<bool, AwsError>> {
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
pub struct MemoryLedger(pub std::sync::Mutex<std::collections::BTreeMap<String, LedgerEntry>>);

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
    ) -> futures::future::BoxFuture<'a, Result<bool, AwsError>> {
        let mut entries = self.entries();
        let cutoff = now_epoch.saturating_sub(cooldown_secs);
        let free = entries.get(key).is_none_or(|e| e.started_at < cutoff);
        if free {
            entries.insert(
                key.to_string(),
                LedgerEntry {
                    run_id: run_id.to_string(),
                    started_at: now_epoch,
                    status: "claimed".into(),
                    execution_id: None,
                },
            );
        }
        Box::pin(async move { Ok(free) })
    }

    fn record<'a>(
        &'a self,
        key: &'a str,
        status: &'a str,
        execution_id: Option<&'a str>,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        if let Some(entry) = self.entries().get_mut(key) {
            entry.status = status.to_string();
            entry.execution_id = execution_id.map(str::to_string);
        }
        Box::pin(async { Ok(()) })
    }
}
