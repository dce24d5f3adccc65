#!/usr/bin/env python3
"""`make bench-org`: the organization scan through the real workflow, at growing sizes.

For each size N: a fresh emulator; template.yaml deployed into it (deploy.py); the release
binaries served to its Step Functions engine (lambda_bridge.py); an organization seeded with N
member accounts copied from tests/estate/organization.json's members (seed_estate.py --members
N), plus its unreachable member and the management account's own estate, in three regions; then
`compliance run --wait`, the state machine with its Distributed Map, timed. Measured:

- wall time of `compliance run --wait` (start to the execution's end);
- API requests, from the emulator's request log (POST /_harness/request-log: service, action,
  the account the credentials act in, AssumeRole's target), each attributed to the function
  invocation that was running when it arrived (lambda_bridge.py's LAMBDA_BRIDGE_RSS_LOG: one
  line per invocation with start, duration, CPU time, peak RSS; region-scan runs one unit at a
  time here, so a request during a unit is that unit's); compared per account with a
  single-account `compliance scan` of the same estate, run with the member role's credentials;
- each function's peak RSS (VmHWM of its process, which serves every invocation of the run);
- the largest state payload of the execution (inspect_emulator.py `execution`) and of the
  map's children (their inputs and outputs in the ResultWriter's files).

Then bench/org_model.py turns the largest run's per-unit measurements into the paper estimate
for 1,000 accounts x 17 regions. Writes its section of bench/RESULTS.md (between markers), the
raw measurements to target/bench-org/measurements.json (`--from` renders from such a file).
"""

import argparse
import bisect
import collections
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HARNESS = ROOT / "tests" / "harness"
STACK = "compliance-scanner"
BEGIN = "<!-- org:begin (bench/org.py) -->"
END = "<!-- org:end -->"
# What a single-account scan calls: the services the comparison counts (S3 object reads and
# writes, SSM, DynamoDB... are the workflow's own storage and configuration).
SCAN_SERVICES = {"ec2", "rds", "s3", "s3control", "sts"}

sys.path.insert(0, str(HERE))
import org_model  # noqa: E402  (bench/org_model.py, next to this file)


def start(argv, env, **kwargs):
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, **kwargs)
    line = proc.stdout.readline()
    if not line:
        sys.exit(f"bench-org: {Path(argv[1]).name} did not start")
    return proc, json.loads(line)


def stop(children):
    for child in reversed(children):
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def control(endpoint, path, body):
    request = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()


