//! `compliance report`: framework views of a stored run (of all its accounts, or of one), and
//! legal holds on a run's objects.

use aws_sdk_s3::types::{ObjectLockLegalHold, ObjectLockLegalHoldStatus};
use clap::{Args, Subcommand, ValueEnum};
use compliance_aws::history::HistoryStore;
use compliance_aws::sdk::{self, ClientFactory};
use compliance_aws::store::{get_json, S3Store};
use compliance_aws::workflow::stack_outputs;
use compliance_core::contract::RunId;
use compliance_core::report::accounts::{account_view, ReportAccount};
use compliance_core::report::clip;
use compliance_core::report::frameworks::{
    framework_views, frameworks_named, ControlStatus, FrameworkView,
};
use compliance_core::run::RunDocument;
use compliance_core::{CoreError, FindingStatus};
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
    /// cis (every CIS version), cis-5.0, cis-3.0, cis-1.4, pci, nist, fsbp or all.
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
    /// Only this account of the run: its findings, its controls and its summary.
    #[arg(long, value_name = "ACCOUNT_ID")]
    account: Option<String>,
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
    let run = match &args.account {
        Some(account) => one_account(&run, account)?,
        None => run,
    };
    let views = framework_views(&frameworks, &run.summary.checks_by_rule, &run.findings);
    match args.format {
        ViewFormat::Json => {
            let accounts: Vec<ReportAccount> = accounts_of(&run);
            let doc = serde_json::json!({"run_id": run.run_id, "account_id": run.account_id,
                "created_at": run.created_at, "complete": run.complete,
                "account": args.account, "accounts": accounts, "frameworks": views});
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

/// The run restricted to `account` (`--account`); an account the run did not scan is an error
/// that lists the run's accounts.
fn one_account(run: &RunDocument, account: &str) -> Result<RunDocument, String> {
    account_view(run, account).map_err(|e| match e {
        CoreError::InvalidParameter { reason, .. } => format!("--account {account}: {reason}"),
        other => format!("--account {account}: {other}"),
    })
}

/// The run's accounts as the reports show them, worst first.
fn accounts_of(run: &RunDocument) -> Vec<ReportAccount> {
    compliance_core::report::accounts::run_accounts(run)
        .iter()
        .map(ReportAccount::from_summary)
        .collect()
}

fn render(run: &RunDocument, views: &[FrameworkView], all: bool) -> String {
    let by_id: std::collections::HashMap<&str, &compliance_core::Finding> =
        run.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let accounts = accounts_of(run);
    let several = accounts.len() > 1;
    let scope = match accounts.as_slice() {
        [one] => match &one.name {
            Some(name) => format!("account {} ({name})", one.account_id),
            None => format!("account {}", one.account_id),
        },
        many => format!(
            "{} accounts, scanner account {}",
            many.len(),
            run.account_id
        ),
    };
    let mut out = format!(
        "run {} ({}, {scope}){}\n",
        run.run_id,
        run.created_at,
        if run.complete {
            ""
        } else {
            " PARTIAL: some regions or services were not read"
        }
    );
    if several {
        out.push('\n');
        out.push_str(&accounts_table(&accounts));
    }
    for v in views {
        let _ = write!(
            out,
            "\n{}: {} pass, {} fail, {} not evaluated, {} not automated\n",
            v.name, v.passed, v.failed, v.not_evaluated, v.not_automated
        );
        for c in &v.controls {
            if !all && c.status != ControlStatus::Fail {
                continue;
            }
            if let Some(why) = &c.not_automated {
                let _ = writeln!(
                    out,
                    "  {:<13} {:<16} {}: {}",
                    c.status.as_str(),
                    c.control_id,
                    why.reason.describe(),
                    why.note
                );
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
                let account = if several {
                    format!("{:<12}  ", f.account_id)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "      {:<13} {account}{} ({}) {}{}",
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

/// One line per account, worst first, under a header naming the columns.
fn accounts_table(accounts: &[ReportAccount]) -> String {
    let headers = [
        "ACCOUNT",
        "NAME",
        "SCORE",
        "CRITICAL",
        "HIGH",
        "MEDIUM",
        "LOW",
        "INFO",
        "MUTED",
        "FAILED UNITS",
        "ERRORS",
    ];
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            let c = &a.findings_by_severity;
            vec![
                a.account_id.clone(),
                clip(a.name.as_deref().unwrap_or("-"), 40),
                a.compliance_score
                    .map_or_else(|| "n/a".into(), |v| format!("{v:.1}%")),
                c.critical.to_string(),
                c.high.to_string(),
                c.medium.to_string(),
                c.low.to_string(),
                c.informational.to_string(),
                a.muted_findings.to_string(),
                a.failed_units.to_string(),
                a.errors.to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&mut headers.into_iter()) + "\n";
    for row in &rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
        out.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;
    use compliance_core::finding::{stable_finding_id, RuleChecks};
    use compliance_core::report::frameworks::Framework;
    use compliance_core::run::AccountSummary;
    use compliance_core::{Finding, Service, Summary};
    use std::collections::BTreeMap;

    const PROD: &str = "111111111111";
    const MEMBER: &str = "222222222222";

    fn finding(account: &str, rule_id: &str, resource: &str) -> Finding {
        let rule = compliance_core::rules::rule(rule_id).unwrap();
        let arn = format!("arn:aws:ec2:eu-west-1:{account}:security-group/{resource}");
        Finding {
            id: stable_finding_id(account, "eu-west-1", rule_id, &arn),
            rule_id: rule_id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            status: FindingStatus::Fail,
            muted_reason: None,
            service: Service::Ec2,
            resource_type: compliance_core::model::ResourceType::AwsEc2SecurityGroup,
            resource_id: resource.into(),
            resource_arn: arn,
            region: "eu-west-1".into(),
            account_id: account.into(),
            evidence: serde_json::json!({}),
            remediation: rule.remediation.into(),
            runbook: None,
            remediation_evidence: None,
            compliance: rule.controls.to_refs(),
            resource_tags: BTreeMap::new(),
        }
    }

    fn summary(failed: usize, evaluated: usize) -> Summary {
        let mut checks = RuleChecks::default();
        for i in 0..evaluated {
            checks.add(i >= failed);
        }
        let passed = evaluated - failed;
        // Every failed check is a HIGH finding (the open-SSH rule).
        let mut findings_by_severity = compliance_core::SeverityCounts::default();
        for _ in 0..failed {
            findings_by_severity.add(compliance_core::Severity::High);
        }
        Summary {
            resources_scanned: evaluated,
            checks_evaluated: evaluated,
            checks_passed: passed,
            checks_failed: failed,
            compliance_score: compliance_core::report::score(passed, evaluated),
            findings_by_severity,
            muted_findings: 0,
            checks_by_rule: BTreeMap::from([("ec2_sg_open_ssh".to_string(), checks)]),
        }
    }

    /// Two accounts: the member (named by Organizations) is worse, so it comes first.
    fn run() -> RunDocument {
        let account = |id: &str, name: Option<&str>, failed, evaluated| AccountSummary {
            account_id: id.into(),
            name: name.map(str::to_string),
            summary: summary(failed, evaluated),
            units: 1,
            failed_units: 0,
            errors: 0,
        };
        RunDocument {
            schema_version: 1,
            run_id: "run-9".into(),
            account_id: PROD.into(),
            trigger: "scheduled".into(),
            created_at: "2026-11-23T10:00:00Z".into(),
            units: Vec::new(),
            failed_units: Vec::new(),
            complete: true,
            summary: summary(3, 6),
            accounts: vec![
                account(MEMBER, Some("Payments"), 2, 2),
                account(PROD, None, 1, 4),
            ],
            findings: vec![
                finding(MEMBER, "ec2_sg_open_ssh", "sg-m1"),
                finding(MEMBER, "ec2_sg_open_ssh", "sg-m2"),
                finding(PROD, "ec2_sg_open_ssh", "sg-p1"),
            ],
            errors: Vec::new(),
            rule_parameters: None,
        }
    }

    fn table(run: &RunDocument) -> String {
        let views = framework_views(
            &[Framework::CisV3_0_0],
            &run.summary.checks_by_rule,
            &run.findings,
        );
        render(run, &views, false)
    }

    #[test]
    fn not_automated_controls_show_their_reason_with_all_controls() {
        let run = run();
        let views = framework_views(
            &[Framework::CisV5_0_0],
            &run.summary.checks_by_rule,
            &run.findings,
        );
        let out = render(&run, &views, true);
        assert!(out.contains(" not automated\n"), "{out}");
        assert!(
            out.contains("  NOT_AUTOMATED 1.1              needs a person: "),
            "{out}"
        );
        assert!(!render(&run, &views, false).contains("NOT_AUTOMATED"));
    }

    #[test]
    fn a_run_of_several_accounts_gets_an_accounts_table_and_an_account_column() {
        let out = table(&run());
        assert!(
            out.starts_with(
                "run run-9 (2026-11-23T10:00:00Z, 2 accounts, scanner account 111111111111)\n"
            ),
            "{out}"
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[2].starts_with("ACCOUNT       NAME      SCORE"),
            "{out}"
        );
        assert_eq!(
            lines[3],
            "222222222222  Payments  0.0%   0         2     0       0    0     0      0             0"
        );
        assert!(
            lines[4].starts_with("111111111111  -         75.0%  0         1"),
            "{out}"
        );
        // Each finding under each of the two CIS controls the rule maps to.
        let finding_lines: Vec<&&str> = lines
            .iter()
            .filter(|l| l.contains("security-group/sg-"))
            .collect();
        assert_eq!(finding_lines.len(), 6, "{out}");
        assert!(finding_lines.iter().any(
            |l| l.contains("222222222222  arn:aws:ec2:eu-west-1:222222222222:security-group/sg-m1")
        ));
    }

    #[test]
    fn one_account_of_the_run_has_its_findings_and_summary_only() {
        let run = run();
        let member = one_account(&run, MEMBER).unwrap();
        assert_eq!(member.findings.len(), 2);
        assert_eq!(member.summary.compliance_score, Some(0.0));
        let out = table(&member);
        assert!(
            out.starts_with("run run-9 (2026-11-23T10:00:00Z, account 222222222222 (Payments))\n"),
            "{out}"
        );
        assert!(
            !out.contains("ACCOUNT"),
            "one account: no account column\n{out}"
        );
        assert!(!out.contains("111111111111"), "{out}");
        assert!(out.contains("2/2 checks failed"), "{out}");
        // The other account's view: its one failing check of four.
        let prod = table(&one_account(&run, PROD).unwrap());
        assert!(prod.contains("1/4 checks failed"), "{prod}");
        assert!(!prod.contains("sg-m1"), "{prod}");
    }

    #[test]
    fn an_account_the_run_did_not_scan_is_named_with_the_runs_accounts() {
        let err = one_account(&run(), "333333333333").unwrap_err();
        assert_eq!(
            err,
            "--account 333333333333: run run-9 did not scan account 333333333333; its accounts: \
             222222222222 (Payments), 111111111111"
        );
    }

    #[test]
    fn a_run_of_one_account_keeps_its_table() {
        let mut run = run();
        run.accounts.clear();
        run.findings.retain(|f| f.account_id == PROD);
        let out = table(&run);
        assert!(
            out.starts_with("run run-9 (2026-11-23T10:00:00Z, account 111111111111)\n"),
            "{out}"
        );
        assert!(!out.contains("ACCOUNT"), "{out}");
        assert!(
            out.contains(
                "      HIGH          arn:aws:ec2:eu-west-1:111111111111:security-group/sg-p1"
            ),
            "{out}"
        );
    }
}
