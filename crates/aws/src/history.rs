//! Run history in DynamoDB: one item per run, keyed by account and start time, so the latest
//! run of an account is one Query away.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;

/// A run as the history table records it (the dashboard and `analyze` read these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub account_id: String,
    pub run_id: String,
    pub created_at: String,
    pub run_key: String,
    pub report_json_key: String,
    pub report_csv_key: String,
    pub compliance_score: Option<f64>,
    pub findings_total: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub informational: usize,
    pub complete: bool,
    pub decision: String,
}

pub struct HistoryStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: &impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl HistoryStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        HistoryStore {
            client,
            table: table.into(),
        }
    }

    pub async fn put(&self, item: &HistoryItem) -> Result<(), AwsError> {
        let mut attrs = HashMap::from([
            ("account_id".to_string(), s(&item.account_id)),
            (
                "started_at_run_id".to_string(),
                s(&format!("{}#{}", item.created_at, item.run_id)),
            ),
            ("run_id".to_string(), s(&item.run_id)),
            ("created_at".to_string(), s(&item.created_at)),
            ("run_key".to_string(), s(&item.run_key)),
            ("report_json_key".to_string(), s(&item.report_json_key)),
            ("report_csv_key".to_string(), s(&item.report_csv_key)),
            ("findings_total".to_string(), n(&item.findings_total)),
            ("critical".to_string(), n(&item.critical)),
            ("high".to_string(), n(&item.high)),
            ("medium".to_string(), n(&item.medium)),
            ("low".to_string(), n(&item.low)),
            ("informational".to_string(), n(&item.informational)),
            ("complete".to_string(), AttributeValue::Bool(item.complete)),
            ("decision".to_string(), s(&item.decision)),
        ]);
        if let Some(score) = item.compliance_score {
            attrs.insert("compliance_score".into(), n(&score));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .send()
            .await
            .map_err(|e| AwsError::api("dynamodb", "PutItem", &e))?;
        Ok(())
    }

    /// The most recent run of the account other than `except_run_id`, if any.
    pub async fn latest(
        &self,
        account_id: &str,
        except_run_id: &str,
    ) -> Result<Option<HistoryItem>, AwsError> {
        Ok(self
            .recent(account_id, 5)
            .await?
            .into_iter()
            .find(|item| item.run_id != except_run_id))
    }

    /// The account's last `limit` runs, newest first (one Query page: `limit` is small).
    pub async fn recent(&self, account_id: &str, limit: i32) -> Result<Vec<HistoryItem>, AwsError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("account_id = :a")
            .expression_attribute_values(":a", s(account_id))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| AwsError::api("dynamodb", "Query", &e))?;
        Ok(out.items().iter().filter_map(from_item).collect())
    }
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Option<HistoryItem> {
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let num = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<f64>().ok())
    };
    // DynamoDB numbers are decimal text; a count is a non-negative integer.
    let count = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    Some(HistoryItem {
        account_id: text("account_id")?,
        run_id: text("run_id")?,
        created_at: text("created_at").unwrap_or_default(),
        run_key: text("run_key")?,
        report_json_key: text("report_json_key").unwrap_or_default(),
        report_csv_key: text("report_csv_key").unwrap_or_default(),
        compliance_score: num("compliance_score"),
        findings_total: count("findings_total"),
        critical: count("critical"),
        high: count("high"),
        medium: count("medium"),
        low: count("low"),
        informational: count("informational"),
        complete: item
            .get("complete")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        decision: text("decision").unwrap_or_default(),
    })
}

/// The run history a state reads and writes (DynamoDB in production, memory in tests).
pub trait RunHistory: Send + Sync {
    /// The most recent run of the account other than `except_run_id`, if any.
    fn latest<'a>(
        &'a self,
        account_id: &'a str,
        except_run_id: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<HistoryItem>, AwsError>>;

    /// The account's last `limit` runs, newest first.
    fn recent<'a>(
        &'a self,
        account_id: &'a str,
        limit: i32,
    ) -> futures::future::BoxFuture<'a, Result<Vec<HistoryItem>, AwsError>>;

    fn put<'a>(
        &'a self,
        item: &'a HistoryItem,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>>;
}

impl RunHistory for HistoryStore {
    fn latest<'a>(
        &'a self,
        account_id: &'a str,
        except_run_id: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<HistoryItem>, AwsError>> {
        Box::pin(HistoryStore::latest(self, account_id, except_run_id))
    }

    fn recent<'a>(
        &'a self,
        account_id: &'a str,
        limit: i32,
    ) -> futures::future::BoxFuture<'a, Result<Vec<HistoryItem>, AwsError>> {
        Box::pin(HistoryStore::recent(self, account_id, limit))
    }

    fn put<'a>(
        &'a self,
        item: &'a HistoryItem,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(HistoryStore::put(self, item))
    }
}

/// Runs in memory, for tests: in the table's sort-key order (start time, then run id), newest
/// last, whatever order they were put in.
#[derive(Default)]
pub struct MemoryHistory(
    pub std::sync::Mutex<Vec<HistoryItem>>,
    /// Puts a test makes fail.
    pub crate::fault::WriteFault,
);

impl RunHistory for MemoryHistory {
    fn latest<'a>(
        &'a self,
        account_id: &'a str,
        except_run_id: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<HistoryItem>, AwsError>> {
        let items = crate::lock(&self.0);
        let found = items
            .iter()
            .rev()
            .find(|i| i.account_id == account_id && i.run_id != except_run_id)
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn recent<'a>(
        &'a self,
        account_id: &'a str,
        limit: i32,
    ) -> futures::future::BoxFuture<'a, Result<Vec<HistoryItem>, AwsError>> {
        let items = crate::lock(&self.0);
        let found = items
            .iter()
            .rev()
            .filter(|i| i.account_id == account_id)
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect();
        Box::pin(async move { Ok(found) })
    }

    fn put<'a>(
        &'a self,
        item: &'a HistoryItem,
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        if let Err(e) = self.1.check("dynamodb", "PutItem") {
            return Box::pin(async move { Err(e) });
        }
        let mut items = crate::lock(&self.0);
        // One item per run, as the table's key (account, start#run) makes it.
        items.retain(|i| !(i.account_id == item.account_id && i.run_id == item.run_id));
        let sort_key = |i: &HistoryItem| (i.created_at.clone(), i.run_id.clone());
        let at = items.partition_point(|i| sort_key(i) <= sort_key(item));
        items.insert(at, item.clone());
        Box::pin(async { Ok(()) })
    }
}
