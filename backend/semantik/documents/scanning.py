"""Walking a source folder: which files are documents, found without leaving the document roots."""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from semantik.documents.extraction import is_supported
from semantik.documents.paths import is_allowed, is_inside

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScannedFile:
    path: Path
    # Always valid UTF-8: a name that is not keeps its stray bytes as `\xNN` (see `problem`).
    relative_path: str
    size: int
    mtime: float
    # Why the file cannot be a document although it is one by name; it fails with this reason.
    problem: str = ""


def shown(path: str | os.PathLike[str]) -> str:
    r"""`path` as text that can be stored and sent: bytes that are not UTF-8 written as `\xNN`."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def matches(relative_path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a path passes the source's globs (`*` also crosses folders, as in `notes/*.md`)."""
    if include and not any(fnmatch.fnmatchcase(relative_path, pattern) for pattern in include):
        return False
    return not any(fnmatch.fnmatchcase(relative_path, pattern) for pattern in exclude)


def scan(
    folder: Path,
    roots: Sequence[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    off_limits: Sequence[Path] = (),
) -> Iterator[ScannedFile]:
    """Every supported, non-hidden file under `folder` that passes the globs, in a stable order.

    Directory symlinks are not followed (they can form loops); file symlinks are followed only
    when their target is still inside a document root. Nothing inside `off_limits` is read.
    """
    resolved_roots = [root.resolve() for root in roots]
    resolved_off_limits = [path.resolve() for path in off_limits]
    skipped_directories = {str(path) for path in resolved_off_limits}

    def unreadable(error: OSError) -> None:
        # A folder that cannot be listed (permissions) loses its files from the scan: say so.
        logger.warning("Skipping the folder %s: %s", shown(error.filename or ""), error.strerror or error)

    for directory, subdirectories, files in os.walk(folder, onerror=unreadable, followlinks=False):
        subdirectories[:] = sorted(
            d
            for d in subdirectories
            if not d.startswith(".") and os.path.join(directory, d) not in skipped_directories
        )
        for name in sorted(files):
            path = Path(directory) / name
            found = _scanned(folder, path, resolved_roots, include, exclude, resolved_off_limits)
            if found is not None:
                yield found


def scan_one(
    folder: Path,
    relative_path: str,
    roots: Sequence[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    off_limits: Sequence[Path] = (),
) -> ScannedFile | None:
    """The one file `relative_path` of `folder`, if `scan` would find it there now; else None."""
    parts = PurePosixPath(relative_path).parts
    if not parts or any(part in {"", ".", ".."} or part.startswith(".") for part in parts):
        return None
    resolved_roots = [root.resolve() for root in roots]
    resolved_off_limits = [path.resolve() for path in off_limits]
    # The folders on the way are walked as `scan` walks them: never through a directory symlink.
    directory = folder
    for part in parts[:-1]:
        directory = directory / part
        if directory.is_symlink() or not directory.is_dir() or is_inside(directory, resolved_off_limits):
            return None
    return _scanned(folder, folder.joinpath(*parts), resolved_roots, include, exclude, resolved_off_limits)


def _scanned(
    folder: Path,
    path: Path,
    roots: Sequence[Path],
    include: Sequence[str],
    exclude: Sequence[str],
    off_limits: Sequence[Path],
) -> ScannedFile | None:
    """`path` as a document of `folder`, or None when it is hidden, unsupported, filtered or escapes."""
    if path.name.startswith(".") or not is_supported(path.name):
        return None
    relative_path = path.relative_to(folder).as_posix()
    if not matches(relative_path, include, exclude):
        return None
    try:
        target = path.resolve(strict=True)
        if not is_allowed(target, roots, off_limits) or not target.is_file():
            logger.info("Skipping %s: it leads outside the document roots or is no regular file", shown(path))
            return None
        stat = target.stat()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop, before Python 3.13
        logger.info("Skipping %s: %s", shown(path), exc)
        return None
    problem = ""
    if shown(relative_path) != relative_path:
        # Such a name cannot be stored (PostgreSQL holds UTF-8) nor found again from what is stored.
        relative_path = shown(relative_path)
        problem = f"The file name {relative_path!r} is not valid UTF-8; rename the file to index it."
    return ScannedFile(path, relative_path, size=stat.st_size, mtime=stat.st_mtime, problem=problem)
