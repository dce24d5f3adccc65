//! `compliance report`: framework views of a stored run, and legal holds on a run's objects.

use aws_sdk_s3::types::{ObjectLockLegalHold, ObjectLockLegalHoldStatus};
use clap::{Args, Subcommand, ValueEnum};
use compliance_aws::history::HistoryStore;
use compliance_aws::sdk::{self, ClientFactory};
use compliance_aws::store::{get_json, S3Store};
use compliance_aws::workflow::stack_outputs;
use compliance_core::contract::RunId;
use compliance_core::report::frameworks::{
    framework_views, frameworks_named, ControlStatus, FrameworkView,
};
use compliance_core::run::RunDocument;
use compliance_core::FindingStatus;
use std::fmt::Write;

use crate::exit;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    action: Option<ReportAction>,
    #[command(flatten)]
    view: ViewArgs,
}

#[derive(Debug, Subcommand)]
enum ReportAction {
    /// Place a legal hold on every object of a run (run document, scans, reports): their
    /// current versions cannot be deleted until released, whatever the retention.
    Hold(HoldArgs),
    /// Release the legal hold of a run's objects (the bucket's retention still applies).
    Release(HoldArgs),
}

#[derive(Debug, Args)]
struct Location {
    /// Read the bucket and table names from this stack's outputs.
    #[arg(long, value_name = "NAME", default_value = "compliance-scanner")]
    stack_name: String,
    /// The reports bucket [default: the stack's ReportsBucketName output].
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,
    /// The history table [default: the stack's HistoryTableName output].
    #[arg(long, value_name = "TABLE")]
    history_table: Option<String>,
}

#[derive(Debug, Args)]
struct ViewArgs {
    /// cis (both CIS versions), cis-3.0, cis-1.4, pci, nist, fsbp or all.
    #[arg(long, default_value = "all")]
    framework: String,
    /// The run to report on [default: the account's latest run].
    #[arg(long = "run", value_name = "RUN_ID")]
    run_id: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: ViewFormat,
    /// Show passing and not-evaluated controls too (failing ones are always shown).
    #[arg(long)]
    all_controls: bool,
    #[command(flatten)]
    location: Location,
}

#[derive(Debug, Args)]
struct HoldArgs {
    run_id: String,
    #[command(flatten)]
    location: Location,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ViewFormat {
    Table,
    Json,
}

struct Stored {
    factory: ClientFactory,
    store: S3Store,
    history_table: Option<String>,
}

async fn open(location: &Location, need_history: bool) -> Result<Stored, String> {
    let region = sdk::home_region();
    let factory = sdk::factory(&region).await;
    let need_table = need_history && location.history_table.is_none();
    let outputs = if location.bucket.is_none() || need_table {
        Some(
            stack_outputs(&factory.cloudformation(), &location.stack_name)
                .await
                .map_err(|e| format!("{e} (or pass --bucket and --history-table)"))?,
        )
    } else {
        None
    };
    let from_stack = |key: &str, flag: &str| -> Result<String, String> {
        outputs
            .as_ref()
            .ok_or_else(|| format!("no stack outputs read for {key}"))?
            .get(key)
            .map_err(|e| format!("{e} (or pass {flag})"))
    };
    let bucket = match &location.bucket {
        Some(b) => b.clone(),
        None => from_stack("ReportsBucketName", "--bucket")?,
    };
    let history_table = match (&location.history_table, need_history) {
        (Some(t), _) => Some(t.clone()),
        (None, true) => Some(from_stack("HistoryTableName", "--history-table")?),
        (None, false) => None,
    };
    Ok(Stored {
        store: S3Store::new(factory.s3(&region), bucket),
        factory,
        history_table,
    })
}

pub async fn run(args: ReportArgs) -> Result<u8, String> {
    match args.action {
        Some(ReportAction::Hold(a)) => legal_hold(a, true).await,
        Some(ReportAction::Release(a)) => legal_hold(a, false).await,
        None => view(args.view).await,
    }
}

async fn view(args: ViewArgs) -> Result<u8, String> {
    let frameworks = frameworks_named(&args.framework).map_err(|e| e.to_string())?;
    let stored = open(&args.location, args.run_id.is_none()).await?;
    let run_id = if let Some(id) = args.run_id {
        RunId::parse(&id).map_err(|e| format!("--run: {e}"))?
    } else {
        let latest = latest_run(&stored).await?;
        RunId::parse(&latest).map_err(|e| format!("the latest run in the history: {e}"))?
    };
    let run: RunDocument = get_json(
        &stored.store,
        &run_id.keys().run_document(),
        "the run document",
    )
    .await
    .map_err(|e| format!("run `{run_id}`: {e}"))?;
    let views = framework_views(&frameworks, &run.summary.checks_by_rule, &run.findings);
    match args.format {
        ViewFormat::Json => {
            let doc = serde_json::json!({"run_id": run.run_id, "account_id": run.account_id,
                "created_at": run.created_at, "complete": run.complete, "frameworks": views});
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            );
        }
        ViewFormat::Table => print!("{}", render(&run, &views, args.all_controls)),
    }
    Ok(exit::OK)
}

