"""Hostile uploads built in the tests: zip bombs, lying zip headers, spreadsheets and Word files that expand."""

import io
import struct
import zipfile
import zlib

from merchants.importing import HEADINGS

MB = 1024 * 1024


def deflate(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def raw_zip(entries):
    """A zip written by hand: entries are (name, deflated bytes, crc, real size, declared size).

    Lets one compressed member be reused many times (fast to build) and lets a header lie about its size."""
    out, central = io.BytesIO(), []
    for name, compressed, crc, _real, declared in entries:
        encoded = name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, len(compressed), declared,
                              len(encoded), 0))
        out.write(encoded)
        out.write(compressed)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, 0x21, crc,
                                   len(compressed), declared, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    for record in central:
        out.write(record)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def entry(name, data, declared=None):
    return name, deflate(data), zlib.crc32(data), len(data), len(data) if declared is None else declared


def zip_of_word_bombs(members=200, size=10 * MB):
    """About 2 MB: ``members`` ".docx" files of ``size`` zero bytes each (one compressed payload reused)."""
    payload = bytes(size)
    compressed, crc = deflate(payload), zlib.crc32(payload)
    return raw_zip([(f"讲话{i:03d}.docx", compressed, crc, size, size) for i in range(members)])


def replace_members(data, replacements, compression=zipfile.ZIP_DEFLATED):
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for info in source.infolist():
            target.writestr(info.filename, replacements.get(info.filename, source.read(info)))
        for name, value in replacements.items():
            if name not in source.namelist():
                target.writestr(name, value)
    return out.getvalue()


def paragraphs_xml(body_bytes):
    """A document.xml whose body repeats one real paragraph until it is ``body_bytes`` long."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    para = "<w:p><w:r><w:t>今天我们召开全市工会工作会议，总结去年工作，部署今年任务。</w:t></w:r></w:p>".encode()
    return head + para * (body_bytes // len(para)) + b"</w:body></w:document>"


def docx_bomb(docx_data, expanded=60 * MB):
    """A real .docx whose document.xml expands to ``expanded`` bytes (about 300 KB on disk)."""
    return replace_members(docx_data, {"word/document.xml": paragraphs_xml(expanded)})


def docx_lying_sizes(docx_data, expanded=60 * MB):
    """The same document.xml, but the zip headers declare it as 1 KB (the ratio and size checks see nothing)."""
    source = zipfile.ZipFile(io.BytesIO(docx_data))
    entries = []
    for info in source.infolist():
        if info.filename == "word/document.xml":
            entries.append(entry(info.filename, paragraphs_xml(expanded), declared=1024))
        else:
            entries.append(entry(info.filename, source.read(info)))
    return raw_zip(entries)


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    b'+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    b'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    b'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
    + 'name="商户" sheetId="1" r:id="rId1"/></sheets></workbook>'.encode()
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _header_row():
    cells = "".join(_cell(f"{chr(65 + i)}1", heading) for i, heading in enumerate(HEADINGS))
    return f'<row r="1">{cells}</row>'


def xlsx(sheet_xml):
    """A minimal valid .xlsx (one sheet named 商户) around ``sheet_xml``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def _sheet(dimension, rows):
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


def xlsx_huge_dimension():
    """About 1.6 KB: declares A1:XFD1048576 and has one stray cell in its last row and column."""
    rows = _header_row() + '<row r="2">' + "".join(
        _cell(f"{chr(65 + i)}2", value) for i, value in enumerate(["重庆老火锅", "餐饮", "", "", "", "", "9折"])
    ) + '</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return xlsx(_sheet("A1:XFD1048576", rows).encode())


def xlsx_many_rows(count=300_000):
    """About 165 KB: the template's header and ``count`` tiny rows."""
    rows = "".join(f'<row r="{n}"><c r="G{n}"><v>9</v></c></row>' for n in range(2, count + 2))
    return xlsx(_sheet(f"A1:J{count + 1}", _header_row() + rows).encode())


def xlsx_wide_row(cells=1_500_000):
    """One row of a million and more cells (openpyxl builds a whole row before handing it over); numbered so
    that it does not compress suspiciously well."""
    row = "".join(f"<c><v>{n}</v></c>" for n in range(cells))
    return xlsx(_sheet("A1:J2", _header_row() + f'<row r="2">{row}</row>').encode())


def csv_many_rows(count=300_000):
    return (",".join(HEADINGS) + "\n" + "店,餐饮,,,,,9折,,,\n" * count).encode()


def png_header(width, height):
    """A PNG signature and IHDR claiming ``width`` × ``height`` pixels, with a token IDAT: a decompression bomb
    as far as anything that trusts the header is concerned."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def docx_with_image(docx_data, payload, part_name="image1.html", content_type="image/png"):
    """A .docx (with one picture) whose picture part becomes ``part_name`` holding ``payload``, still declared
    to Word as ``content_type``."""
    source = zipfile.ZipFile(io.BytesIO(docx_data))
    [old] = [name for name in source.namelist() if name.startswith("word/media/")]
    new = f"word/media/{part_name}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == old:
                target.writestr(new, payload)
                continue
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(old.removeprefix("word/").encode(), new.removeprefix("word/").encode())
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", f'<Override PartName="/{new}" ContentType="{content_type}"/>'
                                                 f"</Types>".encode())
            target.writestr(info.filename, data)
    return out.getvalue()


def image_bytes(fmt="PNG", size=(40, 30), color="red"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def xlsx_entity_expansion():
    """A "billion laughs" worksheet: a DTD whose entities double ten times over."""
    entities = '<!ENTITY a0 "商户">' + "".join(f'<!ENTITY a{i} "&a{i - 1};&a{i - 1};">' for i in range(1, 30))
    sheet = (f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]><worksheet xmlns="http://schemas.openxmlformats'
             f'.org/spreadsheetml/2006/main"><sheetData>{_header_row()}<row r="2"><c r="A2" t="inlineStr"><is><t>'
             f"&a29;</t></is></c></row></sheetData></worksheet>")
    return xlsx(sheet.encode())


def docx_many_elements(docx_data, elements=1_200_000):
    """A document.xml of more than a million tiny elements, stored uncompressed (no ratio to flag)."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    body = b"<w:p/>" * elements + "<w:p><w:r><w:t>正文。</w:t></w:r></w:p>".encode()
    return replace_members(docx_data, {"word/document.xml": head + body + b"</w:body></w:document>"},
                           zipfile.ZIP_STORED)
