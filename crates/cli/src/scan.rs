//! `compliance scan`: the caller's account, or several accounts (`--organization`,
//! `--accounts`) with member accounts reached through their role.

mod accounts;
mod targets;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use clap::{Args, ValueEnum};
use compliance_aws::organizations::{Organization, OrganizationsApi};
use compliance_aws::params::load_config;
use compliance_aws::{AccountScan, Scanner, UnitDone};
use compliance_core::accounts::{own_account_only, AccountSource, AccountsConfig, ScanTarget};
use compliance_core::config::{parse_regions, parse_services, ScannerConfig};
use compliance_core::contract::{AccountId, Region, RunId};
use compliance_core::model::partition_of_region;
use compliance_core::plan::ScanPlan;
use compliance_core::report::asff::{open_finding, AsffContext, Observed};
use compliance_core::report::html::render_html;
use compliance_core::report::ocsf::detection_findings;
use compliance_core::report::{
    build_report, findings_csv, ReportContext, RunReport, ScanReport, REPORT_SCHEMA_VERSION,
};
use compliance_core::time::rfc3339;
use compliance_core::{EvaluationSettings, Severity};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::{exit, render};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    /// The run report (schema in docs/report-schema.md).
    Json,
    Csv,
    /// A JSON array of AWS Security Finding Format findings (for BatchImportFindings).
    Asff,
    /// A JSON array of OCSF Detection Finding events.
    Ocsf,
    /// One self-contained HTML page.
    Html,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Regions to scan, comma-separated [default: /compliance/scanner/config/regions, else us-east-1,eu-west-1,ap-southeast-1]
    #[arg(long, value_name = "a,b,c")]
    regions: Option<String>,
    /// Services to scan, comma-separated (ec2, s3, rds, cloudtrail, iam, lambda) [default: all]
    #[arg(long, value_name = "ec2,s3,rds")]
    services: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Exit with code 3 when unmuted findings of this severity or higher exist.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Do not read /compliance/scanner/config/ from Parameter Store (defaults and flags only).
    #[arg(long)]
    no_parameter_store: bool,
    #[command(flatten)]
    accounts: targets::AccountFlags,
    /// Write request counts, timings and sizes as JSON to this file (used by `make bench`).
    #[arg(long, value_name = "PATH", hide = true)]
    stats: Option<PathBuf>,
}

pub async fn run(args: ScanArgs) -> Result<u8, String> {
    let started = Instant::now();
    let started_at = rfc3339(SystemTime::now());
    let home = compliance_aws::sdk::home_region();
    let scanner = Scanner::from_env(&home).await;

    let mut config = if args.no_parameter_store {
        ScannerConfig::default()
    } else {
        load_config(&scanner.factory().ssm())
            .await
            .map_err(|e| format!("{e} (use --no-parameter-store to scan with defaults)"))?
    };
    if let Some(regions) = &args.regions {
        config.regions = parse_regions(regions, "--regions").map_err(|e| e.to_string())?;
    }
    if let Some(services) = &args.services {
        config.services = parse_services(services, "--services").map_err(|e| e.to_string())?;
    }

    let account_id = scanner.account_id().await.map_err(|e| e.to_string())?;
    let setting = args.accounts.setting()?;
    let own_account = AccountId::parse(&account_id).map_err(|e| e.to_string())?;
    let plan = ScanPlan {
        schema_version: REPORT_SCHEMA_VERSION,
        run_id: RunId::parse("cli").map_err(|e| e.to_string())?,
        created_at: started_at.clone(),
        accounts: scan_targets(&scanner, setting.as_ref(), &own_account, &home).await?,
        own_account_id: own_account,
        regions: config
            .regions
            .iter()
            .map(|r| Region::parse(r))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        services: config.services.clone(),
    };
    let progress = Progress::new(&plan);
    let external_id = setting.as_ref().and_then(|s| s.external_id.as_deref());
    let scans = scanner
        .scan(&plan, external_id, |done| progress.unit_done(&done))
        .await;
    progress.finish();
    let unreachable = scans.iter().filter(|s| s.unreachable).count();
    let mut resources_by_type = std::collections::BTreeMap::<&str, usize>::new();
    for (_, collected) in scans.iter().flat_map(|s| &s.units) {
        for (resource_type, n) in collected.inventory.resources_by_type() {
            *resources_by_type.entry(resource_type).or_insert(0) += n;
        }
    }

    let settings = EvaluationSettings {
        required_tags: config.required_tags.clone(),
        mutelist: config.mutelist.clone(),
        rule_parameters: config.rule_parameters.clone(),
    };
    let ctx = ReportContext {
        account_id,
        regions: config.regions.clone(),
        services: config.services.clone(),
        started_at,
        finished_at: rfc3339(SystemTime::now()),
    };
    let report = match setting {
        // The caller's account alone: one inventory, evaluated whole, as always.
        None => {
            let (inventory, errors) = scans
                .into_iter()
                .next()
                .map(AccountScan::merged)
                .ok_or("the scan plan has no account")?;
            build_report(ctx, &inventory, errors, &settings)
        }
        Some(_) => accounts::accounts_report(ctx, scans, &settings),
    };

    let generated_at = rfc3339(SystemTime::now());
    let run_report = RunReport::from_scan(&report, &generated_at);
    let colour = std::io::stdout().is_terminal() && args.output.is_none();
    let rendered = render_as(args.format, &report, &run_report, &home, colour)?;
    if let Some(path) = &args.output {
        std::fs::write(path, rendered.as_bytes())
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(rendered.as_bytes())
            .map_err(|e| format!("could not write the report: {e}"))?;
        out.flush()
            .map_err(|e| format!("could not write the report: {e}"))?;
    }
    if args.output.is_some() || !matches!(args.format, Format::Table) {
        eprintln!("{}", render::summary_line(&report));
    }

    if let Some(path) = &args.stats {
        // `make bench` times every format on the same scan.
        let mut formats = serde_json::Map::new();
        for format in [
            Format::Json,
            Format::Csv,
            Format::Asff,
            Format::Ocsf,
            Format::Html,
        ] {
            let timer = Instant::now();
            let bytes = render_as(format, &report, &run_report, &home, false)?.len();
            formats.insert(
                format!("{format:?}").to_lowercase(),
                json!({"seconds": timer.elapsed().as_secs_f64(), "bytes": bytes}),
            );
        }
        let stats = json!({
            "render": formats,
            "wall_seconds": started.elapsed().as_secs_f64(),
            "resources_scanned": report.summary.resources_scanned,
            "resources_by_type": resources_by_type,
            "findings": report.findings.len(),
            "errors": report.errors.len(),
            "accounts": plan.accounts.len(),
            "member_accounts": plan.accounts.iter().filter(|a| a.role_arn.is_some()).count(),
            "unreachable_accounts": unreachable,
            "requests_total": scanner.requests().total(),
            "requests_by_service": scanner.requests().by_service(),
            "requests_by_operation": scanner.requests().snapshot(),
        });
        std::fs::write(path, stats.to_string())
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    }

    let failing = args
        .fail_on
        .map_or(0, |s| report.summary.findings_by_severity.at_or_above(s));
    Ok(if failing > 0 {
        exit::FINDINGS
    } else if !report.complete {
        exit::INCOMPLETE
    } else {
        exit::OK
    })
}

