use compliance_core::Service;

use super::{assert_throttled, error_of};
use crate::collect::ec2::Ec2Collector;
use crate::collect::replay::{ec2_error, ok, Replay, ACCOUNT, REGION};
use crate::collect::Collector;

const SG_ACTION: &str = "Action=DescribeSecurityGroups";
const INSTANCE_ACTION: &str = "Action=DescribeInstances";
const VOLUME_ACTION: &str = "Action=DescribeVolumes";
const EBS_ACTION: &str = "Action=GetEbsEncryptionByDefault";

fn groups(ids: &[&str], next: Option<&str>) -> String {
    let items: String = ids
        .iter()
        .map(|id| {
            format!(
                "<item><groupId>{id}</groupId><groupName>{id}-name</groupName>\
                 <vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol>\
                 <fromPort>22</fromPort><toPort>22</toPort><ipRanges><item>\
                 <cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissions>\
                 <ipPermissionsEgress/></item>"
            )
        })
        .collect();
    format!(
        "<DescribeSecurityGroupsResponse><requestId>r</requestId>\
         <securityGroupInfo>{items}</securityGroupInfo>{}</DescribeSecurityGroupsResponse>",
        next_token(next)
    )
}

fn instances(ids: &[&str], next: Option<&str>) -> String {
    let items: String = ids
        .iter()
        .map(|id| {
            format!(
                "<item><reservationId>r-{id}</reservationId><instancesSet><item>\
                 <instanceId>{id}</instanceId><instanceState><code>16</code><name>running</name>\
                 </instanceState><metadataOptions><httpTokens>required</httpTokens>\
                 </metadataOptions></item></instancesSet></item>"
            )
        })
        .collect();
    format!(
        "<DescribeInstancesResponse><requestId>r</requestId>\
         <reservationSet>{items}</reservationSet>{}</DescribeInstancesResponse>",
        next_token(next)
    )
}

fn volumes(ids: &[&str], next: Option<&str>) -> String {
    let items: String = ids
        .iter()
        .map(|id| {
            format!(
                "<item><volumeId>{id}</volumeId><encrypted>false</encrypted>\
                 <status>available</status><attachmentSet/></item>"
            )
        })
        .collect();
    format!(
        "<DescribeVolumesResponse><requestId>r</requestId><volumeSet>{items}</volumeSet>{}\
         </DescribeVolumesResponse>",
        next_token(next)
    )
}

fn next_token(next: Option<&str>) -> String {
    next.map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default()
}

const EBS_ON: &str = "<GetEbsEncryptionByDefaultResponse><requestId>r</requestId>\
    <ebsEncryptionByDefault>true</ebsEncryptionByDefault></GetEbsEncryptionByDefaultResponse>";

#[tokio::test]
async fn every_page_of_every_list_is_collected() {
    let replay = Replay::new()
        .on(
            &[SG_ACTION],
            [
                ok(&groups(&["sg-1", "sg-2"], Some("sg-page-2"))),
                ok(&groups(&["sg-3"], None)),
            ],
        )
        .on(
            &[INSTANCE_ACTION],
            [
                ok(&instances(&["i-1"], Some("i-page-2"))),
                ok(&instances(&["i-2"], None)),
            ],
        )
        .on(
            &[VOLUME_ACTION],
            [
                ok(&volumes(&["vol-1"], Some("vol-page-2"))),
                ok(&volumes(&["vol-2"], None)),
            ],
        )
        .on(&[EBS_ACTION], [ok(EBS_ON)]);
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    let inventory = &collected.inventory;
    let ids = |v: Vec<&str>| v.join(",");
    assert_eq!(
        ids(inventory
            .security_groups
            .iter()
            .map(|g| g.id.as_str())
            .collect()),
        "sg-1,sg-2,sg-3"
    );
    assert_eq!(
        inventory.security_groups[0].arn,
        format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1")
    );
    assert_eq!(
        inventory.security_groups[0].ingress[0].ipv4_ranges,
        ["0.0.0.0/0"]
    );
    assert_eq!(
        ids(inventory.instances.iter().map(|i| i.id.as_str()).collect()),
        "i-1,i-2"
    );
    assert_eq!(
        inventory.instances[0].metadata_http_tokens.as_deref(),
        Some("required")
    );
    assert_eq!(
        ids(inventory.volumes.iter().map(|v| v.id.as_str()).collect()),
        "vol-1,vol-2"
    );
    assert!(inventory.ebs_encryption_defaults[0].enabled);
    // The second page was asked for with the first page's token.
    for (action, token) in [
        (SG_ACTION, "sg-page-2"),
        (INSTANCE_ACTION, "i-page-2"),
        (VOLUME_ACTION, "vol-page-2"),
    ] {
        let requests = replay.requests_with(action);
        assert_eq!(requests.len(), 2, "{requests:#?}");
        assert!(!requests[0].contains("NextToken="));
        assert!(requests[1].contains(&format!("NextToken={token}")));
    }
}

