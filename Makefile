# Every target installs what it needs; see README.md.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
CARGO ?= cargo
export COMPLIANCE_PYTHON := $(abspath $(PYTHON))
# Where the workflow tests log their AWS requests for tests/template/least_privilege.py.
REQUEST_LOG_DIR := $(abspath target/request-log)

# Template tools, each in its own venv (their dependency pins differ from the emulator's).
SAM_VENV := .tools/venv-sam
CHECKOV_VENV := .tools/venv-checkov
SAM := $(SAM_VENV)/bin/sam
STACK_NAME ?= compliance-scanner
SECRET_NAME ?= /compliance/scanner/secrets/security-hub-api-key

.PHONY: all venv build test lint lint-template template-tools fmt demo demo-scan bench bench-functions bench-org bench-faults deploy secret clean

all: build

$(VENV)/.installed: tests/harness/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/harness/requirements.txt
	touch $@

## venv: the project-local Python environment with the AWS API emulator (moto) and boto3.
venv: $(VENV)/.installed

$(SAM_VENV)/.installed: requirements/sam.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	touch $@

$(SAM_VENV)/.cargo-lambda: requirements/cargo-lambda.txt $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/cargo-lambda.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	touch $@

## template-tools: the SAM CLI and checkov, pinned, in .tools/.
template-tools: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

## build: release binaries of the CLI and the Lambda functions.
build:
	$(CARGO) build --release --workspace

## test: every test: the pure and in-memory ones (all a plain `cargo test` runs) and the
## emulator and Chromium ones, which `cargo test` lists as ignored and this runs.
test: venv
	bash tests/ensure_chromium.sh
	# The workflow tests serve every function's binary, so all of them are built first.
	$(CARGO) build --workspace
	# They also log every AWS request (fresh each run) for the least-privilege check below.
	rm -rf $(REQUEST_LOG_DIR)
	COMPLIANCE_REQUEST_LOG_DIR=$(REQUEST_LOG_DIR) $(CARGO) test --workspace --no-fail-fast -- --include-ignored
	# Every function's calls against its role's grants, and the member role's (tests/template).
	$(PYTHON) tests/template/least_privilege.py --requests $(REQUEST_LOG_DIR)
	# The ASFF and OCSF schemas and validators (py-ocsf-models included) against their samples.
	$(PYTHON) -m unittest discover -s tests/schemas
	# The fault proxy (seeded draws, token bucket, each service's error shapes through botocore).
	$(PYTHON) -m unittest discover -s tests/harness -p 'test_*.py'

## lint: formatting, clippy (warnings denied), then everything lint-template checks.
lint: venv template-tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	bash tests/lint_templates.sh

## lint-template: the deployment alone, no cargo (CI runs it): cfn-lint, sam validate --lint and
## checkov on template.yaml and member-role.yaml, the template tests (tests/template),
## asl-validator on the state machine.
lint-template: venv template-tools
	bash tests/lint_templates.sh

fmt:
	$(CARGO) fmt --all

## demo: the full local replay: deploy template.yaml into the emulator, run the workflow three times.
demo: venv
	$(CARGO) build --workspace
	$(PYTHON) tests/harness/replay.py --binaries target/debug

## demo-scan: the CLI alone: seed the emulator, `compliance scan` it.
demo-scan: venv
	$(CARGO) build -p compliance-cli
	PYTHON=$(PYTHON) COMPLIANCE_BIN=target/debug/compliance bash tests/harness/demo.sh

## bench: the CLI on seeded estates of growing size, then every function's package and cold
## start (bench-functions), then the organization run (bench-org); writes bench/RESULTS.md.
bench: venv
	$(CARGO) build --release -p compliance-cli
	$(PYTHON) bench/run.py --binary target/release/compliance --scales 1,5,20 --output bench/RESULTS.md
	$(MAKE) bench-functions
	$(MAKE) bench-org

FUNCTIONS := plan region-scan aggregate analyze alert remediate store-report

## bench-functions: each function's arm64 zip (cargo lambda, as sam build makes it) and its cold
## start (time to the first Runtime API call, RSS then); writes its section of bench/RESULTS.md.
## Each function is built on its own, so it links only the SDK clients its features name.
bench-functions: venv $(SAM_VENV)/.cargo-lambda
	@command -v rustup >/dev/null 2>&1 && rustup target add aarch64-unknown-linux-gnu || true
	for f in $(FUNCTIONS); do \
		PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(CARGO) lambda build --release --arm64 \
			--output-format zip -p $$f || exit 1; \
		$(CARGO) build --release -p $$f || exit 1; \
	done
	$(PYTHON) bench/functions.py --lambda-dir target/lambda --binaries target/release

BENCH_ORG_MEMBERS ?= 1,10,50

## bench-org: the organization scan through the real workflow on the emulator (Distributed Map
## included), with 1, 10 and 50 member accounts x 3 regions (BENCH_ORG_MEMBERS=...): wall time,
## API requests per account, each function's peak RSS, the largest state payload; then the paper
## estimate for 1,000 accounts x 17 regions; writes its section of bench/RESULTS.md.
bench-org: venv
	$(CARGO) build --release --workspace
	$(PYTHON) bench/org.py --binaries target/release --members $(BENCH_ORG_MEMBERS) --output bench/RESULTS.md

## bench-faults: the CLI through the fault proxy (tests/harness/fault_proxy.py) under issue 12's
## scenarios: no faults (the floor), 20% throttling, 20% throttling + 10% dropped connections, a
## token bucket of 20 req/s burst 20 per (service, region), one unit (RDS in ap-southeast-1) throttled
## forever; seeds fixed; writes its section of bench/RESULTS.md. BENCH_FAULTS_BINARY=... to time
## another build (e.g. the one before a change).
BENCH_FAULTS_BINARY ?= target/release/compliance
BENCH_FAULTS_REPEAT ?= floor=3,throttle=1,transient=2,bucket=3,stuck=1

bench-faults: venv
	@if [ "$(BENCH_FAULTS_BINARY)" = target/release/compliance ]; then $(CARGO) build --release -p compliance-cli; fi
	$(PYTHON) bench/faults.py --binary $(BENCH_FAULTS_BINARY) --repeat $(BENCH_FAULTS_REPEAT) --output bench/RESULTS.md

## deploy: build the seven functions for arm64 (cargo-lambda, zig) and deploy with `sam deploy --guided`
## (answers saved in samconfig.toml; later runs: `make deploy` again). See README.md, Deploying.
deploy: $(SAM_VENV)/.cargo-lambda
	@command -v rustup >/dev/null 2>&1 && rustup target add aarch64-unknown-linux-gnu || true
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build --beta-features
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided \
		--stack-name $(STACK_NAME) --capabilities CAPABILITY_IAM

## secret: create or replace the webhook's API key (SecureString) without echoing it or putting it
## on a command line: `make secret` (SECRET_NAME=..., KMS_KEY_ID=... to change the defaults).
secret:
	@bash scripts/put_secret.sh "$(SECRET_NAME)" "$(KMS_KEY_ID)"

clean:
	$(CARGO) clean
	rm -rf $(VENV)
