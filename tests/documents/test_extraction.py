"""Text extraction: every supported format, told by its content, and every way a file can fail."""

from __future__ import annotations

import io
import pickle
import random
import struct
import zipfile
from email.message import EmailMessage

import pytest

from semantik.documents.extraction import (
    MAX_TEXT_CHARS,
    MAX_UNPACKED_BYTES,
    Extracted,
    ExtractionError,
    Heading,
    extract,
    is_supported,
    page_at,
)

# --- documents made here, the way their usual tools write them ---------------------------------


def make_pdf(pages: list[str], title: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Harbour guide", level=0)
    document.add_paragraph("Boats moor on the east quay.")
    document.add_heading("Fees", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Length"
    table.cell(0, 1).text = "Fee per night"
    table.cell(1, 0).text = "Under 10 m"
    table.cell(1, 1).text = "25 euros"
    document.add_paragraph("Pay at the harbour office.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    for number, (title, body) in enumerate(
        [("Quarterly review", "Sales grew in spring."), ("Next steps", "Hire two engineers.")], start=1
    ):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        slide.notes_slide.notes_text_frame.text = f"Speaker note {number}"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
    table.cell(0, 0).text = "Region"
    table.cell(0, 1).text = "Revenue"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def make_epub(chapters: list[tuple[str, str]], spine: list[int]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{i}" href="text/ch{i}.xhtml" media-type="application/xhtml+xml"/>'
            for i in range(len(chapters))
        )
        itemrefs = "".join(f'<itemref idref="c{i}"/>' for i in spine)
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Sea Book</dc:title>'
            f"</metadata><manifest>{items}</manifest><spine>{itemrefs}</spine></package>",
        )
        for i, (heading, body) in enumerate(chapters):
            archive.writestr(
                f"OEBPS/text/ch{i}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{heading}</title></head><body><h1>{heading}</h1><p>{body}</p></body></html>",
            )
    return out.getvalue()


def with_declared_size(archive: bytes, member: str, size: int) -> bytes:
    """The same archive, its central directory claiming `member` unpacks to `size` bytes."""
    data = bytearray(archive)
    entry = archive.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, entry + 24, size)
            return bytes(data)
        entry = archive.find(b"PK\x01\x02", entry + 4)
    raise AssertionError(f"{member} not in the archive")


# --- plain text, Markdown, code ---------------------------------------------------------------


def test_markdown_title_comes_from_the_first_heading() -> None:
    extracted = extract(b"# Gardening notes\n\nWater the roses.", "notes.md")
    assert extracted.title == "Gardening notes"
    assert extracted.mime_type == "text/markdown"
    assert extracted.page_starts == ()


def test_restructuredtext_title_skips_its_overline() -> None:
    extracted = extract(b"=======\nSailing\n=======\n\nKnots first.", "guide.rst")
    assert extracted.title == "Sailing"
    assert extracted.mime_type == "text/x-rst"


def headings_of(extracted: Extracted) -> list[tuple[int, str]]:
    """(level, title) of each heading, after checking its offset starts the heading's line."""
    for heading in extracted.headings:
        assert heading.offset == 0 or extracted.text[heading.offset - 1] == "\n", heading
    return [(h.level, h.title) for h in extracted.headings]


MARKDOWN = """---
title: Front matter
---
# Tutorial

Text with a #hashtag.

Data structures
===============

## Lists ##

```python
# a comment, not a heading
```

~~~
Not a title
---
~~~

    # indented code, not a heading

- a list item
---

Control flow
------------
#Not a heading either
"""


def test_markdown_headings_are_atx_and_setext_outside_code() -> None:
    extracted = extract(MARKDOWN.encode(), "guide.md")
    assert headings_of(extracted) == [
        (1, "Tutorial"),
        (1, "Data structures"),
        (2, "Lists"),
        (2, "Control flow"),
    ]
    starts = [extracted.text[h.offset :].split("\n")[0] for h in extracted.headings]
    assert starts == ["# Tutorial", "Data structures", "## Lists ##", "Control flow"]


def test_a_setext_title_may_span_lines_and_an_unclosed_fence_hides_the_rest() -> None:
    extracted = extract(b"Two line\ntitle\n---\n\n```\n# Hidden\n", "a.md")
    assert headings_of(extracted) == [(2, "Two line title")]


