# hashpivot — every command sets up what it needs on a fresh machine (Python, pip, cargo).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.deps-stamp
SHARED ?= ../shared
export HASHPIVOT_SHARED := $(abspath $(SHARED))

.PHONY: help run test lint bench bench-deps dev venv build-dev build-release rust-test py-test clean

help:
	@echo "make run    — install the release build and run the main job on the bundled defaults"
	@echo "make test   — set up, build, and run cargo test, pytest and lint"
	@echo "make lint   — ruff, mypy, stubtest, cargo fmt --check, cargo clippy -D warnings"
	@echo "make bench  — benchmarks against references; writes benches/results.md"
	@echo "make dev    — editable debug build for development"

$(STAMP): pyproject.toml requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Debug-profile extension (deps at opt-level 2): fast to build, fine for tests.
build-dev: $(STAMP)
	rm -f python/hashpivot/_core*.so
	$(VENV)/bin/maturin develop --quiet --manifest-path rust/Cargo.toml

# Release extension (thin LTO) for run and bench.
build-release: $(STAMP)
	rm -f python/hashpivot/_core*.so
	$(VENV)/bin/maturin develop --quiet --release --manifest-path rust/Cargo.toml

dev: build-dev

rust-test:
	cargo test --workspace
	# The bit-identity tests of the CPU-dispatched builds, again in the optimised profile that ships.
	cargo test --release -p hashpivot-core --lib -- fast_and_portable_builds_agree_bit_for_bit avx_pass_equals_the_plain_pass four_lane_fill_equals_the_scalar_fill lockstep_groups_equal_one_path_runs a_lockstep_error_is_the_one_path_error

py-test: build-dev test-deps
	HASHPIVOT_REQUIRE_BROWSER=$${HASHPIVOT_REQUIRE_BROWSER:-1} $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest hashpivot._core --allowlist .mypy-stubtest-allowlist
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

test: rust-test py-test lint

run: build-release
	$(VENV)/bin/hashpivot compare

bench: build-release bench-deps
	$(PY) benches/run.py

# Peers the benchmarks compare against, from Debian (skipped quietly where apt-get is absent).
bench-deps:
	@if command -v apt-get >/dev/null 2>&1 && ! /usr/bin/python3 -c "import electrum" 2>/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq python3-electrum >/dev/null) \
		|| echo "python3-electrum could not be installed; bench_chain reports it as not installed"; \
	fi

# Headless Chromium for the report test (tests/browser.py), from Debian where apt-get exists.
.PHONY: test-deps
test-deps:
	@if command -v apt-get >/dev/null 2>&1 && ! $(PYTHON) tests/browser.py >/dev/null 2>&1; then \
		apt-get update -qq && (apt-get install -y -qq chromium-headless-shell >/dev/null \
			|| apt-get install -y -qq chromium >/dev/null) \
		|| echo "headless Chromium could not be installed; the browser tests will fail (HASHPIVOT_REQUIRE_BROWSER=1)"; \
	fi

clean:
	rm -rf $(VENV) target python/hashpivot/_core*.so
