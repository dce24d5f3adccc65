use compliance_core::rules::s3 as api;
use compliance_core::Service;

use super::{assert_throttled, error_of};
use crate::collect::replay::{ok, query_error, s3_error, Replay, ACCOUNT, REGION};
use crate::collect::s3::S3Collector;
use crate::collect::{Collected, Collector};

const LIST: &str = "x-id=ListBuckets";
const ACCOUNT_PAB: &str = "/v20180820/configuration/publicAccessBlock";

const PAB_ALL: &str = "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>\
    <IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>\
    <RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>";
const ACL: &str = "<AccessControlPolicy><Owner><ID>owner</ID></Owner><AccessControlList><Grant>\
    <Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\
    <ID>owner</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList>\
    </AccessControlPolicy>";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;
const TAGS: &str =
    "<Tagging><TagSet><Tag><Key>Owner</Key><Value>web</Value></Tag></TagSet></Tagging>";

fn listing(buckets: &[&str], next: Option<&str>) -> String {
    let items: String = buckets
        .iter()
        .map(|b| {
            format!(
                "<Bucket><Name>{b}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate>\
                 <BucketRegion>{REGION}</BucketRegion></Bucket>"
            )
        })
        .collect();
    let next = next
        .map(|t| format!("<ContinuationToken>{t}</ContinuationToken>"))
        .unwrap_or_default();
    format!(
        "<ListAllMyBucketsResult><Buckets>{items}</Buckets><Owner><ID>owner</ID></Owner>{next}\
         </ListAllMyBucketsResult>"
    )
}

/// The needle of one bucket's call: the bucket's host and the call's query, which ends the URI.
fn call(bucket: &str, query: &str) -> [String; 2] {
    [format!("://{bucket}."), format!("?{query}\n")]
}

fn on(replay: Replay, needles: &[String; 2], answer: crate::collect::replay::Answer) -> Replay {
    replay.always(&[needles[0].as_str(), needles[1].as_str()], answer)
}

/// Every bucket not answered otherwise before: no encryption, policy or tags configured,
/// Block Public Access on, versioning on, logging off; no account-level Block Public Access.
fn plain_buckets(replay: Replay) -> Replay {
    replay
        .always(
            &["?encryption\n"],
            s3_error(404, "ServerSideEncryptionConfigurationNotFoundError"),
        )
        .always(&["?publicAccessBlock\n"], ok(PAB_ALL))
        .always(&["?acl\n"], ok(ACL))
        .always(&["?policy\n"], s3_error(404, "NoSuchBucketPolicy"))
        .always(
            &["?versioning\n"],
            ok("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"),
        )
        .always(&["?logging\n"], ok("<BucketLoggingStatus/>"))
        .always(&["?tagging\n"], s3_error(404, "NoSuchTagSet"))
        .always(&["?lifecycle\n"], s3_error(404, "NoSuchLifecycleConfiguration"))
        .always(
            &["?replication\n"],
            s3_error(404, "ReplicationConfigurationNotFoundError"),
        )
        .always(&["?notification\n"], ok("<NotificationConfiguration/>"))
        .always(
            &["?object-lock\n"],
            s3_error(404, "ObjectLockConfigurationNotFoundError"),
        )
        .always(
            &["/v20180820/accesspoint"],
            ok("<ListAccessPointsResult><AccessPointList/></ListAccessPointsResult>"),
        )
        .always(
            &["/v20180820/mrap/instances"],
            ok("<ListMultiRegionAccessPointsResult><AccessPoints/></ListMultiRegionAccessPointsResult>"),
        )
        .always(
            &[ACCOUNT_PAB],
            query_error(404, "NoSuchPublicAccessBlockConfiguration"),
        )
}

async fn collect(replay: &Replay) -> Collected {
    S3Collector::new(replay.factory(), 4)
        .collect(ACCOUNT, REGION)
        .await
}

#[tokio::test]
async fn every_page_of_buckets_is_read_and_settings_not_configured_are_absent() {
    let replay = plain_buckets(Replay::new().on(
        &[LIST],
        [
            ok(&listing(&["alpha-logs", "beta-site"], Some("page-2"))),
            ok(&listing(&["gamma-data"], None)),
        ],
    ));

    let collected = collect(&replay).await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    let buckets = &collected.inventory.buckets;
    let names: Vec<_> = buckets.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["alpha-logs", "beta-site", "gamma-data"]);
    for bucket in buckets {
        assert!(bucket.unreadable.is_empty(), "{bucket:?}");
        assert_eq!(bucket.region, REGION);
        assert_eq!(bucket.encryption, None);
        assert_eq!(bucket.policy, None);
        assert!(bucket.tags.is_empty());
        assert!(bucket
            .public_access_block
            .as_ref()
            .is_some_and(|p| p.block_public_acls && p.restrict_public_buckets));
        assert_eq!(bucket.versioning.status.as_deref(), Some("Enabled"));
        assert_eq!(bucket.acl_grants.len(), 1);
    }
    let account = collected.inventory.s3_account.as_ref();
    assert!(account.is_some_and(|a| a.public_access_block.is_none()));
    let lists = replay.requests_with(LIST);
    assert_eq!(lists.len(), 2);
    assert!(!lists[0].contains("continuation-token="));
    assert!(lists[1].contains("continuation-token=page-2"));
}

