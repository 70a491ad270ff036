"""Search benchmark: a collection of N chunks of real text behind the REST API, driven by concurrent clients.

Prints one JSON line per mode (semantic, keyword, hybrid) and client count on stdout, progress on
stderr: mode, chunks, clients, p50_ms, p99_ms, qps, server_cpu_ms_per_query, queries, errors, limit,
query_cache, unique_chunks, synthetic_vectors. Each mode runs with one client (latency without
queueing) and with `--clients` (throughput): with 8 clients each waiting for its answer, latency
is at least 8 / qps, so the latency and throughput goals are read from different lines.

    make bench-search       # or: .venv/bin/python scripts/bench/search.py [--chunks 5000] [--clients 8]

How the collection is built. Embedding 100,000 chunks on a 2-core CPU would take over an hour, so
only `--unique` distinct chunks of the Python documentation (Debian's python3.11-doc) are embedded,
once, through a Triton server this script starts; every other chunk is a variation of one of them:
its text with a few words dropped or swapped and a variant number appended (its own BM25 keyword
vector is computed from that text), its vector the base vector plus small Gaussian noise,
renormalised. Chunks are written straight into the embedded Qdrant store, with Document rows (for
titles) in the embedded PostgreSQL, and the collection's HNSW index is built (what `semantik run`
does on its own once writes pause: `index_build_s`, and `hnsw_recall_at_10`, the share of the exact
top 10 the index finds for the measured queries), before `semantik run` is started on that data
directory. The
vectors are therefore synthetic (`"synthetic_vectors": true` in every line); the search path is the
product's own: HTTP, JWT, Django, query embedding through Triton, Qdrant, result dressing.

Queries are section titles and glossary terms of the same documentation, each sent once per mode.
The query-vector cache is off unless `--query-cache` is given, so every query is embedded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path("/usr/share/doc/python3.11/html")
MODEL = "all-minilm-l6-v2"
PASSWORD = "bench-password-1"
MODES = ("semantic", "keyword", "hybrid")
NOISE = 0.015  # per dimension: a variation keeps a cosine of about 0.96 with its base vector
_WORD = re.compile(r"\S+")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def base_chunks(unique: int, chunk_size: int, overlap: int) -> list[tuple[str, str, str, int, int]]:
    """(page, title, text, start, end) of up to `unique` chunks of the documentation, page by page."""
    from semantik.documents.chunking import chunk_by_tokens
    from semantik.documents.extraction import ExtractionError, extract
    from semantik.inference.tokenization import ModelTokenizer

    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} is missing: install it with `apt-get install python3.11-doc`.")
    tokenizer = ModelTokenizer(ROOT / "model_repository" / MODEL)
    pages = sorted(
        p for p in CORPUS.rglob("*.html") if "_sources" not in p.parts and "genindex" not in p.name
    )
    random.Random(0).shuffle(pages)
    chunks: list[tuple[str, str, str, int, int]] = []
    for page in pages:
        try:
            extracted = extract(page.read_bytes(), page.name)
        except ExtractionError:
            continue
        spans = tokenizer.token_spans(extracted.text)
        relative = page.relative_to(CORPUS).as_posix()
        for chunk in chunk_by_tokens(extracted.text, spans, chunk_size, overlap):
            chunks.append((relative, extracted.title, chunk.text, chunk.start, chunk.end))
        if len(chunks) >= unique:
            return chunks[:unique]
    return chunks


def queries(count: int) -> list[str]:
    """Section titles and glossary terms of the documentation: what people look up."""
    from bs4 import BeautifulSoup

    found: list[str] = []
    glossary = BeautifulSoup((CORPUS / "glossary.html").read_text(encoding="utf-8"), "lxml")
    for term in glossary.select('dt[id^="term-"]'):
        for link in term.select("a.headerlink"):
            link.decompose()
        found.append(term.get_text(" ", strip=True))
    for page in sorted((CORPUS / "library").glob("*.html"))[:200]:
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "lxml")
        for heading in soup.select("section > h2, section > h3"):
            for noise in heading.select("a.headerlink, span.section-number"):
                noise.decompose()
            found.append(" ".join(heading.get_text(" ", strip=True).split()))
    unique = [q for q in dict.fromkeys(found) if re.search(r"\w\w", q)]
    random.Random(1).shuffle(unique)
    return unique[:count]


def vary(text: str, variant: int, rng: random.Random) -> str:
    """The text with a word dropped, two neighbours swapped and the variant number appended."""
    words = _WORD.findall(text)
    if len(words) > 4:
        del words[rng.randrange(len(words))]
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words) + f" (variant {variant})"


def embed(texts: list[str], triton_url: str) -> np.ndarray:
    from semantik.inference.triton import TritonEmbedder

    embedder = TritonEmbedder(triton_url, model_name=MODEL, model_dir=ROOT / "model_repository" / MODEL)
    rows = []
    for i in tqdm(range(0, len(texts), 64), desc="embed unique chunks", file=sys.stderr):
        rows.append(embedder.embed(texts[i : i + 64]))
    return np.concatenate(rows)


def build(
    data_dir: Path, documents: Path, total: int, unique: int, triton_url: str, recall_queries: list[str]
) -> tuple[str, dict[str, float]]:
    """Write the collection into the data directory (PostgreSQL rows, Qdrant points) and index it.

    Returns its id and the index's figures: build seconds and recall@10 against exact search for
    `recall_queries`.
    """
    os.environ.update(
        DATA_DIR=str(data_dir),
        DOCUMENT_PATH=str(documents),
        TRITON_URL=triton_url,
        SEMANTIK_ADMIN_PASSWORD=PASSWORD,
        DJANGO_SETTINGS_MODULE="semantik.settings",
    )
    from semantik.stack.runner import embedded_services

    with embedded_services(data_dir):
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_admin", stdout=sys.stderr)

        from django.conf import settings
        from django.contrib.auth.models import User

        from semantik.catalog.selectors import served_model
        from semantik.collections.models import Collection
        from semantik.collections.services import collection_create
        from semantik.documents.models import Document, Source
        from semantik.inference.models import load_model_info
        from semantik.search.keyword import document_vector
        from semantik.vectors import get_vector_store, reset_vector_store
        from semantik.vectors.base import ChunkPoint
        from semantik.vectors.naming import point_id

        info = load_model_info(ROOT / "model_repository" / MODEL)
        chunk_size = min(settings.DEFAULT_CHUNK_SIZE, info.max_length - 2)
        overlap = min(settings.DEFAULT_CHUNK_OVERLAP, chunk_size // 4)
        base = base_chunks(unique, chunk_size, overlap)
        log(f"{len(base)} unique chunks of the Python documentation")
        vectors = embed([text for _, _, text, _, _ in base], triton_url)

        admin = User.objects.get(username=settings.SEMANTIK_ADMIN_USERNAME)
        collection = collection_create(
            owner=admin,
            name="Python docs (bench)",
            model=served_model(MODEL, info.precision_name),
            chunk_size=chunk_size,
            chunk_overlap=overlap,
        )
        source = Source.objects.create(collection=collection, path=str(documents))
        rng = random.Random(2)
        noise = np.random.default_rng(3)
        store = get_vector_store()
        copies = -(-total // len(base))
        written = 0
        bar = tqdm(total=total, desc="write chunks", file=sys.stderr)
        for variant in range(copies):
            by_page: dict[str, list[int]] = {}
            for i, (page, _, _, _, _) in enumerate(base):
                by_page.setdefault(page, []).append(i)
            rows = {
                page: Document(
                    collection=collection,
                    source=source,
                    relative_path=page if variant == 0 else f"variant-{variant:04d}/{page}",
                    path=str(documents / page),
                    title=base[members[0]][1],
                    mime_type="text/html",
                    status=Document.Status.INDEXED,
                    chunk_count=len(members),
                    mtime=1_700_000_000.0 + variant,
                )
                for page, members in by_page.items()
            }
            points = []
            for page, members in by_page.items():
                document = rows[page]
                for chunk_index, i in enumerate(members):
                    if written + len(points) >= total:
                        break
                    _, _, text, start, end = base[i]
                    vector = vectors[i]
                    if variant:
                        text = vary(text, variant, rng)
                        vector = vector + noise.normal(0.0, NOISE, vector.shape).astype(np.float32)
                        vector /= np.linalg.norm(vector)
                    payload = {
                        "document_id": str(document.pk),
                        "source_id": str(source.pk),
                        "path": document.relative_path,
                        "chunk_index": chunk_index,
                        "text": text,
                        "start": start,
                        "end": end,
                        "page": None,
                        "mime_type": "text/html",
                        "mtime": document.mtime,
                        "title": document.title,
                    }
                    points.append(
                        ChunkPoint(
                            point_id(collection.pk, document.pk, chunk_index),
                            vector,
                            payload,
                            sparse=document_vector(text),
                        )
                    )
            used = {point.payload["document_id"] for point in points}
            Document.objects.bulk_create(row for row in rows.values() if str(row.pk) in used)
            store.upsert(collection.vector_collection, points)
            written += len(points)
            bar.update(len(points))
            if written >= total:
                break
        bar.close()
        Collection.objects.filter(pk=collection.pk).update(status=Collection.Status.READY)
        name = collection.vector_collection
        count = store.count(name)
        log(f"{count} chunks in Qdrant; building the HNSW index (as `semantik run` would once writes pause)")
        started = time.monotonic()
        store.build_index(name)  # type: ignore[attr-defined]
        index_seconds = time.monotonic() - started
        log(f"index built in {index_seconds:.1f} s")
        recall = hnsw_recall(store, name, embed(recall_queries, triton_url), 10)
        log(f"HNSW recall@10 against exact search: {recall:.4f} over {len(recall_queries)} queries")
        reset_vector_store()  # closes the store, so `semantik run` can open it
        return str(collection.pk), {"index_build_s": round(index_seconds, 1), "hnsw_recall_at_10": recall}


def hnsw_recall(store: object, name: str, vectors: np.ndarray, k: int) -> float:
    """Mean share of the exact top k that the index's top k holds, over the query vectors."""
    shares = []
    for vector in vectors:
        exact = {hit.id for hit in store.search(name, vector, k, exact=True)}  # type: ignore[attr-defined]
        found = {hit.id for hit in store.search(name, vector, k)}  # type: ignore[attr-defined]
        shares.append(len(exact & found) / max(1, len(exact)))
    return round(float(np.mean(shares)), 4)


