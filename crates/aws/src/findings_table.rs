//! The findings table: one item per stable finding id with its lifecycle. Active findings of an
//! account are one Query away on `account-state-index`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use compliance_core::lifecycle::{account_state, FindingRecord};
use serde_json::{Map, Number, Value};

use crate::error::AwsError;

pub const STATE_INDEX: &str = "account-state-index";
/// BatchGetItem takes 100 keys, BatchWriteItem 25 requests per call.
const GET_BATCH: usize = 100;
const WRITE_BATCH: usize = 25;
/// Unprocessed keys and items are sent again this many times, with a growing pause.
const UNPROCESSED_ATTEMPTS: u32 = 8;

pub struct FindingsTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl FindingsTable {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        FindingsTable {
            client,
            table: table.into(),
        }
    }

    /// Every active (new, open, reopened) record of the account.
    pub async fn active(&self, account_id: &str) -> Result<Vec<FindingRecord>, AwsError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(STATE_INDEX)
            .key_condition_expression("account_state = :s")
            .expression_attribute_values(":s", AttributeValue::S(account_state(account_id, true)))
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::api("dynamodb", "Query", &e))?;
            for item in page.items() {
                out.push(from_item(item)?);
            }
        }
        Ok(out)
    }

    /// The records of these ids that exist (resolved ones included).
    pub async fn get_many(&self, ids: &[&str]) -> Result<Vec<FindingRecord>, AwsError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(GET_BATCH) {
            let keys: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|id| {
                    HashMap::from([("finding_id".to_string(), AttributeValue::S(id.to_string()))])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| AwsError::Serialise {
                        what: "BatchGetItem keys",
                        reason: e.to_string(),
                    })?,
            );
            let mut attempt = 0;
            while let Some(keys) = request.take() {
                let response = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| AwsError::api("dynamodb", "BatchGetItem", &e))?;
                if let Some(items) = response.responses().and_then(|r| r.get(&self.table)) {
                    for item in items {
                        out.push(from_item(item)?);
                    }
                }
                request = response
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if request.is_some() {
                    attempt += 1;
                    unprocessed_pause("BatchGetItem", attempt).await?;
                }
            }
        }
        Ok(out)
    }

    /// Writes records (whole items: a record is the item).
    pub async fn put_many(&self, records: &[&FindingRecord]) -> Result<(), AwsError> {
        for chunk in records.chunks(WRITE_BATCH) {
            let mut requests = chunk
                .iter()
                .map(|r| {
                    let put = PutRequest::builder()
                        .set_item(Some(to_item(r)?))
                        .build()
                        .map_err(|e| AwsError::Serialise {
                            what: "PutRequest",
                            reason: e.to_string(),
                        })?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, AwsError>>()?;
            let mut attempt = 0;
            while !requests.is_empty() {
                let response = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| AwsError::api("dynamodb", "BatchWriteItem", &e))?;
                requests = response
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                if !requests.is_empty() {
                    attempt += 1;
                    unprocessed_pause("BatchWriteItem", attempt).await?;
                }
            }
        }
        Ok(())
    }
}

async fn unprocessed_pause(api: &'static str, attempt: u32) -> Result<(), AwsError> {
    if attempt > UNPROCESSED_ATTEMPTS {
        return Err(AwsError::Api {
            service: "dynamodb",
            api,
            code: "ProvisionedThroughputExceeded".into(),
            message: format!("items still unprocessed after {UNPROCESSED_ATTEMPTS} attempts"),
        });
    }
    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
    Ok(())
}

/// The item of a record: its fields, plus the index key. `None` fields are left out (TTL and
/// index attributes must be absent rather than NULL).
pub fn to_item(record: &FindingRecord) -> Result<HashMap<String, AttributeValue>, AwsError> {
    let value = serde_json::to_value(record).map_err(|e| AwsError::Serialise {
        what: "a finding record",
        reason: e.to_string(),
    })?;
    let Value::Object(fields) = value else {
        return Err(AwsError::Serialise {
            what: "a finding record",
            reason: "not an object".into(),
        });
    };
    let mut item: HashMap<String, AttributeValue> = fields
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, attribute(v)))
        .collect();
    item.insert(
        "account_state".into(),
        AttributeValue::S(record.account_state()),
    );
    Ok(item)
}

pub fn from_item<S: std::hash::BuildHasher>(
    item: &HashMap<String, AttributeValue, S>,
) -> Result<FindingRecord, AwsError> {
    let fields: Map<String, Value> = item
        .iter()
        .filter(|(k, _)| k.as_str() != "account_state")
        .map(|(k, v)| (k.clone(), json(v)))
        .collect();
    let id = fields
        .get("finding_id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    serde_json::from_value(Value::Object(fields)).map_err(|e| AwsError::Serialise {
        what: "a findings-table item",
        reason: format!("item {id}: {e}"),
    })
}

fn attribute(value: Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(items) => AttributeValue::L(items.into_iter().map(attribute).collect()),
        Value::Object(map) => {
            AttributeValue::M(map.into_iter().map(|(k, v)| (k, attribute(v))).collect())
        }
    }
}

