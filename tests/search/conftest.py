"""Search fixtures: every test resolves collection models afresh."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from semantik.search.embedding import forget_models


@pytest.fixture(autouse=True)
def _fresh_model_resolution() -> Iterator[None]:
    forget_models()
    yield
    forget_models()