#[tokio::test]
async fn a_denied_read_is_recorded_and_the_other_reads_go_on() {
    let replay = Replay::new()
        .on(&[LIST], [ok(&listing(&["alpha-logs", "beta-site"], None))])
        .always(&[ACCOUNT_PAB], query_error(403, "AccessDenied"));
    let replay = on(
        replay,
        &call("alpha-logs", "policy"),
        s3_error(403, "AccessDenied"),
    );
    let replay = on(replay, &call("alpha-logs", "tagging"), ok(TAGS));
    let replay = plain_buckets(replay);

    let collected = collect(&replay).await;

    let denied = error_of(&collected.errors, api::API_POLICY);
    assert_eq!(
        (
            denied.region.as_str(),
            denied.service,
            denied.code.as_str(),
            denied.resource.as_deref()
        ),
        (REGION, Service::S3, "AccessDenied", Some("alpha-logs"))
    );
    assert!(
        denied.message.starts_with("access denied (AccessDenied: ")
            && denied
                .message
                .ends_with("need permission for s3:GetBucketPolicy"),
        "{}",
        denied.message
    );
    let account = error_of(&collected.errors, "GetPublicAccessBlock (account)");
    assert!(
        account
            .message
            .ends_with("need permission for s3:GetAccountPublicAccessBlock"),
        "{}",
        account.message
    );
    assert_eq!(collected.errors.len(), 2);
    // A denied read is not "no policy": the bucket says it could not be read.
    assert!(collected.inventory.s3_account.is_none());
    let alpha = &collected.inventory.buckets[0];
    assert_eq!(alpha.unreadable, [api::API_POLICY]);
    assert_eq!(alpha.tags.get("Owner").map(String::as_str), Some("web"));
    assert!(collected.inventory.buckets[1].unreadable.is_empty());
}

#[tokio::test]
async fn a_bucket_deleted_during_the_scan_is_left_out_without_error() {
    let replay = Replay::new()
        .on(&[LIST], [ok(&listing(&["alpha-logs", "beta-site"], None))])
        .always(&["https://alpha-logs."], s3_error(404, "NoSuchBucket"));
    let replay = plain_buckets(replay);

    let collected = collect(&replay).await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    let names: Vec<_> = collected
        .inventory
        .buckets
        .iter()
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(names, ["beta-site"]);
}

#[tokio::test]
async fn throttling_is_retried_then_recorded_as_transient() {
    let replay = Replay::new().on(&[LIST], [ok(&listing(&["alpha-logs"], None))]);
    let tagging = call("alpha-logs", "tagging");
    let replay = plain_buckets(on(replay, &tagging, s3_error(503, "SlowDown")));

    let collected = collect(&replay).await;

    let throttled = error_of(&collected.errors, api::API_TAGGING);
    assert_throttled(
        throttled,
        "SlowDown",
        replay.requests_with(&tagging[1]).len(),
    );
    assert_eq!(collected.errors.len(), 1);
    let alpha = &collected.inventory.buckets[0];
    assert_eq!(alpha.unreadable, [api::API_TAGGING]);
    assert!(alpha.public_access_block.is_some());
}

#[tokio::test]
async fn policy_status_is_skipped_where_the_endpoint_lacks_it_and_recorded_where_denied() {
    let listed = listing(&["alpha-logs", "beta-site", "gamma-data"], None);
    let replay = Replay::new().on(&[LIST], [ok(&listed)]);
    let replay = on(
        replay,
        &call("alpha-logs", "policyStatus"),
        s3_error(501, "NotImplemented"),
    );
    // A store that names the missing call by code only.
    let replay = on(
        replay,
        &call("gamma-data", "policyStatus"),
        s3_error(400, "MethodNotAllowed"),
    );
    let replay = on(
        replay,
        &call("beta-site", "policyStatus"),
        s3_error(403, "AccessDenied"),
    );
    let replay = plain_buckets(replay.always(&["?policy\n"], ok(POLICY)));

    let collected = collect(&replay).await;

    let denied = error_of(&collected.errors, "GetBucketPolicyStatus");
    assert_eq!(denied.resource.as_deref(), Some("beta-site"));
    assert_eq!(collected.errors.len(), 1);
    assert_eq!(collected.inventory.buckets.len(), 3);
    for bucket in &collected.inventory.buckets {
        assert_eq!(bucket.policy.as_deref(), Some(POLICY));
        assert_eq!(bucket.policy_is_public, None);
    }
}
