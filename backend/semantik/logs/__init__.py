"""Structured logs: JSON (or readable console) lines that carry the request id and the operation id."""