def test_restructuredtext_levels_follow_the_order_styles_first_appear() -> None:
    rst = b"""=======
 Guide
=======

Sailing
=======

Knots
-----

A note::

    Literal
    -------

----------

Short
--

Rowing
======

Hi
--
"""
    extracted = extract(rst, "guide.rst")
    assert headings_of(extracted) == [(1, "Guide"), (2, "Sailing"), (3, "Knots"), (2, "Rowing"), (3, "Hi")]
    assert extracted.text[extracted.headings[0].offset :].startswith("=======\n Guide")


def test_plain_text_pdf_and_code_have_no_headings() -> None:
    assert extract(b"# Not markdown\n\nJust text.", "notes.txt").headings == ()
    assert extract(b"# comment\nx = 1\n", "tool.py").headings == ()
    assert extract(make_pdf(["Chapter one", "Chapter two"]), "book.pdf").headings == ()


def test_extracted_with_headings_survives_the_trip_to_a_worker_process() -> None:
    extracted = extract(MARKDOWN.encode(), "guide.md")
    assert pickle.loads(pickle.dumps(extracted)) == extracted
    assert isinstance(extracted.headings[0], Heading)


@pytest.mark.parametrize(
    ("name", "mime_type"),
    [
        ("tides.py", "text/x-python"),
        ("app.ts", "text/x-typescript"),
        ("main.go", "text/x-go"),
        ("lib.rs", "text/x-rust"),
        ("query.sql", "application/sql"),
        ("config.yaml", "application/yaml"),
        ("Dockerfile", "text/x-dockerfile"),
    ],
)
def test_source_code_is_text_titled_by_its_file_name(name: str, mime_type: str) -> None:
    source = b"def high_water(port):\n    return tides[port]\n"
    extracted = extract(source, name)
    assert extracted.text == source.decode()
    assert extracted.title == name
    assert extracted.mime_type == mime_type


def test_text_in_latin1_is_decoded_not_lost() -> None:
    assert "café" in extract("café au lait".encode("cp1252"), "menu.txt").text


def test_mixed_utf8_and_windows_1252_keeps_both_right() -> None:
    data = "naïve ".encode() + "café".encode("cp1252") + " — done ".encode() + b"\x81\xff"
    text = extract(data, "mixed.txt").text
    assert text.startswith("naïve café — done ")


def test_utf16_with_bom_is_decoded() -> None:
    assert extract("hello world".encode("utf-16"), "a.txt").text == "hello world"


def test_supported_names() -> None:
    for name in ("a.txt", "B.MD", "c.rst", "d.html", "e.pdf", "f.docx", "g.pptx", "h.epub", "i.eml", "j.py"):
        assert is_supported(name), name
    for name in ("photo.jpg", "archive.zip", "program.exe", "noextension"):
        assert not is_supported(name), name


# --- HTML -------------------------------------------------------------------------------------


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


def test_html_headings_of_the_main_text_start_where_their_text_does() -> None:
    page = b"""<html><body><nav><h1>Menu</h1></nav><main><h1>High <em>water</em></h1><p>The tide turns.</p>
    <h2>Springs</h2><p>Twice a month.</p><h3> </h3><h3>Neaps</h3><p>In between.</p></main></body></html>"""
    extracted = extract(page, "tides.html")
    assert extracted.text == "High\nwater\nThe tide turns.\nSprings\nTwice a month.\nNeaps\nIn between."
    assert headings_of(extracted) == [(1, "High water"), (2, "Springs"), (3, "Neaps")]
    assert [extracted.text[h.offset :].split("\n")[0] for h in extracted.headings] == [
        "High",
        "Springs",
        "Neaps",
    ]


def test_html_saved_as_txt_is_read_as_html_by_its_content() -> None:
    extracted = extract(b"<html><body><p>Real text</p><script>x()</script></body></html>", "page.txt")
    assert extracted.mime_type == "text/html"
    assert "x()" not in extracted.text


def test_html_is_decoded_by_its_declared_charset() -> None:
    page = '<html><head><meta charset="iso-8859-7"></head><body><p>Καλημέρα</p></body></html>'
    assert "Καλημέρα" in extract(page.encode("iso-8859-7"), "greek.html").text


