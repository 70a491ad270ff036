#!/bin/sh
# Entry point of Semantik's images: what a container runs, by its first argument.
#   web      migrate (under a lock, so replicas can start together), then serve the API and UI on :8080
#   worker   the Celery worker, threads pool, Prometheus metrics on WORKER_METRICS_PORT (9091)
#   beat     Celery beat: the periodic reaper, collection syncs and token clean-up (run exactly one)
#   triton   the bundled tritonserver on the CPU (python backend + ONNX Runtime), ports 8000/8001/8002
#   models   export EXPORT_MODELS (default: the default model) in EXPORT_PRECISIONS into MODEL_REPOSITORY
# Anything else is run as given (`docker compose run --rm web python manage.py shell`).
set -eu

command="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$command" in
web)
    exec semantik serve --host "${SEMANTIK_HOST:-0.0.0.0}" --port "${SEMANTIK_PORT:-8080}" "$@"
    ;;
worker)
    # Threads, as in `semantik run`: one process, so the metrics on :9091 count all of its work.
    # Text extraction still runs in its own bounded processes (EXTRACTION_WORKERS).
    exec celery -A semantik worker --pool=threads \
        --concurrency="${CELERY_WORKER_CONCURRENCY:-4}" \
        --hostname="worker@%h" --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
beat)
    exec celery -A semantik beat --schedule=/tmp/celerybeat-schedule --pidfile=/tmp/celerybeat.pid \
        --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
triton)
    exec semantik triton --listen 0.0.0.0 --http-port 8000 --grpc-port 8001 --metrics-port 8002 "$@"
    ;;
models)
    repository="${MODEL_REPOSITORY:-/models}"
    if [ "$#" -gt 0 ]; then
        exec python /app/scripts/export_model.py --repository "$repository" "$@"
    fi
    set --
    for precision in ${EXPORT_PRECISIONS:-fp32 int8}; do
        set -- "$@" --precision "$precision"
    done
    # Idempotent: an intact export of the same source and precision is kept as it is.
    for source in ${EXPORT_MODELS:-sentence-transformers/all-MiniLM-L6-v2}; do
        python /app/scripts/export_model.py "$source" --repository "$repository" "$@"
    done
    ;;
*)
    exec "$command" "$@"
    ;;
esac
