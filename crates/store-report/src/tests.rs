//! store-report's decisions with every store and integration in memory: the reports, the
//! lifecycle in the table and the hub, the history item, the metrics and the webhook.

use std::sync::Mutex;

use compliance_aws::findings_table::MemoryFindings;
use compliance_aws::history::MemoryHistory;
use compliance_aws::metrics::MemoryMetrics;
use compliance_aws::params::MemoryParameters;
use compliance_aws::security_hub::MemoryHub;
use compliance_aws::store::{put_json, MemoryStore};
use compliance_aws::webhook::Delivery;
use compliance_aws::AwsError;
use compliance_core::contract::{RunId, RunRef};
use compliance_core::lifecycle::{LifecycleStatus, PARAM_FINDINGS};
use compliance_core::testing::{ec2_unit, run_document};

use serde_json::Value;

use super::*;

/// A receiver that takes (or refuses) every payload.
#[derive(Default)]
struct MemoryWebhook {
    payloads: Mutex<Vec<Value>>,
    refuse: bool,
}

impl WebhookSender for MemoryWebhook {
    fn send<'a>(
        &'a self,
        config: &'a WebhookConfig,
        payload: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<Delivery, AwsError>> {
        self.payloads.lock().unwrap().push(payload.clone());
        let result = if self.refuse {
            Err(AwsError::Webhook {
                url: config.url.clone(),
                reason: "HTTP 400 (not retried)".into(),
            })
        } else {
            Ok(Delivery {
                status: 200,
                attempts: 1,
            })
        };
        Box::pin(async move { result })
    }
}

struct Fixture {
    store: Arc<MemoryStore>,
    history: Arc<MemoryHistory>,
    findings: Arc<MemoryFindings>,
    hub: Arc<MemoryHub>,
    metrics: Arc<MemoryMetrics>,
    webhook: Arc<MemoryWebhook>,
}

fn function(parameters: &[(&str, &str)], refuse_webhook: bool) -> (Function, Fixture) {
    let fixture = Fixture {
        store: Default::default(),
        history: Default::default(),
        findings: Default::default(),
        hub: Default::default(),
        metrics: Default::default(),
        webhook: Arc::new(MemoryWebhook {
            refuse: refuse_webhook,
            ..Default::default()
        }),
    };
    let hub = fixture.hub.clone();
    let function = Function {
        home_region: "eu-west-1".into(),
        store: fixture.store.clone(),
        bucket: "reports".into(),
        history: fixture.history.clone(),
        findings: fixture.findings.clone(),
        parameters: Arc::new(MemoryParameters(
            parameters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )),
        security_hub: Box::new(move |_| hub.clone() as Arc<dyn FindingsHub>),
        metrics: fixture.metrics.clone(),
        webhook: fixture.webhook.clone(),
        namespace: "ComplianceScanner".into(),
    };
    (function, fixture)
}

fn run_ref(id: &str) -> RunRef {
    RunRef::of(RunId::parse(id).unwrap())
}

async fn stored_run(store: &MemoryStore, id: &str, groups: &[(&str, &[i32])]) {
    let run = run_document(id, vec![ec2_unit(id, "eu-west-1", groups)], vec![]);
    put_json(store, &run_ref(id).run_key, &run, "run")
        .await
        .unwrap();
}

