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

/// Every list call of ec2_network.rs and ec2_storage.rs, with the root and list elements of an
/// empty answer.
const NETWORK_CALLS: &[(&str, &str, &str)] = &[
    ("DescribeVpcs", "DescribeVpcsResponse", "vpcSet"),
    ("DescribeFlowLogs", "DescribeFlowLogsResponse", "flowLogSet"),
    (
        "DescribeVpcEndpoints",
        "DescribeVpcEndpointsResponse",
        "vpcEndpointSet",
    ),
    ("DescribeSubnets", "DescribeSubnetsResponse", "subnetSet"),
    (
        "DescribeNetworkAcls",
        "DescribeNetworkAclsResponse",
        "networkAclSet",
    ),
    (
        "DescribeNetworkInterfaces",
        "DescribeNetworkInterfacesResponse",
        "networkInterfaceSet",
    ),
    (
        "DescribeLaunchTemplateVersions",
        "DescribeLaunchTemplateVersionsResponse",
        "launchTemplateVersionSet",
    ),
    (
        "DescribeSnapshots",
        "DescribeSnapshotsResponse",
        "snapshotSet",
    ),
    (
        "GetSnapshotBlockPublicAccessState",
        "GetSnapshotBlockPublicAccessStateResponse",
        "managedBy",
    ),
    (
        "DescribeVpcBlockPublicAccessOptions",
        "DescribeVpcBlockPublicAccessOptionsResponse",
        "vpcBlockPublicAccessOptions",
    ),
];

fn action(name: &str) -> String {
    format!("Action={name}&")
}

/// Empty answers for the calls a test does not look at.
fn with_empty_network(replay: Replay) -> Replay {
    NETWORK_CALLS
        .iter()
        .fold(replay, |replay, (name, root, list)| {
            replay.always(
                &[&action(name)],
                ok(&format!(
                    "<{root}><requestId>r</requestId><{list}/></{root}>"
                )),
            )
        })
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
    let replay = with_empty_network(replay);
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
    let replay = with_empty_network(replay);
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
    let replay = with_empty_network(replay);
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
    let replay = with_empty_network(replay);
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    assert_eq!(collected.inventory.volumes.len(), 1);
    assert_eq!(replay.requests_with(VOLUME_ACTION).len(), 2);
}

fn basics() -> Replay {
    Replay::new()
        .on(&[SG_ACTION], [ok(&groups(&[], None))])
        .on(
            &[INSTANCE_ACTION],
            [ok(
                "<DescribeInstancesResponse><requestId>r</requestId><reservationSet><item>\
                 <reservationId>r-1</reservationId><instancesSet><item><instanceId>i-1</instanceId>\
                 <instanceState><code>80</code><name>stopped</name></instanceState>\
                 <reason>User initiated (2026-01-02 03:04:05 GMT)</reason>\
                 <launchTime>2025-12-01T00:00:00.000Z</launchTime>\
                 <virtualizationType>paravirtual</virtualizationType>\
                 <networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId></item>\
                 <item><networkInterfaceId>eni-2</networkInterfaceId></item></networkInterfaceSet>\
                 </item></instancesSet></item></reservationSet></DescribeInstancesResponse>",
            )],
        )
        .on(&[VOLUME_ACTION], [ok(&volumes(&[], None))])
        .on(&[EBS_ACTION], [ok(EBS_ON)])
}

