#!/usr/bin/env bash
# Creates or replaces a SecureString in Parameter Store without the value ever reaching the
# command line (ps, shell history) or the terminal: it is read with echo off, written to a
# private temporary file, and handed to the AWS CLI as file://.
#
#   scripts/put_secret.sh [NAME] [KMS_KEY_ID]
#
# NAME defaults to /compliance/scanner/secrets/security-hub-api-key; KMS_KEY_ID defaults to the
# account's alias/aws/ssm. Credentials and region come from the usual AWS CLI settings.
set -euo pipefail

name=${1:-/compliance/scanner/secrets/security-hub-api-key}
key_id=${2:-}
case "$name" in
  /compliance/scanner/secrets/*) ;;
  *) echo "put_secret: $name is not under /compliance/scanner/secrets/" >&2; exit 2 ;;
esac
if ! command -v aws >/dev/null 2>&1; then
  echo "put_secret: the AWS CLI (aws) is required" >&2
  exit 2
fi
if [[ ! -t 0 ]]; then
  echo "put_secret: run it from a terminal: the value is read with echo off" >&2
  exit 2
fi

read -r -s -p "Value of $name (not echoed): " value
echo
read -r -s -p "Again: " again
echo
if [[ -z "$value" || "$value" != "$again" ]]; then
  echo "put_secret: empty, or the two entries differ; nothing written" >&2
  exit 1
fi
unset again

umask 077
file=$(mktemp "${TMPDIR:-/tmp}/put_secret.XXXXXX")
trap 'rm -f "$file"' EXIT
# printf is a shell builtin: the value is in no process's arguments.
printf '%s' "$value" >"$file"
unset value

args=(ssm put-parameter --name "$name" --type SecureString --overwrite --value "file://$file")
if [[ -n "$key_id" ]]; then
  args+=(--key-id "$key_id")
fi
aws "${args[@]}" --query Version --output text | sed 's/^/put_secret: stored, version /'
