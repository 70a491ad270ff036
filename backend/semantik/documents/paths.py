"""Confinement to the document roots: every path Semantik reads is checked here first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class PathNotAllowed(ValueError):
    """The path lies outside every configured document root (after resolving symlinks)."""


def is_inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def is_allowed(path: Path, roots: Sequence[Path], off_limits: Sequence[Path] = ()) -> bool:
    """Whether a resolved path lies inside a root and outside every off-limits folder (both resolved)."""
    return is_inside(path, roots) and not is_inside(path, off_limits)


def confine(raw: str, roots: Sequence[Path], off_limits: Sequence[Path] = ()) -> Path:
    """Resolve `raw` (absolute, or relative to the first root) and refuse it unless inside a root.

    Resolution follows symlinks and `..` before the check, so neither can lead outside. A path
    inside one of `off_limits` (the upload folders, for a folder source) is refused too.
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
    for folder in off_limits:
        if is_inside(resolved, [folder.resolve()]):
            raise PathNotAllowed(
                f"{raw!r} is inside {folder}, which holds files sent through the API; "
                "send files to a collection with its uploads endpoint instead."
            )
    return resolved
