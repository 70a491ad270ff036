"""Fixtures shared by the whole suite: users, API clients, a live ASGI server, a Celery worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import uvicorn
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from semantik.celery import app as celery_app
from semantik.inference.runtime import reset_embedders
from semantik.stack.ports import find_free_port
from semantik.vectors import reset_vector_store

pytest_plugins = ["semantik.testing.triton"]


@pytest.fixture(autouse=True)
def _fresh_adapters(tmp_path: Path, settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Each test gets its own embedded Qdrant and re-reads inference settings."""
    settings.QDRANT_PATH = tmp_path / "qdrant"
    reset_vector_store()
    reset_embedders()
    yield
    reset_vector_store()
    reset_embedders()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with no request history, so one test's requests never throttle the next.

    Only this session's throttle keys go (the cache prefix is per session): never a FLUSHDB on a
    Redis database that other test runs share.
    """
    client = redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])
    try:
        keys = list(client.scan_iter(match=cache.make_key("throttle_*"), count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def documents_root(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "documents"
    root.mkdir()
    settings.DOCUMENT_PATH = [root.resolve()]
    return root.resolve()


@pytest.fixture
def upload_root(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    root = (tmp_path / "uploads").resolve()
    settings.UPLOAD_ROOT = root
    return root


@pytest.fixture
def make_user(django_user_model):  # type: ignore[no-untyped-def]
    def make(username: str = "alice", password: str = "correct horse battery staple"):  # type: ignore[no-untyped-def]
        return django_user_model.objects.create_user(username=username, password=password)

    return make


@pytest.fixture
def user(make_user):  # type: ignore[no-untyped-def]
    return make_user()


def access_token_for(user) -> str:  # type: ignore[no-untyped-def]
    # An access token alone touches no database (a refresh token is recorded as outstanding), so
    # async tests can call this too.
    return str(AccessToken.for_user(user))


@pytest.fixture
def client_for():  # type: ignore[no-untyped-def]
    def make(user) -> APIClient:  # type: ignore[no-untyped-def]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        return client

    return make


@pytest.fixture
def api(client_for, user) -> APIClient:  # type: ignore[no-untyped-def]
    return client_for(user)


@pytest.fixture
def triton(triton_server, settings):  # type: ignore[no-untyped-def]
    """Point Semantik at the session's real Triton server."""
    settings.INFERENCE_BACKEND = "triton"
    settings.TRITON_URL = triton_server.grpc_url
    reset_embedders()
    return triton_server


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A real Celery worker consuming from the real Redis broker, in a thread of this process.

    In-process because the embedded Qdrant can be opened by one process only, exactly as in
    `semantik run`.
    """
    with start_worker(
        celery_app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
    ) as worker:
        yield worker


class LiveServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"


@pytest.fixture
def live_server_asgi(transactional_db) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The real ASGI application served by uvicorn on a free loopback port."""
    from semantik.asgi import application

    port = find_free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield LiveServer(port)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def models(model_repository, settings) -> Path:  # type: ignore[no-untyped-def]
    """The exported default model, where Semantik looks for models."""
    settings.MODEL_REPOSITORY = model_repository
    return model_repository


@pytest.fixture(scope="session")
def reranker_models(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model repository with the default embedding model and a tiny random-weight cross-encoder,
    exported (and verified) by the real export code as the reranker "tiny-reranker"."""
    from semantik.inference.export import export_model
    from semantik.inference.models import DEFAULT_MODEL
    from tests.inference.tiny_models import TINY_RERANKER, save_cross_encoder

    repository = tmp_path_factory.mktemp("models-with-reranker")
    (repository / DEFAULT_MODEL).symlink_to(model_repository / DEFAULT_MODEL, target_is_directory=True)
    source = save_cross_encoder(tmp_path_factory.mktemp("cross-encoder") / TINY_RERANKER)
    export_model(source, repository, name=TINY_RERANKER)
    return repository


@pytest.fixture
def reranker(reranker_models: Path, settings) -> str:  # type: ignore[no-untyped-def]
    """Semantik running every model in-process from the repository holding the tiny reranker; its name."""
    from tests.inference.tiny_models import TINY_RERANKER

    settings.MODEL_REPOSITORY = reranker_models
    settings.INFERENCE_BACKEND = "onnx"
    reset_embedders()
    return TINY_RERANKER
