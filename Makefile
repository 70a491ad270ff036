# Semantik: `make run` serves everything on http://127.0.0.1:8080, `make test` proves it works.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MODEL_REPOSITORY ?= model_repository
DEFAULT_MODEL_DIR := $(MODEL_REPOSITORY)/all-minilm-l6-v2

.DEFAULT_GOAL := help
.PHONY: help install install-dev models run test check lint format typecheck clean

help:
	@echo "make run        install, export the default model, start the embedded stack, serve on :8080"
	@echo "make test       install test dependencies and run the whole test suite"
	@echo "make models     (re)export the default embedding model into $(MODEL_REPOSITORY)/"
	@echo "make check      lint, type-check and test"
	@echo "make clean      remove the virtual environment and build outputs (keeps data/)"

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Semantik needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# Stamps record that the environment matches pyproject.toml; editing it reinstalls.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[export]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The default model in fp32 and int8, served side by side. Idempotent: an existing, verified
# export of the same source and precision is kept (a re-run takes a few seconds).
models: install
	HF_HUB_OFFLINE=1 $(PY) scripts/export_model.py --repository $(MODEL_REPOSITORY) --precision fp32 --precision int8

# Throughput and latency of every inference path on real passages; one JSON line on stdout.
# The corpus is the Python documentation: apt-get install python3.11-doc.
.PHONY: bench-embed
bench-embed: install-dev models
	HF_HUB_OFFLINE=1 $(PY) scripts/bench/embed.py --repository $(MODEL_REPOSITORY)

run: install models
	HF_HUB_OFFLINE=1 $(VENV)/bin/semantik run

test: install-dev models
	HF_HUB_OFFLINE=1 $(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install-dev
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) build dist *.egg-info backend/*.egg-info .pytest_cache .mypy_cache .ruff_cache

# The Python documentation indexed end to end through the API, against a plain
# sentence-transformers + qdrant-client script in the same run; one JSON line on stdout.
.PHONY: bench-index
bench-index: install-dev models
	HF_HUB_OFFLINE=1 $(PY) scripts/bench/index.py

# Search latency and throughput through the REST API, one JSON line per mode. 100,000 chunks by
# default (--chunks N for fewer): a few thousand embedded, the rest derived (see the script).
.PHONY: bench-search
bench-search: install-dev models
	HF_HUB_OFFLINE=1 $(PY) scripts/bench/search.py
