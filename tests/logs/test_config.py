"""LOGGING: the format chosen by LOG_FORMAT, and JSON lines in a rotating file under LOG_DIR."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from semantik.logs import context
from semantik.logs.config import logging_config

ROOT = Path(__file__).resolve().parents[2]


def apply_to(logger_name: str, config: dict[str, Any]) -> logging.Logger:
    """The config's root setup applied to one logger instead, so the test leaves the real root alone."""
    config = {**config, "loggers": {logger_name: {**config["root"], "propagate": False}}}
    del config["root"]
    logging.config.dictConfig(config)
    return logging.getLogger(logger_name)


def close(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def test_log_dir_adds_a_rotating_file_of_json_lines(tmp_path: Path) -> None:
    config = logging_config("INFO", "console", tmp_path, max_bytes=2000, backups=2)
    logger = apply_to("tests.logs.file", config)
    try:
        with context.operation("op-1"):
            for number in range(60):
                logger.info("line %d %s", number, "x" * 50)
        logger.debug("below the level")
    finally:
        close(logger)
    files = sorted(tmp_path.iterdir())
    stem = files[0].name.split(".log")[0]
    assert stem.startswith("semantik-")
    # Rotated at 2000 bytes, two old files kept.
    assert [f.name for f in files] == [f"{stem}.log", f"{stem}.log.1", f"{stem}.log.2"]
    assert all(f.stat().st_size <= 2000 for f in files)
    last = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert last[-1]["message"].startswith("line 59 ") and last[-1]["operation_id"] == "op-1"
    assert all(entry["level"] == "INFO" for entry in last)


def test_without_log_dir_there_is_only_the_console() -> None:
    config = logging_config("WARNING", "json")
    assert list(config["handlers"]) == ["console"]
    assert config["handlers"]["console"]["formatter"] == "json"
    assert config["root"]["level"] == "WARNING"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="json, console"):
        logging_config("INFO", "xml")


def settings_of(**environment: str) -> subprocess.CompletedProcess[str]:
    probe = "from django.conf import settings as s; print(s.LOG_FORMAT, s.LOG_DIR)"
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "backend"),
        "DJANGO_SETTINGS_MODULE": "semantik.settings",
        "SECRET_KEY": "x" * 50,
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_format_defaults_to_json_in_production_and_console_in_development(tmp_path: Path) -> None:
    assert settings_of(DEBUG="false", DATA_DIR=str(tmp_path)).stdout.split() == ["json", "None"]
    assert settings_of(DEBUG="true", DATA_DIR=str(tmp_path)).stdout.split() == ["console", "None"]
    logs = tmp_path / "logs"
    chosen = settings_of(DEBUG="false", LOG_FORMAT="console", LOG_DIR=str(logs))
    assert chosen.stdout.split() == ["console", str(logs)]
    assert logs.is_dir()
    refused = settings_of(LOG_FORMAT="xml", DATA_DIR=str(tmp_path))
    assert refused.returncode != 0 and "LOG_FORMAT='xml' is not one of json, console" in refused.stderr
