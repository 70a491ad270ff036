"""Reading a document's bytes: checked on the file actually opened, never past its size limit."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from semantik.documents.extraction import ExtractionError
from semantik.documents.reading import Confinement, read_confined, sha256_confined


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


def confined(root: Path, max_bytes: int | None = None) -> Confinement:
    return Confinement.of([root], max_bytes=max_bytes)


def test_a_file_inside_the_roots_is_read_and_hashed(root: Path) -> None:
    (root / "a.txt").write_bytes(b"harbour")
    assert read_confined(root / "a.txt", confined(root)) == b"harbour"
    assert sha256_confined(root / "a.txt", confined(root)) == hashlib.sha256(b"harbour").hexdigest()


def test_a_symlink_inside_the_roots_is_followed(root: Path) -> None:
    (root / "target.txt").write_bytes(b"inside")
    (root / "link.txt").symlink_to(root / "target.txt")
    assert read_confined(root / "link.txt", confined(root)) == b"inside"


def test_a_symlink_swapped_to_lead_outside_is_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    (root / "doc.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ExtractionError, match="outside the document roots"):
        read_confined(root / "doc.txt", confined(root))
    with pytest.raises(ExtractionError, match="outside the document roots"):
        sha256_confined(root / "doc.txt", confined(root))


def test_a_folder_symlinked_out_of_the_roots_is_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "doc.txt").write_text("outside")
    (root / "folder").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ExtractionError, match="outside"):
        read_confined(root / "folder" / "doc.txt", confined(root))


def test_a_fifo_is_refused_at_once_instead_of_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe.txt")
    with pytest.raises(ExtractionError, match="not a regular file"):
        read_confined(root / "pipe.txt", confined(root))


def test_a_device_is_refused(root: Path) -> None:
    (root / "zero.txt").symlink_to("/dev/zero")
    with pytest.raises(ExtractionError, match="not a regular file"):
        read_confined(root / "zero.txt", None)


def test_a_file_over_the_limit_is_never_read_whole(root: Path) -> None:
    (root / "big.txt").write_bytes(b"x" * 1000)
    assert len(read_confined(root / "big.txt", confined(root, max_bytes=1000))) == 1000
    with pytest.raises(ExtractionError, match="grew past the 999-byte limit"):
        read_confined(root / "big.txt", confined(root, max_bytes=999))
    with pytest.raises(ExtractionError, match="grew past"):
        sha256_confined(root / "big.txt", confined(root, max_bytes=999))


def test_a_missing_file_says_it_is_gone(root: Path) -> None:
    with pytest.raises(ExtractionError, match="no longer exists"):
        read_confined(root / "gone.txt", confined(root))


def test_a_file_that_may_not_be_read_says_why(root: Path) -> None:
    from tests.reliability.privileges import without_file_permission_override

    (root / "locked.txt").write_text("private")
    (root / "locked.txt").chmod(0)
    with pytest.raises(ExtractionError, match="Permission denied"):
        without_file_permission_override(lambda: read_confined(root / "locked.txt", confined(root)))
