"""Text extraction."""

from __future__ import annotations

import pytest

from semantik.documents.extraction import ExtractionError, extract


def test_html_keeps_title_and_main_text_but_not_scripts_or_navigation() -> None:
    page = b"""<!doctype html><html><head><title>Tide tables</title><script>var secret = 1;</script></head>
    <body><nav>Home | About</nav><main><h1>High water</h1><p>The tide turns at noon.</p></main>
    <footer>Copyright</footer></body></html>"""
    extracted = extract(page, "tides.html")
    assert extracted.title == "Tide tables"
    assert "The tide turns at noon." in extracted.text
    assert "High water" in extracted.text
    for absent in ("secret", "Home | About", "Copyright"):
        assert absent not in extracted.text
    assert extracted.mime_type == "text/html"


def test_markdown_title_comes_from_the_first_heading() -> None:
    extracted = extract(b"# Gardening notes\n\nWater the roses.", "notes.md")
    assert extracted.title == "Gardening notes"
    assert extracted.mime_type == "text/markdown"


def test_text_in_latin1_is_decoded_not_lost() -> None:
    assert "café" in extract("café au lait".encode("cp1252"), "menu.txt").text


def test_utf16_with_bom_is_decoded() -> None:
    assert extract("hello world".encode("utf-16"), "a.txt").text == "hello world"


def test_html_saved_as_txt_is_read_as_html_by_its_content() -> None:
    extracted = extract(b"<html><body><p>Real text</p><script>x()</script></body></html>", "page.txt")
    assert extracted.mime_type == "text/html"
    assert "x()" not in extracted.text


@pytest.mark.parametrize(
    ("data", "reason"), [(b"", "no text"), (b"  \n\t ", "no text"), (b"\x00\x01\x02binary", "binary")]
)
def test_empty_and_binary_files_fail_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract(data, "x.txt")
