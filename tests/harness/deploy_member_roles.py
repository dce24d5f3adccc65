#!/usr/bin/env python3
"""Deploys member-role.yaml into every reachable member account of a seeded organization, in each
region, as a service-managed StackSet would: through the member's own credentials (sts:AssumeRole
into its ComplianceScannerMemberRole), with remediation enabled so the runbooks exist there.

Test infrastructure only.

  deploy_member_roles.py --endpoint URL --manifest FILE [--region R ...] [--environment dev]

FILE is seed_estate.py's manifest (its "organization" section); the regions default to the
estate's. Exits 1 with the failing account and region on stderr.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parents[1]


def assumed_credentials(endpoint: str, role_arn: str) -> dict[str, str]:
    """The variables that make a process act in the member account of `role_arn`."""
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                       aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName="stackset")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--manifest", required=True, type=Path)
    ap.add_argument("--region", action="append", default=[])
    ap.add_argument("--environment", default="dev", help="the scanner stack's Environment parameter")
    args = ap.parse_args()
    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))
    organization = manifest["organization"]
    regions = args.region or manifest["regions"]
    members = [a for a in organization["accounts"] if a.get("role") and a.get("reachable")]
    for account in members:
        env = {**os.environ, **assumed_credentials(args.endpoint, account["role"])}
        for region in regions:
            done = subprocess.run(
                [sys.executable, str(HARNESS / "deploy.py"), "--endpoint", args.endpoint,
                 "--template", str(ROOT / "member-role.yaml"), "--region", region,
                 "--stack-name", "compliance-scanner-member",
                 "--parameter", f"ScannerAccountId={manifest['account']}",
                 "--parameter", f"ScannerEnvironment={args.environment}",
                 "--parameter", f"OrganizationId={organization['id']}",
                 "--parameter", f"RoleRegion={regions[0]}", "--parameter", "EnableRemediation=true"],
                env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"deploy_member_roles: account {account['id']} {region}: {done.stderr[-2000:]}", file=sys.stderr)
                return 1
    print(json.dumps({"members": [a["id"] for a in members], "regions": regions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