def read_jsonl(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def is_scan_request(request):
    """A request a single-account scan also makes (not the workflow's S3 objects)."""
    if request["service"] not in SCAN_SERVICES:
        return False
    return not (request["service"] == "s3" and " object" in request["action"])


def acted_in(request):
    return request.get("target_account") or request["account"]


def run_size(members, binaries, workdir, timeout):
    """One organization of `members` members, end to end; returns the raw measurements."""
    workdir.mkdir(parents=True, exist_ok=True)
    python, children = sys.executable, []
    for name in ("requests.jsonl", "invocations.jsonl", "functions.log"):
        (workdir / name).unlink(missing_ok=True)
    try:
        emulator, endpoints = start([python, str(HARNESS / "emulator.py")], os.environ.copy())
        children.append(emulator)
        endpoint = endpoints["AWS_ENDPOINT_URL"]
        env = dict(os.environ, **endpoints["env"], AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", RUST_LOG="warn")
        env.pop("AWS_SESSION_TOKEN", None)
        deployed = subprocess.run(
            [python, str(HARNESS / "deploy.py"), "--endpoint", endpoint, "--template", str(ROOT / "template.yaml"),
             "--stack-name", STACK], env=env, check=True, capture_output=True, text=True)
        result = json.loads([line for line in deployed.stdout.splitlines() if line.startswith("{")][-1])
        bridge_cmd = [python, str(HARNESS / "lambda_bridge.py"), "serve", "--timeout", "900"]
        for name, path in result["functions"].items():
            bridge_cmd += ["--function", f"{name}={binaries / Path(path).name}"]
        for fn_env in result["environment"].values():
            for key, value in fn_env.items():
                bridge_cmd += ["--env", f"{key}={value}"]
        bridge_env = dict(env, LAMBDA_BRIDGE_RSS_LOG=str(workdir / "invocations.jsonl"),
                          LAMBDA_BRIDGE_LOG_FILE=str(workdir / "functions.log"))
        bridge, bridge_info = start(bridge_cmd, bridge_env)
        children.append(bridge)
        control(endpoint, "/_harness/lambda-endpoint", {"endpoint": bridge_info["endpoint"]})

        seeded_at = time.perf_counter()
        subprocess.run([python, str(HARNESS / "seed_estate.py"), "--endpoint", endpoint, "--scale", "1",
                        "--manifest", str(workdir / "manifest.json"), "--config-params", "--organization",
                        "--members", str(members)], env=env, check=True, stdout=subprocess.DEVNULL)
        seed_seconds = time.perf_counter() - seeded_at
        manifest = json.loads((workdir / "manifest.json").read_text())

        control(endpoint, "/_harness/request-log", {"path": str(workdir / "requests.jsonl")})
        started_at = time.time()
        began = time.perf_counter()
        ran = subprocess.run([str(binaries / "compliance"), "run", "--wait", "--timeout", str(timeout),
                              "--stack-name", STACK, "--run-id", f"bench-org-{members}"],
                             env=env, capture_output=True, text=True)
        wall = time.perf_counter() - began
        control(endpoint, "/_harness/request-log", {"path": None})
        arn = next((line.split()[-1] for line in ran.stdout.splitlines() if line.strip().startswith("execution ")),
                   None)
        if arn is None:
            sys.exit(f"bench-org: no execution ARN from compliance run (exit {ran.returncode}):\n"
                     f"{ran.stdout}\n{ran.stderr}")
        history = json.loads(subprocess.run([python, str(HARNESS / "inspect_emulator.py"), "execution", arn],
                                            env=env, check=True, capture_output=True, text=True).stdout)
        execution = read_execution(env, arn, history)
        baselines = single_account_baselines(binaries, env, endpoint, manifest, workdir)
        cli_org = cli_organization_stats(binaries, env, workdir)
    finally:
        stop(children)
    return {
        "members": members,
        "accounts": len(manifest["organization"]["accounts"]),
        "exit_code": ran.returncode,
        "wall_seconds": wall,
        "seed_seconds": seed_seconds,
        "started_at": started_at,
        "execution": execution,
        "manifest_accounts": [{k: a.get(k) for k in ("id", "name", "reachable", "management")}
                              for a in manifest["organization"]["accounts"]],
        "invocations": read_jsonl(workdir / "invocations.jsonl"),
        "requests": read_jsonl(workdir / "requests.jsonl"),
        "baselines": baselines,
        "cli_organization": cli_org,
    }


def read_execution(env, arn, summary):
    """The parent's history summary, its output, the Map state's time span, and the children's
    payloads and statuses from the ResultWriter's files."""
    import boto3

    kw = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": "us-east-1",
          "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    sfn, s3 = boto3.client("stepfunctions", **kw), boto3.client("s3", **kw)
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    largest_event, largest_size = None, -1
    for e in events:
        for details in e.values():
            if isinstance(details, dict):
                for field in ("input", "output"):
                    text = details.get(field)
                    if isinstance(text, str) and len(text.encode()) > largest_size:
                        largest_size, largest_event = len(text.encode()), {
                            "type": e["type"], "field": field, "head": text[:4000]}
    stamps = {e["type"]: e["timestamp"].timestamp() for e in events
              if e["type"] in ("MapStateEntered", "MapStateExited")}
    described = sfn.describe_execution(executionArn=arn)
    output = json.loads(described.get("output") or "{}")
    plan, scan = output.get("plan", {}), output.get("scan", {})
    children, result_files_bytes = [], 0
    if scan.get("manifest_key"):
        manifest = json.loads(s3.get_object(Bucket=plan["bucket"], Key=scan["manifest_key"])["Body"].read())
        for group, files in manifest["ResultFiles"].items():
            for f in files:
                result_files_bytes += f["Size"]
                for child in json.loads(s3.get_object(Bucket=plan["bucket"], Key=f["Key"])["Body"].read()):
                    unit = json.loads(child.get("Output") or "{}")
                    children.append({"status": child["Status"], "input_bytes": len(child["Input"].encode()),
                                     "output_bytes": len((child.get("Output") or "").encode()),
                                     # a unit whose error was caught (UnitFailed) ends its child SUCCEEDED
                                     "unit_failed": child["Status"] != "SUCCEEDED" or "error" in unit})
    units_bytes = None
    if plan.get("units_key"):
        units_bytes = s3.head_object(Bucket=plan["bucket"], Key=plan["units_key"])["ContentLength"]
    run_key = (output.get("aggregate") or {}).get("run_key")
    run_bytes = s3.head_object(Bucket=plan["bucket"], Key=run_key)["ContentLength"] if run_key else None
    return {
        "arn": arn,
        "status": described["status"],
        "history_events": len(events),
        "event_types": summary.get("event_types"),
        "states_entered": summary.get("states_entered"),
        "largest_payload_bytes": summary.get("largest_payload_bytes"),
        "largest_payload_event": largest_event,
        "output_head": (described.get("output") or "")[:20000],
        "map_started": stamps.get("MapStateEntered"),
        "map_ended": stamps.get("MapStateExited"),
        "plan": {k: plan.get(k) for k in ("account_count", "unit_count", "max_concurrency")},
        "units_file_bytes": units_bytes,
        "result_files_bytes": result_files_bytes,
        "run_document_bytes": run_bytes,
        "aggregate": {k: v for k, v in (output.get("aggregate") or {}).items() if isinstance(v, (int, float, bool))},
        # aggregate's output lists failed units inline (up to a cap): the parent payload's only growth
        "failed_units_inline": len((output.get("aggregate") or {}).get("failed_units") or []),
        "failed_units_inline_bytes": len(json.dumps((output.get("aggregate") or {}).get("failed_units") or [],
                                                    separators=(",", ":")).encode()),
        "decision": (output.get("analysis") or {}).get("decision"),
        "children": children,
    }


def single_account_baselines(binaries, env, endpoint, manifest, workdir):
    """`compliance scan` of one account of each member estate (and of the management account),
    with that account's own credentials: what a single-account scan of the same estate costs."""
    import boto3

    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    regions = ",".join(manifest["regions"])
    chosen, seen = [], set()
    for account in manifest["organization"]["accounts"]:
        template = template_of(account["name"]) if not account["management"] else "management"
        if account["reachable"] and template not in seen:
            seen.add(template)
            chosen.append((template, account))
    out = {}
    for template, account in chosen:
        scan_env = dict(env)
        if not account["management"]:
            creds = sts.assume_role(RoleArn=account["role"], RoleSessionName="bench-baseline")["Credentials"]
            scan_env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                            AWS_SESSION_TOKEN=creds["SessionToken"])
        log = workdir / f"baseline-{template}.jsonl"
        log.unlink(missing_ok=True)
        control(endpoint, "/_harness/request-log", {"path": str(log)})
        done = subprocess.run([str(binaries / "compliance"), "scan", "--no-parameter-store", "--regions", regions,
                               "--format", "json", "--output", str(workdir / f"baseline-{template}.json")],
                              env=scan_env, capture_output=True, text=True)
        control(endpoint, "/_harness/request-log", {"path": None})
        if done.returncode not in (0, 3, 4):
            sys.exit(f"bench-org: baseline scan of {account['name']} failed ({done.returncode}): {done.stderr}")
        requests = [r for r in read_jsonl(log) if r["account"] == account["id"]]
        out[template] = {"account": account["id"], "name": account["name"],
                         "by_action": dict(collections.Counter(f"{r['service']} {r['action']}" for r in requests))}
    return out


def cli_organization_stats(binaries, env, workdir):
    """`compliance scan --organization --stats` once the CLI has it (another change adds it):
    its own request counts, for comparison. None while the CLI lacks the flag."""
    helptext = subprocess.run([str(binaries / "compliance"), "scan", "--help"], env=env, capture_output=True,
                              text=True).stdout
    if "--organization" not in helptext:
        return None
    stats = workdir / "cli-organization-stats.json"
    done = subprocess.run([str(binaries / "compliance"), "scan", "--organization", "--format", "json", "--output",
                           str(workdir / "cli-organization.json"), "--stats", str(stats)],
                          env=env, capture_output=True, text=True)
    if not stats.exists():
        return {"exit_code": done.returncode, "error": done.stderr[-2000:]}
    data = json.loads(stats.read_text())
    return {"exit_code": done.returncode,
            **{k: v for k, v in data.items() if k.startswith("requests") or "account" in k}}


def template_of(name):
    """payments-prod-007 -> payments-prod (seed_estate.py --members names copies so)."""
    base, _, suffix = name.rpartition("-")
    return base if suffix.isdigit() and base else name


# ------------------------------------------------------------------------------ analysis

# Never a function's: `compliance run --wait` polls Step Functions (and reads the stack) while
# the functions run; the functions themselves call neither.
NOT_FROM_FUNCTIONS = {"states", "cloudformation"}


def attribute(requests, invocations):
    """Each request's invocation (the one running when it arrived; the latest started if
    several), or None (the Step Functions engine's own calls, the CLI's polling)."""
    spans = sorted(((i["started"], i["started"] + i["seconds"], n) for n, i in enumerate(invocations)))
    starts = [s[0] for s in spans]
    owner = []
    for r in requests:
        if r["service"] in NOT_FROM_FUNCTIONS:
            owner.append(None)
            continue
        k, found = bisect.bisect_right(starts, r["t"]), None
        for start_at, end_at, n in reversed(spans[max(0, k - 8):k]):
            if start_at <= r["t"] <= end_at:
                found = n
                break
        owner.append(found)
    return owner


def function_kind(name):
    """compliance-scanner-region-scan-dev -> region-scan."""
    for kind in org_model.FUNCTIONS:
        if f"-{kind}-" in f"{name}-":
            return kind
    return name


def analyse(raw):
    invocations, requests = raw["invocations"], raw["requests"]
    owner = attribute(requests, invocations)
    kinds = [function_kind(i["function"]) for i in invocations]
    accounts = {a["id"]: a for a in raw["manifest_accounts"]}

    functions = {}
    cpu_before, cpu_of = {}, {}
    for n in sorted(range(len(invocations)), key=lambda i: invocations[i]["started"]):
        inv = invocations[n]
        kind = kinds[n]
        f = functions.setdefault(kind, {"invocations": 0, "seconds": 0.0, "cpu_seconds": 0.0, "peak_rss_kib": 0,
                                        "requests": collections.Counter()})
        f["invocations"] += 1
        f["seconds"] += inv["seconds"]
        cpu = inv.get("cpu_seconds") or 0.0
        cpu_of[n] = cpu - cpu_before.get(inv["pid"], 0.0)  # the process's CPU time during this invocation
        f["cpu_seconds"] += cpu_of[n]
        cpu_before[inv["pid"]] = cpu
        f["peak_rss_kib"] = max(f["peak_rss_kib"], inv.get("peak_rss_kib") or 0)
    outside = collections.Counter()
    per_unit = {}  # invocation index -> Counter of "service action"
    in_account = collections.defaultdict(collections.Counter)  # scan requests acting in each account
    for r, n in zip(requests, owner):
        label = f"{r['service']} {r['action']}"
        if n is None:
            outside[label] += 1
            continue
        functions[kinds[n]]["requests"][label] += 1
        if kinds[n] == "region-scan":
            per_unit.setdefault(n, collections.Counter())[label] += 1
            if is_scan_request(r):
                in_account[acted_in(r)][label] += 1

    units = collections.defaultdict(list)  # (member|management, service) -> [(requests, seconds, cpu)]
    for n, inv in enumerate(invocations):
        if kinds[n] != "region-scan":
            continue
        who = "management" if accounts.get(inv.get("account_id"), {}).get("management") else "member"
        if accounts.get(inv.get("account_id"), {}).get("reachable", True):
            units[(who, inv.get("service"))].append((per_unit.get(n, collections.Counter()), inv["seconds"], cpu_of[n]))
    scan_units = [i for i, k in zip(invocations, kinds) if k == "region-scan"]
    member_units = [i for i in scan_units if not accounts.get(i.get("account_id"), {}).get("management")
                    and accounts.get(i.get("account_id"), {}).get("reachable", True)]

    per_account = []
    for account_id, account in accounts.items():
        counts = in_account.get(account_id, collections.Counter())
        template = "management" if account["management"] else template_of(account["name"])
        baseline = raw["baselines"].get(template, {}).get("by_action", {})
        per_account.append({
            "id": account_id, "name": account["name"], "template": template, "reachable": account["reachable"],
            "run": dict(counts), "run_total": sum(counts.values()),
            "assume_role": sum(v for k, v in counts.items() if k == "sts AssumeRole"),
            "baseline": baseline,
            "baseline_total": sum(v for k, v in baseline.items() if k != "sts GetCallerIdentity"),
        })
    children = raw["execution"]["children"]
    return {
        "functions": {k: {**v, "requests": dict(v["requests"])} for k, v in functions.items()},
        "outside_functions": dict(outside),
        "per_account": per_account,
        "unit_requests": {f"{who} {service}": {
            "units": len(lst),
            "mean_by_action": {a: sum(c[a] for c, _, _ in lst) / len(lst)
                               for a in sorted({a for c, _, _ in lst for a in c})},
            "mean_seconds": sum(t for _, t, _ in lst) / len(lst),
            "mean_cpu_seconds": sum(cpu for _, _, cpu in lst) / len(lst),
        } for (who, service), lst in units.items()},
        "member_unit_seconds": [i["seconds"] for i in member_units],
        "requests_total": len(requests),
        "largest_child_payload_bytes": max([max(c["input_bytes"], c["output_bytes"]) for c in children] or [0]),
        "children_by_status": dict(collections.Counter(c["status"] for c in children)),
        "units_failed": sum(1 for c in children if c.get("unit_failed")),
    }


# ------------------------------------------------------------------------------ report

def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}"


