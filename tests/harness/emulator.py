#!/usr/bin/env python3
"""Starts moto's server for the scanner's tests, demo and benchmark.

Test infrastructure only: it fills gaps where moto 5.2 differs from AWS, so the product talks to
the emulator exactly as it talks to AWS (through the standard AWS_ENDPOINT_URL variables).

Fixes applied to moto, each where moto's answer is not what S3 returns:
  * GetBucketVersioning answers with a `GetBucketVersioningResponse` root element and never
    reports MFA delete; S3 answers `VersioningConfiguration` with `Status` and `MfaDelete`.
    PutBucketVersioning's `MfaDelete` is stored so that it can be read back.
  * GetBucketPolicyStatus is not implemented and falls through to ListObjects; it now answers
    501 NotImplemented, as S3-compatible stores without the API do.
  * PutObject into a bucket with Object Lock default retention: moto accepts only Content-MD5 or
    `x-amz-sdk-checksum-algorithm` (its own error says "Content-MD5 OR x-amz-checksum-"), while
    S3 takes any `x-amz-checksum-*` header or trailer, which is what the AWS SDKs send by default;
    the algorithm named by such a header or trailer now counts as the SDK's algorithm header.
  * GetBucketNotificationConfiguration of a bucket without notifications answers a
    `GetBucketNotificationResponse` root; S3 answers an empty `NotificationConfiguration`.
  * S3 Control access points are regional in S3 (ListAccessPoints lists the request's region,
    the ARN names the access point's region); moto keeps one list per account and names
    us-east-1 in every ARN. Each access point now remembers the region it was created in, its
    ARN names that region, and ListAccessPoints lists the request region's only. moto also
    answers ListAccessPoints, GetAccessPoint and ListMultiRegionAccessPoints with `...Response`
    roots where S3 Control answers `...Result`: they are written as S3 Control writes them.
EC2 (see `patch_ec2`):
  * DescribeSnapshots ignores OwnerIds and RestorableByUserIds and lists every snapshot, the
    ~1,000 of moto's AMIs included; EC2 lists only the owners' snapshots and, for
    RestorableByUserIds, those restorable by the accounts named (`all`: public ones).
  * An instance tagged `HarnessStoppedDaysAgo: N` records, when stopped, the stop time N days
    back in its StateTransitionReason (moto writes "now"), so an instance stopped for months
    can be seeded.
  * Block Public Access for EBS snapshots (Get/Enable/DisableSnapshotBlockPublicAccess...) and
    for VPCs (Describe/ModifyVpcBlockPublicAccessOptions) are not implemented (HTTP 500); they
    are answered per account and region, `unblocked` and `off` until changed, as in AWS.
A control endpoint, POST /_harness/deny with a JSON list like ["ec2:ap-southeast-1"], makes the
emulator refuse every request signed for those service/region pairs with the error AWS gives a
caller without permission (moto's IAM emulation cannot scope a deny to one region).
POST /_harness/deny-assume-role with a JSON list of account ids makes sts:AssumeRole into any
role of those accounts answer AccessDenied, as STS does for a role that does not trust the
caller (moto lets anyone assume any role, existing or not): an unreachable member account.

S3 Control puts the account id in front of the endpoint's host, whatever the endpoint (see
`product_environment`): the product reaches that name through this server as an HTTP proxy,
so nothing on the machine changes and nothing needs root.

RDS (see `patch_rds`): CreateDBInstance's and ModifyDBInstance's `MonitoringInterval` (Enhanced
Monitoring) is kept and described (moto drops it); a Multi-AZ DB cluster (engine `mysql` or
`postgres`, which RDS always deploys as three instances in three AZs) is described as `MultiAZ`
(moto counts the AZs of member instances it never creates for such clusters).

Security Hub (see `patch_securityhub`): a finding of another account is refused, as with the
default product ARN in AWS.

Step Functions (see `patch_stepfunctions` and `patch_engine`): moto's server only records
executions (they stay RUNNING) unless its ASL engine is switched on, and the engine keeps state
machines in a second backend that CloudFormation never writes to; the harness makes the engine
the only backend, so every state machine, however created, really runs. The engine's Task
states call AWS through boto3 clients aimed at `localhost:$MOTO_PORT` (5000 by default, not our
port); they are aimed at this emulator, except Lambda, which goes to the endpoint given by
`--lambda-endpoint URL` or `POST /_harness/lambda-endpoint {"endpoint": URL}` (null: back to
moto, whose Lambda needs Docker), e.g. lambda_bridge.py serving the real binaries. Also fixed:
a second execution in a region (HTTP 500), `$.a[0].b` paths (a list instead of the value),
aws-sdk error names (`ssm.X` instead of `Ssm.X`), `$$.Execution.StartTime` (HTTP 500); and
Distributed Map (see `patch_distributed_map`): ResultWriter writes SUCCEEDED_0.json /
FAILED_0.json and lists them in manifest.json, its Parameters read the state's input, and the
tolerated failure thresholds are applied.
EventBridge (see `patch_events`): rules that target a state machine start it (moto: HTTP 500).
CloudWatch from the Rust SDK (see `rpc_v2_cbor`): its Smithy RPC v2 CBOR requests are served
through moto's JSON protocol.

SSM Automation (see `Automation`): moto answers HTTP 500 for StartAutomationExecution; the
harness runs Automation runbooks itself (`aws:executeAwsApi` against this emulator,
`aws:executeScript` in a Python subprocess whose boto3 points here, `aws:sleep`) and answers
StartAutomationExecution, GetAutomationExecution, DescribeAutomationExecutions and
DescribeAutomationStepExecutions. As in AWS, a runbook's steps run as its `assumeRole` (assumed
in process, as SSM does) or, without one, with the caller's credentials (a member account's,
through its assumed role); each account lists its own executions. `POST /moto-api/reset` also forgets its executions.

Prints one JSON line once the server is ready: the endpoint variables, and under "env" the
endpoint and proxy variables a process that talks to it needs (`product_environment`); then
serves until
SIGTERM/SIGINT or until its standard input closes (so a crashed test leaves no server behind).
"""

import argparse
import copy
import datetime
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid

ACCOUNT_ID = "123456789012"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
S3CONTROL_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"


def patch_s3() -> None:
    from moto.s3.responses import S3Response

    original_get = S3Response._bucket_response_get
    original_put = S3Response._bucket_response_put

    def bucket_get(self, bucket_name, querystring):
        if "policyStatus" in querystring:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
                "<Message>GetBucketPolicyStatus is not implemented by the emulator</Message></Error>"
            )
            return 501, {"Content-Type": "application/xml"}, body
        return original_get(self, bucket_name, querystring)

    def bucket_put(self, request, bucket_name, querystring):
        if "versioning" in querystring:
            body = self.body.decode("utf-8") if isinstance(self.body, bytes) else (self.body or "")
            mfa = re.search(r"<MfaDelete>(Enabled|Disabled)</MfaDelete>", body)
            response = original_put(self, request, bucket_name, querystring)
            if mfa:
                self.backend.get_bucket(bucket_name).mfa_delete_status = mfa.group(1)
            return response
        return original_put(self, request, bucket_name, querystring)

    def get_bucket_versioning(self):
        bucket = self.backend.get_bucket(self.bucket_name)
        parts = [f'<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="{S3_NS}">']
        if bucket.versioning_status:
            parts.append(f"<Status>{bucket.versioning_status}</Status>")
        mfa = getattr(bucket, "mfa_delete_status", None)
        if mfa:
            parts.append(f"<MfaDelete>{mfa}</MfaDelete>")
        parts.append("</VersioningConfiguration>")
        return 200, {"Content-Type": "application/xml"}, "".join(parts)

    original_key_put = S3Response._key_response_put

    def key_put(self, query, key_name):
        if not self.headers.get("x-amz-sdk-checksum-algorithm"):
            named = [h.lower() for h in self.headers.keys()]
            named += [h.strip().lower() for h in self.headers.get("x-amz-trailer", "").split(",")]
            algorithms = [h[len("x-amz-checksum-"):] for h in named if h.startswith("x-amz-checksum-")
                          and h not in ("x-amz-checksum-type", "x-amz-checksum-mode")]
            if algorithms:
                from werkzeug.datastructures import Headers

                headers = Headers(self.headers)
                headers["x-amz-sdk-checksum-algorithm"] = algorithms[0].upper()
                self.headers = headers
        return original_key_put(self, query, key_name)

    original_notification = S3Response.get_bucket_notification

    def get_bucket_notification(self):
        if not self.backend.get_bucket_notification_configuration(self.bucket_name):
            body = f'<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="{S3_NS}"/>'
            return 200, {"Content-Type": "application/xml"}, body
        return original_notification(self)

    S3Response.get_bucket_notification = get_bucket_notification
    S3Response._bucket_response_get = bucket_get
    S3Response._bucket_response_put = bucket_put
    S3Response.get_bucket_versioning = get_bucket_versioning
    S3Response._key_response_put = key_put