def test_html_in_utf8_under_an_old_latin1_declaration_stays_utf8() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Crème brûlée</p></body></html>'
    assert "Crème brûlée" in extract(page.encode(), "dessert.html").text


def test_deeply_nested_html_is_read_without_blowing_the_stack() -> None:
    depth = 100_000
    page = "<html><body>" + "<div>" * depth + "deep text" + "</div>" * depth + "</body></html>"
    assert extract(page.encode(), "deep.html").text == "deep text"


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_pages_are_numbered_in_the_text() -> None:
    pages = [
        "The first page is about anchors.",
        "The second page is about ropes.",
        "The third page is about sails.",
    ]
    extracted = extract(make_pdf(pages, title="Seamanship"), "seamanship.pdf")
    assert extracted.mime_type == "application/pdf"
    assert extracted.title == "Seamanship"
    assert [extracted.text[start:].split("\n")[0] for start in extracted.page_starts] == pages
    for number, word in enumerate(["anchors", "ropes", "sails"], start=1):
        offset = extracted.text.index(word)
        assert page_at(extracted, offset) == number
        assert page_at(extracted.page_starts, offset) == number
        assert extracted.page_at(offset) == number
    assert page_at(extracted, 0) == 1
    assert page_at(extracted, len(extracted.text) - 1) == 3


def test_a_pdf_page_without_text_is_never_named() -> None:
    extracted = extract(make_pdf(["Cover text.", "", "Last page."]), "gap.pdf")
    assert len(extracted.page_starts) == 3
    assert page_at(extracted, extracted.text.index("Last")) == 3
    assert {page_at(extracted, offset) for offset in range(len(extracted.text))} == {1, 3}


def test_page_at_without_pages_is_none() -> None:
    assert page_at(Extracted(text="abc", title="", mime_type="text/plain"), 1) is None
    assert page_at((0, 10), -1) is None
    assert page_at((0, 10), 10) == 2


def test_a_pdf_is_told_by_its_content_not_its_name() -> None:
    assert extract(make_pdf(["Hidden in a text file."]), "notes.txt").mime_type == "application/pdf"


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9])
def test_a_truncated_pdf_fails_with_a_reason(fraction: float) -> None:
    data = make_pdf(["One.", "Two.", "Three."])
    with pytest.raises(ExtractionError, match="damaged or truncated"):
        extract(data[: int(len(data) * fraction)], "cut.pdf")


def test_a_corrupt_pdf_fails_with_a_reason() -> None:
    data = bytearray(make_pdf(["One.", "Two."]))
    data[100:700] = random.Random(1).randbytes(600)
    with pytest.raises(ExtractionError, match="PDF"):
        extract(bytes(data), "corrupt.pdf")


def test_a_password_protected_pdf_fails_as_encrypted() -> None:
    with pytest.raises(ExtractionError, match="encrypted"):
        extract(encrypt_pdf(make_pdf(["Secret plans."]), user_password="secret"), "locked.pdf")


def test_a_pdf_encrypted_only_against_printing_is_read() -> None:
    assert "Open plans." in extract(encrypt_pdf(make_pdf(["Open plans."]), user_password=""), "open.pdf").text


def test_a_pdf_name_holding_text_fails_clearly() -> None:
    with pytest.raises(ExtractionError, match="named like a PDF but is not one: it is text"):
        extract(b"just some words", "fake.pdf")


def test_a_pdf_of_images_only_says_it_has_no_text() -> None:
    with pytest.raises(ExtractionError, match="no text"):
        extract(make_pdf(["", ""]), "scan.pdf")


# --- Office, EPUB, e-mail -----------------------------------------------------------------------


def test_docx_keeps_headings_as_lines_and_table_text_in_order() -> None:
    extracted = extract(make_docx(), "guide.docx")
    assert extracted.mime_type.endswith("wordprocessingml.document")
    assert extracted.title == "Harbour guide"
    lines = extracted.text.splitlines()
    assert "Fees" in lines
    assert "Length | Fee per night" in lines
    assert "Under 10 m | 25 euros" in lines
    order = ["Harbour guide", "east quay", "Fees", "Under 10 m", "harbour office"]
    assert [extracted.text.index(part) for part in order] == sorted(extracted.text.index(p) for p in order)
    assert extracted.page_starts == ()


