#!/usr/bin/env bash
# Checks the deployment definition. Exits non-zero if any check fails (all of them run):
#   1. cfn-lint on template.yaml (SAM transform included) and member-role.yaml;
#   2. `sam validate --lint` on both (the SAM CLI's own transform and cfn-lint);
#   3. checkov on both: no failed check; skips are justified next to the resource
#      (Metadata: checkov: skip: ... comment);
#   4. the template tests, tests/template/ (unittest): the properties issues 5 and 10 ask for;
#   5. asl-validator on statemachine/compliance_scan.asl.json, whose ${...} placeholders must be
#      exactly the template's DefinitionSubstitutions.
#
#   bash tests/lint_templates.sh        (make lint-template installs the tools, then runs this)
#
# Tools, all project-local and pinned: cfn-lint and the test runner from .venv
# (tests/harness/requirements.txt); the SAM CLI from .tools/venv-sam (requirements/sam.txt);
# checkov from .tools/venv-checkov (requirements/checkov.txt); asl-validator installed on first
# use into .tools/ at the version below (needs node and npm). $CFN_LINT, $SAM, $CHECKOV and
# $PYTHON override the paths.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPLATE=template.yaml
# The scanner's stack, the role every member account gets (service-managed StackSets), and the
# DR replica bucket (replica.yaml, deployed in the DR region).
TEMPLATES=("$TEMPLATE" member-role.yaml replica.yaml)
ASL=statemachine/compliance_scan.asl.json
TOOLS_DIR=.tools
ASL_VALIDATOR_VERSION=4.0.0
SAM=${SAM:-$TOOLS_DIR/venv-sam/bin/sam}
CHECKOV=${CHECKOV:-$TOOLS_DIR/venv-checkov/bin/checkov}
PYTHON=${PYTHON:-.venv/bin/python}

status=0
for tool in "$SAM" "$CHECKOV" "$PYTHON"; do
  if [[ ! -x "$tool" ]]; then
    echo "lint_templates: $tool not found (make lint-template installs it)" >&2
    exit 2
  fi
done

# --- cfn-lint ---------------------------------------------------------------------------------
if [[ -n "${CFN_LINT:-}" ]]; then
  cfn_lint=$CFN_LINT
elif [[ -x .venv/bin/cfn-lint ]]; then
  cfn_lint=.venv/bin/cfn-lint
elif command -v cfn-lint >/dev/null 2>&1; then
  cfn_lint=$(command -v cfn-lint)
else
  echo "lint_templates: cfn-lint not found (set CFN_LINT, or install cfn-lint into .venv)" >&2
  exit 2
fi
for template in "${TEMPLATES[@]}"; do
  echo "cfn-lint ($("$cfn_lint" --version 2>&1)): $template"
  if "$cfn_lint" -- "$template"; then
    echo "  ok"
  else
    status=1
  fi
done

# --- sam validate --lint -------------------------------------------------------------------------
# It needs a region and credentials to exist, not to work: nothing is called.
for template in "${TEMPLATES[@]}"; do
  echo "sam validate --lint ($("$SAM" --version 2>&1)): $template"
  if AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_REGION=${AWS_REGION:-us-east-1} \
     AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-lint} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-lint} \
     SAM_CLI_TELEMETRY=0 "$SAM" validate --lint --template "$template"; then
    echo "  ok"
  else
    status=1
  fi
done

# --- checkov -------------------------------------------------------------------------------------
# --skip-download: checkov otherwise asks its vendor's API for guidelines (no network needed).
for template in "${TEMPLATES[@]}"; do
  echo "checkov $("$CHECKOV" --version 2>&1): $template"
  if "$CHECKOV" --file "$template" --framework cloudformation --skip-download --compact --quiet; then
    echo "  ok"
  else
    status=1
  fi
done

# --- template tests -----------------------------------------------------------------------------
echo "template tests: tests/template"
if "$PYTHON" -m unittest discover -s tests/template -v; then
  :
else
  status=1
fi

# --- asl-validator ----------------------------------------------------------------------------
validator=$TOOLS_DIR/node_modules/.bin/asl-validator
installed=$(node -p "require('./$TOOLS_DIR/node_modules/asl-validator/package.json').version" 2>/dev/null || true)
if [[ "$installed" != "$ASL_VALIDATOR_VERSION" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "lint_templates: npm is required to install asl-validator" >&2
    exit 2
  fi
  echo "installing asl-validator@$ASL_VALIDATOR_VERSION into $TOOLS_DIR/"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error \
    "asl-validator@$ASL_VALIDATOR_VERSION" >&2
fi

# The definition's ${...} placeholders must be exactly the template's DefinitionSubstitutions.
placeholders=$(grep -o '\${[A-Za-z0-9_]*}' "$ASL" | tr -d '${}' | sort -u)
substitutions=$(awk '
  /^ *DefinitionSubstitutions:/ { inside = 1; indent = match($0, /[^ ]/); next }
  inside {
    if ($0 ~ /^ *$/) next
    if (match($0, /[^ ]/) <= indent) { inside = 0; next }
    sub(/^ */, ""); sub(/:.*/, ""); print
  }' "$TEMPLATE" | sort -u)
if [[ "$placeholders" != "$substitutions" ]]; then
  echo "lint_templates: placeholders in $ASL and DefinitionSubstitutions in $TEMPLATE differ:" >&2
  diff <(echo "$placeholders") <(echo "$substitutions") >&2 || true
  status=1
fi

# Validate the definition as Step Functions receives it: every placeholder is a function ARN.
substituted=$(mktemp "${TMPDIR:-/tmp}/compliance_scan.XXXXXX.asl.json")
trap 'rm -f "$substituted"' EXIT
sed -E 's/\$\{([A-Za-z0-9_]+)\}/arn:aws:lambda:us-east-1:123456789012:function:placeholder-\1/g' \
  "$ASL" >"$substituted"
echo "asl-validator $ASL_VALIDATOR_VERSION: $ASL (placeholders substituted)"
if "$validator" --json-path "$substituted"; then
  :
else
  status=1
fi

if [[ $status -ne 0 ]]; then
  echo "lint_templates: FAILED" >&2
fi
exit $status
