"""CPU cost of one search request, measured in-process: a wall-clock benchmark on a shared machine is noise.

Builds the same collection as `scripts/bench/search.py` (real text, synthetic variations) on the
embedded stack, then sends N searches per mode one after another through the real ASGI
application (Django's ASGI handler, middleware, DRF, the search service, the embedded Qdrant)
with httpx's ASGI transport, and prints one JSON line per mode: the CPU milliseconds this process
spent per request (`time.process_time`, every thread counted, the client's share included), the
embedded PostgreSQL's and, when queries are embedded by Triton (`--backend triton`), Triton's.
Settings are those of `semantik run` (in-process query embedding, a database pool) unless the
environment says otherwise. `--profile FILE` writes a cProfile (CPU time) of the last mode's
requests made through Django's test client, in this thread.

    .venv/bin/python scripts/bench/search_cpu.py --chunks 20000 --requests 300 --work /tmp/search-cpu
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODES = ("semantic", "keyword", "hybrid")


def _bench_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "scripts" / "bench" / "search.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process and its descendants (Triton's python backend
    stubs are child processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # a thread may end between the listing and the reading
            children = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


async def measure(
    body: dict, texts: list[str], token: str, server_pid: int | None, postgres_pid: int
) -> dict:
    import httpx

    from semantik.asgi import application

    transport = httpx.ASGITransport(app=application)  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as http:
        for query in texts[:20]:  # warm: the first requests load models and open the shard
            response = await http.post("/api/v2/search", json={**body, "query": query})
            assert response.status_code == 200, response.text
        latencies = []
        server_before = cpu_seconds(server_pid) if server_pid else 0.0
        postgres_before = cpu_seconds(postgres_pid)
        cpu_before = time.process_time()
        for query in texts[20:]:
            started = time.perf_counter()
            response = await http.post("/api/v2/search", json={**body, "query": query})
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        cpu = time.process_time() - cpu_before
        server = cpu_seconds(server_pid) - server_before if server_pid else None
        postgres = cpu_seconds(postgres_pid) - postgres_before
    n = len(latencies)
    return {
        "mode": body["mode"],
        "requests": n,
        "cpu_ms_per_request": round(cpu / n * 1000, 2),
        "triton_cpu_ms_per_request": None if server is None else round(server / n * 1000, 2),
        "postgres_cpu_ms_per_request": round(postgres / n * 1000, 2),
        "p50_ms_sequential": round(statistics.median(latencies), 2),
    }


def _profile_view(body: dict, texts: list[str], token: str, profile: Path) -> None:
    """cProfile of the same requests through Django's test client: ASGI runs the view in another
    thread, where cProfile does not look."""
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {token}"})
    profiler = cProfile.Profile(time.thread_time)  # CPU of this thread: waits are not cost
    profiler.enable()
    for query in texts:
        client.post("/api/v2/search", {**body, "query": query}, content_type="application/json")
    profiler.disable()
    profiler.dump_stats(str(profile))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--unique", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per mode")
    parser.add_argument(
        "--backend",
        choices=("triton", "onnx"),
        default="onnx",
        help="query embedding (QUERY_INFERENCE_BACKEND)",
    )
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--profile", type=Path, help="cProfile of the last mode's requests")
    parser.add_argument("--query-cache", action="store_true")
    parser.add_argument("--work", type=Path, help="keep the collection here and reuse it next time")
    parser.add_argument("--throttles", action="store_true", help="keep the default rate limits (Redis)")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DATABASE_POOL_SIZE", "20")
    for name in ("DATABASE_URL", "REDIS_URL", "QDRANT_URL", "TRITON_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        QUERY_INFERENCE_BACKEND=args.backend,
        LOG_LEVEL="WARNING",
        QUERY_CACHE_SECONDS="86400" if args.query_cache else "0",
    )
    if not args.throttles:
        os.environ.update(THROTTLE_SEARCH="none", THROTTLE_USER="none")
    bench = _bench_module()
    from semantik.inference.server import TritonServer
    from semantik.stack.runner import embedded_services

    work = args.work or Path(tempfile.mkdtemp(prefix="semantik-search-cpu-"))
    data_dir, documents = work / "data", work / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    built = work / "collection_id"
    triton = TritonServer(ROOT / "model_repository", log_path=work / "triton.log", models=[bench.MODEL])
    triton.start()
    try:
        with embedded_services(data_dir):
            if built.exists():
                import django

                collection_id = built.read_text()
                os.environ.update(
                    DATA_DIR=str(data_dir),
                    DOCUMENT_PATH=str(documents),
                    TRITON_URL=triton.grpc_url,
                    DJANGO_SETTINGS_MODULE="semantik.settings",
                )
                django.setup()
            else:
                collection_id, _ = bench.build(
                    data_dir,
                    documents,
                    args.chunks,
                    min(args.unique, args.chunks),
                    triton.grpc_url,
                    bench.queries(50),
                )
                built.write_text(collection_id)
            from django.contrib.auth.models import User
            from rest_framework_simplejwt.tokens import RefreshToken

            token = str(RefreshToken.for_user(User.objects.get(username="admin")).access_token)
            texts = bench.queries(args.requests + 20)
            modes = args.modes.split(",")
            postgres_pid = int((data_dir / "postgres" / "pgdata" / "postmaster.pid").read_text().split()[0])
            for mode in modes:
                body = {"collections": [collection_id], "mode": mode, "limit": 10}
                pid = triton.pid if args.backend == "triton" else None
                profile = args.profile if mode == modes[-1] else None
                print(
                    json.dumps(
                        {
                            **asyncio.run(measure(body, texts, token, pid, postgres_pid)),
                            "chunks": args.chunks,
                            "backend": args.backend,
                        }
                    ),
                    flush=True,
                )
                if profile:
                    _profile_view(body, texts[20:], token, profile)
    finally:
        from semantik.vectors import reset_vector_store

        reset_vector_store()
        triton.stop()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
