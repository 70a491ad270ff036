"""Text extraction: a registry of file types told apart by content, and the errors that fail a document."""

from __future__ import annotations

import codecs
import email
import email.policy
import io
import logging
import posixpath
import re
import warnings
import zipfile
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag, XMLParsedAsHTMLWarning

# Limits that hold whatever the settings say: they protect the process, not a policy.
MAX_TEXT_CHARS = 20_000_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 10_000
# Office XML compresses 5-20:1; deflate can reach about 1000:1 on one repeated byte.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECKED_FROM_BYTES = 10 * 1024 * 1024
# A PDF page's content stream, unpacked: real pages hold KBs to a few MB of drawing instructions.
MAX_PDF_PAGE_CONTENT_BYTES = 32 * 1024 * 1024
# Members are read in blocks of this size when checked, so none is ever inflated whole.
ZIP_READ_BYTES = 1024 * 1024
# How many leading bytes decide whether a file is binary.
SNIFF_BYTES = 8192
TITLE_CHARS = 200
MEMORY_REASON = "Reading the file needs more memory than it may use."

logger = logging.getLogger(__name__)


class ExtractionError(Exception):
    """This document cannot be read; the reason is shown to the user and the operation goes on."""


@dataclass(frozen=True)
class Heading:
    """A section title of the text: where it starts in `Extracted.text`, how deep it is, what it says."""

    offset: int
    # 1 for the top sections (h1, `#`, Heading 1); a DOCX Title is 0, above them.
    level: int
    title: str


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str
    mime_type: str
    # Offset in `text` where each page starts (page 1 first); empty for formats without pages.
    page_starts: tuple[int, ...] = ()
    # In text order; empty for formats without headings (plain text, PDF, code).
    headings: tuple[Heading, ...] = ()
    # SHA-256 of exactly the bytes this text came from, when read from a file (the file may have
    # changed between a scan's hash and the read).
    content_hash: str = ""

    def page_at(self, offset: int) -> int | None:
        return page_at(self, offset)


def page_at(extracted: Extracted | Sequence[int], offset: int) -> int | None:
    """The 1-based page holding character `offset`, or None when the text has no pages."""
    starts = extracted.page_starts if isinstance(extracted, Extracted) else extracted
    if offset < 0:
        return None
    page = bisect_right(starts, offset)
    return page or None


Extractor = Callable[[bytes, str], Extracted]


@dataclass(frozen=True)
class FileType:
    """One kind of document Semantik reads."""

    label: str
    mime_type: str
    extractor: Extractor
    # Recognised by its content (magic bytes, ZIP members): a file named so that is not one fails.
    container: bool = False
    # Plain text whose content may turn out to be HTML.
    text: bool = False


# Text: prose and source code.


def _decode_invalid_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


# A file that is mostly UTF-8 with a few Windows-1252 bytes (a pasted "café") keeps both right.
codecs.register_error("semantik-cp1252", _decode_invalid_as_cp1252)

_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b")


