#!/usr/bin/env python3
"""Least privilege, checked against the calls actually made (issue 12).

Reads the emulator's request logs that the workflow tests write (crates/cli/tests/
workflow_emulator.rs, one JSON line per AWS request: tests/harness/emulator.py `log_request`),
attributes each request to the role that made it, maps it to its IAM action, and compares:

  * each function's execution role (template.yaml: the function's Role and its managed policies)
    with the calls of that function's process (lambda_bridge.py gives each function its own
    access key, `function_access_key`);
  * the member role (member-role.yaml, remediation enabled) with the calls made through it by
    region-scan, store-report and remediate (keys whose AssumeRole the log traces to a function);
  * the runbooks' roles (template.yaml's AutomationRole, member-role.yaml's AutomationRole) with
    the calls of the runbooks SSM Automation ran as them for the remediate function.

A called action that is not granted fails. A granted action never called fails unless listed in
UNUSED_BUT_NEEDED with the reason (a failure path, or a branch the workflow tests do not take).
Actions AWS authorises on the caller's behalf (KMS through S3, DynamoDB and SNS; iam:PassRole;
the Lambda service's logs and traces) count as called when the request that needs them was made
(IMPLIED_BY_OPERATION, IMPLIED_BY_INVOCATION).

  .venv/bin/python tests/template/least_privilege.py --requests DIR   (`make test` runs it)
"""

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "tests/harness")]

from lambda_bridge import function_of_access_key  # noqa: E402
from test_template import MEMBER_TEMPLATE, Resolved, as_list, read_template, statements  # noqa: E402

# The member role's template resolved as a remediating member (every policy present).
MEMBER_PARAMETERS = {"ScannerAccountId": "222222222222", "ScannerEnvironment": "dev",
                     "OrganizationId": "o-abcdefghij", "EnableRemediation": "true"}

# --- Requests to IAM actions --------------------------------------------------------------------

# Signing name -> IAM service prefix, where the two differ.
PREFIX = {"monitoring": "cloudwatch", "s3control": "s3"}

# S3 bucket subresources (the request's query keys) -> IAM action, by method. S3's IAM names
# differ from its API names (Service Authorization Reference, Amazon S3, "Actions").
S3_BUCKET = {
    "GET": {"acl": "GetBucketAcl", "encryption": "GetEncryptionConfiguration",
            "lifecycle": "GetLifecycleConfiguration", "location": "GetBucketLocation",
            "logging": "GetBucketLogging", "notification": "GetBucketNotification",
            "object-lock": "GetBucketObjectLockConfiguration", "policy": "GetBucketPolicy",
            "policyStatus": "GetBucketPolicyStatus", "publicAccessBlock": "GetBucketPublicAccessBlock",
            "replication": "GetReplicationConfiguration", "tagging": "GetBucketTagging",
            "versioning": "GetBucketVersioning", "versions": "ListBucketVersions",
            "uploads": "ListBucketMultipartUploads", "": "ListBucket"},
    "PUT": {"encryption": "PutEncryptionConfiguration", "versioning": "PutBucketVersioning",
            "publicAccessBlock": "PutBucketPublicAccessBlock", "policy": "PutBucketPolicy",
            "tagging": "PutBucketTagging", "logging": "PutBucketLogging", "": "CreateBucket"},
    "HEAD": {"": "ListBucket"},
    "DELETE": {"": "DeleteBucket", "policy": "DeleteBucketPolicy"},
}
# S3 object requests: (method, subresource) -> (IAM action, API operation).
S3_OBJECT = {
    ("GET", ""): ("GetObject", "GetObject"), ("HEAD", ""): ("GetObject", "HeadObject"),
    ("PUT", ""): ("PutObject", "PutObject"), ("DELETE", ""): ("DeleteObject", "DeleteObject"),
    ("GET", "legal-hold"): ("GetObjectLegalHold", "GetObjectLegalHold"),
    ("PUT", "legal-hold"): ("PutObjectLegalHold", "PutObjectLegalHold"),
    ("GET", "retention"): ("GetObjectRetention", "GetObjectRetention"),
    ("PUT", "retention"): ("PutObjectRetention", "PutObjectRetention"),
    ("GET", "tagging"): ("GetObjectTagging", "GetObjectTagging"),
    ("PUT", "tagging"): ("PutObjectTagging", "PutObjectTagging"),
    ("POST", "uploads"): ("PutObject", "CreateMultipartUpload"),
    ("PUT", "partNumber,uploadId"): ("PutObject", "UploadPart"),
    ("POST", "uploadId"): ("PutObject", "CompleteMultipartUpload"),
    ("DELETE", "uploadId"): ("AbortMultipartUpload", "AbortMultipartUpload"),
    ("GET", "uploadId"): ("ListMultipartUploadParts", "ListParts"),
}
# Query keys that name no subresource: the SDK's operation hint and listing parameters.
S3_PLAIN_QUERY = {"x-id", "list-type", "prefix", "encoding-type", "continuation-token", "max-keys",
                  "delimiter", "start-after", "fetch-owner", "versionId"}
