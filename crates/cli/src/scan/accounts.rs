//! The report of a scan over several accounts: each unit evaluated and merged account by
//! account as the workflow's aggregate does (the core's `RunMerger`: per-account numbers,
//! worst accounts first), an account whose role could not be assumed counted as failed units
//! and listed as one error per unit, named by account, role and call.

use compliance_aws::scanner::sort_errors;
use compliance_aws::AccountScan;
use compliance_core::report::{ReportContext, ScanReport, REPORT_SCHEMA_VERSION};
use compliance_core::run::{FailedUnit, RunMerger};
use compliance_core::unit::UnitScanDocument;
use compliance_core::EvaluationSettings;

/// What an ad-hoc scan's unit documents and run are called (they are never stored).
const AD_HOC_RUN: &str = "cli";

/// One report over every account of `scans` (in their order); `ctx.account_id` is the
/// caller's own account.
pub fn accounts_report(
    ctx: ReportContext,
    scans: Vec<AccountScan>,
    settings: &EvaluationSettings,
) -> ScanReport {
    let mut merger = RunMerger::default();
    let mut findings = Vec::new();
    let mut failed_units = Vec::new();
    let mut role_errors = Vec::new();
    for scan in scans {
        let account = scan.target.account_id.as_str();
        let name = scan.target.name.as_deref();
        if scan.unreachable {
            for (unit, collected) in scan.units {
                for error in collected.errors {
                    failed_units.push(FailedUnit {
                        account_id: account.to_string(),
                        region: unit.region.to_string(),
                        service: unit.service.to_string(),
                        error: error.api.clone(),
                        cause: error.message.clone(),
                    });
                    role_errors.push(error);
                }
            }
            // The account keeps its line (and its name) with nothing scanned.
            findings.extend(merger.add_account(account, name, Vec::new()));
            continue;
        }
        let units = scan
            .units
            .into_iter()
            .map(|(unit, collected)| {
                let document = UnitScanDocument::new(
                    AD_HOC_RUN,
                    unit.region.as_str(),
                    unit.service,
                    ctx.finished_at.clone(),
                    collected.inventory,
                    collected.errors,
                    settings,
                );
                (String::new(), document)
            })
            .collect();
        findings.extend(merger.add_account(account, name, units));
    }
    let mut run = merger.finish(
        AD_HOC_RUN,
        &ctx.account_id,
        AD_HOC_RUN,
        ctx.started_at.clone(),
        failed_units,
    );
    // The role errors are in the report's error list: the account's count says so too.
    for summary in &mut run.accounts {
        summary.errors += role_errors
            .iter()
            .filter(|e| e.account_id == summary.account_id)
            .count();
    }
    let mut errors = run.errors;
    errors.extend(role_errors);
    sort_errors(&mut errors);
    ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        scanner_version: env!("CARGO_PKG_VERSION").to_string(),
        account_id: ctx.account_id,
        regions: ctx.regions,
        services: ctx.services,
        started_at: ctx.started_at,
        finished_at: ctx.finished_at,
        complete: run.complete && errors.is_empty(),
        summary: run.summary,
        accounts: run.accounts,
        findings,
        errors,
        rule_parameters: run.rule_parameters,
    }
}

#[cfg(test)]
mod tests {
    use compliance_aws::collect::Collected;
    use compliance_core::accounts::ScanTarget;
    use compliance_core::contract::{AccountId, Region, RegionScanInput, RunId};
    use compliance_core::model::{EbsEncryptionDefault, Inventory};
    use compliance_core::{ScanError, Service};

    use super::*;

    const OWN: &str = "111111111111";
    const MEMBER: &str = "222222222222";
    const UNREACHABLE: &str = "333333333333";

    fn unit(account: &str, region: &str) -> RegionScanInput {
        RegionScanInput {
            run_id: RunId::parse("cli").unwrap(),
            region: Region::parse(region).unwrap(),
            service: Service::Ec2,
            account_id: Some(AccountId::parse(account).unwrap()),
            role_arn: None,
        }
    }