#[tokio::test]
async fn network_storage_and_instance_details_are_collected_once_per_region() {
    let replay = basics()
        .on(
            &[&action("DescribeVpcs")],
            [ok("<DescribeVpcsResponse><requestId>r</requestId><vpcSet>\
                 <item><vpcId>vpc-1</vpcId><isDefault>true</isDefault></item>\
                 <item><vpcId>vpc-2</vpcId><isDefault>false</isDefault></item>\
                 </vpcSet></DescribeVpcsResponse>")],
        )
        .on(
            &[&action("DescribeFlowLogs")],
            [ok("<DescribeFlowLogsResponse><requestId>r</requestId><flowLogSet>\
                 <item><flowLogId>fl-1</flowLogId><resourceId>vpc-1</resourceId>\
                 <trafficType>REJECT</trafficType><flowLogStatus>ACTIVE</flowLogStatus></item>\
                 <item><flowLogId>fl-2</flowLogId><resourceId>subnet-9</resourceId>\
                 <trafficType>ALL</trafficType></item>\
                 </flowLogSet></DescribeFlowLogsResponse>")],
        )
        .on(
            &[&action("DescribeVpcEndpoints")],
            [ok("<DescribeVpcEndpointsResponse><requestId>r</requestId><vpcEndpointSet>\
                 <item><vpcEndpointId>vpce-1</vpcEndpointId><vpcId>vpc-2</vpcId>\
                 <serviceName>com.amazonaws.us-east-1.ssm</serviceName>\
                 <vpcEndpointType>Interface</vpcEndpointType><state>available</state></item>\
                 </vpcEndpointSet></DescribeVpcEndpointsResponse>")],
        )
        .on(
            &[&action("DescribeSubnets")],
            [ok("<DescribeSubnetsResponse><requestId>r</requestId><subnetSet><item>\
                 <subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId><defaultForAz>true</defaultForAz>\
                 <mapPublicIpOnLaunch>true</mapPublicIpOnLaunch>\
                 <assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation>\
                 <subnetArn>arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1</subnetArn>\
                 </item></subnetSet></DescribeSubnetsResponse>")],
        )
        .on(
            &[&action("DescribeNetworkAcls")],
            [ok("<DescribeNetworkAclsResponse><requestId>r</requestId><networkAclSet><item>\
                 <networkAclId>acl-1</networkAclId><vpcId>vpc-1</vpcId><default>true</default>\
                 <entrySet><item><ruleNumber>100</ruleNumber><protocol>6</protocol>\
                 <ruleAction>allow</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock>\
                 <portRange><from>22</from><to>22</to></portRange></item></entrySet>\
                 <associationSet><item><networkAclAssociationId>aclassoc-1</networkAclAssociationId>\
                 <networkAclId>acl-1</networkAclId><subnetId>subnet-1</subnetId></item></associationSet>\
                 </item></networkAclSet></DescribeNetworkAclsResponse>")],
        )
        .on(
            &[&action("DescribeNetworkInterfaces")],
            [ok("<DescribeNetworkInterfacesResponse><requestId>r</requestId><networkInterfaceSet><item>\
                 <networkInterfaceId>eni-1</networkInterfaceId><interfaceType>interface</interfaceType>\
                 <sourceDestCheck>false</sourceDestCheck><requesterManaged>false</requesterManaged>\
                 <attachment><instanceId>i-1</instanceId></attachment>\
                 </item></networkInterfaceSet></DescribeNetworkInterfacesResponse>")],
        )
        .on(
            &[&action("DescribeLaunchTemplateVersions")],
            [ok("<DescribeLaunchTemplateVersionsResponse><requestId>r</requestId>\
                 <launchTemplateVersionSet><item><launchTemplateId>lt-1</launchTemplateId>\
                 <launchTemplateName>web</launchTemplateName><versionNumber>3</versionNumber>\
                 <defaultVersion>true</defaultVersion><launchTemplateData>\
                 <metadataOptions><httpTokens>optional</httpTokens></metadataOptions>\
                 <networkInterfaceSet><item><deviceIndex>0</deviceIndex>\
                 <associatePublicIpAddress>true</associatePublicIpAddress></item></networkInterfaceSet>\
                 <blockDeviceMappingSet><item><deviceName>/dev/xvda</deviceName>\
                 <ebs><encrypted>false</encrypted></ebs></item></blockDeviceMappingSet>\
                 </launchTemplateData></item></launchTemplateVersionSet>\
                 </DescribeLaunchTemplateVersionsResponse>")],
        )
        .on(
            &[&action("DescribeSnapshots")],
            [ok("<DescribeSnapshotsResponse><requestId>r</requestId><snapshotSet>\
                 <item><snapshotId>snap-2</snapshotId></item><item><snapshotId>snap-1</snapshotId></item>\
                 </snapshotSet></DescribeSnapshotsResponse>")],
        )
        .on(
            &[&action("GetSnapshotBlockPublicAccessState")],
            [ok("<GetSnapshotBlockPublicAccessStateResponse><requestId>r</requestId>\
                 <state>block-new-sharing</state><managedBy>account</managedBy>\
                 </GetSnapshotBlockPublicAccessStateResponse>")],
        )
        .on(
            &[&action("DescribeVpcBlockPublicAccessOptions")],
            [ok("<DescribeVpcBlockPublicAccessOptionsResponse><requestId>r</requestId>\
                 <vpcBlockPublicAccessOptions><awsAccountId>123456789012</awsAccountId>\
                 <awsRegion>us-east-1</awsRegion><state>update-complete</state>\
                 <internetGatewayBlockMode>block-ingress</internetGatewayBlockMode>\
                 </vpcBlockPublicAccessOptions></DescribeVpcBlockPublicAccessOptionsResponse>")],
        );
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    assert!(collected.errors.is_empty(), "{:#?}", collected.errors);
    let inv = &collected.inventory;
    let instance = &inv.instances[0];
    assert_eq!(
        instance.state_transition_reason.as_deref(),
        Some("User initiated (2026-01-02 03:04:05 GMT)")
    );
    assert_eq!(
        instance.launch_time.as_deref(),
        Some("2025-12-01T00:00:00Z")
    );
    assert!(instance.read_at.is_some());
    assert_eq!(instance.network_interface_count, 2);
    assert_eq!(instance.virtualization_type.as_deref(), Some("paravirtual"));
    // Flow logs and endpoints are joined to their VPCs; subnet-level flow logs are not VPC ones.
    assert_eq!(inv.vpcs.len(), 2);
    let vpc1 = inv.vpcs.iter().find(|v| v.id == "vpc-1").unwrap();
    assert!(vpc1.is_default);
    assert_eq!(
        vpc1.arn,
        format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-1")
    );
    assert_eq!(vpc1.flow_logs.as_ref().unwrap()[0].traffic_type, "REJECT");
    assert_eq!(vpc1.endpoints.as_deref(), Some(&[][..]));
    let vpc2 = inv.vpcs.iter().find(|v| v.id == "vpc-2").unwrap();
    assert_eq!(vpc2.flow_logs.as_deref(), Some(&[][..]));
    assert_eq!(
        vpc2.endpoints.as_ref().unwrap()[0].service_name,
        "com.amazonaws.us-east-1.ssm"
    );
    assert!(inv.subnets[0].map_public_ip_on_launch && inv.subnets[0].default_for_az);
    let acl = &inv.network_acls[0];
    assert!(acl.is_default);
    assert_eq!(acl.subnet_ids, ["subnet-1"]);
    assert_eq!(
        (acl.entries[0].port_from, acl.entries[0].port_to),
        (Some(22), Some(22))
    );
    assert_eq!(acl.entries[0].rule_action, "allow");
    let eni = &inv.network_interfaces[0];
    assert_eq!(
        (eni.interface_type.as_str(), eni.source_dest_check),
        ("interface", Some(false))
    );
    let template = &inv.launch_templates[0];
    assert_eq!(
        (template.id.as_str(), template.default_version),
        ("lt-1", Some(3))
    );
    assert_eq!(
        template.data.metadata_http_tokens.as_deref(),
        Some("optional")
    );
    assert_eq!(
        template.data.network_interfaces[0].associate_public_ip_address,
        Some(true)
    );
    assert_eq!(template.data.ebs_volumes[0].encrypted, Some(false));
    assert_eq!(
        inv.ebs_snapshot_sharing[0].public_snapshot_ids,
        ["snap-1", "snap-2"]
    );
    // One call each per region, with the filters that make them cheap.
    for (name, _, _) in NETWORK_CALLS {
        assert_eq!(replay.requests_with(&action(name)).len(), 1, "{name}");
    }
    let snapshots = &replay.requests_with(&action("DescribeSnapshots"))[0];
    assert!(
        snapshots.contains("Owner.1=self") && snapshots.contains("RestorableBy.1=all"),
        "{snapshots}"
    );
    let versions = &replay.requests_with(&action("DescribeLaunchTemplateVersions"))[0];
    assert!(
        versions.contains("LaunchTemplateVersion.1=%24Default"),
        "{versions}"
    );
    assert!(!versions.contains("LaunchTemplateId"), "{versions}");
}

#[tokio::test]
async fn a_denied_flow_log_listing_leaves_flow_logs_unknown() {
    let replay = basics()
        .on(
            &[&action("DescribeVpcs")],
            [ok("<DescribeVpcsResponse><requestId>r</requestId><vpcSet>\
                 <item><vpcId>vpc-1</vpcId><isDefault>true</isDefault></item>\
                 </vpcSet></DescribeVpcsResponse>")],
        )
        .on(
            &[&action("DescribeFlowLogs")],
            [ec2_error(403, "UnauthorizedOperation")],
        );
    let replay = with_empty_network(replay);
    let collector = Ec2Collector::new(replay.factory());

    let collected = collector.collect(ACCOUNT, REGION).await;

    assert_eq!(collected.errors.len(), 1, "{:#?}", collected.errors);
    error_of(&collected.errors, "DescribeFlowLogs");
    let vpc = &collected.inventory.vpcs[0];
    assert_eq!(vpc.flow_logs, None, "unknown, not 'no flow logs'");
    assert_eq!(vpc.endpoints.as_deref(), Some(&[][..]));
}
