"""The LOGGING dictionary settings.py hands to Django: format, level and the optional rotating file."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

FORMATS = ("json", "console")


def logging_config(
    level: str,
    log_format: str,
    log_dir: Path | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> dict[str, Any]:
    """Console output in `log_format`; with `log_dir`, also JSON lines in a rotating file there.

    The file is named after the host (`semantik-<hostname>.log`) so containers sharing one logs/
    folder never rotate each other's file.
    """
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {log_format!r}")
    handlers: dict[str, dict[str, Any]] = {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": log_format,
            "filters": ["correlation"],
        }
    }
    if log_dir is not None:
        handlers["file"] = {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(log_dir / f"semantik-{socket.gethostname()}.log"),
            "maxBytes": max_bytes,
            "backupCount": backups,
            "encoding": "utf-8",
            "delay": True,
            "formatter": "json",
            "filters": ["correlation"],
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": "semantik.logs.formatters.CorrelationFilter"}},
        "formatters": {
            "json": {"()": "semantik.logs.formatters.JsonFormatter"},
            "console": {"()": "semantik.logs.formatters.ConsoleFormatter"},
        },
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "httpx": {"level": "WARNING"},
        },
    }
