"""The hostile-input corpus, written into a folder by the tests themselves: no binary is committed.

Each entry says what ingestion must make of it: index it, fail it alone with a reason matching a
pattern, leave it out (not a document: it leads outside the roots, it is no regular file), or
either of the first two (a damaged file a tolerant reader may still partly read).
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.documents.test_extraction import make_pdf as _pdf
from tests.documents.test_extraction import with_declared_size

INDEXED = "indexed"
FAILED = "failed"
ABSENT = "absent"
EITHER = "either"

# Text that must never reach the index: it lives outside the document roots.
SECRET = "SECRET-OUTSIDE-THE-ROOTS-7f3a"


@dataclass(frozen=True)
class Expect:
    outcome: str
    # For a failure (or an EITHER that failed): a regular expression its reason must match.
    reason: str = ""
    # A phrase the indexed text must hold (checked in Qdrant's payloads).
    phrase: str = ""


def _pdf_with_stream(stream: bytes, *, declared_length: int | None = None) -> bytes:
    """A one-page PDF whose page content is `stream` (already Flate-compressed), written by hand."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n"
        % (len(stream) if declared_length is None else declared_length)
        + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _deflated(unit: bytes, total: int, *, raw: bool = False) -> bytes:
    """`unit` repeated to about `total` bytes, deflated without ever compressing `total` bytes.

    One block of about 1 MiB is compressed once and ended with a full flush, which makes it
    independent of what came before: the same compressed bytes, repeated, inflate to the block
    repeated. `raw` leaves out the zlib header and checksum (ZIP members are raw deflate).
    """
    block = unit * max(1, (1 << 20) // len(unit))
    count = max(1, total // len(block))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    flushed = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = flushed * count + compressor.flush()
    if raw:
        return body
    return b"\x78\xda" + body + struct.pack(">I", _adler32_repeated(block, count))


_ADLER_BASE = 65521


def _adler32_repeated(block: bytes, count: int) -> int:
    """Adler-32 of `block * count`, combined by doubling instead of read (as zlib's adler32_combine)."""

    def combine(first: int, second: int, second_length: int) -> int:
        low = ((first & 0xFFFF) + (second & 0xFFFF) - 1) % _ADLER_BASE
        high = ((first >> 16) + (second >> 16) + second_length * ((first & 0xFFFF) - 1)) % _ADLER_BASE
        return low | high << 16

    result, result_length = 1, 0
    power, power_length = zlib.adler32(block), len(block)
    while count:
        if count & 1:
            result, result_length = combine(result, power, power_length), result_length + power_length
        power, power_length = combine(power, power, power_length), 2 * power_length
        count >>= 1
    return result


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive written by hand from (name, raw deflate data, CRC-32, unpacked size) members.

    By hand because zipfile would inflate nothing but would compress the whole unpacked size.
    """
    out = io.BytesIO()
    central = io.BytesIO()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        )
        out.write(encoded + data)
        central.write(
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    out.write(central.getvalue())
    out.write(
        struct.pack(
            "<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central.getvalue()), start, 0
        )
    )
    return out.getvalue()


def _zip_bomb(template: bytes, member: str, head: bytes, unit: bytes, tail: bytes, total: int) -> bytes:
    """`template` (a ZIP document) with `member` replaced by `head + unit... + tail`, about `total`
    bytes unpacked and declared so. Its CRC-32 is left at 0 (computing it would read `total`
    bytes): the guard must refuse the member before reading it, and reading it would fail anyway.
    """
    source = zipfile.ZipFile(io.BytesIO(template))
    members = []
    for info in source.infolist():
        if info.filename == member:
            continue
        content = source.read(info)
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        members.append(
            (
                info.filename,
                compressor.compress(content) + compressor.flush(),
                zlib.crc32(content),
                len(content),
            )
        )
    # Each piece ends with a full flush, so the repeated block's compressed bytes stand alone.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = unit * max(1, (1 << 20) // len(unit))
    count = max(1, (total - len(head) - len(tail)) // len(block))
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = start + repeated * count + compressor.compress(tail) + compressor.flush()
    members.append((member, data, 0, len(head) + count * len(block) + len(tail)))
    return _zip(members)


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _epub(chapter: bytes, doctype: bytes = b"") -> bytes:
    """A one-chapter EPUB; with `doctype`, its package file declares (and uses) those entities."""
    title = b"Book &lol9;" if doctype else b"Book"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        archive.writestr(
            "content.opf",
            b'<?xml version="1.0"?>'
            + doctype
            + b'<package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            b'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>' + title + b"</dc:title>"
            b'</metadata><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>'
            b'</manifest><spine><itemref idref="c"/></spine></package>',
        )
        archive.writestr("c.xhtml", chapter)
    return out.getvalue()


_LAUGHS = (
    b'<!DOCTYPE package [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)

_PROSE = "The harbour master keeps the tide tables in the blue cabinet by the door."


def build(root: Path, outside: Path) -> dict[str, Expect]:
    """Write the corpus under `root` (a source folder) and `outside` (not in any document root).

    Returns what each relative path must come to. Entries ABSENT are never documents.
    """
    rng = random.Random(9)
    expect: dict[str, Expect] = {}

    def put(relative: str, data: bytes, outcome: str, reason: str = "", phrase: str = "") -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expect[relative] = Expect(outcome, reason, phrase)
        return path

    # Controls: ordinary documents beside the hostile ones must all index.
    put("controls/notes.txt", f"{_PROSE} Control text one.".encode(), INDEXED, phrase="Control text one")
    put("controls/readme.md", b"# Readme\n\nControl text two.", INDEXED, phrase="Control text two")
    put("controls/guide.pdf", _pdf(["Control text three on page one."]), INDEXED, phrase="Control text three")
    put("controls/letter.docx", _docx(["Control text four."]), INDEXED, phrase="Control text four")

    # PDFs: truncated, corrupt, bombs.
    good_pdf = _pdf([f"{_PROSE} Page {i}." for i in range(1, 6)])
    for percent in (5, 30, 60, 95):
        put(f"pdf/truncated-{percent}.pdf", good_pdf[: len(good_pdf) * percent // 100], EITHER, "PDF")
    put("pdf/corrupt.pdf", b"%PDF-1.7\n" + rng.randbytes(64 * 1024), FAILED, "PDF")
    put("pdf/header-only.pdf", b"%PDF-1.4\n%%EOF\n", FAILED, "PDF")
    # 1 GiB of zeros in one Flate stream (about 1 MB on disk).
    put("pdf/flate-bomb-zeros.pdf", _pdf_with_stream(_deflated(b"\0", 1 << 30)), FAILED, "PDF bomb")
    # 2 GiB of text-showing operators: a page whose content would never end.
    put(
        "pdf/flate-bomb-text.pdf",
        _pdf_with_stream(_deflated(b"BT /F1 12 Tf 72 712 Td (All work and no play) Tj ET\n", 2 << 30)),
        FAILED,
        "PDF bomb",
    )
    # 70 MB of them: just under pypdf's own 75 MB output limit, so only Semantik's cap stops it.
    put(
        "pdf/flate-text-70mb.pdf",
        _pdf_with_stream(_deflated(b"BT /F1 12 Tf 72 712 Td (All work and no play) Tj ET\n", 70 << 20)),
        FAILED,
        "PDF bomb",
    )
    put(
        "pdf/lying-length.pdf",
        _pdf_with_stream(zlib.compress(b"BT /F1 12 Tf 72 712 Td (Lies) Tj ET"), declared_length=1 << 40),
        EITHER,
        "PDF",
    )
    put("pdf/text-named.pdf", b"This is plain text named like a PDF.", FAILED, "not one")

    # DOCX, PPTX, EPUB zip bombs.
    docx = _docx(["Bomb shell."])
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    )
    paragraph = b"<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>"
    put(
        "zip/docx-bomb-2gb.docx",
        _zip_bomb(docx, "word/document.xml", head, paragraph, b"</w:body></w:document>", 2 << 30),
        FAILED,
        "zip bomb",
    )
    lying = _zip_bomb(docx, "word/document.xml", head, paragraph, b"</w:body></w:document>", 1 << 30)
    put(
        "zip/docx-bomb-lying-size.docx",
        with_declared_size(lying, "word/document.xml", 1 << 20),
        FAILED,
        "does not unpack to the size it declares",
    )
    put(
        "zip/docx-declared-huge.docx",
        with_declared_size(docx, "word/document.xml", 0xFFFFFFFE),
        FAILED,
        "zip bomb",
    )
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        archive.writestr("word/document.xml", head + b"</w:body></w:document>")
        for i in range(10_001):
            archive.writestr(f"word/media/{i}.bin", b"")
    put("zip/docx-many-members.docx", many.getvalue(), FAILED, "limit")
    put(
        "zip/epub-bomb.epub",
        _zip_bomb(
            _epub(b"<html/>"), "c.xhtml", b"<html><body><p>", b"spam " * 64, b"</p></body></html>", 1 << 30
        ),
        FAILED,
        "zip bomb",
    )
    put(
        "zip/epub-billion-laughs.epub",
        _epub(b"<html><body><p>Laughing matter.</p></body></html>", _LAUGHS),
        EITHER,
        "EPUB|damaged|memory",
    )
    put("zip/truncated.docx", docx[: len(docx) // 2], FAILED, "damaged")
    put("zip/pptx-not-a-zip.pptx", rng.randbytes(4096), FAILED, "not one")

    # HTML nested far deeper than any recursive reader survives.
    depth = 100_000
    put(
        "html/deep-divs.html",
        b"<html><body>" + b"<div>" * depth + b"Deep text." + b"</div>" * depth + b"</body></html>",
        EITHER,
        "nested|memory|longer",
    )
    put(
        "html/unclosed.html",
        b"<html><body>" + b"<span><b><i>" * 30_000 + b"Unclosed text.",
        EITHER,
        "nested|memory|longer",
    )

    # Gigantic single lines.
    put("lines/one-word-8mb.txt", b"x" * (8 << 20), EITHER, "limit|memory|longer")
    words = " ".join(rng.choice(["tide", "harbour", "quay", "anchor", "gull", "rope"]) for _ in range(60_000))
    put("lines/one-line-words.txt", words.encode(), INDEXED, phrase="harbour")
    put("lines/over-the-text-cap.csv", b"a," * (11 << 20), FAILED, "limit")

    # Binary files wearing text names.
    put("binary/random.txt", rng.randbytes(64 * 1024), FAILED, "binary")
    put("binary/elf.py", b"\x7fELF\x02\x01\x01" + bytes(9) + rng.randbytes(16 * 1024), FAILED, "binary")
    put("binary/png.md", b"\x89PNG\r\n\x1a\n" + rng.randbytes(8 * 1024), FAILED, "binary")
    put("binary/gzip.json", zlib.compress(_PROSE.encode() * 100, wbits=31), FAILED, "binary")
    put("binary/nul-in-text.txt", _PROSE.encode() + b"\0" + _PROSE.encode(), FAILED, "binary")
    # A DOCX named like text is read as what its content shows.
    put("binary/docx-named.txt", docx, INDEXED, phrase="Bomb shell")

    # Encodings.
    put("encodings/latin1.txt", "Café crème à la française, señor.".encode("latin-1"), INDEXED, phrase="Café")
    put(
        "encodings/mixed.md",
        "Naïve UTF-8 café ".encode() + "and cp1252 résumé".encode("cp1252"),
        INDEXED,
        phrase="résumé",
    )
    put(
        "encodings/invalid-utf8.txt",
        b"Valid start " + rng.randbytes(64).replace(b"\0", b"") + b" valid end",
        INDEXED,
        phrase="valid end",
    )
    put(
        "encodings/overlong.txt",
        b"Overlong \xc0\xaf slash and surrogate \xed\xa0\x80 here.",
        INDEXED,
        phrase="Overlong",
    )
    put("encodings/utf16-bom.txt", "UTF-16 with its mark.".encode("utf-16"), INDEXED, phrase="UTF-16 with")
    put(
        "encodings/utf16le-no-bom.txt",
        "UTF-16 little endian without a mark.".encode("utf-16-le"),
        INDEXED,
        phrase="without a mark",
    )
    put(
        "encodings/utf16be-no-bom.txt",
        "UTF-16 big endian without a mark.".encode("utf-16-be"),
        INDEXED,
        phrase="big endian",
    )
    put("encodings/utf32-bom.txt", "UTF-32 with its mark.".encode("utf-32"), INDEXED, phrase="UTF-32")
    put(
        "encodings/shift-jis.txt",
        "東京の港は広い。Harbour in Tokyo.".encode("shift_jis"),
        INDEXED,
        phrase="Harbour in Tokyo",
    )
    put("encodings/bom-only.txt", b"\xef\xbb\xbf", FAILED, "no text")
    put(
        "encodings/html-lying-charset.html",
        b'<html><head><meta charset="x-no-such-codec"></head><body>Lying charset.</body></html>',
        INDEXED,
        phrase="Lying charset",
    )

    # Empty files of every kind.
    for name in ("empty/empty.txt", "empty/empty.pdf", "empty/empty.docx", "empty/empty.html"):
        put(name, b"", FAILED, "empty|no text")
    put("empty/whitespace.md", b"  \n\t\n   \r\n", FAILED, "no text")

    # Names: line breaks, tabs, unicode of every sort, a name at the length limit.
    for name in (
        "names/line\nbreak.txt",
        "names/carriage\rreturn.txt",
        "names/tab\there.txt",
        "names/emoji 🦀.md",
        "names/ünïcödé/日本語のファイル.txt",
        "names/rtl-\u202etxt.exe.txt",
        "names/nfd-cafe\u0301.txt",
        "names/nfc-caf\u00e9.txt",
        "names/back\\slash.txt",
        "names/%2e%2e%2fescape.txt",
        "names/-dash-first.txt",
        "names/quote'\"<tag>.txt",
        "names/" + "n" * 251 + ".txt",
    ):
        put(name, f"{_PROSE} Named {name!r}.".encode(), INDEXED, phrase="harbour master")
    bad_name = os.fsdecode(b"names/caf\xe9-latin1-name.txt")
    put(bad_name, f"{_PROSE} Latin-1 name.".encode(), FAILED, "name")

    # Symlinks: loops, escapes, dangling, devices.
    secret = outside / "secret.txt"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(f"{SECRET} must never be indexed.")
    (outside / "folder").mkdir(exist_ok=True)
    (outside / "folder" / "inner.txt").write_text(f"{SECRET} in a folder.")
    links = root / "links"
    links.mkdir()
    (links / "loop-a.txt").symlink_to("loop-b.txt")
    (links / "loop-b.txt").symlink_to("loop-a.txt")
    (links / "self.txt").symlink_to("self.txt")
    (links / "dir-loop").symlink_to(".", target_is_directory=True)
    (links / "up-loop").symlink_to("..", target_is_directory=True)
    (links / "escape.txt").symlink_to(secret)
    (links / "escape-relative.txt").symlink_to(os.path.relpath(secret, links))
    (links / "escape-dir").symlink_to(outside / "folder", target_is_directory=True)
    (links / "dangling.txt").symlink_to(root / "no-such-file.txt")
    (links / "dev-zero.txt").symlink_to("/dev/zero")
    (links / "proc.txt").symlink_to("/proc/self/environ")
    os.mkfifo(links / "fifo.txt")
    for name in (
        "loop-a.txt",
        "loop-b.txt",
        "self.txt",
        "escape.txt",
        "escape-relative.txt",
        "dangling.txt",
        "dev-zero.txt",
        "proc.txt",
        "fifo.txt",
    ):
        expect[f"links/{name}"] = Expect(ABSENT)
    (links / "inside.txt").symlink_to(root / "controls" / "notes.txt")
    expect["links/inside.txt"] = Expect(INDEXED, phrase="Control text one")
    return expect