async fn latest_run(stored: &Stored) -> Result<String, String> {
    let table = stored.history_table.clone().unwrap_or_default();
    let account = stored
        .factory
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| compliance_aws::AwsError::api("sts", "GetCallerIdentity", &e).to_string())?
        .account()
        .unwrap_or_default()
        .to_string();
    let history = HistoryStore::new(stored.factory.dynamodb(), table);
    history
        .recent(&account, 1)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .map(|h| h.run_id)
        .ok_or_else(|| format!("no run of account {account} in the history table yet (pass --run)"))
}

fn render(run: &RunDocument, views: &[FrameworkView], all: bool) -> String {
    let by_id: std::collections::HashMap<&str, &compliance_core::Finding> =
        run.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut out = format!(
        "run {} ({}, account {}){}\n",
        run.run_id,
        run.created_at,
        run.account_id,
        if run.complete {
            ""
        } else {
            " PARTIAL: some regions or services were not read"
        }
    );
    for v in views {
        let _ = write!(
            out,
            "\n{}: {} pass, {} fail, {} not evaluated\n",
            v.name, v.passed, v.failed, v.not_evaluated
        );
        for c in &v.controls {
            if !all && c.status != ControlStatus::Fail {
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<13} {:<16} {}/{} checks failed  [{}]",
                c.status.as_str(),
                c.control_id,
                c.checks_failed,
                c.checks_evaluated,
                c.rules.join(", ")
            );
            for f in c
                .failing_findings
                .iter()
                .filter_map(|id| by_id.get(id.as_str()))
            {
                let _ = writeln!(
                    out,
                    "      {:<13} {} ({}) {}{}",
                    f.severity.as_str(),
                    f.resource_arn,
                    f.region,
                    f.rule_id,
                    if f.status == FindingStatus::Muted {
                        " [muted]"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    out
}

async fn legal_hold(args: HoldArgs, on: bool) -> Result<u8, String> {
    let run_id = RunId::parse(&args.run_id).map_err(|e| format!("RUN_ID: {e}"))?;
    let stored = open(&args.location, false).await?;
    let run: RunDocument = get_json(
        &stored.store,
        &run_id.keys().run_document(),
        "the run document",
    )
    .await
    .map_err(|e| format!("run `{}`: {e}", args.run_id))?;
    let s3 = stored.factory.s3(&sdk::home_region());
    let bucket = stored.store.bucket().to_string();
    let mut keys = Vec::new();
    for prefix in [
        run_id.keys().run_prefix(),
        format!("{}/", run_id.keys().report_prefix(&run.created_at)),
    ] {
        let mut pages = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                compliance_aws::AwsError::api("s3", "ListObjectsV2", &e).to_string()
            })?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
    }
    let status = if on {
        ObjectLockLegalHoldStatus::On
    } else {
        ObjectLockLegalHoldStatus::Off
    };
    for key in &keys {
        s3.put_object_legal_hold()
            .bucket(&bucket)
            .key(key)
            .legal_hold(
                ObjectLockLegalHold::builder()
                    .status(status.clone())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                format!(
                    "{key}: {}",
                    compliance_aws::AwsError::api("s3", "PutObjectLegalHold", &e)
                )
            })?;
        println!("{} {key}", status.as_str());
    }
    eprintln!(
        "legal hold {} on {} objects of run {} in s3://{bucket}",
        status.as_str(),
        keys.len(),
        run.run_id
    );
    Ok(exit::OK)
}
