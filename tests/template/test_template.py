#!/usr/bin/env python3
"""Tests on template.yaml and member-role.yaml themselves: the properties issues 5 and 10 ask of
the deployment, read from the templates (short-form intrinsics through cfn-lint's decoder), from
template.yaml's SAM transform (what CloudFormation receives), and from the templates resolved
for given parameter values (`Resolved`: conditions decided, intrinsics replaced).

  .venv/bin/python -m unittest discover -s tests/template -v      (make lint-template runs it)

Needs cfn-lint and aws-sam-translator (tests/harness/requirements.txt). No AWS, no emulator.
"""

import copy
import json
import os
import re
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
MEMBER_TEMPLATE = ROOT / "member-role.yaml"
REPLICA_TEMPLATE = ROOT / "replica.yaml"
ASL = ROOT / "statemachine/compliance_scan.asl.json"
TAG_KEYS = {"Project", "Environment", "Owner", "CostCenter", "ComplianceLevel"}
FUNCTIONS = {  # logical id -> binary (crates/<name>)
    "PlanFunction": "plan",
    "RegionScanFunction": "region-scan",
    "AggregateFunction": "aggregate",
    "AnalyzeFunction": "analyze",
    "AlertFunction": "alert",
    "RemediateFunction": "remediate",
    "StoreReportFunction": "store-report",
}
REGION = "us-east-1"
# The functions that assume the member role in member accounts (their roles have fixed names).
MEMBER_ROLE_USERS = {"RegionScan": "region-scan", "StoreReport": "store-report", "Remediate": "remediate"}
DOCUMENTS = ("RemediateUnencryptedS3BucketDocument", "RemediatePublicRdsInstanceDocument",
             "RemediateOpenSecurityGroupDocument")


def read_template(path: Path = TEMPLATE) -> dict:
    from cfnlint.decode import decode

    template, errors = decode(str(path))
    if template is None:
        raise AssertionError(f"cannot read {path}: {errors}")
    return json.loads(json.dumps(template))


SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/"
# Actions whose "Resource types" column is empty in the IAM Service Authorization Reference (the
# page of each service, below): a policy can grant them only on "*". Every other action must name
# its resource (test_star_resources_only_where_the_api_has_none, and the member role's test).
RESOURCELESS = {
    **dict.fromkeys([
        "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeVpcs",
        "ec2:DescribeFlowLogs", "ec2:DescribeVpcEndpoints", "ec2:DescribeSubnets", "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeSnapshots",
        "ec2:GetEbsEncryptionByDefault", "ec2:GetSnapshotBlockPublicAccessState",
        "ec2:DescribeVpcBlockPublicAccessOptions"], SAR + "list_amazonec2.html"),
    **dict.fromkeys([
        "s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:GetAccessPoint",
        "s3:ListMultiRegionAccessPoints"], SAR + "list_amazons3.html"),
    "sts:GetCallerIdentity": SAR + "list_awssecuritytokenservice.html",
    **dict.fromkeys(["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                     "xray:GetSamplingTargets"], SAR + "list_awsx-ray.html"),
    "cloudwatch:PutMetricData": SAR + "list_amazoncloudwatch.html",
    # Step Functions' own guidance for these: "Resource": "*" (the destination log group is named
    # in the state machine's logging configuration, not in the policy).
    **dict.fromkeys([
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups"], "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html"),
    **dict.fromkeys(["cloudtrail:ListTrails", "cloudtrail:DescribeTrails"], SAR + "list_awscloudtrail.html"),
    **dict.fromkeys(["iam:GetAccountSummary", "iam:ListVirtualMFADevices"],
                    SAR + "list_awsidentityandaccessmanagementiam.html"),
    "lambda:ListFunctions": SAR + "list_awslambda.html",
}


NO_VALUE = object()


class Resolved:
    """A template as CloudFormation would see it for the given parameters: conditions decided,
    resources and outputs whose condition is false left out, Ref / Fn::Sub / Fn::If / Fn::GetAtt
    replaced (a resource's Ref becomes `<Logical>`, a GetAtt `<Logical.Attr>`)."""

    PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": "111111111111", "AWS::Partition": "aws",
              "AWS::StackName": "stack", "AWS::URLSuffix": "amazonaws.com"}

    def __init__(self, template: dict, region: str = REGION, **parameters):
        self.pseudo = dict(self.PSEUDO, **{"AWS::Region": region})
        unknown = set(parameters) - set(template["Parameters"])
        if unknown:
            raise AssertionError(f"no such parameter: {unknown}")
        self.parameters = {name: str(spec["Default"]) for name, spec in template["Parameters"].items()
                           if "Default" in spec}
        self.parameters.update(parameters)
        self.template = template
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self.condition(name)
        self.resources = {logical: self.value(resource) for logical, resource in template["Resources"].items()
                          if self.holds(resource)}
        self.outputs = {key: self.value(output) for key, output in template.get("Outputs", {}).items()
                        if self.holds(output)}

    def holds(self, node: dict) -> bool:
        return "Condition" not in node or self.condition(node["Condition"])

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template["Parameters"]:
            raise AssertionError(f"parameter {name} has no default and no value")
        return f"<{name}>"

    def sub(self, text: str, variables: dict) -> str:
        def one(match):
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".")[0] in self.template["Resources"]:
                return f"<{name}>"
            return str(self.ref(name))
        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def value(self, node):
        if isinstance(node, list):
            return [v for v in (self.value(v) for v in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
                return self.sub(text, variables)
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::GetAtt":
                return f"<{arg if isinstance(arg, str) else '.'.join(arg)}>"
            if key == "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key == "Fn::Split":
                return str(self.value(arg[1])).split(arg[0])
            if key == "Fn::Select":
                return self.value(arg[1])[int(arg[0])]
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def of_type(self, kind: str) -> dict:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}

    def actions(self, logical_id: str) -> set[str]:
        document = self.resources[logical_id]["Properties"]["PolicyDocument"]
        return {a for s in statements(document) for a in as_list(s["Action"])}


class _NoManagedPolicies:
    """The template names no AWS managed policy through SAM, so SAM's loader has nothing to load."""

    def load(self):
        return {}


def transformed(template: dict) -> dict:
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    template = copy.deepcopy(template)
    # As `sam package` does: local code and definitions become S3 locations.
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://package-bucket/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            props["DefinitionUri"] = f"s3://package-bucket/{logical_id}.asl.json"
    return transform(template, {}, _NoManagedPolicies())


def statements(document: dict) -> list[dict]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def policy_documents(template: dict):
    """(logical id, kind, document) of every policy document in the template."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"):
            if isinstance(props.get(key), dict):
                yield logical_id, resource["Type"], props[key]
        for policy in props.get("Policies", []) if isinstance(props.get("Policies"), list) else []:
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                yield logical_id, resource["Type"], policy["PolicyDocument"]


def refs(node) -> set[str]:
    """Every logical id or parameter a fragment references (Ref, GetAtt, ${...} of Sub)."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                if isinstance(value, list):
                    found |= refs(value[1])
            else:
                found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


class TemplateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.raw = read_template()
        cls.cfn = transformed(cls.raw)
        cls.resources = cls.cfn["Resources"]

    def of_type(self, kind: str, template: dict | None = None) -> dict:
        return {k: r for k, r in (template or self.cfn)["Resources"].items() if r["Type"] == kind}

    def props(self, logical_id: str) -> dict:
        return self.resources[logical_id].get("Properties", {})

    # --- IAM --------------------------------------------------------------------------------
    def test_managed_policies_only(self):
        for template in (self.raw, self.cfn):
            for logical_id, resource in template["Resources"].items():
                self.assertNotIn(resource["Type"], ("AWS::IAM::Policy", "AWS::IAM::UserPolicy",
                                                    "AWS::IAM::GroupPolicy", "AWS::IAM::RolePolicy"), logical_id)
                props = resource.get("Properties", {})
                self.assertNotIn("Policies", props, f"{logical_id}: inline policies (or SAM policy templates)")
        for logical_id, role in self.of_type("AWS::IAM::Role").items():
            arns = role["Properties"].get("ManagedPolicyArns", [])
            self.assertTrue(arns, f"{logical_id} has no managed policy")
            for arn in arns:
                target = arn.get("Ref") if isinstance(arn, dict) else None
                self.assertIn(target, self.resources, f"{logical_id}: {arn} is not a policy of this stack")
                self.assertEqual(self.resources[target]["Type"], "AWS::IAM::ManagedPolicy")
        for logical_id, function in self.of_type("AWS::Lambda::Function").items():
            self.assertIn("Fn::GetAtt", function["Properties"]["Role"], f"{logical_id}: role generated by SAM")

    def test_no_wildcard_actions_granted(self):
        for logical_id, kind, document in policy_documents(self.cfn):
            for statement in statements(document):
                if statement.get("Effect") != "Allow":
                    continue  # a Deny on s3:* (TLS only) is the point
                self.assertNotIn("NotAction", statement, logical_id)
                for action in as_list(statement.get("Action", [])):
                    self.assertNotIn("*", action, f"{logical_id} ({kind}) allows {action}")

    def test_star_resources_only_where_the_api_has_none(self):
        # The actions AWS authorises on no resource (RESOURCELESS, with sources); anything else
        # must name its resource.
        resourceless = set(RESOURCELESS)
        # Organizations' ARNs name the management account and the organization, which the stack
        # does not know: the plan function's read-only listing is the one exception.
        organization_reads = {
            "organizations:DescribeOrganization", "organizations:DescribeAccount", "organizations:ListAccounts",
            "organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent",
        }
        for logical_id, policy in self.of_type("AWS::IAM::ManagedPolicy").items():
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                if "*" in as_list(statement["Resource"]):
                    allowed = resourceless | (organization_reads if logical_id == "PlanPolicy" else set())
                    extra = set(as_list(statement["Action"])) - allowed
                    self.assertFalse(extra, f"{logical_id}: {extra} on *")
        metrics = [s for p in self.of_type("AWS::IAM::ManagedPolicy").values()
                   for s in statements(p["Properties"]["PolicyDocument"]) if s["Action"] == "cloudwatch:PutMetricData"]
        self.assertTrue(all(s["Condition"]["StringEquals"]["cloudwatch:namespace"] == "ComplianceScanner"
                            for s in metrics))

    def test_automation_role_limited_to_the_three_remediations(self):
        document = self.props("AutomationPolicy")["PolicyDocument"]
        actions = {a for s in statements(document) for a in as_list(s["Action"])}
        self.assertEqual(actions, {"s3:PutEncryptionConfiguration", "rds:ModifyDBInstance",
                                   "ec2:RevokeSecurityGroupIngress"})

    def test_scan_role_is_read_only_outside_its_own_scan_documents(self):
        for statement in statements(self.props("RegionScanPolicy")["PolicyDocument"]):
            for action in as_list(statement["Action"]):
                service, name = action.split(":")
                if service in ("ec2", "rds", "s3", "ssm", "sts", "cloudtrail", "iam", "lambda") and re.match(r"(Describe|Get|List)", name):
                    continue
                if action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                    continue
                if action == "s3:PutObject":
                    self.assertEqual(refs(statement["Resource"]), {"ReportsBucket"})
                    self.assertTrue(statement["Resource"]["Fn::Sub"].endswith("/runs/*"))
                    continue
                if action == "kms:GenerateDataKey":
                    self.assertEqual(refs(statement["Resource"]), {"ScannerKey"})
                    continue
                if action == "sts:AssumeRole":
                    # Only into the member role, whose own policies are read-only (MemberRoleTest).
                    self.assertEqual(statement["Resource"],
                                     {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"})
                    continue
                self.fail(f"region-scan may {action}")

    def test_state_machine_invokes_only_its_own_functions(self):
        document = self.props("StateMachinePolicy")["PolicyDocument"]
        invoke = [s for s in statements(document) if "lambda:InvokeFunction" in as_list(s["Action"])]
        self.assertEqual(len(invoke), 1)
        self.assertEqual(refs(invoke[0]["Resource"]), set(FUNCTIONS))
        for statement in statements(document):
            self.assertFalse(any(a.startswith("lambda:") for a in as_list(statement["Action"])) and statement is not invoke[0])

    def test_kms_use_goes_through_the_stack_services(self):
        for logical_id, policy in self.of_type("AWS::IAM::ManagedPolicy").items():
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                    self.assertIn("kms:ViaService", statement["Condition"]["StringEquals"], logical_id)

    # --- Functions ----------------------------------------------------------------------------
    def test_every_function_is_arm64_al2023_traced_reserved_and_logged(self):
        functions = self.of_type("AWS::Lambda::Function")
        self.assertEqual(set(functions), set(FUNCTIONS))
        for logical_id, function in functions.items():
            p = function["Properties"]
            self.assertEqual(p["Architectures"], ["arm64"], logical_id)
            self.assertEqual(p["Runtime"], "provided.al2023", logical_id)
            self.assertEqual(p["Handler"], "bootstrap", logical_id)
            self.assertEqual(p["TracingConfig"], {"Mode": "Active"}, logical_id)
            self.assertIsInstance(p["ReservedConcurrentExecutions"], int, logical_id)
            self.assertGreater(p["ReservedConcurrentExecutions"], 0, logical_id)
            self.assertIn(p["MemorySize"], (256, 512), logical_id)
            group = p["LoggingConfig"]["LogGroup"]["Ref"]
            log_group = self.props(group)
            self.assertEqual(self.resources[group]["Type"], "AWS::Logs::LogGroup")
            self.assertEqual(log_group["RetentionInDays"], {"Ref": "LogRetentionDays"}, group)
            self.assertEqual(log_group["KmsKeyId"], {"Fn::GetAtt": ["ScannerKey", "Arn"]}, group)
            self.assertEqual(log_group["LogGroupName"]["Fn::Sub"],
                             f"/aws/lambda/compliance-scanner-{FUNCTIONS[logical_id]}-${{Environment}}")
            raw = self.raw["Resources"][logical_id]
            self.assertEqual(raw["Metadata"]["BuildMethod"], "rust-cargolambda")
            self.assertEqual(raw["Metadata"]["BuildProperties"]["Binary"], FUNCTIONS[logical_id])
            self.assertTrue((ROOT / "crates" / FUNCTIONS[logical_id]).is_dir())

    def test_memory_follows_the_benchmark(self):
        memory = {k: f["Properties"]["MemorySize"] for k, f in self.of_type("AWS::Lambda::Function").items()}
        self.assertEqual(memory["RegionScanFunction"], 256)
        for logical_id in ("AggregateFunction", "AnalyzeFunction", "StoreReportFunction"):
            self.assertEqual(memory[logical_id], 512, logical_id)

    def test_environment_holds_names_only(self):
        for logical_id, function in self.of_type("AWS::Lambda::Function").items():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            for name, value in variables.items():
                self.assertRegex(name, r"^(REPORTS_BUCKET|[A-Z_]+_(TABLE|TOPIC_ARN|ROLE_ARN)|METRICS_NAMESPACE)$")
                self.assertTrue(isinstance(value, dict) or value == "ComplianceScanner", f"{logical_id} {name}")
            self.assertEqual(variables["REPORTS_BUCKET"], {"Ref": "ReportsBucket"})
        store = self.props("StoreReportFunction")
        self.assertEqual(store["Environment"]["Variables"]["FINDINGS_TABLE"], {"Ref": "FindingsTable"})
        self.assertEqual(store["Timeout"], 300)

    # --- Buckets ------------------------------------------------------------------------------
    def test_every_bucket_encrypted_blocked_and_tls_only(self):
        buckets = self.of_type("AWS::S3::Bucket")
        self.assertEqual(set(buckets), {"ReportsBucket", "AccessLogsBucket"})
        policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
                    for p in self.of_type("AWS::S3::BucketPolicy").values()}
        for logical_id, bucket in buckets.items():
            p = bucket["Properties"]
            rule = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            self.assertIn(rule["SSEAlgorithm"], ("aws:kms", "AES256"), logical_id)
            self.assertEqual(p["PublicAccessBlockConfiguration"], {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True}, logical_id)
            self.assertEqual(p["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced")
            self.assertEqual(p["VersioningConfiguration"]["Status"], "Enabled")
            deny = [s for s in statements(policies[logical_id]) if s["Effect"] == "Deny"
                    and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}]
            self.assertEqual(len(deny), 1, f"{logical_id}: TLS-only statement")
            self.assertEqual(deny[0]["Principal"], "*")
            self.assertEqual(deny[0]["Action"], "s3:*")
            self.assertEqual(len(deny[0]["Resource"]), 2, "the bucket and its objects")

    def test_reports_bucket_kms_object_lock_by_environment(self):
        p = self.props("ReportsBucket")
        encryption = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        self.assertEqual(encryption["ServerSideEncryptionByDefault"],
                         {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["ScannerKey", "Arn"]}})
        self.assertTrue(encryption["BucketKeyEnabled"])
        self.assertTrue(p["ObjectLockEnabled"])
        lock = p["ObjectLockConfiguration"]
        self.assertEqual(lock["ObjectLockEnabled"], "Enabled")
        self.assertEqual(lock["Rule"]["DefaultRetention"], {"Fn::If": [
            "IsProduction", {"Mode": "COMPLIANCE", "Years": 7},
            {"Mode": "GOVERNANCE", "Days": {"Ref": "ReportRetentionDays"}}]})
        self.assertEqual(self.cfn["Conditions"]["IsProduction"], {"Fn::Equals": [{"Ref": "Environment"}, "production"]})
        self.assertLessEqual(self.cfn["Parameters"]["ReportRetentionDays"]["Default"], 7, "short outside production")
        self.assertEqual(self.resources["ReportsBucket"]["DeletionPolicy"], "Retain")
        key = self.props("ScannerKey")
        self.assertTrue(key["EnableKeyRotation"])
        self.assertEqual(self.resources["ScannerKey"]["DeletionPolicy"], "Retain")

    def test_reports_bucket_lifecycle_tiers_and_intelligent_tiering(self):
        rules = {r["Id"]: r for r in self.props("ReportsBucket")["LifecycleConfiguration"]["Rules"]}
        self.assertTrue(all(r["Status"] == "Enabled" for r in rules.values()))
        tiers = rules["report-storage-tiers"]
        self.assertEqual(tiers["Prefix"], "reports/")
        self.assertEqual([(t["StorageClass"], t["TransitionInDays"]) for t in tiers["Transitions"]],
                         [("STANDARD_IA", 30), ("INTELLIGENT_TIERING", 90), ("DEEP_ARCHIVE", 365)])
        self.assertNotIn("ExpirationInDays", tiers, "reports are never expired by lifecycle")
        noncurrent = rules["noncurrent-versions"]
        self.assertEqual(noncurrent["NoncurrentVersionExpiration"]["NoncurrentDays"],
                         {"Fn::If": ["IsProduction", 2557, 30]}, "no noncurrent version outlives its lock by much")
        self.assertEqual(noncurrent["NoncurrentVersionTransitions"], {"Fn::If": [
            "IsProduction", [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 30}], {"Ref": "AWS::NoValue"}]})
        self.assertIn("abort-incomplete-multipart-uploads", rules)
        tiering = self.props("ReportsBucket")["IntelligentTieringConfigurations"]
        self.assertEqual(len(tiering), 1)
        self.assertEqual(tiering[0]["Status"], "Enabled")
        self.assertEqual({(t["AccessTier"], t["Days"]) for t in tiering[0]["Tierings"]},
                         {("ARCHIVE_ACCESS", 90), ("DEEP_ARCHIVE_ACCESS", 180)})

    def test_access_logging_to_the_log_bucket(self):
        logging = self.props("ReportsBucket")["LoggingConfiguration"]
        self.assertEqual(logging["DestinationBucketName"], {"Ref": "AccessLogsBucket"})
        self.assertEqual(logging["LogFilePrefix"], "reports-bucket/")
        self.assertIn("PartitionedPrefix", logging["TargetObjectKeyFormat"])
        log_bucket = self.props("AccessLogsBucket")
        self.assertEqual(log_bucket["BucketName"]["Fn::Sub"],
                         "compliance-scanner-access-logs-${AWS::AccountId}-${Environment}")
        self.assertTrue(log_bucket["LifecycleConfiguration"]["Rules"])
        self.assertEqual(self.props("ReportsBucket")["BucketName"]["Fn::Sub"],
                         "compliance-scanner-reports-${AWS::AccountId}-${Environment}")
        # The log bucket lets S3 logging write for the reports bucket only.
        policy = [p for p in self.of_type("AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": "AccessLogsBucket"}][0]
        allow = [s for s in statements(policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Allow"]
        self.assertEqual(len(allow), 1)
        self.assertEqual(allow[0]["Principal"], {"Service": "logging.s3.amazonaws.com"})
        self.assertIn("compliance-scanner-reports-${AWS::AccountId}-${Environment}",
                      allow[0]["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"])

    # --- Disaster recovery: replication to the replica bucket (issue 13) -------------------------
    REPLICA = {"ReplicaBucketArn": "arn:aws:s3:::compliance-scanner-replica-111111111111-production",
               "ReplicaKmsKeyArn": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    REPLICATION = ("ReplicationPolicy", "ReplicationRole", "ReplicationLatencyAlarm", "ReplicationFailuresAlarm")

    def test_no_replication_without_the_replica_parameters(self):
        for parameters in ({}, {"ReplicaBucketArn": self.REPLICA["ReplicaBucketArn"]},
                           {"ReplicaKmsKeyArn": self.REPLICA["ReplicaKmsKeyArn"]}):
            resolved = Resolved(self.cfn, Environment="production", **parameters)
            self.assertNotIn("ReplicationConfiguration", resolved.resources["ReportsBucket"]["Properties"], parameters)
            for logical_id in self.REPLICATION:
                self.assertNotIn(logical_id, resolved.resources, parameters)
            self.assertNotIn("ReplicationRoleArn", resolved.outputs)
        for name in ("ReplicaBucketArn", "ReplicaKmsKeyArn"):
            self.assertEqual(self.cfn["Parameters"][name]["Default"], "")
            self.assertRegex("", self.cfn["Parameters"][name]["AllowedPattern"])
            self.assertRegex(self.REPLICA[name], self.cfn["Parameters"][name]["AllowedPattern"])

    def test_reports_bucket_replicates_every_object_under_the_dr_key(self):
        resolved = Resolved(self.cfn, Environment="production", **self.REPLICA)
        for logical_id in self.REPLICATION:
            self.assertIn(logical_id, resolved.resources)
        replication = resolved.resources["ReportsBucket"]["Properties"]["ReplicationConfiguration"]
        self.assertEqual(replication["Role"], "<ReplicationRole.Arn>")
        [rule] = replication["Rules"]
        self.assertEqual(rule["Status"], "Enabled")
        self.assertEqual(rule["Filter"], {"Prefix": ""}, "every object: reports, run documents, scans")
        self.assertEqual(rule["DeleteMarkerReplication"], {"Status": "Disabled"})
        self.assertEqual(rule["SourceSelectionCriteria"], {"SseKmsEncryptedObjects": {"Status": "Enabled"}})
        destination = rule["Destination"]
        self.assertEqual(destination["Bucket"], self.REPLICA["ReplicaBucketArn"])
        self.assertEqual(destination["EncryptionConfiguration"], {"ReplicaKmsKeyID": self.REPLICA["ReplicaKmsKeyArn"]})
        self.assertEqual(destination["ReplicationTime"], {"Status": "Enabled", "Time": {"Minutes": 15}})
        self.assertEqual(destination["Metrics"], {"Status": "Enabled", "EventThreshold": {"Minutes": 15}})
        # Object Lock retention is carried over only when both buckets have Object Lock.
        self.assertTrue(resolved.resources["ReportsBucket"]["Properties"]["ObjectLockEnabled"])
        self.assertEqual(resolved.outputs["ReplicationRoleArn"]["Value"], "<ReplicationRole.Arn>")

    def test_replication_role_least_privilege(self):
        resolved = Resolved(self.cfn, Environment="production", **self.REPLICA)
        role = resolved.resources["ReplicationRole"]["Properties"]
        self.assertEqual(role["RoleName"], "compliance-scanner-replication-production")
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust["Principal"], {"Service": "s3.amazonaws.com"})
        self.assertEqual(trust["Condition"], {"StringEquals": {"aws:SourceAccount": "111111111111"}})
        self.assertEqual(role["ManagedPolicyArns"], ["<ReplicationPolicy>"])
        source = "arn:aws:s3:::compliance-scanner-reports-111111111111-production"
        grants = {}
        for statement in statements(resolved.resources["ReplicationPolicy"]["Properties"]["PolicyDocument"]):
            self.assertEqual(statement["Effect"], "Allow")
            for action in as_list(statement["Action"]):
                grants[action] = (statement["Resource"], statement.get("Condition"))
        self.assertEqual(grants, {
            "s3:GetReplicationConfiguration": (source, None),
            "s3:ListBucket": (source, None),
            "s3:GetObjectVersionForReplication": (f"{source}/*", None),
            "s3:GetObjectVersionAcl": (f"{source}/*", None),
            "s3:GetObjectVersionTagging": (f"{source}/*", None),
            "s3:GetObjectRetention": (f"{source}/*", None),
            "s3:GetObjectLegalHold": (f"{source}/*", None),
            "s3:ReplicateObject": (f"{self.REPLICA['ReplicaBucketArn']}/*", None),
            "s3:ReplicateTags": (f"{self.REPLICA['ReplicaBucketArn']}/*", None),
            "kms:Decrypt": ("<ScannerKey.Arn>", {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}),
            "kms:Encrypt": (self.REPLICA["ReplicaKmsKeyArn"],
                            {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}),
        })
        # The source bucket the policy names is the reports bucket.
        self.assertEqual(resolved.resources["ReportsBucket"]["Properties"]["BucketName"],
                         "compliance-scanner-reports-111111111111-production")

    def test_replication_alarms_to_the_failure_topic(self):
        resolved = Resolved(self.cfn, Environment="production", **self.REPLICA)
        by_metric = {a["Properties"]["MetricName"]: a["Properties"]
                     for a in resolved.of_type("AWS::CloudWatch::Alarm").values()
                     if a["Properties"]["Namespace"] == "AWS/S3"}
        self.assertEqual(set(by_metric), {"ReplicationLatency", "OperationsFailedReplication"})
        for metric, p in by_metric.items():
            self.assertEqual(p["AlarmActions"], ["<FailureTopic>"], metric)
            self.assertEqual({d["Name"]: d["Value"] for d in p["Dimensions"]}, {
                "SourceBucket": "<ReportsBucket>",
                "DestinationBucket": "compliance-scanner-replica-111111111111-production",
                "RuleId": "replicate-all-to-dr"}, metric)
        [rule] = resolved.resources["ReportsBucket"]["Properties"]["ReplicationConfiguration"]["Rules"]
        self.assertEqual(rule["Id"], "replicate-all-to-dr")
        latency = by_metric["ReplicationLatency"]
        self.assertEqual((latency["ComparisonOperator"], latency["Threshold"]), ("GreaterThanThreshold", 900),
                         "beyond Replication Time Control's 15 minutes")
        failed = by_metric["OperationsFailedReplication"]
        self.assertEqual((failed["ComparisonOperator"], failed["Threshold"]), ("GreaterThanOrEqualToThreshold", 1))

    # --- Disaster recovery: backups of the tables (issue 13) -------------------------------------
    def test_backup_plan_daily_cold_after_30_days_retention_parameterised(self):
        resolved = Resolved(self.cfn, Environment="production")
        [rule] = resolved.resources["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
        self.assertEqual(rule["TargetBackupVault"], "<BackupVault>")
        self.assertRegex(rule["ScheduleExpression"], r"^cron\(\d+ \d+ \* \* \? \*\)$", "daily")
        self.assertEqual(rule["Lifecycle"], {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": "2557"})
        self.assertNotIn("CopyActions", rule, "no DR vault, no copy")
        retention = self.cfn["Parameters"]["BackupRetentionDays"]
        self.assertEqual(retention["Default"], 2557, "as long as the reports' 7-year lock")
        self.assertGreaterEqual(retention["MinValue"], 30 + 90, "cold storage keeps 90 days at least")

    def test_backup_copied_to_the_dr_vault_when_given(self):
        vault = "arn:aws:backup:eu-west-1:111111111111:backup-vault:compliance-scanner-dr"
        resolved = Resolved(self.cfn, Environment="production", DrBackupVaultArn=vault, BackupRetentionDays="400")
        [rule] = resolved.resources["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
        self.assertEqual(rule["CopyActions"], [{"DestinationBackupVaultArn": vault, "Lifecycle": {
            "MoveToColdStorageAfterDays": 30, "DeleteAfterDays": "400"}}])
        [copy_statement] = [s for s in statements(resolved.resources["BackupPolicy"]["Properties"]["PolicyDocument"])
                            if s["Sid"] == "CopyRecoveryPoints"]
        self.assertIn(vault, copy_statement["Resource"])
        self.assertRegex(vault, self.cfn["Parameters"]["DrBackupVaultArn"]["AllowedPattern"])
        self.assertEqual(self.cfn["Parameters"]["DrBackupVaultArn"]["Default"], "")

    def test_backup_selection_is_the_three_tables(self):
        selection = self.props("BackupSelection")
        self.assertEqual(selection["BackupPlanId"], {"Ref": "BackupPlan"})
        self.assertEqual(selection["BackupSelection"]["IamRoleArn"], {"Fn::GetAtt": ["BackupRole", "Arn"]})
        self.assertEqual(refs(selection["BackupSelection"]["Resources"]),
                         {"HistoryTable", "FindingsTable", "RemediationTable"})
        for table in ("HistoryTable", "FindingsTable", "RemediationTable"):
            self.assertTrue(self.props(table)["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
                            f"{table}: PITR stays on")
        role = self.props("BackupRole")
        self.assertEqual(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
                         {"Service": "backup.amazonaws.com"})
        self.assertEqual(role["ManagedPolicyArns"], [{"Ref": "BackupPolicy"}])
        actions = self.resolved_actions("BackupPolicy")
        self.assertFalse({a for a in actions if a.startswith("dynamodb:")} - {
            "dynamodb:DescribeTable", "dynamodb:CreateBackup", "dynamodb:StartAwsBackupJob",
            "dynamodb:ListTagsOfResource", "dynamodb:DescribeBackup", "dynamodb:DeleteBackup"})

    def resolved_actions(self, logical_id: str) -> set[str]:
        return Resolved(self.cfn).actions(logical_id)

    def test_backup_vault_own_key_locked_in_production(self):
        vault = self.props("BackupVault")
        self.assertEqual(vault["EncryptionKeyArn"], {"Fn::GetAtt": ["BackupKey", "Arn"]})
        self.assertTrue(self.props("BackupKey")["EnableKeyRotation"])
        self.assertEqual(self.resources["BackupKey"]["DeletionPolicy"], "Retain")
        self.assertEqual(self.resources["BackupVault"]["DeletionPolicy"], "Retain")
        production = Resolved(self.cfn, Environment="production", BackupRetentionDays="3000")
        lock = production.resources["BackupVault"]["Properties"]["LockConfiguration"]
        self.assertEqual(lock["MinRetentionDays"], "3000", "no recovery point goes before its retention")
        self.assertIn("ChangeableForDays", lock, "compliance mode once the grace period ends")
        self.assertNotIn("LockConfiguration", Resolved(self.cfn, Environment="dev").resources["BackupVault"]["Properties"])
        self.assertEqual(production.resources["BackupVault"]["Properties"]["BackupVaultName"],
                         "compliance-scanner-production")

    # --- DynamoDB -----------------------------------------------------------------------------
    def test_tables_on_demand_pitr_cmk_ttl(self):
        tables = self.of_type("AWS::DynamoDB::Table")
        self.assertEqual(set(tables), {"HistoryTable", "FindingsTable", "RemediationTable"})
        for logical_id, table in tables.items():
            p = table["Properties"]
            self.assertEqual(p["BillingMode"], "PAY_PER_REQUEST", logical_id)
            self.assertTrue(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], logical_id)
            self.assertEqual(p["SSESpecification"], {"SSEEnabled": True, "SSEType": "KMS",
                                                     "KMSMasterKeyId": {"Fn::GetAtt": ["ScannerKey", "Arn"]}}, logical_id)
            self.assertEqual(p["TimeToLiveSpecification"], {"AttributeName": "expires_at", "Enabled": True}, logical_id)

    def test_findings_table_and_its_index(self):
        p = self.props("FindingsTable")
        self.assertEqual(p["TableName"], {"Fn::Sub": "compliance-scanner-findings-${Environment}"})
        self.assertEqual(p["KeySchema"], [{"AttributeName": "finding_id", "KeyType": "HASH"}])
        index = {i["IndexName"]: i for i in p["GlobalSecondaryIndexes"]}["account-state-index"]
        self.assertEqual(index["KeySchema"], [{"AttributeName": "account_state", "KeyType": "HASH"},
                                              {"AttributeName": "last_seen_at", "KeyType": "RANGE"}])
        self.assertEqual(index["Projection"], {"ProjectionType": "ALL"})
        types = {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]}
        self.assertEqual(types, {"finding_id": "S", "account_state": "S", "last_seen_at": "S"})
        # store-report may use the table and that index, and nothing else of it.
        document = self.props("StoreReportPolicy")["PolicyDocument"]
        lifecycle = [s for s in statements(document) if "FindingsTable" in refs(s["Resource"])]
        self.assertEqual(len(lifecycle), 1)
        # What findings_table.rs calls (least_privilege.py checks it against the calls made).
        self.assertEqual(set(lifecycle[0]["Action"]), {
            "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"})

    # --- SNS, EventBridge ------------------------------------------------------------------------
    def test_topics_encrypted_with_a_publisher_policy(self):
        topics = self.of_type("AWS::SNS::Topic")
        self.assertEqual(set(topics), {"AlertsTopic", "FailureTopic"})
        policies = {}
        for policy in self.of_type("AWS::SNS::TopicPolicy").values():
            for topic in policy["Properties"]["Topics"]:
                policies[topic["Ref"]] = policy["Properties"]["PolicyDocument"]
        for logical_id, topic in topics.items():
            self.assertEqual(topic["Properties"]["KmsMasterKeyId"], {"Ref": "ScannerKey"}, logical_id)
            document = policies[logical_id]
            denies = [s for s in statements(document) if s["Effect"] == "Deny" and s["Action"] == "sns:Publish"]
            self.assertTrue(any("aws:PrincipalArn" in s["Condition"].get("ArnNotEquals", {}) for s in denies),
                            f"{logical_id}: only the intended publishers")
            self.assertTrue(any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies))
        subscriptions = self.of_type("AWS::SNS::Subscription", self.raw)
        self.assertEqual({s["Condition"] for s in subscriptions.values()}, {"HasAlertEmail", "HasFailureEmail"})

    def test_every_rule_target_retries_then_dead_letters(self):
        rules = self.of_type("AWS::Events::Rule")
        self.assertEqual(set(rules), {"ScheduledScanRule", "OnDemandScanRule", "ConfigurationChangeRule",
                                      "SecurityHubFindingsRule"})
        for logical_id, rule in rules.items():
            for target in rule["Properties"]["Targets"]:
                self.assertEqual(target["DeadLetterConfig"]["Arn"],
                                 {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}, logical_id)
                self.assertGreater(target["RetryPolicy"]["MaximumRetryAttempts"], 0)
                self.assertIn("MaximumEventAgeInSeconds", target["RetryPolicy"])
        self.assertEqual(rules["ScheduledScanRule"]["Properties"]["ScheduleExpression"], {"Ref": "ScheduleExpression"})
        pattern = rules["ConfigurationChangeRule"]["Properties"]["EventPattern"]
        self.assertEqual(pattern["source"], ["aws.ssm"])
        self.assertEqual(pattern["detail-type"], ["Parameter Store Change"])
        self.assertEqual(pattern["detail"]["name"], [{"prefix": "/compliance/scanner/"}])
        self.assertEqual(rules["ConfigurationChangeRule"]["Properties"]["Targets"][0]["Arn"], {"Ref": "FailureTopic"})
        queue = self.props("EventsDeadLetterQueue")
        self.assertEqual(queue["KmsMasterKeyId"], {"Ref": "ScannerKey"})
        queue_policy = list(self.of_type("AWS::SQS::QueuePolicy").values())[0]["Properties"]["PolicyDocument"]
        allowed = [s for s in statements(queue_policy) if s["Effect"] == "Allow"]
        self.assertEqual(refs(allowed[0]["Condition"]["ArnEquals"]["aws:SourceArn"]), set(rules))

    # --- State machine ------------------------------------------------------------------------
    def test_state_machine_standard_traced_logged(self):
        machines = self.of_type("AWS::StepFunctions::StateMachine")
        self.assertEqual(len(machines), 1)
        p = list(machines.values())[0]["Properties"]
        self.assertEqual(p["StateMachineType"], "STANDARD")
        self.assertEqual(p["TracingConfiguration"], {"Enabled": True})
        logging = p["LoggingConfiguration"]
        self.assertEqual(logging["Level"], "ALL")
        self.assertEqual(logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"],
                         {"Fn::GetAtt": ["StateMachineLogGroup", "Arn"]})
        group = self.props("StateMachineLogGroup")
        self.assertIn("KmsKeyId", group)
        self.assertIn("RetentionInDays", group)

    # --- CloudWatch -----------------------------------------------------------------------------
    def test_alarms_to_the_failure_topic(self):
        alarms = self.of_type("AWS::CloudWatch::Alarm")
        by_metric = {}
        for logical_id, alarm in alarms.items():
            p = alarm["Properties"]
            self.assertEqual(p["AlarmActions"], [{"Ref": "FailureTopic"}], logical_id)
            self.assertTrue(p["AlarmName"]["Fn::Sub"].startswith("compliance-scanner-${Environment}-"),
                            "the failure topic's policy admits alarms by this prefix")
            by_metric.setdefault((p["Namespace"], p["MetricName"]), []).append(p)
        self.assertIn(("AWS/States", "ExecutionsFailed"), by_metric)
        self.assertIn(("AWS/States", "ExecutionsTimedOut"), by_metric)
        no_success = by_metric[("AWS/States", "ExecutionsSucceeded")][0]
        self.assertEqual(no_success["TreatMissingData"], "breaching")
        self.assertEqual(no_success["ComparisonOperator"], "LessThanThreshold")
        self.assertEqual(no_success["EvaluationPeriods"], {"Ref": "MaxHoursWithoutSuccessfulScan"})
        self.assertEqual(no_success["Period"], 3600)
        self.assertEqual(self.cfn["Parameters"]["MaxHoursWithoutSuccessfulScan"]["Default"], 48,
                         "twice the default daily schedule")
        errors = by_metric[("AWS/Lambda", "Errors")]
        self.assertEqual({a["Dimensions"][0]["Value"]["Ref"] for a in errors}, set(FUNCTIONS))
        self.assertIn(("ComplianceScanner", "RemediationsFailed"), by_metric)

    def test_dashboard_and_alarms_use_emitted_metrics(self):
        """Every ComplianceScanner metric of the dashboard and alarms is emitted by store-report
        (its Metric names) or derived by a metric filter from a log line the code writes."""
        code = "\n".join(path.read_text() for path in (ROOT / "crates/store-report/src").rglob("*.rs"))
        emitted = set(re.findall(r'(?:name:\s*|count\()"([A-Za-z]+)"', code))
        filters = self.of_type("AWS::Logs::MetricFilter")
        derived = set()
        remediate = (ROOT / "crates/remediate/src/main.rs").read_text()
        for logical_id, metric_filter in filters.items():
            p = metric_filter["Properties"]
            message = re.search(r'\$\.fields\.message = "([^"]+)"', p["FilterPattern"]).group(1)
            self.assertIn(f'"{message}"', remediate, f"{logical_id}: remediate no longer logs {message!r}")
            for transformation in p["MetricTransformations"]:
                field = transformation["MetricValue"].removeprefix("$.fields.")
                self.assertRegex(remediate, rf"tracing::info!\([^;]*\b{field}\b[^;]*\"{message}\"")
                derived.add(transformation["MetricName"])
        body = self.props("Dashboard")["DashboardBody"]["Fn::Sub"]
        used = set(re.findall(r'\["ComplianceScanner", "([A-Za-z]+)"', body))
        used |= set(re.findall(r'MetricName=\\"([A-Za-z]+)\\"', body))
        alarms = {a["Properties"]["MetricName"] for a in self.of_type("AWS::CloudWatch::Alarm").values()
                  if a["Properties"]["Namespace"] == "ComplianceScanner"}
        self.assertTrue(used)
        self.assertFalse((used | alarms) - emitted - derived, "metrics nobody emits")
        self.assertTrue({"ComplianceScore", "Findings", "FindingsByRegion", "FindingsByService"} <= used)
        dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "X", body))
        self.assertGreaterEqual(len(dashboard["widgets"]), 8)
        for namespace, metric in (("AWS/Lambda", "Errors"), ("AWS/Lambda", "Duration"), ("AWS/Lambda", "Throttles"),
                                  ("AWS/States", "ExecutionsStarted"), ("AWS/States", "ExecutionsFailed"),
                                  ("AWS/States", "ExecutionTime")):
            self.assertIn(f'["{namespace}", "{metric}"', body)

    # --- Parameter Store ------------------------------------------------------------------------
    def test_config_parameters_documented_and_no_secret_created(self):
        parameters = {p["Properties"]["Name"]: p["Properties"] for p in self.of_type("AWS::SSM::Parameter").values()}
        for name, p in parameters.items():
            self.assertTrue(name.startswith("/compliance/scanner/config/"), name)
            self.assertIn(p["Type"], ("String", "StringList"))
        self.assertEqual({n.rsplit("/", 1)[1] for n in parameters},
                         {"regions", "required-tags", "mutelist", "thresholds", "remediation", "findings",
                          "scan-fanout", "accounts"})
        findings = json.loads(parameters["/compliance/scanner/config/findings"]["Value"]["Fn::Sub"]
                              .replace("${AWS::Region}", REGION))
        self.assertEqual(findings, {"security_hub": {"enabled": True, "region": REGION}, "resolved_retention_days": 90})
        for name in ("thresholds", "remediation", "mutelist"):
            json.loads(parameters[f"/compliance/scanner/config/{name}"]["Value"])
        docs = (ROOT / "docs/parameters.md").read_text()
        for name in list(parameters) + ["/compliance/scanner/config/services", "/compliance/scanner/config/webhook",
                                        "/compliance/scanner/secrets/security-hub-api-key"]:
            self.assertTrue(f"`{name}`" in docs, f"docs/parameters.md does not document {name}")

    # --- Organization workflow (issue 10) --------------------------------------------------------
    def test_plan_function_lists_the_organization_and_writes_the_plan_only(self):
        function = self.props("PlanFunction")
        self.assertEqual(function["FunctionName"], {"Fn::Sub": "compliance-scanner-plan-${Environment}"})
        self.assertEqual(function["Environment"]["Variables"], {"REPORTS_BUCKET": {"Ref": "ReportsBucket"}})
        self.assertEqual(function["Role"], {"Fn::GetAtt": ["PlanRole", "Arn"]})
        self.assertEqual(self.props("PlanRole")["ManagedPolicyArns"],
                         [{"Ref": "PlanPolicy"}, {"Ref": "LambdaTracingPolicy"}])
        by_action = {}
        for statement in statements(self.props("PlanPolicy")["PolicyDocument"]):
            for action in as_list(statement["Action"]):
                by_action[action] = statement
        self.assertEqual(set(by_action), {
            "logs:CreateLogStream", "logs:PutLogEvents", "ssm:GetParameter", "ssm:GetParameters",
            "organizations:ListAccounts", "organizations:ListAccountsForParent",
            "organizations:ListOrganizationalUnitsForParent", "sts:GetCallerIdentity", "s3:PutObject",
            "kms:GenerateDataKey"})
        self.assertEqual(by_action["logs:PutLogEvents"]["Resource"], {"Fn::GetAtt": ["PlanLogGroup", "Arn"]})
        for resource in as_list(by_action["ssm:GetParameter"]["Resource"]):
            self.assertRegex(resource["Fn::Sub"], r":parameter/compliance/scanner/config(/\*)?$")
        self.assertEqual(by_action["s3:PutObject"]["Resource"], {"Fn::Sub": "${ReportsBucket.Arn}/runs/*"})
        self.assertFalse(any(a.startswith(("organizations:Create", "organizations:Update", "organizations:Delete"))
                             for a in by_action))

    def test_member_role_users_have_fixed_names_and_assume_only_the_member_role(self):
        member = read_template(MEMBER_TEMPLATE)
        trusted = Resolved(member, ScannerAccountId="222222222222", ScannerEnvironment="production",
                           OrganizationId="o-abcdefghij").resources["MemberRole"]
        admitted = trusted["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnLike"]["aws:PrincipalArn"]
        names = []
        for logical, function in MEMBER_ROLE_USERS.items():
            name = self.props(f"{logical}Role")["RoleName"]
            self.assertEqual(name, {"Fn::Sub": f"compliance-scanner-{function}-${{Environment}}"})
            longest = name["Fn::Sub"].replace("${Environment}", "x" * 10)
            self.assertLessEqual(len(longest), 64, "IAM role names have at most 64 characters")
            names.append(f"arn:aws:iam::222222222222:role/{name['Fn::Sub'].replace('${Environment}', 'production')}")
        self.assertEqual(sorted(admitted), sorted(names), "member-role.yaml admits exactly these roles")

        assuming = {}
        for logical_id, policy in self.of_type("AWS::IAM::ManagedPolicy").items():
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                if "sts:AssumeRole" in as_list(statement["Action"]):
                    assuming[logical_id] = statement
        self.assertEqual(set(assuming), {f"{logical}Policy" for logical in MEMBER_ROLE_USERS})
        for logical_id, statement in assuming.items():
            self.assertEqual(statement["Action"], "sts:AssumeRole", logical_id)
            self.assertEqual(statement["Resource"], {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"})
            self.assertEqual(statement["Condition"], {"Fn::If": [
                "HasOrganizationId", {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}},
                {"Ref": "AWS::NoValue"}]}, logical_id)
        for org, expected in (("", None), ("o-abcdefghij", {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}})):
            resolved = Resolved(self.raw, OrganizationId=org)
            statement = [s for s in statements(resolved.resources["RegionScanPolicy"]["Properties"]["PolicyDocument"])
                         if s["Action"] == "sts:AssumeRole"][0]
            self.assertEqual(statement.get("Condition"), expected, f"OrganizationId={org!r}")
        self.assertEqual(self.raw["Parameters"]["MemberRoleName"]["Default"], member["Parameters"]["RoleName"]["Default"])
        self.assertEqual(self.raw["Parameters"]["MemberRoleName"]["AllowedPattern"],
                         member["Parameters"]["RoleName"]["AllowedPattern"])

    def test_state_machine_runs_its_distributed_map(self):
        name = self.raw["Resources"]["ComplianceScanStateMachine"]["Properties"]["Name"]["Fn::Sub"]
        document = self.props("StateMachinePolicy")["PolicyDocument"]
        self.assertNotIn("ComplianceScanStateMachine", refs(document), "the role's policy would depend on the machine")
        by_action = {}
        for statement in statements(document):
            for action in as_list(statement["Action"]):
                by_action.setdefault(action, []).append(statement)
        machine_arn = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" + name
        self.assertEqual([s["Resource"] for s in by_action["states:StartExecution"]], [{"Fn::Sub": machine_arn}])
        children = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:" + name + "/*"
        for action in ("states:DescribeExecution", "states:StopExecution"):
            self.assertEqual([s["Resource"] for s in by_action[action]], [{"Fn::Sub": children}], action)
        self.assertEqual(sorted(s["Resource"]["Fn::Sub"] for s in by_action["s3:GetObject"]),
                         ["${ReportsBucket.Arn}/runs/*/map/*", "${ReportsBucket.Arn}/runs/*/plan-units.json"])
        for action in ("s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"):
            self.assertEqual([s["Resource"] for s in by_action[action]],
                             [{"Fn::Sub": "${ReportsBucket.Arn}/runs/*/map/*"}], action)
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            [statement] = by_action[action]
            self.assertEqual(statement["Resource"], {"Fn::GetAtt": ["ScannerKey", "Arn"]})
            self.assertEqual(statement["Condition"]["StringEquals"]["kms:ViaService"],
                             {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"})
        substitutions = self.raw["Resources"]["ComplianceScanStateMachine"]["Properties"]["DefinitionSubstitutions"]
        self.assertEqual(substitutions["PlanFunctionArn"], {"Fn::GetAtt": ["PlanFunction", "Arn"]})

    def test_definition_fan_out_matches_the_role(self):
        """The definition's Distributed Map reads and writes where StateMachinePolicy allows."""
        definition = json.loads(ASL.read_text())

        def states(node):
            for state_name, state in node.get("States", {}).items():
                yield state_name, state
                for branch in state.get("Branches", []):
                    yield from states(branch)
                for key in ("ItemProcessor", "Iterator"):
                    if key in state:
                        yield from states(state[key])

        distributed = [(n, s) for n, s in states(definition)
                       if s.get("Type") == "Map" and s.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"]
        self.assertEqual(len(distributed), 1, "one Distributed Map (the scan fan-out)")
        map_name, fan_out = distributed[0]
        self.assertEqual(fan_out["ItemProcessor"]["ProcessorConfig"].get("ExecutionType"), "STANDARD", map_name)
        reader, writer = fan_out["ItemReader"], fan_out["ResultWriter"]
        self.assertEqual(reader["Resource"], "arn:aws:states:::s3:getObject")
        self.assertEqual(writer["Resource"], "arn:aws:states:::s3:putObject")
        # The keys come from the plan's output; the Rust contract test pins them to
        # runs/{run}/plan-units.json and runs/{run}/map (RunKeys), the paths the role allows.
        self.assertEqual(reader["Parameters"].get("Key.$"), "$.plan.units_key")
        self.assertEqual(writer["Parameters"].get("Prefix.$"), "$.plan.results_prefix")
        contract = (ROOT / "crates/core/src/contract/ids.rs").read_text()
        self.assertIn('format!("runs/{}/plan-units.json", self.run)', contract)
        self.assertIn('format!("runs/{}/map", self.run)', contract)
        self.assertIn("${PlanFunctionArn}", ASL.read_text())

    def test_fan_out_and_accounts_parameters(self):
        fanout = self.props("ScanFanoutParameter")
        self.assertEqual(fanout["Name"], "/compliance/scanner/config/scan-fanout")
        self.assertEqual(json.loads(fanout["Value"]), {"max_concurrency": 100, "tolerated_failure_percentage": 5.0})
        self.assertLessEqual(json.loads(fanout["Value"])["max_concurrency"],
                             self.props("RegionScanFunction")["ReservedConcurrentExecutions"],
                             "the map's children would be throttled")
        default = Resolved(self.raw)
        self.assertNotIn("AccountsParameter", default.resources, "absent unless Accounts is set")
        self.assertIn("ScanFanoutParameter", default.resources)
        value = '{"source": "organization", "exclude": ["111111111111"]}'
        organization = Resolved(self.raw, Accounts=value).resources["AccountsParameter"]["Properties"]
        self.assertEqual((organization["Name"], organization["Type"], organization["Value"]),
                         ("/compliance/scanner/config/accounts", "String", value))
        pattern = self.raw["Parameters"]["Accounts"]["AllowedPattern"]
        self.assertRegex(value, pattern)
        self.assertRegex("", pattern)
        self.assertNotRegex("organization", pattern)

    def test_finding_aggregator_only_where_asked(self):
        self.assertEqual(self.raw["Parameters"]["CreateFindingAggregator"]["Default"], "true")
        created = Resolved(self.raw).resources["FindingAggregator"]
        self.assertEqual(created["Properties"], {"RegionLinkingMode": "ALL_REGIONS"})
        self.assertIn("FindingAggregatorArn", Resolved(self.raw).outputs)
        declined = Resolved(self.raw, CreateFindingAggregator="false")
        self.assertNotIn("FindingAggregator", declined.resources)
        self.assertNotIn("FindingAggregatorArn", declined.outputs)

    def asff_constant(self, name: str) -> str:
        code = (ROOT / "crates/core/src/report/asff.rs").read_text()
        return re.search(rf'const {name}: &str = "([^"]+)";', code).group(1)

    def test_insights_select_this_products_failed_findings(self):
        insights = Resolved(self.raw).of_type("AWS::SecurityHub::Insight")
        self.assertEqual({i["Properties"]["GroupByAttribute"] for i in insights.values()},
                         {"AwsAccountId", "SeverityLabel", "GeneratorId"})
        product, company = self.asff_constant("PRODUCT_NAME"), self.asff_constant("COMPANY_NAME")
        prefix = self.asff_constant("FIELD_PREFIX")
        lifecycle = (ROOT / "crates/core/src/lifecycle.rs").read_text()
        for logical_id, insight in insights.items():
            filters = insight["Properties"]["Filters"]
            self.assertEqual(filters["ProductName"], [{"Comparison": "EQUALS", "Value": product}], logical_id)
            self.assertEqual(filters["CompanyName"], [{"Comparison": "EQUALS", "Value": company}], logical_id)
            self.assertEqual(filters["RecordState"], [{"Comparison": "EQUALS", "Value": "ACTIVE"}], logical_id)
            self.assertEqual(filters["ComplianceStatus"], [{"Comparison": "EQUALS", "Value": "FAILED"}], logical_id)
            for field in filters.get("ProductFields", []):
                self.assertEqual(field["Key"], f"{prefix}/Lifecycle", logical_id)
                self.assertIn(f'=> "{field["Value"]}"', lifecycle, f"{logical_id}: no lifecycle status {field['Value']}")
            self.assertIn("Compliance Scanner (dev)", insight["Properties"]["Name"])
        self.assertFalse(Resolved(self.raw, CreateSecurityHubInsights="false").of_type("AWS::SecurityHub::Insight"))

    def test_security_hub_findings_rule_feeds_the_alerts_topic(self):
        rule = self.props("SecurityHubFindingsRule")
        pattern = rule["EventPattern"]
        self.assertEqual(pattern["source"], ["aws.securityhub"])
        self.assertEqual(pattern["detail-type"], ["Security Hub Findings - Imported"])
        findings = pattern["detail"]["findings"]
        self.assertEqual(findings["ProductName"], [self.asff_constant("PRODUCT_NAME")])
        self.assertEqual(findings["CompanyName"], [self.asff_constant("COMPANY_NAME")])
        self.assertEqual(findings["RecordState"], ["ACTIVE"])
        self.assertEqual(findings["Compliance"], {"Status": ["FAILED"]})
        prefix = self.asff_constant("FIELD_PREFIX")
        self.assertEqual(findings["ProductFields"], {f"{prefix}/Lifecycle": ["new", "reopened"],
                                                     f"{prefix}/Muted": [{"exists": False}]})
        [target] = rule["Targets"]
        self.assertEqual(target["Arn"], {"Ref": "AlertsTopic"})
        transformer = target["InputTransformer"]
        used = set(re.findall(r"<([a-z]+)>", transformer["InputTemplate"]))
        self.assertEqual(used, set(transformer["InputPathsMap"]), "every path is used, every placeholder mapped")
        for path in transformer["InputPathsMap"].values():
            self.assertTrue(path.startswith("$.detail.findings[0]."), path)
        message = json.loads(re.sub(r"<[a-z]+>", "x", transformer["InputTemplate"]))
        self.assertIsInstance(message, str, "a readable line, not a JSON object")
        self.assertLess(len(message), 300)
        # The topic admits the rule, and its deny still stops every other IAM principal.
        policy = [p["Properties"]["PolicyDocument"] for p in self.of_type("AWS::SNS::TopicPolicy").values()
                  if p["Properties"]["Topics"] == [{"Ref": "AlertsTopic"}]][0]
        by_sid = {s["Sid"]: s for s in statements(policy)}
        allow = by_sid["SecurityHubFindingsRulePublishes"]
        self.assertEqual(allow["Principal"], {"Service": "events.amazonaws.com"})
        self.assertEqual(allow["Condition"], {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["SecurityHubFindingsRule", "Arn"]}}})
        self.assertEqual(by_sid["NoOtherPublisher"]["Condition"], {
            "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["AlertRole", "Arn"]}},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}})
        self.assertEqual([s["Sid"] for s in statements(policy) if s["Effect"] == "Allow"],
                         ["AlertFunctionPublishes", "SecurityHubFindingsRulePublishes"])

    # --- Tags and outputs ---------------------------------------------------------------------
    def test_tags_on_every_taggable_resource(self):
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

        for logical_id, resource in self.resources.items():
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource["Type"]).schema
            if "Tags" not in schema.get("properties", {}):
                continue
            tags = resource.get("Properties", {}).get("Tags")
            self.assertIsNotNone(tags, f"{logical_id} ({resource['Type']}) has no tags")
            if isinstance(tags, list):
                tags = {t["Key"]: t["Value"] for t in tags}
            for key in TAG_KEYS:
                self.assertEqual(tags.get(key), {"Ref": key}, f"{logical_id}: tag {key}")
        for key in TAG_KEYS:
            self.assertIn(key, self.cfn["Parameters"])

    def test_outputs(self):
        outputs = self.cfn["Outputs"]
        for key in ("StateMachineArn", "ReportsBucketName", "AccessLogsBucketName", "AlertsTopicArn",
                    "FailureTopicArn", "HistoryTableName", "FindingsTableName", "RemediationTableName",
                    "AutomationRoleArn", "ScannerKeyArn", "BackupVaultArn", "BackupPlanId", "EventsDeadLetterQueueUrl",
                    "DashboardName",
                    "StateMachineLogGroupName") + tuple(f"{f}Name" for f in FUNCTIONS):
            self.assertIn(key, outputs)
            self.assertTrue(outputs[key].get("Description"), key)


class MemberRoleTest(unittest.TestCase):
    """member-role.yaml: what the scanner may do in a member account, and who may do it."""

    SCANNER = {"ScannerAccountId": "222222222222", "ScannerEnvironment": "production",
               "OrganizationId": "o-abcdefghij"}

    @classmethod
    def setUpClass(cls):
        cls.raw = read_template(MEMBER_TEMPLATE)
        cls.main = read_template(TEMPLATE)

    def resolve(self, region: str = REGION, **parameters) -> Resolved:
        return Resolved(self.raw, region=region, **{**self.SCANNER, **parameters})

    def trust(self, resolved: Resolved) -> dict:
        [statement] = resolved.resources["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        return statement

    def test_trust_admits_only_the_scanners_function_roles_in_the_organization(self):
        statement = self.trust(self.resolve())
        self.assertEqual(statement["Effect"], "Allow")
        self.assertEqual(statement["Action"], "sts:AssumeRole")
        self.assertEqual(statement["Principal"], {"AWS": "arn:aws:iam::222222222222:root"})
        self.assertEqual(set(statement["Condition"]), {"ArnLike", "StringEquals"})
        self.assertEqual(sorted(statement["Condition"]["ArnLike"]["aws:PrincipalArn"]), [
            "arn:aws:iam::222222222222:role/compliance-scanner-region-scan-production",
            "arn:aws:iam::222222222222:role/compliance-scanner-remediate-production",
            "arn:aws:iam::222222222222:role/compliance-scanner-store-report-production"])
        self.assertEqual(statement["Condition"]["StringEquals"], {"aws:PrincipalOrgID": "o-abcdefghij"},
                         "no external id unless one is set")
        for required in ("ScannerAccountId", "ScannerEnvironment", "OrganizationId"):
            self.assertNotIn("Default", self.raw["Parameters"][required], f"{required} must be given")

    def test_external_id_required_only_when_set(self):
        statement = self.trust(self.resolve(ExternalId="scanner-7f3a"))
        self.assertEqual(statement["Condition"]["StringEquals"],
                         {"aws:PrincipalOrgID": "o-abcdefghij", "sts:ExternalId": "scanner-7f3a"})
        pattern = self.raw["Parameters"]["ExternalId"]["AllowedPattern"]
        self.assertRegex("", pattern)
        self.assertNotRegex("x", pattern, "STS wants at least 2 characters")
        self.assertNotRegex("has space", pattern)

    def test_managed_policies_only_each_action_listed(self):
        for parameters in ({}, {"EnableRemediation": "true"}):
            resolved = self.resolve(**parameters)
            for logical_id, resource in resolved.resources.items():
                self.assertNotIn(resource["Type"], ("AWS::IAM::Policy", "AWS::IAM::RolePolicy"), logical_id)
                self.assertNotIn("Policies", resource.get("Properties", {}), logical_id)
            for logical_id, role in resolved.of_type("AWS::IAM::Role").items():
                for arn in role["Properties"]["ManagedPolicyArns"]:
                    target = arn.strip("<>")
                    self.assertEqual(resolved.resources[target]["Type"], "AWS::IAM::ManagedPolicy", logical_id)
            for logical_id, policy in resolved.of_type("AWS::IAM::ManagedPolicy").items():
                for statement in statements(policy["Properties"]["PolicyDocument"]):
                    self.assertEqual(statement["Effect"], "Allow", logical_id)
                    self.assertNotIn("NotAction", statement, logical_id)
                    for action in as_list(statement["Action"]):
                        self.assertRegex(action, r"^[a-z0-9-]+:[A-Za-z]+$", f"{logical_id}: {action}")

    def test_read_only_permissions_are_what_the_collectors_call(self):
        """Every SDK call of crates/aws/src/collect/ has its IAM action, and nothing else is granted."""
        # SDK operation -> IAM action where the two names differ (S3's historic names).
        renamed = {"s3:ListBuckets": "s3:ListAllMyBuckets", "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
                   "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
                   "iam:ListVirtualMfaDevices": "iam:ListVirtualMFADevices",
                   "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
                   "s3:GetBucketReplication": "s3:GetReplicationConfiguration",
                   "s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification",
                   "s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
                   # The Lambda collector reads its functions' subnets through EC2.
                   "lambda:DescribeSubnets": "ec2:DescribeSubnets"}
        called = set()
        for path in (ROOT / "crates/aws/src/collect").glob("*.rs"):
            # A service's collector may be split into files named after it (rds_clusters.rs).
            service = path.stem.split("_")[0]
            if service not in ("ec2", "rds", "s3", "cloudtrail", "iam", "lambda"):
                continue
            code = path.read_text()
            for operation in re.findall(r"\.((?:describe|get|list)_[a-z_]+)\(\)", code):
                action = f"{service}:{''.join(word.capitalize() for word in operation.split('_'))}"
                called.add(renamed.get(action, action.replace("Db", "DB")))
            if ".s3control()" in code:
                called.add("s3:GetAccountPublicAccessBlock")  # s3control's GetPublicAccessBlock
        self.assertGreaterEqual(len(called), 15)
        granted = self.resolve().actions("CollectorReadOnlyPolicy")
        self.assertEqual(granted, called)
        for action in granted:
            self.assertRegex(action.split(":")[1], r"^(Describe|Get|List)", "read-only")
        # The same calls template.yaml's region-scan makes in the scanner's own account.
        own = Resolved(self.main).actions("RegionScanPolicy")
        self.assertEqual({a for a in own if a.split(":")[0] in ("ec2", "rds", "cloudtrail", "iam", "lambda") or
                          (a.startswith("s3:") and a != "s3:PutObject")}, granted)

    def test_star_resources_only_where_the_api_has_none(self):
        for parameters in ({}, {"EnableRemediation": "true"}):
            resolved = self.resolve(**parameters)
            for logical_id, policy in resolved.of_type("AWS::IAM::ManagedPolicy").items():
                for statement in statements(policy["Properties"]["PolicyDocument"]):
                    if "*" in as_list(statement["Resource"]):
                        extra = set(as_list(statement["Action"])) - set(RESOURCELESS)
                        self.assertFalse(extra, f"{logical_id}: {extra} on *")

    def test_security_hub_import_into_the_accounts_own_product_only(self):
        resolved = self.resolve()
        [statement] = statements(resolved.resources["SecurityHubImportPolicy"]["Properties"]["PolicyDocument"])
        self.assertEqual(statement["Action"], "securityhub:BatchImportFindings")
        self.assertEqual(statement["Resource"],
                         "arn:aws:securityhub:*:111111111111:product/111111111111/default")
        role = resolved.resources["MemberRole"]["Properties"]
        self.assertEqual(sorted(role["ManagedPolicyArns"]), ["<CollectorReadOnlyPolicy>", "<SecurityHubImportPolicy>"])
        self.assertEqual(role["RoleName"], "ComplianceScannerMemberRole")

    def test_remediation_only_when_enabled(self):
        off = self.resolve()
        self.assertEqual(self.raw["Parameters"]["EnableRemediation"]["Default"], "false")
        for logical_id in ("RemediationPolicy", "AutomationRole", "AutomationPolicy") + DOCUMENTS:
            self.assertNotIn(logical_id, off.resources)
        granted = {a for p in off.of_type("AWS::IAM::ManagedPolicy") for a in off.actions(p)}
        self.assertFalse({a for a in granted if a.startswith("ssm:")
                          or (a.startswith("iam:") and not re.match(r"iam:(Get|List)", a))},
                         "read-only without remediation")
        self.assertNotIn("AutomationRoleArn", off.outputs)

        on = self.resolve(EnableRemediation="true")
        self.assertIn("<RemediationPolicy>", on.resources["MemberRole"]["Properties"]["ManagedPolicyArns"])
        # Started, not followed: remediate records the execution id (the scanner account's
        # RemediatePolicy grants no GetAutomationExecution either); least_privilege.py checks it.
        self.assertEqual(on.actions("RemediationPolicy"), {"ssm:StartAutomationExecution", "iam:PassRole"})
        by_action = {s["Action"]: s for s in statements(on.resources["RemediationPolicy"]["Properties"]["PolicyDocument"])}
        names = {on.resources[d]["Properties"]["Name"] for d in DOCUMENTS}
        started = {re.sub(r":\*$", "", arn.rsplit("/", 1)[1]) for arn in by_action["ssm:StartAutomationExecution"]["Resource"]}
        self.assertEqual(started, names)
        for arn in by_action["ssm:StartAutomationExecution"]["Resource"]:
            self.assertRegex(arn, r"^arn:aws:ssm:\*:111111111111:(automation-definition|document)/ComplianceScanner-")
        self.assertEqual(by_action["iam:PassRole"]["Resource"], "<AutomationRole.Arn>")
        self.assertEqual(by_action["iam:PassRole"]["Condition"], {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}})
        automation = on.resources["AutomationRole"]["Properties"]
        self.assertEqual(automation["RoleName"], "ComplianceScannerMemberRole-automation")
        [trust] = automation["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust["Principal"], {"Service": "ssm.amazonaws.com"})
        self.assertEqual(trust["Condition"]["StringEquals"], {"aws:SourceAccount": "111111111111"})
        self.assertEqual(on.actions("AutomationPolicy"), Resolved(self.main).actions("AutomationPolicy"))
        self.assertEqual(on.outputs["AutomationRoleArn"]["Value"], "<AutomationRole.Arn>")

    def test_runbooks_identical_to_the_main_templates(self):
        for logical_id in DOCUMENTS:
            main, member = self.main["Resources"][logical_id], self.raw["Resources"][logical_id]
            self.assertEqual(member["Type"], "AWS::SSM::Document")
            self.assertEqual(member["Condition"], "RemediationEnabled")
            main_properties = {k: v for k, v in main["Properties"].items() if k != "Tags"}
            self.assertEqual(member["Properties"], main_properties, f"{logical_id} drifted from template.yaml")

    def test_account_wide_iam_in_one_region_runbooks_in_every_region(self):
        home = self.resolve(region="eu-west-1", RoleRegion="eu-west-1", EnableRemediation="true")
        other = self.resolve(region="us-east-1", RoleRegion="eu-west-1", EnableRemediation="true")
        iam_types = ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
        self.assertTrue(any(r["Type"] in iam_types for r in home.resources.values()))
        self.assertFalse(any(r["Type"] in iam_types for r in other.resources.values()), "IAM names would collide")
        for resolved in (home, other):
            self.assertEqual(set(resolved.of_type("AWS::SSM::Document")), set(DOCUMENTS))
        self.assertEqual(other.outputs, {})
        bare = self.resolve(region="us-east-1", RoleRegion="eu-west-1")
        self.assertEqual([r["Type"] for r in bare.resources.values()], ["AWS::CloudFormation::WaitConditionHandle"],
                         "CloudFormation refuses a stack without resources")
        single = self.resolve(region="ap-southeast-1")
        self.assertIn("MemberRole", single.resources, "RoleRegion empty: this region")
        self.assertEqual(single.outputs["MemberRoleArn"]["Value"], "<MemberRole.Arn>")


if __name__ == "__main__":
    unittest.main()


class ReplicaTest(unittest.TestCase):
    """replica.yaml: the DR copy of the reports bucket (issue 13), in a region of its own."""

    SOURCE = {"SourceAccountId": "222222222222"}

    @classmethod
    def setUpClass(cls):
        cls.raw = read_template(REPLICA_TEMPLATE)
        cls.main = read_template(TEMPLATE)

    def resolve(self, **parameters) -> Resolved:
        return Resolved(self.raw, region="eu-west-1", **{**self.SOURCE, **parameters})

    def test_lock_mode_and_retention_as_the_source(self):
        for environment, retention in (("production", {"Mode": "COMPLIANCE", "Years": 7}),
                                       ("dev", {"Mode": "GOVERNANCE", "Days": "3"})):
            resolved = self.resolve(Environment=environment, ReportRetentionDays="3")
            p = resolved.resources["ReplicaBucket"]["Properties"]
            self.assertTrue(p["ObjectLockEnabled"])
            self.assertEqual(p["ObjectLockConfiguration"]["ObjectLockEnabled"], "Enabled")
            self.assertEqual(p["ObjectLockConfiguration"]["Rule"]["DefaultRetention"], retention, environment)
            self.assertEqual(p["VersioningConfiguration"]["Status"], "Enabled")
        self.assertEqual(self.raw["Resources"]["ReplicaBucket"]["Properties"]["ObjectLockConfiguration"],
                         self.main["Resources"]["ReportsBucket"]["Properties"]["ObjectLockConfiguration"])
        self.assertEqual(self.raw["Conditions"]["IsProduction"], self.main["Conditions"]["IsProduction"])
        for key in ("Type", "Default", "MinValue", "MaxValue"):
            self.assertEqual(self.raw["Parameters"]["ReportRetentionDays"][key],
                             self.main["Parameters"]["ReportRetentionDays"][key], key)
        self.assertEqual(self.raw["Resources"]["ReplicaBucket"]["DeletionPolicy"], "Retain")

    def test_same_lifecycle_tiers_as_the_source(self):
        replica = self.raw["Resources"]["ReplicaBucket"]["Properties"]
        source = self.main["Resources"]["ReportsBucket"]["Properties"]
        for key in ("LifecycleConfiguration", "IntelligentTieringConfigurations"):
            self.assertEqual(replica[key], source[key], key)

    def test_encrypted_with_its_own_key_blocked_tls_only_logged(self):
        resolved = self.resolve(Environment="production")
        buckets = resolved.of_type("AWS::S3::Bucket")
        self.assertEqual(set(buckets), {"ReplicaBucket", "ReplicaAccessLogsBucket"})
        policies = {p["Properties"]["Bucket"]: p["Properties"]["PolicyDocument"]
                    for p in resolved.of_type("AWS::S3::BucketPolicy").values()}
        for logical_id, bucket in buckets.items():
            p = bucket["Properties"]
            self.assertEqual(p["PublicAccessBlockConfiguration"], {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True}, logical_id)
            deny = [s for s in statements(policies[f"<{logical_id}>"]) if s["Effect"] == "Deny"
                    and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}]
            self.assertEqual(len(deny), 1, f"{logical_id}: TLS-only statement")
            self.assertEqual((deny[0]["Principal"], deny[0]["Action"]), ("*", "s3:*"))
        p = buckets["ReplicaBucket"]["Properties"]
        [rule] = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        self.assertEqual(rule["ServerSideEncryptionByDefault"],
                         {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "<ReplicaKey.Arn>"})
        self.assertEqual(p["LoggingConfiguration"]["DestinationBucketName"], "<ReplicaAccessLogsBucket>")
        self.assertEqual(p["LoggingConfiguration"]["LogFilePrefix"], "replica-bucket/")
        key = resolved.resources["ReplicaKey"]
        self.assertTrue(key["Properties"]["EnableKeyRotation"])
        self.assertEqual(key["DeletionPolicy"], "Retain")

    def test_only_the_source_replication_role_uses_the_key_and_writes_replicas(self):
        resolved = self.resolve(Environment="production")
        role = "arn:aws:iam::222222222222:role/compliance-scanner-replication-production"
        by_sid = {s["Sid"]: s for s in statements(resolved.resources["ReplicaKey"]["Properties"]["KeyPolicy"])}
        grant = by_sid["SourceReplicationRoleEncryptsReplicas"]
        self.assertEqual(grant["Principal"], {"AWS": "arn:aws:iam::222222222222:root"})
        self.assertEqual(set(grant["Action"]), {"kms:Encrypt", "kms:GenerateDataKey"})
        self.assertEqual(grant["Condition"], {"ArnEquals": {"aws:PrincipalArn": role}})
        policy = resolved.resources["ReplicaBucketPolicy"]["Properties"]["PolicyDocument"]
        [allow] = [s for s in statements(policy) if s["Effect"] == "Allow"]
        self.assertEqual(allow["Condition"], {"ArnEquals": {"aws:PrincipalArn": role}})
        self.assertEqual(set(allow["Action"]), {"s3:ReplicateObject", "s3:ReplicateTags"})
        self.assertEqual(allow["Resource"], "<ReplicaBucket.Arn>/*")
        # The main template names its replication role so.
        main_role = self.main["Resources"]["ReplicationRole"]["Properties"]["RoleName"]
        self.assertEqual(main_role, {"Fn::Sub": "compliance-scanner-replication-${Environment}"})

    def test_outputs_feed_the_main_stack(self):
        outputs = self.raw["Outputs"]
        self.assertEqual(outputs["ReplicaBucketArn"]["Value"], {"Fn::GetAtt": ["ReplicaBucket", "Arn"]})
        self.assertEqual(outputs["ReplicaKeyArn"]["Value"], {"Fn::GetAtt": ["ReplicaKey", "Arn"]})
        self.assertIn("ReplicaBucketArn", self.main["Parameters"])
        self.assertIn("ReplicaKmsKeyArn", self.main["Parameters"])

    def test_tags_on_every_taggable_resource(self):
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

        for logical_id, resource in self.raw["Resources"].items():
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource["Type"]).schema
            if "Tags" not in schema.get("properties", {}):
                continue
            tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
            for key in TAG_KEYS:
                self.assertEqual(tags.get(key), {"Ref": key}, f"{logical_id}: tag {key}")
