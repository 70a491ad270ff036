"""Confinement to the document roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantik.documents.paths import PathNotAllowed, confine


def test_a_folder_inside_a_root_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "docs" / "a").mkdir(parents=True)
    assert confine(str(tmp_path / "docs" / "a"), [tmp_path / "docs"]) == (tmp_path / "docs" / "a").resolve()


def test_a_relative_path_is_read_from_the_first_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert confine("a", [tmp_path]) == (tmp_path / "a").resolve()


@pytest.mark.parametrize("raw", ["/etc", "../outside", "docs/../../outside", "", "a\x00b"])
def test_paths_leaving_the_roots_are_refused(tmp_path: Path, raw: str) -> None:
    root = tmp_path / "docs"
    (root / "docs").mkdir(parents=True)
    with pytest.raises(PathNotAllowed):
        confine(raw, [root])


def test_a_symlink_pointing_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (tmp_path / "secret").mkdir()
    (root / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(PathNotAllowed):
        confine(str(root / "link"), [root])


def test_a_sibling_with_a_common_prefix_is_not_inside(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs-private").mkdir()
    with pytest.raises(PathNotAllowed):
        confine(str(tmp_path / "docs-private"), [tmp_path / "docs"])


def test_any_of_several_roots_allows(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    assert (
        confine(str(tmp_path / "two"), [tmp_path / "one", tmp_path / "two"]) == (tmp_path / "two").resolve()
    )