def patch_s3control() -> None:
    from moto.core.responses import ActionResult
    from moto.s3control.responses import S3ControlResponse

    original_create = S3ControlResponse.create_access_point

    def create_access_point(self):
        original_create(self)
        account_id, name = self._get_param("AccountId"), self._get_param("Name")
        ap = self.backend.get_access_point(account_id=account_id, name=name)
        ap.region = self.region
        ap.arn = re.sub(r"^(arn:[^:]+:s3:)[^:]*:", rf"\g<1>{self.region}:", ap.arn)
        return ActionResult({"AccessPointArn": ap.arn, "Alias": ap.alias})

    def xml(root: str, inner: str):
        body = f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{S3CONTROL_NS}">{inner}</{root}>'
        return 200, {"Content-Type": "application/xml"}, body

    def pab(settings: dict, element: str) -> str:
        fields = "".join(
            f"<{k}>{str(settings.get(k, True)).lower()}</{k}>"
            for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        )
        return f"<{element}>{fields}</{element}>"

    def list_access_points(self):
        account_id = self._get_param("AccountId")
        bucket = self._get_param("Bucket")
        items = "".join(
            f"<AccessPoint><Name>{escape_xml(ap.name)}</Name><NetworkOrigin>{ap.network_origin}</NetworkOrigin>"
            f"<Bucket>{escape_xml(ap.bucket)}</Bucket><AccessPointArn>{escape_xml(ap.arn)}</AccessPointArn>"
            f"<Alias>{escape_xml(ap.alias)}</Alias></AccessPoint>"
            for ap in self.backend.access_points.get(account_id, {}).values()
            if getattr(ap, "region", self.region) == self.region and (not bucket or ap.bucket == bucket)
        )
        return xml("ListAccessPointsResult", f"<AccessPointList>{items}</AccessPointList>")

    def get_access_point(self):
        ap = self.backend.get_access_point(account_id=self._get_param("AccountId"), name=self._get_param("Name"))
        return xml(
            "GetAccessPointResult",
            f"<Name>{escape_xml(ap.name)}</Name><Bucket>{escape_xml(ap.bucket)}</Bucket>"
            f"<NetworkOrigin>{ap.network_origin}</NetworkOrigin>"
            + pab(ap.pubc, "PublicAccessBlockConfiguration")
            + f"<Alias>{escape_xml(ap.alias)}</Alias><AccessPointArn>{escape_xml(ap.arn)}</AccessPointArn>",
        )

    def list_multi_region_access_points(self):
        mraps = self.backend.multi_region_access_points.get(self._get_param("AccountId"), {}).values()
        items = "".join(
            f"<AccessPoint><Name>{escape_xml(m.name)}</Name><Alias>{escape_xml(m.alias)}</Alias>"
            + pab(m.public_access_block, "PublicAccessBlock")
            + f"<Status>{m.status}</Status><Regions>"
            + "".join(
                f"<Region><Bucket>{escape_xml(r.get('Bucket', ''))}</Bucket><Region>{r.get('Region', '')}</Region></Region>"
                for r in m.regions
            )
            + "</Regions></AccessPoint>"
            for m in mraps
        )
        return xml("ListMultiRegionAccessPointsResult", f"<AccessPoints>{items}</AccessPoints>")

    S3ControlResponse.create_access_point = create_access_point
    S3ControlResponse.list_access_points = list_access_points
    S3ControlResponse.get_access_point = get_access_point
    S3ControlResponse.list_multi_region_access_points = list_multi_region_access_points


DENIED: set[tuple[str, str]] = set()
SIGV4_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def access_denied(service: str) -> bytes:
    """The error document each protocol uses for a caller without permission."""
    if service == "ec2":
        return (
            b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code>'
            b"<Message>You are not authorized to perform this operation.</Message></Error></Errors>"
            b"<RequestID>harness-deny</RequestID></Response>"
        )
    if service == "s3":
        return (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            b"<Message>Access Denied</Message><RequestId>harness-deny</RequestId></Error>"
        )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>'
        b"<Message>User is not authorized to perform this action</Message></Error>"
        b"<RequestId>harness-deny</RequestId></ErrorResponse>"
    )


# Accounts whose roles sts:AssumeRole refuses (POST /_harness/deny-assume-role): moto lets any
# caller assume any role, so an unreachable member account exists only if the harness makes one.
DENIED_ASSUME_ROLE: set[str] = set()
ROLE_ARN_ACCOUNT = re.compile(r"arn:[^:]+:iam::(\d{12}):role/")
ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def denied_assume_role(environ) -> bytes | None:
    """STS's answer to an AssumeRole into a denied account, else None (the request goes to moto).

    AssumeRole is a query-protocol call (Action=AssumeRole&RoleArn=...), in the form body of a
    POST or in the query string. The body is read here and put back (wsgi.input re-wrapped) so
    that moto still reads it. The answer is what STS gives a caller the role does not trust:
    HTTP 403, Code AccessDenied, the message naming the caller and the role.
    """
    import io
    from urllib.parse import parse_qs

    if not DENIED_ASSUME_ROLE:
        return None
    fields = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("REQUEST_METHOD") == "POST" and "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        fields.update(parse_qs(raw.decode("utf-8", "replace")))
    if fields.get("Action") != ["AssumeRole"]:
        return None
    role_arn = (fields.get("RoleArn") or [""])[0]
    account = ROLE_ARN_ACCOUNT.match(role_arn)
    if not account or account.group(1) not in DENIED_ASSUME_ROLE:
        return None
    key = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    caller = caller_arn(key.group(1) if key else "")
    message = f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    return (
        f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
        f"<Message>{escape_xml(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def caller_arn(access_key: str) -> str:
    """The ARN GetCallerIdentity would give these credentials (an assumed role moto issued, else
    moto's default user)."""
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for backend in list(sts_backends[account].values()):
            role = backend.get_assumed_role_from_access_key(access_key)
            if role is not None:
                return role.arn
    return f"arn:aws:sts::{ACCOUNT_ID}:user/moto"


def escape_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Request log (opt-in: POST /_harness/request-log) ----------------------------------------

# bench/org.py counts the API requests of a workflow run per account: while a path is set, every
# AWS request is appended to it as one JSON line (see `log_request`). Off by default.
REQUEST_LOG: dict[str, object] = {"file": None}
REQUEST_LOG_LOCK = threading.Lock()
ACCOUNT_OF_KEY: dict[str, str] = {}
S3_PATH_STYLE = re.compile(r"/([^/?]+)(/[^?]*)?")


def account_of_key(access_key: str) -> str:
    """The account moto acts in for these credentials (an assumed role's keys: the role's
    account), as moto's own `get_current_account` finds it; cached, keys never move."""
    from moto.iam.models import get_account_id_from

    if access_key not in ACCOUNT_OF_KEY:
        ACCOUNT_OF_KEY[access_key] = get_account_id_from(access_key)
    return ACCOUNT_OF_KEY[access_key]


def request_action(environ, service: str, form: dict) -> str:
    """The API operation of a request, whatever its protocol: the JSON target, the query
    protocol's Action, RPC v2's path, else (REST: S3, S3 Control, Security Hub, Lambda) the
    method and what the path addresses (S3: the bucket's subresources, or `object`)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rpartition(".")[2]
    if form.get("Action"):
        return form["Action"][0]
    path, method = environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD", "")
    rpc_v2 = RPC_V2_PATH.fullmatch(path)
    if rpc_v2:
        return rpc_v2.group(2)
    if service == "s3":
        query = [k.split("=", 1)[0] for k in environ.get("QUERY_STRING", "").split("&") if k]
        match = S3_PATH_STYLE.fullmatch(path)
        if match is None:
            return f"{method} /"
        if match.group(2) and match.group(2) != "/":
            return f"{method} object" + ("?" + ",".join(sorted(query)) if query else "")
        return f"{method} bucket" + ("?" + ",".join(sorted(query)) if query else "")
    return f"{method} {re.sub(r'/[0-9a-f-]{12,}|/arn:[^/]+', '/{id}', path)}"


# Assumed-role access key -> {"role": ARN, "by": the key that assumed it, "service"?: the AWS
# service that assumed it for that key (SSM Automation)}; see `patch_sts`.
ASSUMED_BY: dict[str, dict[str, str]] = {}
# A request the harness makes on behalf of an emulated service (SSM reading a runbook), not a
# call of the credentials' owner: the log marks it "internal".
INTERNAL_HEADER = "x-harness-internal"


def patch_sts() -> None:
    """Remembers who assumed each role's credentials (ASSUMED_BY), so that the request log can
    attribute a member account's calls to the function that assumed the member role."""
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role

    def assume_role(self):
        result = original(self)
        credentials = result.result["Credentials"]
        # The caller's key as signed (moto's own parsing wants AWS-shaped keys).
        caller = ACCESS_KEY.search(self.headers.get("Authorization", ""))
        ASSUMED_BY[credentials.access_key_id] = {"role": self._get_param("RoleArn"),
                                                 "by": caller.group(1) if caller else None}
        return result

    TokenResponse.assume_role = assume_role


def log_request(environ, status: str) -> None:
    """One line: {"t", "service", "region", "action", "account", "status", "access_key"}
    (account: the one the credentials act in), plus "target_account" for sts:AssumeRole (the
    role's account); for an assumed role's key, "role" and "assumed_by" (the key that assumed
    it; `ASSUMED_BY`); "internal" for a request the harness made for an emulated service."""
    from urllib.parse import parse_qs

    path = environ.get("PATH_INFO") or ""
    if path.startswith(("/_harness/", "/moto-api")):
        return
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope, key = SIGV4_SCOPE.search(authorization), ACCESS_KEY.search(authorization)
    service = scope.group(2) if scope else "unsigned"
    if service == "s3" and "s3-control" in environ.get("HTTP_HOST", ""):
        service = "s3control"  # S3 Control signs as "s3"; its host tells it apart
    form = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("REQUEST_METHOD") == "POST" and "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        body = environ.get("harness.form_body", b"")
        form.update(parse_qs(body.decode("utf-8", "replace")))
    line = {
        "t": round(time.time(), 6),
        "service": service,
        "region": scope.group(1) if scope else None,
        "action": request_action(environ, service, form),
        "account": account_of_key(key.group(1)) if key else None,
        "status": int(status.split(" ", 1)[0]),
        "access_key": key.group(1) if key else None,
    }
    assumed = ASSUMED_BY.get(line["access_key"] or "")
    if assumed:
        line["role"], line["assumed_by"] = assumed["role"], assumed["by"]
        if "service" in assumed:
            line["assumed_through"] = assumed["service"]
    if environ.get("HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")):
        line["internal"] = True
    role = ROLE_ARN_ACCOUNT.match((form.get("RoleArn") or [""])[0])
    if line["action"] == "AssumeRole" and role:
        line["target_account"] = role.group(1)
    with REQUEST_LOG_LOCK:
        if REQUEST_LOG["file"] is not None:
            REQUEST_LOG["file"].write(json.dumps(line) + "\n")
            REQUEST_LOG["file"].flush()


