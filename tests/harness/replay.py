#!/usr/bin/env python3
"""`make demo`: the full local replay of the workflow, on the production definition.

Starts the emulator, deploys template.yaml into it (deploy.py), serves the six function
binaries through the Lambda Runtime API (lambda_bridge.py) to the emulator's Step Functions
engine, seeds a misconfigured estate in three regions, and runs `compliance run --wait` three
times: as deployed (remediation dry-run), with remediation enforced, and once more to show the
remediated findings resolved. Then checks that Security Hub holds one finding per (rule,
resource) with the fixed ones archived, in agreement with the findings table, prints the CIS view
of the last run and saves its HTML report under target/demo/. Stops everything it started.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parents[1]
STACK = "compliance-scanner"


def banner(text):
    print(f"\n== {text}", flush=True)


def start(argv, env):
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    line = proc.stdout.readline()
    if not line:
        sys.exit(f"replay: {argv[1]} did not start")
    return proc, json.loads(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binaries", default=str(ROOT / "target" / "debug"))
    args = parser.parse_args()
    binaries = Path(args.binaries)
    python = sys.executable
    children = []
    try:
        emulator, endpoints = start([python, str(HARNESS / "emulator.py")], os.environ.copy())
        children.append(emulator)
        env = dict(os.environ, **endpoints["env"], AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", RUST_LOG="warn")
        banner(f"emulator at {env['AWS_ENDPOINT_URL']}; deploying template.yaml as stack {STACK}")
        deployed = subprocess.run(
            [python, str(HARNESS / "deploy.py"), "--endpoint", env["AWS_ENDPOINT_URL"],
             "--template", str(ROOT / "template.yaml"), "--stack-name", STACK],
            env=env, check=True, capture_output=True, text=True)
        result = json.loads([l for l in deployed.stdout.splitlines() if l.startswith("{")][-1])
        for name, path in sorted(result["functions"].items()):
            print(f"   {name} -> {binaries / Path(path).name}")

        bridge_cmd = [python, str(HARNESS / "lambda_bridge.py"), "serve"]
        for name, path in result["functions"].items():
            bridge_cmd += ["--function", f"{name}={binaries / Path(path).name}"]
        merged = {}
        for fn_env in result["environment"].values():
            merged.update(fn_env)
        for key, value in merged.items():
            bridge_cmd += ["--env", f"{key}={value}"]
        bridge, bridge_info = start(bridge_cmd, env)
        children.append(bridge)
        request = urllib.request.Request(
            env["AWS_ENDPOINT_URL"] + "/_harness/lambda-endpoint",
            data=json.dumps({"endpoint": bridge_info["endpoint"]}).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()

        banner("seeding a misconfigured estate in us-east-1, eu-west-1 and ap-southeast-1")
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([python, str(HARNESS / "seed_estate.py"), "--endpoint", env["AWS_ENDPOINT_URL"],
                            "--scale", "1", "--manifest", str(Path(tmp) / "manifest.json"), "--config-params"],
                           env=env, check=True, stdout=subprocess.DEVNULL)

        cli = str(binaries / "compliance")
        runs = [
            ("run 1: as deployed (remediation is dry-run by default)", "demo-run-1", None),
            ("run 2: remediation enforced for three rules", "demo-run-2",
             {"mode": "enforce", "allowed_rules": ["s3_bucket_default_encryption", "rds_instance_public", "ec2_sg_open_ssh"],
              "max_executions_per_run": 20, "cooldown_minutes": 60}),
            ("run 3: after remediation", "demo-run-3", None),
        ]
        for title, run_id, remediation in runs:
            if remediation is not None:
                subprocess.run([python, str(HARNESS / "put_parameter.py"), "--name",
                                "/compliance/scanner/config/remediation", "--value", json.dumps(remediation)],
                               env=env, check=True)
            banner(f"{title}: compliance run --wait")
            code = subprocess.run([cli, "run", "--wait", "--stack-name", STACK, "--run-id", run_id], env=env).returncode
            if code != 0:
                sys.exit(f"replay: {run_id} ended with exit code {code}")
        show_lifecycle(python, env, result)
        banner("compliance report --framework cis (the last run)")
        subprocess.run([cli, "report", "--framework", "cis", "--stack-name", STACK], env=env, check=True)
        save_html(python, env, result)
        scan_organization(python, env, result, cli)
    finally:
        for child in reversed(children):
            if child.stdin:
                child.stdin.close()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def scan_organization(python, env, deployed, cli):
    """Run 4: the same stack scans an organization: the management account (this estate), three
    members through their member role, and a fourth member whose role cannot be assumed."""
    banner("seeding an organization: 3 member accounts with their own estates, 1 unreachable")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([python, str(HARNESS / "seed_estate.py"), "--endpoint", env["AWS_ENDPOINT_URL"],
                        "--no-estate", "--organization", "--config-params",
                        "--manifest", str(Path(tmp) / "manifest.json")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        banner("member-role.yaml (remediation enabled) into every reachable member, in each region, "
               "as a StackSet would")
        subprocess.run([python, str(HARNESS / "deploy_member_roles.py"), "--endpoint", env["AWS_ENDPOINT_URL"],
                        "--manifest", str(Path(tmp) / "manifest.json")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    banner("run 4: the organization, accounts parameter {\"source\": \"organization\"}: compliance run --wait")
    code = subprocess.run([cli, "run", "--wait", "--stack-name", STACK, "--run-id", "demo-org-run"], env=env).returncode
    if code != 0:
        sys.exit(f"replay: demo-org-run ended with exit code {code}")
    bucket = deployed["outputs"]["ReportsBucketName"]
    run = json.loads(subprocess.run([python, str(HARNESS / "s3_tool.py"), "get-object", bucket,
                                     "runs/demo-org-run/run.json"], env=env, check=True,
                                    capture_output=True).stdout)
    banner("the organization run, account by account (worst first)")
    for account in run["accounts"]:
        score = account["summary"]["compliance_score"]
        counts = account["summary"]["findings_by_severity"]
        print(f"   {account['account_id']}  {(account.get('name') or '-'):<20} "
              f"score {'-' if score is None else f'{score:5.1f}'}  "
              f"findings {sum(counts.values()):4}  units {account['units']:2}  failed units {account['failed_units']}")
    unreachable = [a for a in run["accounts"] if a["failed_units"] and not a["units"]]
    if len(unreachable) != 1:
        sys.exit(f"replay: expected one unreachable account, got {unreachable}")
    cause = next(f["cause"] for f in run["failed_units"] if f["account_id"] == unreachable[0]["account_id"])
    print(f"   unreachable: {cause[:200]}")
    member = next(a for a in run["accounts"] if a["units"] and a["account_id"] != run["account_id"])
    banner(f"compliance report --run demo-org-run --account {member['account_id']} --framework cis-3.0 "
           f"(the {member.get('name') or 'member'} account alone)")
    subprocess.run([cli, "report", "--run", "demo-org-run", "--account", member["account_id"],
                    "--framework", "cis-3.0", "--stack-name", STACK], env=env, check=True)


def inspect(python, env, *args):
    out = subprocess.run([python, str(HARNESS / "inspect_emulator.py"), *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def show_lifecycle(python, env, deployed):
    """Security Hub and the findings table after the fix: one finding per (rule, resource, region),
    archived and passed exactly where the table says resolved."""
    banner("Security Hub (us-east-1) and the findings table after the fix")
    hub = inspect(python, env, "securityhub-findings", "us-east-1")
    table = {i["finding_id"]: i for i in inspect(python, env, "table-items", deployed["outputs"]["FindingsTableName"])}
    keys = {(f["GeneratorId"], f["Resources"][0]["Id"], f["Resources"][0]["Region"]) for f in hub}
    archived = {f["Id"] for f in hub if f["RecordState"] == "ARCHIVED" and f["Compliance"]["Status"] == "PASSED"}
    resolved = {i for i, item in table.items() if item["status"] == "resolved"}
    print(f"   Security Hub: {len(hub)} findings for {len(keys)} (rule, resource) pairs; "
          f"{len(archived)} ARCHIVED + PASSED, {len(hub) - len(archived)} ACTIVE + FAILED")
    states = {}
    for item in table.values():
        states[item["status"]] = states.get(item["status"], 0) + 1
    print(f"   findings table: {len(table)} items: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    if len(keys) != len(hub) or archived != resolved or {f["Id"] for f in hub} != set(table):
        sys.exit("replay: Security Hub and the findings table disagree")


def save_html(python, env, deployed):
    bucket = deployed["outputs"]["ReportsBucketName"]
    keys = [k for k in inspect(python, env, "s3-keys", bucket, "reports/") if k.endswith("/demo-run-3/report.html")]
    if not keys:
        sys.exit("replay: no HTML report for demo-run-3")
    target = ROOT / "target" / "demo" / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        subprocess.run([python, str(HARNESS / "s3_tool.py"), "get-object", bucket, keys[0]], env=env, check=True, stdout=out)
    banner(f"the last run's HTML report: {target} (open it in a browser)")


if __name__ == "__main__":
    main()
