"""GET /metrics: Prometheus text for staff or the METRICS_TOKEN, with Triton's own metrics when it answers."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from semantik.inference.models import DEFAULT_MODEL
from semantik.inference.runtime import get_embedder
from semantik.stack.ports import find_free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client_for, make_user) -> APIClient:  # type: ignore[no-untyped-def]
    user = make_user("operator")
    user.is_staff = True
    user.save()
    return client_for(user)


def scrape(client: APIClient) -> dict[str, float]:
    """Every sample of a scrape as 'name{labels}' -> value; the text must parse as a whole."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_staff_read_the_metrics(staff):  # type: ignore[no-untyped-def]
    assert any(name.startswith("process_") for name in scrape(staff))


def test_a_metrics_token_reads_them_without_a_user(client, settings):  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = "prometheus-secret"
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer prometheus-secret"
    assert scrape(client)


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong-token", 401), ("Basic cHJvbWV0aGV1czpzZWNyZXQ=", 401)],
)
def test_anyone_else_is_refused_in_the_one_error_shape(client, settings, authorization, status):  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = "prometheus-secret"
    if authorization:
        client.defaults["HTTP_AUTHORIZATION"] = authorization
    response = client.get("/metrics")
    assert response.status_code == status
    assert set(response.json()["error"]) >= {"code", "message"}


def test_a_user_who_is_not_staff_is_forbidden(api, settings):  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = None
    response = api.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json()["error"]["message"]


def test_requests_are_timed_by_route_not_by_path(api, staff):  # type: ignore[no-untyped-def]
    api.get("/api/v2/collections")
    api.get("/api/v2/collections/00000000-0000-0000-0000-000000000000")
    samples = scrape(staff)
    listed = 'semantik_http_request_seconds_count{method="GET",route="api/v2/collections",status="200"}'
    detail = (
        'semantik_http_request_seconds_count{method="GET",'
        'route="api/v2/collections/<uuid:collection_id>",status="404"}'
    )
    assert samples[listed] >= 1 and samples[detail] >= 1


def test_inference_is_measured_per_model_and_kind(staff, models, settings):  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "onnx"
    get_embedder(DEFAULT_MODEL).embed_queries(["where are my invoices?"])
    labels = f'backend="onnx",kind="embedding",model="{DEFAULT_MODEL}"'
    samples = scrape(staff)
    assert samples[f"semantik_inference_request_seconds_count{{{labels}}}"] >= 1
    assert samples[f"semantik_inference_batch_size_count{{{labels}}}"] >= 1


def test_active_operations_and_queued_tasks_are_read_when_scraped(  # type: ignore[no-untyped-def]
    api, user, staff, models, documents_root, settings
):
    import redis

    from semantik.collections.models import Collection
    from semantik.documents.services import source_add

    created = api.post("/api/v2/collections", {"name": "Busy"}, format="json").json()
    source_add(collection=Collection.objects.get(pk=created["id"]), path=str(documents_root), user=user)
    queue = redis.Redis.from_url(settings.REDIS_URL)
    queue.rpush(settings.CELERY_TASK_DEFAULT_QUEUE, b"one", b"two")
    try:
        samples = scrape(staff)
    finally:
        queue.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
        queue.close()
    assert samples['semantik_operations_active{status="pending",type="index"}'] == 1
    assert samples["semantik_celery_queue_length{}"] == 2


def test_without_a_triton_metrics_url_triton_is_left_out(staff, settings):  # type: ignore[no-untyped-def]
    settings.TRITON_METRICS_URL = None
    samples = scrape(staff)
    assert not [name for name in samples if name.startswith(("nv_", "semantik_triton_metrics_up"))]


def test_a_triton_that_does_not_answer_is_left_out_quickly(staff, settings):  # type: ignore[no-untyped-def]
    settings.TRITON_METRICS_URL = f"http://127.0.0.1:{find_free_port()}/metrics"
    started = time.monotonic()
    samples = scrape(staff)
    assert time.monotonic() - started < 5
    assert samples["semantik_triton_metrics_up{}"] == 0
    assert not [name for name in samples if name.startswith("nv_")]


@pytest.mark.triton
def test_tritons_own_metrics_and_model_load_times_are_re_exposed(staff, triton, settings):  # type: ignore[no-untyped-def]
    settings.TRITON_METRICS_URL = triton.metrics_url
    with get_embedder_for(triton) as embedder:
        embedder.embed(["hello"])
    samples = scrape(staff)
    assert samples["semantik_triton_metrics_up{}"] == 1
    # Triton's lines as Triton wrote them (the parser would call this counter nv_inference_count_total).
    text = staff.get("/metrics").content.decode()
    count = next(
        line for line in text.splitlines() if line.startswith(f'nv_inference_count{{model="{DEFAULT_MODEL}"')
    )
    assert float(count.rsplit(" ", 1)[1]) >= 1
    load = samples[f'semantik_triton_model_load_seconds{{model="{DEFAULT_MODEL}"}}']
    assert load == pytest.approx(triton.load_seconds[DEFAULT_MODEL])


def get_embedder_for(server):  # type: ignore[no-untyped-def]
    from semantik.inference.triton import TritonEmbedder

    return TritonEmbedder(server.grpc_url, DEFAULT_MODEL, server.repository / DEFAULT_MODEL)
