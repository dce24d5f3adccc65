# Every target installs what it needs; see README.md.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
CARGO ?= cargo
export COMPLIANCE_PYTHON := $(abspath $(PYTHON))

.PHONY: all venv build test lint fmt demo demo-scan bench clean

all: build

$(VENV)/.installed: tests/harness/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/harness/requirements.txt
	touch $@

## venv: the project-local Python environment with the AWS API emulator (moto) and boto3.
venv: $(VENV)/.installed

## build: release binaries of the CLI and the Lambda functions.
build:
	$(CARGO) build --release --workspace

## test: unit tests, then the emulator-backed integration tests.
test: venv
	# The workflow tests serve every function's binary, so all of them are built first.
	$(CARGO) build --workspace
	$(CARGO) test --workspace --no-fail-fast

## lint: formatting, clippy (warnings denied), cfn-lint on the template, asl-validator on the state machine.
lint: venv
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
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

## bench: the CLI on seeded estates of growing size; writes bench/RESULTS.md.
bench: venv
	$(CARGO) build --release -p compliance-cli
	$(PYTHON) bench/run.py --binary target/release/compliance --scales 1,5,20 --output bench/RESULTS.md

clean:
	$(CARGO) clean
	rm -rf $(VENV)
