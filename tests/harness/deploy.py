#!/usr/bin/env python3
"""Deploys the SAM template into the emulator (emulator.py), as `sam deploy` would into AWS.

Test infrastructure only. The functions' code is a placeholder zip: the real binaries run in
lambda_bridge.py, which the emulator's Step Functions engine calls (emulator.py
--lambda-endpoint); this script prints which binary serves which function name.

  deploy.py --endpoint URL --template template.yaml --stack-name NAME
            [--parameter K=V ...] [--profile debug|release] [--region R]

Prints one JSON line: {"stack_id", "outputs": {OutputKey: value}, "functions": {FunctionName:
binary path}, "environment": {FunctionName: {the function's resolved environment variables}},
"state_machines": {logical id: ARN}}; on failure, the reason (and the failed resources) on
stderr, and exits 1. Binary path: target/<profile>/<Metadata.BuildProperties.Binary>, else the
crate named by the function name without `compliance-scanner-` and any `-<env>` suffix
(docs/workflow-contract.md).

What it does between the template and moto's CloudFormation, and why:
  * reads YAML with short-form intrinsics (!Ref, !Sub...) with cfn-lint's decoder and applies
    the SAM transform locally with aws-sam-translator (moto has no AWS::Serverless transform);
    SAM's managed-policy names resolve from moto's copy of the AWS managed policies;
  * code: every function's CodeUri / Code becomes one placeholder zip in an emulator bucket
    (moto's Lambda only stores it), removed with its bucket once the stack exists, so that the
    scans of the emulated account see only what the stack and the tests create;
  * state machines: moto ignores DefinitionSubstitutions, and SAM wants DefinitionUri in S3. The
    stack is created with a one-state placeholder definition, the substitution values are read
    back as (hidden) stack outputs, and UpdateStateMachine then sets the real definition (the
    local DefinitionUri file, or the template's definition, with ${Name} replaced). Fn::Sub is
    not used for this: moto's Fn::Sub goes through string.Template, which turns `$$.Map...` into
    `$.Map...`;
  * AWS::SSM::Document: DocumentFormat defaults to JSON as in CloudFormation (moto fails
    without it), and an object Content is serialised in that format (moto would keep the object,
    and GetDocument would answer it instead of a string);
  * resource types moto's CloudFormation does not model are dropped (printed on stderr, with
    the gap: MODEL_GAPS); references to them become placeholder strings;
  * properties moto's CloudFormation reads in another shape than CloudFormation's are reshaped
    (adapt_properties: KMS key tags, SSM parameter tags);
  * S3 settings moto's CloudFormation ignores (it applies only BucketEncryption and Tags) are
    applied with the S3 API once the stack exists: versioning, Object Lock (so that legal holds
    and default retention work as in AWS), Block Public Access, ownership controls, lifecycle,
    and lifecycle. Their intrinsics are resolved by moto itself, through hidden outputs (one per
    condition and per intrinsic value);
  * the reports bucket's replication to the DR replica (ReplicationConfiguration, only with the
    ReplicaBucketArn / ReplicaKmsKeyArn parameters; replica.yaml) is not applied: moto does not
    replicate between regions. The replication role and policy are created; the replication
    alarms are dropped with the other alarms. Named on stderr when the parameters are given.
"""

import argparse
import copy
import io
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
FUNCTION_PREFIX = "compliance-scanner-"
PLACEHOLDER_DEFINITION = json.dumps(
    {"Comment": "deploy.py placeholder, replaced after the stack exists",
     "StartAt": "Placeholder", "States": {"Placeholder": {"Type": "Pass", "End": True}}})
PLACEHOLDER_BOOTSTRAP = (
    "#!/bin/sh\necho 'placeholder deployed by tests/harness/deploy.py: the real binary runs in "
    "tests/harness/lambda_bridge.py' >&2\nexit 1\n")
SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")
HIDDEN_OUTPUT = "HarnessDeploy"  # prefix of the outputs this script adds for itself
NO_VALUE = "HarnessNoValue"  # AWS::NoValue in the settings applied after the stack


def log(message: str) -> None:
    sys.stderr.write(f"deploy: {message}\n")
    sys.stderr.flush()


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def clients(endpoint: str, region: str):
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"})
    return lambda service: boto3.client(service, endpoint_url=endpoint, region_name=region,
                                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                                        config=config)


# --- Reading and transforming ----------------------------------------------------------------

