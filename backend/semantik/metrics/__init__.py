"""Prometheus metrics at GET /metrics: Semantik's own, and Triton's re-exposed beside them."""
