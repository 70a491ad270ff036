"""Text extraction: a registry from file type to extractor, and the errors that fail one document."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup


class ExtractionError(Exception):
    """This document cannot be read; the reason is shown to the user and the operation goes on."""


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str
    mime_type: str


Extractor = Callable[[bytes, str], Extracted]

# How many leading bytes decide whether a file is binary.
SNIFF_BYTES = 8192


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else UTF-16 by its BOM, else Windows-1252, which accepts any byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise ExtractionError("The file looks binary (it contains NUL bytes), not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            return stripped[:200]
    return ""


def extract_plain(data: bytes, name: str) -> Extracted:
    text = decode_text(data)
    mime = "text/markdown" if name.lower().endswith((".md", ".markdown")) else "text/plain"
    return Extracted(text=text, title=_first_line_title(text), mime_type=mime)


_BLANK_LINES = re.compile(r"\n\s*\n+")
_NOT_CONTENT = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg"]


def extract_html(data: bytes, name: str) -> Extracted:
    soup = BeautifulSoup(decode_text(data), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_NOT_CONTENT):
        tag.decompose()
    body = soup.find("main") or soup.find("article") or soup.body or soup
    text = _BLANK_LINES.sub("\n\n", body.get_text("\n", strip=True))
    return Extracted(text=text, title=title or _first_line_title(text), mime_type="text/html")


EXTRACTORS: dict[str, Extractor] = {
    ".txt": extract_plain,
    ".text": extract_plain,
    ".md": extract_plain,
    ".markdown": extract_plain,
    ".rst": extract_plain,
    ".html": extract_html,
    ".htm": extract_html,
}


def is_supported(name: str) -> bool:
    return Path(name).suffix.lower() in EXTRACTORS


def extract(data: bytes, name: str) -> Extracted:
    extractor = EXTRACTORS.get(Path(name).suffix.lower())
    if extractor is None:
        raise ExtractionError(f"No extractor for files like {name!r}.")
    # Content wins over the extension: an HTML page saved as .txt is still HTML.
    if extractor is extract_plain and data[:512].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        extractor = extract_html
    extracted = extractor(data, name)
    if not extracted.text.strip():
        raise ExtractionError("The file holds no text.")
    return extracted