def keep_form_body(environ) -> None:
    """Reads a form-encoded body once and puts it back, so that the log sees the query
    protocol's Action and moto still reads the body."""
    import io

    if environ.get("REQUEST_METHOD") == "POST" and "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["harness.form_body"] = raw


def set_request_log(path: str | None) -> None:
    with REQUEST_LOG_LOCK:
        if REQUEST_LOG["file"] is not None:
            REQUEST_LOG["file"].close()
        REQUEST_LOG["file"] = open(path, "a", encoding="utf-8") if path else None


# --- Step Functions -------------------------------------------------------------------------

# Where the ASL engine's Task states send their AWS calls: this emulator (known once it listens)
# and, for Lambda, the endpoint set by --lambda-endpoint or POST /_harness/lambda-endpoint.
ENGINE_TARGETS: dict[str, str | None] = {"self": None, "lambda": None}
# Brackets that make a JSONPath indefinite (a list of matches): [*], slices, filters, unions.
INDEFINITE_STEP = re.compile(r"\[\s*(?:\*|\?|[^\]'\"]*[:,])")


def patch_stepfunctions() -> None:
    """Makes state machines really run, whoever created them.

    * moto's server keeps executions RUNNING forever unless the config flag
      `stepfunctions.execute_state_machine` is on; the flag then switches to
      `stepfunctions_parser_backends`, a second store that CloudFormation's
      `AWS::StepFunctions::StateMachine` never writes to (it uses `stepfunctions_backends`). So
      the one store, `stepfunctions_backends`, now builds the engine's backend
      (`StepFunctionsParserBackend`, a subclass) and the API always answers from it, whatever the
      flag says. The engine (antlr-based, ~1 s to import) is loaded when a backend is first built,
      and patched then (`patch_engine`).
    * StartExecution snapshots the state machine with copy.deepcopy, which follows its
      `backend` attribute into every other state machine's executions and their locks: in moto
      5.2.1 the second execution in a region fails with HTTP 500 ("cannot pickle
      '_thread.RLock' object"). The snapshot is now a shallow copy without the executions (the
      definition and settings are strings and dicts that updates replace, never mutate).
    """
    import moto.stepfunctions.models as sfn_models
    import moto.stepfunctions.responses as sfn_responses

    def snapshot(self, memo):
        clone = copy.copy(self)
        clone.executions = []
        return clone

    sfn_models.StateMachine.__deepcopy__ = snapshot
    backends = sfn_models.stepfunctions_backends

    def engine_backend(region_name: str, account_id: str):
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        class EngineBackend(StepFunctionsParserBackend):
            @property
            def _url_module(self):  # moto looks for the URL table next to the class's module
                import moto.stepfunctions.urls

                return moto.stepfunctions.urls

        patch_engine()
        return EngineBackend(region_name, account_id=account_id)

    backends.backend = engine_backend
    sfn_responses.get_backend = lambda account, region: backends[account][region]


_engine_patched = threading.Lock()


def patch_engine() -> None:
    """Fixes to moto's ASL engine (a port of LocalStack's), where it differs from what we need.

    * Task states get their boto3 clients from `boto_client_for(region, service, credentials)`
      (moto/stepfunctions/parser/asl/utils/boto_client.py), aimed at `localhost:$MOTO_PORT`
      (5000 unless set, not our port). Lambda goes to ENGINE_TARGETS["lambda"] when set (e.g.
      lambda_bridge.py, running the real binaries), everything else to this emulator.
    * `extract_json` (asl/utils/json_path.py) wraps the value of a definite path in a list when a
      step before the last is an index: `$.items[0].id` gives `["a"]` where Step Functions gives
      `"a"` (and a Choice on it never matches). A path without [*], slices, filters, unions or
      `..` now yields its single value; others still yield the list of matches.
    * Errors of `arn:aws:states:::aws-sdk:SERVICE:api` tasks are named `ssm.ParameterNotFound-
      Exception`; Step Functions names them in PascalCase (`Ssm.ParameterNotFoundException`,
      `S3.NoSuchKeyException`, `DynamoDb....`), which is what Retry/Catch must match.
    * `$$.Execution.StartTime` is a Python datetime in the context object: any state output
      that holds it makes DescribeExecution fail with HTTP 500 (not JSON serialisable). It is now
      the ISO 8601 text Step Functions gives (`2026-11-23T14:27:39.760Z`).
    * Distributed Map's ResultWriter, ResultWriter Parameters and failure thresholds: see
      `patch_distributed_map`.
    `boto_client_for` and `extract_json` are imported by name into many engine modules: each
    module holding the original gets the replacement.
    """
    import boto3
    from botocore.config import Config

    # Loads every module that imports boto_client_for or extract_json by name.
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils  # noqa: F401
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory  # noqa
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
    from moto.stepfunctions.parser.asl.utils import boto_client as engine_clients
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend import execution_worker

    with _engine_patched:
        if getattr(engine_clients.boto_client_for, "harness", False):
            return

        def boto_client_for(region: str, service: str, state_credentials=None):
            endpoint = (service == "lambda" and ENGINE_TARGETS["lambda"]) or ENGINE_TARGETS["self"]
            return boto3.client(
                service_name=service,
                region_name=region,
                endpoint_url=endpoint,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                config=Config(  # as moto's own: the state's Retry does the retrying
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    s3={"addressing_style": "path"},
                ),
            )

        original_extract = json_path.extract_json

        def extract_json(path: str, data):
            if ".." in path or INDEFINITE_STEP.search(path):
                return original_extract(path, data)
            matches = json_path.parse(path).find(data)
            if len(matches) != 1:
                return original_extract(path, data)  # its error for a missing path
            return matches[0].value

        boto_client_for.harness = True
        replacements = {
            engine_clients.boto_client_for: boto_client_for,
            original_extract: extract_json,
        }
        for name, module in list(sys.modules.items()):
            if not name.startswith("moto.stepfunctions.parser"):
                continue
            for attribute in ("boto_client_for", "extract_json"):
                current = getattr(module, attribute, None)
                if current in replacements:
                    setattr(module, attribute, replacements[current])

        def execution_data(**fields):  # ExecutionData is a TypedDict: calling it makes a dict
            start = fields.get("StartTime")
            if isinstance(start, datetime.datetime):
                start = start.astimezone(datetime.timezone.utc)
                fields["StartTime"] = start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z"
            return dict(fields)

        execution_worker.ExecutionData = execution_data
        patch_distributed_map()

        sdk_service_names = {  # where PascalCase is not just the first letter in capitals
            "acmpca": "AcmPca", "apigateway": "ApiGateway", "cloudformation": "CloudFormation",
            "cloudwatch": "CloudWatch", "dynamodb": "DynamoDb", "eventbridge": "EventBridge",
            "secretsmanager": "SecretsManager", "securityhub": "SecurityHub", "sfn": "Sfn",
        }
        state_task_service_aws_sdk.StateTaskServiceAwsSdk._normalise_service_error_name = staticmethod(
            lambda service: sdk_service_names.get(service.lower(), service[:1].upper() + service[1:]))


# Whether the Map state being evaluated on this thread has a ResultWriter (see
# patch_distributed_map: a tolerated-failure breach is raised after the results are written).
_map_state = threading.local()


