"""JSON log lines: one object per line with the request and operation ids; readable console lines."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from pathlib import Path

from semantik.logs import context
from semantik.logs.formatters import ConsoleFormatter, CorrelationFilter, JsonFormatter
from tests.logs.capture import json_lines

log = logging.getLogger("tests.logs")


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    with json_lines("tests.logs") as lines:
        log.warning("indexed %d files from %s", 3, "docs", extra={"collection": "c1", "path": Path("/x")})
    (entry,) = lines.entries
    assert entry["level"] == "WARNING" and entry["logger"] == "tests.logs"
    assert entry["message"] == "indexed 3 files from docs"
    assert datetime.fromisoformat(entry["ts"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    # Fields given with extra= are kept; what JSON cannot hold becomes text.
    assert entry["collection"] == "c1" and entry["path"] == "/x"
    assert "request_id" not in entry and "operation_id" not in entry


def test_a_traceback_stays_inside_its_line() -> None:
    with json_lines("tests.logs") as lines:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            log.exception("it failed")
    (entry,) = lines.entries
    assert entry["message"] == "it failed"
    assert entry["exception"].startswith("Traceback") and "ValueError: bad\nthing" in entry["exception"]


def test_lines_carry_the_request_and_operation_ids_of_their_context() -> None:
    with json_lines("tests.logs") as lines:
        with context.bound(context.request_id, "req-1"):
            log.info("in the request")
            with context.operation("op-7"):
                log.info("in the operation")
            log.info("after the operation")
        log.info("outside")
    ids = [(e.get("request_id"), e.get("operation_id")) for e in lines.entries]
    assert ids == [("req-1", None), ("req-1", "op-7"), ("req-1", None), (None, None)]


def test_a_thread_has_the_ids_only_when_started_with_its_parents_context() -> None:
    import contextvars

    seen: dict[str, str | None] = {}
    with context.operation("op-9"):

        def look(key: str) -> None:
            seen[key] = context.operation_id.get()

        plain = threading.Thread(target=look, args=("plain",))
        copied = threading.Thread(target=contextvars.copy_context().run, args=(look, "copied"))
        plain.start(), copied.start()
        plain.join(), copied.join()
    assert seen == {"plain": None, "copied": "op-9"}


def test_ids_given_explicitly_are_not_overwritten() -> None:
    record = logging.makeLogRecord({"msg": "x", "request_id": "given"})
    with context.bound(context.request_id, "ambient"):
        CorrelationFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "given"


def test_console_lines_are_readable_and_show_the_ids_when_there_are_some() -> None:
    formatter, correlation = ConsoleFormatter(), CorrelationFilter()
    record = logging.makeLogRecord({"name": "semantik.run", "levelname": "INFO", "msg": "serving"})
    correlation.filter(record)
    assert formatter.format(record).endswith(" INFO    semantik.run: serving")
    with context.bound(context.request_id, "abc"), context.operation("42"):
        record = logging.makeLogRecord({"name": "semantik.run", "levelname": "INFO", "msg": "serving"})
        correlation.filter(record)
    assert formatter.format(record).endswith(" INFO    semantik.run [req abc op 42]: serving")


def test_uvicorns_coloured_copy_of_the_message_is_left_out() -> None:
    record = logging.makeLogRecord({"msg": "Started", "color_message": "\x1b[36mStarted\x1b[0m"})
    assert "color_message" not in json.loads(JsonFormatter().format(record))