def read_template(path: Path) -> dict:
    from cfnlint.decode import decode

    template, errors = decode(str(path))
    if template is None:
        sys.exit(f"deploy: cannot read {path}: " + "; ".join(str(e) for e in errors or []))
    return json.loads(json.dumps(template))  # plain dicts and strs (cfn-lint marks nodes)


class PolicyMap:
    """SAM's ManagedPolicyLoader, answered from moto's copy of the AWS managed policies
    (moto's IAM lists none unless told to load them)."""

    def load(self) -> dict[str, str]:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        policies = json.loads(aws_managed_policies_data)
        return {name: f"arn:aws:iam::aws:policy{p.get('Path', '/')}{name}" for name, p in policies.items()}


def sam_transform(template: dict, parameters: dict[str, str]) -> dict:
    if "Transform" not in template:
        return template
    from samtranslator.translator.transform import transform

    return transform(template, parameters, PolicyMap())


def walk(node, visit):
    """Applies visit(node) bottom-up to every dict, list and string of a template fragment."""
    if isinstance(node, dict):
        node = {k: walk(v, visit) for k, v in node.items()}
    elif isinstance(node, list):
        node = [walk(v, visit) for v in node]
    return visit(node)


def has_intrinsics(node) -> bool:
    if isinstance(node, dict):
        return any(k == "Ref" or k.startswith("Fn::") or has_intrinsics(v) for k, v in node.items())
    if isinstance(node, list):
        return any(has_intrinsics(v) for v in node)
    return False


# --- Preparing the template for moto -------------------------------------------------------------

class Plan:
    """What the deployment needs to remember between the template and the stack."""

    def __init__(self):
        self.binaries: dict[str, str | None] = {}  # function logical id -> binary (Metadata) or None
        self.definitions: dict[str, str] = {}  # state machine logical id -> definition text
        self.substitutions: dict[str, dict[str, str]] = {}  # state machine -> {Name: output key}
        self.dropped: list[tuple[str, str]] = []
        # (bucket logical id, settings with intrinsics replaced by HarnessValue / HarnessIf markers)
        self.bucket_settings: list[tuple[str, dict]] = []
        self.values = 0  # hidden outputs allocated for intrinsic values


