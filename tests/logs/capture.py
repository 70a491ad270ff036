"""A handler that formats records as the deployment does (CorrelationFilter + JsonFormatter), for tests."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

from semantik.logs.formatters import CorrelationFilter, JsonFormatter


class JsonLines:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def entries(self) -> list[dict[str, Any]]:
        # Every line must parse on its own: that is what a log shipper does.
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@contextlib.contextmanager
def json_lines(logger: str = "", level: int = logging.DEBUG) -> Iterator[JsonLines]:
    """Every record reaching `logger` (root by default) while the block runs, as parsed JSON lines."""
    lines = JsonLines()
    handler = logging.StreamHandler(lines.stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    target = logging.getLogger(logger)
    previous = target.level
    target.addHandler(handler)
    target.setLevel(level)
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