def _binary_reason(sample: bytes) -> str | None:
    if b"\x00" in sample:
        return "it contains NUL bytes"
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(1, len(sample) // 10):
        return "it is full of control characters"
    return None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM; stray bytes read as Windows-1252), UTF-16/32 by their BOM,
    UTF-16 without one by its pattern of NUL bytes, or a CJK multi-byte encoding, detected."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return data.decode("utf-32", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    utf16 = _utf16_without_bom(data[:SNIFF_BYTES])
    if utf16 is not None:
        return data.decode(utf16, errors="replace")
    reason = _binary_reason(data[:SNIFF_BYTES])
    if reason:
        raise ExtractionError(f"The file looks binary ({reason}), not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    encoding = _multibyte_encoding(data)
    if encoding is not None:
        return data.decode(encoding, errors="replace")
    return data.decode("utf-8-sig", errors="semantik-cp1252")


def _utf16_without_bom(sample: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for text whose every other byte is NUL (Latin script in UTF-16)."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sample[0 : pairs * 2 : 2].count(0)
    odd = sample[1 : pairs * 2 : 2].count(0)
    for codec, nuls, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if nuls >= pairs * 0.3 and others <= pairs * 0.01:
            try:
                text = sample[: pairs * 2].decode(codec)
            except UnicodeDecodeError:
                continue
            if _binary_reason(text.encode("utf-8", errors="replace")) is None:
                return codec
    return None


# Encodings whose bytes read as Windows-1252 would be noise; single-byte guesses are too unsure
# (a short French text is "detected" as Central European) to beat the Windows-1252 default.
_MULTIBYTE = {
    "cp932",
    "shift_jis",
    "euc_jp",
    "iso2022_jp",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "cp949",
    "euc_kr",
    "johab",
}


def _multibyte_encoding(data: bytes) -> str | None:
    """A CJK encoding the text is written in, when it is not mostly UTF-8; else None."""
    non_ascii = sum(1 for byte in data[:65536] if byte >= 0x80)
    utf8_bytes = len(data[:65536].decode("utf-8", errors="ignore").encode("utf-8")) - (
        len(data[:65536]) - non_ascii
    )
    # Mostly valid UTF-8 with a few stray bytes: the Windows-1252 error handler reads those.
    if utf8_bytes >= non_ascii / 2:
        return None
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[:65536]).best()
    if best is None or best.encoding not in _MULTIBYTE:
        return None
    return str(best.encoding)


_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff]")


def _clean(text: str) -> str:
    """Without NUL (PostgreSQL refuses it) and lone surrogates (they cannot be encoded)."""
    if _UNSAFE_CHARS.search(text) is None:
        return text
    return _UNSAFE_CHARS.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def _check_length(length: int) -> None:
    if length > MAX_TEXT_CHARS:
        raise ExtractionError(
            f"The file holds more than {MAX_TEXT_CHARS:,} characters of text, over the limit."
        )


_ADORNMENT = re.compile(r"^[\W_]+$")


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        # reStructuredText over- and underlines (=====) are not titles.
        if stripped and not _ADORNMENT.match(stripped):
            return stripped[:TITLE_CHARS]
    return ""


def _title(*candidates: object) -> str:
    for candidate in candidates:
        text = " ".join(_clean(str(candidate or "")).split())
        if text:
            return text[:TITLE_CHARS]
    return ""


class _TextBuilder:
    """Joins an extractor's blocks of text, noting where pages start, without passing MAX_TEXT_CHARS."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._page_starts: list[int] = []
        self._unplaced_pages = 0
        self._new_page = False
        self._headings: list[Heading] = []

    def page(self) -> None:
        """The blocks added from now on are on the next page."""
        self._unplaced_pages += 1
        self._new_page = True

    def add(self, block: str, *, paragraph: bool = False, headings: Sequence[Heading] = ()) -> None:
        """Adds a block; `headings` are offsets into the block as given, moved to the whole text."""
        cleaned = _clean(block)
        block = cleaned.strip()
        if not block:
            return
        lead = len(cleaned) - len(cleaned.lstrip())
        separator = "" if not self._length else "\n\n" if self._new_page or paragraph else "\n"
        start = self._length + len(separator)
        _check_length(start + len(block))
        # A page without text starts where the next text does, so page_at never names it.
        self._page_starts.extend([start] * self._unplaced_pages)
        self._unplaced_pages = 0
        self._new_page = False
        self._parts.extend((separator, block))
        self._length = start + len(block)
        for heading in headings:
            offset = start + min(max(heading.offset - lead, 0), len(block))
            self._headings.append(Heading(offset, heading.level, heading.title))

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def page_starts(self) -> tuple[int, ...]:
        return tuple(self._page_starts + [self._length] * self._unplaced_pages)

    @property
    def headings(self) -> tuple[Heading, ...]:
        return tuple(self._headings)


def _text_extractor(mime_type: str, *, titled_by_name: bool = False) -> Extractor:
    find_headings = _HEADING_FINDERS.get(mime_type)

    def extract_text(data: bytes, name: str) -> Extracted:
        text = _clean(decode_text(data))
        _check_length(len(text))
        title = _title(Path(name).name) if titled_by_name else _first_line_title(text)
        headings = find_headings(text) if find_headings else ()
        return Extracted(text=text, title=title, mime_type=mime_type, headings=headings)

    return extract_text


# Headings of lightweight markup, found in the text as written (the text itself is kept as is).


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) of every line, without its line break."""
    lines = []
    offset = 0
    for line in text.split("\n"):
        lines.append((offset, line.removesuffix("\r")))
        offset += len(line) + 1
    return lines


