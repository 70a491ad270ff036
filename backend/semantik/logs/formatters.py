"""Log line formats: one JSON object per line for machines, an aligned line for people."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from semantik.logs import context

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "operation_id",
}
# uvicorn repeats each message with terminal colour codes, for its own formatter.
_LEFT_OUT = _STANDARD | {"color_message"}


# Credentials that must never reach a log line, wherever a message or a traceback carries them.
_SECRETS = [
    # An authorization scheme and its credential (long: "token bucket" is no credential).
    (re.compile(r"\b(Bearer|Api-Key|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{12,}", re.I), r"\1\2[redacted]"),
    (re.compile(r"\b(smk_[a-z0-9]{8})_[A-Za-z0-9_-]+"), r"\1_[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted JWT]"),
]
# Fields passed with `extra=` whose names say they hold a secret: their values are left out.
_SECRET_FIELD = re.compile(r"password|passwd|secret|token|authorization|api_?key|credential|cookie", re.I)


def redact(text: str) -> str:
    """`text` with bearer tokens, API keys and JWTs replaced by `[redacted]`."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class CorrelationFilter(logging.Filter):
    """Puts the current request id and operation id on every record (None where there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = context.request_id.get()
        if getattr(record, "operation_id", None) is None:
            record.operation_id = context.operation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "request_id"?, "operation_id"?, ..., "exception"?}` on one line.

    The ids appear only when set; fields passed with `extra=` are kept (as text when JSON has no
    type for them); a traceback is one string, so the line stays one line.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in ("request_id", "operation_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _LEFT_OUT and not key.startswith("_"):
                entry[key] = "[redacted]" if _SECRET_FIELD.search(key) else value
        entry["process"] = record.process
        entry["thread"] = record.threadName
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Extra fields of any type are redacted once they are text, as they will be written.
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class ConsoleFormatter(logging.Formatter):
    """`2026-11-25 04:00:00,123 INFO    semantik.run [req 3f2a… op 9c1b…]: message` for development."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(correlation)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [
            f"{label} {value}"
            for label, value in (
                ("req", getattr(record, "request_id", None)),
                ("op", getattr(record, "operation_id", None)),
            )
            if value
        ]
        record.correlation = f" [{' '.join(ids)}]" if ids else ""
        return redact(super().format(record))
