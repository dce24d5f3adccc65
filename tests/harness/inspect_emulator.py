#!/usr/bin/env python3
"""Reads what a workflow run left in the emulator, for the workflow tests (prints JSON).

  subscribe-queue TOPIC_ARN      create an SQS queue subscribed to the topic; print its URL
  receive QUEUE_URL              the SNS notifications in the queue (subject, message, attributes)
  execution EXECUTION_ARN        event counts, states entered, and the largest input/output size
  automations                    SSM Automation executions (id, document, status, parameters)
  s3-keys BUCKET PREFIX          the object keys under a prefix
  invoke BRIDGE_URL FUNCTION FILE  invoke a function through the Lambda bridge with an event file
  put-event FILE                 PutEvents one entry (Source, DetailType, Detail) to the default bus
  executions STATE_MACHINE_ARN   the executions of a state machine (name, status, input)
  start STATE_MACHINE_ARN NAME FILE  StartExecution with a file as input; waits; prints status and output
  securityhub-findings [REGION] [ACCOUNT]  every Security Hub finding of the region, archived ones
                              included (of ACCOUNT: read through its member role)
  table-items TABLE              the items of a DynamoDB table as plain JSON (numbers as numbers)
"""

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "us-east-1")


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION)


def subscribe_queue(topic_arn):
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"probe-{topic_arn.rsplit(':', 1)[-1]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def receive(url):
    sqs = client("sqs")
    out = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not batch:
            return out
        for m in batch:
            body = json.loads(m["Body"])
            out.append({
                "subject": body.get("Subject"),
                "message": body.get("Message"),
                "attributes": {k: v.get("Value") for k, v in body.get("MessageAttributes", {}).items()},
            })
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def execution(arn):
    sfn = client("stepfunctions")
    events, kwargs = [], {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    largest = 0
    entered = []
    for e in events:
        for details in e.values():
            if isinstance(details, dict):
                for field in ("input", "output"):
                    if isinstance(details.get(field), str):
                        largest = max(largest, len(details[field].encode()))
        if e["type"].endswith("StateEntered"):
            entered.append(e["stateEnteredEventDetails"]["name"])
    described = sfn.describe_execution(executionArn=arn)
    return {"event_types": Counter(e["type"] for e in events), "states_entered": entered, "largest_payload_bytes": largest,
            "output": json.loads(described.get("output") or "null")}


def automations():
    ssm = client("ssm")
    out = ssm.describe_automation_executions().get("AutomationExecutionMetadataList", [])
    return [{k: v for k, v in x.items() if k in ("AutomationExecutionId", "DocumentName", "AutomationExecutionStatus")} for x in out]


def s3_keys(bucket, prefix):
    s3 = client("s3")
    keys, kwargs = [], {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def invoke(bridge_url, function, path):
    lam = boto3.client("lambda", endpoint_url=bridge_url, region_name=REGION)
    out = lam.invoke(FunctionName=function, Payload=Path(path).read_bytes())
    return {"error": out.get("FunctionError"), "payload": json.loads(out["Payload"].read() or b"null")}


def put_event(path):
    entry = json.loads(Path(path).read_text())
    return client("events").put_events(Entries=[entry])["FailedEntryCount"]


def executions(arn):
    sfn = client("stepfunctions")
    out = []
    for e in sfn.list_executions(stateMachineArn=arn)["executions"]:
        d = sfn.describe_execution(executionArn=e["executionArn"])
        out.append({"name": e["name"], "status": d["status"], "input": d.get("input")})
    return out


def start(arn, name, path):
    sfn = client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=Path(path).read_text())["executionArn"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=execution)
        if d["status"] != "RUNNING":
            return {"status": d["status"], "output": json.loads(d.get("output") or "null"), "error": d.get("error")}
        time.sleep(0.5)
    return {"status": "TIMED_OUT_WAITING"}


def securityhub_findings(region="us-east-1", account=None):
    """Every finding Security Hub holds in the region (archived ones included), in the default
    account or, through its member role, in `account`."""
    credentials = {}
    if account:
        sts = boto3.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region)
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/ComplianceScannerMemberRole",
                            RoleSessionName="inspect")["Credentials"]
        credentials = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                       "aws_session_token": c["SessionToken"]}
    hub = boto3.client("securityhub", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region,
                       **credentials)
    out, token = [], None
    while True:
        page = hub.get_findings(MaxResults=100, **({"NextToken": token} if token else {}))
        out.extend(page["Findings"])
        token = page.get("NextToken")
        if not token:
            return out


def table_items(table):
    """Every item of a DynamoDB table, as plain JSON."""
    from decimal import Decimal

    from boto3.dynamodb.types import TypeDeserializer

    def plain(value):
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, set)):
            return [plain(v) for v in value]
        return value

    def deserialize(attribute):
        return plain(TypeDeserializer().deserialize(attribute))
    ddb = client("dynamodb")
    items, start = [], None
    while True:
        page = ddb.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items.extend({k: deserialize(v) for k, v in item.items()} for item in page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


COMMANDS = {
    "securityhub-findings": securityhub_findings,
    "table-items": table_items,
    "invoke": invoke,
    "put-event": put_event,
    "executions": executions,
    "start": start,
    "subscribe-queue": subscribe_queue,
    "receive": receive,
    "execution": execution,
    "automations": automations,
    "s3-keys": s3_keys,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    result = COMMANDS[sys.argv[1]](*sys.argv[2:])
    print(result if isinstance(result, str) else json.dumps(result, default=str))
