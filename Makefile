# hipaa-gate — every set-up step lives here; `make run` and `make test` need nothing else.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

##@ Pinned tools (the only place their versions are written)
OPA_VERSION   := v1.22.3
REGAL_VERSION := v0.42.0
OPA_MODULE    := github.com/open-policy-agent/opa
REGAL_MODULE  := github.com/open-policy-agent/regal

GOBIN  ?= $(shell go env GOPATH)/bin
OPA    := $(GOBIN)/opa
REGAL  := $(GOBIN)/regal
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=
COVERAGE_THRESHOLD := 95
REGO_DIRS := policies policy_tests
PY_DIRS   := service tests bench

export PATH := $(GOBIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export HIPAA_GATE_OPA_BIN := $(OPA)
# Regal and OPA must not call out to GitHub from CI.
export REGAL_DISABLE_VERSION_CHECK := 1

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Set-up
# Regal is installed through a throw-away module: `go install regal@version` asks the module proxy
# for Regal's version list (deprecation check), which the proxy refuses here; `go get` of the pinned
# version in a temporary module does not need that list. Go's build cache is reused either way.

.PHONY: install
install: tools venv ## Install OPA, Regal (go install, pinned) and the Python venv (idempotent); `make test` adds Chromium

# Debian's chromium for the page tests (the audit report, the decision explorer) and its
# chromedriver (the explorer's selenium tests): installed with apt-get where we are root (CI),
# otherwise the one command that installs them is printed and make stops.
.PHONY: chromium
chromium: ## Debian's chromium + chromium-driver for the page tests (apt-get as root; else prints the command)
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; \
	  else \
	    echo "The page tests need Chromium and its driver. Install them with:"; \
	    echo "  sudo apt-get install -y chromium chromium-driver"; \
	    exit 1; \
	  fi; \
	fi

.PHONY: browser
browser: chromium ## Same as chromium

.PHONY: tools
tools: ## go install the pinned OPA and Regal unless a matching binary is already there
	@if [ "$$(go version -m $(OPA) 2>/dev/null | awk '$$1=="mod" {print $$3}')" != "$(OPA_VERSION)" ]; then \
	  echo "installing opa $(OPA_VERSION) (first build takes minutes)"; \
	  GOBIN=$(GOBIN) go install $(OPA_MODULE)@$(OPA_VERSION); \
	fi
	@$(OPA) version | sed -n 1p
	@if [ "$$(go version -m $(REGAL) 2>/dev/null | awk '$$1=="mod" {print $$3}')" != "$(REGAL_VERSION)" ]; then \
	  echo "installing regal $(REGAL_VERSION) (first build takes minutes)"; \
	  tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  ( cd "$$tmp" && go mod init hipaa-gate-tools >/dev/null 2>&1 \
	    && go get $(REGAL_MODULE)@$(REGAL_VERSION) >/dev/null 2>&1 \
	    && GOBIN=$(GOBIN) go install $(REGAL_MODULE) ); \
	fi
	@echo "regal $$(go version -m $(REGAL) | awk '$$1=="mod" {print $$3}')"

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the project installed editable (dev extras)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

##@ Running

.PHONY: run
run: install ## Start OPA (127.0.0.1:8181) and the shim (127.0.0.1:8000) in the foreground; Ctrl-C stops both
	HIPAA_GATE_DEV_MODE=$${HIPAA_GATE_DEV_MODE:-1} exec $(VENV)/bin/hipaa-gate serve

.PHONY: decide
decide: install ## One decision without a server: make decide FILE=examples/requests/mfa-missing.json (a dry run)
	@rc=0; $(VENV)/bin/hipaa-gate decide $(or $(FILE),-) || rc=$$?; [ $$rc -le 1 ]  # 1 is a deny, not a failure

.PHONY: bundle
bundle: tools venv ## Build .build/bundle.tar.gz as `hipaa-gate serve` does (revision in .build/bundle.revision), for docker compose
	@$(PY) -c 'from service.opa.sidecar import build_bundle; b, r = build_bundle("policies", ".build"); open(".build/bundle.revision", "w").write(r + "\n"); print(b, r)'

##@ Checks

.PHONY: test
test: install browser fmt-check rego-check lint check-data test-rego test-py test-clock ## Every check: fmt, strict check, Regal, data, opa test + coverage, ruff, pytest, moved clock

.PHONY: check-policy
check-policy: tools venv fmt-check rego-check lint check-data test-rego ## The policy author's fast loop: everything but pytest

.PHONY: check-data
check-data: venv ## Policy data: schemas and cross-references (roles' purposes and views, registry purposes)
	$(PY) -m tests.vocabulary_copies
	$(VENV)/bin/hipaa-gate check-data

.PHONY: fmt-check
fmt-check: ## opa fmt --list --fail and ruff format --check
	$(OPA) fmt --list --fail $(REGO_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)

.PHONY: rego-check
rego-check: ## opa check --strict
	$(OPA) check --strict $(REGO_DIRS)

.PHONY: lint
lint: ## regal lint and ruff check
	$(REGAL) lint --fail-level warning $(REGO_DIRS)
	$(VENV)/bin/ruff check $(PY_DIRS)

.PHONY: test-rego
test-rego: ## opa test with the coverage threshold
	$(OPA) test $(REGO_DIRS) --ignore scenarios -v > .opa-test.log 2>&1 || { cat .opa-test.log; exit 1; }
	@tail -n 3 .opa-test.log
	@$(OPA) test $(REGO_DIRS) --ignore scenarios --coverage --threshold $(COVERAGE_THRESHOLD) > .opa-coverage.json \
	  || { echo "opa test coverage below $(COVERAGE_THRESHOLD)% (report: .opa-coverage.json)"; tail -c 400 .opa-coverage.json; exit 1; }
	@$(PY) -c 'import json; print("opa test coverage %.2f%% (threshold $(COVERAGE_THRESHOLD)%%)" % json.load(open(".opa-coverage.json"))["coverage"])'

.PHONY: test-py
test-py: ## pytest (unit + integration against a real OPA)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The suites that decide anything, run again with the process clock moved (libfaketime's offset
# mode; OPA is given the decision time in its input): no test may depend on today's date.
# tests/test_shipped_dates.py stays out: it reads today's date on purpose (expiry reminder).
CLOCK_SUITES  := tests/test_scenarios.py tests/test_state_laws.py tests/test_vendors.py \
                 tests/test_accounting.py tests/test_breach_plan.py tests/test_decide.py tests/test_replay.py
CLOCK_OFFSETS := +1650d -550d
# `apt-get install` of a missing Debian package (root, or sudo), refreshing the lists if needed.
APT_INSTALL = $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get install -y -q "$$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$$@" >/dev/null; }' apt-install