def mib(kib):
    return f"{kib / 1024:.1f}"


def render(runs, sizes_arg):
    lines = [
        BEGIN,
        "## Organization scan: the workflow on the emulator (`make bench-org`)",
        "",
        f"- Date: {datetime.date.today().isoformat()}; machine: {machine()}.",
        f"- Command: `bench/org.py --members {sizes_arg}` with release binaries (`make bench-org` runs it with",
        "  BENCH_ORG_MEMBERS, 1,10,50 by default).",
        "- Each size: a fresh emulator, template.yaml deployed into it, the release binaries served by",
        "  lambda_bridge.py, the organization seeded with `seed_estate.py --organization --members N`:",
        "  N members copying organization.json's three reachable members in turn (each at scale 1 in",
        "  us-east-1, eu-west-1 and ap-southeast-1), its unreachable member, and the management",
        "  account (the emulator's own, with estate.json at scale 1 and the stack). Then `compliance",
        "  run --wait`: Plan, the Distributed Map (one child execution per unit), Aggregate, Analyze,",
        "  Alert and Remediate (dry-run), StoreReport.",
        "- wall: `compliance run --wait`, start to end; map: the Distributed Map state, entered to exited.",
        "  The bridge runs one process per function, so the map's children call region-scan one at a",
        "  time here (in Lambda, max_concurrency at once): the map's time is the units' sum, and the",
        "  emulator (one Python process on the same two cores) is most of it. whole size: emulator",
        "  start to teardown, seeding and the single-account baseline scans included.",
        "",
        "| members | accounts | units | units failed | wall (s) | map (s) | seeding (s) | whole size (s) | "
        "region-scan mean (s) | "
        "requests | aggregate peak RSS (MiB) | store-report peak RSS (MiB) | largest parent payload (B) | "
        "largest child payload (B) | parent history events | run document (KiB) |",
        "|" + "---|" * 16,
    ]
    for raw, a in runs:
        ex = raw["execution"]
        fns = a["functions"]
        scan = fns.get("region-scan", {})
        map_seconds = (ex["map_ended"] - ex["map_started"]) if ex.get("map_ended") and ex.get("map_started") else 0
        lines.append(
            f"| {raw['members']} | {ex['plan'].get('account_count')} | {ex['plan'].get('unit_count')} | "
            f"{a['units_failed']} | {raw['wall_seconds']:.1f} | {map_seconds:.1f} | {raw['seed_seconds']:.0f} | "
            f"{raw.get('bench_seconds', 0):.0f} | "
            f"{scan.get('seconds', 0) / max(1, scan.get('invocations', 1)):.3f} | {a['requests_total']} | "
            f"{mib(fns.get('aggregate', {}).get('peak_rss_kib', 0))} | "
            f"{mib(fns.get('store-report', {}).get('peak_rss_kib', 0))} | {ex['largest_payload_bytes']} | "
            f"{a['largest_child_payload_bytes']} | {ex['history_events']} | "
            f"{(ex['run_document_bytes'] or 0) / 1024:.0f} |")
    lines += ["", *requests_section(runs), "", *rss_section(runs), ""]
    lines += org_model.render(runs)
    lines.append(END)
    return "\n".join(lines) + "\n"


