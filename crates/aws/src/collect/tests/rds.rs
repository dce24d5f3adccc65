use compliance_core::Service;

use super::{assert_throttled, error_of};
use crate::collect::rds::RdsCollector;
use crate::collect::replay::{ok, query_error, Replay, ACCOUNT, REGION};
use crate::collect::Collector;

const ACTION: &str = "Action=DescribeDBInstances";

fn page(ids: &[&str], marker: Option<&str>) -> String {
    let items: String = ids
        .iter()
        .map(|id| {
            format!(
                "<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier>\
                 <Engine>postgres</Engine><StorageEncrypted>true</StorageEncrypted>\
                 <BackupRetentionPeriod>7</BackupRetentionPeriod>\
                 <TagList><Tag><Key>Owner</Key><Value>data</Value></Tag></TagList></DBInstance>"
            )
        })
        .collect();
    let marker = marker
        .map(|m| format!("<Marker>{m}</Marker>"))
        .unwrap_or_default();
    format!(
        "<DescribeDBInstancesResponse><DescribeDBInstancesResult>{marker}\
         <DBInstances>{items}</DBInstances></DescribeDBInstancesResult>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
         </DescribeDBInstancesResponse>"
    )
}

#[tokio::test]
async fn every_page_is_collected() {
    let replay = Replay::new().on(
        &[ACTION],
        [
            ok(&page(&["db-1", "db-2"], Some("page-2"))),
            ok(&page(&["db-3"], None)),
        ],
    );

    let collected = RdsCollector::new(replay.factory())
        .collect(ACCOUNT, REGION)
        .await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    let dbs = &collected.inventory.db_instances;
    let ids: Vec<_> = dbs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["db-1", "db-2", "db-3"]);
    // No ARN in the answer: the collector builds it.
    assert_eq!(
        dbs[0].arn,
        format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:db-1")
    );
    assert!(dbs[0].storage_encrypted);
    assert_eq!(dbs[0].backup_retention_period, 7);
    assert_eq!(dbs[0].tags.get("Owner").map(String::as_str), Some("data"));
    let requests = replay.requests_with(ACTION);
    assert_eq!(requests.len(), 2);
    assert!(!requests[0].contains("Marker="));
    assert!(requests[1].contains("Marker=page-2"));
}

#[tokio::test]
async fn a_denied_list_is_recorded_not_taken_for_an_empty_one() {
    let replay = Replay::new().on(&[ACTION], [query_error(403, "AccessDenied")]);

    let collected = RdsCollector::new(replay.factory())
        .collect(ACCOUNT, REGION)
        .await;

    let denied = error_of(&collected.errors, "DescribeDBInstances");
    assert_eq!(
        (denied.region.as_str(), denied.service, denied.code.as_str()),
        (REGION, Service::Rds, "AccessDenied")
    );
    assert!(
        denied
            .message
            .ends_with("need permission for rds:DescribeDBInstances"),
        "{}",
        denied.message
    );
    assert!(collected.inventory.db_instances.is_empty());
}

#[tokio::test]
async fn a_failed_second_page_keeps_the_first_and_records_the_failure() {
    let replay = Replay::new()
        .on(&[ACTION], [ok(&page(&["db-1"], Some("page-2")))])
        .always(&[ACTION, "Marker=page-2"], query_error(400, "Throttling"));

    let collected = RdsCollector::new(replay.factory())
        .collect(ACCOUNT, REGION)
        .await;

    let throttled = error_of(&collected.errors, "DescribeDBInstances");
    assert_throttled(
        throttled,
        "Throttling",
        replay.requests_with("Marker=page-2").len(),
    );
    assert_eq!(collected.inventory.db_instances.len(), 1);
}