fn statuses(fixture: &Fixture) -> Vec<LifecycleStatus> {
    fixture
        .findings
        .0
        .lock()
        .unwrap()
        .values()
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn a_first_run_stores_every_format_and_opens_every_finding() {
    let (function, fixture) = function(&[], false);
    stored_run(
        &fixture.store,
        "r1",
        &[("sg-ssh", &[22]), ("sg-rdp", &[3389])],
    )
    .await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    let keys = fixture.store.keys();
    for key in [
        &out.reports.json,
        &out.reports.csv,
        &out.reports.ocsf,
        &out.reports.html,
        &out.reports.asff,
    ] {
        assert!(key.starts_with("reports/2026/11/23/r1/"), "{key}");
        assert!(keys.contains(key), "{key} written");
    }
    let lifecycle = out.lifecycle.expect("lifecycle counts");
    assert_eq!(lifecycle.new, out.findings_total);
    assert_eq!(statuses(&fixture).len(), out.findings_total);
    assert!(statuses(&fixture)
        .iter()
        .all(|s| *s == LifecycleStatus::New));
    assert_eq!(fixture.hub.0.lock().unwrap().len(), out.findings_total);
    assert!(
        matches!(out.security_hub, SecurityHubExport::Exported { imported, failed_count: 0, .. } if imported == out.findings_total)
    );
    assert_eq!(out.webhook, WebhookDelivery::NotConfigured);
    let history = fixture.history.0.lock().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].report_json_key, out.reports.json);
    assert!(!fixture.metrics.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_fixed_finding_is_resolved_in_the_table_and_archived_in_the_hub() {
    let (function, fixture) = function(&[], false);
    stored_run(
        &fixture.store,
        "r1",
        &[("sg-ssh", &[22]), ("sg-rdp", &[3389])],
    )
    .await;
    handle(&function, run_ref("r1")).await.unwrap();
    stored_run(&fixture.store, "r2", &[("sg-ssh", &[22]), ("sg-rdp", &[])]).await;
    let out = handle(&function, run_ref("r2")).await.unwrap();
    let lifecycle = out.lifecycle.unwrap();
    assert!(
        lifecycle.resolved > 0 && lifecycle.open > 0,
        "{lifecycle:?}"
    );
    let resolved: Vec<_> = fixture
        .findings
        .0
        .lock()
        .unwrap()
        .values()
        .filter(|r| r.status == LifecycleStatus::Resolved)
        .map(|r| r.finding_id.clone())
        .collect();
    assert_eq!(resolved.len(), lifecycle.resolved);
    let hub = fixture.hub.0.lock().unwrap();
    for id in &resolved {
        let finding = hub
            .values()
            .find(|f| f.id.ends_with(id.as_str()) || f.id == *id);
        assert_eq!(finding.map(|f| f.record_state), Some("ARCHIVED"), "{id}");
    }
    assert_eq!(fixture.history.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn security_hub_off_in_the_setting_exports_nothing() {
    let setting = r#"{"security_hub": {"enabled": false}}"#;
    let (function, fixture) = function(&[(PARAM_FINDINGS, setting)], false);
    stored_run(&fixture.store, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert_eq!(out.security_hub, SecurityHubExport::Disabled);
    assert!(fixture.hub.0.lock().unwrap().is_empty());
    assert!(
        !statuses(&fixture).is_empty(),
        "the table still keeps the lifecycle"
    );
}

#[tokio::test]
async fn a_refused_webhook_is_reported_and_the_run_is_stored() {
    let webhook = r#"{"url": "https://hooks.example.com/compliance", "min_severity": "LOW"}"#;
    let (function, fixture) = function(&[(PARAM_WEBHOOK, webhook)], true);
    stored_run(&fixture.store, "r1", &[("sg-ssh", &[22])]).await;
    let out = handle(&function, run_ref("r1")).await.unwrap();
    assert!(
        matches!(&out.webhook, WebhookDelivery::Failed { error } if error.contains("HTTP 400")),
        "{:?}",
        out.webhook
    );
    assert_eq!(fixture.webhook.payloads.lock().unwrap().len(), 1);
    assert_eq!(fixture.history.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_broken_setting_stops_the_state_before_anything_is_written() {
    let (function, fixture) = function(&[(PARAM_FINDINGS, r#"{"security_hub": "yes"}"#)], false);
    stored_run(&fixture.store, "r1", &[("sg-ssh", &[22])]).await;
    let err = handle(&function, run_ref("r1")).await.unwrap_err();
    assert_eq!(err.error_type(), "ComplianceScanner.InvalidConfiguration");
    assert_eq!(fixture.store.keys(), ["runs/r1/run.json"]);
    assert!(statuses(&fixture).is_empty());
    assert!(fixture.history.0.lock().unwrap().is_empty());
}
