"""Extraction in worker processes: a time and memory bound for each file, and a pool that recovers."""

from __future__ import annotations

import io
import os
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from semantik.documents.extraction import Extracted, ExtractionError, extract
from semantik.documents.extraction_pool import ExtractionPool
from tests.documents.test_extraction import make_docx, make_pdf

MB = 2**20


def misbehave(data: bytes, name: str) -> Extracted:
    """`extract`, unless the file's name asks the worker to hang, hog memory, die or take its time.

    Runs in the worker processes, which import it from this module by name.
    """
    kind, _, rest = name.partition("-")
    if kind in ("hang", "die"):
        Path(data.decode()).write_text(str(os.getpid()))
    if kind == "hang":
        time.sleep(600)
    elif kind == "hog":
        hog = bytearray(2048 * MB)
        return Extracted(text=str(len(hog)), title="", mime_type="text/plain")
    elif kind == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind in ("slow", "pid"):
        started = time.time()
        time.sleep(0.4)
        return Extracted(text=f"{started} {time.time()} {os.getpid()}", title=rest, mime_type="text/plain")
    return extract(data, name)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("Tide tables for the harbour.")
    (tmp_path / "guide.docx").write_bytes(make_docx())
    (tmp_path / "book.pdf").write_bytes(make_pdf(["Page one.", "Page two."]))
    (tmp_path / "fake.pdf").write_text("not a pdf at all")
    return tmp_path


@pytest.fixture
def pool() -> Iterator[ExtractionPool]:
    with ExtractionPool(workers=2, timeout_s=1.5, memory_bytes=512 * MB, extractor=misbehave) as pool:
        yield pool


def gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_files_are_extracted_in_parallel_worker_processes(files: Path, pool: ExtractionPool) -> None:
    futures = [pool.submit(files / name, name) for name in ("notes.txt", "guide.docx", "book.pdf")]
    timed = [pool.submit(files / "notes.txt", f"pid-{i}") for i in range(4)]
    notes, guide, book = (future.result(timeout=30) for future in futures)
    assert notes.text == "Tide tables for the harbour."
    assert "Fee per night" in guide.text
    assert book.page_starts == (0, book.text.index("Page two."))
    spans = [tuple(float(x) for x in future.result(timeout=30).text.split()) for future in timed]
    pids = {int(pid) for _, _, pid in spans}
    assert len(pids) == 2 and os.getpid() not in pids
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a != b), "none overlapped"


def test_extraction_errors_come_back_with_their_reason(files: Path, pool: ExtractionPool) -> None:
    with pytest.raises(ExtractionError, match="named like a PDF but is not one"):
        pool.extract(files / "fake.pdf", "fake.pdf")
    with pytest.raises(ExtractionError, match="cannot be read"):
        pool.extract(files / "missing.txt", "missing.txt")


def test_a_file_over_the_time_limit_is_killed_and_the_pool_goes_on(files: Path, pool: ExtractionPool) -> None:
    pid_file = files / "hang.pid"
    pid_file.write_text("")
    (files / "hang.txt").write_text(str(pid_file))
    started = time.monotonic()
    hanging = pool.submit(files / "hang.txt", "hang-forever.txt")
    # These keep the other worker busy across the kill: any caught in it are run again.
    others = [pool.submit(files / "notes.txt", f"slow-{i}") for i in range(5)]
    with pytest.raises(ExtractionError, match=r"took longer than 1\.5 s"):
        hanging.result(timeout=30)
    assert time.monotonic() - started < 10
    assert gone(int(pid_file.read_text()))
    assert [future.result(timeout=30).title for future in others] == [str(i) for i in range(5)]
    assert pool.extract(files / "notes.txt", "notes.txt").text == "Tide tables for the harbour."


def test_a_call_may_set_its_own_time_limit(files: Path, pool: ExtractionPool) -> None:
    (files / "hang.txt").write_text(str(files / "hang.pid"))
    with pytest.raises(ExtractionError, match=r"took longer than 0\.3 s"):
        pool.extract(files / "hang.txt", "hang-briefly.txt", timeout_s=0.3)


