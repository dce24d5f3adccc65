//! Every format of the run report, written under one date- and run-scoped prefix.

use compliance_aws::store::{put_json, ObjectStore};
use compliance_aws::AwsError;
use compliance_core::contract::ReportKeys;
use compliance_core::report::asff::AsffFinding;
use compliance_core::report::html::render_html;
use compliance_core::report::ocsf::detection_findings;
use compliance_core::report::{findings_csv, RunReport};

pub async fn store_all(
    store: &dyn ObjectStore,
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