def prepare_serverless(template: dict, template_dir: Path, code: dict, plan: Plan) -> None:
    """Before the SAM transform: placeholder code, state machine definitions from local files."""
    for logical_id, resource in template.get("Resources", {}).items():
        kind, props = resource.get("Type"), resource.setdefault("Properties", {})
        if kind == "AWS::Serverless::Function":
            binary = ((resource.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
            plan.binaries[logical_id] = binary
            if "InlineCode" not in props:
                props["CodeUri"] = {"Bucket": code["S3Bucket"], "Key": code["S3Key"]}
            props.pop("ImageUri", None)
        elif kind == "AWS::Serverless::StateMachine":
            uri = props.get("DefinitionUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                path = (template_dir / uri).resolve()
                plan.definitions[logical_id] = definition_text(path)
                props.pop("DefinitionUri")
                props["Definition"] = json.loads(PLACEHOLDER_DEFINITION)
            elif uri is not None:
                sys.exit(f"deploy: {logical_id}: DefinitionUri {uri!r} is not a local file; only local files "
                         "are supported")


def definition_text(path: Path) -> str:
    import yaml

    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        return json.dumps(yaml.safe_load(text), indent=2)
    return text


# Resource types of template.yaml that moto 5.2.1's CloudFormation does not model, and what the
# emulated stack lacks without them. Any other unmodelled type is dropped too, as "not modelled".
MODEL_GAPS = {
    "AWS::CloudWatch::Alarm": "alarms are not evaluated in the emulator",
    "AWS::Logs::MetricFilter": "the remediation metrics are not derived from the logs",
    "AWS::Backup::BackupVault": "no AWS Backup: the tables are not backed up in the emulator (PITR is not emulated either)",
    "AWS::Backup::BackupPlan": "no AWS Backup: no daily recovery points, no copy to the DR vault",
    "AWS::Backup::BackupSelection": "no AWS Backup: nothing selects the tables",
    "AWS::SNS::TopicPolicy": "moto does not enforce resource policies; publishers are limited by IAM in AWS",
    "AWS::SNS::Subscription": "e-mail subscriptions only; the tests subscribe their own queues",
    "AWS::SQS::QueuePolicy": "moto does not enforce resource policies",
    # Not applied with PutBucketPolicy either: moto enforces bucket policies, and the stack's deny
    # every request without TLS, while the emulator speaks plain HTTP.
    "AWS::S3::BucketPolicy": "the TLS-only policies would deny every request to the plain-HTTP emulator",
    "AWS::SecurityHub::FindingAggregator": "no cross-region aggregation: the emulator's findings stay in the region they were imported into",
    "AWS::SecurityHub::Insight": "no custom insights; the tests read findings with GetFindings",
}

# S3::Bucket properties moto's CloudFormation ignores, applied after the stack (apply_bucket_settings).
# LoggingConfiguration is not: moto's PutBucketLogging wants the target bucket to grant the
# log-delivery group by ACL, which a BucketOwnerEnforced bucket (ACLs disabled) cannot do, and the
# emulator delivers no access logs anyway. IntelligentTieringConfigurations neither: moto has no
# such API.
BUCKET_SETTINGS = ("VersioningConfiguration", "ObjectLockConfiguration", "PublicAccessBlockConfiguration",
                   "OwnershipControls", "LifecycleConfiguration")


def adapt_properties(template: dict) -> None:
    """Properties moto's CloudFormation passes straight to its API, in the API's shape."""
    for resource in template.get("Resources", {}).values():
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if kind == "AWS::KMS::Key" and isinstance(props.get("Tags"), list):
            # moto's KMS reads CloudFormation's [{Key, Value}] as CreateKey's [{TagKey, TagValue}].
            props["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in props["Tags"]]
        elif kind == "AWS::SSM::Parameter" and isinstance(props.get("Tags"), dict):
            # CloudFormation takes a map here; moto's PutParameter wants [{Key, Value}] and
            # crashes on the map.
            props["Tags"] = [{"Key": key, "Value": value} for key, value in props["Tags"].items()]


def plan_bucket_settings(template: dict, plan: Plan) -> None:
    """Records the S3 settings moto ignores, and makes moto resolve their intrinsics: each
    condition and each intrinsic value becomes a hidden output, read back after the stack."""
    outputs = template.setdefault("Outputs", {})
    for name in template.get("Conditions", {}):
        outputs[f"{HIDDEN_OUTPUT}Condition{name}"] = {"Value": {"Fn::If": [name, "true", "false"]}}

    def mark(node):
        if isinstance(node, dict):
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            if set(node) == {"Fn::If"}:
                condition, when_true, when_false = node["Fn::If"]
                return {"HarnessIf": [condition, mark(when_true), mark(when_false)]}
            if len(node) == 1 and (set(node) == {"Ref"} or next(iter(node)).startswith("Fn::")):
                key = f"{HIDDEN_OUTPUT}Value{plan.values}"
                plan.values += 1
                outputs[key] = {"Value": node}
                return {"HarnessValue": key}
            return {k: mark(v) for k, v in node.items()}
        if isinstance(node, list):
            return [mark(v) for v in node]
        return node

    for logical_id, resource in template.get("Resources", {}).items():
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if "Condition" in resource:
            continue  # not needed by template.yaml: its buckets are unconditional
        if kind == "AWS::S3::Bucket":
            settings = {k: props[k] for k in BUCKET_SETTINGS if k in props}
            if settings:
                plan.bucket_settings.append((logical_id, mark(settings)))


def prepare_for_moto(template: dict, code: dict, plan: Plan) -> None:
    """After the SAM transform: what moto's CloudFormation needs to create the stack."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    plan_bucket_settings(template, plan)
    supported = set(get_model_map()) | set(NULL_MODELS)
    resources = template.setdefault("Resources", {})
    for logical_id, resource in list(resources.items()):
        kind = resource.get("Type", "")
        if kind not in supported and not kind.startswith("Custom::"):
            plan.dropped.append((logical_id, kind))
            del resources[logical_id]
    if plan.dropped:
        drop_references(template, {logical_id for logical_id, _ in plan.dropped})
    adapt_properties(template)

    outputs = template.setdefault("Outputs", {})
    for logical_id, resource in template["Resources"].items():
        kind, props = resource.get("Type"), resource.setdefault("Properties", {})
        condition = {"Condition": resource["Condition"]} if "Condition" in resource else {}
        if kind == "AWS::Lambda::Function":
            if "ZipFile" not in (props.get("Code") or {}):
                props["Code"] = dict(code)
            plan.binaries.setdefault(logical_id, None)
            outputs[f"{HIDDEN_OUTPUT}Function{logical_id}"] = {"Value": {"Ref": logical_id}, **condition}
        elif kind == "AWS::SSM::Document":
            fmt = props.setdefault("DocumentFormat", "JSON")
            content = props.get("Content")
            if isinstance(content, dict) and not has_intrinsics(content):
                import yaml

                props["Content"] = (yaml.safe_dump(content, sort_keys=False) if fmt == "YAML"
                                    else json.dumps(content, indent=2))
        elif kind == "AWS::StepFunctions::StateMachine":
            prepare_state_machine(logical_id, props, outputs, plan, condition)


def prepare_state_machine(logical_id: str, props: dict, outputs: dict, plan: Plan, condition: dict) -> None:
    substitutions = props.pop("DefinitionSubstitutions", None) or {}
    if logical_id not in plan.definitions:
        if not substitutions and "DefinitionS3Location" not in props:
            return  # an inline definition moto can take as it is
        text = literal_definition(props)
        if text is None:
            sys.exit(f"deploy: {logical_id}: cannot read its definition (DefinitionS3Location, or a "
                     "DefinitionString built with intrinsics other than Fn::Join of strings)")
        plan.definitions[logical_id] = text
    for key in ("Definition", "DefinitionS3Location"):
        props.pop(key, None)
    props["DefinitionString"] = PLACEHOLDER_DEFINITION
    outputs[f"{HIDDEN_OUTPUT}StateMachine{logical_id}"] = {"Value": {"Ref": logical_id}, **condition}
    names = plan.substitutions.setdefault(logical_id, {})
    for i, (name, value) in enumerate(sorted(substitutions.items())):
        output_key = f"{HIDDEN_OUTPUT}Sub{logical_id}N{i}"
        outputs[output_key] = {"Value": value, **condition}
        names[name] = output_key


def literal_definition(props: dict) -> str | None:
    if "Definition" in props:
        return json.dumps(props["Definition"], indent=2)
    value = props.get("DefinitionString")
    if isinstance(value, str):
        return value
    join = value.get("Fn::Join") if isinstance(value, dict) else None
    if join and all(isinstance(part, str) for part in join[1]):
        return join[0].join(join[1])
    return None


def drop_references(template: dict, dropped: set[str]) -> None:
    def visit(node):
        if isinstance(node, dict):
            if node.get("Ref") in dropped:
                return f"harness-dropped-{node['Ref']}"
            getatt = node.get("Fn::GetAtt")
            if getatt:
                target = getatt.split(".")[0] if isinstance(getatt, str) else getatt[0]
                if target in dropped:
                    return f"harness-dropped-{target}"
        if isinstance(node, str) and "${" in node:
            return SUBSTITUTION.sub(lambda m: f"harness-dropped-{m.group(1).split('.')[0]}"
                                    if m.group(1).split(".")[0] in dropped else m.group(0), node)
        return node

    for section in ("Resources", "Outputs"):
        template[section] = walk(template.get(section, {}), visit)
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in dropped:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in dropped]


# --- Deploying -----------------------------------------------------------------------------------

def upload_placeholder_code(client, stack_name: str) -> dict:
    s3 = client("s3")
    bucket = re.sub(r"[^a-z0-9-]", "-", f"harness-deploy-{stack_name.lower()}")[:63].strip("-")
    try:
        if s3.meta.region_name == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, PLACEHOLDER_BOOTSTRAP)
    s3.put_object(Bucket=bucket, Key="placeholder/bootstrap.zip", Body=buffer.getvalue())
    return {"S3Bucket": bucket, "S3Key": "placeholder/bootstrap.zip"}


def remove_placeholder_code(client, code: dict) -> None:
    """moto's Lambda keeps its own copy of the zip; the bucket would only add an (unencrypted,
    public-access-unblocked) bucket to every scan of the emulated account."""
    s3 = client("s3")
    s3.delete_object(Bucket=code["S3Bucket"], Key=code["S3Key"])
    s3.delete_bucket(Bucket=code["S3Bucket"])


def create_stack(client, stack_name: str, template: dict, parameters: dict[str, str], timeout: float) -> dict:
    cfn = client("cloudformation")
    try:
        stack_id = cfn.create_stack(
            StackName=stack_name, TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )["StackId"]
    except cfn.exceptions.ClientError as err:
        # moto creates the resources inside CreateStack: a resource's error comes back here.
        sys.exit(f"deploy: CreateStack refused (moto creates the resources within the call, so this may be "
                 f"one resource's error): {err}")
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            sys.exit(f"deploy: stack {stack_name} still {status} after {timeout:.0f}s")
        time.sleep(0.5)
    if status != "CREATE_COMPLETE":
        reason = f": {stack['StackStatusReason']}" if stack.get("StackStatusReason") else ""
        log(f"stack {stack_name} ended in {status}{reason}")
        events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
        for event in reversed(events):
            if event.get("ResourceStatus", "").endswith("FAILED"):
                log(f"  {event['LogicalResourceId']} ({event.get('ResourceType')}): {event['ResourceStatus']} "
                    f"{event.get('ResourceStatusReason', '')}")
        sys.exit(1)
    return stack


def set_definitions(client, outputs: dict[str, str], plan: Plan) -> dict[str, str]:
    sfn, arns = client("stepfunctions"), {}
    for logical_id, text in plan.definitions.items():
        arn = outputs.get(f"{HIDDEN_OUTPUT}StateMachine{logical_id}")
        if arn is None:
            continue  # its Condition is false
        values = {name: outputs[key] for name, key in plan.substitutions.get(logical_id, {}).items()}

        def substitute(match, values=values):
            name = match.group(1)
            if name not in values:
                return match.group(0)  # as Step Functions: an unknown ${...} stays as it is
            return json.dumps(str(values[name]))[1:-1]  # JSON-escaped, in the definition's text

        definition = SUBSTITUTION.sub(substitute, text)
        left = sorted(set(SUBSTITUTION.findall(definition)))
        if left:
            log(f"{logical_id}: no substitution for {', '.join(left)}; they stay in the definition")
        try:
            sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        except sfn.exceptions.ClientError as err:
            sys.exit(f"deploy: {logical_id}: the emulator refused the definition: {err}")
        arns[logical_id] = arn
    return arns


def resolve_marked(node, outputs: dict[str, str]):
    """The settings of plan_bucket_settings with moto's answers in place of the markers; a
    property whose value is AWS::NoValue is left out, as CloudFormation does."""
    if isinstance(node, dict):
        if set(node) == {"HarnessIf"}:
            condition, when_true, when_false = node["HarnessIf"]
            chosen = when_true if outputs[f"{HIDDEN_OUTPUT}Condition{condition}"] == "true" else when_false
            return resolve_marked(chosen, outputs)
        if set(node) == {"HarnessValue"}:
            value = outputs[node["HarnessValue"]]
            return int(value) if isinstance(value, str) and value.isdigit() else value
        resolved = {k: resolve_marked(v, outputs) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v != NO_VALUE}
    if isinstance(node, list):
        return [v for v in (resolve_marked(v, outputs) for v in node) if v != NO_VALUE]
    return node


def lifecycle_rule(rule: dict) -> dict:
    """A LifecycleConfiguration rule, from CloudFormation's shape to PutBucketLifecycleConfiguration's."""
    out = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "ExpiredObjectDeleteMarker" in rule:
        out["Expiration"] = {"ExpiredObjectDeleteMarker": rule["ExpiredObjectDeleteMarker"]}
    if "Transitions" in rule:
        out["Transitions"] = [{"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
                              for t in rule["Transitions"]]
    if "NoncurrentVersionTransitions" in rule:
        out["NoncurrentVersionTransitions"] = [{"NoncurrentDays": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
                                               for t in rule["NoncurrentVersionTransitions"]]
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return out


def apply_bucket_settings(client, stack_id: str, outputs: dict[str, str], plan: Plan) -> None:
    """What moto's CloudFormation ignored, through the S3 API, in the order S3 needs (versioning
    before Object Lock; Object Lock on the still empty bucket)."""
    cfn, s3 = client("cloudformation"), client("s3")
    # moto lists one blank entry (no logical id or type) for some resources it half-models.
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.describe_stack_resources(StackName=stack_id)["StackResources"]
                if "LogicalResourceId" in r}
    for logical_id, marked in plan.bucket_settings:
        settings = resolve_marked(marked, outputs)
        bucket = physical[logical_id]
        if "VersioningConfiguration" in settings:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
                "Status": settings["VersioningConfiguration"]["Status"]})
        lock = settings.get("ObjectLockConfiguration")
        if lock:
            # moto ignores ObjectLockEnabled and ObjectLockConfiguration in CloudFormation: without
            # this, legal holds and default retention would not exist in the emulator.
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)
        if "PublicAccessBlockConfiguration" in settings:
            s3.put_public_access_block(Bucket=bucket,
                                       PublicAccessBlockConfiguration=settings["PublicAccessBlockConfiguration"])
        if "OwnershipControls" in settings:
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=settings["OwnershipControls"])
        if "LifecycleConfiguration" in settings:
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
                "Rules": [lifecycle_rule(rule) for rule in settings["LifecycleConfiguration"]["Rules"]]})
        log(f"{logical_id}: applied {', '.join(settings)} (moto's CloudFormation ignores them)")


def binary_for(function_name: str, metadata_binary: str | None, profile: str) -> str:
    """target/<profile>/<binary>: the Metadata's BuildProperties.Binary, else the contract's rule
    (the function name without the `compliance-scanner-` prefix and any `-<env>` suffix)."""
    binary = metadata_binary
    if not binary:
        name = function_name[len(FUNCTION_PREFIX):] if function_name.startswith(FUNCTION_PREFIX) else function_name
        crates = {p.name for p in (REPO / "crates").iterdir() if p.is_dir()} if (REPO / "crates").is_dir() else set()
        while name not in crates and "-" in name:
            name = name.rsplit("-", 1)[0]
        binary = name if name in crates else function_name
    return str(REPO / "target" / profile / binary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True, help="the emulator's AWS_ENDPOINT_URL")
    parser.add_argument("--template", required=True, type=Path, help="SAM or CloudFormation template (YAML/JSON)")
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--parameter", action="append", default=[], type=key_value, metavar="K=V",
                        help="stack parameter (repeatable)")
    parser.add_argument("--profile", choices=("debug", "release"), default="debug",
                        help="cargo profile of the binaries (target/<profile>/)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                        or "us-east-1")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the stack")
    args = parser.parse_args()

    # samtranslator reads the region (and boto3 the credentials) from the environment.
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = args.region
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = clients(args.endpoint, args.region)
    parameters = dict(args.parameter)

    template = read_template(args.template)
    plan = Plan()
    code = upload_placeholder_code(client, args.stack_name)
    prepare_serverless(template, args.template.resolve().parent, code, plan)
    try:
        template = sam_transform(template, copy.deepcopy(parameters))
    except Exception as err:  # samtranslator raises InvalidDocumentException with the causes
        causes = getattr(err, "causes", None) or []
        sys.exit("deploy: the SAM transform failed: " + (
            "; ".join(getattr(c, "message", str(c)) for c in causes) or str(err)))
    prepare_for_moto(template, code, plan)
    for logical_id, kind in plan.dropped:
        log(f"dropped {logical_id} ({kind}): moto's CloudFormation does not model it"
            + (f"; {MODEL_GAPS[kind]}" if kind in MODEL_GAPS else ""))

    if parameters.get("ReplicaBucketArn") or parameters.get("ReplicaKmsKeyArn"):
        log("not applied: ReportsBucket's ReplicationConfiguration (DR replica); moto does not replicate"
            " between regions")
    stack = create_stack(client, args.stack_name, template, parameters, args.timeout)
    remove_placeholder_code(client, code)
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
    apply_bucket_settings(client, stack["StackId"], outputs, plan)
    state_machines = set_definitions(client, outputs, plan)
    functions, environment, lambda_api = {}, {}, client("lambda")
    for logical_id, metadata_binary in plan.binaries.items():
        name = outputs.get(f"{HIDDEN_OUTPUT}Function{logical_id}")
        if name is None:
            continue  # a function whose Condition is false
        functions[name] = binary_for(name, metadata_binary, args.profile)
        if not os.access(functions[name], os.X_OK):
            log(f"{name}: {functions[name]} is not built yet")
        configuration = lambda_api.get_function_configuration(FunctionName=name)
        environment[name] = (configuration.get("Environment") or {}).get("Variables", {})
    print(json.dumps({
        "stack_id": stack["StackId"],
        "outputs": {k: v for k, v in outputs.items() if not k.startswith(HIDDEN_OUTPUT)},
        "functions": functions,
        "environment": environment,
        "state_machines": state_machines,
    }), flush=True)


if __name__ == "__main__":
    main()
