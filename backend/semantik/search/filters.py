"""Search filters: what a request may narrow to, as conditions Qdrant applies before ranking.

Path prefixes, file types, date ranges and document ids become payload conditions the engine
evaluates with its indexes, so a filtered search ranks only matching chunks. A path glob becomes
the conditions it implies (its literal prefix and the literal runs it must contain, or the exact
path when it has no wildcard); when that does not say all of it, each hit is also checked against
the glob itself, and the search fetches more until it has enough or the collection has no more.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from semantik.vectors.base import PointFilter

# Literal runs shorter than this narrow too little to be worth a substring condition.
_MIN_SUBSTRING = 2

PayloadCheck = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class SearchFilters:
    """What a search is limited to; every filter given must hold.

    Paths are the document's path relative to its source, case-sensitive. A glob has the same
    meaning as a source's include globs: `*` matches any characters, `/` included, so `notes/*.md`
    also matches notes/2024/june.md. A mime type ending in `/*` matches the whole family
    (`text/*`). Dates bound the file's modification time: from `modified_after` (inclusive) to
    `modified_before` (exclusive).
    """

    path_prefix: str | None = None
    path_glob: str | None = None
    mime_types: tuple[str, ...] | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    document_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CompiledFilters:
    """The conditions for the engine, and the check each hit must also pass (None: nothing left to check)."""

    where: PointFilter | None
    check: PayloadCheck | None


NO_FILTERS = CompiledFilters(None, None)


def compile_filters(filters: SearchFilters | None) -> CompiledFilters:
    if filters is None or filters == SearchFilters():
        return NO_FILTERS
    paths: tuple[str, ...] | None = None
    prefix = filters.path_prefix or ""
    substrings: tuple[str, ...] = ()
    check: PayloadCheck | None = None
    if filters.path_glob is not None:
        glob = glob_conditions(filters.path_glob)
        if glob.exact is not None:
            paths = (glob.exact,) if glob.exact.startswith(prefix) else ()
        elif glob.prefix.startswith(prefix) or prefix.startswith(glob.prefix):
            prefix = max(prefix, glob.prefix, key=len)
            substrings = glob.substrings
            if not glob.complete:
                pattern = filters.path_glob
                check = lambda payload: fnmatch.fnmatchcase(str(payload.get("path", "")), pattern)  # noqa: E731
        else:
            paths = ()  # no path starts with both the prefix and the glob's literal start
    mime_types: tuple[str, ...] | None = None
    mime_prefixes: tuple[str, ...] = ()
    if filters.mime_types is not None:
        mime_types = tuple(t for t in filters.mime_types if not t.endswith("/*"))
        mime_prefixes = tuple(t[:-1] for t in filters.mime_types if t.endswith("/*"))
    where = PointFilter(
        document_ids=filters.document_ids,
        paths=paths,
        path_prefix=prefix or None,
        path_substrings=substrings,
        mime_types=mime_types,
        mime_prefixes=mime_prefixes,
        modified_from=filters.modified_after.timestamp() if filters.modified_after else None,
        modified_before=filters.modified_before.timestamp() if filters.modified_before else None,
    )
    return CompiledFilters(where, check)


@dataclass(frozen=True)
class GlobConditions:
    """What a glob implies about a path: exactly one path, or a prefix and substrings it must hold.

    `complete` is True when the prefix alone is the whole glob (`docs/*`), so no hit needs a check.
    """

    exact: str | None
    prefix: str
    substrings: tuple[str, ...]
    complete: bool


def glob_conditions(pattern: str) -> GlobConditions:
    """Split an fnmatch glob into its literal runs and wildcards and say what a matching path must hold."""
    runs: list[str] = []  # literal runs, in order
    wildcards: list[str] = []  # the wildcard after each run: "*", "?" or "[" (a class)
    literal: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in "*?":
            runs.append("".join(literal))
            wildcards.append(char)
            literal = []
            i += 1
            continue
        if char == "[":
            end = _class_end(pattern, i)
            if end is not None:
                runs.append("".join(literal))
                wildcards.append("[")
                literal = []
                i = end + 1
                continue
        literal.append(char)
        i += 1
    runs.append("".join(literal))
    if not wildcards:
        return GlobConditions(exact=runs[0], prefix=runs[0], substrings=(), complete=True)
    complete = wildcards == ["*"] and runs[1] == ""
    inner = tuple(dict.fromkeys(run for run in runs[1:] if len(run) >= _MIN_SUBSTRING))
    return GlobConditions(exact=None, prefix=runs[0], substrings=inner, complete=complete)


def _class_end(pattern: str, start: int) -> int | None:
    """Where fnmatch's character class opening at `start` closes, or None if it never does."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "!":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    end = pattern.find("]", i)
    return None if end < 0 else end
