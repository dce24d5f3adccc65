use compliance_core::Service;

use super::{assert_throttled, error_of};
use crate::collect::rds::RdsCollector;
use crate::collect::replay::{ok, query_error, Replay, ACCOUNT, REGION};
use crate::collect::Collector;

const ACTION: &str = "Action=DescribeDBInstances";

/// An empty answer for each of the other list calls the collector makes.
fn quiet_rest(replay: Replay) -> Replay {
    [
        ("DescribeDBClusters", "DBClusters"),
        ("DescribeEventSubscriptions", "EventSubscriptionsList"),
        ("DescribeDBSnapshots", "DBSnapshots"),
        ("DescribeDBClusterSnapshots", "DBClusterSnapshots"),
    ]
    .into_iter()
    .fold(replay, |replay, (action, list)| {
        replay.always(
            &[&format!("Action={action}&")],
            ok(&format!(
                "<{action}Response><{action}Result><{list}/></{action}Result>\
                 <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
            )),
        )
    })
}

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
    let replay = quiet_rest(Replay::new()).on(
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
    let replay = quiet_rest(Replay::new()).on(&[ACTION], [query_error(403, "AccessDenied")]);

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
    let replay = quiet_rest(Replay::new())
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

#[tokio::test]
async fn instances_carry_cluster_monitoring_logs_port_and_admin() {
    let body = "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>\
        <DBInstance><DBInstanceIdentifier>solo</DBInstanceIdentifier><Engine>postgres</Engine>\
        <MasterUsername>postgres</MasterUsername><Endpoint><Port>5432</Port></Endpoint>\
        <DbInstancePort>0</DbInstancePort><MonitoringInterval>30</MonitoringInterval>\
        <EnabledCloudwatchLogsExports><member>postgresql</member></EnabledCloudwatchLogsExports>\
        </DBInstance>\
        <DBInstance><DBInstanceIdentifier>member</DBInstanceIdentifier><Engine>aurora-mysql</Engine>\
        <DBClusterIdentifier>aurora-1</DBClusterIdentifier></DBInstance>\
        </DBInstances></DescribeDBInstancesResult>\
        <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBInstancesResponse>";
    let replay = quiet_rest(Replay::new()).on(&[ACTION], [ok(body)]);

    let collected = RdsCollector::new(replay.factory())
        .collect(ACCOUNT, REGION)
        .await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    let dbs = &collected.inventory.db_instances;
    assert_eq!(dbs[0].port, Some(5432));
    assert_eq!(dbs[0].master_username.as_deref(), Some("postgres"));
    assert_eq!(dbs[0].monitoring_interval, 30);
    assert_eq!(dbs[0].enabled_cloudwatch_logs_exports, ["postgresql"]);
    assert_eq!(dbs[0].db_cluster_identifier, None);
    assert_eq!(dbs[1].db_cluster_identifier.as_deref(), Some("aurora-1"));
    assert_eq!((dbs[1].monitoring_interval, dbs[1].port), (0, None));
}

const CLUSTERS: &str = "Action=DescribeDBClusters&";
const SUBSCRIPTIONS: &str = "Action=DescribeEventSubscriptions&";
const SNAPSHOTS: &str = "Action=DescribeDBSnapshots&";
const SNAPSHOT_ATTRIBUTES: &str = "Action=DescribeDBSnapshotAttributes&";
const CLUSTER_SNAPSHOTS: &str = "Action=DescribeDBClusterSnapshots&";
const CLUSTER_SNAPSHOT_ATTRIBUTES: &str = "Action=DescribeDBClusterSnapshotAttributes&";

fn empty_instances(replay: Replay) -> Replay {
    replay.always(&[ACTION], ok(&page(&[], None)))
}

fn snapshot_attributes(kind: &str, id: &str, restore: &[&str]) -> String {
    let values: String = restore
        .iter()
        .map(|v| format!("<AttributeValue>{v}</AttributeValue>"))
        .collect();
    format!(
        "<Describe{kind}AttributesResponse><Describe{kind}AttributesResult>\
         <{kind}AttributesResult><{kind}Identifier>{id}</{kind}Identifier>\
         <{kind}Attributes><{kind}Attribute><AttributeName>restore</AttributeName>\
         <AttributeValues>{values}</AttributeValues></{kind}Attribute></{kind}Attributes>\
         </{kind}AttributesResult></Describe{kind}AttributesResult>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
         </Describe{kind}AttributesResponse>"
    )
}

#[tokio::test]
async fn clusters_subscriptions_and_manual_snapshots_with_their_attributes() {
    let clusters = "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters>\
        <DBCluster><DBClusterIdentifier>aurora-1</DBClusterIdentifier><Engine>aurora-mysql</Engine>\
        <EngineMode>provisioned</EngineMode><StorageEncrypted>true</StorageEncrypted>\
        <DeletionProtection>false</DeletionProtection><MultiAZ>true</MultiAZ>\
        <BackupRetentionPeriod>3</BackupRetentionPeriod><BacktrackWindow>3600</BacktrackWindow>\
        <MasterUsername>admin</MasterUsername>\
        <EnabledCloudwatchLogsExports><member>audit</member></EnabledCloudwatchLogsExports>\
        <TagList><Tag><Key>Owner</Key><Value>data</Value></Tag></TagList></DBCluster>\
        </DBClusters></DescribeDBClustersResult>\
        <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBClustersResponse>";
    let subscriptions = "<DescribeEventSubscriptionsResponse><DescribeEventSubscriptionsResult>\
        <EventSubscriptionsList><EventSubscription><CustSubscriptionId>ops</CustSubscriptionId>\
        <SourceType>db-cluster</SourceType><Enabled>true</Enabled>\
        <EventCategoriesList><EventCategory>failure</EventCategory></EventCategoriesList>\
        </EventSubscription></EventSubscriptionsList></DescribeEventSubscriptionsResult>\
        <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
        </DescribeEventSubscriptionsResponse>";
    let snapshots = "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots>\
        <DBSnapshot><DBSnapshotIdentifier>snap-public</DBSnapshotIdentifier><Engine>postgres</Engine>\
        <SnapshotType>manual</SnapshotType><Encrypted>false</Encrypted></DBSnapshot>\
        <DBSnapshot><DBSnapshotIdentifier>snap-denied</DBSnapshotIdentifier><Engine>postgres</Engine>\
        <SnapshotType>manual</SnapshotType><Encrypted>true</Encrypted></DBSnapshot>\
        </DBSnapshots></DescribeDBSnapshotsResult>\
        <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBSnapshotsResponse>";
    let cluster_snapshots = "<DescribeDBClusterSnapshotsResponse><DescribeDBClusterSnapshotsResult>\
        <DBClusterSnapshots><DBClusterSnapshot>\
        <DBClusterSnapshotIdentifier>csnap</DBClusterSnapshotIdentifier><Engine>aurora-mysql</Engine>\
        <SnapshotType>manual</SnapshotType><StorageEncrypted>true</StorageEncrypted>\
        </DBClusterSnapshot></DBClusterSnapshots></DescribeDBClusterSnapshotsResult>\
        <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
        </DescribeDBClusterSnapshotsResponse>";
    let replay = empty_instances(Replay::new())
        .on(&[CLUSTERS], [ok(clusters)])
        .on(&[SUBSCRIPTIONS], [ok(subscriptions)])
        .on(&[SNAPSHOTS], [ok(snapshots)])
        .always(
            &[SNAPSHOT_ATTRIBUTES, "snap-public"],
            ok(&snapshot_attributes(
                "DBSnapshot",
                "snap-public",
                &["111122223333", "all"],
            )),
        )
        .always(
            &[SNAPSHOT_ATTRIBUTES, "snap-denied"],
            query_error(403, "AccessDenied"),
        )
        .on(&[CLUSTER_SNAPSHOTS], [ok(cluster_snapshots)])
        .on(
            &[CLUSTER_SNAPSHOT_ATTRIBUTES],
            [ok(&snapshot_attributes("DBClusterSnapshot", "csnap", &[]))],
        );

    let collected = RdsCollector::new(replay.factory())
        .collect(ACCOUNT, REGION)
        .await;

    let inventory = &collected.inventory;
    let cluster = &inventory.db_clusters[0];
    assert_eq!(
        cluster.arn,
        format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora-1")
    );
    assert!(cluster.storage_encrypted && cluster.multi_az && !cluster.deletion_protection);
    assert_eq!(
        (cluster.backup_retention_period, cluster.backtrack_window),
        (3, Some(3600))
    );
    assert_eq!(cluster.master_username.as_deref(), Some("admin"));
    assert_eq!(cluster.enabled_cloudwatch_logs_exports, ["audit"]);
    assert_eq!(cluster.tags.get("Owner").map(String::as_str), Some("data"));

    let subscription = &inventory.rds_event_subscriptions[0];
    assert_eq!(
        subscription.arn,
        format!("arn:aws:rds:{REGION}:{ACCOUNT}:es:ops")
    );
    assert_eq!(subscription.source_type.as_deref(), Some("db-cluster"));
    assert_eq!(subscription.event_categories, ["failure"]);
    assert!(subscription.enabled);

    // Manual snapshots only are asked for.
    assert!(replay.requests_with(SNAPSHOTS)[0].contains("SnapshotType=manual"));
    assert!(replay.requests_with(CLUSTER_SNAPSHOTS)[0].contains("SnapshotType=manual"));
    let snapshots = &inventory.db_snapshots;
    let ids: Vec<_> = snapshots.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["snap-denied", "snap-public"]);
    // Attributes denied: recorded, and the snapshot is not judged public or private.
    assert_eq!(snapshots[0].restore_accounts, None);
    assert_eq!(snapshots[0].unreadable, ["DescribeDBSnapshotAttributes"]);
    let denied = error_of(&collected.errors, "DescribeDBSnapshotAttributes");
    assert_eq!(denied.code, "AccessDenied");
    assert_eq!(
        snapshots[1].restore_accounts,
        Some(vec!["111122223333".to_string(), "all".to_string()])
    );
    assert_eq!(snapshots[1].is_public(), Some(true));
    assert!(!snapshots[1].encrypted);
    assert_eq!(
        snapshots[1].arn,
        format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:snap-public")
    );
    let cluster_snapshot = &inventory.db_cluster_snapshots[0];
    assert_eq!(cluster_snapshot.is_public(), Some(false));
    assert!(cluster_snapshot.encrypted);
    assert_eq!(
        cluster_snapshot.arn,
        format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:csnap")
    );
    assert_eq!(collected.errors.len(), 1, "{:#?}", collected.errors);
}

#[tokio::test]
async fn a_denied_cluster_list_is_recorded_and_the_rest_is_collected() {
    let replay = quiet_rest(
        Replay::new()
            .on(&[ACTION], [ok(&page(&["db-1"], None))])
            .always(&[CLUSTERS], query_error(403, "AccessDenied")),
    );

    let collected = RdsCollector::new(replay.factory())
        .collect(ACCOUNT, REGION)
        .await;

    let denied = error_of(&collected.errors, "DescribeDBClusters");
    assert!(
        denied
            .message
            .ends_with("need permission for rds:DescribeDBClusters"),
        "{}",
        denied.message
    );
    assert_eq!(collected.errors.len(), 1);
    assert_eq!(collected.inventory.db_instances.len(), 1);
    assert!(collected.inventory.db_clusters.is_empty());
}