def test_a_memory_hungry_file_fails_alone(files: Path, pool: ExtractionPool) -> None:
    hungry = pool.submit(files / "notes.txt", "hog-memory.txt")
    others = [pool.submit(files / "notes.txt", f"slow-{i}") for i in range(3)]
    with pytest.raises(ExtractionError, match="more than the 512 MB of memory"):
        hungry.result(timeout=30)
    assert [future.result(timeout=30).title for future in others] == ["0", "1", "2"]


def test_a_worker_that_dies_fails_only_its_own_file(files: Path, pool: ExtractionPool) -> None:
    (files / "die.txt").write_text(str(files / "die.pid"))
    others = [pool.submit(files / "notes.txt", f"slow-{i}") for i in range(2)]
    dying = pool.submit(files / "die.txt", "die-now.txt")
    more = [pool.submit(files / "book.pdf", "book.pdf") for _ in range(2)]
    with pytest.raises(ExtractionError, match="process died"):
        dying.result(timeout=30)
    assert [future.result(timeout=30).title for future in others] == ["0", "1"]
    assert all(future.result(timeout=30).page_starts for future in more)


def huge_docx() -> bytes:
    """A 4 MB DOCX of 1.5 million paragraphs: 66 MB of XML whose parsed tree needs far more."""
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    # Repeats farther apart than deflate's 32 KB window, so it compresses like real text.
    body = "".join(f"<w:p><w:r><w:t>line {i}</w:t></w:r></w:p>" for i in range(1000)) * 1500
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for member in source.namelist():
            content = source.read(member)
            if member == "word/document.xml":
                content = content.replace(b"<w:body>", b"<w:body>" + body.encode())
            archive.writestr(member, content)
    return out.getvalue()


def test_a_real_document_too_big_for_its_memory_fails_and_the_pool_goes_on(tmp_path: Path) -> None:
    (tmp_path / "huge.docx").write_bytes(huge_docx())
    with ExtractionPool(workers=1, timeout_s=20, memory_bytes=256 * MB) as pool:
        with pytest.raises(ExtractionError, match="needs more memory"):
            pool.extract(tmp_path / "huge.docx", "huge.docx")
        (tmp_path / "small.txt").write_text("still working")
        assert pool.extract(tmp_path / "small.txt", "small.txt").text == "still working"


def test_a_closed_pool_takes_no_more_files(files: Path) -> None:
    with ExtractionPool(workers=1, timeout_s=5, memory_bytes=512 * MB) as pool:
        assert pool.extract(files / "notes.txt", "notes.txt").title == "Tide tables for the harbour."
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(files / "notes.txt", "notes.txt")


def test_leaving_the_pool_on_an_error_stops_what_is_in_flight(files: Path) -> None:
    pid_file = files / "hang.pid"
    (files / "hang.txt").write_text(str(pid_file))
    started = time.monotonic()
    with (
        pytest.raises(RuntimeError, match="caller gave up"),
        ExtractionPool(workers=1, timeout_s=60, memory_bytes=512 * MB, extractor=misbehave) as pool,
    ):
        hanging = pool.submit(files / "hang.txt", "hang-forever.txt")
        waiting = pool.submit(files / "notes.txt", "notes.txt")
        while not (pid_file.exists() and pid_file.read_text()):
            time.sleep(0.05)
        raise RuntimeError("caller gave up")
    assert time.monotonic() - started < 10
    for future in (hanging, waiting):
        with pytest.raises(ExtractionError, match="cancelled"):
            future.result(timeout=1)
    assert gone(int(pid_file.read_text()))


def test_an_impossible_pool_is_refused() -> None:
    with pytest.raises(ValueError):
        ExtractionPool(workers=0, timeout_s=1, memory_bytes=512 * MB)
