#!/usr/bin/env bash
# Lints the deployment definition: template.yaml with cfn-lint (SAM transform included) and
# statemachine/compliance_scan.asl.json with asl-validator. Exits non-zero if either fails.
#
#   bash tests/lint_templates.sh
#
# cfn-lint: $CFN_LINT if set, else the project venv's .venv/bin/cfn-lint, else cfn-lint on PATH.
# asl-validator: installed on first use into .tools/ (project-local, git-ignored) at the pinned
# version below; needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPLATE=template.yaml
ASL=statemachine/compliance_scan.asl.json
TOOLS_DIR=.tools
ASL_VALIDATOR_VERSION=4.0.0

status=0

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
echo "cfn-lint ($("$cfn_lint" --version 2>&1)): $TEMPLATE"
if "$cfn_lint" -- "$TEMPLATE"; then
  echo "  ok"
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