_MD_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_MD_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_MD_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_MD_BREAK = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
# Lines that open a list item, quote or HTML block: the text after them is no setext title.
_MD_NOT_TITLE = re.compile(r" {0,3}(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|<)|    |\t")


def _markdown_headings(text: str) -> tuple[Heading, ...]:
    """ATX (`# Title`) and setext (`Title` over `===` or `---`) headings, none inside fenced code."""
    lines = _lines(text)
    first = 0
    # YAML front matter: its closing `---` would otherwise underline its last line.
    if lines and lines[0][1].rstrip() == "---":
        closing = next(
            (i for i, (_, line) in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")), None
        )
        first = 0 if closing is None else closing + 1
    headings: list[Heading] = []
    fence = ""
    paragraph: list[str] = []
    paragraph_start = 0
    titled = False
    for offset, line in lines[first:]:
        if fence:
            stripped = line.strip()
            if (
                len(stripped) >= len(fence)
                and stripped == fence[0] * len(stripped)
                and not line.startswith("    ")
            ):
                fence = ""
            continue
        if not line.strip():
            paragraph = []
            continue
        if (opened := _MD_FENCE.match(line)) and not (opened[1][0] == "`" and "`" in opened[2]):
            fence, paragraph = opened[1], []
            continue
        if atx := _MD_ATX.fullmatch(line):
            if title := _title(atx[2]):
                headings.append(Heading(offset, len(atx[1]), title))
            paragraph = []
            continue
        if (underline := _MD_SETEXT.fullmatch(line)) and paragraph and titled:
            if title := _title(" ".join(paragraph)):
                headings.append(Heading(paragraph_start, 1 if underline[1][0] == "=" else 2, title))
            paragraph = []
            continue
        if _MD_BREAK.fullmatch(line):
            paragraph = []
            continue
        if not paragraph:
            paragraph_start, titled = offset, not _MD_NOT_TITLE.match(line)
        paragraph.append(line)
    return tuple(headings)


# A line of one punctuation character repeated, as reStructuredText over- and underlines titles.
_RST_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1+[ \t]*")


def _rst_headings(text: str) -> tuple[Heading, ...]:
    """Underlined and over-and-underlined titles; a style's level is the order it first appears in."""
    lines = _lines(text)
    styles: list[tuple[str, bool]] = []
    headings: list[Heading] = []

    def add(offset: int, title: str, style: tuple[str, bool]) -> None:
        if style not in styles:
            styles.append(style)
        if title := _title(title):
            headings.append(Heading(offset, styles.index(style) + 1, title))

    after_blank = True
    i = 0
    while i < len(lines):
        offset, line = lines[i]
        adornment = _RST_ADORNMENT.fullmatch(line)
        if adornment and after_blank and i + 2 < len(lines):
            title, underline = lines[i + 1][1], lines[i + 2][1]
            over = line.rstrip()
            if title.strip() and underline.rstrip() == over and len(title.rstrip()) <= len(over):
                add(offset, title, (over[0], True))
                i += 3
                continue
        if not line.strip():
            after_blank = True
            i += 1
            continue
        if after_blank and not adornment and not line[0].isspace() and i + 1 < len(lines):
            underline = lines[i + 1][1].rstrip()
            # As docutils: an underline shorter than its title still counts from 4 characters on.
            if _RST_ADORNMENT.fullmatch(underline) and (
                len(underline) >= len(line.rstrip()) or len(underline) >= 4
            ):
                add(offset, line, (underline[0], False))
                i += 2
                # A title may follow a title directly (a document title and its subtitle).
                continue
        after_blank = False
        i += 1
    return tuple(headings)


_HEADING_FINDERS: dict[str, Callable[[str], tuple[Heading, ...]]] = {
    "text/markdown": _markdown_headings,
    "text/x-rst": _rst_headings,
}


# HTML: the page's main text, without what a reader skips.

# A chapter of XHTML or a page that is one URL is still a page to read, not a mistake to warn about.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

_BLANK_LINES = re.compile(r"\n\s*\n+")
_NOT_CONTENT = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg"]
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I
)