def patch_distributed_map() -> None:
    """Distributed Map runs as Step Functions runs it, where moto's engine (5.2.1) differs.

    * ResultWriter (`arn:aws:states:::s3:putObject`): moto writes only `manifest.json`, with
      empty ResultFiles. Step Functions (ResultWriter (Map), "Exporting to Amazon S3") groups
      the child executions by status and writes, under `<Prefix>/<map run id>/`, one JSON array
      per group, `SUCCEEDED_0.json` and `FAILED_0.json` (timed-out and aborted children go there
      too, each with its Status; `PENDING_0.json` would hold children never started, which this
      engine does not leave), each only when the group has members; then `manifest.json`
      ({"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED", "PENDING", "SUCCEEDED":
      [{"Key", "Size"}]}}). An entry is what the default NONE transformation gives: "Name",
      "ExecutionArn" (`...:execution:<state machine>/<map label>:<name>`), "StateMachineArn",
      "Input" and "Output" as JSON text, "InputDetails"/"OutputDetails" {"Included": true},
      "Status", "StartDate"/"StopDate" (ISO 8601), "RedriveCount", "RedriveStatus"; a failed
      child has "Error" and "Cause" instead of "Output". Input is the child's input (after
      ItemSelector); outcomes are recorded per item as each child ends (see `eval_child`).
    * ResultWriter's Parameters (`"Prefix.$": ...`) are evaluated against the Map state's input,
      as in Step Functions; moto evaluated them against the list of child outputs.
    * ToleratedFailureCount/Percentage are recorded but never applied by moto: a Map Run whose
      children failed still succeeded. Now, when the failed (or timed-out, or aborted) children
      exceed a threshold the definition gives (count: more than N; percentage: more than P% of
      the items; neither given: any failure), the Map state fails with
      States.ExceedToleratedFailureThreshold (which its Retry/Catch see), after the ResultWriter
      has written the results, as Step Functions still exports them. Unlike Step Functions,
      which stops a Map Run as soon as the threshold is crossed, every child still runs.
    """
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType, MapRunStatus
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent, FailureEventException)
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType)
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component)
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker)
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        distributed_iterator_worker)
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer import result_writer_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3)
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
    from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData

    children_lock = threading.Lock()

    def children(record) -> dict[int, dict]:
        with children_lock:
            if not hasattr(record, "harness_children"):
                record.harness_children = {}
            return record.harness_children

    def timestamp() -> str:
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    def eval_child(self, env, job) -> None:
        """One child execution: moto's worker, also recording the child's input and outcome."""
        record = self._map_run_record
        for counter in (record.item_counter, record.execution_counter):
            counter.total.count()
            counter.running.count()
        started, child_input, output, status, error, cause = timestamp(), job.job_input, None, "FAILED", None, None
        try:
            env.states.context_object.context_object_data["Map"] = MapData(
                Item=ItemData(Index=job.job_index, Value=job.job_input))
            env.states.reset(job.job_input)
            env.stack.append(env.states.get_input())
            self._eval_input(env_frame=env)
            child_input = env.states.get_input()
            job.job_program.eval(env)
            end = env.program_state()
            if isinstance(end, ProgramError):
                error, cause = (end.error or {}).get("error"), (end.error or {}).get("cause")
            elif isinstance(end, ProgramStopped):
                status, error, cause = "ABORTED", end.error, end.cause
            else:
                status, output = "SUCCEEDED", env.states.get_input()
        except EvalTimeoutError as timeout:
            status, error, cause = "TIMED_OUT", "States.Timeout", str(timeout) or None
        except FailureEventException as failure:
            error, cause = failure.extract_error_cause_pair() or (None, None)
        except Exception as err:  # noqa: BLE001 -- moto's worker counts any error as a failed item
            error, cause = "States.Runtime", str(err)
        finally:
            counted = {"SUCCEEDED": ("succeeded", "results_written"), "FAILED": ("failed",),
                       "ABORTED": ("aborted",), "TIMED_OUT": ("timed_out",)}[status]
            for counter in (record.item_counter, record.execution_counter):
                for name in counted:
                    getattr(counter, name).count()
                counter.running.offset(-1)
            job.job_output = output
            name = str(uuid.uuid4())
            child = {
                "ExecutionArn": record.map_state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name,
                "Input": json.dumps(child_input, separators=(",", ":")),
                "InputDetails": {"Included": True},
                "Name": name,
                "RedriveCount": 0,
                "RedriveStatus": "NOT_REDRIVABLE" if status == "SUCCEEDED" else "REDRIVABLE_BY_MAP_RUN",
                "StartDate": started,
                "StateMachineArn": record.map_state_machine_arn,
                "Status": status,
                "StopDate": timestamp(),
            }
            if status == "SUCCEEDED":
                child["Output"] = json.dumps(output, separators=(",", ":"))
                child["OutputDetails"] = {"Included": True}
                child["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
            else:
                child.update({k: v for k, v in (("Error", error), ("Cause", cause)) if v is not None})
            children(record)[job.job_index] = child

    distributed_item_processor_worker.DistributedItemProcessorWorker._eval_job = eval_child
    distributed_iterator_worker.DistributedIteratorWorker._eval_job = eval_child

    original_map_run = distributed_iteration_component.DistributedIterationComponent._map_run

    def map_run(self, env, eval_input) -> None:
        original_map_run(self, env, eval_input)
        record = eval_input.map_run_record
        outcomes = list(children(record).values())
        failed = sum(1 for child in outcomes if child["Status"] != "SUCCEEDED")
        count = eval_input.tolerated_failure_count or 0
        percentage = float(eval_input.tolerated_failure_percentage or 0.0)
        declared = getattr(_map_state, "declared_thresholds", (False, False))
        exceeded = [failed > count] if declared[0] or not any(declared) else []
        if declared[1]:
            exceeded.append(100.0 * failed / len(outcomes) > percentage)
        if failed and any(exceeded):
            threshold = FailureEventException(failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(
                    error=StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name(),
                    cause=(f"The Map Run's failed child executions ({failed} of {len(outcomes)}) exceed its "
                           f"tolerated failure threshold (count {count}, percentage {percentage}%)"),
                )),
            ))
            if getattr(_map_state, "has_result_writer", False):
                record.harness_threshold_exceeded = threshold  # raised once the results are written
            else:
                raise threshold

    distributed_iteration_component.DistributedIterationComponent._map_run = map_run

    original_eval_execution = state_map.StateMap._eval_execution

    def eval_execution(self, env) -> None:
        outer = (getattr(_map_state, "has_result_writer", False), getattr(_map_state, "declared_thresholds", None))
        _map_state.has_result_writer = self.result_writer is not None
        _map_state.declared_thresholds = getattr(self, "harness_declared_thresholds", (False, False))
        try:
            original_eval_execution(self, env)
        finally:
            _map_state.has_result_writer, _map_state.declared_thresholds = outer

    state_map.StateMap._eval_execution = eval_execution
    original_from_state_props = state_map.StateMap.from_state_props

    def from_state_props(self, state_props) -> None:
        # moto puts a default (0) in place of an absent threshold: which ones the definition gave?
        original_from_state_props(self, state_props)
        self.harness_declared_thresholds = (
            state_props.get(state_map.ToleratedFailureCountDecl) is not None,
            state_props.get(state_map.ToleratedFailurePercentageDecl) is not None,
        )

    state_map.StateMap.from_state_props = from_state_props

    def result_writer_eval(self, env) -> None:
        results = env.stack.pop()
        env.stack.append(env.states.get_input())  # Parameters' paths read the Map state's input
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()
        env.stack.extend([results, parameters])
        self.resource_eval.eval_resource(env=env)

    result_writer_decl.ResultWriter._eval_body = result_writer_eval

    def put_results(env, resource_runtime_part, state_credentials) -> None:
        parameters = env.stack.pop()
        env.stack.pop()  # the children's outputs: their records are richer
        s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
        record = env.map_run_record_pool_manager.get_all().pop()
        bucket, prefix = parameters["Bucket"], parameters.get("Prefix") or ""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        folder = prefix + record.map_run_arn.split(":")[-1] + "/"
        outcomes = [child for _, child in sorted(children(record).items())]
        files: dict[str, list[dict]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        for group in ("SUCCEEDED", "FAILED"):
            members = [c for c in outcomes if (c["Status"] == "SUCCEEDED") == (group == "SUCCEEDED")]
            if members:
                key, body = f"{folder}{group}_0.json", json.dumps(members).encode()
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                files[group].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
        key = folder + "manifest.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode())
        env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}})
        threshold = getattr(record, "harness_threshold_exceeded", None)
        if threshold is not None:
            record.set_stop(status=MapRunStatus.FAILED)
            raise threshold

    resource_eval_s3.ResourceEvalS3._handle_put_object = staticmethod(put_results)