def test_docx_headings_come_from_title_and_heading_styles() -> None:
    extracted = extract(make_docx(), "guide.docx")
    assert headings_of(extracted) == [(0, "Harbour guide"), (1, "Fees")]
    assert [extracted.text[h.offset :].split("\n")[0] for h in extracted.headings] == [
        "Harbour guide",
        "Fees",
    ]
    # Word's paragraphs are a blank line apart, as paragraphs of plain text are; a table is one block.
    assert "Boats moor on the east quay.\n\nFees\n\nLength | Fee per night\nUnder 10 m" in extracted.text


def test_epub_chapter_headings_are_placed_in_the_whole_book() -> None:
    data = make_epub([("Later", "The storm passes."), ("Opening", "The ship leaves port.")], spine=[1, 0])
    extracted = extract(data, "book.epub")
    assert headings_of(extracted) == [(1, "Opening"), (1, "Later")]
    assert [extracted.text[h.offset :].split("\n")[0] for h in extracted.headings] == ["Opening", "Later"]


def test_docx_is_told_by_its_members_not_its_name() -> None:
    assert extract(make_docx(), "guide.pdf").mime_type.endswith("wordprocessingml.document")


def test_pptx_slides_are_pages_with_notes_and_tables() -> None:
    extracted = extract(make_pptx(), "review.pptx")
    assert extracted.title == "Quarterly review"
    assert len(extracted.page_starts) == 2
    assert page_at(extracted, extracted.text.index("Sales grew")) == 1
    assert page_at(extracted, extracted.text.index("Speaker note 1")) == 1
    assert page_at(extracted, extracted.text.index("Hire two")) == 2
    assert page_at(extracted, extracted.text.index("Region | Revenue")) == 2


def test_epub_chapters_come_in_spine_order() -> None:
    data = make_epub([("Later", "The storm passes."), ("Opening", "The ship leaves port.")], spine=[1, 0])
    extracted = extract(data, "book.epub")
    assert extracted.title == "The Sea Book"
    assert extracted.mime_type == "application/epub+zip"
    assert extracted.text.index("leaves port") < extracted.text.index("storm passes")


def test_plain_email_has_its_subject_as_title_and_ignores_attachments() -> None:
    message = EmailMessage()
    message["Subject"] = "Mooring fees for 2025"
    message["From"] = "harbour@example.org"
    message["To"] = "crew@example.org"
    message.set_content("The fees rise by five percent.")
    message.add_attachment(
        b"attached secret", maintype="application", subtype="octet-stream", filename="a.bin"
    )
    message.add_attachment("attached text", filename="notes.txt")
    extracted = extract(message.as_bytes(), "fees.eml")
    assert extracted.title == "Mooring fees for 2025"
    assert extracted.mime_type == "message/rfc822"
    assert "The fees rise by five percent." in extracted.text
    assert "From: harbour@example.org" in extracted.text
    assert "attached" not in extracted.text


def test_html_email_is_read_through_the_html_extractor() -> None:
    message = EmailMessage()
    message["Subject"] = "Newsletter"
    message.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>Whales seen in the bay.</p>"
        "<script>track()</script></body></html>",
        subtype="html",
    )
    extracted = extract(message.as_bytes(), "news.eml")
    assert "Whales seen in the bay." in extracted.text
    assert "track()" not in extracted.text
    assert "color" not in extracted.text


# --- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no text"),
        (b"  \n\t ", "no text"),
        (b"\x00\x01\x02binary", "binary"),
        (random.Random(0).randbytes(4096), "looks binary"),
        (bytes(range(1, 32)) * 64, "looks binary"),
    ],
)
def test_empty_and_binary_files_fail_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract(data, "x.txt")


def test_binary_with_a_source_code_name_fails_as_binary() -> None:
    with pytest.raises(ExtractionError, match="looks binary"):
        extract(random.Random(2).randbytes(2048), "module.py")


