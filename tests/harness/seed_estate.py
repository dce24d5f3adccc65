#!/usr/bin/env python3
"""Seed a deliberately misconfigured AWS estate into a fresh moto server.

Usage:
    python tests/harness/seed_estate.py --endpoint http://127.0.0.1:5000 \
        --scale N --manifest out.json [--config-params] [--reset] [--workers W]

Every per-region set is created N times (copy index i = 0..N-1).  The manifest
maps logical names (``{name}#{i}``, ``default-sg@{region}``,
``{instance logical}/root``, ``account@{region}``) to the real identifiers
moto returned.  Names and tags are deterministic; moto's generated ids are not.

Requires Python 3.11, the standard library and boto3.  Exit codes: 0 success,
1 an AWS call failed while seeding, 2 preflight failed (endpoint unreachable,
server not fresh -- pass --reset --, bad arguments).

moto 5.2.1 quirks handled here (see /work/research/moto-facts.md):
  * S3 refuses cross-region access logging, so each region has a log bucket
    (cs-{i}-logs in eu-west-1 as specified, plus cs-{i}-logs-use1 and
    cs-{i}-logs-apse1);
  * PutBucketLogging crashes (HTTP 500) if the target bucket's policy has a
    string Principal, so log-bucket policies are put last;
  * MFADelete is accepted but never persisted: probed once at run time and
    reported as manifest["mfa_delete_supported"];
  * Ebs block-device mappings need an explicit VolumeSize.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Callable

try:
    import boto3
    import botocore.exceptions
    from botocore.config import Config
except ImportError:  # pragma: no cover
    print("seed_estate: boto3 is required (pip install boto3)", file=sys.stderr)
    sys.exit(2)

ACCOUNT_ID = "123456789012"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]
RDS_REGIONS = ["us-east-1", "ap-southeast-1"]
OWNER = {"Key": "Owner", "Value": "secops"}
# Present in every region of moto 5.x (amzn2-ami-hvm-2.0.20180810-x86_64-gp2, root /dev/xvda).
PREFERRED_AMI = "ami-04681a1dbd79675a5"
INSTANCE_TYPE = "t3.micro"
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/root-account-mfa-device 123456"
PREFIX_LIST_NAME = "cs-prefix-list"
PREFIX_LIST_CIDR = "10.1.0.0/16"
LOG_DELIVERY_ACL = "log-delivery-write"
# S3 refuses cross-region server access logging (CrossLocationLoggingProhibited,
# also on moto), so every region gets its own log target bucket.  eu-west-1 uses
# the cs-{i}-logs bucket of the spec; the others are extra targets.
LOG_BUCKET_SUFFIX = {"eu-west-1": "logs", "us-east-1": "logs-use1", "ap-southeast-1": "logs-apse1"}


class SeedError(Exception):
    pass


class Aborted(Exception):
    """Raised in worker threads once another task has failed."""


def tagset(logical: str | None, tagged: bool = True) -> list[dict[str, str]]:
    if not tagged:
        return []
    return [dict(OWNER), {"Key": "Name", "Value": logical}] if logical else [dict(OWNER)]


def tags_dict(tags: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags}


class Seeder:
    def __init__(self, endpoint: str, scale: int, workers: int) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.scale = scale
        self.workers = workers
        self.account = ACCOUNT_ID
        self.session = boto3.session.Session(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
        )
        self.config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=120,
            max_pool_connections=max(10, workers * 2),
            s3={"addressing_style": "path"},
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []
        self.region_ctx: dict[str, dict[str, Any]] = {}
        self.mfa_delete_supported: bool | None = None
        self.config_params: list[dict[str, str]] = []
        self.deferred_policies: list[tuple[str, str, str]] = []
        self.abort = threading.Event()

    # ------------------------------------------------------------------ utils
    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.session.client(
                    service, region_name=region, endpoint_url=self.endpoint, config=self.config
                )
            return self._clients[key]

    def add(self, **entry: Any) -> None:
        with self._lock:
            self.entries.append(entry)

    def call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        if self.abort.is_set():
            raise Aborted(what)
        try:
            return fn(**kwargs)
        except botocore.exceptions.ClientError as e:
            err = e.response.get("Error", {})
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            hint = ""
            if err.get("Code") in (
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
                "InvalidGroup.Duplicate",
                "DBInstanceAlreadyExists",
                "ParameterAlreadyExists",
            ):
                hint = " (server not fresh? use --reset or POST /moto-api/reset)"
            raise SeedError(
                f"{what}: {fn.__name__} failed: HTTP {status} {err.get('Code')}: {err.get('Message')}{hint}"
            ) from None
        except botocore.exceptions.BotoCoreError as e:
            raise SeedError(f"{what}: {fn.__name__} failed: {type(e).__name__}: {e}") from None

    def run_parallel(self, tasks: list[tuple[str, Callable[[], None]]]) -> None:
        """Run tasks on the pool; on the first failure stop starting new ones (fail fast)."""
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futs = {pool.submit(fn): name for name, fn in tasks}
            for fut in as_completed(futs):
                if fut.cancelled():
                    continue
                exc = fut.exception()
                if exc is None:
                    continue
                if isinstance(exc, Aborted):
                    continue
                errors.append(str(exc) if isinstance(exc, SeedError) else f"{futs[fut]}: {type(exc).__name__}: {exc}")
                self.abort.set()
                for other in futs:
                    other.cancel()
        if errors:
            raise SeedError("; ".join(sorted(errors)[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))

    # ------------------------------------------------------------- preflight
    def preflight(self) -> None:
        try:
            with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=5):
                pass
        except urllib.error.HTTPError:
            pass  # server answered; any HTTP status is fine here
        except (urllib.error.URLError, OSError) as e:
            raise SeedError(f"endpoint {self.endpoint} unreachable: {getattr(e, 'reason', e)}") from None
        ident = self.call("preflight", self.client("sts", "us-east-1").get_caller_identity)
        self.account = ident["Account"]

    def check_fresh(self) -> None:
        buckets = self.call("preflight", self.client("s3", "us-east-1").list_buckets).get("Buckets", [])
        clash = sorted(b["Name"] for b in buckets if b["Name"].startswith("cs-"))
        if clash:
            raise SeedError(
                f"server is not fresh: bucket(s) {', '.join(clash[:3])}{' ...' if len(clash) > 3 else ''} already exist; "
                "use --reset or POST /moto-api/reset"
            )

    def reset(self) -> None:
        req = urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                if r.status != 200:
                    raise SeedError(f"POST /moto-api/reset returned HTTP {r.status}")
        except (urllib.error.URLError, OSError) as e:
            raise SeedError(f"POST {self.endpoint}/moto-api/reset failed: {getattr(e, 'reason', e)}") from None

    # ------------------------------------------------------ per-region setup
    def setup_region(self, region: str) -> None:
        ec2 = self.client("ec2", region)
        what = f"setup {region}"
        vpcs = self.call(what, ec2.describe_vpcs, Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise SeedError(f"{what}: no default VPC")
        vpc_id = vpcs[0]["VpcId"]
        subnets = self.call(what, ec2.describe_subnets, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        if not subnets:
            raise SeedError(f"{what}: default VPC has no subnets")
        subnets.sort(key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))
        subnet = subnets[0]
        images = self.call(what, ec2.describe_images, ImageIds=[PREFERRED_AMI]).get("Images", []) if PREFERRED_AMI else []
        if not images:
            images = self.call(
                what,
                ec2.describe_images,
                Owners=["amazon"],
                Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]}],
            )["Images"]
            images.sort(key=lambda i: i["ImageId"])
        if not images:
            raise SeedError(f"{what}: no usable AMI")
        image = images[0]

        # default security group of the default VPC
        dsg = self.call(
            what,
            ec2.describe_security_groups,
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}],
        )["SecurityGroups"][0]
        dsg_tags: list[dict[str, str]] = dsg.get("Tags") or []
        attrs: dict[str, Any] = {"vpc_id": vpc_id, "modified": False}
        if region == "eu-west-1":
            if dsg.get("IpPermissionsEgress"):
                self.call(what, ec2.revoke_security_group_egress, GroupId=dsg["GroupId"], IpPermissions=dsg["IpPermissionsEgress"])
            if dsg.get("IpPermissions"):
                self.call(what, ec2.revoke_security_group_ingress, GroupId=dsg["GroupId"], IpPermissions=dsg["IpPermissions"])
            dsg_tags = [dict(OWNER)]
            self.call(what, ec2.create_tags, Resources=[dsg["GroupId"]], Tags=dsg_tags)
            attrs["modified"] = True
        self.add(
            logical=f"default-sg@{region}",
            region=region,
            type="default_security_group",
            id=dsg["GroupId"],
            arn=f"arn:aws:ec2:{region}:{self.account}:security-group/{dsg['GroupId']}",
            tags=tags_dict(dsg_tags),
            attrs=attrs,
        )

        # one managed prefix list per region
        pl_logical = f"{PREFIX_LIST_NAME}@{region}"
        pl = self.call(
            what,
            ec2.create_managed_prefix_list,
            PrefixListName=PREFIX_LIST_NAME,
            MaxEntries=5,
            AddressFamily="IPv4",
            Entries=[{"Cidr": PREFIX_LIST_CIDR, "Description": "compliance-scanner test prefix list"}],
            TagSpecifications=[{"ResourceType": "prefix-list", "Tags": tagset(pl_logical)}],
        )["PrefixList"]
        self.add(
            logical=pl_logical,
            region=region,
            type="prefix_list",
            id=pl["PrefixListId"],
            arn=pl.get("PrefixListArn") or f"arn:aws:ec2:{region}:{self.account}:prefix-list/{pl['PrefixListId']}",
            tags=tags_dict(tagset(pl_logical)),
            attrs={"entries": [PREFIX_LIST_CIDR]},
        )

        # EBS encryption by default: only us-east-1
        if region == "us-east-1":
            self.call(what, ec2.enable_ebs_encryption_by_default)
        ebs_default = self.call(what, ec2.get_ebs_encryption_by_default)["EbsEncryptionByDefault"]
        self.add(
            logical=f"account@{region}",
            region=region,
            type="account",
            id=self.account,
            arn=f"arn:aws:iam::{self.account}:root",
            tags={},
            attrs={"ebs_encryption_by_default": bool(ebs_default)},
        )

        self.region_ctx[region] = {
            "vpc_id": vpc_id,
            "subnet_id": subnet["SubnetId"],
            "az": subnet["AvailabilityZone"],
            "ami": image["ImageId"],
            "root_device": image.get("RootDeviceName") or "/dev/xvda",
            "prefix_list_id": pl["PrefixListId"],
        }

    # ------------------------------------------------------- security groups
    def seed_security_groups(self, region: str, i: int) -> None:
        ec2 = self.client("ec2", region)
        ctx = self.region_ctx[region]
        v4 = [{"CidrIp": "0.0.0.0/0"}]
        v6 = [{"CidrIpv6": "::/0"}]

        def tcp(lo: int, hi: int, **src: Any) -> dict[str, Any]:
            return {"IpProtocol": "tcp", "FromPort": lo, "ToPort": hi, **src}

        ids: dict[str, str] = {}

        def make(name: str, perms: list[dict[str, Any]], tagged: bool = True) -> None:
            logical = f"{name}#{i}"
            what = f"{region} {logical}"
            kw: dict[str, Any] = {}
            tags = tagset(logical, tagged)
            if tags:
                kw["TagSpecifications"] = [{"ResourceType": "security-group", "Tags": tags}]
            gid = self.call(
                what,
                ec2.create_security_group,
                GroupName=f"{name}-{i}",
                Description=f"compliance-scanner seed {logical}",
                VpcId=ctx["vpc_id"],
                **kw,
            )["GroupId"]
            if perms:
                self.call(what, ec2.authorize_security_group_ingress, GroupId=gid, IpPermissions=perms)
            ids[name] = gid
            self.add(
                logical=logical,
                region=region,
                type="security_group",
                id=gid,
                arn=f"arn:aws:ec2:{region}:{self.account}:security-group/{gid}",
                tags=tags_dict(tags),
                attrs={"group_name": f"{name}-{i}", "vpc_id": ctx["vpc_id"]},
            )

        make("sg-ssh-open-v4", [tcp(22, 22, IpRanges=v4)])
        make("sg-rdp-open-v6", [tcp(3389, 3389, Ipv6Ranges=v6)])
        make("sg-all-traffic", [{"IpProtocol": "-1", "IpRanges": v4}])
        make("sg-wide-range-v6", [tcp(0, 65535, Ipv6Ranges=v6)])
        make("sg-mysql-open", [tcp(3306, 3306, IpRanges=v4)])
        make("sg-range-20-23", [tcp(20, 23, IpRanges=v4)])
        make("sg-ssh-private", [tcp(22, 22, IpRanges=[{"CidrIp": "10.0.0.0/8"}])])
        make("sg-ssh-from-sg", [tcp(22, 22, UserIdGroupPairs=[{"GroupId": ids["sg-ssh-private"]}])])
        make("sg-ssh-prefix-list", [tcp(22, 22, PrefixListIds=[{"PrefixListId": ctx["prefix_list_id"]}])])
        make("sg-https-open", [tcp(443, 443, IpRanges=v4, Ipv6Ranges=v6)])
        make("sg-udp-22-open", [{"IpProtocol": "udp", "FromPort": 22, "ToPort": 22, "IpRanges": v4}])
        make("sg-untagged", [], tagged=False)

    # -------------------------------------------------------------- instances
    def seed_instances(self, region: str, i: int) -> None:
        ec2 = self.client("ec2", region)
        ctx = self.region_ctx[region]

        def launch(name: str, *, hardened: bool, http_tokens: str, http_endpoint: str | None,
                   tag_instance: bool, terminate: bool = False) -> None:
            logical = f"{name}#{i}"
            root_logical = f"{logical}/root"
            what = f"{region} {logical}"
            inst_tags = tagset(logical, tag_instance)
            vol_tags = tagset(root_logical)
            tag_specs = [{"ResourceType": "volume", "Tags": vol_tags}]
            if inst_tags:
                tag_specs.insert(0, {"ResourceType": "instance", "Tags": inst_tags})
            kw: dict[str, Any] = {
                "ImageId": ctx["ami"],
                "InstanceType": INSTANCE_TYPE,
                "MinCount": 1,
                "MaxCount": 1,
                "TagSpecifications": tag_specs,
            }
            if http_endpoint is not None:
                kw["MetadataOptions"] = {"HttpTokens": http_tokens, "HttpEndpoint": http_endpoint}
            if hardened:
                kw["NetworkInterfaces"] = [
                    {"DeviceIndex": 0, "SubnetId": ctx["subnet_id"], "AssociatePublicIpAddress": False}
                ]
                # moto rejects Ebs without VolumeSize/SnapshotId (MissingParameter)
                kw["BlockDeviceMappings"] = [
                    {
                        "DeviceName": ctx["root_device"],
                        "Ebs": {"Encrypted": True, "VolumeSize": 8, "VolumeType": "gp3", "DeleteOnTermination": True},
                    }
                ]
            inst = self.call(what, ec2.run_instances, **kw)["Instances"][0]
            iid = inst["InstanceId"]
            root_vol = None
            for bdm in inst.get("BlockDeviceMappings", []):
                if bdm.get("DeviceName") == inst.get("RootDeviceName", ctx["root_device"]) and "Ebs" in bdm:
                    root_vol = bdm["Ebs"]["VolumeId"]
            if root_vol is None and inst.get("BlockDeviceMappings"):
                root_vol = inst["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
            if root_vol is None:
                vols = self.call(
                    what, ec2.describe_volumes, Filters=[{"Name": "attachment.instance-id", "Values": [iid]}]
                )["Volumes"]
                root_vol = vols[0]["VolumeId"] if vols else None
            state = "running"
            if terminate:
                self.call(what, ec2.terminate_instances, InstanceIds=[iid])
                state = "terminated"
            self.add(
                logical=logical,
                region=region,
                type="instance",
                id=iid,
                arn=f"arn:aws:ec2:{region}:{self.account}:instance/{iid}",
                tags=tags_dict(inst_tags),
                attrs={
                    "state": state,
                    "public_ip": bool(inst.get("PublicIpAddress")),
                    "http_tokens": (inst.get("MetadataOptions") or {}).get("HttpTokens"),
                    "http_endpoint": (inst.get("MetadataOptions") or {}).get("HttpEndpoint"),
                    "root_encrypted": hardened,
                },
            )
            if root_vol:
                entry: dict[str, Any] = {
                    "logical": root_logical,
                    "region": region,
                    "type": "volume",
                    "id": root_vol,
                    "arn": f"arn:aws:ec2:{region}:{self.account}:volume/{root_vol}",
                    "tags": tags_dict(vol_tags),
                    "attrs": {"encrypted": hardened, "root_of": logical},
                }
                if terminate:
                    # DeleteOnTermination: moto deletes the root volume with the instance
                    entry["deleted"] = True
                self.add(**entry)

        launch("i-legacy", hardened=False, http_tokens="optional", http_endpoint=None, tag_instance=True)
        launch("i-hardened", hardened=True, http_tokens="required", http_endpoint="enabled", tag_instance=True)
        launch("i-imds-disabled", hardened=True, http_tokens="optional", http_endpoint="disabled", tag_instance=True)
        launch("i-untagged", hardened=True, http_tokens="required", http_endpoint="enabled", tag_instance=False)
        launch("i-terminated", hardened=False, http_tokens="optional", http_endpoint=None, tag_instance=True,
               terminate=True)

    # ---------------------------------------------------------------- volumes
    def seed_volumes(self, region: str, i: int) -> None:
        ec2 = self.client("ec2", region)
        ctx = self.region_ctx[region]
        for name, encrypted, tagged in (
            ("vol-unencrypted", False, True),
            ("vol-encrypted", True, True),
            ("vol-untagged", True, False),
        ):
            logical = f"{name}#{i}"
            tags = tagset(logical, tagged)
            kw: dict[str, Any] = {}
            if tags:
                kw["TagSpecifications"] = [{"ResourceType": "volume", "Tags": tags}]
            vid = self.call(
                f"{region} {logical}",
                ec2.create_volume,
                AvailabilityZone=ctx["az"],
                Size=8,
                VolumeType="gp3",
                Encrypted=encrypted,
                **kw,
            )["VolumeId"]
            self.add(
                logical=logical,
                region=region,
                type="volume",
                id=vid,
                arn=f"arn:aws:ec2:{region}:{self.account}:volume/{vid}",
                tags=tags_dict(tags),
                attrs={"encrypted": encrypted, "availability_zone": ctx["az"]},
            )

    # -------------------------------------------------------------------- RDS
    def seed_db(self, region: str, i: int, name: str) -> None:
        rds = self.client("rds", region)
        logical = f"{name}#{i}"
        insecure = name == "db-insecure"
        tags = tagset(logical, name != "db-untagged")
        flags = {
            "PubliclyAccessible": insecure,
            "StorageEncrypted": not insecure,
            "BackupRetentionPeriod": 0 if insecure else 7,
            "DeletionProtection": not insecure,
            "MultiAZ": not insecure,
            "AutoMinorVersionUpgrade": not insecure,
            "EnableIAMDatabaseAuthentication": not insecure,
            "CopyTagsToSnapshot": not insecure,
        }
        db = self.call(
            f"{region} {logical}",
            rds.create_db_instance,
            DBInstanceIdentifier=f"{name}-{i}",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="csadmin",
            MasterUserPassword="NotARealPassword-123",
            Tags=tags,
            **flags,
        )["DBInstance"]
        self.add(
            logical=logical,
            region=region,
            type="db_instance",
            id=db["DBInstanceIdentifier"],
            arn=db["DBInstanceArn"],
            tags=tags_dict(tags),
            attrs=dict(flags),
        )

    # --------------------------------------------------------------------- S3
    def bucket_specs(self, i: int) -> list[dict[str, Any]]:
        """Ordered: log-target buckets first (other buckets log into them)."""
        logs = [
            {"name": LOG_BUCKET_SUFFIX[r], "region": r, "logging": False, "acl": LOG_DELIVERY_ACL, "log_target": True}
            for r in ("eu-west-1", "us-east-1", "ap-southeast-1")
        ]
        return logs + [
            {"name": "hardened", "region": "us-east-1"},
            {"name": "no-encryption", "region": "ap-southeast-1", "encryption": False},
            {"name": "partial-pab", "region": "us-east-1", "pab": (True, True, False, True)},
            {"name": "public-acl", "region": "eu-west-1", "pab": None, "acl": "public-read"},
            {"name": "acl-neutralized", "region": "us-east-1", "acl": "public-read"},
            {"name": "public-policy", "region": "ap-southeast-1", "pab": (False, False, False, False), "policy": "public"},
            {"name": "policy-vpce", "region": "us-east-1", "pab": (False, False, False, False), "policy": "vpce"},
            {"name": "no-tls", "region": "eu-west-1", "policy": None},
            {"name": "unversioned", "region": "ap-southeast-1", "versioning": False},
            {"name": "untagged", "region": "us-east-1", "tagged": False},
            {"name": "no-mfa", "region": "eu-west-1", "mfa": False},
        ]

    def seed_bucket(self, i: int, spec: dict[str, Any]) -> None:
        region = spec["region"]
        s3 = self.client("s3", region)
        bucket = f"cs-{i}-{spec['name']}"
        logical = f"cs-{spec['name']}#{i}"
        what = f"{region} {logical} ({bucket})"
        arn = f"arn:aws:s3:::{bucket}"
        encryption = spec.get("encryption", True)
        pab = spec.get("pab", (True, True, True, True))
        acl = spec.get("acl")
        versioning = spec.get("versioning", True)
        mfa = spec.get("mfa", True)
        logging_on = spec.get("logging", True)
        policy_kind = spec.get("policy", "tls")
        tagged = spec.get("tagged", True)

        kw: dict[str, Any] = {}
        if region != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.call(what, s3.create_bucket, Bucket=bucket, **kw)
        if acl:  # before the PAB (acl-neutralized: public ACL put first, then blocked)
            self.call(what, s3.put_bucket_acl, Bucket=bucket, ACL=acl)
        if encryption:
            self.call(
                what,
                s3.put_bucket_encryption,
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
        if pab is not None:
            self.call(
                what,
                s3.put_public_access_block,
                Bucket=bucket,
                PublicAccessBlockConfiguration=dict(
                    zip(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), pab)
                ),
            )
        mfa_requested = False
        if versioning:
            vkw: dict[str, Any] = {"VersioningConfiguration": {"Status": "Enabled"}}
            if mfa and self.mfa_delete_supported is not False:
                vkw = {"VersioningConfiguration": {"Status": "Enabled", "MFADelete": "Enabled"}, "MFA": MFA_SERIAL}
                mfa_requested = True
            self.call(what, s3.put_bucket_versioning, Bucket=bucket, **vkw)
        if logging_on:
            target = f"cs-{i}-{LOG_BUCKET_SUFFIX[region]}"
            self.call(
                what,
                s3.put_bucket_logging,
                Bucket=bucket,
                BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": f"{bucket}/"}},
            )
        policy: dict[str, Any] | None = None
        tls_deny = {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        if policy_kind == "tls":
            policy = {"Version": "2012-10-17", "Statement": [tls_deny]}
        elif policy_kind == "public":
            policy = {
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": f"{arn}/*"},
            }
        elif policy_kind == "vpce":
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    tls_deny,
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["s3:GetObject"],
                        "Resource": f"{arn}/*",
                        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
                    },
                ],
            }
        if policy is not None:
            if spec.get("log_target"):
                # moto 5.2.1 answers HTTP 500 to PutBucketLogging when the *target* bucket
                # has a policy statement whose Principal is a string ("*"), so log-target
                # policies are put after every other bucket has enabled logging.
                with self._lock:
                    self.deferred_policies.append((region, bucket, json.dumps(policy)))
            else:
                self.call(what, s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(policy))
        tags = tagset(logical, tagged)
        if tags:
            self.call(what, s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tags})
        self.add(
            logical=logical,
            region=region,
            type="bucket",
            id=bucket,
            arn=arn,
            tags=tags_dict(tags),
            attrs={
                "encryption": "AES256" if encryption else None,
                "public_access_block": None
                if pab is None
                else dict(zip(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), pab)),
                "acl": acl or "private",
                "versioning": "Enabled" if versioning else None,
                "mfa_delete_requested": mfa_requested,
                "logging_target": f"cs-{i}-{LOG_BUCKET_SUFFIX[region]}" if logging_on else None,
                "policy": policy_kind,
                "log_target": bool(spec.get("log_target")),
            },
        )

    def probe_mfa_delete(self) -> None:
        """Decide once whether the server persists MFADelete (moto 5.2.1 does not)."""
        s3 = self.client("s3", "us-east-1")
        probe = "cs-probe-mfa-delete"
        self.call("mfa probe", s3.create_bucket, Bucket=probe)
        try:
            self.call(
                "mfa probe",
                s3.put_bucket_versioning,
                Bucket=probe,
                MFA=MFA_SERIAL,
                VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
            )
            got = self.call("mfa probe", s3.get_bucket_versioning, Bucket=probe)
            self.mfa_delete_supported = got.get("MFADelete") == "Enabled"
        except SeedError:
            self.mfa_delete_supported = False
        finally:
            try:
                s3.delete_bucket(Bucket=probe)
            except botocore.exceptions.ClientError:
                pass

    # ------------------------------------------------------------ SSM params
    def seed_config_params(self) -> None:
        ssm = self.client("ssm", "us-east-1")
        for name, value in (
            ("/compliance/scanner/config/regions", ",".join(REGIONS)),
            ("/compliance/scanner/config/required-tags", "Owner"),
        ):
            self.call(f"ssm {name}", ssm.put_parameter, Name=name, Value=value, Type="StringList", Overwrite=True)
            self.config_params.append({"name": name, "type": "StringList", "value": value, "region": "us-east-1"})

    # ------------------------------------------------------------------- main
    def run(self, estate: bool, config_params: bool) -> dict[str, Any]:
        if estate:
            self.run_parallel([(f"setup {r}", (lambda r=r: self.setup_region(r))) for r in REGIONS])
            self.probe_mfa_delete()
            # log-target buckets first, then everything else in one pool
            logs_tasks = []
            other_tasks: list[tuple[str, Callable[[], None]]] = []
            for i in range(self.scale):
                for spec in self.bucket_specs(i):
                    t = (f"bucket {spec['name']}#{i}", (lambda i=i, spec=spec: self.seed_bucket(i, spec)))
                    (logs_tasks if spec.get("log_target") else other_tasks).append(t)
            self.run_parallel(logs_tasks)
            for i in range(self.scale):
                for r in REGIONS:
                    other_tasks.append((f"sgs {r}#{i}", (lambda r=r, i=i: self.seed_security_groups(r, i))))
                    other_tasks.append((f"instances {r}#{i}", (lambda r=r, i=i: self.seed_instances(r, i))))
                    other_tasks.append((f"volumes {r}#{i}", (lambda r=r, i=i: self.seed_volumes(r, i))))
                for r in RDS_REGIONS:
                    for name in ("db-insecure", "db-hardened", "db-untagged"):
                        other_tasks.append(
                            (f"{name} {r}#{i}", (lambda r=r, i=i, name=name: self.seed_db(r, i, name)))
                        )
            # interleave so slow EC2 batches start early
            other_tasks.sort(key=lambda t: 0 if t[0].startswith(("instances", "sgs")) else 1)
            self.run_parallel(other_tasks)
            self.run_parallel(
                [
                    (
                        f"policy {b}",
                        (lambda r=r, b=b, p=p: self.call(
                            f"{r} {b}", self.client("s3", r).put_bucket_policy, Bucket=b, Policy=p
                        )),
                    )
                    for r, b, p in self.deferred_policies
                ]
            )
            self.add(
                logical="account",
                region="global",
                type="account",
                id=self.account,
                arn=f"arn:aws:iam::{self.account}:root",
                tags={},
                attrs={"s3_account_public_access_block": None},
            )
        if config_params:
            self.seed_config_params()

        order = {r: n for n, r in enumerate(REGIONS + ["global"])}
        self.entries.sort(key=lambda e: (order.get(e["region"], 99), e["type"], e["logical"]))
        return {
            "version": 1,
            "account": self.account,
            "endpoint": self.endpoint,
            "scale": self.scale,
            "regions": REGIONS,
            "rds_regions": RDS_REGIONS,
            "required_tags": ["Owner"],
            "mfa_delete_supported": self.mfa_delete_supported,
            "log_buckets": {r: [f"cs-{i}-{LOG_BUCKET_SUFFIX[r]}" for i in range(self.scale)] for r in REGIONS}
            if estate
            else {},
            "resources": self.entries,
            "config_params": self.config_params,
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--scale", type=int, default=1, help="copies of every per-region set (default 1)")
    ap.add_argument("--manifest", help="write the manifest JSON here (default: stdout)")
    ap.add_argument("--config-params", action="store_true",
                    help="also put /compliance/scanner/config/{regions,required-tags} in SSM (us-east-1)")
    ap.add_argument("--no-estate", action="store_true", help="skip the estate (e.g. with --config-params only)")
    ap.add_argument("--reset", action="store_true", help="POST /moto-api/reset before seeding")
    ap.add_argument("--workers", type=int, default=8, help="thread pool size (default 8)")
    args = ap.parse_args(argv)
    if args.scale < 1 or args.workers < 1:
        print("seed_estate: --scale and --workers must be >= 1", file=sys.stderr)
        return 2
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

    seeder = Seeder(args.endpoint, args.scale, args.workers)
    t0 = time.monotonic()
    try:
        if args.reset:
            seeder.reset()
        seeder.preflight()
        if not args.no_estate:
            seeder.check_fresh()
    except SeedError as e:
        print(f"seed_estate: {e}", file=sys.stderr)
        return 2
    try:
        manifest = seeder.run(estate=not args.no_estate, config_params=args.config_params)
    except SeedError as e:
        print(f"seed_estate: seeding failed: {e}", file=sys.stderr)
        return 1
    manifest["seed_seconds"] = round(time.monotonic() - t0, 3)
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    if args.manifest:
        tmp = args.manifest + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.manifest)
        print(
            f"seed_estate: {len(manifest['resources'])} resources, scale {args.scale}, "
            f"{manifest['seed_seconds']}s -> {args.manifest}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
