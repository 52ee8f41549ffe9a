"""Build .docx documents with python-docx (used by the tests and the benchmark)."""

import io

from speeches.importers.corpus import clean_entry, decode, split_entries


def _png(color="red", size=(40, 30)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _oxml(tag, **attrs):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(name.replace("_", ":", 1)), value)
    return element


def _run(text, deleted=False):
    run = _oxml("w:r")
    t = _oxml("w:delText" if deleted else "w:t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    run.append(t)
    return run


def build_docx(items, header="", footer=""):
    """items: str (paragraph) or tuples:
    ("heading", text, level) ("style", text, style_name) ("bold", text) ("center", text) ("table", rows)
    ("image",) ("lines", [part, …]) manual line breaks, ("tracked", before, deleted, inserted, after),
    ("page_field", text, number) text followed by a PAGE field showing number, ("empty",)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    if footer:
        document.sections[0].footer.paragraphs[0].text = footer
    for item in items:
        if isinstance(item, str):
            document.add_paragraph(item)
            continue
        kind = item[0]
        if kind == "heading":
            document.add_heading(item[1], level=item[2])
        elif kind == "style":
            document.add_paragraph(item[1], style=item[2])
        elif kind == "bold":
            document.add_paragraph().add_run(item[1]).bold = True
        elif kind == "center":
            document.add_paragraph(item[1]).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "table":
            rows = item[1]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        elif kind == "image":
            document.add_picture(io.BytesIO(_png()))
        elif kind == "lines":
            paragraph = document.add_paragraph()
            for index, part in enumerate(item[1]):
                run = paragraph.add_run(part)
                if index < len(item[1]) - 1:
                    run.add_break()
        elif kind == "tracked":
            _, before, deleted, inserted, after = item
            paragraph = document.add_paragraph(before)
            removed = _oxml("w:del", w_id="1", w_author="审稿人", w_date="2024-03-01T00:00:00Z")
            removed.append(_run(deleted, deleted=True))
            added = _oxml("w:ins", w_id="2", w_author="审稿人", w_date="2024-03-01T00:00:00Z")
            added.append(_run(inserted))
            paragraph._p.append(removed)
            paragraph._p.append(added)
            paragraph.add_run(after)
        elif kind == "page_field":
            paragraph = document.add_paragraph(item[1])
            field = _oxml("w:fldSimple", w_instr=" PAGE ")
            field.append(_run(item[2]))
            paragraph._p.append(field)
        elif kind == "empty":
            document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def corpus_entries(path):
    """(label, paragraphs) for each raw entry of the corpus file, site boilerplate removed."""
    text = decode(path.read_bytes())
    entries, _ = split_entries(text.split("\n"))
    out = []
    for entry in entries:
        paragraphs, _removed = clean_entry(entry, [])
        out.append((f"篇{entry['number']}", [p.text for p in paragraphs]))
    return out


def corpus_documents(path):
    """One .docx per raw corpus entry, as an editor would receive it."""
    return [(label, build_docx(paragraphs)) for label, paragraphs in corpus_entries(path)]
