"""Walking a source folder: which files are documents, found without leaving the document roots."""

from __future__ import annotations

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


def scan(folder: Path, roots: Sequence[Path]) -> Iterator[ScannedFile]:
    """Every supported, non-hidden file under `folder`, in a stable order.

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
                relative_path=path.relative_to(folder).as_posix(),
                size=stat.st_size,
                mtime=stat.st_mtime,
            )
