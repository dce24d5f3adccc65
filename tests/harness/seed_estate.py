#!/usr/bin/env python3
"""Seed the test estate (tests/estate/estate.json) into a fresh moto server.

Usage:
    python tests/harness/seed_estate.py --endpoint http://127.0.0.1:5000 \
        --scale N --manifest out.json [--estate FILE] [--config-params] [--reset] [--workers W]
        [--organization [FILE] [--members N]]

The estate file lists every resource with the API parameters that make it and the findings the
scanner must report for it (format: tests/estate/README.md). This script creates what it lists:
one-per-region kinds once in every region of an entry, the other kinds N times (copy index
i = 0..N-1). The manifest it writes maps logical names (``{name}#{i}``, ``{name}@{region}``,
``{instance logical}/root``) to the identifiers moto returned, and names the estate file, so
the Rust tests derive the expected findings from the two (tests/harness/emulator.rs).

With --organization (tests/estate/organization.json by default) the caller's account also
creates an organization and manages it: its OUs, its member accounts (CreateAccount) and each
member's estate, seeded with the credentials of sts:AssumeRole into the member role; members
marked unreachable get no estate, and the emulator is told to deny AssumeRole into them
(POST /_harness/deny-assume-role: emulator.py only). The manifest gains an "organization"
section (accounts with id, name, role, reachable, and each member's estate and resources in
the single-account form); --config-params also puts /compliance/scanner/config/accounts.
--members N (bench/org.py) seeds N reachable members instead of the file's, copies of its
reachable members in turn, plus its unreachable ones.

Requires Python 3.11, the standard library and boto3.  Exit codes: 0 success,
1 an AWS call failed while seeding, 2 preflight failed (endpoint unreachable,
server not fresh -- pass --reset --, bad arguments or a bad estate file).

moto 5.2.1 quirks handled here (each checked against that version):
  * S3 refuses cross-region access logging, so each region has a log target bucket
    (``log_target`` in the estate file), created before the buckets that log into it;
  * PutBucketLogging crashes (HTTP 500) if the target bucket's policy has a
    string Principal, so log-target policies are put last;
  * Ebs block-device mappings need an explicit VolumeSize.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable

try:
    import boto3
    import botocore.exceptions
    from botocore.config import Config
except ImportError:  # pragma: no cover
    print("seed_estate: boto3 is required (pip install boto3)", file=sys.stderr)
    sys.exit(2)

ACCOUNT_ID = "123456789012"
DEFAULT_ESTATE = Path(__file__).resolve().parents[1] / "estate" / "estate.json"
# Present in every region of moto 5.x (amzn2-ami-hvm-2.0.20180810-x86_64-gp2, root /dev/xvda).
PREFERRED_AMI = "ami-04681a1dbd79675a5"
# The AWS service whose client creates each kind (a call named "service.method" picks another).
SERVICE = {
    "default_security_group": "ec2",
    "prefix_list": "ec2",
    "account": "ec2",
    "security_group": "ec2",
    "instance": "ec2",
    "volume": "ec2",
    "db_instance": "rds",
    "db_cluster": "rds",
    "db_snapshot": "rds",
    "db_cluster_snapshot": "rds",
    "db_event_subscription": "rds",
    "bucket": "s3",
    "trail": "cloudtrail",
    "access_point": "s3control",
    "multi_region_access_point": "s3control",
    # EC2 networking, launch templates and snapshots (issue 11).
    "default_vpc": "ec2",
    "default_subnets": "ec2",
    "default_network_acl": "ec2",
    "subnet": "ec2",
    "network_acl": "ec2",
    "vpc_endpoint": "ec2",
    "network_interface": "ec2",
    "launch_template": "ec2",
    "snapshot": "ec2",
    "lambda_function": "lambda",
}
# Kinds made of another resource (`{id:NAME}` of a DB instance or cluster): seeded after the rest.
LATE_KINDS = {"db_snapshot", "db_cluster_snapshot"}
ENTRY_FIELDS = {
    "name", "kind", "regions", "note", "params", "calls", "tags", "expect", "root_volume",
    "revoke_all_rules", "log_target", "root", "associate_subnet",
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z0-9_.-]+))?\}")


class SeedError(Exception):
    pass


class Aborted(Exception):
    """Raised in worker threads once another task has failed."""


def tags_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def stub_zip() -> bytes:
    """A deployment package with one stub handler (the estate's functions are never invoked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def run_in_order(makes: list[Callable[[], None]]) -> None:
    for make in makes:
        make()


def merged(defaults: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The defaults' keys in their order, then the entry's new keys; an override of null drops a key."""
    out = copy.deepcopy(defaults)
    for key, value in (overrides or {}).items():
        out[key] = copy.deepcopy(value)
    return {k: v for k, v in out.items() if v is not None}


class Estate:
    """The estate file, checked: a mistake in it is named before anything is created."""

    def __init__(self, path: Path, raw: dict[str, Any] | None = None, label: str | None = None) -> None:
        """Reads `path`, or checks `raw` (an estate composed elsewhere, named `label` in errors)."""
        self.path = path.resolve()
        if raw is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise SeedError(f"estate file {path}: {e}") from None
        self.raw = raw
        path = label or path
        self.regions: list[str] = raw["regions"]
        self.required_tags: list[str] = raw["required_tags"]
        self.kinds: dict[str, dict[str, Any]] = raw["kinds"]
        self.entries: list[dict[str, Any]] = raw["resources"]
        seen: set[tuple[str, str]] = set()
        for n, entry in enumerate(self.entries):
            where = f"estate file {path}: resources[{n}] ({entry.get('name')})"
            unknown = set(entry) - ENTRY_FIELDS
            if unknown:
                raise SeedError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(ENTRY_FIELDS)}")
            for field in ("name", "kind", "expect"):
                if field not in entry:
                    raise SeedError(f"{where}: missing field {field!r}")
            if entry["kind"] not in self.kinds or entry["kind"] not in SERVICE:
                raise SeedError(f"{where}: unknown kind {entry['kind']!r}; known: {sorted(SERVICE)}")
            regions = self.regions_of(entry)
            if not set(regions) <= set(self.regions):
                raise SeedError(f"{where}: regions {regions} not all in the estate's {self.regions}")
            if entry["kind"] == "bucket" and (len(regions) != 1 or not entry["name"].startswith("cs-")):
                raise SeedError(f"{where}: a bucket has exactly one region and a name starting with 'cs-'")
            for region in regions:
                if (entry["name"], region) in seen:
                    raise SeedError(f"{where}: {entry['name']} is already defined in {region}")
                seen.add((entry["name"], region))

    def regions_of(self, entry: dict[str, Any]) -> list[str]:
        return entry.get("regions", self.regions)

    def one_per_region(self, kind: str) -> bool:
        return bool(self.kinds[kind].get("one_per_region", False))

    def spec(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry with its kind's defaults applied (params and calls key by key)."""
        defaults = self.kinds[entry["kind"]].get("defaults", {})
        spec = dict(entry)
        spec["params"] = merged(defaults.get("params", {}), entry.get("params"))
        spec["calls"] = merged(defaults.get("calls", {}), entry.get("calls"))
        spec["tags"] = entry["tags"] if "tags" in entry else defaults.get("tags")
        spec["root_volume"] = merged(defaults.get("root_volume", {}), entry.get("root_volume"))
        return spec


class Seeder:
    def __init__(
        self, endpoint: str, estate: Estate, scale: int, workers: int, credentials: dict[str, str] | None = None
    ) -> None:
        """`credentials` (an sts:AssumeRole answer's Credentials): seed the account they act in."""
        self.endpoint = endpoint.rstrip("/")
        self.estate = estate
        self.scale = scale
        self.workers = workers
        self.account = ACCOUNT_ID
        if credentials is None:
            credentials = {
                "AccessKeyId": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                "SecretAccessKey": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                "SessionToken": os.environ.get("AWS_SESSION_TOKEN") or None,
            }
        self.session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
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
        # (name, region, copy or None for one-per-region kinds) -> id, for {id:NAME}.
        self.ids: dict[tuple[str, str, int | None], str] = {}
        self.config_params: list[dict[str, str]] = []
        self.deferred_policies: list[tuple[str, str, str]] = []
        # The execution role the estate's Lambda functions run as (IAM is global), made once.
        self._lambda_role: str | None = None
        self._lambda_role_lock = threading.Lock()
        self.abort = threading.Event()

    # ------------------------------------------------------------------ utils
    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                endpoint, config = self.endpoint, self.config
                if service == "s3control":
                    # S3 Control puts the account id in front of the endpoint's host: that name
                    # is reached through the emulator as an HTTP proxy (see emulator.py,
                    # product_environment), whatever this process's environment says.
                    port = urllib.parse.urlsplit(self.endpoint).port or 80
                    endpoint = f"http://s3-control.invalid:{port}"
                    config = config.merge(Config(proxies={"http": self.endpoint}))
                self._clients[key] = self.session.client(
                    service, region_name=region, endpoint_url=endpoint, config=config
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
        except botocore.exceptions.ParamValidationError as e:
            raise SeedError(f"{what}: {fn.__name__}: the estate file's parameters are invalid: {e}") from None
        except botocore.exceptions.BotoCoreError as e:
            raise SeedError(f"{what}: {fn.__name__} failed: {type(e).__name__}: {e}") from None

    def api(self, what: str, service: str, region: str, method: str, params: dict[str, Any]) -> Any:
        """Calls `method` ("service.method" picks another client) with the estate's parameters."""
        if "." in method:
            service, method = method.split(".", 1)
        fn = getattr(self.client(service, region), method, None)
        if fn is None:
            raise SeedError(f"{what}: {service} has no API call {method!r}")
        return self.call(what, fn, **params)

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

    # ------------------------------------------------------------ placeholders
    def fill(self, value: Any, ctx: dict[str, Any], what: str) -> Any:
        """Replaces {key} and {id:NAME} in every string of `value` (see tests/estate/README.md)."""
        if isinstance(value, dict):
            return {k: self.fill(v, ctx, what) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v, ctx, what) for v in value]
        if not isinstance(value, str):
            return value

        def one(m: re.Match[str]) -> str:
            key, name = m.group(1), m.group(2)
            if key == "id" and name is not None:
                found = self.ids.get((name, ctx["region"], ctx["copy"])) or self.ids.get((name, ctx["region"], None))
                if found is None:
                    raise SeedError(f"{what}: {{id:{name}}}: no {name} was created before it in {ctx['region']}")
                return found
            if name is not None or key not in ctx:
                raise SeedError(f"{what}: unknown placeholder {m.group(0)}; known: {sorted(ctx)} and {{id:NAME}}")
            return str(ctx[key])

        return PLACEHOLDER.sub(one, value)

    def context(self, entry: dict[str, Any], region: str, copy_index: int | None) -> dict[str, Any]:
        name = entry["name"]
        logical = f"{name}@{region}" if copy_index is None else f"{name}#{copy_index}"
        ctx = {"name": name, "logical": logical, "copy": copy_index, "region": region, "account": self.account}
        ctx.update(self.region_ctx.get(region, {}))
        return ctx

    def run_calls(self, what: str, spec: dict[str, Any], ctx: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
        service = SERVICE[spec["kind"]]
        for method, params in spec["calls"].items():
            if method not in skip:
                self.api(what, service, ctx["region"], method, self.fill(params, ctx, what))

    def record(self, spec: dict[str, Any], ctx: dict[str, Any], rid: str, arn: str, tags: Any, **extra: Any) -> None:
        with self._lock:
            self.ids[(spec["name"], ctx["region"], ctx["copy"])] = rid
        self.add(logical=ctx["logical"], region=ctx["region"], type=spec["kind"], id=rid, arn=arn,
                 tags=tags_dict(tags), **extra)

    # ------------------------------------------------------ per-region setup
    def setup_region(self, region: str) -> None:
        """Finds the default VPC, a subnet and an AMI; then makes the one-per-region entries."""
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
        images = self.call(what, ec2.describe_images, ImageIds=[PREFERRED_AMI]).get("Images", [])
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
        # A default subnet of another Availability Zone, for resources that span two.
        other_az = next((s for s in subnets if s["AvailabilityZone"] != subnets[0]["AvailabilityZone"]), None)
        if other_az is None:
            raise SeedError(f"{what}: the default VPC has subnets in one Availability Zone only")
        self.region_ctx[region] = {
            "vpc": vpc_id,
            "subnet": subnets[0]["SubnetId"],
            "other_subnet": other_az["SubnetId"],
            "az": subnets[0]["AvailabilityZone"],
            "ami": images[0]["ImageId"],
            "root_device": images[0].get("RootDeviceName") or "/dev/xvda",
        }
        makers = {
            "default_security_group": self.seed_default_security_group,
            "prefix_list": self.seed_prefix_list,
            "account": self.seed_account,
            "default_vpc": self.seed_default_vpc,
            "default_subnets": self.seed_default_subnets,
            "default_network_acl": self.seed_default_network_acl,
            "subnet": self.seed_subnet,
            "network_acl": self.seed_network_acl,
            "vpc_endpoint": self.seed_vpc_endpoint,
        }
        for entry in self.estate.entries:
            if self.estate.one_per_region(entry["kind"]) and region in self.estate.regions_of(entry):
                makers[entry["kind"]](self.estate.spec(entry), self.context(entry, region, None))

    def seed_default_security_group(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        ec2 = self.client("ec2", ctx["region"])
        what = f"{ctx['region']} {ctx['logical']}"
        dsg = self.call(
            what,
            ec2.describe_security_groups,
            Filters=[{"Name": "vpc-id", "Values": [ctx["vpc"]]}, {"Name": "group-name", "Values": ["default"]}],
        )["SecurityGroups"][0]
        gid = dsg["GroupId"]
        if spec.get("revoke_all_rules"):
            if dsg.get("IpPermissionsEgress"):
                self.call(what, ec2.revoke_security_group_egress, GroupId=gid, IpPermissions=dsg["IpPermissionsEgress"])
            if dsg.get("IpPermissions"):
                self.call(what, ec2.revoke_security_group_ingress, GroupId=gid, IpPermissions=dsg["IpPermissions"])
        tags = dsg.get("Tags") or []
        if spec["tags"] is not None:
            tags = self.fill(spec["tags"], ctx, what)
            if tags:
                self.call(what, ec2.create_tags, Resources=[gid], Tags=tags)
        ctx = {**ctx, "id": gid}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, gid, f"arn:aws:ec2:{ctx['region']}:{self.account}:security-group/{gid}", tags)

    def seed_prefix_list(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        what = f"{ctx['region']} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "prefix-list", "Tags": tags}]
        pl = self.api(what, "ec2", ctx["region"], "create_managed_prefix_list", params)["PrefixList"]
        pid = pl["PrefixListId"]
        ctx = {**ctx, "id": pid}
        self.run_calls(what, spec, ctx)
        arn = pl.get("PrefixListArn") or f"arn:aws:ec2:{ctx['region']}:{self.account}:prefix-list/{pid}"
        self.record(spec, ctx, pid, arn, tags)

    def seed_account(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        what = f"{ctx['region']} {ctx['logical']}"
        ctx = {**ctx, "id": self.account}
        self.run_calls(what, spec, ctx)
        if spec.get("root") is not None:
            # The root user's settings (IAM GetAccountSummary): moto has no API that sets them.
            post_control(self.endpoint, "/_harness/account-summary", {"account": self.account, **spec["root"]})
        # Findings about account-level settings name the account this way, not by an ARN.
        self.record(spec, ctx, self.account, f"AWS::::Account:{self.account}", [])

    def tag(self, what: str, region: str, rid: str, spec: dict[str, Any], ctx: dict[str, Any]) -> list:
        """Tags an existing resource with the entry's tags (none given: left as it is)."""
        tags = self.fill(spec["tags"], ctx, what) if spec["tags"] is not None else []
        if tags:
            self.call(what, self.client("ec2", region).create_tags, Resources=[rid], Tags=tags)
        return tags

    def seed_default_vpc(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        what = f"{ctx['region']} {ctx['logical']}"
        vpc = ctx["vpc"]
        tags = self.tag(what, ctx["region"], vpc, spec, ctx)
        ctx = {**ctx, "id": vpc}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, vpc, f"arn:aws:ec2:{ctx['region']}:{self.account}:vpc/{vpc}", tags)

    def seed_default_subnets(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """Every default subnet (one per Availability Zone), each recorded under the entry's name."""
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        subnets = self.call(
            what, self.client("ec2", region).describe_subnets,
            Filters=[{"Name": "vpc-id", "Values": [ctx["vpc"]]}, {"Name": "default-for-az", "Values": ["true"]}],
        )["Subnets"]
        for subnet in sorted(subnets, key=lambda s: s["SubnetId"]):
            sid = subnet["SubnetId"]
            tags = self.tag(what, region, sid, spec, ctx)
            one = {**ctx, "id": sid}
            self.run_calls(what, spec, one)
            arn = subnet.get("SubnetArn") or f"arn:aws:ec2:{region}:{self.account}:subnet/{sid}"
            self.record(spec, one, sid, arn, tags)

    def seed_default_network_acl(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        acl = self.call(
            what, self.client("ec2", region).describe_network_acls,
            Filters=[{"Name": "vpc-id", "Values": [ctx["vpc"]]}, {"Name": "default", "Values": ["true"]}],
        )["NetworkAcls"][0]["NetworkAclId"]
        tags = self.tag(what, region, acl, spec, ctx)
        ctx = {**ctx, "id": acl}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, acl, f"arn:aws:ec2:{region}:{self.account}:network-acl/{acl}", tags)

    def seed_subnet(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "subnet", "Tags": tags}]
        subnet = self.api(what, "ec2", region, "create_subnet", params)["Subnet"]
        sid = subnet["SubnetId"]
        ctx = {**ctx, "id": sid}
        self.run_calls(what, spec, ctx)
        arn = subnet.get("SubnetArn") or f"arn:aws:ec2:{region}:{self.account}:subnet/{sid}"
        self.record(spec, ctx, sid, arn, tags)

    def seed_network_acl(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """A network ACL; `associate_subnet` (a subnet id) moves that subnet to it."""
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        ec2 = self.client("ec2", region)
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "network-acl", "Tags": tags}]
        acl = self.api(what, "ec2", region, "create_network_acl", params)["NetworkAcl"]["NetworkAclId"]
        ctx = {**ctx, "id": acl}
        self.run_calls(what, spec, ctx)
        if spec.get("associate_subnet"):
            subnet = self.fill(spec["associate_subnet"], ctx, what)
            current = self.call(
                what, ec2.describe_network_acls, Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
            )["NetworkAcls"]
            association = next(
                a["NetworkAclAssociationId"] for a in current[0]["Associations"] if a["SubnetId"] == subnet
            )
            self.call(what, ec2.replace_network_acl_association, AssociationId=association, NetworkAclId=acl)
        self.record(spec, ctx, acl, f"arn:aws:ec2:{region}:{self.account}:network-acl/{acl}", tags)

    def seed_vpc_endpoint(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "vpc-endpoint", "Tags": tags}]
        vpce = self.api(what, "ec2", region, "create_vpc_endpoint", params)["VpcEndpoint"]["VpcEndpointId"]
        ctx = {**ctx, "id": vpce}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, vpce, f"arn:aws:ec2:{region}:{self.account}:vpc-endpoint/{vpce}", tags)

    # ------------------------------------------------------- per-copy kinds
    def seed_network_interface(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "network-interface", "Tags": tags}]
        eni = self.api(what, "ec2", region, "create_network_interface", params)["NetworkInterface"]["NetworkInterfaceId"]
        ctx = {**ctx, "id": eni}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, eni, f"arn:aws:ec2:{region}:{self.account}:network-interface/{eni}", tags)

    def seed_launch_template(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "launch-template", "Tags": tags}]
        lt = self.api(what, "ec2", region, "create_launch_template", params)["LaunchTemplate"]["LaunchTemplateId"]
        ctx = {**ctx, "id": lt}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, lt, f"arn:aws:ec2:{region}:{self.account}:launch-template/{lt}", tags)

    def seed_snapshot(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """A snapshot of a scratch volume made for it (and deleted after), then the calls."""
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        ec2 = self.client("ec2", region)
        volume = self.call(what, ec2.create_volume, AvailabilityZone=ctx["az"], Size=1)["VolumeId"]
        params = {"VolumeId": volume, **self.fill(spec["params"], ctx, what)}
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "snapshot", "Tags": tags}]
        snap = self.api(what, "ec2", region, "create_snapshot", params)["SnapshotId"]
        self.call(what, ec2.delete_volume, VolumeId=volume)
        ctx = {**ctx, "id": snap}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, snap, f"arn:aws:ec2:{region}::snapshot/{snap}", tags)

    def seed_security_group(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        what = f"{ctx['region']} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "security-group", "Tags": tags}]
        gid = self.api(what, "ec2", ctx["region"], "create_security_group", params)["GroupId"]
        ctx = {**ctx, "id": gid}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, gid, f"arn:aws:ec2:{ctx['region']}:{self.account}:security-group/{gid}", tags)

    def seed_instance(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        root_tags = self.fill(spec["root_volume"].get("tags") or [], ctx, what)
        tag_specs = []
        if tags:
            tag_specs.append({"ResourceType": "instance", "Tags": tags})
        if root_tags:
            tag_specs.append({"ResourceType": "volume", "Tags": root_tags})
        if tag_specs:
            params["TagSpecifications"] = tag_specs
        inst = self.api(what, "ec2", region, "run_instances", params)["Instances"][0]
        iid = inst["InstanceId"]
        root_device = inst.get("RootDeviceName", ctx["root_device"])
        mappings = [m for m in inst.get("BlockDeviceMappings", []) if "Ebs" in m]
        root = next((m for m in mappings if m.get("DeviceName") == root_device), mappings[0] if mappings else None)
        root_vol = root["Ebs"]["VolumeId"] if root else None
        if root_vol is None:
            ec2 = self.client("ec2", region)
            vols = self.call(
                what, ec2.describe_volumes, Filters=[{"Name": "attachment.instance-id", "Values": [iid]}]
            )["Volumes"]
            root_vol = vols[0]["VolumeId"] if vols else None
        ctx = {**ctx, "id": iid}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, iid, f"arn:aws:ec2:{region}:{self.account}:instance/{iid}", tags)
        if root_vol:
            entry: dict[str, Any] = {
                "logical": f"{ctx['logical']}/root",
                "region": region,
                "type": "volume",
                "id": root_vol,
                "arn": f"arn:aws:ec2:{region}:{self.account}:volume/{root_vol}",
                "tags": tags_dict(root_tags),
            }
            if any(m.split(".")[-1] == "terminate_instances" for m in spec["calls"]):
                # DeleteOnTermination: the root volume goes with the instance.
                entry["deleted"] = True
            self.add(**entry)

    def seed_volume(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        what = f"{ctx['region']} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "volume", "Tags": tags}]
        vid = self.api(what, "ec2", ctx["region"], "create_volume", params)["VolumeId"]
        ctx = {**ctx, "id": vid}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, vid, f"arn:aws:ec2:{ctx['region']}:{self.account}:volume/{vid}", tags)

    def seed_db_instance(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        what = f"{ctx['region']} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["Tags"] = tags
        db = self.api(what, "rds", ctx["region"], "create_db_instance", params)["DBInstance"]
        ctx = {**ctx, "id": db["DBInstanceIdentifier"]}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, db["DBInstanceIdentifier"], db["DBInstanceArn"], tags)

    def seed_rds(self, spec: dict[str, Any], ctx: dict[str, Any], method: str, key: str, id_field: str,
                 arn_field: str) -> None:
        """An RDS resource made by one create call whose answer's `key` names its id and ARN."""
        what = f"{ctx['region']} {ctx['logical']}"
        params = self.fill(spec["params"], ctx, what)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["Tags"] = tags
        made = self.api(what, "rds", ctx["region"], method, params)[key]
        ctx = {**ctx, "id": made[id_field]}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, made[id_field], made[arn_field], tags)

    def seed_db_cluster(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        self.seed_rds(spec, ctx, "create_db_cluster", "DBCluster", "DBClusterIdentifier", "DBClusterArn")

    def seed_db_snapshot(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        self.seed_rds(spec, ctx, "create_db_snapshot", "DBSnapshot", "DBSnapshotIdentifier", "DBSnapshotArn")

    def seed_db_cluster_snapshot(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        self.seed_rds(spec, ctx, "create_db_cluster_snapshot", "DBClusterSnapshot", "DBClusterSnapshotIdentifier",
                      "DBClusterSnapshotArn")

    def seed_db_event_subscription(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        self.seed_rds(spec, ctx, "create_event_subscription", "EventSubscription", "CustSubscriptionId",
                      "EventSubscriptionArn")

    def seed_bucket(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        region = ctx["region"]
        bucket = f"cs-{ctx['copy']}-{spec['name'][len('cs-'):]}"
        arn = f"arn:aws:s3:::{bucket}"
        ctx = {**ctx, "id": bucket, "bucket": bucket, "arn": arn, "log_bucket": self.log_bucket(region, ctx["copy"]),
               "replica_bucket": self.replica_bucket(region, ctx["copy"])}
        what = f"{region} {ctx['logical']} ({bucket})"
        s3 = self.client("s3", region)
        kw: dict[str, Any] = {}
        if region != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.call(what, s3.create_bucket, Bucket=bucket, **kw)
        for method, params in spec["calls"].items():
            params = {"Bucket": bucket, **self.fill(params, ctx, what)}
            if isinstance(params.get("Policy"), (dict, list)):
                params["Policy"] = json.dumps(params["Policy"])
            if method == "put_bucket_policy" and spec.get("log_target"):
                # moto 5.2.1 answers HTTP 500 to PutBucketLogging when the *target* bucket
                # has a policy statement whose Principal is a string ("*"), so log-target
                # policies are put after every other bucket has enabled logging.
                with self._lock:
                    self.deferred_policies.append((region, bucket, params["Policy"]))
                continue
            self.api(what, "s3", region, method, params)
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            self.call(what, s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tags})
        self.record(spec, ctx, bucket, arn, tags)

    def seed_trail(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """A CloudTrail trail delivering to its region's log-target bucket; `calls` (start_logging,
        put_event_selectors, ...) name it by its name, {name}-{copy}: moto finds no trail by ARN there."""
        ctx = {**ctx, "log_bucket": self.log_bucket(ctx["region"], ctx["copy"])}
        what = f"{ctx['region']} {ctx['logical']}"
        trail = self.api(what, "cloudtrail", ctx["region"], "create_trail", self.fill(spec["params"], ctx, what))
        arn = trail["TrailARN"]
        ctx = {**ctx, "id": arn}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, arn, arn, [])
    def lambda_role(self, what: str) -> str:
        """The estate functions' execution role, made on first use: moto's CreateFunction needs an
        existing role (without one it tries Docker)."""
        with self._lambda_role_lock:
            if self._lambda_role is None:
                iam = self.client("iam", "us-east-1")
                trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                  "Principal": {"Service": "lambda.amazonaws.com"}}]}
                role = self.call(what, iam.create_role, RoleName="compliance-estate-lambda",
                                 AssumeRolePolicyDocument=json.dumps(trust))["Role"]
                self._lambda_role = role["Arn"]
            return self._lambda_role

    def seed_lambda_function(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """A Lambda function (`create_function` params; `{lambda_role}` is the estate's execution
        role, a zip of a stub handler is the code unless `Code` is given), then `calls`
        (add_permission, ...) naming it by `{id}`, its ARN."""
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        ctx = {**ctx, "lambda_role": self.lambda_role(what)}
        params = self.fill(spec["params"], ctx, what)
        if "Code" not in params:
            params["Code"] = {"ZipFile": stub_zip()}
        tags = self.fill(spec["tags"], ctx, what)
        if tags:
            params["Tags"] = tags_dict(tags)
        arn = self.api(what, "lambda", region, "create_function", params)["FunctionArn"]
        ctx = {**ctx, "id": arn}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, params["FunctionName"], arn, tags)

    def replica_bucket(self, region: str, copy_index: int) -> str:
        """A replication destination in another region: that region's log target, or, where the
        estate has none, a bucket outside the account (the scan cannot read its region)."""
        for entry in self.estate.entries:
            if entry.get("log_target") and self.estate.regions_of(entry) != [region]:
                return f"cs-{copy_index}-{entry['name'][len('cs-'):]}"
        return f"cs-replica-outside-{self.account}"

    def seed_access_point(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """An S3 access point (S3 Control, regional) named by `params.Name`."""
        region = ctx["region"]
        what = f"{region} {ctx['logical']}"
        params = {"AccountId": self.account, **self.fill(spec["params"], ctx, what)}
        self.api(what, "s3control", region, "create_access_point", params)
        name = params["Name"]
        ctx = {**ctx, "id": name}
        self.run_calls(what, spec, ctx)
        self.record(spec, ctx, name, f"arn:aws:s3:{region}:{self.account}:accesspoint/{name}", [])

    def seed_multi_region_access_point(self, spec: dict[str, Any], ctx: dict[str, Any]) -> None:
        """A Multi-Region Access Point (managed in us-west-2); its findings are reported in the
        entry's region (the scan's home region), its ARN names its alias."""
        what = f"{ctx['region']} {ctx['logical']}"
        details = self.fill(spec["params"], ctx, what)
        ctl = self.client("s3control", "us-west-2")
        self.call(what, ctl.create_multi_region_access_point, AccountId=self.account,
                  ClientToken=str(uuid.uuid4()), Details=details)
        got = self.call(what, ctl.get_multi_region_access_point, AccountId=self.account, Name=details["Name"])
        alias = got["AccessPoint"]["Alias"]
        ctx = {**ctx, "id": details["Name"]}
        self.record(spec, ctx, details["Name"], f"arn:aws:s3::{self.account}:accesspoint/{alias}", [])

    def log_bucket(self, region: str, copy_index: int) -> str | None:
        for entry in self.estate.entries:
            if entry.get("log_target") and self.estate.regions_of(entry) == [region]:
                return f"cs-{copy_index}-{entry['name'][len('cs-'):]}"
        return None

    # ------------------------------------------------------------ SSM params
    def seed_config_params(self) -> None:
        ssm = self.client("ssm", "us-east-1")
        for name, value in (
            ("/compliance/scanner/config/regions", ",".join(self.estate.regions)),
            ("/compliance/scanner/config/required-tags", ",".join(self.estate.required_tags)),
        ):
            self.call(f"ssm {name}", ssm.put_parameter, Name=name, Value=value, Type="StringList", Overwrite=True)
            self.config_params.append({"name": name, "type": "StringList", "value": value, "region": "us-east-1"})

    def seed_accounts_param(self) -> dict[str, str]:
        """The scanner's accounts parameter for an organization scan (role name: its default)."""
        name, value = "/compliance/scanner/config/accounts", json.dumps({"source": "organization"})
        ssm = self.client("ssm", "us-east-1")
        self.call(f"ssm {name}", ssm.put_parameter, Name=name, Value=value, Type="String", Overwrite=True)
        return {"name": name, "type": "String", "value": value, "region": "us-east-1"}

    # ------------------------------------------------------------------- main
    def copy_tasks(self, log_targets: bool, late: bool = False) -> list[tuple[str, Callable[[], None]]]:
        """One task per resource, except that a region's copy of the security groups is one task
        (in file order: a group may name an earlier one with {id:NAME}). `late`: the LATE_KINDS,
        which name resources of the earlier tasks."""
        makers = {
            "security_group": self.seed_security_group,
            "instance": self.seed_instance,
            "volume": self.seed_volume,
            "db_instance": self.seed_db_instance,
            "db_cluster": self.seed_db_cluster,
            "db_snapshot": self.seed_db_snapshot,
            "db_cluster_snapshot": self.seed_db_cluster_snapshot,
            "db_event_subscription": self.seed_db_event_subscription,
            "bucket": self.seed_bucket,
            "trail": self.seed_trail,
            "access_point": self.seed_access_point,
            "multi_region_access_point": self.seed_multi_region_access_point,
            "network_interface": self.seed_network_interface,
            "launch_template": self.seed_launch_template,
            "snapshot": self.seed_snapshot,
            "lambda_function": self.seed_lambda_function,
        }
        tasks: list[tuple[str, Callable[[], None]]] = []
        groups: dict[tuple[str, int], list[Callable[[], None]]] = {}
        for i in range(self.scale):
            for entry in self.estate.entries:
                kind = entry["kind"]
                if self.estate.one_per_region(kind) or bool(entry.get("log_target")) != log_targets:
                    continue
                if (kind in LATE_KINDS) != late:
                    continue
                spec = self.estate.spec(entry)
                for region in self.estate.regions_of(entry):
                    make = (lambda m=makers[kind], s=spec, c=self.context(entry, region, i): m(s, c))
                    if kind == "security_group":
                        groups.setdefault((region, i), []).append(make)
                    else:
                        tasks.append((f"{kind} {entry['name']}#{i} {region}", make))
        for (region, i), makes in groups.items():
            tasks.append((f"security_group {region}#{i}", (lambda makes=makes: run_in_order(makes))))
        # slow EC2 batches start first
        tasks.sort(key=lambda t: 0 if t[0].startswith(("instance", "security_group")) else 1)
        return tasks

    def run(self, estate: bool, config_params: bool) -> dict[str, Any]:
        if estate:
            self.run_parallel([(f"setup {r}", (lambda r=r: self.setup_region(r))) for r in self.estate.regions])
            # log-target buckets first, then everything else in one pool
            self.run_parallel(self.copy_tasks(log_targets=True))
            self.run_parallel(self.copy_tasks(log_targets=False))
            self.run_parallel(self.copy_tasks(log_targets=False, late=True))
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
        if config_params:
            self.seed_config_params()

        order = {r: n for n, r in enumerate(self.estate.regions)}
        self.entries.sort(key=lambda e: (order.get(e["region"], 99), e["type"], e["logical"]))
        return {
            "version": 2,
            "estate": str(self.estate.path),
            "account": self.account,
            "endpoint": self.endpoint,
            "scale": self.scale,
            "regions": self.estate.regions,
            "required_tags": self.estate.required_tags,
            "resources": self.entries,
            "config_params": self.config_params,
        }


# ------------------------------------------------------------- organization
DEFAULT_ORGANIZATION = DEFAULT_ESTATE.parent / "organization.json"
ORG_ACCOUNT_FIELDS = {"name", "email", "organizational_unit", "reachable", "note", "resources"}


class Organization:
    """The organization file (tests/estate/organization.json), checked before anything is made.

    Each member's estate is its `resources` in the estate file's schema, with the management
    estate's regions, required tags and kinds (defaults).
    """

    def __init__(self, path: Path, management: Estate, members: int | None = None) -> None:
        """`members`: that many reachable members instead of the file's (see `scaled`)."""
        self.path = path.resolve()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SeedError(f"organization file {path}: {e}") from None
        if members is not None:
            raw = scaled(raw, members, path)
        self.role_name: str = raw.get("role_name", "ComplianceScannerMemberRole")
        self.accounts: list[dict[str, Any]] = raw["accounts"]
        self.estates: list[Estate] = []
        names = [a.get("name") for a in self.accounts]
        for n, account in enumerate(self.accounts):
            where = f"organization file {path}: accounts[{n}] ({account.get('name')})"
            unknown = set(account) - ORG_ACCOUNT_FIELDS
            if unknown:
                raise SeedError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(ORG_ACCOUNT_FIELDS)}")
            if not account.get("name") or not account.get("email") or names.count(account["name"]) > 1:
                raise SeedError(f"{where}: each account needs a unique name and an email")
            if not account.get("reachable", True) and account.get("resources"):
                raise SeedError(f"{where}: an unreachable account cannot have resources (nothing can reach it)")
            composed = {
                "regions": management.regions,
                "required_tags": management.required_tags,
                "kinds": management.kinds,
                "resources": account.get("resources", []),
            }
            self.estates.append(Estate(self.path, composed, label=where))
        buckets = [e["name"] for estate in [management, *self.estates] for e in estate.entries if e["kind"] == "bucket"]
        clash = sorted({b for b in buckets if buckets.count(b) > 1})
        if clash:
            raise SeedError(f"organization file {path}: bucket names are global, yet {clash} appear twice")


def scaled(raw: dict[str, Any], members: int, path: Path) -> dict[str, Any]:
    """The organization with `members` reachable members (bench/org.py): member k (1-based)
    is the file's reachable member number (k-1) mod M with its estate as it is, named
    `{name}-{k:03d}`, its buckets' names suffixed `-{k:03d}` (bucket names are global); then the
    file's unreachable members, unchanged."""
    reachable = [a for a in raw["accounts"] if a.get("reachable", True)]
    if members < 0 or (members and not reachable):
        raise SeedError(f"organization file {path}: --members {members} needs a reachable member to copy")
    accounts = []
    for k in range(1, members + 1):
        account = copy.deepcopy(reachable[(k - 1) % len(reachable)])
        base = account["name"]
        account["name"] = f"{base}-{k:03d}"
        local, _, domain = account["email"].partition("@")
        account["email"] = f"{local}-{k:03d}@{domain}"
        for entry in account.get("resources", []):
            if entry.get("kind") == "bucket":
                entry["name"] = f"{entry['name']}-{k:03d}"
        accounts.append(account)
    accounts += [copy.deepcopy(a) for a in raw["accounts"] if not a.get("reachable", True)]
    return {**raw, "accounts": accounts}


def post_control(endpoint: str, path: str, body: Any) -> None:
    req = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30):
            pass
    except (urllib.error.URLError, OSError) as e:
        raise SeedError(f"POST {endpoint}{path} failed (is this the harness's emulator.py?): {e}") from None


