"""Reading compose files as Docker Compose does: YAML with its !reset/!override tags, ${...} defaults."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose-spec.json")


class Override(dict):  # type: ignore[type-arg]
    """A mapping tagged !override: it replaces the base file's instead of merging with it."""


class OverrideList(list):  # type: ignore[type-arg]
    """A sequence tagged !override."""


class Reset(dict):  # type: ignore[type-arg]
    """A value tagged !reset: the base file's is removed."""


class _Loader(yaml.SafeLoader):
    pass


def _tagged(kind: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            mapping = loader.construct_mapping(node, deep=True)
            return Override(mapping) if kind == "override" else Reset(mapping)
        if isinstance(node, yaml.SequenceNode):
            return OverrideList(loader.construct_sequence(node, deep=True))
        return loader.construct_scalar(node)  # type: ignore[arg-type]

    return construct


_Loader.add_constructor("!override", _tagged("override"))
_Loader.add_constructor("!reset", _tagged("reset"))


def load(name: str) -> dict[str, Any]:
    """A compose file of the repository as YAML data (anchors and merge keys resolved)."""
    data = yaml.load((ROOT / name).read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(data, dict)
    return data


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA.read_text())
    return loaded


_VARIABLE = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}"
)


def interpolate(value: Any, env: dict[str, str] | None = None) -> Any:
    """Replace ${VAR}, ${VAR:-default} and ${VAR:?error} as Compose does ($$ is a literal $)."""
    env = env or {}
    if isinstance(value, dict):
        return type(value)({key: interpolate(item, env) for key, item in value.items()})
    if isinstance(value, list):
        return type(value)(interpolate(item, env) for item in value)
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        if op in (":-", "-"):
            missing = current is None or (op == ":-" and current == "")
            return interpolate(arg, env) if missing else str(current)
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise KeyError(f"{name} is required: {arg}")
            return current
        return current or ""

    escaped = value.replace("$$", "\0")
    previous = None
    while previous != escaped:
        previous, escaped = escaped, _VARIABLE.sub(substitute, escaped)
    return escaped.replace("\0", "$")


def published_ports(service: dict[str, Any]) -> dict[int, tuple[str, str]]:
    """Container port -> (host address, host port or range), from the short syntax with defaults applied."""
    ports = {}
    for entry in interpolate(service.get("ports", [])):
        address, published, target = str(entry).rsplit(":", 2)
        ports[int(target)] = (address, published)
    return ports
