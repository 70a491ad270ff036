# syntax=docker/dockerfile:1
# Semantik's images, one file, five stages:
#   frontend  the React UI built by Vite (Node), copied into the Python package
#   deps      a virtual environment with Semantik and its run-time dependencies (build tools allowed)
#   models    deps + the `export` extra (torch, CPU build): the one-shot job that exports models
#   triton    NVIDIA's Triton image plus ONNX Runtime for the python backend that serves the exports
#   runtime   (default target) the slim web/worker image: the virtual environment, no compilers,
#             no torch, non-root UID 1000, a health check; also the CPU Triton (`triton` command)
# docker-compose.yml builds `runtime` for web, worker and beat, `models` for the export job and
# `triton` for the GPU. Model weights never enter an image: they live in the mounted repository.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:24.10-py3

FROM ${NODE_IMAGE} AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
# vite.config.ts writes the build to ../backend/semantik/web/static/ui/.
RUN mkdir -p /src/backend/semantik/web/static/ui && npm run build

FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# Compilers only for a dependency that has no wheel for this platform; they stay in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv && pip install --upgrade pip setuptools wheel
WORKDIR /build
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY --from=frontend /src/backend/semantik/web/static/ui ./backend/semantik/web/static/ui
# A regular (not editable) install: the package, its templates and the UI land in site-packages.
RUN pip install .

FROM deps AS models
# torch's CPU build: exporting runs on the CPU, and the CUDA build would add gigabytes for nothing.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
    && pip install ".[export]"
RUN groupadd --gid 1000 semantik && useradd --uid 1000 --gid 1000 --create-home semantik
WORKDIR /app
COPY scripts/export_model.py scripts/docker-entrypoint.sh ./scripts/
# Caches in /tmp: the job may run as the host account's uid (SEMANTIK_UID), which has no home here.
ENV HF_HUB_OFFLINE=1 HF_HOME=/tmp/huggingface XDG_CACHE_HOME=/tmp/cache MODEL_REPOSITORY=/models \
    PYTHONUNBUFFERED=1
USER 1000:1000
ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
CMD ["models"]

FROM ${TRITON_IMAGE} AS triton
# Each export's model.py runs ONNX Runtime inside Triton's python backend; NVIDIA's image has none.
RUN pip install --no-cache-dir "onnxruntime>=1.20" "numpy<2"
# The image's own triton-server account.
USER 1000:1000

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Semantik" \
      org.opencontainers.image.description="Self-hosted semantic search: web, worker and CPU Triton" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=semantik.settings DEBUG=false \
    DATA_DIR=/app/data LOG_DIR=/app/logs MODEL_REPOSITORY=/models DOCUMENT_PATH=/documents \
    SEMANTIK_HOST=0.0.0.0 SEMANTIK_PORT=8080 WORKER_METRICS_PORT=9091
RUN groupadd --gid 1000 semantik \
    && useradd --uid 1000 --gid 1000 --create-home --shell /usr/sbin/nologin semantik \
    && mkdir -p /app/data /app/logs /models /documents \
    && chown 1000:1000 /app/data /app/logs
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY --chown=1000:1000 manage.py ./
COPY --chown=1000:1000 scripts/docker-entrypoint.sh ./scripts/
USER 1000:1000
EXPOSE 8080 9091
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/api/health/livez', timeout=4).status != 200)"]
ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
# web (migrate, then serve); `worker`, `beat`, `triton` (CPU) or any command instead.
CMD ["web"]
