"""Build a qdrant-edge shard's HNSW index in a process of its own.

    python -m semantik.vectors.edge_indexer DIR

qdrant-edge builds indexes only when `optimize()` is called, blocks while it runs, and holds the
GIL the whole time (100,000 × 384 vectors: about 70 s of CPU on two cores), so calling it in the
web process would freeze every request. The store copies the shard, runs this on the copy at a
lower priority, and switches to the copy when it is done (see `EdgeVectorStore.build_index`).

Nothing here knows about Django: it must start fast and touch nothing but the directory it is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

CONFIG_FILE = "edge_config.json"
# Index every unindexed segment, however small: the store decides when a build is worth it.
INDEXING_THRESHOLD_KB = 1
NICENESS = 10  # the build gives way to searches and ingestion


def build(directory: Path) -> dict[str, object]:
    """Index every segment of the shard in `directory`, flush it and close it; what was done."""
    from qdrant_edge import EdgeShard

    config_file = directory / CONFIG_FILE
    config = json.loads(config_file.read_text(encoding="utf-8"))
    # The shard's persisted configuration is the only place its optimizer settings can be set
    # without restating every vector's parameters; the loader reads it as it is on disk.
    config.setdefault("optimizers", {})["indexing_threshold"] = INDEXING_THRESHOLD_KB
    config_file.write_text(json.dumps(config), encoding="utf-8")
    started = time.monotonic()
    shard = EdgeShard.load(str(directory))
    try:
        changed = shard.optimize()
        shard.flush()
        info = shard.info()
    finally:
        shard.close()
    return {
        "changed": changed,
        "points": info.points_count,
        "segments": info.segments_count,
        "indexed_vectors": info.indexed_vectors_count,
        "seconds": round(time.monotonic() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="a copy of the shard; it is changed in place")
    args = parser.parse_args(argv)
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    try:
        outcome = build(args.directory)
    except Exception as exc:  # the parent reads the reason from stderr
        print(f"indexing {args.directory} failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