# REST paths (after the method) of the other REST APIs the functions call -> IAM action.
REST = [
    ("s3control", r"GET /v20180820/accesspoint", "s3:ListAccessPoints"),
    ("s3control", r"GET /v20180820/accesspoint/[^/]+", "s3:GetAccessPoint"),
    ("s3control", r"GET /v20180820/configuration/publicAccessBlock", "s3:GetAccountPublicAccessBlock"),
    ("s3control", r"GET /v20180820/mrap/instances", "s3:ListMultiRegionAccessPoints"),
    ("securityhub", r"POST /findings/import", "securityhub:BatchImportFindings"),
    ("securityhub", r"POST /findings", "securityhub:GetFindings"),
    ("securityhub", r"PATCH /findings/batchupdate", "securityhub:BatchUpdateFindings"),
    ("lambda", r"GET /2015-03-31/functions/?", "lambda:ListFunctions"),
    ("lambda", r"GET /2015-03-31/functions/[^/]+/policy/?", "lambda:GetPolicy"),
]


class UnknownRequest(ValueError):
    """A logged request this module cannot name the IAM action of (extend the tables above)."""


def iam_action(request: dict) -> tuple[str, str]:
    """(IAM action, API operation) of one logged request."""
    service, action = request["service"], request["action"]
    prefix = PREFIX.get(service, service)
    if service == "s3":
        return s3_action(action)
    if " " not in action:  # JSON target, query Action or RPC v2: the operation's own name
        return f"{prefix}:{action}", action
    for rest_service, pattern, iam in REST:
        if rest_service == service and re.fullmatch(pattern, action):
            return iam, iam.split(":", 1)[1]
    raise UnknownRequest(f"no IAM action known for {service} {action!r}")


def s3_action(action: str) -> tuple[str, str]:
    method, _, target = action.partition(" ")
    if target == "/":
        return ("s3:ListAllMyBuckets", "ListBuckets") if method == "GET" else unknown_s3(action)
    kind, _, query = target.partition("?")
    keys = sorted(k for k in query.split(",") if k and k not in S3_PLAIN_QUERY)
    subresource = ",".join(keys)
    if kind == "bucket":
        name = S3_BUCKET.get(method, {}).get(subresource)
        return (f"s3:{name}", name) if name else unknown_s3(action)
    if kind == "object":
        found = S3_OBJECT.get((method, subresource))
        return (f"s3:{found[0]}", found[1]) if found else unknown_s3(action)
    return unknown_s3(action)


def unknown_s3(action: str):
    raise UnknownRequest(f"no IAM action known for the S3 request {action!r}")


# --- Actions AWS checks for the caller without a request of its own ------------------------------

# API operation -> actions AWS authorises against the caller when serving it.
IMPLIED_BY_OPERATION = {
    # The reports bucket is SSE-KMS with the stack key: S3 asks KMS for a data key to write and
    # to decrypt one to read, with the caller's permissions (S3 User Guide, "Using server-side
    # encryption with AWS KMS keys": kms:GenerateDataKey to upload, kms:Decrypt to download and
    # to complete a multipart upload).
    "PutObject": {"kms:GenerateDataKey"},
    "CreateMultipartUpload": {"kms:GenerateDataKey", "kms:Decrypt"},
    "UploadPart": {"kms:GenerateDataKey"},
    "CompleteMultipartUpload": {"kms:Decrypt"},
    "GetObject": {"kms:Decrypt"},
    "HeadObject": {"kms:Decrypt"},
    # The topics are encrypted with the stack key: a publisher needs kms:GenerateDataKey and
    # kms:Decrypt on it (SNS Developer Guide, "Configuring AWS KMS permissions").
    "Publish": {"kms:GenerateDataKey", "kms:Decrypt"},
    # The tables are encrypted with the stack key: DynamoDB decrypts the table key with the
    # caller's permissions when its cache of it expires (DynamoDB Developer Guide, "How Amazon
    # DynamoDB uses AWS KMS"); writes also create new data keys.
    "GetItem": {"kms:Decrypt"}, "BatchGetItem": {"kms:Decrypt"}, "Query": {"kms:Decrypt"},
    "PutItem": {"kms:Decrypt", "kms:GenerateDataKey"}, "UpdateItem": {"kms:Decrypt", "kms:GenerateDataKey"},
    "BatchWriteItem": {"kms:Decrypt", "kms:GenerateDataKey"},
    # The remediate function always names the runbook's role (AutomationAssumeRole): passing a
    # role to SSM needs iam:PassRole on it (Systems Manager User Guide, "Configure a service role
    # for Automation").
    "StartAutomationExecution": {"iam:PassRole"},
}
# Every invoked function: Lambda writes its logs to its log group and sends its active-tracing
# segments with the execution role (Lambda Developer Guide, "Lambda execution role" and "Using
# AWS Lambda with AWS X-Ray").
IMPLIED_BY_INVOCATION = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                         "xray:PutTelemetryRecords"}
# An S3 GetObject of a missing key answers 404 NoSuchKey only to a caller allowed s3:ListBucket on
# the bucket, 403 AccessDenied to anyone else (S3 API Reference, GetObject, "Permissions"); the
# functions read optional documents and take NoSuchKey as "absent".
LIST_BUCKET_FOR_MISSING_KEYS = "s3:ListBucket"

