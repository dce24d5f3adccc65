//! `compliance`: the scanner from a terminal or a CI job, over the same core as the Lambdas.

mod render;
mod report;
mod rules;
mod run;
mod scan;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, documented in the README.
pub mod exit {
    /// The scan completed and nothing reached `--fail-on`.
    pub const OK: u8 = 0;
    /// The scan could not run (credentials, configuration, output file).
    pub const ERROR: u8 = 1;
    /// Bad command-line usage (clap's own code).
    pub const USAGE: u8 = 2;
    /// Findings at or above `--fail-on` exist.
    pub const FINDINGS: u8 = 3;
    /// Part of the estate could not be read: the findings are a lower bound.
    pub const INCOMPLETE: u8 = 4;
}

#[derive(Parser)]
#[command(
    name = "compliance",
    version,
    about = "Serverless AWS compliance scanner: ad-hoc scans and workflow runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan EC2, S3 and RDS across regions (and accounts) and report misconfigurations with
    /// their controls.
    Scan(scan::ScanArgs),
    /// Start the scan workflow (Step Functions) on demand; with --wait, follow it to the end.
    Run(run::RunArgs),
    /// Framework views (CIS, PCI DSS, NIST 800-53, FSBP) of a stored run; legal holds on a run.
    Report(report::ReportArgs),
    /// The rule catalog: every rule with its parameters, runbook and controls; with
    /// --framework, that framework's controls, the rules that check each and the ones not
    /// automated (no AWS call).
    Rules(rules::RulesArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COMPLIANCE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Rules(args) => rules::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::ERROR)
        }
    }
}