def requests_section(runs):
    raw, a = runs[-1]
    lines = [
        "### API requests per account",
        "",
        "Counted by the emulator (its request log), each request filed under the account its",
        "credentials act in (moto maps an assumed role's keys to the role's account; sts:AssumeRole",
        "under the role's account) and under the function invocation running when it arrived.",
        "\"Scan requests\" are the calls a single-account scan also makes (EC2, RDS, S3 bucket",
        "settings, S3 Control, STS); the single-account baseline is `compliance scan` of the same",
        "estate with that account's own credentials (its one sts:GetCallerIdentity left out: a unit",
        "knows its account).",
        "",
        f"Largest run ({raw['members']} members), one line per estate (the accounts copying it):",
        "",
        "| estate | accounts | single-account scan | in the run (min / max per account) | of which sts:AssumeRole | "
        "difference |",
        "|---|---|---|---|---|---|",
    ]
    by_template = collections.defaultdict(list)
    for acc in a["per_account"]:
        by_template[(acc["template"], acc["reachable"])].append(acc)
    for (template, reachable), accs in sorted(by_template.items()):
        totals = [x["run_total"] for x in accs]
        roles = sorted({x["assume_role"] for x in accs})
        base = accs[0]["baseline_total"] if reachable else 0
        diff = sorted({x["run_total"] - base for x in accs})
        label = template if reachable else f"{template} (unreachable)"
        lines.append(f"| {label} | {len(accs)} | {base if reachable else '-'} | {min(totals)} / {max(totals)} | "
                     f"{'/'.join(map(str, roles))} | {'/'.join(f'{d:+d}' for d in diff)} |")
    hub = []
    for raw_n, _ in runs:
        try:
            report = json.loads(raw_n["execution"].get("output_head") or "{}").get("report") or {}
        except ValueError:
            report = {}
        exported = report.get("security_hub") or {}
        if "failed_count" in exported:
            hub.append(f"{raw_n['members']} members: {exported.get('imported')} imported, "
                       f"{exported.get('failed_count')} refused")
    if hub:
        lines += [
            "",
            "Security Hub (store-report's result): " + "; ".join(hub) + ". Each account's findings",
            "are imported through that account's own credentials (its member role); the emulator, like",
            "Security Hub with the default product ARN, refuses a finding imported from another account,",
            "so a refusal here would mean a finding sent through the wrong account.",
        ]
    lines += [
        "",
        "Per size (every reachable member account):",
        "",
        "| members | scan requests per member (mean) | single-account baseline (mean) | sts:AssumeRole per member "
        "| workflow requests outside the accounts' scans | per unit |",
        "|---|---|---|---|---|---|",
    ]
    for raw_n, a_n in runs:
        members = [x for x in a_n["per_account"] if x["reachable"] and x["template"] != "management"]
        mean = sum(x["run_total"] for x in members) / max(1, len(members))
        base = sum(x["baseline_total"] for x in members) / max(1, len(members))
        roles = sum(x["assume_role"] for x in members) / max(1, len(members))
        scan_total = sum(x["run_total"] for x in a_n["per_account"])
        workflow = a_n["requests_total"] - scan_total
        units = raw_n["execution"]["plan"].get("unit_count") or 1
        lines.append(f"| {raw_n['members']} | {mean:.1f} | {base:.1f} | {roles:.2f} | {workflow} | "
                     f"{workflow / units:.2f} |")
    lines += [
        "",
        "The target is met where the difference is the AssumeRoles alone. Here region-scan runs as",
        "one warm process (the bridge serves one sandbox per function), whose credential cache",
        "assumes each member role once for all of that account's units; in Lambda each concurrent",
        "sandbox assumes it once, so a run makes between 1 and units-per-account (2 x regions + 1)",
        "AssumeRoles per account, at most one per account and unit. \"Workflow requests\" are",
        "everything else: each unit's configuration read (SSM) and unit document (S3 PUT), the",
        "Step Functions engine's ItemReader and ResultWriter, the plan, aggregate's reads and run",
        "document, the reports, Security Hub imports, the findings table, metrics, and `compliance",
        "run --wait` polling.",
        "",
        "Requests of the largest run by function (service and action, all accounts; Alert and",
        "Remediate run in parallel and are told apart by time only, so their few calls may be swapped):",
        "",
    ]
    for kind in [*org_model.FUNCTIONS, None]:
        counts = a["functions"].get(kind, {}).get("requests") if kind else a["outside_functions"]
        if not counts:
            continue
        by_service = collections.Counter()
        for label, v in counts.items():
            by_service[label.split(" ", 1)[0]] += v
        label = kind or "outside any function (engine, CLI)"
        lines.append(f"- {label}: " + ", ".join(f"{s} {v}" for s, v in sorted(by_service.items())))
    return lines


