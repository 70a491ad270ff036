#!/usr/bin/env bash
# Check every Semantik service and print a table; exit 1 when one is down.
#
#   scripts/health-check.sh [--stack compose|embedded] [--url http://127.0.0.1:8080]
#
# Both stacks: the web's liveness, and its readiness, which checks PostgreSQL, Redis, Qdrant and
# Triton itself (one row each, with latency or the reason). The compose stack adds each container's
# state and health as Docker reports it, Triton's and Qdrant's own probes, and the worker's metrics.
# The default is compose when its containers run, embedded (`make run`) otherwise.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2

stack=auto
url="http://127.0.0.1:${WEB_PORT:-8080}"
while [[ $# -gt 0 ]]; do
    case "$1" in
    --stack) stack="${2:?--stack needs compose or embedded}"; shift 2 ;;
    --url) url="${2:?--url needs the web address}"; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "health-check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
url="${url%/}"

if [[ $stack == auto ]]; then
    if command -v docker >/dev/null 2>&1 && [[ -n $(docker compose ps --services 2>/dev/null) ]]; then
        stack=compose
    else
        stack=embedded
    fi
fi

failures=0
rows=()
row() { # row NAME STATUS DETAIL
    rows+=("$1"$'\t'"$2"$'\t'"$3")
    [[ $2 == ok ]] || failures=$((failures + 1))
}
probe() { # probe NAME URL: ok when the URL answers 2xx within 5 s
    local started elapsed
    started=$(date +%s%N)
    if curl -fsS -o /dev/null --max-time 5 "$2" 2>/dev/null; then
        elapsed=$((($(date +%s%N) - started) / 1000000))
        row "$1" ok "$2 (${elapsed} ms)"
    else
        row "$1" down "$2 does not answer"
    fi
}

if [[ $stack == compose ]]; then
    while IFS=$'\t' read -r service state health; do
        [[ -n $service ]] || continue
        if [[ $state == running && ($health == healthy || -z $health) ]]; then
            row "container $service" ok "$state${health:+, $health}"
        elif [[ $service == models && $state == exited ]]; then
            row "container $service" ok "one-shot job, exited"
        else
            row "container $service" down "$state${health:+, $health}"
        fi
    done < <(docker compose ps --all --format '{{.Service}}{{"\t"}}{{.State}}{{"\t"}}{{.Health}}' 2>/dev/null)
    probe "qdrant /readyz" "http://127.0.0.1:${QDRANT_HTTP_PORT:-6333}/readyz"
    probe "triton /v2/health/ready" "http://127.0.0.1:${TRITON_HTTP_PORT:-8000}/v2/health/ready"
    while read -r published; do
        [[ -n $published ]] && probe "worker metrics" "http://$published/metrics"
    done < <(docker compose ps -q worker 2>/dev/null | while read -r id; do docker port "$id" 9091/tcp 2>/dev/null | head -n 1; done)
elif [[ $stack != embedded ]]; then
    echo "health-check.sh: --stack is compose or embedded, not $stack" >&2
    exit 2
fi

probe "web /api/health/livez" "$url/api/health/livez"
readiness=$(curl -sS --max-time 15 "$url/api/health/readyz" 2>/dev/null)
if [[ -n $readiness ]]; then
    while IFS=$'\t' read -r name status detail; do
        row "$name" "$status" "$detail"
    done < <(python3 -c '
import json, sys
try:
    checks = json.loads(sys.argv[1])["checks"]
except (ValueError, KeyError):
    print("web readiness\tdown\tunexpected answer from /api/health/readyz")
    sys.exit()
for name, result in checks.items():
    ok = result["ok"]
    error = " ".join(str(result["error"]).split())[:120]
    print(name, "ok" if ok else "down", str(result["latency_ms"]) + " ms" if ok else error, sep="\t")
' "$readiness")
else
    row "web readiness" down "$url/api/health/readyz does not answer"
fi

printf '%-28s %-6s %s\n' SERVICE STATUS DETAIL
for entry in "${rows[@]}"; do
    IFS=$'\t' read -r name status detail <<<"$entry"
    printf '%-28s %-6s %s\n' "$name" "$status" "$detail"
done
if [[ $failures -gt 0 ]]; then
    echo "$failures down" >&2
    exit 1
fi
