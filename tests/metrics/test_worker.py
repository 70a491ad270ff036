"""The Celery worker's own /metrics on WORKER_METRICS_PORT: started with `celery worker`, and after an
indexing run it shows the work that worker did."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from semantik.metrics.worker import serve_worker_metrics
from semantik.stack.ports import find_free_port

ROOT = Path(__file__).resolve().parents[2]


def scrape(url: str, deadline_s: float = 60) -> dict[str, float]:
    """Every sample of the endpoint, as `name{label="value",...}` → value."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            text = httpx.get(url, timeout=5).text
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


@pytest.mark.django_db(transaction=True)
def test_after_an_indexing_run_the_worker_endpoint_shows_the_work(  # type: ignore[no-untyped-def]
    api, celery_worker, triton, models, documents_root
):
    port = find_free_port()
    assert serve_worker_metrics(port, "127.0.0.1")
    before = scrape(f"http://127.0.0.1:{port}/metrics")
    (documents_root / "roses.md").write_text("# Roses\n\nPrune roses in late winter. " * 20)
    (documents_root / "empty.txt").write_text("")
    collection = api.post("/api/v2/collections", {"name": "Measured"}, format="json").json()
    added = api.post(
        f"/api/v2/collections/{collection['id']}/sources", {"path": str(documents_root)}, format="json"
    ).json()
    deadline = time.monotonic() + 120
    while api.get(f"/api/v2/operations/{added['operation_id']}").json()["status"] != "completed":
        assert time.monotonic() < deadline, "the worker did not finish the indexing run"
        time.sleep(0.2)

    after = scrape(f"http://127.0.0.1:{port}/metrics")

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew("semantik_chunks_indexed_total") > 0
    assert grew('semantik_documents_processed_total{outcome="indexed"}') == 1
    assert grew('semantik_documents_processed_total{outcome="failed"}') == 1
    assert grew('semantik_operations_finished_total{status="completed",type="index"}') == 1
    inference = (
        'semantik_inference_request_seconds_count{backend="triton",kind="embedding",model="all-minilm-l6-v2"}'
    )
    assert grew(inference) > 0


def test_a_taken_port_is_reported_not_fatal() -> None:
    port = find_free_port()
    assert serve_worker_metrics(port, "127.0.0.1")
    assert not serve_worker_metrics(port, "127.0.0.1")


def test_celery_worker_starts_its_metrics_endpoint_on_the_configured_port(tmp_path: Path) -> None:
    port = find_free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "backend"),
        "WORKER_METRICS_PORT": str(port),
        "WORKER_METRICS_ADDRESS": "127.0.0.1",
        # A queue of its own: this worker must take none of the other tests' tasks.
        "INSTANCE_NAME": f"worker-metrics-{port}",
        "LOG_FORMAT": "json",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "semantik",
            "worker",
            "--pool=threads",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        # The endpoint opens as the worker starts; Semantik's series appear once its tasks are loaded.
        deadline = time.monotonic() + 90
        while "semantik_chunks_indexed_total" not in (samples := scrape(f"http://127.0.0.1:{port}/metrics")):
            assert worker.poll() is None and time.monotonic() < deadline, sorted(samples)
            time.sleep(0.5)
        assert "process_resident_memory_bytes" in samples
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=60)
    assert f"worker metrics on http://127.0.0.1:{port}/metrics" in output
