"""The paper estimate for 1,000 accounts x 17 regions (bench/org.py renders it): Step Functions
transitions, Lambda requests and GB-seconds, S3 requests and the cost of one run at list prices,
and where the definition stands against Step Functions' limits. Every number is derived here
from the definition (statemachine/compliance_scan.asl.json), the template's memory sizes and
the measured runs, with the assumptions named in ASSUMED_LATENCY_MS and the text.
"""

import json
import math
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ["plan", "region-scan", "aggregate", "analyze", "alert", "remediate", "store-report"]
TEMPLATE_RESOURCES = {"plan": "PlanFunction", "region-scan": "RegionScanFunction", "aggregate": "AggregateFunction",
                      "analyze": "AnalyzeFunction", "alert": "AlertFunction", "remediate": "RemediateFunction",
                      "store-report": "StoreReportFunction"}
ACCOUNTS, REGIONS, REGIONAL_SERVICES, GLOBAL_SERVICES = 1000, 17, 2, 1
UNITS_PER_ACCOUNT = REGIONS * REGIONAL_SERVICES + GLOBAL_SERVICES
UNITS = ACCOUNTS * UNITS_PER_ACCOUNT

# List prices, us-east-1 (https://aws.amazon.com/step-functions/pricing/,
# https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/s3/pricing/).
PRICE_TRANSITION = 0.025 / 1000
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_S3_PUT = 0.005 / 1000  # PUT, COPY, POST, LIST
PRICE_S3_GET = 0.0004 / 1000  # GET, SELECT and all other requests
PRICE_EXPRESS_REQUEST = 1.00 / 1_000_000
PRICE_EXPRESS_GB_SECOND = 0.00001667  # first 1,000 hours; 64 MB chunks, 100 ms rounding

# Assumed AWS latency of one call from a Lambda function in the home region, in ms. Scan calls
# go to all 17 regions (a round trip from us-east-1 is ~10-250 ms) and to each bucket's region;
# the workflow's own calls stay in the home region.
ASSUMED_LATENCY_MS = {
    "ec2": 200, "rds": 200, "s3 scan": 150, "s3control": 150, "sts": 150, "organizations": 150,
    "s3 object": 40, "ssm": 30, "dynamodb": 15, "monitoring": 30, "sns": 40, "securityhub": 250,
    "states": 30, "other": 100,
}
FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB, a proportional share below
COLD_START_SECONDS = 0.05  # a ~3 MB Rust bootstrap's init on arm64 (measured locally: ~7 ms)
READ_CONCURRENCY = {"aggregate": 8}  # unit documents read at once (crates/aggregate); others sequential
HISTORY_LIMIT, PAYLOAD_LIMIT, MAP_CHILDREN_LIMIT = 25_000, 262_144, 10_000


def latency(label):
    service, _, action = label.partition(" ")
    if service == "s3":
        return ASSUMED_LATENCY_MS["s3 object" if " object" in f" {action}" else "s3 scan"]
    return ASSUMED_LATENCY_MS.get(service, ASSUMED_LATENCY_MS["other"])


def s3_tier(action):
    method = action.split(" ", 1)[0]
    return "put" if method in ("PUT", "POST", "COPY") or "list-type" in action or action.endswith("bucket") else "get"


def function_settings(template=ROOT / "template.yaml"):
    """MemorySize and Timeout of each function: its own, else the template's Globals."""
    text = template.read_text()
    globals_block = text[text.index("\nGlobals:"):text.index("\nResources:")]

    def value(block, key, default=None):
        found = re.search(rf"^\s+{key}:\s*(\d+)\s*$", block, re.M)
        return int(found.group(1)) if found else default

    default_memory, default_timeout = value(globals_block, "MemorySize"), value(globals_block, "Timeout")
    settings = {}
    for kind, resource in TEMPLATE_RESOURCES.items():
        start = text.index(f"\n  {resource}:\n")
        end = re.search(r"\n  [A-Za-z]", text[start + 1:])
        block = text[start: start + 1 + (end.start() if end else len(text))]
        properties = block[block.index("    Properties:"):]
        settings[kind] = {"memory_mb": value(properties, "MemorySize", default_memory),
                          "timeout_s": value(properties, "Timeout", default_timeout)}
    return settings