def _decode_html(data: bytes) -> str:
    """As text, unless it is not UTF-8 and declares its charset (a <meta> or XML declaration)."""
    declared = _DECLARED_CHARSET.search(data[:4096])
    if declared is None or data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data)
    try:
        codec = codecs.lookup((declared.group(1) or declared.group(2)).decode("ascii")).name
    except LookupError:
        return decode_text(data)
    reason = _binary_reason(data[:SNIFF_BYTES])
    if reason:
        raise ExtractionError(f"The file looks binary ({reason}), not text.")
    try:
        # Valid UTF-8 is UTF-8 whatever the page claims: old <meta> tags outlive re-encoding.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace")


def _html_text(markup: str) -> tuple[str, str, tuple[Heading, ...]]:
    """(title, main text, its h1-h6) of a page: not its scripts, styles or navigation."""
    try:
        # html.parser builds the tree without recursion; any recursion left is caught all the same.
        soup = BeautifulSoup(markup, "html.parser")
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        for tag in soup(_NOT_CONTENT):
            tag.decompose()
        body = soup.find("main") or soup.find("article") or soup.body or soup
        assert isinstance(body, Tag)
        text, headings = _main_text(body)
    except RecursionError:
        raise ExtractionError("The page is nested too deeply to read.") from None
    return _title(title), text, headings


_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}


def _main_text(body: Tag) -> tuple[str, tuple[Heading, ...]]:
    """`body.get_text("\\n", strip=True)`, blank lines squeezed and cleaned, and where its headings start.

    One walk over the tree in document order (no recursion), so a heading's offset is where its
    first string lands in the text.
    """
    # The string types get_text reads: text and CDATA, not comments or doctypes.
    types = body.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES
    wanted = frozenset([types] if isinstance(types, type) else types)
    parts: list[str] = []
    length = 0
    headings: list[Heading] = []
    waiting: list[tuple[int, str]] = []
    for node in body.descendants:
        if isinstance(node, Tag):
            level = _HEADING_LEVELS.get(node.name)
            if level is not None and (title := _title(node.get_text(" ", strip=True))):
                waiting.append((level, title))
            continue
        if not isinstance(node, NavigableString) or type(node) not in wanted:
            continue
        piece = node.strip()
        if not piece:
            continue
        start = length + 1 if parts else 0
        headings.extend(Heading(start, level, title) for level, title in waiting)
        waiting.clear()
        # Pieces are stripped, so squeezing blank lines piece by piece equals squeezing the whole.
        piece = _clean(_BLANK_LINES.sub("\n\n", piece))
        parts.append(piece)
        length = start + len(piece)
    return "\n".join(parts), tuple(headings)


def extract_html(data: bytes, name: str) -> Extracted:
    title, text, headings = _html_text(_decode_html(data))
    _check_length(len(text))
    return Extracted(
        text=text, title=title or _first_line_title(text), mime_type=HTML.mime_type, headings=headings
    )


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode()
    head = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return head.startswith(b"<?xml") and b"<html" in head


# ZIP containers (DOCX, PPTX, EPUB): sizes checked before anything is unpacked.


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ExtractionError(f"The file is damaged: it is not a readable ZIP archive ({exc}).") from None