/// The scan in one output format.
fn render_as(
    format: Format,
    report: &ScanReport,
    run_report: &RunReport,
    home_region: &str,
    colour: bool,
) -> Result<String, String> {
    Ok(match format {
        Format::Json => run_report.to_json().map_err(|e| e.to_string())?,
        Format::Csv => findings_csv(&run_report.findings).map_err(|e| e.to_string())?,
        Format::Asff => {
            let ctx = AsffContext {
                hub_region: home_region.to_string(),
                partition: partition_of_region(home_region).into(),
                run_id: None,
                updated_at: run_report.run.generated_at.clone(),
            };
            let observed = Observed {
                first: &report.started_at,
                last: &report.started_at,
            };
            let findings: Vec<_> = report
                .findings
                .iter()
                .map(|f| open_finding(f, observed, "new", &ctx))
                .collect();
            pretty(&findings)?
        }
        Format::Ocsf => pretty(&detection_findings(run_report))?,
        Format::Html => render_html(run_report),
        Format::Table => render::table(report, colour),
    })
}

/// Pretty JSON of the array formats.
fn pretty<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| e.to_string())
}

/// The accounts a scan covers: the caller's own without `--organization` or `--accounts`.
async fn scan_targets(
    scanner: &Scanner,
    setting: Option<&AccountsConfig>,
    own_account: &AccountId,
    home_region: &str,
) -> Result<Vec<ScanTarget>, String> {
    let Some(setting) = setting else {
        return Ok(own_account_only(own_account));
    };
    let (listed, flag) = match setting.source {
        AccountSource::Organization => {
            let organization = OrganizationsApi::new(scanner.factory().organizations());
            let listed = organization.accounts(&[]).await.map_err(|e| {
                format!(
                    "--organization: {e} (the organization's accounts are listed from its \
                     management account or a delegated administrator)"
                )
            })?;
            (listed, "--organization")
        }
        AccountSource::List => (Vec::new(), "--accounts"),
    };
    setting
        .targets(own_account, home_region, &listed)
        .map_err(|e| format!("{flag}: {}", targets::flag_error(&e)))
}

/// A progress bar on an interactive terminal, hidden in pipes and CI logs: units done, and
/// accounts done when there are several.
struct Progress {
    bar: ProgressBar,
    accounts: usize,
}

impl Progress {
    fn new(plan: &ScanPlan) -> Progress {
        let accounts = plan.accounts.len();
        let units = plan.units().len() as u64;
        if !std::io::stderr().is_terminal() {
            return Progress {
                bar: ProgressBar::hidden(),
                accounts,
            };
        }
        let template = if accounts > 1 {
            "{spinner} scanning accounts {prefix} [{bar:30}] {pos}/{len} units {msg}"
        } else {
            "{spinner} scanning [{bar:30}] {pos}/{len} {msg}"
        };
        let bar = ProgressBar::new(units);
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("0/{accounts}"));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress { bar, accounts }
    }

    fn unit_done(&self, done: &UnitDone<'_>) {
        let unit = done.unit;
        let resources = done.collected.inventory.resource_count();
        if self.accounts > 1 {
            let account = unit.account_id.as_ref().map_or("", |a| a.as_str());
            self.bar
                .set_prefix(format!("{}/{}", done.accounts_done, done.accounts_total));
            self.bar.set_message(format!(
                "{account} {} {}: {resources} resources",
                unit.service, unit.region
            ));
        } else {
            self.bar.set_message(format!(
                "{} {}: {resources} resources",
                unit.service, unit.region
            ));
        }
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