# --- Grants no workflow test exercises, and why they stay -------------------------------------------

UNUSED_BUT_NEEDED = {
    # role label -> {action: reason}
    "AggregateRole": {
        LIST_BUCKET_FOR_MISSING_KEYS: "a unit's scan document that is missing (a unit whose Lambda never wrote "
                                      "it) must read as NoSuchKey, not AccessDenied: get_optional_json",
    },
    "AnalyzeRole": {
        LIST_BUCKET_FOR_MISSING_KEYS: "the run's documents are read with NoSuchKey meaning absent "
                                      "(read_run_document); without ListBucket a missing one is AccessDenied",
    },
    "RemediateRole": {
        LIST_BUCKET_FOR_MISSING_KEYS: "the run's documents are read with NoSuchKey meaning absent "
                                      "(read_run_document); without ListBucket a missing one is AccessDenied",
    },
    # The member role runs the scanner account's collectors (RegionScanRole calls each of these in
    # the management account's estate); these calls follow from resources the members lack.
    "member:MemberRole": {
        "cloudtrail:DescribeTrails": "called for the trails ListTrails returns; the test members have no trail "
                                     "(region-scan calls it in the management account)",
        "cloudtrail:GetTrailStatus": "per trail, as DescribeTrails",
        "cloudtrail:GetEventSelectors": "per trail, as DescribeTrails",
        "rds:DescribeDBSnapshotAttributes": "per manual DB snapshot; the test members have none "
                                            "(region-scan calls it in the management account)",
        "rds:DescribeDBClusterSnapshotAttributes": "per manual cluster snapshot; the test members have none",
        "s3:GetAccessPoint": "per access point ListAccessPoints returns; the test members have none "
                             "(region-scan calls it in the management account)",
        "lambda:GetPolicy": "per function ListFunctions returns; the test members have none "
                            "(region-scan calls it in the management account)",
    },
    "PlanRole": {
        "organizations:ListAccountsForParent": "only with the accounts parameter's organizational_units, which the "
                                               "workflow tests do not set (crates/plan/src/tests.rs covers it)",
        "organizations:ListOrganizationalUnitsForParent": "as ListAccountsForParent: the OU walk of "
                                                          "organizational_units",
    },
}


# --- Roles and their grants ---------------------------------------------------------------------------

def granted_actions(resolved: Resolved, role_logical_id: str) -> set[str]:
    """Every action the role's managed policies allow."""
    role = resolved.resources[role_logical_id]["Properties"]
    actions = set()
    for arn in role.get("ManagedPolicyArns", []):
        policy = resolved.resources[str(arn).strip("<>")]["Properties"]["PolicyDocument"]
        for statement in statements(policy):
            if statement.get("Effect") == "Allow":
                actions.update(as_list(statement["Action"]))
    return actions


class Roles:
    """The roles the check knows: each function's (by function name), the member role and the
    two runbook roles, each as (label, granted actions)."""

    def __init__(self):
        main = Resolved(read_template())
        member = Resolved(read_template(MEMBER_TEMPLATE), **MEMBER_PARAMETERS)
        self.function_role = {}  # function name -> role logical id
        self.granted = {}  # role label -> actions
        for logical_id, function in main.of_type("AWS::Serverless::Function").items():
            role = function["Properties"]["Role"].strip("<>").removesuffix(".Arn")
            self.function_role[function["Properties"]["FunctionName"]] = role
            self.granted[role] = granted_actions(main, role)
        self.member_role_name = main.parameters["MemberRoleName"]
        self.granted["member:MemberRole"] = granted_actions(member, "MemberRole")
        self.granted["member:AutomationRole"] = granted_actions(member, "AutomationRole")
        self.granted["AutomationRole"] = granted_actions(main, "AutomationRole")

    def label_of_role_arn(self, arn: str) -> str | None:
        name = arn.rsplit("/", 1)[-1]
        if name == self.member_role_name:
            return "member:MemberRole"
        if name == f"{self.member_role_name}-automation":
            return "member:AutomationRole"
        return None