.PHONY: test-clock
test-clock: venv ## The deciding pytest suites with the clock ~4.5 years ahead and ~1.5 years back (faketime)
	@command -v faketime >/dev/null || { echo "installing faketime (apt)"; $(APT_INSTALL) faketime; }
	@for offset in $(CLOCK_OFFSETS); do \
	  faketime -f "$$offset" $(PY) -c 'import sys, time; d = int(sys.argv[1].rstrip("d")); \
	    sys.exit(abs(time.time() - float(sys.argv[2]) - d * 86400) > 600 and "faketime did not move the clock")' \
	    "$$offset" "$$(date +%s)"; \
	  echo "pytest with the clock moved $$offset: $$(faketime -f "$$offset" date -u +%F)"; \
	  faketime -f "$$offset" $(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS) $(CLOCK_SUITES); \
	done

# The image, built and run here without a Docker engine (tests/image/): a local Debian base made
# with debootstrap (cached under ~/.cache/hipaa-gate-image and in buildah's storage), buildah
# --isolation chroot, the image's own gunicorn against a real OPA serving `make bundle`'s bundle.
IMAGE_TEST_IMAGE := localhost/hipaa-gate:image-test
IMAGE_TEST_BASE  := localhost/hipaa-gate-base:bookworm

.PHONY: image-test
image-test: bundle ## Build the Dockerfile with buildah on a local Debian base and test the running image
	@for pkg in buildah debootstrap; do \
	  command -v $$pkg >/dev/null || PATH=$$PATH:/usr/sbin command -v $$pkg >/dev/null \
	    || { echo "installing $$pkg (apt)"; $(APT_INSTALL) $$pkg; }; \
	done
	@PATH=$$PATH:/usr/sbin tests/image/base.sh $(IMAGE_TEST_BASE)
	$(PY) tests/image/check_image.py --image $(IMAGE_TEST_IMAGE) --base $(IMAGE_TEST_BASE) \
	  --bundle .build/bundle.tar.gz --revision "$$(cat .build/bundle.revision)"

.PHONY: fmt
fmt: ## Format Rego and Python in place
	$(OPA) fmt --write $(REGO_DIRS)
	$(VENV)/bin/ruff format $(PY_DIRS)

##@ Measuring and auditing

.PHONY: bench
bench: install ## Benchmarks (opa bench + load test OPA vs shim, then bench-audit); writes docs/benchmarks.md
	@mkdir -p .build
	$(PY) bench/run.py | tee .build/bench-run.out
	$(MAKE) bench-audit AUDIT_BENCH_ARGS="--merge .build/bench-run.out"

.PHONY: bench-audit
bench-audit: install ## The audit desk (DuckDB) on a generated 5-million-record log; its section of docs/benchmarks.md
	$(PY) bench/audit_bench.py $(AUDIT_BENCH_ARGS)

.PHONY: soak
soak: install ## Minutes-long mixed load against real processes; prints the figures
	$(PY) tests/reliability/soak.py

.PHONY: audit
audit: venv ## pip-audit the dependencies (needs the package index; not part of make test)
	$(PY) -m pip install --quiet --disable-pip-version-check pip-audit
	$(VENV)/bin/pip-audit --skip-editable

.PHONY: clean
clean: ## Remove build outputs (keeps .venv and Go's caches)
	rm -rf .build .opa-test.log .opa-coverage.json .pytest_cache
