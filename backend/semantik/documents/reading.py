"""Reading a document's bytes: still inside the roots when opened, a regular file, within its size limit.

A scan checks a file's place once; by the time it is read, a symlink may have been swapped to
lead outside the roots, or the file replaced by a FIFO (whose open would block forever) or a
device (whose read never ends). The checks here are made on the file actually opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from semantik.documents.extraction import ExtractionError
from semantik.documents.paths import is_allowed

BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class Confinement:
    """Where a file must really lie when it is opened, and how many bytes it may hold."""

    roots: tuple[Path, ...]
    off_limits: tuple[Path, ...] = ()
    max_bytes: int | None = None

    @classmethod
    def of(
        cls, roots: Sequence[Path], off_limits: Sequence[Path] = (), max_bytes: int | None = None
    ) -> Confinement:
        return cls(
            tuple(root.resolve() for root in roots), tuple(path.resolve() for path in off_limits), max_bytes
        )


def open_confined(path: Path, confinement: Confinement | None) -> BinaryIO:
    """`path` opened for reading, once the opened file shows it is a regular file inside the roots.

    Raises ExtractionError with the reason otherwise.
    """
    try:
        # O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting for one.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ExtractionError(
            "The file cannot be read: it no longer exists (removed or renamed since the scan)."
        ) from None
    except OSError as exc:
        raise ExtractionError(f"The file cannot be read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ExtractionError("The file is not a regular file any more (a FIFO, device or folder).")
        if confinement is not None:
            real = _real_path(descriptor, path)
            if not is_allowed(real, confinement.roots, confinement.off_limits):
                raise ExtractionError("The file now leads outside the document roots, so it is not read.")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _real_path(descriptor: int, path: Path) -> Path:
    """Where the opened file is: Linux names it under /proc, whatever symlinks led to it."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{descriptor}"))
    except OSError:  # no /proc (macOS): the path as resolved now, a narrower race than none
        return path.resolve()


def _over(confinement: Confinement | None, read: int) -> bool:
    return confinement is not None and confinement.max_bytes is not None and read > confinement.max_bytes


def _too_big(confinement: Confinement) -> ExtractionError:
    return ExtractionError(
        f"The file grew past the {confinement.max_bytes}-byte limit while it was being read."
    )


def read_confined(path: Path, confinement: Confinement | None) -> bytes:
    """The file's bytes, read through `open_confined`, never more than the limit."""
    limit = None if confinement is None or confinement.max_bytes is None else confinement.max_bytes + 1
    with open_confined(path, confinement) as handle:
        try:
            data = handle.read() if limit is None else handle.read(limit)
        except OSError as exc:
            raise ExtractionError(f"The file cannot be read: {exc.strerror or exc}") from None
    if _over(confinement, len(data)):
        assert confinement is not None
        raise _too_big(confinement)
    return data


def sha256_confined(path: Path, confinement: Confinement | None) -> str:
    """The SHA-256 of the file's bytes, read as `read_confined` reads them, in blocks."""
    digest = hashlib.sha256()
    read = 0
    with open_confined(path, confinement) as handle:
        try:
            while block := handle.read(BLOCK_BYTES):
                read += len(block)
                if _over(confinement, read):
                    assert confinement is not None
                    raise _too_big(confinement)
                digest.update(block)
        except OSError as exc:
            raise ExtractionError(f"The file cannot be read: {exc.strerror or exc}") from None
    return digest.hexdigest()
