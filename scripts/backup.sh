#!/usr/bin/env bash
# Back up Semantik into one new, timestamped folder: the PostgreSQL dump, the Qdrant vectors, the
# uploaded files and the model repository's configs (weights are re-exported, not copied).
#
#   scripts/backup.sh [--stack compose|embedded] [--out DIR]      (default: backups/)
#
# compose   the stack keeps running: pg_dump inside the postgres container, one snapshot per
#           collection through Qdrant's snapshot API, ./data/uploads and ./models configs.
# embedded  `semantik backup` (stop `make run` first: its PostgreSQL and Qdrant admit one process).
# The default is compose when its postgres container runs, embedded otherwise.
# Restore with scripts/restore.sh FOLDER.
set -euo pipefail

cd "$(dirname "$0")/.."

stack=auto
out=backups
while [[ $# -gt 0 ]]; do
    case "$1" in
    --stack) stack="${2:?--stack needs compose or embedded}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "backup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

compose_running() {
    command -v docker >/dev/null 2>&1 &&
        docker compose ps --status running --services 2>/dev/null | grep -qx postgres
}

if [[ $stack == auto ]]; then
    if compose_running; then stack=compose; else stack=embedded; fi
fi
destination="$out/semantik-$(date -u +%Y%m%dT%H%M%SZ)"

semantik_command() {
    if [[ -x .venv/bin/semantik ]]; then
        echo .venv/bin/semantik
    elif command -v semantik >/dev/null 2>&1; then
        command -v semantik
    else
        echo "backup.sh: no semantik command (run make install, or activate its environment)" >&2
        return 1
    fi
}

case "$stack" in
embedded)
    semantik=$(semantik_command)
    "$semantik" backup "$destination"
    echo "$destination"
    exit 0
    ;;
compose) ;;
*) echo "backup.sh: --stack is compose or embedded, not $stack" >&2; exit 2 ;;
esac

compose_running || { echo "backup.sh: the compose stack's postgres is not running (make docker-up)" >&2; exit 1; }
qdrant="http://127.0.0.1:${QDRANT_HTTP_PORT:-6333}"
curl_qdrant() {
    curl -fsS ${QDRANT_API_KEY:+-H "api-key: $QDRANT_API_KEY"} "$@"
}
json_field() { # json_field EXPRESSION: evaluates EXPRESSION on the JSON document read from stdin
    python3 -c "import json, sys; doc = json.load(sys.stdin); print($1)"
}

staging="$out/.$(basename "$destination").partial"
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/qdrant" "$staging/models"
# Every account's password hash and all the data: for its owner's eyes only.
chmod 700 "$staging"
staging=$(cd "$staging" && pwd)

echo "PostgreSQL: pg_dump" >&2
docker compose exec -T postgres pg_dump -U semantik -d semantik --format=custom --no-owner >"$staging/postgres.dump"

mapfile -t collections < <(curl_qdrant "$qdrant/collections" | json_field '"\n".join(c["name"] for c in doc["result"]["collections"])')
for name in "${collections[@]}"; do
    [[ -n $name ]] || continue
    echo "Qdrant: snapshot of $name" >&2
    snapshot=$(curl_qdrant -X POST "$qdrant/collections/$name/snapshots?wait=true" | json_field 'doc["result"]["name"]')
    curl_qdrant -o "$staging/qdrant/$name.snapshot" "$qdrant/collections/$name/snapshots/$snapshot"
    # The copy is ours now; the server keeps none.
    curl_qdrant -X DELETE "$qdrant/collections/$name/snapshots/$snapshot" >/dev/null
done

if [[ -d data/uploads ]]; then
    cp -a data/uploads "$staging/uploads"
else
    mkdir "$staging/uploads"
fi
if [[ -d models ]]; then
    (cd models && find . -type f \( -name config.pbtxt -o -name semantik.json -o -name tokenizer.json -o -name model.py \) \
        -not -path '*/.*' -exec cp --parents {} "$staging/models/" \;)
fi

cat >"$staging/manifest.json" <<EOF
{
  "format": 1,
  "created": "$(date -u +%Y-%m-%dT%H:%M:%S+00:00)",
  "stack": "compose",
  "postgres": "pg_dump custom format",
  "qdrant": "collection snapshots",
  "collections": $(printf '%s\n' "${collections[@]}" | python3 -c 'import json, sys; print(json.dumps([l.strip() for l in sys.stdin if l.strip()]))')
}
EOF
mv "$staging" "$destination"
trap - EXIT
echo "$destination"
