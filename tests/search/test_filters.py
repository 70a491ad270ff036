"""Search filters: a request's filters as engine conditions, and what is left to check per hit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from semantik.search.filters import SearchFilters, compile_filters, glob_conditions
from semantik.vectors.base import PointFilter


@pytest.mark.parametrize(
    ("glob", "exact", "prefix", "substrings", "complete"),
    [
        ("notes/todo.md", "notes/todo.md", "notes/todo.md", (), True),
        ("notes/*", None, "notes/", (), True),
        ("notes/*.md", None, "notes/", (".md",), False),
        ("*.md", None, "", (".md",), False),
        ("docs/*/api/*.html", None, "docs/", ("/api/", ".html"), False),
        ("report-202?.pdf", None, "report-202", (".pdf",), False),
        ("log[0-9].txt", None, "log", (".txt",), False),
        ("a[!x]b*", None, "a", (), False),  # "b" alone is too short to narrow anything
        ("weird[name.txt", "weird[name.txt", "weird[name.txt", (), True),  # an unclosed [ is literal
        ("[]]x/*", None, "", ("x/",), False),  # "]" first in a class is part of it
    ],
)
def test_a_glob_becomes_its_literal_prefix_and_the_runs_a_path_must_contain(
    glob: str, exact: str | None, prefix: str, substrings: tuple[str, ...], complete: bool
) -> None:
    conditions = glob_conditions(glob)
    assert (conditions.exact, conditions.prefix, conditions.substrings, conditions.complete) == (
        exact,
        prefix,
        substrings,
        complete,
    )


def test_no_filters_compile_to_nothing() -> None:
    assert compile_filters(None).where is None
    assert compile_filters(SearchFilters()).where is None


def test_a_glob_the_engine_can_say_whole_needs_no_check_and_one_it_cannot_does() -> None:
    whole = compile_filters(SearchFilters(path_glob="notes/*"))
    assert whole.where == PointFilter(path_prefix="notes/") and whole.check is None
    exact = compile_filters(SearchFilters(path_glob="notes/a.md"))
    assert exact.where == PointFilter(paths=("notes/a.md",)) and exact.check is None

    partial = compile_filters(SearchFilters(path_glob="notes/*/*.md"))
    assert partial.where == PointFilter(path_prefix="notes/", path_substrings=(".md",))
    assert partial.check is not None
    assert partial.check({"path": "notes/2024/june.md"})
    assert not partial.check({"path": "notes/june.md"})  # the engine let it through; the glob does not


def test_a_prefix_and_a_glob_together_keep_the_narrower_prefix_or_match_nothing() -> None:
    assert compile_filters(
        SearchFilters(path_prefix="notes/2024/", path_glob="notes/*")
    ).where == PointFilter(path_prefix="notes/2024/")
    assert compile_filters(
        SearchFilters(path_prefix="notes", path_glob="notes/2024/*.md")
    ).where == PointFilter(path_prefix="notes/2024/", path_substrings=(".md",))
    disjoint = compile_filters(SearchFilters(path_prefix="docs/", path_glob="notes/*")).where
    assert disjoint is not None and disjoint.matches_nothing
    outside = compile_filters(SearchFilters(path_prefix="docs/", path_glob="notes/a.md")).where
    assert outside is not None and outside.matches_nothing


def test_types_dates_and_documents_become_engine_conditions() -> None:
    after = datetime(2024, 1, 1, tzinfo=UTC)
    before = datetime(2024, 7, 1, tzinfo=UTC)
    where = compile_filters(
        SearchFilters(
            mime_types=("text/markdown", "text/*"),
            modified_after=after,
            modified_before=before,
            document_ids=("d1", "d2"),
        )
    ).where
    assert where == PointFilter(
        document_ids=("d1", "d2"),
        mime_types=("text/markdown",),
        mime_prefixes=("text/",),
        modified_from=after.timestamp(),
        modified_before=before.timestamp(),
    )
