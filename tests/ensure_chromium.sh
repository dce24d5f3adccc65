#!/usr/bin/env bash
# The HTML report's test (crates/core/tests/html_chromium.rs) renders it in headless Chromium.
# Installs Debian's chromium with apt-get when no browser is found ($CHROMIUM, chromium,
# chromium-browser); COMPLIANCE_SKIP_BROWSER_TESTS=1 skips both the install and the test.
set -euo pipefail

if [[ "${COMPLIANCE_SKIP_BROWSER_TESTS:-}" == 1 || -n "${CHROMIUM:-}" ]] \
  || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: no Chromium found and no apt-get to install it; install Chromium and set" \
    "CHROMIUM=/path/to/it, or COMPLIANCE_SKIP_BROWSER_TESTS=1 to skip the HTML report's browser test" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "ensure_chromium: installing chromium (headless HTML report test)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
