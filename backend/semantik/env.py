"""Typed readers for settings that come from the environment (or from Docker secrets files)."""

from __future__ import annotations

import os
import re
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# A request rate as Django REST framework reads it: a count, then a period that starts with s/m/h/d.
_RATE = re.compile(r"^\d+/(s(ec(ond)?)?s?|m(in(ute)?)?s?|h(our)?s?|d(ay)?s?)$")


class SettingError(ValueError):
    """A setting in the environment is present but cannot be understood."""


def get_str(name: str, default: str = "") -> str:
    """The variable `name`, or the contents of the file named by `name_FILE`, or `default`.

    The `_FILE` form is how Docker and Kubernetes hand secrets over without putting them in the
    environment, where they would show up in `ps` and crash reports.
    """
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingError(f"{name}_FILE points at {file_name!r}, which cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def get_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def get_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingError(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is below its minimum of {minimum}")
    return value


def get_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingError(f"{name}={raw!r} is not a number") from exc


def get_list(name: str, default: list[str] | None = None, separator: str = ",") -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(separator) if item.strip()]


def get_paths(name: str, default: list[Path]) -> list[Path]:
    """Several filesystem paths, separated by the OS path separator (':' on Linux) like PATH."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]


def get_rate(name: str, default: str) -> str | None:
    """A request rate like "10/min" or "1000/hour"; "none" (or "off") means no limit."""
    raw = os.environ.get(name, default).strip().lower()
    if raw in {"none", "off"}:
        return None
    if not _RATE.match(raw):
        raise SettingError(f"{name}={raw!r} is not a rate (use e.g. 10/min, 500/hour, 10000/day or none)")
    return raw
