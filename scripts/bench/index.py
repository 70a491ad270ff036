"""Index benchmark: the Python documentation through Semantik's API, end to end, against a plain
sentence-transformers + qdrant-client script on the same corpus, in the same run.

Prints one JSON line on stdout (progress goes to stderr):
files, chunks, seconds, files_s, chunks_s, embed_chunks_s, efficiency, baseline_chunks_s,
vs_baseline, rescan_seconds, rescan_fraction.

    make bench-index            # or: .venv/bin/python scripts/bench/index.py [--limit N]

The corpus is Debian's python3.11-doc (`apt-get install python3.11-doc`): its HTML pages are copied
into a temporary document root. `semantik run` is started as a child process on the embedded
stack, with a Triton server this script starts, so the raw embedding throughput is measured on
the very server the pipeline used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path("/usr/share/doc/python3.11/html")
MODEL = "all-minilm-l6-v2"
PASSWORD = "bench-password-1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def copy_corpus(target: Path, limit: int | None) -> list[Path]:
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} is missing: install it with `apt-get install python3.11-doc`.")
    pages = sorted(p for p in CORPUS.rglob("*.html") if "_sources" not in p.parts)[:limit]
    for page in pages:
        destination = target / page.relative_to(CORPUS)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, destination)
    return [target / p.relative_to(CORPUS) for p in pages]


def chunk_texts(pages: list[Path], tokenizer, strategy: str, chunk_size: int, overlap: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The chunks ingestion makes of the pages (same extraction, strategy, size and overlap)."""
    from semantik.documents.chunking import chunk
    from semantik.documents.extraction import ExtractionError, extract

    texts = []
    for page in tqdm(pages, desc="extract+chunk", file=sys.stderr):
        try:
            extracted = extract(page.read_bytes(), page.name)
        except ExtractionError:
            continue
        spans = tokenizer.token_spans(extracted.text)
        chunks = chunk(
            extracted.text,
            spans,
            strategy=strategy,
            chunk_size=chunk_size,
            overlap=overlap,
            headings=extracted.headings,
        )
        texts.extend(c.text for c in chunks)
    return texts