def _checked_zip(data: bytes) -> zipfile.ZipFile:
    """The archive, once its declared sizes show it cannot unpack into a memory bomb, and its
    members were seen to unpack to exactly those sizes.

    The declared sizes alone are no bound: a member may declare 1 MB and inflate to GBs, and the
    libraries that read DOCX, PPTX and EPUB read a member whole, in one call that inflates as much
    as the data holds. Reading each member here in blocks first costs one more inflation of at most
    MAX_UNPACKED_BYTES, and stops a lying member after its declared size (its CRC then fails).
    """
    archive = _open_zip(data)
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ExtractionError(
            f"The archive holds {len(members):,} files, over the {MAX_ARCHIVE_MEMBERS:,} limit."
        )
    total = sum(member.file_size for member in members)
    if total > MAX_UNPACKED_BYTES:
        raise ExtractionError(
            f"The file would unpack to {total // 2**20:,} MB, over the {MAX_UNPACKED_BYTES // 2**20} MB "
            "limit (a zip bomb?)."
        )
    for member in members:
        if (
            member.file_size > RATIO_CHECKED_FROM_BYTES
            and member.file_size > max(member.compress_size, 1) * MAX_COMPRESSION_RATIO
        ):
            raise ExtractionError(
                f"The member {member.filename!r} is compressed more than "
                f"{MAX_COMPRESSION_RATIO}:1 (a zip bomb?)."
            )
    for member in members:
        try:
            with archive.open(member) as handle:
                while handle.read(ZIP_READ_BYTES):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
            raise ExtractionError(
                f"The member {member.filename!r} does not unpack to the size it declares ({_brief(exc)}): "
                "the file is damaged (or a zip bomb)."
            ) from None
    return archive


