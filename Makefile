# Every target bootstraps what it needs, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CHAIN_ID ?= 31337
RPC_PORT ?= 0

.PHONY: help install test test-repeat check fmt proto run bench devnet clean

help:
	@echo "make run    - local chain + aggregator + one operator, prints how to connect"
	@echo "make test   - lint, type-check and run every test"
	@echo "make test-repeat N=5 [TESTS=...] - run the tests N times, list every test that failed once"
	@echo "make check  - ruff format --check, ruff check, mypy --strict, import rules"
	@echo "make proto  - regenerate src/ap_avs/_proto from proto/*.proto"
	@echo "make bench  - run the benchmarks, write benchmarks/results.md"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

check: $(VENV)/.installed
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(PY) scripts/check_layers.py

fmt: $(VENV)/.installed
	$(BIN)/ruff format src tests scripts benchmarks
	$(BIN)/ruff check --fix src tests scripts benchmarks

test: install
	$(MAKE) check
	node scripts/compile_contracts.mjs --check
	bash scripts/install_chromium.sh
	$(PY) -m pytest

N ?= 5
TESTS ?=
test-repeat: install
	node scripts/compile_contracts.mjs --check
	bash scripts/install_chromium.sh
	$(PY) scripts/test_repeat.py --runs $(N) $(TESTS)

proto: $(VENV)/.installed
	$(PY) scripts/gen_proto.py

run: install
	$(BIN)/ap-avs dev --chain-id $(CHAIN_ID) --rpc-port $(RPC_PORT)

devnet: install
	$(BIN)/ap-avs devnet --chain-id $(CHAIN_ID) --port $(RPC_PORT)

bench: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .devnet