def seed_organization(management: Seeder, org: Organization) -> dict[str, Any]:
    """Creates the organization (the caller's account manages it), its OUs and member accounts,
    seeds each reachable member's estate through sts:AssumeRole into its member role, and has
    the emulator deny that AssumeRole for the unreachable ones. Returns the manifest section."""
    started = time.monotonic()
    orgs = management.client("organizations", "us-east-1")
    what = "organization"
    try:
        created = orgs.create_organization(FeatureSet="ALL")["Organization"]
    except botocore.exceptions.ClientError as e:
        hint = " (server not fresh? use --reset)" if "AlreadyInOrganization" in str(e) else ""
        raise SeedError(f"{what}: create_organization failed: {e}{hint}") from None
    root = management.call(what, orgs.list_roots)["Roots"][0]["Id"]
    units: dict[str, str] = {}

    def unit(path: str) -> str:
        parent = root
        for depth, name in enumerate(path.split("/")):
            key = "/".join(path.split("/")[: depth + 1])
            if key not in units:
                units[key] = management.call(
                    f"{what} OU {key}", orgs.create_organizational_unit, ParentId=parent, Name=name
                )["OrganizationalUnit"]["Id"]
            parent = units[key]
        return parent

    accounts: list[dict[str, Any]] = []
    for account in org.accounts:
        what = f"account {account['name']}"
        status = management.call(what, orgs.create_account, Email=account["email"],
                                 AccountName=account["name"])["CreateAccountStatus"]
        for _ in range(60):
            if status["State"] != "IN_PROGRESS":
                break
            time.sleep(0.5)
            status = management.call(what, orgs.describe_create_account_status,
                                     CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        if status["State"] != "SUCCEEDED":
            raise SeedError(f"{what}: CreateAccount ended {status['State']}: {status.get('FailureReason')}")
        account_id = status["AccountId"]
        if account.get("organizational_unit"):
            management.call(what, orgs.move_account, AccountId=account_id, SourceParentId=root,
                            DestinationParentId=unit(account["organizational_unit"]))
        accounts.append({
            "id": account_id,
            "name": account["name"],
            "email": account["email"],
            "management": False,
            "role": f"arn:aws:iam::{account_id}:role/{org.role_name}",
            "reachable": bool(account.get("reachable", True)),
            "organizational_unit": account.get("organizational_unit"),
        })

    sts = management.client("sts", "us-east-1")
    for entry, estate in zip(accounts, org.estates):
        if entry["reachable"]:
            what = f"account {entry['name']} ({entry['id']})"
            credentials = management.call(what, sts.assume_role, RoleArn=entry["role"],
                                          RoleSessionName="compliance-scanner-seed")["Credentials"]
            member = Seeder(management.endpoint, estate, 1, management.workers, credentials)
            member.preflight()
            if member.account != entry["id"]:
                raise SeedError(f"{what}: the assumed role acts in {member.account}, not in the member account")
            seeded = member.run(estate=True, config_params=False)
            entry.update({k: seeded[k] for k in ("scale", "regions", "required_tags", "resources")})
        else:
            entry.update({"scale": 1, "regions": estate.regions, "required_tags": estate.required_tags,
                          "resources": []})
        entry["estate"] = estate.raw
    # Only now: seeding needs no role of the unreachable accounts, and the scan must not reach them.
    post_control(management.endpoint, "/_harness/deny-assume-role", [a["id"] for a in accounts if not a["reachable"]])

    listed: dict[str, str] = {}
    for page in orgs.get_paginator("list_accounts").paginate():
        listed.update({a["Id"]: a["Name"] for a in page["Accounts"]})
    head = {"id": management.account, "name": listed.get(management.account),
            "email": created.get("MasterAccountEmail"), "management": True, "role": None, "reachable": True,
            "organizational_unit": None}
    return {
        "file": str(org.path),
        "id": created["Id"],
        "arn": created["Arn"],
        "management_account": created["MasterAccountId"],
        "root_id": root,
        "role_name": org.role_name,
        "organizational_units": units,
        "accounts": [head, *accounts],
        "seed_seconds": round(time.monotonic() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--estate", default=str(DEFAULT_ESTATE), help=f"the estate file (default {DEFAULT_ESTATE})")
    ap.add_argument("--scale", type=int, default=1, help="copies of every per-region set (default 1)")
    ap.add_argument("--manifest", help="write the manifest JSON here (default: stdout)")
    ap.add_argument("--config-params", action="store_true",
                    help="also put /compliance/scanner/config/{regions,required-tags} in SSM (us-east-1)")
    ap.add_argument("--no-estate", action="store_true", help="skip the estate (e.g. with --config-params only)")
    ap.add_argument("--reset", action="store_true", help="POST /moto-api/reset before seeding")
    ap.add_argument("--workers", type=int, default=8, help="thread pool size (default 8)")
    ap.add_argument("--organization", nargs="?", const=str(DEFAULT_ORGANIZATION), metavar="FILE",
                    help=f"also create the organization of FILE (default {DEFAULT_ORGANIZATION}): member "
                    "accounts, their estates, unreachable members; with --config-params also the accounts "
                    "parameter")
    ap.add_argument("--members", type=int, metavar="N",
                    help="with --organization: N reachable members instead of the file's, each a copy of "
                    "the file's reachable members in turn (buckets renamed), plus its unreachable ones")
    args = ap.parse_args(argv)
    if args.scale < 1 or args.workers < 1:
        print("seed_estate: --scale and --workers must be >= 1", file=sys.stderr)
        return 2
    if args.members is not None and (args.members < 0 or not args.organization):
        print("seed_estate: --members N needs --organization and N >= 0", file=sys.stderr)
        return 2
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

    t0 = time.monotonic()
    try:
        estate = Estate(Path(args.estate))
        organization = Organization(Path(args.organization), estate, args.members) if args.organization else None
        seeder = Seeder(args.endpoint, estate, args.scale, args.workers)
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
        if organization is not None:
            manifest["organization"] = seed_organization(seeder, organization)
            if args.config_params:
                manifest["config_params"].append(seeder.seed_accounts_param())
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
        members = ""
        if "organization" in manifest:
            org = manifest["organization"]
            seeded = sum(len(a.get("resources") or []) for a in org["accounts"])
            members = (f", organization: {len(org['accounts']) - 1} members, {seeded} member resources, "
                       f"{org['seed_seconds']}s")
        print(
            f"seed_estate: {len(manifest['resources'])} resources, scale {args.scale}{members}, "
            f"{manifest['seed_seconds']}s -> {args.manifest}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
