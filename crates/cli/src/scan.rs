//! `compliance scan`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use clap::{Args, ValueEnum};
use compliance_aws::params::load_config;
use compliance_aws::{ScanPlan, Scanner};
use compliance_core::config::{parse_regions, parse_services, ScannerConfig};
use compliance_core::model::partition_of_region;
use compliance_core::report::asff::{open_finding, AsffContext, Observed};
use compliance_core::report::html::render_html;
use compliance_core::report::ocsf::detection_findings;
use compliance_core::report::{build_report, findings_csv, ReportContext, RunReport, ScanReport};
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
    /// Services to scan, comma-separated (ec2, s3, rds) [default: all]
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
    let plan = ScanPlan {
        regions: config.regions.clone(),
        services: config.services.clone(),
    };
    let progress = progress_bar(plan.units().len() as u64);
    let (inventory, errors) = scanner
        .scan(&account_id, &plan, |region, service, collected| {
            progress.set_message(format!(
                "{service} {region}: {} resources",
                collected.inventory.resource_count()
            ));
            progress.inc(1);
        })
        .await;
    progress.finish_and_clear();

    let settings = EvaluationSettings {
        required_tags: config.required_tags.clone(),
        mutelist: config.mutelist.clone(),
        rule_parameters: config.rule_parameters.clone(),
    };
    let report = build_report(
        ReportContext {
            account_id,
            regions: config.regions.clone(),
            services: config.services.clone(),
            started_at,
            finished_at: rfc3339(SystemTime::now()),
        },
        &inventory,
        errors,
        &settings,
    );

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
            "findings": report.findings.len(),
            "errors": report.errors.len(),
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

/// A progress bar on an interactive terminal; hidden in pipes and CI logs.
fn progress_bar(units: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(units);
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