#[tokio::test]
async fn a_denied_list_is_recorded_and_the_other_lists_are_still_collected() {
    let replay = Replay::new()
        .on(&[SG_ACTION], [ok(&groups(&["sg-1"], None))])
        .on(
            &[INSTANCE_ACTION],
            [ec2_error(403, "UnauthorizedOperation")],
        )
        .on(&[VOLUME_ACTION], [ok(&volumes(&["vol-1"], None))])
        .on(&[EBS_ACTION], [ok(EBS_ON)]);
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    let denied = error_of(&collected.errors, "DescribeInstances");
    assert_eq!(collected.errors.len(), 1);
    assert_eq!(
        (denied.region.as_str(), denied.service, denied.code.as_str()),
        (REGION, Service::Ec2, "UnauthorizedOperation")
    );
    assert_eq!(
        denied.message,
        "access denied (UnauthorizedOperation: UnauthorizedOperation (recorded)); the credentials \
         in use need permission for ec2:DescribeInstances"
    );
    // Denied is not "there are none", and it is not retried.
    assert!(collected.inventory.instances.is_empty());
    assert_eq!(replay.requests_with(INSTANCE_ACTION).len(), 1);
    assert_eq!(collected.inventory.security_groups.len(), 1);
    assert_eq!(collected.inventory.volumes.len(), 1);
    assert_eq!(collected.inventory.ebs_encryption_defaults.len(), 1);
}

#[tokio::test]
async fn throttling_is_retried_then_recorded_as_transient() {
    let replay = Replay::new()
        .on(&[SG_ACTION], [ok(&groups(&["sg-1"], None))])
        .on(&[INSTANCE_ACTION], [ok(&instances(&["i-1"], None))])
        .always(&[VOLUME_ACTION], ec2_error(503, "RequestLimitExceeded"))
        .on(&[EBS_ACTION], [ok(EBS_ON)]);
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    let throttled = error_of(&collected.errors, "DescribeVolumes");
    assert_throttled(
        throttled,
        "RequestLimitExceeded",
        replay.requests_with(VOLUME_ACTION).len(),
    );
    assert_eq!(collected.errors.len(), 1);
    assert_eq!(collected.inventory.instances.len(), 1);
}

#[tokio::test]
async fn throttling_that_clears_within_the_retries_is_no_error() {
    let replay = Replay::new()
        .on(&[SG_ACTION], [ok(&groups(&["sg-1"], None))])
        .on(&[INSTANCE_ACTION], [ok(&instances(&["i-1"], None))])
        .on(
            &[VOLUME_ACTION],
            [
                ec2_error(503, "RequestLimitExceeded"),
                ok(&volumes(&["vol-1"], None)),
            ],
        )
        .on(&[EBS_ACTION], [ok(EBS_ON)]);
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    assert_eq!(collected.inventory.volumes.len(), 1);
    assert_eq!(replay.requests_with(VOLUME_ACTION).len(), 2);
}