def drive(url: str, token: str, body: dict, texts: list[str], clients: int) -> tuple[list[float], int, float]:
    """Send each query once, spread over `clients` threads; latencies (ms), errors, wall seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    shares = [texts[i::clients] for i in range(clients)]

    def client(share: list[str]) -> None:
        nonlocal errors
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for query in share:
                started = time.perf_counter()
                response = http.post("/api/v2/search", json={**body, "query": query})
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors += 1

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process and its descendants, living and exited."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    total = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for task in tasks:
        try:  # a thread may end between the listing and the reading (the server starts many)
            children = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the collection")
    parser.add_argument("--unique", type=int, default=3000, help="distinct chunks actually embedded")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--queries", type=int, default=800, help="queries per mode (each sent once)")
    parser.add_argument("--limit", type=int, default=10, help="results per search")
    parser.add_argument("--query-cache", action="store_true", help="keep the query-vector cache on")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for name in ("DATABASE_URL", "REDIS_URL", "QDRANT_URL", "TRITON_URL"):
        os.environ.pop(name, None)  # the embedded stack, as `make run` has it

    from semantik.inference.server import TritonServer
    from semantik.testing.served import semantik_run

    work = Path(tempfile.mkdtemp(prefix="semantik-bench-search-"))
    data_dir, documents = work / "data", work / "documents"
    documents.mkdir(parents=True)
    triton = TritonServer(ROOT / "model_repository", log_path=work / "triton.log", models=[MODEL])
    triton.start()
    stack = contextlib.ExitStack()
    try:
        asked = queries(args.queries + 20)
        warm, measured = asked[:20], asked[20:]
        collection_id, index_figures = build(
            data_dir, documents, args.chunks, min(args.unique, args.chunks), triton.grpc_url, measured
        )
        env = {
            "TRITON_URL": triton.grpc_url,
            # The benchmark measures search, not the rate limiter: one user's 8 clients would
            # otherwise meet the per-user search rate (429s) within seconds.
            "THROTTLE_SEARCH": "none",
            "THROTTLE_USER": "none",
            "QUERY_CACHE_SECONDS": os.environ.get("QUERY_CACHE_SECONDS", "86400")
            if args.query_cache
            else "0",
        }
        served = stack.enter_context(semantik_run(data_dir, documents, work / "run.log", env=env))
        url = served.url
        token = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()[
            "access"
        ]
        for mode, clients in [(m, c) for c in sorted({1, args.clients}) for m in MODES]:
            body = {"collections": [collection_id], "mode": mode, "limit": args.limit}
            drive(url, token, body, warm, 1)
            cpu_before = cpu_seconds(served.pid) + cpu_seconds(triton.pid)
            latencies, errors, seconds = drive(url, token, body, measured, clients)
            cpu = cpu_seconds(served.pid) + cpu_seconds(triton.pid) - cpu_before
            if not latencies:
                sys.exit(f"every {mode} search failed: see {work / 'run.log'}")
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "chunks": args.chunks,
                        "clients": clients,
                        "p50_ms": round(statistics.median(latencies), 2),
                        "p99_ms": round(percentile(latencies, 99), 2),
                        "qps": round(len(latencies) / seconds, 1),
                        # CPU of `semantik run` (and its embedded PostgreSQL and Valkey) and of
                        # Triton per query: what load on a shared machine does not change much.
                        "server_cpu_ms_per_query": round(cpu / len(latencies) * 1000, 2),
                        "queries": len(latencies),
                        "errors": errors,
                        "limit": args.limit,
                        "query_cache": "on" if args.query_cache else "off",
                        "unique_chunks": min(args.unique, args.chunks),
                        "synthetic_vectors": True,
                        "engine": "qdrant-edge (embedded)",
                        **index_figures,
                    }
                ),
                flush=True,
            )
    finally:
        stack.close()
        triton.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