def happy_path(states, start, alert):
    """The states a run enters, in order, when nothing fails (a Distributed Map counts once:
    its children are executions of their own); `alert` picks the Choice's alert branch."""
    path, name = [], start
    while name:
        state = states[name]
        path.append(name)
        if state["Type"] == "Parallel":
            for branch in state["Branches"]:
                path += happy_path(branch["States"], branch["StartAt"], alert)
        if state["Type"] == "Choice":
            name = state["Choices"][0]["Next"] if alert else state["Default"]
            continue
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            break
        name = state.get("Next")
    return path


def fit(points):
    """Least-squares a + b*x through (x, y) points; one point: through the origin."""
    if len(points) == 1 or len({x for x, _ in points}) == 1:
        x, y = points[-1]
        return 0.0, (y / x if x else 0.0)
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return my - b * mx, b


def at_scale(runs, metric):
    """`metric(run)` fitted against the run's unit count, evaluated at UNITS."""
    a, b = fit([(raw["execution"]["plan"]["unit_count"], metric(raw, an)) for raw, an in runs])
    return max(0.0, a + b * UNITS), a, b


def money(x):
    return f"${x:,.2f}" if x >= 1 else f"${x:.4f}"


def render(runs):
    raw, an = runs[-1]
    settings = function_settings()
    asl = json.loads((ROOT / "statemachine" / "compliance_scan.asl.json").read_text())
    alert_path = happy_path(asl["States"], asl["StartAt"], alert=True)
    clean_path = happy_path(asl["States"], asl["StartAt"], alert=False)
    measured_entered = raw["execution"].get("states_entered") or []
    measured_entered = len(measured_entered) if isinstance(measured_entered, list) else measured_entered
    failed_units = an["units_failed"]

    # --- Step Functions transitions
    parent = len(alert_path)
    children = UNITS  # ScanUnit once per child; UnitFailed adds one per failed unit, retries one each
    transitions = parent + children

    # --- region-scan: one unit's AWS duration by unit type, from the members' measured requests
    scan_mem = settings["region-scan"]["memory_mb"]
    cpu_scale = max(1.0, FULL_VCPU_MB / scan_mem)
    unit_model = {}
    for service, count in (("ec2", ACCOUNTS * REGIONS), ("rds", ACCOUNTS * REGIONS), ("s3", ACCOUNTS)):
        measured = an["unit_requests"].get(f"member {service}")
        if not measured:
            continue
        calls = dict(measured["mean_by_action"])
        calls["sts AssumeRole"] = 1.0  # upper bound in Lambda: a sandbox without the role cached
        api_seconds = sum(n * latency(label) for label, n in calls.items()) / 1000
        cpu_seconds = measured["mean_cpu_seconds"] * cpu_scale
        unit_model[service] = {"units": count, "calls": calls, "api_seconds": api_seconds,
                               "cpu_seconds": cpu_seconds, "seconds": api_seconds + cpu_seconds,
                               "emulator_seconds": measured["mean_seconds"]}
    scan_seconds = sum(m["units"] * m["seconds"] for m in unit_model.values())
    max_concurrency = raw["execution"]["plan"].get("max_concurrency") or 100
    scan_cold = max_concurrency * COLD_START_SECONDS
    scan_gb_s = (scan_seconds + scan_cold) * scan_mem / 1024

    # --- store-report's Security Hub import, per account through its member role (the design; the
    # measured build imports through the scanner account, refused for members and retried)
    findings = [(r["members"], (r["execution"].get("aggregate") or {}).get("findings_total")) for r, _ in runs]
    findings = [(m, f) for m, f in findings if f is not None]
    per_member = fit(findings)[1] if len(findings) > 1 else 0.0
    batches = max(1, math.ceil(per_member / 100))
    projected_hub = {"sts AssumeRole (projected)": float(ACCOUNTS),
                     "securityhub import (projected)": float(ACCOUNTS * batches)}

    # --- the other functions: measured requests and CPU, fitted against units, at UNITS
    others = {}
    for kind in FUNCTIONS:
        if kind == "region-scan":
            continue
        labels = sorted({label for _, a in runs for label in a["functions"].get(kind, {}).get("requests", {})})
        if kind == "store-report":
            labels = [label for label in labels if not label.startswith("securityhub")]
        calls = {label: at_scale(runs, lambda r, a, l=label: a["functions"].get(kind, {}).get("requests", {})
                                 .get(l, 0))[0] for label in labels}
        if kind == "store-report":
            calls.update(projected_hub)
        cpu = at_scale(runs, lambda r, a: a["functions"].get(kind, {}).get("cpu_seconds", 0.0))[0]
        mem = settings[kind]["memory_mb"]
        parallel = READ_CONCURRENCY.get(kind, 1)
        api = sum(n * latency(label) / (parallel if " object" in label and label.startswith("s3 GET") else 1)
                  for label, n in calls.items()) / 1000
        seconds = api + cpu * max(1.0, FULL_VCPU_MB / mem) + COLD_START_SECONDS
        others[kind] = {"calls": calls, "seconds": seconds, "gb_s": seconds * mem / 1024, "memory_mb": mem,
                        "timeout_s": settings[kind]["timeout_s"], "invocations": 1}
    lambda_requests = UNITS + len(others)
    gb_s = scan_gb_s + sum(o["gb_s"] for o in others.values())

    # --- S3 requests in the scanner's reports bucket (the workflow's storage), fitted against units
    def workflow_s3(tier):
        def metric(r, a):
            total = 0
            for kind, f in a["functions"].items():
                for label, v in f["requests"].items():
                    service, _, action = label.partition(" ")
                    if service == "s3" and (kind != "region-scan" or " object" in f" {action}") \
                            and s3_tier(action) == tier:
                        total += v
            for label, v in a["outside_functions"].items():
                service, _, action = label.partition(" ")
                if service == "s3" and s3_tier(action) == tier:
                    total += v
            return total
        return metric
    s3_put, put_a, put_b = at_scale(runs, workflow_s3("put"))
    s3_get, get_a, get_b = at_scale(runs, workflow_s3("get"))
    member_s3_gets = sum(m["units"] * sum(n for label, n in m["calls"].items()
                                          if label.startswith("s3 ") and " object" not in label)
                         for m in unit_model.values())

    # --- cost
    cost_sfn = transitions * PRICE_TRANSITION
    cost_lambda_req = lambda_requests * PRICE_LAMBDA_REQUEST
    cost_lambda_gb = gb_s * PRICE_LAMBDA_GB_SECOND_ARM
    cost_s3 = s3_put * PRICE_S3_PUT + s3_get * PRICE_S3_GET
    total = cost_sfn + cost_lambda_req + cost_lambda_gb + cost_s3
    mean_unit = scan_seconds / UNITS if UNITS else 0
    express_child_seconds = math.ceil((mean_unit + 0.05) * 10) / 10
    express = UNITS * (PRICE_EXPRESS_REQUEST + express_child_seconds * (64 / 1024) * PRICE_EXPRESS_GB_SECOND)
    express_total = total - children * PRICE_TRANSITION + express

    units_per_byte = (raw["execution"]["units_file_bytes"] or 0) / max(1, raw["execution"]["plan"]["unit_count"])
    result_per_unit = raw["execution"]["result_files_bytes"] / max(1, raw["execution"]["plan"]["unit_count"])
    histories = sorted({r["execution"]["history_events"] for r, _ in runs})
    payloads = [r["execution"]["largest_payload_bytes"] for r, _ in runs]
    child_payloads = [a["largest_child_payload_bytes"] for _, a in runs]
    agg = others.get("aggregate", {})
    inline_cap = int(re.search(r"MAX_INLINE_FAILED_UNITS: usize = (\d+)",
                               (ROOT / "crates" / "core" / "src" / "run.rs").read_text()).group(1))
    ex = raw["execution"]
    inline = ex.get("failed_units_inline") or 0
    per_failed = (ex.get("failed_units_inline_bytes") or 0) / inline if inline else 0.0
    payload_bound = max(payloads) - inline * per_failed + inline_cap * per_failed + (REGIONS - 3) * 14

    lines = [
        f"### On paper: {ACCOUNTS:,} accounts x {REGIONS} regions",
        "",
        f"Units: {ACCOUNTS:,} x ({REGIONS} regions x {REGIONAL_SERVICES} regional services (EC2, RDS) + "
        f"{GLOBAL_SERVICES} S3) = **{UNITS:,}** child executions. Measured inputs: the {raw['members']}-member run "
        "above (per-unit requests and CPU of the member accounts' units; the other functions' requests and CPU",
        ("fitted linearly against the unit count over the "
         f"{len(runs)} measured sizes)." if len(runs) > 1 else
         "scaled in proportion to the unit count: one measured size, so fixed costs are overstated).")
        + " An account here is like the",
        "test members (a few resources per region, about ten findings); bigger estates add S3 calls per bucket",
        "(~8 each) and findings, not units.",
        "",
        "**Step Functions state transitions per run**",
        "",
        f"- Parent: the definition's happy path, {len(alert_path)} states when the run alerts "
        f"({' > '.join(alert_path)}), {len(clean_path)} when it does not (no Respond, Alert, Remediate). "
        f"The measured run entered {measured_entered} states ({raw['execution'].get('decision') or 'unknown'}"
        " decision); the Distributed Map is one state of the parent whatever the number of units.",
        f"- Children (STANDARD executions bill their own transitions): ScanUnit once per unit = {children:,}; a",
        f"  failed unit adds UnitFailed (+1) and every Retry attempt one more (an unreachable account: its "
        f"{UNITS_PER_ACCOUNT}",
        f"  units x 2 = {2 * UNITS_PER_ACCOUNT}). The measured run: {failed_units} failed units of "
        f"{sum(an['children_by_status'].values())} children (the unreachable member's, each its child's",
        "  ScanUnit and UnitFailed; the child still SUCCEEDED, as the definition intends).",
        f"- Total: {parent} + {children:,} = **{transitions:,}** transitions = {money(cost_sfn)} "
        "(at $0.025 per 1,000; the monthly free tier of 4,000 ignored).",
        "",
        "**Lambda requests and GB-seconds per run**",
        "",
        f"- Requests: {UNITS:,} region-scan + {len(others)} other functions once each = **{lambda_requests:,}** "
        f"= {money(cost_lambda_req)}.",
        f"- region-scan ({scan_mem} MB): one unit's AWS duration = its calls x the assumed latency (sequential:",
        "  an upper bound) + its measured CPU time x "
        f"{cpu_scale:.1f} ({FULL_VCPU_MB} MB / {scan_mem} MB: Lambda's CPU share at that memory), with one",
        "  sts:AssumeRole per unit (a cold sandbox; warm ones reuse the role):",
        "",
        "| unit | units | calls per unit (measured) | API s | CPU s | AWS s per unit | emulator s per unit |",
        "|---|---|---|---|---|---|---|",
    ]
    for service, m in unit_model.items():
        calls = ", ".join(f"{label} {n:.2f}".replace(".00", "") for label, n in sorted(m["calls"].items()))
        lines.append(f"| {service} | {m['units']:,} | {calls} | {m['api_seconds']:.2f} | {m['cpu_seconds']:.3f} | "
                     f"{m['seconds']:.2f} | {m['emulator_seconds']:.2f} |")
    lines += [
        "",
        f"  = {scan_seconds:,.0f} s of units + {max_concurrency} cold starts x {COLD_START_SECONDS} s, x "
        f"{scan_mem / 1024:g} GB = **{scan_gb_s:,.0f} GB-s**.",
        "- The other functions, once each (requests and CPU fitted at 35,000 units; "
        f"aggregate reads {READ_CONCURRENCY['aggregate']} unit documents at a time):",
        "",
        "| function | memory (MB) | timeout (s) | calls at 35,000 units | AWS s | GB-s |",
        "|---|---|---|---|---|---|",
    ]
    for kind, o in others.items():
        top = sorted(o["calls"].items(), key=lambda kv: -kv[1])[:4]
        calls = ", ".join(f"{label} {n:,.0f}" for label, n in top if n >= 0.5) or "-"
        flag = " **over the timeout**" if o["seconds"] > o["timeout_s"] else ""
        lines.append(f"| {kind} | {o['memory_mb']} | {o['timeout_s']} | {calls} | {o['seconds']:,.1f}{flag} | "
                     f"{o['gb_s']:,.1f} |")
    lines += [
        "",
        f"- Total **{gb_s:,.0f} GB-s** = {money(cost_lambda_gb)} (arm64, $0.0000133334 per GB-s; free tier ignored).",
        "",
        "Assumed latency per call (ms): " + ", ".join(f"{k} {v}" for k, v in ASSUMED_LATENCY_MS.items()) + ".",
        "",
        "**S3 requests per run** (the reports bucket; measured per run and fitted against units: "
        f"PUT-class {put_a:,.0f} + {put_b:.2f} per unit, GET-class {get_a:,.0f} + {get_b:.2f} per unit):",
        "the plan and its units file, one unit document per unit (PUT by region-scan, GET by aggregate),",
        "the ItemReader's read, the ResultWriter's result files and manifest, the run document (multipart",
        "parts above 8 MiB),",
        f"analysis and reports. At {UNITS:,} units: **{s3_put:,.0f} PUT-class** + **{s3_get:,.0f} GET-class** = "
        f"{money(cost_s3)}. The scan's own S3 reads (bucket settings, ~{member_s3_gets:,.0f} at this estate) are",
        "billed to the member accounts that own the buckets (GET-class, "
        f"{money(member_s3_gets * PRICE_S3_GET)} in all). STS is free.",
        "",
        f"**Cost of one run**: Step Functions {money(cost_sfn)} + Lambda {money(cost_lambda_req + cost_lambda_gb)} "
        f"+ S3 {money(cost_s3)} = **{money(total)}** (not counted: DynamoDB writes of the findings table,",
        "CloudWatch metrics, Security Hub finding ingestion, KMS; each scales with findings, not units).",
        f"The map's children are {cost_sfn / total:.0%} of it." if total else "",
        "",
        f"**EXPRESS children instead** (`ExecutionType: EXPRESS`): each child is billed $1.00 per million plus",
        f"its duration in 64 MB chunks at $0.00001667 per GB-s, rounded up to 100 ms: a unit of ~{mean_unit:.2f} s "
        f"in Lambda plus ~0.05 s",
        f"of orchestration bills {express_child_seconds:.1f} s x 0.0625 GB. {UNITS:,} children = {money(express)} "
        f"instead of {money(children * PRICE_TRANSITION)}, a run {money(express_total)} instead of {money(total)}.",
        "The price: Express runs at-least-once (a unit may run twice: harmless, its document key is",
        "deterministic and rewritten), has no execution history in Step Functions (CloudWatch Logs only,",
        "so a failed unit is diagnosed from the ResultWriter's files and logs), and ends at 5 minutes, which",
        "is region-scan's own timeout (300 s): a unit that slow would fail either way.",
        "",
        "**Step Functions limits at this scale**",
        "",
        f"- Execution history, 25,000 events (hard): the parent's history does not grow with units; measured "
        f"{', '.join(map(str, histories))} events",
        f"  at {', '.join(str(r['members']) for r, _ in runs)} members. Each child has its own history: "
        "ScanUnit's ~5 events (+ Retry, Catch).",
        f"- Payload, 256 KiB per state input/output: the parent carries keys and counts, the plan's regions",
        f"  (~14 B each), and aggregate's failed units inline, at most {inline_cap} (crates/core/src/run.rs",
        f"  MAX_INLINE_FAILED_UNITS; the rest are in the run document). Largest measured "
        f"{', '.join(map(str, payloads))} B; with",
        f"  {inline_cap} failed units inline (~{per_failed:.0f} B each) and 17 regions: ~{payload_bound / 1024:.0f} KiB "
        f"at most, whatever the accounts ({payload_bound / PAYLOAD_LIMIT:.0%} of the limit).",
        f"  Children: largest {max(child_payloads)} B (a unit's input, or its summary).",
        f"- Concurrency: the map runs `max_concurrency` children at once ({max_concurrency}, from",
        f"  /compliance/scanner/config/scan-fanout; region-scan reserves as many); Distributed Map allows up to "
        f"{MAP_CHILDREN_LIMIT:,}.",
        f"  At {max_concurrency} at a time the map takes ~{UNITS * mean_unit / max_concurrency / 60:.0f} minutes "
        f"({UNITS:,} x {mean_unit:.2f} s / {max_concurrency}).",
        f"- ItemReader: the units file is {units_per_byte:.0f} B per unit, {UNITS * units_per_byte / 1e6:.1f} MB "
        "and 35,000 items at 1,000 x 17, read",
        "  with one GetObject; ReaderConfig's item cap is 100,000,000. The JSON file's size limit is the one",
        "  in the ItemReader (Map) page of the Step Functions guide (not re-checked for this table); a few MB",
        "  is orders of magnitude below the object sizes the Distributed Map is made for.",
        f"- ResultWriter: {result_per_unit:.0f} B per unit in the emulator's result files, "
        f"{UNITS * result_per_unit / 1e6:.1f} MB at 35,000 units; AWS",
        "  splits result files itself. aggregate reads them whole: that part of its memory grows with units",
        "  (~" f"{UNITS * result_per_unit / 2**20:.0f} MiB at 35,000 of its {settings['aggregate']['memory_mb']} MB).",
    ]
    per_account_import = ACCOUNTS * (latency("sts AssumeRole") + batches * latency("securityhub import")) / 1000
    lines += [
        "- **store-report and Security Hub per account**: the measured store-report imports every finding",
        "  through the scanner account (no sts:AssumeRole; the members' findings are refused and retried), so",
        "  its Security Hub calls above are the design's instead: per account one AssumeRole into the member",
        f"  role and ceil({per_member:.1f} findings / 100) = {batches} BatchImportFindings: {ACCOUNTS:,} x "
        f"({latency('sts AssumeRole')} + {batches} x {latency('securityhub import')} ms) = ~{per_account_import:,.0f} s",
        f"  one account at a time, against store-report's {settings['store-report']['timeout_s']} s timeout: "
        "the imports need to run concurrently.",
    ]
    if agg and agg["seconds"] > agg["timeout_s"]:
        lines += [
            f"- **aggregate's timeout**: ~{agg['seconds']:,.0f} s estimated against its {agg['timeout_s']} s "
            "(template Globals): reading 35,000 unit documents",
            f"  {READ_CONCURRENCY['aggregate']} at a time does not fit. Raising its timeout, or its read "
            "concurrency, is needed before 1,000 x 17.",
        ]
    return lines
