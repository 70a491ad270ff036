#!/usr/bin/env bash
# Restore a folder written by scripts/backup.sh: the database, the Qdrant vectors and the uploaded
# files are REPLACED by the backup's; model configs are put back where a model is missing (then
# `make models` / the compose `models` job exports its weights again).
#
#   scripts/restore.sh FOLDER [--yes]
#
# The backup's manifest says which stack it came from.
# compose   web, worker, beat and flower are stopped; the database is recreated and pg_restore'd in
#           the postgres container; every Qdrant collection is replaced by the snapshots; then the
#           stopped services start again.
# embedded  `semantik restore` (stop `make run` first).
set -euo pipefail

cd "$(dirname "$0")/.."

folder=""
assume_yes=false
while [[ $# -gt 0 ]]; do
    case "$1" in
    --yes | -y) assume_yes=true; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "restore.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) folder="$1"; shift ;;
    esac
done
[[ -n $folder ]] || { echo "usage: scripts/restore.sh FOLDER [--yes]" >&2; exit 2; }
[[ -f $folder/manifest.json && -f $folder/postgres.dump ]] ||
    { echo "restore.sh: $folder is not a Semantik backup (no manifest.json or postgres.dump)" >&2; exit 1; }
folder=$(cd "$folder" && pwd)
stack=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("stack", ""))' "$folder/manifest.json")

if ! $assume_yes; then
    if [[ ! -t 0 ]]; then
        echo "restore.sh: this replaces the $stack stack's data; confirm with --yes" >&2
        exit 1
    fi
    read -r -p "Replace the $stack stack's database, vectors and uploads with $folder? [y/N] " answer
    [[ $answer == [yY]* ]] || { echo "Nothing changed." >&2; exit 1; }
fi

case "$stack" in
embedded)
    if [[ -x .venv/bin/semantik ]]; then semantik=.venv/bin/semantik; else semantik=$(command -v semantik); fi
    exec "$semantik" restore "$folder"
    ;;
compose) ;;
*) echo "restore.sh: unknown stack '$stack' in $folder/manifest.json" >&2; exit 1 ;;
esac

command -v docker >/dev/null 2>&1 || { echo "restore.sh: docker is not installed" >&2; exit 1; }
qdrant="http://127.0.0.1:${QDRANT_HTTP_PORT:-6333}"
curl_qdrant() {
    curl -fsS ${QDRANT_API_KEY:+-H "api-key: $QDRANT_API_KEY"} "$@"
}

# Nothing may write while the data is replaced; the stores themselves keep running.
mapfile -t stopped < <(docker compose ps --status running --services | grep -xE 'web|worker|beat|flower' || true)
if [[ ${#stopped[@]} -gt 0 ]]; then
    docker compose stop "${stopped[@]}"
fi
docker compose up -d --wait postgres redis qdrant

echo "PostgreSQL: recreate and pg_restore" >&2
docker compose exec -T postgres psql -U semantik -d postgres -v ON_ERROR_STOP=1 \
    -c 'DROP DATABASE IF EXISTS semantik WITH (FORCE)' -c 'CREATE DATABASE semantik OWNER semantik'
docker compose exec -T postgres pg_restore -U semantik -d semantik --no-owner --no-privileges --exit-on-error \
    <"$folder/postgres.dump"

echo "Qdrant: replace every collection" >&2
mapfile -t existing < <(curl_qdrant "$qdrant/collections" |
    python3 -c 'import json, sys; print("\n".join(c["name"] for c in json.load(sys.stdin)["result"]["collections"]))')
for name in "${existing[@]}"; do
    [[ -n $name ]] && curl_qdrant -X DELETE "$qdrant/collections/$name" >/dev/null
done
for snapshot in "$folder"/qdrant/*.snapshot; do
    [[ -e $snapshot ]] || continue
    name=$(basename "$snapshot" .snapshot)
    curl_qdrant -X POST "$qdrant/collections/$name/snapshots/upload?wait=true&priority=snapshot" \
        -F "snapshot=@$snapshot" >/dev/null
done

echo "Uploads and model configs" >&2
rm -rf data/uploads
mkdir -p data
if [[ -d $folder/uploads ]]; then cp -a "$folder/uploads" data/uploads; else mkdir data/uploads; fi
if [[ -d $folder/models ]]; then
    mkdir -p models
    for model in "$folder"/models/*/; do
        [[ -d $model ]] || continue
        name=$(basename "$model")
        [[ -e models/$name ]] || cp -a "$model" "models/$name"
    done
fi

if [[ ${#stopped[@]} -gt 0 ]]; then
    docker compose start "${stopped[@]}"
fi
echo "Restored $folder" >&2