def rss_section(runs):
    lines = [
        "### Peak RSS per function",
        "",
        "VmHWM of each function's process after its last invocation (one warm process per function",
        "serves the whole run, so this is the run's peak for that function), MiB:",
        "",
        "| members | " + " | ".join(org_model.FUNCTIONS) + " |",
        "|---|" + "---|" * len(org_model.FUNCTIONS),
    ]
    for raw, a in runs:
        lines.append(f"| {raw['members']} | " + " | ".join(
            mib(a["functions"].get(k, {}).get("peak_rss_kib", 0)) for k in org_model.FUNCTIONS) + " |")
    lines += [
        "",
        "aggregate streams the run document account by account, so its peak was meant to be one",
        "account's findings plus what it holds for the whole run: the plan and the map's results (the",
        "ResultWriter's files are read whole: "
        + ", ".join(f"{r['execution']['result_files_bytes'] / (r['execution']['plan'].get('unit_count') or 1):.0f}"
                    f" B per unit at {r['members']} members" for r, _ in runs) + ").",
    ]
    if len(runs) > 1:
        units = lambda r: r["execution"]["plan"]["unit_count"]  # noqa: E731
        slope = org_model.fit([(units(r), a["functions"].get("aggregate", {}).get("peak_rss_kib", 0))
                               for r, a in runs])[1]
        verdict = "It is not flat" if slope > 0.5 else "It is flat (under 0.5 KiB per unit)"
        lines += ["", f"{verdict}; the growth per unit of the functions that hold run-wide data:", ""]
        sandbox_units = org_model.UNITS // (runs[-1][0]["execution"]["plan"].get("max_concurrency") or 100)
        for kind, at, why in (
                ("aggregate", org_model.UNITS, "it keeps only the failed units from the map's results and one "
                 "account's documents at a time, but holds the run document's per-unit records and "
                 "per-account summaries (written last) and one ResultWriter file's bytes"),
                ("store-report", org_model.UNITS, "it renders every report format from the whole run document, "
                 "which grows with findings"),
                ("region-scan", sandbox_units, "its warm process keeps a client set per member account it has "
                 f"served; in Lambda a sandbox serves ~{sandbox_units} units of a 35,000-unit run "
                 "(units / max_concurrency), each a new account")):
            base, slope = org_model.fit([(units(r), a["functions"].get(kind, {}).get("peak_rss_kib", 0))
                                         for r, a in runs])
            lines.append(
                f"- {kind}: +{slope:.2f} KiB of peak RSS per unit (linear fit over the sizes above): "
                f"~{(base + slope * at) / 1024:,.0f} MiB at {at:,} units if it holds, against its "
                f"{org_model.function_settings()[kind]['memory_mb']} MB; {why}.")
    return lines