def principal(request: dict, origin: dict[str, str], roles: Roles) -> tuple[str, str] | None:
    """(role label, function at the root of the chain) of a request made by a function or by a
    role a function's credentials led to; None for the harness, the CLI and the state machine."""
    key = request.get("access_key") or ""
    function = function_of_access_key(key)
    if function is not None:
        return roles.function_role.get(function, f"unknown function {function}"), function
    if not request.get("role"):
        return None
    root, seen = key, set()
    while root in origin and root not in seen:
        seen.add(root)
        root = origin[root]
    function = function_of_access_key(root)
    if function is None:
        return None  # a role the harness assumed (seeding, reading member findings)
    label = roles.label_of_role_arn(request["role"])
    if label is None and request.get("assumed_through") == "ssm.amazonaws.com":
        label = "AutomationRole"  # the runbook role remediate passes in its own account
    return label or f"unknown role {request['role']}", function


def read_requests(directory: Path) -> list[dict]:
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"least_privilege: no request logs in {directory} (run the workflow tests first: "
                         "cargo test -p compliance-cli --test workflow_emulator -- --include-ignored)")
    return [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]


def compare(requests: list[dict], roles: Roles) -> dict:
    """Per role: what it called (with the functions behind), what it lacks, what it never used."""
    origin = {r["access_key"]: r["assumed_by"] for r in requests if r.get("role") and r.get("assumed_by")}
    called: dict[str, dict[str, set[str]]] = {}  # role label -> action -> functions
    problems = []
    for request in requests:
        if request.get("internal"):
            continue
        who = principal(request, origin, roles)
        if who is None:
            continue
        label, function = who
        try:
            action, operation = iam_action(request)
        except UnknownRequest as err:
            problems.append(f"{label} ({function}): {err}")
            continue
        uses = called.setdefault(label, {})
        implied = {action} | IMPLIED_BY_OPERATION.get(operation, set())
        if label in roles.function_role.values():
            implied |= IMPLIED_BY_INVOCATION
        if operation == "GetObject" and request.get("status") == 404:
            implied.add(LIST_BUCKET_FOR_MISSING_KEYS)
        for one in implied:
            uses.setdefault(one, set()).add(function)
    result = {"problems": problems, "roles": {}}
    for label, actions in sorted(called.items()):
        if label not in roles.granted:
            problems.append(f"{label}: requests of a role this check does not know")
            continue
        granted = roles.granted[label]
        allowed_unused = UNUSED_BUT_NEEDED.get(label, {})
        result["roles"][label] = {
            "called": {a: sorted(f) for a, f in sorted(actions.items())},
            "missing": sorted(set(actions) - granted),
            "unused": sorted(granted - set(actions) - set(allowed_unused)),
            "unused_allowed": {a: r for a, r in sorted(allowed_unused.items()) if a in granted - set(actions)},
            "stale_allowances": sorted(a for a in allowed_unused if a in actions or a not in granted),
        }
    for label in sorted(set(roles.granted) - set(called)):
        problems.append(f"{label}: no request of this role in the logs (did the workflow tests run?)")
    return result


def report(result: dict) -> list[str]:
    """The failures, one line each (empty: least privilege holds)."""
    failures = list(result["problems"])
    for label, found in result["roles"].items():
        for action in found["missing"]:
            failures.append(f"{label}: calls {action} (by {', '.join(found['called'][action])}), which its "
                            "policies do not grant")
        for action in found["unused"]:
            failures.append(f"{label}: grants {action}, which no workflow test calls (remove it, or list it in "
                            "UNUSED_BUT_NEEDED with the reason)")
        for action in found["stale_allowances"]:
            failures.append(f"{label}: UNUSED_BUT_NEEDED lists {action}, which is called or not granted: drop it")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", required=True, type=Path, help="directory of the workflow tests' request logs")
    parser.add_argument("--verbose", action="store_true", help="print every role's calls")
    args = parser.parse_args()
    result = compare(read_requests(args.requests), Roles())
    for label, found in result["roles"].items():
        print(f"{label}: {len(found['called'])} actions called or implied, "
              f"{len(found['unused_allowed'])} unused but needed")
        for action, reason in found["unused_allowed"].items():
            print(f"  unused, kept: {action}: {reason}")
        if args.verbose:
            for action, functions in found["called"].items():
                print(f"  {action} ({', '.join(functions)})")
    failures = report(result)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print("least privilege: " + (f"{len(failures)} failures" if failures else "every grant called, every call granted"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
