# Semantik: `make run` serves everything on http://127.0.0.1:8080, `make test` proves it works.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MODEL_REPOSITORY ?= model_repository
DEFAULT_MODEL_DIR := $(MODEL_REPOSITORY)/all-minilm-l6-v2
NPM ?= npm
FRONTEND := frontend
UI_BUILD_DIR := backend/semantik/web/static/ui
UI_INDEX := $(UI_BUILD_DIR)/index.html
FRONTEND_DEPS := $(FRONTEND)/node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help install install-dev dev-install models run test test-e2e e2e-deps test-coverage check lint format typecheck audit clean
.PHONY: frontend-install frontend-build frontend-dev frontend-test frontend-check frontend-schema frontend-schema-check
.PHONY: wizard docker-up docker-down docker-logs docker-build-fresh

help:
	@echo "make run        install, export the default model, start the embedded stack, serve on :8080"
	@echo "make test       install test dependencies and run the whole test suite (browser tests included)"
	@echo "make test-e2e   the browser end-to-end tests alone (Chromium against semantik run)"
	@echo "make models     (re)export the default embedding model into $(MODEL_REPOSITORY)/"
	@echo "make check      lint, type-check, audit the dependencies and test (backend and UI)"
	@echo "make audit      known vulnerabilities in the Python and npm dependencies (needs the network)"
	@echo "make frontend-build | frontend-dev | frontend-test   build the UI, serve it with live reload, test it"
	@echo "make clean      remove the virtual environment and build outputs (keeps data/)"
	@echo "make test-coverage   the test suite with a coverage report (htmlcov/)"
	@echo "make test-load  a 60 s load test on loopback (searches, indexing, WebSocket events); prints JSON"
	@echo "make wizard     set up the Docker stack: writes .env (0600) and generated secrets/"
	@echo "make docker-up | docker-down | docker-logs | docker-build-fresh   the Docker Compose stack"

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
dev-install: install-dev

# The default model in fp32 and int8, served side by side. Idempotent: an existing, verified
# export of the same source and precision is kept (a re-run takes a few seconds).
models: install
	HF_HUB_OFFLINE=1 $(PY) scripts/export_model.py --repository $(MODEL_REPOSITORY) --precision fp32 --precision int8

# Throughput and latency of every inference path on real passages; one JSON line on stdout.
# The corpus is the Python documentation: apt-get install python3.11-doc.
.PHONY: bench-embed
bench-embed: install-dev models
	HF_HUB_OFFLINE=1 $(PY) scripts/bench/embed.py --repository $(MODEL_REPOSITORY)

# The fp16 export on Triton's GPU (TensorRT), short sentences/s; on a GPU machine inside NVIDIA's
# Triton container (or TRITON_URL=host:8001 of one). Without a GPU it says so and exits with 2.
.PHONY: bench-embed-gpu
bench-embed-gpu: install-dev
	HF_HUB_OFFLINE=1 $(PY) scripts/bench/embed.py --gpu --repository $(MODEL_REPOSITORY) $(if $(TRITON_URL),--triton-url $(TRITON_URL))

run: install models $(UI_INDEX)
	HF_HUB_OFFLINE=1 $(VENV)/bin/semantik run

test: install-dev models e2e-deps
	HF_HUB_OFFLINE=1 $(PY) -m pytest
	@if command -v $(NPM) >/dev/null 2>&1; then $(MAKE) frontend-test; \
	else echo "npm not found: the UI's unit tests were skipped (install Node.js 20.19+)"; fi

# The browser end-to-end tests alone (tests/web/e2e/: Playwright driving Chromium against `semantik run`).
test-e2e: install-dev models e2e-deps
	HF_HUB_OFFLINE=1 $(PY) -m pytest tests/web/e2e

# What the browser tests need: the UI built from the current sources (when npm exists) and
# Debian's Chromium (installed with apt when missing and running as root). Without either the
# tests skip and say why; Playwright never downloads a browser.
e2e-deps:
	@if command -v $(NPM) >/dev/null 2>&1; then $(MAKE) --no-print-directory frontend-build; \
	else echo "npm not found: the UI is not rebuilt and the browser tests need a built one (install Node.js 20.19+)"; fi
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } || \
	  echo "apt-get could not install chromium: the browser tests will skip"; \
	else echo "no Chromium (apt-get install chromium as root): the browser tests will skip"; fi