def patch_events() -> None:
    """EventBridge rules that target a state machine start an execution, as in AWS.

    moto 5.2.1 delivers rule targets to log groups, SQS, archives and event buses only; a
    PutEvents that matches a rule with a Step Functions target fails with HTTP 500
    (NotImplementedError "Expr not defined for Rule"). The rule's other targets are still
    delivered by moto. The execution input is the target's Input, InputPath or InputTransformer
    result, else the event; its name is a fresh UUID, as EventBridge gives. A schedule rule
    (no event pattern) no longer receives every event put on its bus.
    """
    from moto.events.models import EventTemplateParser, Rule
    from moto.utilities.arns import parse_arn

    original = Rule.send_to_targets

    def send_to_targets(self, original_event, transform_input: bool = True) -> None:
        if self.scheduled_expression and not self.event_pattern.get_pattern():
            return  # a schedule rule: moto's empty pattern would match every event
        states = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
        if states and self.event_pattern.matches_event(original_event):
            import moto.stepfunctions.responses as sfn_responses

            event = dict(original_event)
            if isinstance(event.get("time"), (int, float)):
                event["time"] = datetime.datetime.fromtimestamp(event["time"], datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ")
            for target in states:
                if "Input" in target:
                    execution_input = target["Input"]
                elif "InputPath" in target:
                    from jsonpath_ng.ext import parse as jsonpath

                    matches = jsonpath(target["InputPath"]).find(event)
                    execution_input = json.dumps(matches[0].value if matches else None)
                elif "InputTransformer" in target and transform_input:
                    transformer = target["InputTransformer"]
                    execution_input = json.dumps(EventTemplateParser.parse(
                        input_template=transformer.get("InputTemplate"),
                        input_paths_map=transformer.get("InputPathsMap", {}),
                        event=event,
                    ))
                else:
                    execution_input = json.dumps(event, default=str)
                arn = parse_arn(target["Arn"])
                sfn_responses.get_backend(arn.account, arn.region).start_execution(
                    state_machine_arn=target["Arn"], name=str(uuid.uuid4()), execution_input=execution_input)
        others = [t for t in self.targets if parse_arn(t["Arn"]).service != "states"]
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original(rest, original_event, transform_input)

    Rule.send_to_targets = send_to_targets


# --- SSM Automation -------------------------------------------------------------------------

AUTOMATION_ACTIONS = {
    "StartAutomationExecution",
    "GetAutomationExecution",
    "DescribeAutomationExecutions",
    "DescribeAutomationStepExecutions",
}
PLACEHOLDER = re.compile(r"\{\{\s*([\w:.-]+)\s*\}\}")
# aws:executeScript: the runbook's script runs in a subprocess of this Python, whose boto3 picks
# up AWS_ENDPOINT_URL (this emulator); it prints the handler's return value as JSON.
SCRIPT_RUNNER = """
import json, sys, types
spec = json.load(sys.stdin)
module = types.ModuleType("runbook_script")
exec(compile(spec["script"], "<runbook script>", "exec"), module.__dict__)
handler = getattr(module, spec["handler"])
result = handler(spec["events"], {"automation:EXECUTION_ID": spec["execution_id"]})
sys.stdout.write("\\n" + json.dumps({"Payload": result}, default=str))
"""


class AutomationError(Exception):
    """An error answered to the caller, in the JSON protocol's shape."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class StepFailed(Exception):
    def __init__(self, message: str, failure_type: str = "Unknown", stage: str = "Invocation"):
        super().__init__(message)
        self.message, self.failure_type, self.stage = message, failure_type, stage


class Automation:
    """SSM Automation for schemaVersion 0.3 runbooks stored in moto's SSM backend.

    Why: moto 5.2.1 has no Automation (HTTP 500), and the remediation Lambda starts runbooks.
    StartAutomationExecution reads the document with GetDocument (so documents made by
    CloudFormation or CreateDocument both work), checks and types the parameters, then runs
    `mainSteps` before answering, so an execution is terminal (Success or Failed) as soon as the
    caller can see its id. Steps: `aws:executeAwsApi` calls this emulator with boto3 (Api in
    PascalCase; inputs are converted to the types the API's model asks for, so a JSON string
    given for a list or structure, like the IpPermissions of the security-group runbook, is
    parsed); `aws:executeScript` runs the Python script (InputPayload as `events`) with boto3
    aimed here; `aws:sleep` returns at once. Other actions fail the step. onFailure
    (Abort/Continue/step:NAME), isEnd, nextStep, maxAttempts and step outputs (Selector is a
    JSONPath on the response; `{{ step.Output }}` in later steps) are honoured. Records answer
    GetAutomationExecution, DescribeAutomationExecutions (filters DocumentNamePrefix,
    ExecutionStatus, ExecutionId, CurrentAction, StartTimeBefore/After, AutomationType, TagKey)
    and DescribeAutomationStepExecutions in the shapes of the SSM API reference.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.executions: dict[str, dict] = {}

    def reset(self) -> None:
        with self.lock:
            self.executions.clear()

    # The API ----------------------------------------------------------------------------------

    def handle(self, action: str, request: dict, region: str) -> dict:
        return getattr(self, action)(request, region)

    def StartAutomationExecution(self, request: dict, region: str) -> dict:  # noqa: N802
        import yaml

        name = request.get("DocumentName") or ""
        version = request.get("DocumentVersion")
        # SSM reads its own document store: not a call of the caller's, so marked internal.
        ssm = self.client("ssm", region, internal=True)
        try:
            document = ssm.get_document(Name=name, **({"DocumentVersion": version} if version else {}))
        except ssm.exceptions.ClientError as err:
            if version and err.response["Error"]["Code"] == "InvalidDocumentVersion":
                raise AutomationError("AutomationDefinitionVersionNotFoundException",
                                      f"Document {name} version {version} not found") from err
            raise AutomationError("AutomationDefinitionNotFoundException",
                                  f"Automation definition {name}:{version or '$DEFAULT'} not found") from err
        if document.get("DocumentType") != "Automation":
            raise AutomationError("AutomationDefinitionNotFoundException",
                                  f"{name} is a {document.get('DocumentType')} document, not an Automation runbook")
        content = document["Content"]
        if isinstance(content, str):  # (moto answers an object when CloudFormation gave one)
            content = yaml.safe_load(content)  # YAML is a superset of JSON
        if str(content.get("schemaVersion")) != "0.3":
            raise AutomationError("AutomationDefinitionNotFoundException",
                                  f"{name}: schemaVersion {content.get('schemaVersion')} is not 0.3")
        declared = content.get("parameters") or {}
        given = request.get("Parameters") or {}
        values, recorded = self.typed_parameters(declared, given)
        execution_id = str(uuid.uuid4())
        execution = {
            "AutomationExecutionId": execution_id,
            "DocumentName": name,
            "DocumentVersion": document.get("DocumentVersion", "1"),
            "ExecutionStartTime": time.time(),
            "AutomationExecutionStatus": "InProgress",
            "StepExecutions": [],
            "StepExecutionsTruncated": False,
            "Parameters": recorded,
            "Outputs": {},
            "Mode": request.get("Mode") or "Auto",
            "ExecutedBy": f"arn:aws:iam::{caller_account()}:root",
            "Tags": request.get("Tags") or [],
        }
        AUTOMATION_CALLER.step_key = self.runbook_access_key(content, values, region, execution_id)
        with self.lock:
            self.executions[execution_id] = execution
        variables = {
            **values,
            "global:ACCOUNT_ID": caller_account(),
            "global:REGION": region,
            "global:AWS_PARTITION": "aws",
            "global:DATE": time.strftime("%Y-%m-%d", time.gmtime()),
            "global:DATE_TIME": time.strftime("%m-%d-%Y_%H.%M.%S", time.gmtime()),
            "automation:EXECUTION_ID": execution_id,
        }
        try:
            self.run(execution, content, variables, region)
        except Exception as err:  # a bug of the emulation must not leave the execution InProgress
            execution.update(AutomationExecutionStatus="Failed", FailureMessage=f"emulator error: {err!r}")
        execution["ExecutionEndTime"] = time.time()
        return {"AutomationExecutionId": execution_id}

    @staticmethod
    def runbook_access_key(content: dict, values: dict, region: str, execution_id: str) -> str:
        """The credentials the steps run with: as in AWS, the runbook's `assumeRole` (SSM assumes
        it; the caller only passes it), else the caller's own. The role is assumed in-process,
        so no AssumeRole request appears as the caller's; the request log names the role and,
        in `assumed_by`, who started the runbook."""
        from moto.sts.models import sts_backends

        caller = getattr(AUTOMATION_CALLER, "access_key", "automation")
        if not content.get("assumeRole"):
            return caller
        try:
            role_arn = resolve(content["assumeRole"], values)
        except StepFailed as err:
            raise AutomationError("InvalidAutomationExecutionParametersException",
                                  f"assumeRole: {err.message}") from err
        account = ROLE_ARN_ACCOUNT.match(str(role_arn))
        if account is None:
            raise AutomationError("InvalidAutomationExecutionParametersException",
                                  f"assumeRole {role_arn!r} is not a role ARN")
        role = sts_backends[account.group(1)]["aws"].assume_role(
            region_name=region, role_session_name=f"Automation-{execution_id}"[:64], role_arn=role_arn,
            policy=None, duration=3600, external_id=None)
        ASSUMED_BY[role.access_key_id] = {"role": role_arn, "by": caller, "service": "ssm.amazonaws.com"}
        return role.access_key_id

    def GetAutomationExecution(self, request: dict, region: str) -> dict:  # noqa: N802
        execution = self.find(request.get("AutomationExecutionId"))
        public = {k: v for k, v in execution.items() if k != "Tags"}
        return {"AutomationExecution": public}

    def DescribeAutomationExecutions(self, request: dict, region: str) -> dict:  # noqa: N802
        with self.lock:
            executions = list(self.executions.values())
        # Each account sees its own executions.
        mine = f"arn:aws:iam::{caller_account()}:root"
        executions = [e for e in executions if e.get("ExecutedBy") == mine]
        for filt in request.get("Filters") or []:
            key, wanted = filt.get("Key"), filt.get("Values") or []
            test = self.execution_filter(key, wanted)
            executions = [e for e in executions if test(e)]
        executions.sort(key=lambda e: e["ExecutionStartTime"], reverse=True)
        page, token = self.page(executions, request)
        fields = ("AutomationExecutionId", "DocumentName", "DocumentVersion", "AutomationExecutionStatus",
                  "ExecutionStartTime", "ExecutionEndTime", "ExecutedBy", "Outputs", "Mode",
                  "CurrentStepName", "CurrentAction", "FailureMessage")
        listed = [{**{k: e[k] for k in fields if k in e}, "LogFile": "", "AutomationType": "Local"} for e in page]
        return {"AutomationExecutionMetadataList": listed, **({"NextToken": token} if token else {})}

    def DescribeAutomationStepExecutions(self, request: dict, region: str) -> dict:  # noqa: N802
        steps = list(self.find(request.get("AutomationExecutionId"))["StepExecutions"])
        for filt in request.get("Filters") or []:
            key, wanted = filt.get("Key"), filt.get("Values") or []
            fields = {"StepExecutionStatus": "StepStatus", "StepExecutionId": "StepExecutionId",
                      "StepName": "StepName", "Action": "Action"}
            if key in fields:
                steps = [s for s in steps if s.get(fields[key]) in wanted]
            elif key in ("StartTimeBefore", "StartTimeAfter"):
                bound = parse_time(wanted[0])
                steps = [s for s in steps if (s["ExecutionStartTime"] <= bound) == (key == "StartTimeBefore")]
            else:
                raise AutomationError("InvalidFilterKey", f"Invalid filter key: {key}")
        if request.get("ReverseOrder"):
            steps.reverse()
        page, token = self.page(steps, request)
        return {"StepExecutions": page, **({"NextToken": token} if token else {})}

    def find(self, execution_id: str | None) -> dict:
        with self.lock:
            execution = self.executions.get(execution_id or "")
        if execution is None:
            raise AutomationError("AutomationExecutionNotFoundException",
                                  f"Automation execution {execution_id} not found")
        return execution

    @staticmethod
    def execution_filter(key: str, wanted: list[str]):
        if key == "DocumentNamePrefix":
            return lambda e: any(e["DocumentName"].startswith(prefix) for prefix in wanted)
        if key == "ExecutionStatus":
            return lambda e: e["AutomationExecutionStatus"] in wanted
        if key == "ExecutionId":
            return lambda e: e["AutomationExecutionId"] in wanted
        if key == "CurrentAction":
            return lambda e: e.get("CurrentAction") in wanted
        if key == "AutomationType":
            return lambda e: "Local" in wanted
        if key == "TagKey":
            return lambda e: any(tag.get("Key") in wanted for tag in e["Tags"])
        if key in ("StartTimeBefore", "StartTimeAfter"):
            bound = parse_time(wanted[0])
            return lambda e: (e["ExecutionStartTime"] <= bound) == (key == "StartTimeBefore")
        if key in ("ParentExecutionId", "TargetResourceGroup", "AutomationSubtype", "OpsItemId"):
            return lambda e: False  # nothing the harness runs has these
        raise AutomationError("InvalidFilterKey", f"Invalid filter key: {key}")

    @staticmethod
    def page(items: list, request: dict) -> tuple[list, str | None]:
        start = int(request.get("NextToken") or 0)
        size = int(request.get("MaxResults") or 50)
        end = start + size
        return items[start:end], (str(end) if end < len(items) else None)

    # Running a runbook --------------------------------------------------------------------------

    @staticmethod
    def typed_parameters(declared: dict, given: dict) -> tuple[dict, dict]:
        """The parameter values, typed as the document declares, and the record of them."""
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise AutomationError("InvalidAutomationExecutionParametersException",
                                  f"Parameters {unknown} are not defined in the document")
        values, recorded = {}, {}
        for name, spec in declared.items():
            spec = spec or {}
            kind = spec.get("type", "String")
            if name in given:
                raw = given[name]
                if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                    raise AutomationError("InvalidAutomationExecutionParametersException",
                                          f"Parameter {name} must be a list of strings")
                try:
                    value = convert_parameter(kind, raw)
                except (ValueError, TypeError) as err:
                    raise AutomationError("InvalidAutomationExecutionParametersException",
                                          f"Parameter {name} is not a valid {kind}: {err}") from err
                recorded[name] = raw
            elif "default" in spec:
                value = spec["default"]
                recorded[name] = value if isinstance(value, list) else [
                    json.dumps(value) if isinstance(value, (dict, bool, int)) else str(value)]
            else:
                raise AutomationError("InvalidAutomationExecutionParametersException",
                                      f"Parameter {name} is required but was not given")
            allowed = spec.get("allowedValues")
            if allowed and any(v not in allowed for v in (value if isinstance(value, list) else [value])):
                raise AutomationError("InvalidAutomationExecutionParametersException",
                                      f"Parameter {name} must be one of {allowed}")
            pattern = spec.get("allowedPattern")
            if pattern and name in given and any(
                    not re.fullmatch(pattern, str(v)) for v in (value if isinstance(value, list) else [value])):
                raise AutomationError("InvalidAutomationExecutionParametersException",
                                      f"Parameter {name} does not match the allowed pattern {pattern}")
            values[name] = value
        return values, recorded

    def run(self, execution: dict, content: dict, variables: dict, region: str) -> None:
        steps = content.get("mainSteps") or []
        index_of = {step.get("name"): i for i, step in enumerate(steps)}
        i, failed = 0, None
        while i < len(steps):
            step = steps[i]
            record = self.run_step(step, variables, region, execution["AutomationExecutionId"])
            execution["StepExecutions"].append(record)
            execution["CurrentStepName"], execution["CurrentAction"] = record["StepName"], record["Action"]
            next_name = None
            if record["StepStatus"] == "Failed":
                on_failure = step.get("onFailure", "Abort")
                if on_failure.startswith("step:"):
                    next_name = on_failure[len("step:"):]
                elif on_failure != "Continue":
                    failed = record
                    break
                if step.get("isCritical", True) and failed is None:
                    failed = record  # the run goes on, but a critical step's failure fails it
            if next_name is None and step.get("isEnd"):
                break
            next_name = next_name or step.get("nextStep")
            if next_name is not None:
                if next_name not in index_of:
                    failed = {**record, "FailureMessage": f"next step {next_name} is not in the document"}
                    break
                i = index_of[next_name]
            else:
                i += 1
        outputs = {}
        for ref in content.get("outputs") or []:
            step_name, _, output = ref.partition(".")
            if f"{step_name}.{output}" in variables:
                outputs[ref] = as_string_list(variables[f"{step_name}.{output}"])
        execution["Outputs"] = outputs
        if failed is not None:
            execution["AutomationExecutionStatus"] = "Failed"
            execution["FailureMessage"] = (
                f"Step fails when it is executing. {failed['FailureMessage']} "
                f"(step {failed['StepName']}, action {failed['Action']})")
        else:
            execution["AutomationExecutionStatus"] = "Success"

    def run_step(self, step: dict, variables: dict, region: str, execution_id: str) -> dict:
        action = step.get("action", "")
        record = {
            "StepName": step.get("name", ""),
            "Action": action,
            "OnFailure": step.get("onFailure", "Abort"),
            "MaxAttempts": int(step.get("maxAttempts", 1)),
            "TimeoutSeconds": int(step.get("timeoutSeconds", 3600)),
            "ExecutionStartTime": time.time(),
            "StepExecutionId": str(uuid.uuid4()),
            "IsEnd": bool(step.get("isEnd", False)),
            "IsCritical": bool(step.get("isCritical", True)),
            "Inputs": {},
            "Outputs": {},
        }
        if step.get("nextStep"):
            record["NextStep"] = step["nextStep"]
        for attempt in range(max(1, record["MaxAttempts"])):
            try:
                inputs = resolve(step.get("inputs") or {}, variables)
                record["Inputs"] = {k: json.dumps(v, default=str) for k, v in inputs.items()}
                response = self.perform(action, inputs, region, execution_id)
                outputs = {}
                for output in step.get("outputs") or []:
                    value = select(response, output.get("Selector", "$"), output.get("Type", "String"))
                    variables[f"{record['StepName']}.{output['Name']}"] = value
                    outputs[output["Name"]] = as_string_list(value)
                if action == "aws:executeScript":
                    outputs["OutputPayload"] = [json.dumps(response, default=str)]
                record.update(StepStatus="Success", Outputs=outputs)
                record.pop("FailureMessage", None)
                record.pop("FailureDetails", None)
                break
            except StepFailed as err:
                record.update(StepStatus="Failed", FailureMessage=err.message, FailureDetails={
                    "FailureStage": err.stage, "FailureType": err.failure_type,
                    "Details": {"ExceptionMessage": [err.message]}})
        record["ExecutionEndTime"] = time.time()
        return record

    def perform(self, action: str, inputs: dict, region: str, execution_id: str):
        if action == "aws:executeAwsApi":
            return self.execute_aws_api(inputs, region)
        if action == "aws:executeScript":
            return self.execute_script(inputs, region, execution_id)
        if action == "aws:sleep":
            return {}
        raise StepFailed(f"the emulator does not run {action} steps", failure_type="Unsupported")

    def execute_aws_api(self, inputs: dict, region: str) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore import xform_name

        params = dict(inputs)
        service, api = params.pop("Service", None), params.pop("Api", None)
        if not service or not api:
            raise StepFailed("aws:executeAwsApi needs the inputs Service and Api", stage="Verification")
        try:
            client = self.client(service, region)
        except BotoCoreError as err:
            raise StepFailed(f"unknown service {service}: {err}", stage="Verification") from err
        model = client.meta.service_model
        if api not in model.operation_names:
            raise StepFailed(f"{service} has no API {api}", stage="Verification")
        shape = model.operation_model(api).input_shape
        params = conform(params, shape) if shape is not None else params
        try:
            response = getattr(client, xform_name(api))(**params)
        except ClientError as err:
            error = err.response.get("Error", {})
            raise StepFailed(f"An error occurred ({error.get('Code')}) when calling the {api} operation: "
                             f"{error.get('Message')}") from err
        except (BotoCoreError, ValueError, TypeError) as err:
            raise StepFailed(f"Fail to call {api}: {err}") from err
        response.pop("ResponseMetadata", None)
        return json.loads(json.dumps(response, default=str))

    def execute_script(self, inputs: dict, region: str, execution_id: str):
        script, handler = inputs.get("Script"), inputs.get("Handler")
        if not script or not handler:
            raise StepFailed("aws:executeScript needs the inputs Script and Handler (attachments are not emulated)",
                             stage="Verification")
        if not str(inputs.get("Runtime", "python")).startswith("python"):
            raise StepFailed(f"the emulator runs only Python scripts, not {inputs.get('Runtime')}",
                             failure_type="Unsupported")
        env = {**os.environ, "AWS_ENDPOINT_URL": ENGINE_TARGETS["self"], "AWS_REGION": region,
               "AWS_DEFAULT_REGION": region, "AWS_SECRET_ACCESS_KEY": "automation",
               # The script acts as the runbook's role (or the caller), in that account.
               "AWS_ACCESS_KEY_ID": Automation.step_key()}
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        spec = {"script": script, "handler": handler, "events": inputs.get("InputPayload") or {},
                "execution_id": execution_id}
        try:
            done = subprocess.run([sys.executable, "-c", SCRIPT_RUNNER], input=json.dumps(spec, default=str),
                                  capture_output=True, text=True, env=env, timeout=600)
        except subprocess.TimeoutExpired as err:
            raise StepFailed("the script timed out", failure_type="TimedOut") from err
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()
            raise StepFailed(f"the script failed: {tail[-1] if tail else f'exit status {done.returncode}'}\n"
                             + "\n".join(tail[-15:]))
        return json.loads(done.stdout.rsplit("\n", 1)[-1])

    @staticmethod
    def step_key() -> str:
        return getattr(AUTOMATION_CALLER, "step_key", None) or getattr(AUTOMATION_CALLER, "access_key", "automation")

    @staticmethod
    def client(service: str, region: str, internal: bool = False):
        """A client for the steps (as the runbook's role), or with `internal` for SSM's own work
        (as the caller, whose account holds the document; its requests are logged as internal)."""
        import boto3
        from botocore.config import Config

        access_key = getattr(AUTOMATION_CALLER, "access_key", "automation") if internal else Automation.step_key()
        client = boto3.client(service, region_name=region, endpoint_url=ENGINE_TARGETS["self"],
                              aws_access_key_id=access_key, aws_secret_access_key="automation",
                              config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
        if internal:
            def mark(request, **_):
                request.headers[INTERNAL_HEADER] = "ssm-automation"
            client.meta.events.register("before-sign", mark)
        return client


def convert_parameter(kind: str, raw: list[str]):
    if kind == "StringList":
        return list(raw)
    if kind == "MapList":  # each value a JSON object, or one JSON array of them
        values = [json.loads(v) for v in raw]
        return values[0] if len(values) == 1 and isinstance(values[0], list) else values
    if len(raw) != 1:
        raise ValueError(f"expected one value, got {len(raw)}")
    value = raw[0]
    if kind == "String":
        return value
    if kind == "Integer":
        return int(value)
    if kind == "Boolean":
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        return value.lower() == "true"
    if kind == "StringMap":
        return json.loads(value)
    return value


def resolve(value, variables: dict):
    """Replaces {{ name }}: a string that is only a placeholder takes the value as it is typed."""
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(name: str):
        if name not in variables:
            raise StepFailed(f"the variable {{{{ {name} }}}} is not defined", stage="Verification")
        return variables[name]

    whole = PLACEHOLDER.fullmatch(value.strip())
    if whole:
        return lookup(whole.group(1))
    return PLACEHOLDER.sub(lambda m: text_of(lookup(m.group(1))), value)


def text_of(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def as_string_list(value) -> list[str]:
    if isinstance(value, list):
        return [text_of(v) for v in value]
    return [text_of(value)]


def select(response, selector: str, kind: str):
    from jsonpath_ng.ext import parse as jsonpath

    matches = [m.value for m in jsonpath(selector).find(response)]
    if kind in ("StringList", "MapList"):
        return [v for m in matches for v in (m if isinstance(m, list) else [m])]
    if not matches:
        raise StepFailed(f"the selector {selector} matched nothing in the response")
    value = matches[0]
    if kind == "String":
        return text_of(value)
    if kind == "Integer":
        return int(value)
    if kind == "Boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value


def conform(value, shape):
    """Converts runbook values to what the API's model wants (JSON text for lists, "5" for 5...)."""
    kind = shape.type_name
    if isinstance(value, str) and kind in ("structure", "list", "map"):
        try:
            value = json.loads(value)
        except ValueError:
            return value  # the API will refuse it, with its own message
    if kind == "structure" and isinstance(value, dict):
        return {k: conform(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [conform(v, shape.member) for v in items]
    if kind == "map" and isinstance(value, dict):
        return {k: conform(v, shape.value) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind in ("float", "double") and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def parse_time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


AUTOMATION = Automation()


# The access key of the request being served: an execution acts in the caller's account, with
# the caller's credentials (moto maps an assumed role's access key to its account), as in AWS.
AUTOMATION_CALLER = threading.local()
ACCESS_KEY = re.compile(r"Credential=([^/]+)/")


def caller_account() -> str:
    from moto.iam.models import get_account_id_from

    return get_account_id_from(getattr(AUTOMATION_CALLER, "access_key", "automation"))


def automation_response(environ, start_response, action: str):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope = SIGV4_SCOPE.search(authorization)
    region = scope.group(1) if scope else "us-east-1"
    key = ACCESS_KEY.search(authorization)
    AUTOMATION_CALLER.access_key = key.group(1) if key else "automation"
    AUTOMATION_CALLER.step_key = None
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", str(uuid.uuid4()))]
    try:
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        status, body = "200 OK", AUTOMATION.handle(action, request, region)
    except AutomationError as err:
        status, body = "400 Bad Request", {"__type": err.code, "message": err.message}
    except ValueError as err:
        status, body = "400 Bad Request", {"__type": "SerializationException", "message": str(err)}
    data = json.dumps(body, default=str).encode()
    start_response(status, [*headers, ("Content-Length", str(len(data)))])
    return [data]


# --- Smithy RPC v2 CBOR ---------------------------------------------------------------------

RPC_V2_PATH = re.compile(r"/service/([^/]+)/operation/([^/]+)")
# Target prefix -> botocore service name, for the services the Rust SDK calls with RPC v2 CBOR.
RPC_V2_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}


def rpc_v2_cbor(app, environ, start_response, service_prefix: str, operation: str):
    """Serves a Smithy RPC v2 CBOR request by moto's JSON protocol for the same operation.

    Why: the Rust SDK calls CloudWatch (aws-sdk-cloudwatch 1.140: PutMetricData...) with RPC v2
    CBOR (`POST /service/GraniteServiceVersion20100801/operation/PutMetricData`, CBOR body,
    header `smithy-protocol: rpc-v2-cbor`), which moto 5.2.1 does not serve (the SDK sees
    "unhandled error"); boto3 falls back to the JSON protocol, which moto serves. The request is
    decoded with botocore's CBOR parser and replayed as `X-Amz-Target: Prefix.Operation` JSON;
    the answer is encoded back to CBOR with the operation's output shape (errors: `__type` and
    `message`).
    """
    import io

    import botocore.session
    from botocore.parsers import RpcV2CBORParser
    from botocore.serialize import RpcV2CBORSerializer

    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    parser = RpcV2CBORParser()
    params = parser.parse_data_item(parser.get_peekable_stream_from_bytes(raw)) if raw else {}
    body = json.dumps(params, default=lambda v: v.timestamp() if isinstance(v, datetime.datetime) else str(v))
    forwarded = {k: v for k, v in environ.items() if k not in ("HTTP_SMITHY_PROTOCOL", "HTTP_ACCEPT")}
    forwarded.update({
        "PATH_INFO": "/", "REQUEST_URI": "/", "RAW_URI": "/", "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-amz-json-1.0", "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_AMZ_TARGET": f"{service_prefix}.{operation}", "wsgi.input": io.BytesIO(body.encode()),
    })
    answer = {}

    def capture(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    data = b"".join(app(forwarded, capture))
    status = answer["status"]
    kept = [(k, v) for k, v in answer["headers"] if k.lower().startswith("x-amz")]
    result = json.loads(data) if data.strip() else {}
    out = bytearray()
    if status.startswith("2"):
        model = botocore.session.get_session().get_service_model(RPC_V2_SERVICES.get(service_prefix, service_prefix))
        shape = model.operation_model(operation).output_shape
        if shape is not None:
            RpcV2CBORSerializer()._serialize_data_item(out, result, shape)
    else:
        error = {"__type": str(result.get("__type", "InternalFailure")).split("#")[-1],
                 "message": str(result.get("message") or result.get("Message") or "")}
        out.extend(cbor_text_map(error))
    headers = [*kept, ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
               ("Content-Length", str(len(out)))]
    start_response(status, headers)
    return [bytes(out)]


def cbor_text_map(values: dict[str, str]) -> bytes:
    """CBOR for a map of text strings (RFC 8949: major types 5 and 3)."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError(n)

    out = bytearray(head(5, len(values)))
    for key, value in values.items():
        for text in (key, value):
            encoded = text.encode()
            out += head(3, len(encoded)) + encoded
    return bytes(out)


# --- The WSGI middleware ---------------------------------------------------------------------


# POST /_harness/securityhub-reject [{"generator_id": RULE, "times": N}]: each finding of that
# rule is refused by BatchImportFindings (in FailedFindings, as Security Hub reports a finding it
# could not take) its next N times; moto itself accepts every well-formed finding.
SECURITYHUB_REJECT: dict[str, int] = {}
SECURITYHUB_REJECTED: dict[str, int] = {}


def patch_cloudtrail() -> None:
    """ListTrails lists every trail of the account, each with its home region, whatever the
    region asked (as AWS does); moto lists only the trails visible in the region asked."""
    from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends

    def list_trails(self):
        return [t for backend in cloudtrail_backends[self.account_id].values() for t in backend.trails.values()]

    CloudTrailBackend.list_trails = list_trails


def patch_rds() -> None:
    from moto.rds import models as rds_models

    instance_init = rds_models.DBInstance.__init__

    def init(self, *args, **kwargs) -> None:
        instance_init(self, *args, **kwargs)
        self.monitoring_interval = int(kwargs.get("monitoring_interval") or 0)

    rds_models.DBInstance.__init__ = init

    modify_instance = rds_models.RDSBackend.modify_db_instance

    def modify(self, db_instance_identifier, db_kwargs):
        interval = db_kwargs.get("monitoring_interval")
        database = modify_instance(self, db_instance_identifier, db_kwargs)
        if interval is not None:
            database.monitoring_interval = int(interval)
        return database

    rds_models.RDSBackend.modify_db_instance = modify

    aurora_multi_az = rds_models.DBCluster.multi_az

    def multi_az(self) -> bool:
        return self.engine in ("mysql", "postgres") or aurora_multi_az.fget(self)

    rds_models.DBCluster.multi_az = property(multi_az)


def patch_securityhub() -> None:
    """BatchImportFindings: the harness's refusals (SECURITYHUB_REJECT), and the account rule.

    With the default product ARN (`product/<account>/default`, the only kind the scanner uses),
    Security Hub takes a finding only from the account it belongs to: its `AwsAccountId` and
    the product ARN's account must be the caller's (cross-account imports are for allow-listed
    partner integrations). moto 5.2.1 stores any finding in the caller's account whatever its
    `AwsAccountId`, so a scanner importing every member's findings through the management
    account would pass here and fail in AWS. Such a finding is now refused in FailedFindings
    (error code AccessDeniedException: the code AWS gives is not checked here).
    """
    from moto.securityhub.models import SecurityHubBackend

    original = SecurityHubBackend.batch_import_findings

    def foreign(self, finding) -> str | None:
        product = re.fullmatch(r"arn:[^:]+:securityhub:[^:]*:(\d{12}):product/(\d{12})/default",
                               str(finding.get("ProductArn", "")))
        owners = {finding.get("AwsAccountId")} | (set(product.groups()) if product else set())
        strangers = sorted(str(o) for o in owners if o and o != self.account_id)
        if not strangers:
            return None
        return (f"account {self.account_id} cannot import a finding of account {', '.join(strangers)} "
                "with the default product ARN")

    def batch_import_findings(self, findings):
        accepted, refused = [], []
        for finding in findings:
            reason = foreign(self, finding)
            if reason:
                refused.append({"Id": finding.get("Id"), "ErrorCode": "AccessDeniedException", "ErrorMessage": reason})
                continue
            times = SECURITYHUB_REJECT.get(finding.get("GeneratorId", ""), 0)
            seen = SECURITYHUB_REJECTED.get(finding.get("Id", ""), 0)
            if seen < times:
                SECURITYHUB_REJECTED[finding["Id"]] = seen + 1
                refused.append({"Id": finding["Id"], "ErrorCode": "InternalFailure",
                                "ErrorMessage": "rejected by the test harness"})
            else:
                accepted.append(finding)
        failed, succeeded, failures = original(self, accepted)
        return failed + len(refused), succeeded, failures + refused

    SecurityHubBackend.batch_import_findings = batch_import_findings


def patch_ec2() -> None:
    """DescribeSnapshots' owner and restorable-by filters; backdated stops (module docstring)."""
    from moto.core.responses import ActionResult
    from moto.ec2.models.instances import Instance
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore

    original_describe = ElasticBlockStore.describe_snapshots

    def describe_snapshots(self):
        result = original_describe(self)
        owners = set(self._get_param("OwnerIds", []) or [])
        restorable_by = set(self._get_param("RestorableByUserIds", []) or [])
        if not owners and not restorable_by:
            return result
        owners = {self.current_account if o == "self" else o for o in owners}

        def wanted(snapshot) -> bool:
            if owners and snapshot.owner_id not in owners and not (
                "amazon" in owners and getattr(snapshot, "owner_alias", None) == "amazon"
            ):
                return False
            if restorable_by:
                users = {self.current_account if u == "self" else u for u in restorable_by}
                public = "all" in users and "all" in snapshot.create_volume_permission_groups
                named = bool(users & set(snapshot.create_volume_permission_userids))
                own = self.current_account in users and snapshot.owner_id == self.current_account
                return public or named or own
            return True

        return ActionResult({"Snapshots": [s for s in result.result["Snapshots"] if wanted(s)]})

    ElasticBlockStore.describe_snapshots = describe_snapshots

    original_stop = Instance.stop

    def stop(self):
        previous = original_stop(self)
        days = next((t["value"] for t in self.get_tags() if t["key"] == "HarnessStoppedDaysAgo"), None)
        if days is not None:
            at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=int(days))
            self._reason = f"User initiated ({at.strftime('%Y-%m-%d %H:%M:%S')} GMT)"
        return previous

    Instance.stop = stop

    from moto.ec2.responses import EC2Response

    def settings(self) -> dict:
        return EC2_BLOCK_PUBLIC_ACCESS.setdefault(
            (self.current_account, self.region), {"snapshot": "unblocked", "igw": "off"})

    def get_snapshot_block_public_access_state(self):
        return ActionResult({"State": settings(self)["snapshot"], "ManagedBy": "account"})

    def enable_snapshot_block_public_access(self):
        settings(self)["snapshot"] = self._get_param("State")
        return ActionResult({"State": settings(self)["snapshot"]})

    def disable_snapshot_block_public_access(self):
        settings(self)["snapshot"] = "unblocked"
        return ActionResult({"State": "unblocked"})

    def options(self) -> dict:
        mode = settings(self)["igw"]
        return {"AwsAccountId": self.current_account, "AwsRegion": self.region,
                "State": "default-state" if mode == "off" else "update-complete",
                "InternetGatewayBlockMode": mode}

    def describe_vpc_block_public_access_options(self):
        return ActionResult({"VpcBlockPublicAccessOptions": options(self)})

    def modify_vpc_block_public_access_options(self):
        settings(self)["igw"] = self._get_param("InternetGatewayBlockMode")
        return ActionResult({"VpcBlockPublicAccessOptions": options(self)})

    for method in (get_snapshot_block_public_access_state, enable_snapshot_block_public_access,
                   disable_snapshot_block_public_access, describe_vpc_block_public_access_options,
                   modify_vpc_block_public_access_options):
        setattr(EC2Response, method.__name__, method)


# (account, region) -> {"snapshot": state, "igw": InternetGatewayBlockMode}; see `patch_ec2`.
EC2_BLOCK_PUBLIC_ACCESS: dict[tuple[str, str], dict[str, str]] = {}


def read_json(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(length) or b"null")


def set_account_summary(body: dict) -> None:
    """Sets the root user's MFA and access-key flags of one account's IAM account summary."""
    from moto.iam.models import iam_backends

    summary = iam_backends[str(body["account"])]["aws"].account_summary
    if "AccountMFAEnabled" in body:
        summary._account_mfa_enabled = int(body["AccountMFAEnabled"])
    if "AccountAccessKeysPresent" in body:
        summary._account_access_keys_present = int(body["AccountAccessKeysPresent"])


def with_harness_controls(app):
    """Control endpoints, per service/region denial and SSM Automation, in front of moto.

    POST /_harness/deny            ["service:region", ...]: refuse those (empty list: none)
    POST /_harness/deny-assume-role ["<account id>", ...]: sts:AssumeRole into a role of those
                                   accounts answers AccessDenied (HTTP 403), as STS does when the
                                   role does not trust the caller (empty list: none)
    POST /_harness/account-summary {"account", "AccountMFAEnabled"?, "AccountAccessKeysPresent"?}:
                                   the root user's settings IAM GetAccountSummary reports for
                                   that account (moto has no API that sets them; 0 or 1 each)
    POST /_harness/lambda-endpoint {"endpoint": URL | null}: where state machines call Lambda
    POST /_harness/securityhub-reject [{"generator_id", "times"}]: refuse those findings N times
    POST /_harness/request-log     {"path": FILE | null}: append one JSON line per AWS request to
                                   FILE (service, region, action, account acted in, access key,
                                   the role behind an assumed role's key and who assumed it; see
                                   `log_request`), or stop (bench/org.py counts a run's requests,
                                   tests/template/least_privilege.py checks who called what)
    POST /moto-api/reset           moto's reset, which also forgets Automation executions
    Smithy RPC v2 CBOR requests (the Rust SDK's CloudWatch) are replayed in moto's JSON protocol.
    """

    def wrapped(environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/_harness/request-log" and method == "POST":
            set_request_log((read_json(environ) or {}).get("path"))
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if REQUEST_LOG["file"] is None or (path or "").startswith(("/_harness/", "/moto-api")):
            return controlled(environ, start_response)
        keep_form_body(environ)

        def logged(status, headers, exc_info=None):
            log_request(environ, status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return controlled(environ, logged)

    def controlled(environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/_harness/deny" and method == "POST":
            pairs = read_json(environ) or []
            DENIED.clear()
            DENIED.update(tuple(pair.split(":", 1)) for pair in pairs)
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path == "/_harness/deny-assume-role" and method == "POST":
            accounts = read_json(environ) or []
            DENIED_ASSUME_ROLE.clear()
            DENIED_ASSUME_ROLE.update(str(account) for account in accounts)
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path == "/_harness/securityhub-reject" and method == "POST":
            SECURITYHUB_REJECT.clear()
            SECURITYHUB_REJECTED.clear()
            SECURITYHUB_REJECT.update({r["generator_id"]: int(r["times"]) for r in read_json(environ) or []})
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path == "/_harness/account-summary" and method == "POST":
            set_account_summary(read_json(environ) or {})
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path == "/_harness/lambda-endpoint" and method == "POST":
            ENGINE_TARGETS["lambda"] = (read_json(environ) or {}).get("endpoint") or None
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path == "/moto-api/reset" and method == "POST":
            AUTOMATION.reset()
            EC2_BLOCK_PUBLIC_ACCESS.clear()
        scope = SIGV4_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope and (scope.group(2), scope.group(1)) in DENIED:
            body = access_denied(scope.group(2))
            start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
            return [body]
        refused = denied_assume_role(environ)
        if refused is not None:
            start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(refused)))])
            return [refused]
        service, _, action = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
        if service == "AmazonSSM" and action in AUTOMATION_ACTIONS:
            return automation_response(environ, start_response, action)
        rpc_v2 = RPC_V2_PATH.fullmatch(path or "")
        if rpc_v2 and environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
            return rpc_v2_cbor(app, environ, start_response, rpc_v2.group(1), rpc_v2.group(2))
        return app(environ, start_response)

    return wrapped


def product_environment(port: int) -> dict[str, str]:
    """The variables that point the product (and the harness's own boto3 scripts) here.

    S3 Control's endpoint rules put the account id in front of a custom endpoint's host
    (`{account}.{host}`; an IP address or a path does not avoid it), so that name would have to
    resolve. Instead it is reached through an HTTP proxy, which the AWS SDKs take from
    HTTP_PROXY (the Rust SDK's default client since behavior version 2025-08-07; botocore
    always): the proxy is this server, whose werkzeug front serves absolute-form requests and
    takes the host from the URL; NO_PROXY keeps every other call direct. The `.invalid` name
    never resolves (RFC 2606), so a client that ignored the proxy would fail, not half-work.
    """
    here = f"http://127.0.0.1:{port}"
    return {
        "AWS_ENDPOINT_URL": here,
        "AWS_ENDPOINT_URL_S3_CONTROL": f"http://s3-control.invalid:{port}",
        # Both spellings: a lower-case one already in a developer's shell would win in Python.
        "HTTP_PROXY": here,
        "http_proxy": here,
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--lambda-endpoint", metavar="URL",
                        help="Lambda Invoke API that state machines call (e.g. lambda_bridge.py serve)")
    args = parser.parse_args()

    patch_s3()
    patch_s3control()
    patch_rds()
    patch_stepfunctions()
    patch_events()
    patch_cloudtrail()
    patch_securityhub()
    patch_ec2()
    patch_sts()
    ENGINE_TARGETS["lambda"] = args.lambda_endpoint
    # One log line per request drowns test output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # The ASL engine logs every failure of every nested component, caught or not, with the whole
    # parse tree; the execution history already tells which state failed and why.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.ERROR)
    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    class HarnessServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = with_harness_controls(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = HarnessServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    ENGINE_TARGETS["self"] = f"http://127.0.0.1:{port}"
    env = product_environment(port)
    print(json.dumps({**env, "port": port, "env": env}), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin() -> None:
        # Raw reads: a buffered sys.stdin read blocked in a daemon thread can abort the
        # interpreter at exit.
        try:
            while os.read(sys.stdin.fileno(), 1024):
                pass
        except OSError:
            pass
        stop.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
