"""Walking a source folder: which files are documents, found without leaving the document roots."""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from semantik.documents.extraction import is_supported
from semantik.documents.paths import is_inside

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScannedFile:
    path: Path
    relative_path: str
    size: int
    mtime: float


def matches(relative_path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a path passes the source's globs (`*` also crosses folders, as in `notes/*.md`)."""
    if include and not any(fnmatch.fnmatchcase(relative_path, pattern) for pattern in include):
        return False
    return not any(fnmatch.fnmatchcase(relative_path, pattern) for pattern in exclude)


def scan(
    folder: Path, roots: Sequence[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Iterator[ScannedFile]:
    """Every supported, non-hidden file under `folder` that passes the globs, in a stable order.

    Directory symlinks are not followed (they can form loops); file symlinks are followed only
    when their target is still inside a document root.
    """
    resolved_roots = [root.resolve() for root in roots]
    for directory, subdirectories, files in os.walk(folder, followlinks=False):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not is_supported(name):
                continue
            path = Path(directory) / name
            relative_path = path.relative_to(folder).as_posix()
            if not matches(relative_path, include, exclude):
                continue
            try:
                target = path.resolve(strict=True)
                if not is_inside(target, resolved_roots) or not target.is_file():
                    logger.info("Skipping %s: it leads outside the document roots", path)
                    continue
                stat = target.stat()
            except OSError as exc:
                logger.info("Skipping %s: %s", path, exc)
                continue
            yield ScannedFile(
                path=path,
                relative_path=relative_path,
                size=stat.st_size,
                mtime=stat.st_mtime,
            )