    /// An account whose EBS encryption by default is off in `region`: one finding.
    fn scanned(account: &str, name: Option<&str>, region: &str) -> AccountScan {
        let mut inventory = Inventory::new(account);
        inventory
            .ebs_encryption_defaults
            .push(EbsEncryptionDefault {
                region: region.into(),
                enabled: false,
            });
        AccountScan {
            target: ScanTarget {
                account_id: AccountId::parse(account).unwrap(),
                name: name.map(str::to_string),
                role_arn: None,
            },
            units: vec![(
                unit(account, region),
                Collected {
                    inventory,
                    errors: Vec::new(),
                },
            )],
            unreachable: false,
        }
    }

    fn unreachable() -> AccountScan {
        let role = format!("arn:aws:iam::{UNREACHABLE}:role/ComplianceScannerMemberRole");
        let units = ["eu-west-1", "us-east-1"]
            .into_iter()
            .map(|region| {
                let error = ScanError {
                    account_id: UNREACHABLE.into(),
                    region: region.into(),
                    service: Service::Ec2,
                    api: "sts:AssumeRole".into(),
                    code: "AccessDenied".into(),
                    message: format!(
                        "account {UNREACHABLE}: sts AssumeRole of {role} failed: access denied"
                    ),
                    resource: Some(role.clone()),
                };
                (
                    unit(UNREACHABLE, region),
                    Collected {
                        inventory: Inventory::new(UNREACHABLE),
                        errors: vec![error],
                    },
                )
            })
            .collect();
        AccountScan {
            target: ScanTarget {
                account_id: AccountId::parse(UNREACHABLE).unwrap(),
                name: Some("lost".into()),
                role_arn: Some(role),
            },
            units,
            unreachable: true,
        }
    }

    fn ctx() -> ReportContext {
        ReportContext {
            account_id: OWN.into(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            services: vec![Service::Ec2],
            started_at: "2026-12-01T00:00:00Z".into(),
            finished_at: "2026-12-01T00:01:00Z".into(),
        }
    }

    #[test]
    fn each_account_keeps_its_findings_numbers_and_name() {
        let report = accounts_report(
            ctx(),
            vec![
                scanned(OWN, Some("management"), "eu-west-1"),
                scanned(MEMBER, None, "us-east-1"),
            ],
            &EvaluationSettings::default(),
        );
        assert_eq!(report.account_id, OWN);
        assert!(report.complete);
        let found: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.account_id.as_str(), f.region.as_str()))
            .collect();
        assert_eq!(found, [(OWN, "eu-west-1"), (MEMBER, "us-east-1")]);
        assert_eq!(report.summary.findings_by_severity.total(), 2);
        assert_eq!(report.accounts.len(), 2);
        let own = report
            .accounts
            .iter()
            .find(|a| a.account_id == OWN)
            .unwrap();
        assert_eq!(own.name.as_deref(), Some("management"));
        assert_eq!((own.units, own.failed_units, own.errors), (1, 0, 0));
        assert_eq!(own.summary.findings_by_severity.total(), 1);
        // Every unit used the defaults: the report records them once.
        let used = report.rule_parameters.as_ref().expect("recorded");
        assert!(used.consistent());
        assert_eq!(
            used.values["rds_instance_backup_retention"]["backupRetentionMinimum"],
            7
        );
    }

    #[test]
    fn an_unreachable_account_is_its_errors_and_failed_units_and_comes_first() {
        let report = accounts_report(
            ctx(),
            vec![scanned(OWN, None, "eu-west-1"), unreachable()],
            &EvaluationSettings::default(),
        );
        assert!(!report.complete);
        assert_eq!(report.findings.len(), 1, "the other account is scanned");
        assert_eq!(report.errors.len(), 2, "one error per unit of the account");
        for e in &report.errors {
            assert_eq!(e.account_id, UNREACHABLE);
            assert_eq!(e.api, "sts:AssumeRole");
            assert!(e.message.contains(UNREACHABLE) && e.message.contains(":role/"));
        }
        let first = &report.accounts[0];
        assert_eq!(first.account_id, UNREACHABLE, "worst first");
        assert_eq!(first.name.as_deref(), Some("lost"));
        assert_eq!((first.units, first.failed_units, first.errors), (0, 2, 2));
        assert_eq!(first.summary.resources_scanned, 0);
    }
}
