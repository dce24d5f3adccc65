#!/usr/bin/env python3
"""`make bench-functions`: each state function's deployment package and cold start.

- Package: the zip `cargo lambda build --release --arm64 --output-format zip` makes (what
  `sam build` deploys on provided.al2023 arm64), and the binary inside it.
- Init: the time from process start to the function's first `GET .../invocation/next` on the
  Lambda Runtime API, and its resident memory (VmRSS) at that moment. A loopback server plays
  the Runtime API; the native release binary of this machine is measured (an arm64 binary
  cannot run here), with the environment the template gives each function. Median of N starts.

Writes a section of bench/RESULTS.md between markers, so the scan benchmark's section stays.
"""

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FUNCTIONS = ["region-scan", "aggregate", "analyze", "alert", "remediate", "store-report"]
BEGIN = "<!-- functions:begin (bench/functions.py) -->"
END = "<!-- functions:end -->"

# Targets of issue 9: every zip at most 4 MB, init at most 10 ms and 16 MB RSS.
MAX_ZIP_MB = 4.0
MAX_INIT_MS = 10.0
MAX_INIT_RSS_MB = 16.0

# Names only, as the template sets them; the values are never used before an invocation.
FUNCTION_ENV = {
    "REPORTS_BUCKET": "compliance-reports",
    "HISTORY_TABLE": "compliance-history",
    "FINDINGS_TABLE": "compliance-findings",
    "REMEDIATION_TABLE": "compliance-remediation",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "FAILURE_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:failures",
    "AUTOMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/automation",
    "METRICS_NAMESPACE": "ComplianceScanner",
}


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """Records the first `next` call: its time and the caller's RSS, then holds the call."""

    measured = None  # set per start: a dict filled on the first call
    pid = None

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.endswith("/runtime/invocation/next") and RuntimeApi.measured is not None:
            if "at" not in RuntimeApi.measured:
                RuntimeApi.measured["at"] = time.perf_counter()
                RuntimeApi.measured["rss_kib"] = vm_rss_kib(RuntimeApi.pid)
                RuntimeApi.measured["event"].set()
        # No event is ever handed out: the process is stopped once measured.
        time.sleep(5)
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_once(binary, port):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": binary.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{binary.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        **FUNCTION_ENV,
    }
    measured = {"event": threading.Event()}
    RuntimeApi.measured = measured
    started = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    RuntimeApi.pid = proc.pid
    try:
        if not measured["event"].wait(10):
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
            sys.exit(f"bench: {binary.name} never asked for an event: {err}")
    finally:
        proc.kill()
        proc.wait()
        RuntimeApi.measured = None
    return (measured["at"] - started) * 1000, measured["rss_kib"] / 1024


def measure_init(binaries_dir, starts):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    results = {}
    for name in FUNCTIONS:
        binary = binaries_dir / name
        # One start first, not counted: it reads the binary from disk into the page cache, as
        # Lambda's own image cache has it before a cold start.
        start_once(binary, port)
        runs = [start_once(binary, port) for _ in range(starts)]
        times = sorted(ms for ms, _ in runs)
        results[name] = (
            statistics.median(times),
            statistics.median(mb for _, mb in runs),
            times[int(len(times) * 0.9)],
        )
    server.shutdown()
    return results


def package_sizes(lambda_dir):
    sizes = {}
    for name in FUNCTIONS:
        zip_path = lambda_dir / name / "bootstrap.zip"
        if not zip_path.exists():
            sys.exit(f"bench: {zip_path} is missing (cargo lambda build --arm64 --output-format zip)")
        with zipfile.ZipFile(zip_path) as z:
            binary = sum(i.file_size for i in z.infolist())
        sizes[name] = (zip_path.stat().st_size / 1e6, binary / 1e6)
    return sizes


def render(sizes, init, starts):
    lines = [
        BEGIN,
        "## State functions: package size and cold start",
        "",
        f"- Date: {time.strftime('%Y-%m-%d')}; command: `make bench-functions`.",
        "- Package: `cargo lambda build --release --arm64 --output-format zip` (provided.al2023, arm64),",
        "  the zip Lambda receives and the `bootstrap` binary in it.",
        "- Init: process start to the first Runtime API `next` call, and VmRSS then, for the native",
        f"  x86_64 release binary with the template's environment; median (and 90th percentile) of",
        f"  {starts} starts after one uncounted start that loads the binary into the page cache.",
        "  The time includes starting the process from Python, and loading this machine's TLS roots",
        "  (Debian keeps ~150 files in /etc/ssl/certs; provided.al2023 keeps one bundle).",
        f"- Targets: zip at most {MAX_ZIP_MB:g} MB, init at most {MAX_INIT_MS:g} ms and {MAX_INIT_RSS_MB:g} MB RSS.",
        "",
        "| function | zip (MB) | binary (MB) | init median (ms) | init p90 (ms) | init RSS (MB) | within targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in FUNCTIONS:
        zip_mb, bin_mb = sizes[name]
        ms, rss, p90 = init[name]
        ok = zip_mb <= MAX_ZIP_MB and ms <= MAX_INIT_MS and rss <= MAX_INIT_RSS_MB
        lines.append(
            f"| {name} | {zip_mb:.2f} | {bin_mb:.2f} | {ms:.1f} | {p90:.1f} | {rss:.1f} | {'yes' if ok else 'NO'} |"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(path, section):
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lambda-dir", default=str(ROOT / "target" / "lambda"))
    parser.add_argument("--binaries", default=str(ROOT / "target" / "release"))
    parser.add_argument("--starts", type=int, default=31)
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    sizes = package_sizes(Path(args.lambda_dir))
    init = measure_init(Path(args.binaries), args.starts)
    section = render(sizes, init, args.starts)
    print(section)
    write_section(Path(args.output), section)
    within = all(
        sizes[n][0] <= MAX_ZIP_MB and init[n][0] <= MAX_INIT_MS and init[n][1] <= MAX_INIT_RSS_MB
        for n in FUNCTIONS
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