def _zip_file_type(data: bytes) -> FileType | None:
    """The document type of a ZIP archive, told by its members; None for any other archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if "word/document.xml" in names:
            return DOCX
        if "ppt/presentation.xml" in names:
            return PPTX
        if "mimetype" in names:
            with archive.open("mimetype") as member:
                if member.read(64).strip() == b"application/epub+zip":
                    return EPUB
    except Exception:  # an archive that cannot even be looked into is no document
        return None
    return None


def _table_rows(rows: Iterable[Iterable[str]]) -> Iterable[str]:
    for cells in rows:
        line = " | ".join(" ".join(cell.split()) for cell in cells if cell.strip())
        if line:
            yield line


def extract_docx(data: bytes, name: str) -> Extracted:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _checked_zip(data).close()
    document = docx.Document(io.BytesIO(data))
    builder = _TextBuilder()
    headings: list[str] = []

    def add_table(table: Table, depth: int) -> None:
        for number, row in enumerate(table.rows):
            cells: list[str] = []
            nested: list[Table] = []
            seen: set[int] = set()
            for cell in row.cells:
                # A merged cell comes back once per grid column it spans.
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(" ".join(p.text for p in cell.paragraphs))
                nested.extend(cell.tables)
            for line in _table_rows([cells]):
                # A table is one paragraph of rows.
                builder.add(line, paragraph=number == 0 and depth == 0)
            if depth < 8:
                for inner in nested:
                    add_table(inner, depth + 1)

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            level = _heading_level(_style_name(block))
            found: tuple[Heading, ...] = ()
            if level is not None and (title := _title(block.text)):
                headings.append(title)
                found = (Heading(0, level, title),)
            # Word's paragraphs are the text's paragraphs: a blank line apart, as in plain text.
            builder.add(block.text, paragraph=True, headings=found)
        else:
            add_table(block, 0)
    return Extracted(
        text=builder.text,
        title=_title(document.core_properties.title, *headings[:1]) or _first_line_title(builder.text),
        mime_type=DOCX.mime_type,
        headings=builder.headings,
    )


_DOCX_HEADING = re.compile(r"heading\s*(\d+)")


def _heading_level(style: str) -> int | None:
    """The level of a Word paragraph style: Title 0, Heading N N; None for body text."""
    if style == "title":
        return 0
    if not style.startswith("heading"):
        return None
    numbered = _DOCX_HEADING.match(style)
    return int(numbered[1]) if numbered else 1


def _style_name(paragraph: Any) -> str:
    try:
        return str(paragraph.style.name or "").lower()
    except Exception:  # a missing or broken styles part leaves the paragraph plain
        return ""


def extract_pptx(data: bytes, name: str) -> Extracted:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    _checked_zip(data).close()
    presentation = Presentation(io.BytesIO(data))
    builder = _TextBuilder()
    first_slide_title = ""

    def add_shape(shape: Any, depth: int) -> None:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            if depth < 8:
                for inner in shape.shapes:
                    add_shape(inner, depth + 1)
        elif shape.has_text_frame:
            builder.add(shape.text_frame.text.replace("\v", "\n"))
        elif shape.has_table:
            rows = ([cell.text for cell in row.cells] for row in shape.table.rows)
            for line in _table_rows(rows):
                builder.add(line)

    for number, slide in enumerate(presentation.slides, start=1):
        builder.page()
        title_shape = slide.shapes.title
        if number == 1 and title_shape is not None and title_shape.has_text_frame:
            first_slide_title = title_shape.text_frame.text
        for shape in slide.shapes:
            add_shape(shape, 0)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            builder.add(slide.notes_slide.notes_text_frame.text, paragraph=True)
    return Extracted(
        text=builder.text,
        title=_title(presentation.core_properties.title, first_slide_title)
        or _first_line_title(builder.text),
        mime_type=PPTX.mime_type,
        page_starts=builder.page_starts,
    )


def _safe_xml(data: bytes) -> Any:
    from lxml import etree

    # No entities, DTDs or network: an EPUB's XML cannot expand itself or reach out.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(data, parser)


def extract_epub(data: bytes, name: str) -> Extracted:
    archive = _checked_zip(data)
    try:
        container = _safe_xml(archive.read("META-INF/container.xml"))
        rootfile = container.find(".//{*}rootfile")
        if rootfile is None or not rootfile.get("full-path"):
            raise ExtractionError("The EPUB is damaged: its container names no package file.")
        package_path = rootfile.get("full-path").lstrip("/")
        package = _safe_xml(archive.read(package_path))
    except KeyError as exc:
        raise ExtractionError(f"The EPUB is damaged: {exc.args[0]}") from None
    manifest = {
        item.get("id"): (item.get("href") or "", item.get("media-type") or "")
        for item in package.iterfind("{*}manifest/{*}item")
    }
    builder = _TextBuilder()
    chapter_titles: list[str] = []
    folder = posixpath.dirname(package_path)
    for itemref in package.iterfind("{*}spine/{*}itemref"):
        href, media_type = manifest.get(itemref.get("idref"), ("", ""))
        if not href or media_type not in ("application/xhtml+xml", "text/html"):
            continue
        member = posixpath.normpath(posixpath.join(folder, unquote(href.split("#")[0])))
        try:
            chapter = archive.read(member)
        except KeyError:
            continue  # a spine entry without its file: the rest of the book is still worth reading
        title, text, headings = _html_text(_decode_html(chapter))
        chapter_titles.append(title)
        builder.add(text, paragraph=True, headings=headings)
    book_title = package.find("{*}metadata/{*}title")
    return Extracted(
        text=builder.text,
        title=_title(book_title.text if book_title is not None else "", *chapter_titles),
        mime_type=EPUB.mime_type,
        headings=builder.headings,
    )


# PDF: text by page, so a search hit can name its page.


def extract_pdf(data: bytes, name: str) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Many PDFs are encrypted only to restrict printing: their user password is empty.
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("The PDF is encrypted (password-protected); Semantik cannot read it.")
        pages = list(reader.pages)
    except (FileNotDecryptedError, DependencyError):
        raise ExtractionError("The PDF is encrypted (password-protected); Semantik cannot read it.") from None
    except (ExtractionError, MemoryError, RecursionError):
        raise
    except Exception as exc:
        raise ExtractionError(
            f"The PDF is damaged or truncated and cannot be read ({_brief(exc)})."
        ) from None
    if not pages:
        raise ExtractionError("The PDF has no pages.")
    builder = _TextBuilder()
    unreadable = oversized = 0
    for page in pages:
        builder.page()
        try:
            # pypdf caps one stream at 75 MB unpacked; parsing that much takes GBs and minutes.
            contents = page.get_contents()
            if contents is not None and len(contents.get_data()) > MAX_PDF_PAGE_CONTENT_BYTES:
                oversized += 1
                continue
            builder.add(page.extract_text() or "")
        except (ExtractionError, MemoryError, RecursionError):
            raise
        except Exception as exc:  # one damaged page must not lose the rest of the document
            # pypdf's own limit, met by a stream unpacking past 75 MB.
            if type(exc).__name__ == "LimitReachedError":
                oversized += 1
            else:
                unreadable += 1
    if oversized and oversized + unreadable == len(pages):
        raise ExtractionError(
            f"The PDF's pages unpack to more than {MAX_PDF_PAGE_CONTENT_BYTES // 2**20} MB of drawing "
            "instructions each, over the limit (a PDF bomb?)."
        )
    if unreadable == len(pages):
        raise ExtractionError("The PDF is damaged: none of its pages can be read.")
    if not builder.text.strip():
        raise ExtractionError("The PDF holds no text (scanned pages need OCR, which Semantik does not do).")
    try:
        metadata_title = reader.metadata.title if reader.metadata else ""
    except Exception:  # a damaged info dictionary only loses the title
        metadata_title = ""
    return Extracted(
        text=builder.text,
        title=_title(metadata_title) or _first_line_title(builder.text),
        mime_type=PDF.mime_type,
        page_starts=builder.page_starts,
    )


# E-mail: headers, and the body a person reads; attachments are not the message.


def _header(message: EmailMessage, name: str) -> str:
    try:
        return " ".join(str(message.get(name, "") or "").split())
    except Exception:  # a malformed header is left out, not fatal
        return ""


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass  # an unknown charset: read the bytes as text instead
    payload = part.get_payload(decode=True)
    return decode_text(payload) if isinstance(payload, bytes) else ""


def extract_email(data: bytes, name: str) -> Extracted:
    reason = _binary_reason(data[:SNIFF_BYTES])
    if reason:
        raise ExtractionError(f"The file looks binary ({reason}), not an e-mail.")
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    subject = _header(message, "subject")
    builder = _TextBuilder()
    for header in ("from", "to", "cc", "date", "subject"):
        value = _header(message, header)
        if value:
            builder.add(f"{header.capitalize()}: {value}")
    # Attachments are not the message: get_body skips them.
    body = message.get_body(preferencelist=("plain", "html"))
    if isinstance(body, EmailMessage):
        content = _part_text(body)
        if body.get_content_type() == "text/html":
            content = _html_text(content)[1]
        builder.add(content, paragraph=True)
    return Extracted(
        text=builder.text, title=_title(subject) or _first_line_title(builder.text), mime_type=EMAIL.mime_type
    )


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:200]


# The registry: what a name claims, and what the content shows.

PDF = FileType("PDF", "application/pdf", extract_pdf, container=True)
DOCX = FileType(
    "Word document (DOCX)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    extract_docx,
    container=True,
)
PPTX = FileType(
    "PowerPoint presentation (PPTX)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    extract_pptx,
    container=True,
)
EPUB = FileType("EPUB book", "application/epub+zip", extract_epub, container=True)
HTML = FileType("HTML page", "text/html", extract_html)
EMAIL = FileType("e-mail", "message/rfc822", extract_email)

# Prose: the title is its first line.
_PROSE = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".rst": "text/x-rst",
    ".adoc": "text/asciidoc",
    ".org": "text/x-org",
    ".tex": "text/x-tex",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".log": "text/plain",
}
# Source code and configuration: the title is the file name.
_CODE = {
    ".py": "text/x-python",
    ".pyi": "text/x-python",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".jsx": "text/javascript",
    ".ts": "text/x-typescript",
    ".tsx": "text/x-typescript",
    ".java": "text/x-java",
    ".kt": "text/x-kotlin",
    ".kts": "text/x-kotlin",
    ".scala": "text/x-scala",
    ".groovy": "text/x-groovy",
    ".gradle": "text/x-groovy",
    ".go": "text/x-go",
    ".rs": "text/x-rust",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cc": "text/x-c++",
    ".cpp": "text/x-c++",
    ".cxx": "text/x-c++",
    ".hpp": "text/x-c++",
    ".hh": "text/x-c++",
    ".cs": "text/x-csharp",
    ".swift": "text/x-swift",
    ".m": "text/x-objective-c",
    ".rb": "text/x-ruby",
    ".php": "text/x-php",
    ".pl": "text/x-perl",
    ".pm": "text/x-perl",
    ".lua": "text/x-lua",
    ".r": "text/x-r",
    ".jl": "text/x-julia",
    ".dart": "text/x-dart",
    ".ex": "text/x-elixir",
    ".exs": "text/x-elixir",
    ".erl": "text/x-erlang",
    ".hs": "text/x-haskell",
    ".ml": "text/x-ocaml",
    ".clj": "text/x-clojure",
    ".sh": "application/x-sh",
    ".bash": "application/x-sh",
    ".zsh": "application/x-sh",
    ".fish": "application/x-sh",
    ".ps1": "text/x-powershell",
    ".sql": "application/sql",
    ".graphql": "application/graphql",
    ".proto": "text/x-protobuf",
    ".tf": "text/x-terraform",
    ".vue": "text/x-vue",
    ".svelte": "text/x-svelte",
    ".css": "text/css",
    ".scss": "text/x-scss",
    ".sass": "text/x-sass",
    ".less": "text/x-less",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".xml": "application/xml",
    ".ini": "text/plain",
    ".cfg": "text/plain",
    ".conf": "text/plain",
    # Files known by their whole name.
    "dockerfile": "text/x-dockerfile",
    "containerfile": "text/x-dockerfile",
    "makefile": "text/x-makefile",
}

FILE_TYPES: dict[str, FileType] = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".pptx": PPTX,
    ".epub": EPUB,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".eml": EMAIL,
    **{ext: FileType("text file", mime, _text_extractor(mime), text=True) for ext, mime in _PROSE.items()},
    **{
        ext: FileType("source file", mime, _text_extractor(mime, titled_by_name=True), text=True)
        for ext, mime in _CODE.items()
    },
}


def file_type_for(name: str) -> FileType | None:
    """The type a file's name claims: by its extension, or its whole name (Dockerfile)."""
    lower = Path(name).name.lower()
    return FILE_TYPES.get(Path(lower).suffix) or FILE_TYPES.get(lower)


