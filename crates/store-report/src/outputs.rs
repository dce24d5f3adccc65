//! Every format of the run report, written under one date- and run-scoped prefix.

use compliance_aws::store::{put_json, ObjectStore, S3Store};
use compliance_aws::AwsError;
use compliance_core::report::asff::AsffFinding;
use compliance_core::report::html::render_html;
use compliance_core::report::ocsf::detection_findings;
use compliance_core::report::{findings_csv, RunReport};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ReportKeys {
    pub json: String,
    pub csv: String,
    pub ocsf: String,
    pub html: String,
    pub asff: String,
}

impl ReportKeys {
    pub fn under(prefix: &str) -> Self {
        ReportKeys {
            json: format!("{prefix}/report.json"),
            csv: format!("{prefix}/report.csv"),
            ocsf: format!("{prefix}/report.ocsf.json"),
            html: format!("{prefix}/report.html"),
            asff: format!("{prefix}/findings.asff.json"),
        }
    }
}

pub async fn store_all(
    store: &S3Store,
    keys: &ReportKeys,
    report: &RunReport,
    asff: &[AsffFinding],
) -> Result<(), AwsError> {
    put_json(store, &keys.json, report, "the JSON report").await?;
    let csv = findings_csv(&report.findings)?;
    store.put(&keys.csv, csv.into_bytes(), "text/csv").await?;
    put_json(
        store,
        &keys.ocsf,
        &detection_findings(report),
        "the OCSF findings",
    )
    .await?;
    store
        .put(
            &keys.html,
            render_html(report).into_bytes(),
            "text/html; charset=utf-8",
        )
        .await?;
    put_json(store, &keys.asff, &asff, "the ASFF findings").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_keys_are_date_and_run_scoped() {
        let keys = super::ReportKeys::under(&compliance_core::report::report_prefix(
            "2026-11-23T10:00:00Z",
            "r1",
        ));
        assert_eq!(keys.json, "reports/2026/11/23/r1/report.json");
        assert_eq!(keys.html, "reports/2026/11/23/r1/report.html");
    }
}
