#!/usr/bin/env bash
# `make demo`: start the emulator, seed a misconfigured estate in three regions, scan it with
# the real CLI, print the report, and stop everything it started.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
BIN=${COMPLIANCE_BIN:-target/debug/compliance}
work=$(mktemp -d)

# The emulator exits when this pipe closes, whatever happens to this script.
exec 3> >("$PYTHON" tests/harness/emulator.py > "$work/endpoint.json")
emulator_pid=$!
cleanup() { exec 3>&-; kill "$emulator_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do [[ -s "$work/endpoint.json" ]] && break; sleep 0.1; done
[[ -s "$work/endpoint.json" ]] || { echo "the emulator did not start" >&2; exit 1; }

# The endpoint and proxy variables the emulator names (see product_environment in emulator.py).
while IFS= read -r assignment; do export "$assignment"; done < <(
  "$PYTHON" -c 'import json,sys; [print(f"{k}={v}") for k, v in json.load(open(sys.argv[1]))["env"].items()]' "$work/endpoint.json")
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

echo "== emulator at $AWS_ENDPOINT_URL; seeding a misconfigured estate in us-east-1, eu-west-1, ap-southeast-1"
"$PYTHON" tests/harness/seed_estate.py --endpoint "$AWS_ENDPOINT_URL" --scale 1 --manifest "$work/manifest.json" --config-params

echo "== compliance scan (regions and required tags from Parameter Store)"
set +e
"$BIN" scan --format table
code=$?
"$BIN" scan --format json --output "$work/report.json" --fail-on critical 2>/dev/null
gate=$?
set -e
echo
echo "== exit code $code without --fail-on, $gate with --fail-on critical (3 = findings at or above it)"
echo "== JSON report: $("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["findings"]), "findings,", d["summary"]["checks_evaluated"], "checks, score", d["summary"]["compliance_score"])' "$work/report.json")"