def write_section(path, section):
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        before, after = text[: text.index(BEGIN)], text[text.index(END) + len(END):].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binaries", default=str(ROOT / "target" / "release"))
    parser.add_argument("--members", default="1,10,50", help="member counts, comma-separated")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--workdir", default=str(ROOT / "target" / "bench-org"))
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per workflow run")
    parser.add_argument("--from", dest="saved", help="render from a saved measurements.json instead of running")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    if args.saved:
        saved = json.loads(Path(args.saved).read_text())
    else:
        saved = []
        for members in [int(m) for m in args.members.split(",")]:
            began = time.perf_counter()
            raw = run_size(members, Path(args.binaries).resolve(), workdir / f"members-{members}", args.timeout)
            raw["bench_seconds"] = time.perf_counter() - began
            saved.append(raw)
            a = analyse(raw)
            print(f"members {members:>3}: {raw['execution']['plan'].get('unit_count')} units, run "
                  f"{raw['wall_seconds']:.1f} s (bench {raw['bench_seconds']:.0f} s, seeding "
                  f"{raw['seed_seconds']:.0f} s), {a['requests_total']} requests, aggregate peak RSS "
                  f"{mib(a['functions'].get('aggregate', {}).get('peak_rss_kib', 0))} MiB, largest payload "
                  f"{raw['execution']['largest_payload_bytes']} B", flush=True)
            workdir.mkdir(parents=True, exist_ok=True)
            (workdir / "measurements.json").write_text(json.dumps(saved))
    runs = [(raw, analyse(raw)) for raw in saved]
    section = render(runs, ",".join(str(r["members"]) for r in saved))
    write_section(Path(args.output), section)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