# pytest-cov measures the test process; the subprocesses some tests start are not counted.
test-coverage: install-dev models
	HF_HUB_OFFLINE=1 $(PY) -m pytest --cov=semantik --cov-report=term-missing:skip-covered --cov-report=html

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@if command -v shellcheck >/dev/null 2>&1; then shellcheck scripts/*.sh; \
	else echo "shellcheck not found: the shell scripts were not linted (apt-get install shellcheck)"; fi

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install-dev
	$(VENV)/bin/mypy

# Known vulnerabilities (PyPI advisories, GitHub's for npm). They need the network, so they are in
# `make check`, not `make test`. Semantik itself is installed editable and is not on PyPI: skipped;
# --strict fails when any other package could not be checked, rather than passing unaudited.
audit: install-dev $(FRONTEND_DEPS)
	$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off
	cd $(FRONTEND) && $(NPM) audit --audit-level=high

check: lint typecheck audit frontend-check frontend-schema-check test

clean:
	rm -rf $(VENV) build dist *.egg-info backend/*.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -rf $(FRONTEND)/node_modules $(UI_BUILD_DIR)

# The web UI (frontend/): React + TypeScript built by Vite into backend/semantik/web/static/ui/,
# which Django serves (WhiteNoise), so `make run` needs no Node process. Node.js 20.19+ builds it.
frontend-install:
	cd $(FRONTEND) && $(NPM) ci
	@touch $(FRONTEND_DEPS)

$(FRONTEND_DEPS): $(FRONTEND)/package-lock.json
	$(MAKE) frontend-install

frontend-build: $(FRONTEND_DEPS)
	cd $(FRONTEND) && $(NPM) run build

# The UI with live reload on http://localhost:5173, its API calls proxied to `make run` on :8080.
frontend-dev: $(FRONTEND_DEPS)
	cd $(FRONTEND) && $(NPM) run dev

# src/api/schema.d.ts from the backend's OpenAPI description (commit it with the API change).
frontend-schema: $(FRONTEND_DEPS) install
	cd $(FRONTEND) && PYTHON=$(abspath $(PY)) $(NPM) run schema

# Fails when src/api/schema.d.ts no longer matches the server's schema (an API change without `make frontend-schema`).
frontend-schema-check: $(FRONTEND_DEPS) install
	cd $(FRONTEND) && PYTHON=$(abspath $(PY)) $(NPM) run --silent schema -- --check

frontend-test: $(FRONTEND_DEPS)
	cd $(FRONTEND) && $(NPM) test

frontend-check: $(FRONTEND_DEPS)
	cd $(FRONTEND) && $(NPM) run typecheck && $(NPM) run lint && $(NPM) test && $(NPM) run build

# Built once when missing (`make frontend-build` rebuilds). Without Node the placeholder page is served.
$(UI_INDEX):
	@if command -v $(NPM) >/dev/null 2>&1; then $(MAKE) frontend-build; \
	else echo "npm not found: serving a placeholder page instead of the UI (install Node.js 20.19+, then make frontend-build)"; fi

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

# Search quality: the Python documentation indexed through the API, nDCG/recall/MRR per mode.
.PHONY: eval-search
eval-search: install-dev models
	HF_HUB_OFFLINE=1 $(PY) scripts/eval/run_python_docs.py

# A bounded load test on loopback, not part of `make test`: 20 users searching (12 concurrent clients)
# for 60 s while an indexing operation runs and WebSocket listeners follow it. One JSON line on stdout
# (requests, errors, p50/p99 per endpoint, events lost), also written to data/load/last.json.
.PHONY: test-load
test-load: install-dev models
	HF_HUB_OFFLINE=1 $(PY) scripts/load/run.py

# The distributed stack (docker-compose.yml): PostgreSQL, Redis, Qdrant, Triton, web, worker, beat,
# Flower. `make wizard` first (it writes .env and secrets/); `make run` needs none of this.
DOCKER_COMPOSE ?= docker compose
COMPOSE := $(DOCKER_COMPOSE) --profile backend
define require_compose
	@$(DOCKER_COMPOSE) version >/dev/null 2>&1 || { \
	  echo "make $@: needs Docker Engine with the Compose v2 plugin, and '$(DOCKER_COMPOSE) version' failed."; \
	  echo "Install Docker (https://docs.docker.com/engine/install/), or use 'make run' (the embedded stack, no Docker)."; \
	  exit 1; }
endef
define require_wizard
	@test -f secrets/db_password || { echo "make $@: no secrets/ yet: run 'make wizard' first."; exit 1; }
endef

wizard:
	@$(PYTHON) scripts/wizard.py

docker-up:
	$(require_compose)
	$(require_wizard)
	$(COMPOSE) up -d --build --wait
	@echo "Semantik is up (the address is in .env: WEB_BIND, WEB_PORT); scripts/health-check.sh checks every service."

docker-down:
	$(require_compose)
	$(COMPOSE) down

docker-logs:
	$(require_compose)
	$(COMPOSE) logs -f --tail=200

# Every image rebuilt from scratch (base images pulled again, no layer cache), then recreated.
docker-build-fresh:
	$(require_compose)
	$(require_wizard)
	$(COMPOSE) build --no-cache --pull
	$(COMPOSE) up -d --force-recreate --wait
