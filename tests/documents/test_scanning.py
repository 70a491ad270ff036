"""Walking a source folder."""

from __future__ import annotations

from pathlib import Path

from semantik.documents.scanning import scan, scan_one


def test_scan_finds_supported_files_recursively_and_skips_hidden_ones(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.md").write_text("b")
    (tmp_path / "sub" / "c.html").write_text("<p>c</p>")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".secret.txt").write_text("x")
    (tmp_path / ".hidden" / "d.txt").write_text("d")
    found = [f.relative_path for f in scan(tmp_path, [tmp_path])]
    assert found == ["a.txt", "sub/b.md", "sub/c.html"]


def test_scan_skips_file_symlinks_that_lead_outside_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    (root / "inside.txt").write_text("fine")
    (root / "escape.txt").symlink_to(tmp_path / "outside.txt")
    (root / "alias.txt").symlink_to(root / "inside.txt")
    found = [f.relative_path for f in scan(root, [root])]
    assert found == ["alias.txt", "inside.txt"]


def test_scan_survives_a_directory_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    (tmp_path / "a" / "x.txt").write_text("x")
    assert [f.relative_path for f in scan(tmp_path, [tmp_path])] == ["a/x.txt"]


def test_scan_records_size_and_mtime(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    (scanned,) = scan(tmp_path, [tmp_path])
    assert scanned.size == 5
    assert scanned.mtime == (tmp_path / "a.txt").stat().st_mtime


def test_include_and_exclude_globs_choose_the_files(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "drafts").mkdir()
    for name in ("notes/a.md", "notes/b.txt", "drafts/c.md", "top.md"):
        (tmp_path / name).write_text("x")
    md = sorted(f.relative_path for f in scan(tmp_path, [tmp_path], include=["*.md"]))
    assert md == ["drafts/c.md", "notes/a.md", "top.md"]
    no_drafts = sorted(
        f.relative_path for f in scan(tmp_path, [tmp_path], include=["*.md"], exclude=["drafts/*"])
    )
    assert no_drafts == ["notes/a.md", "top.md"]


def test_scan_never_reads_an_off_limits_folder_even_through_a_file_symlink(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "uploads" / "other-collection").mkdir(parents=True)
    (root / "uploads" / "other-collection" / "private.txt").write_text("someone else's")
    (root / "mine.txt").write_text("mine")
    (root / "peek.txt").symlink_to(root / "uploads" / "other-collection" / "private.txt")
    found = [f.relative_path for f in scan(root, [root], off_limits=[root / "uploads"])]
    assert found == ["mine.txt"]


def test_scan_one_finds_one_file_as_scan_would(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "notes").mkdir()
    (root / "notes" / "a.md").write_text("hello")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "b.md").write_text("x")
    (root / "outside").mkdir()
    (root / "linked").symlink_to(root / "notes")
    found = scan_one(root, "notes/a.md", [root])
    assert found is not None and (found.relative_path, found.size) == ("notes/a.md", 5)
    for missing in ("notes/gone.md", ".hidden/b.md", "linked/a.md", "../a.md", "notes/../notes/a.md", ""):
        assert scan_one(root, missing, [root]) is None, missing
    assert scan_one(root, "notes/a.md", [root], exclude=["notes/*"]) is None
    assert scan_one(root, "notes/a.md", [root / "outside"]) is None


def test_scan_survives_file_symlink_loops_and_dangling_links(tmp_path: Path) -> None:
    (tmp_path / "loop-a.txt").symlink_to("loop-b.txt")
    (tmp_path / "loop-b.txt").symlink_to("loop-a.txt")
    (tmp_path / "self.txt").symlink_to("self.txt")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "real.txt").write_text("x")
    assert [f.relative_path for f in scan(tmp_path, [tmp_path])] == ["real.txt"]


def test_scan_skips_fifos_and_devices_named_like_documents(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    assert list(scan(tmp_path, [tmp_path, Path("/dev")])) == []


def test_a_name_that_is_not_utf8_is_kept_as_escaped_text_with_the_reason(tmp_path: Path) -> None:
    import os

    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("x")
    (scanned,) = scan(tmp_path, [tmp_path])
    assert scanned.relative_path == "caf\\xe9.txt"
    assert scanned.relative_path.encode("utf-8")  # storable
    assert "not valid UTF-8" in scanned.problem


def test_a_folder_that_cannot_be_listed_is_skipped_with_a_warning(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    from tests.reliability.privileges import without_file_permission_override

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inside.txt").write_text("x")
    (tmp_path / "open.txt").write_text("x")
    (tmp_path / "locked").chmod(0)
    found = without_file_permission_override(lambda: [f.relative_path for f in scan(tmp_path, [tmp_path])])
    assert found == ["open.txt"]
    assert any("Skipping the folder" in r.getMessage() and "locked" in r.getMessage() for r in caplog.records)
