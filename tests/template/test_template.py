#!/usr/bin/env python3
"""Tests on template.yaml itself: the properties issue 5 asks of the deployment, read from the
template (short-form intrinsics through cfn-lint's decoder) and from its SAM transform (what
CloudFormation receives).

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
TAG_KEYS = {"Project", "Environment", "Owner", "CostCenter", "ComplianceLevel"}
FUNCTIONS = {  # logical id -> binary (crates/<name>)
    "RegionScanFunction": "region-scan",
    "AggregateFunction": "aggregate",
    "AnalyzeFunction": "analyze",
    "AlertFunction": "alert",
    "RemediateFunction": "remediate",
    "StoreReportFunction": "store-report",
}
REGION = "us-east-1"


def read_template() -> dict:
    from cfnlint.decode import decode

    template, errors = decode(str(TEMPLATE))
    if template is None:
        raise AssertionError(f"cannot read {TEMPLATE}: {errors}")
    return json.loads(json.dumps(template))


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
        # The actions AWS authorises on no resource; anything else must name its resource.
        resourceless = {
            "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeVolumes",
            "ec2:GetEbsEncryptionByDefault", "s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock",
            "sts:GetCallerIdentity", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
            "xray:GetSamplingRules", "xray:GetSamplingTargets", "cloudwatch:PutMetricData",
            "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        }
        for logical_id, policy in self.of_type("AWS::IAM::ManagedPolicy").items():
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                if "*" in as_list(statement["Resource"]):
                    extra = set(as_list(statement["Action"])) - resourceless
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
                if service in ("ec2", "rds", "s3", "ssm", "sts") and re.match(r"(Describe|Get|List)", name):
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
        self.assertEqual(set(lifecycle[0]["Action"]), {
            "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem",
            "dynamodb:UpdateItem", "dynamodb:Query"})

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
        self.assertEqual(set(rules), {"ScheduledScanRule", "OnDemandScanRule", "ConfigurationChangeRule"})
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
                         {"regions", "required-tags", "mutelist", "thresholds", "remediation", "findings"})
        findings = json.loads(parameters["/compliance/scanner/config/findings"]["Value"]["Fn::Sub"]
                              .replace("${AWS::Region}", REGION))
        self.assertEqual(findings, {"security_hub": {"enabled": True, "region": REGION}, "resolved_retention_days": 90})
        for name in ("thresholds", "remediation", "mutelist"):
            json.loads(parameters[f"/compliance/scanner/config/{name}"]["Value"])
        docs = (ROOT / "docs/parameters.md").read_text()
        for name in list(parameters) + ["/compliance/scanner/config/services", "/compliance/scanner/config/webhook",
                                        "/compliance/scanner/secrets/security-hub-api-key"]:
            self.assertIn(f"`{name}`", docs, f"docs/parameters.md does not document {name}")

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
                    "AutomationRoleArn", "ScannerKeyArn", "EventsDeadLetterQueueUrl", "DashboardName",
                    "StateMachineLogGroupName") + tuple(f"{f}Name" for f in FUNCTIONS):
            self.assertIn(key, outputs)
            self.assertTrue(outputs[key].get("Description"), key)


if __name__ == "__main__":
    unittest.main()