def is_supported(name: str) -> bool:
    return file_type_for(name) is not None


def _describe(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive of another kind"
    if _looks_like_html(data):
        return "an HTML page"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "a PDF"
    return "binary data" if _binary_reason(data[:SNIFF_BYTES]) else "text"


def sniff(data: bytes, claimed: FileType) -> FileType:
    """The type the content shows, which wins over the name's claim where they differ."""
    head = data[:1024]
    if head.lstrip().startswith(b"%PDF-") or (claimed is PDF and b"%PDF-" in head):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        found = _zip_file_type(data)
        if found is not None:
            return found
        if claimed.container:
            _open_zip(data)  # a damaged archive says so
    if claimed.container:
        raise ExtractionError(
            f"The file is named like a {claimed.label} but is not one: it is {_describe(data)}."
        )
    if claimed.text and _looks_like_html(data):
        return HTML
    return claimed


def _library_reason(file_type: FileType, exc: Exception) -> str:
    from lxml import etree

    # libxml2 reports an exhausted memory limit as a parse error ("unknown error").
    if isinstance(exc, etree.XMLSyntaxError) and exc.code == etree.ErrorTypes.ERR_NO_MEMORY:
        return MEMORY_REASON
    return f"The {file_type.label} is damaged and cannot be read ({_brief(exc)})."


def extract(data: bytes, name: str) -> Extracted:
    """The text of a document; any failure to read it is an ExtractionError with a reason."""
    claimed = file_type_for(name)
    if claimed is None:
        raise ExtractionError(f"No extractor for files like {name!r}.")
    if not data:
        raise ExtractionError("The file is empty: it holds no text.")
    file_type = claimed
    try:
        file_type = sniff(data, claimed)
        extracted = file_type.extractor(data, name)
    except ExtractionError as exc:
        reason = str(exc)
    except RecursionError:
        reason = "The file is nested too deeply to read."
    except MemoryError:
        reason = MEMORY_REASON
    except Exception as exc:
        logger.debug("Extracting %s failed", name, exc_info=True)
        reason = _library_reason(file_type, exc)
    else:
        if not extracted.text.strip():
            raise ExtractionError("The file holds no text.")
        return extracted
    # Raised once the handlers are done, so the failed attempt's frames (a half-built tree, the
    # text so far) are freed first: after a MemoryError the worker needs that memory back.
    raise ExtractionError(reason)