def raw_embedding_rate(triton_url: str, model_dir: Path, texts: list[str], batch: int) -> float:
    from semantik.inference.triton import TritonEmbedder

    embedder = TritonEmbedder(triton_url, model_name=MODEL, model_dir=model_dir)
    embedder.embed(texts[:batch])  # warm
    started = time.perf_counter()
    for i in tqdm(range(0, len(texts), batch), desc="raw embed", file=sys.stderr):
        embedder.embed(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


def baseline_rate(
    pages: list[Path], model_path: Path, strategy: str, chunk_size: int, overlap: int, batch: int
) -> tuple[int, float]:
    """What a person would write by hand: extract, chunk, sentence-transformers, qdrant-client."""
    from qdrant_client import QdrantClient, models
    from sentence_transformers import SentenceTransformer

    from semantik.inference.tokenization import ModelTokenizer

    model = SentenceTransformer(str(model_path), device="cpu")
    client = QdrantClient(":memory:")
    client.create_collection(
        "baseline", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    started = time.perf_counter()
    texts = chunk_texts(
        pages, ModelTokenizer(ROOT / "model_repository" / MODEL), strategy, chunk_size, overlap
    )
    next_id = 0
    for i in tqdm(range(0, len(texts), batch), desc="baseline", file=sys.stderr):
        part = texts[i : i + batch]
        vectors = model.encode(part, batch_size=batch, normalize_embeddings=True)
        client.upsert(
            "baseline",
            [
                models.PointStruct(id=next_id + j, vector=v.tolist(), payload={"text": t})
                for j, (t, v) in enumerate(zip(part, vectors, strict=True))
            ],
        )
        next_id += len(part)
    return len(texts), len(texts) / (time.perf_counter() - started)


def wait_for(check, deadline_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    sys.exit(f"timed out waiting for {what}")


def run_operation(http: httpx.Client, request, total: int, desc: str) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    operation_id = request().json()["operation_id"]
    bar = tqdm(total=total, desc=desc, file=sys.stderr)
    while True:
        state = http.get(f"/api/v2/operations/{operation_id}").json()
        done = state["files_processed"] + state["files_skipped"] + state["files_failed"]
        bar.update(done - bar.n)
        if state["status"] in {"completed", "failed", "cancelled"}:
            bar.close()
            return state, time.perf_counter() - started
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, help="index only the first N pages")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--embed-sample", type=int, default=3000, help="chunks embedded for the raw rate")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from semantik.inference.models import load_model_info
    from semantik.inference.server import TritonServer
    from semantik.stack.ports import find_free_port

    work = Path(tempfile.mkdtemp(prefix="semantik-bench-"))
    work.chmod(0o755)
    documents = work / "documents"
    pages = copy_corpus(documents / "python-docs", args.limit)
    log(f"corpus: {len(pages)} pages in {documents}")
    model_dir = ROOT / "model_repository" / MODEL
    info = load_model_info(model_dir)
    triton = TritonServer(ROOT / "model_repository", log_path=work / "triton.log", models=[MODEL])
    triton.start()
    port = find_free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "QDRANT_URL"}}
    env.update(
        DATA_DIR=str(work / "data"),
        DOCUMENT_PATH=str(documents),
        TRITON_URL=triton.grpc_url,
        SEMANTIK_ADMIN_PASSWORD=PASSWORD,
        LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "semantik.cli", "run", "--port", str(port)],
        env=env,
        stdout=(work / "run.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            if server.poll() is not None:
                sys.exit(f"semantik run exited: see {work / 'run.log'}")
            try:
                return httpx.get(f"{url}/api/health/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 180, "semantik run")
        token = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()[
            "access"
        ]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            collection = http.post("/api/v2/collections", json={"name": "Python docs"}).json()
            source_path = str(documents / "python-docs")
            state, seconds = run_operation(
                http,
                lambda: http.post(
                    f"/api/v2/collections/{collection['id']}/sources", json={"path": source_path}
                ),
                len(pages),
                "index",
            )
            if state["status"] != "completed":
                sys.exit(f"indexing ended {state['status']}: {state['error']}")
            detail = http.get(f"/api/v2/collections/{collection['id']}").json()
            source_id = http.get(f"/api/v2/collections/{collection['id']}/sources").json()["results"][0]["id"]
            _, rescan_seconds = run_operation(
                http,
                lambda: http.post(f"/api/v2/collections/{collection['id']}/sources/{source_id}/rescan"),
                len(pages),
                "rescan",
            )
        chunks = detail["chunk_count"]
        from semantik.inference.tokenization import ModelTokenizer

        texts = chunk_texts(
            pages,
            ModelTokenizer(model_dir),
            detail["chunking_strategy"],
            detail["chunk_size"],
            detail["chunk_overlap"],
        )
        # A seeded sample of the same chunks: the raw rate settles within a few thousand chunks,
        # and re-embedding the whole corpus would add as much time again as the index itself.
        sample = random.Random(7).sample(texts, min(len(texts), args.embed_sample))
        embed_rate = raw_embedding_rate(triton.grpc_url, model_dir, sample, batch=64)
    finally:
        server.terminate()
        server.wait(timeout=60)
        triton.stop()

    result: dict[str, object] = {
        "files": state["files_total"],
        "files_failed": state["files_failed"],
        "chunks": chunks,
        "vectors": detail["vector_count"],
        "seconds": round(seconds, 2),
        "files_s": round(state["files_total"] / seconds, 2),
        "chunks_s": round(chunks / seconds, 1),
        "embed_chunks_s": round(embed_rate, 1),
        "efficiency": round(chunks / seconds / embed_rate, 3),
        "rescan_seconds": round(rescan_seconds, 2),
        "rescan_fraction": round(rescan_seconds / seconds, 4),
        "model": MODEL,
        "precision": info.precision,
        "chunking": detail["chunking_strategy"],
        "embed_sample": len(sample),
    }
    if not args.skip_baseline:
        from semantik.inference.export import resolve_source

        _, source_path = resolve_source(info.source)
        baseline_chunks, baseline = baseline_rate(
            pages,
            source_path,
            detail["chunking_strategy"],
            detail["chunk_size"],
            detail["chunk_overlap"],
            batch=64,
        )
        result.update(
            baseline_chunks=baseline_chunks,
            baseline_chunks_s=round(baseline, 1),
            vs_baseline=round(chunks / seconds / baseline, 2),
        )
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