def test_a_docx_declaring_a_huge_member_is_refused_before_unpacking() -> None:
    bomb = with_declared_size(make_docx(), "word/document.xml", MAX_UNPACKED_BYTES + 1)
    with pytest.raises(ExtractionError, match="zip bomb"):
        extract(bomb, "bomb.docx")


def test_a_docx_compressed_beyond_reason_is_refused() -> None:
    archive = io.BytesIO(make_docx())
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr("word/media/padding.bin", bytes(20 * 1024 * 1024))
    with pytest.raises(ExtractionError, match="compressed more than"):
        extract(archive.getvalue(), "bomb.docx")


def test_a_truncated_docx_fails_with_a_reason() -> None:
    data = make_docx()
    with pytest.raises(ExtractionError, match="damaged"):
        extract(data[: len(data) // 2], "cut.docx")


def test_a_zip_that_is_no_document_fails_clearly() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as plain:
        plain.writestr("readme.txt", "hello")
    with pytest.raises(ExtractionError, match="not one: it is a ZIP archive of another kind"):
        extract(archive.getvalue(), "report.docx")


def test_a_docx_with_broken_xml_fails_with_a_reason() -> None:
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        for member in source.infolist():
            content = source.read(member)
            archive.writestr(
                member, b"<w:document><unclosed" if member.filename == "word/document.xml" else content
            )
    with pytest.raises(ExtractionError, match="Word document"):
        extract(broken.getvalue(), "broken.docx")


def test_an_epub_without_a_container_fails_with_a_reason() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as epub:
        epub.writestr("mimetype", "application/epub+zip")
    with pytest.raises(ExtractionError, match="EPUB"):
        extract(archive.getvalue(), "empty.epub")


def test_text_over_the_cap_fails_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import semantik.documents.extraction as extraction

    monkeypatch.setattr(extraction, "MAX_TEXT_CHARS", 1000)
    assert MAX_TEXT_CHARS == 20_000_000
    with pytest.raises(ExtractionError, match="more than 1,000 characters"):
        extract(b"word " * 300, "long.txt")
    with pytest.raises(ExtractionError, match="more than 1,000 characters"):
        extract(make_pdf(["word " * 150, "word " * 150]), "long.pdf")


def test_unknown_types_fail_with_a_reason() -> None:
    with pytest.raises(ExtractionError, match="No extractor"):
        extract(b"data", "photo.jpg")


def test_extracted_text_holds_no_nul_characters() -> None:
    data = b"clean start " * 1000 + b"\x00 hidden nul"
    assert "\x00" not in extract(data, "late-nul.txt").text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_told_by_its_nul_pattern(codec: str) -> None:
    text = "Tide tables in the blue cabinet, by the door."
    assert extract(text.encode(codec), "tides.txt").text == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [("東京の港は広い。船が多い。Harbour in Tokyo.", "shift_jis"), ("中文文本，测试编码。港口很大。", "gbk")],
)
def test_cjk_text_in_a_legacy_encoding_is_detected(text: str, codec: str) -> None:
    assert extract(text.encode(codec), "notes.txt").text == text


def test_western_text_that_is_not_utf8_stays_windows_1252() -> None:
    text = "Café crème à la française, señor."
    assert extract(text.encode("latin-1"), "menu.txt").text == text


def test_a_docx_member_lying_about_its_size_is_refused_without_unpacking_it() -> None:
    import resource

    from tests.reliability.corpus import _docx, _zip_bomb

    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    bomb = _zip_bomb(_docx(["x"]), "word/document.xml", head, b"<w:p/>", b"</w:body></w:document>", 1 << 30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ExtractionError, match="does not unpack to the size it declares"):
        extract(with_declared_size(bomb, "word/document.xml", 1 << 20), "bomb.docx")
    # The 1 GiB it holds was never inflated here (ru_maxrss is in KiB).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 256 * 1024


def test_a_pdf_page_with_a_huge_content_stream_fails_as_a_pdf_bomb() -> None:
    from tests.reliability.corpus import _deflated, _pdf_with_stream

    bomb = _pdf_with_stream(_deflated(b"BT /F1 12 Tf 72 712 Td (All work) Tj ET\n", 40 << 20))
    with pytest.raises(ExtractionError, match="PDF bomb"):
        extract(bomb, "bomb.pdf")