fn json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
            })
            .unwrap_or(Value::Null),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(items) => Value::Array(items.iter().map(json).collect()),
        AttributeValue::M(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
        _ => Value::Null,
    }
}

/// Records keyed by id, for [`compliance_core::lifecycle::reconcile`].
pub fn by_id(records: Vec<FindingRecord>) -> BTreeMap<String, FindingRecord> {
    records
        .into_iter()
        .map(|r| (r.finding_id.clone(), r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use compliance_core::lifecycle::LifecycleStatus;
    use compliance_core::model::ResourceType;
    use compliance_core::{Service, Severity};

    #[test]
    fn a_record_survives_the_round_trip_and_carries_its_index_key() {
        let record = FindingRecord {
            finding_id: "abc".into(),
            account_id: "123456789012".into(),
            rule_id: "ec2_sg_open_ssh".into(),
            title: "t".into(),
            severity: Severity::High,
            service: Service::Ec2,
            resource_type: ResourceType::AwsEc2SecurityGroup,
            resource_id: "sg-1".into(),
            resource_arn: "arn".into(),
            region: "eu-west-1".into(),
            status: LifecycleStatus::Resolved,
            first_seen_at: "2026-11-01T00:00:00Z".into(),
            last_seen_at: "2026-11-02T00:00:00Z".into(),
            first_run_id: "r1".into(),
            last_run_id: "r2".into(),
            resolved_at: Some("2026-11-03T00:00:00Z".into()),
            resolved_run_id: Some("r3".into()),
            times_reopened: 2,
            expires_at: Some(1_800_000_000),
        };
        let item = to_item(&record).unwrap();
        assert_eq!(
            item["account_state"],
            AttributeValue::S("123456789012#RESOLVED".into())
        );
        assert_eq!(item["expires_at"], AttributeValue::N("1800000000".into()));
        assert_eq!(from_item(&item).unwrap(), record);
        let open = FindingRecord {
            resolved_at: None,
            expires_at: None,
            status: LifecycleStatus::Open,
            ..record
        };
        let item = to_item(&open).unwrap();
        assert!(!item.contains_key("expires_at"));
        assert_eq!(from_item(&item).unwrap(), open);
    }
}

/// The finding lifecycle's records (the findings table in production, memory in tests).
pub trait FindingsStore: Send + Sync {
    /// Every active (new, open, reopened) record of the account.
    fn active<'a>(
        &'a self,
        account_id: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Vec<FindingRecord>, AwsError>>;

    /// The records of these ids that exist (resolved ones included).
    fn get_many<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Result<Vec<FindingRecord>, AwsError>>;

    fn put_many<'a>(
        &'a self,
        records: &'a [&'a FindingRecord],
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>>;
}

impl FindingsStore for FindingsTable {
    fn active<'a>(
        &'a self,
        account_id: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Vec<FindingRecord>, AwsError>> {
        Box::pin(FindingsTable::active(self, account_id))
    }

    fn get_many<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Result<Vec<FindingRecord>, AwsError>> {
        Box::pin(FindingsTable::get_many(self, ids))
    }

    fn put_many<'a>(
        &'a self,
        records: &'a [&'a FindingRecord],
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(FindingsTable::put_many(self, records))
    }
}

/// Records in memory, keyed by finding id, for tests.
#[derive(Default)]
pub struct MemoryFindings(
    pub std::sync::Mutex<BTreeMap<String, FindingRecord>>,
    /// Batches a test makes fail: the chosen batch of [`WRITE_BATCH`] records is refused,
    /// the batches before it stay written (as BatchWriteItem calls do).
    pub crate::fault::WriteFault,
);

impl MemoryFindings {
    fn records(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, FindingRecord>> {
        crate::lock(&self.0)
    }
}

impl FindingsStore for MemoryFindings {
    fn active<'a>(
        &'a self,
        account_id: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Vec<FindingRecord>, AwsError>> {
        let found = self
            .records()
            .values()
            .filter(|r| r.account_id == account_id && r.status.is_active())
            .cloned()
            .collect();
        Box::pin(async move { Ok(found) })
    }

    fn get_many<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> futures::future::BoxFuture<'a, Result<Vec<FindingRecord>, AwsError>> {
        let records = self.records();
        let found = ids
            .iter()
            .filter_map(|id| records.get(*id).cloned())
            .collect();
        Box::pin(async move { Ok(found) })
    }

    fn put_many<'a>(
        &'a self,
        records: &'a [&'a FindingRecord],
    ) -> futures::future::BoxFuture<'a, Result<(), AwsError>> {
        let mut stored = self.records();
        for chunk in records.chunks(WRITE_BATCH) {
            if let Err(e) = self.1.check("dynamodb", "BatchWriteItem") {
                return Box::pin(async move { Err(e) });
            }
            for record in chunk {
                stored.insert(record.finding_id.clone(), (*record).clone());
            }
        }
        Box::pin(async { Ok(()) })
    }
}
