"""Triton's own Prometheus metrics (inference counts, queue and compute times), fetched for /metrics."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT_S = 2.0
MAX_BYTES = 8 * 1024 * 1024


def triton_metrics(url: str, timeout_s: float = SCRAPE_TIMEOUT_S) -> str | None:
    """Triton's metrics text as it serves it, or None when it does not answer well within the timeout.

    The text is checked to parse, so a broken answer cannot spoil the rest of /metrics.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body: bytes = response.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.info("metrics: Triton's metrics at %s are unavailable: %s", url, exc)
        return None
    if len(body) > MAX_BYTES:
        log.warning("metrics: Triton's metrics at %s exceed %d bytes; left out", url, MAX_BYTES)
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        for _ in text_string_to_metric_families(text):
            pass
    except Exception:  # noqa: BLE001 - the parser raises plain ValueErrors and worse on garbage
        log.warning("metrics: Triton's metrics at %s do not parse; left out", url, exc_info=True)
        return None
    return text if text.endswith("\n") else text + "\n"
