"""Confinement to the document roots: every path Semantik reads is checked here first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class PathNotAllowed(ValueError):
    """The path lies outside every configured document root (after resolving symlinks)."""


def is_inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(raw: str, roots: Sequence[Path]) -> Path:
    """Resolve `raw` (absolute, or relative to the first root) and refuse it unless inside a root.

    Resolution follows symlinks and `..` before the check, so neither can lead outside.
    """
    if not raw or "\x00" in raw:
        raise PathNotAllowed("The path is empty or contains a NUL byte.")
    resolved_roots = [root.resolve() for root in roots]
    candidate = Path(raw).expanduser()
    if not candidate.is_absolute():
        candidate = resolved_roots[0] / candidate
    resolved = candidate.resolve()
    if not is_inside(resolved, resolved_roots):
        allowed = ", ".join(str(r) for r in resolved_roots)
        raise PathNotAllowed(
            f"{raw!r} is outside the document roots ({allowed}); set DOCUMENT_PATH to allow it."
        )
    return resolved
