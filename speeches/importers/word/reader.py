"""Read a .docx into ordered body elements with python-docx and its lxml tree.

Like wagtail-content-import's DocxParser this walks the document body and emits intermediate
{kind, value} elements that are later mapped to StreamField blocks; unlike it, it also keeps
tables and images, follows tracked changes and drops field results such as page numbers.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings

from core.images import ImageRejected, safe_name, verify_image
from core.uploads import MB, UploadRejected, check_zip
from speeches.importers.word.errors import DocxImportError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
V = "urn:schemas-microsoft-com:vml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def w(tag):
    return f"{{{W}}}{tag}"


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# What a .docx may expand to before python-docx parses it (core.uploads.check_zip), and how much text it may hold.
DOCX_MAX_MEMBERS = 500
DOCX_MAX_XML_PART = 10 * MB  # document.xml, styles.xml, … (parsed into a tree)
DOCX_MAX_PART = 20 * MB  # images and other parts
DOCX_MAX_TOTAL = 50 * MB
DOCX_MAX_RATIO = 100
DOCX_MAX_XML_ELEMENTS = 1_000_000
MAX_TEXT_CHARS = 300_000

# Subtrees whose text is not part of the final document (deleted revisions, field codes, text boxes, notes).
SKIP = {w("del"), w("moveFrom"), w("delText"), w("instrText"), w("pPr"), w("rPr"), w("txbxContent"),
        w("footnoteReference"), w("endnoteReference"), w("commentReference"), w("delInstrText")}
PAGE_FIELDS = re.compile(r"\b(PAGE|NUMPAGES|SECTIONPAGES)\b")
PAGE_NUMBER = re.compile(
    r"^[-—–\s]*(?:第\s*\d{1,4}\s*页(?:\s*[,，]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}(?:\s*[/／]\s*\d{1,4})?"
    r"|Page\s*\d{1,4}(?:\s*of\s*\d{1,4})?|[-—–]\s*\d{1,4}\s*[-—–])[-—–\s]*$",
    re.IGNORECASE,
)
SENTENCE_END = tuple("。！？!?；;：:…”’」』）)")
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
TITLE_STYLES = {"title", "标题", "subtitle", "副标题"}
QUOTE_STYLES = {"quote", "intense quote", "引用", "明显引用"}


def max_bytes():
    return getattr(settings, "DOCX_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


@dataclass
class Para:
    """One paragraph of the body as written, before classification."""

    text: str
    style: str = ""
    bold: bool = False
    centered: bool = False


@dataclass
class TableEl:
    rows: list


@dataclass
class ImageEl:
    data: bytes
    name: str
    ext: str
    alt: str = ""


@dataclass
class RawDocument:
    items: list = field(default_factory=list)  # Para | TableEl | ImageEl, in order
    warnings: list = field(default_factory=list)


def check_bytes(name, data):
    """Reject what is not a readable .docx before python-docx sees it."""
    lower = name.lower()
    if len(data) > max_bytes():
        raise DocxImportError(f"文件过大（{len(data) / 1048576:.1f} MB），单个文件不能超过 {max_bytes() // 1048576} MB")
    if lower.endswith(".doc") or (data[:8] == OLE_MAGIC and ENCRYPTED_MARK not in data):
        raise DocxImportError("这是旧版 Word 格式（.doc），请在 Word 或 WPS 中“另存为” .docx 后再上传")
    if data[:8] == OLE_MAGIC:
        raise DocxImportError("文件设置了打开密码（已加密），请在 Word 或 WPS 中取消密码后另存为 .docx 再上传")
    if not lower.endswith(".docx"):
        raise DocxImportError("不是 Word 文档（.docx），未导入")
    if not data:
        raise DocxImportError("文件是空的（0 字节）")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocxImportError("文件已损坏，无法作为 Word 文档（.docx）打开")
    try:
        check_zip(data, DOCX_MAX_MEMBERS, _part_limit, DOCX_MAX_TOTAL, DOCX_MAX_RATIO, what="Word 文档",
                  max_xml_elements=DOCX_MAX_XML_ELEMENTS)
    except UploadRejected as exc:
        raise DocxImportError(str(exc)) from exc


def _part_limit(name):
    return DOCX_MAX_XML_PART if name.lower().endswith((".xml", ".rels")) else DOCX_MAX_PART


def open_document(name, data):
    from docx import Document

    check_bytes(name, data)
    try:
        return Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for broken packages
        raise DocxImportError("文件已损坏或不是有效的 Word 文档（.docx），无法打开") from exc


class _Walker:
    """Collect the visible text of a paragraph, following tracked changes and skipping field results."""

    def __init__(self, document, warnings):
        self.part = document.part
        self.warnings = warnings
        self.fields = []

    def paragraph(self, p):
        self.out = []  # ("text", str, bold) | ("image", ImageEl)
        self.fields = []
        self._walk(p)
        return self.out

    def _in_page_field(self):
        return any(f["result"] and PAGE_FIELDS.search(f["instr"]) for f in self.fields)

    def _walk(self, el):
        for child in el.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIP:
                if tag == w("instrText") and self.fields:
                    self.fields[-1]["instr"] += child.text or ""
                continue
            if tag == w("t"):
                if not self._in_page_field():
                    self.out.append(("text", child.text or "", _run_bold(child)))
            elif tag == w("tab"):
                self.out.append(("text", " ", False))
            elif tag in (w("br"), w("cr")):
                if child.get(w("type")) not in ("page", "column"):
                    self.out.append(("text", "\n", False))
            elif tag == w("noBreakHyphen"):
                self.out.append(("text", "-", False))
            elif tag == w("fldChar"):
                kind = child.get(w("fldCharType"))
                if kind == "begin":
                    self.fields.append({"instr": "", "result": False})
                elif kind == "separate" and self.fields:
                    self.fields[-1]["result"] = True
                elif kind == "end" and self.fields:
                    self.fields.pop()
            elif tag == w("fldSimple"):
                if not PAGE_FIELDS.search(child.get(w("instr")) or ""):
                    self._walk(child)
            elif tag == f"{{{MC}}}AlternateContent":
                choice = child.find(f"{{{MC}}}Choice")
                self._walk(choice if choice is not None else child)
            elif tag in (w("drawing"), w("pict"), w("object")):
                self._image(child)
            else:
                self._walk(child)

    def _image(self, el):
        ids = [b.get(f"{{{R}}}embed") for b in el.iter(f"{{{A}}}blip")]
        ids += [i.get(f"{{{R}}}id") for i in el.iter(f"{{{V}}}imagedata")]
        for rid in filter(None, ids):
            part = self.part.related_parts.get(rid)
            if part is None:
                continue
            ext = IMAGE_TYPES.get(getattr(part, "content_type", ""))
            name = str(part.partname).rsplit("/", 1)[-1]
            if ext is None:
                self.warnings.append(f"图片“{name}”的格式不支持（只支持 PNG、JPEG、GIF、WebP），已略过")
                continue
            try:
                verified = verify_image(part.blob)
            except ImageRejected as exc:
                self.warnings.append(f"图片“{name}”{exc}，已略过")
                continue
            ext, name = verified.ext, safe_name(name, verified.ext)
            alt = ""
            for doc_pr in el.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"):
                alt = (doc_pr.get("descr") or "").strip()
            if not alt:
                self.warnings.append(f"图片“{name}”没有替代文字，导入后请在编辑页补充")
            self.out.append(("image", ImageEl(part.blob, name, ext, alt[:255])))
            return


def _run_bold(t):
    run = t.getparent() if t.getparent() is not None else None
    rpr = run.find(w("rPr")) if run is not None else None
    if rpr is None:
        return None
    b = rpr.find(w("b"))
    if b is None:
        return None
    return b.get(w("val"), "true") not in ("0", "false", "off")


def _style_name(document, p):
    ppr = p.find(w("pPr"))
    style_el = ppr.find(w("pStyle")) if ppr is not None else None
    if style_el is None:
        return "", None
    try:
        style = document.styles.get_by_id(style_el.get(w("val")), 1)  # WD_STYLE_TYPE.PARAGRAPH
    except Exception:
        return "", None
    return (style.name or ""), style.font.bold


def _centered(p):
    ppr = p.find(w("pPr"))
    jc = ppr.find(w("jc")) if ppr is not None else None
    return jc is not None and jc.get(w("val")) == "center"


def _clean_text(text):
    return text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")


def _join_lines(text):
    """Manual line breaks inside a sentence are joined; a break after a sentence ends starts a new paragraph."""
    merged = []
    for line in (line.strip(" \t\u3000") for line in text.split("\n")):
        if not line:
            continue
        if merged and not merged[-1].endswith(SENTENCE_END):
            merged[-1] += line
        else:
            merged.append(line)
    return merged


def _emit_paragraph(doc_items, pieces, style, style_bold, centered):
    buffer, bold_flags = [], []

    def flush():
        text = _clean_text("".join(buffer))
        visible = [flag for piece, flag in zip(buffer, bold_flags, strict=True) if piece.strip()]
        all_bold = bool(visible) and all((flag if flag is not None else bool(style_bold)) for flag in visible)
        for line in _join_lines(text):
            if PAGE_NUMBER.match(line):
                continue
            doc_items.append(Para(line, style, all_bold, centered))
        buffer.clear()
        bold_flags.clear()

    for piece in pieces:
        if piece[0] == "image":
            flush()
            doc_items.append(piece[1])
        else:
            buffer.append(piece[1])
            bold_flags.append(piece[2])
    flush()


def _table(walker, tbl):
    rows = []
    for tr in tbl.iter(w("tr")):
        if tr.getparent() is not None and tr.getparent().tag != w("tbl"):
            continue
        if tr.find(f"{w('trPr')}/{w('del')}") is not None:
            continue
        row = []
        for tc in tr.findall(w("tc")):
            lines = []
            for p in tc.iter(w("p")):
                text = "".join(piece[1] for piece in walker.paragraph(p) if piece[0] == "text")
                lines += _join_lines(_clean_text(text))
            row.append(" ".join(lines))
            tcpr = tc.find(w("tcPr"))
            span = tcpr.find(w("gridSpan")) if tcpr is not None else None
            if span is not None and (span.get(w("val")) or "1").isdigit():
                row += [""] * (int(span.get(w("val"))) - 1)
        rows.append(row)
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return None
    width = max(len(row) for row in rows)
    return TableEl([row + [""] * (width - len(row)) for row in rows])


def read_docx(name, data):
    """Ordered paragraphs, tables and images of the document body (headers and footers are separate parts)."""
    document = open_document(name, data)
    raw = RawDocument()
    walker = _Walker(document, raw.warnings)
    body = document.element.body
    chars = 0

    def count(items):
        nonlocal chars
        for item in items:
            if isinstance(item, Para):
                chars += len(item.text)
            elif isinstance(item, TableEl):
                chars += sum(len(cell) for row in item.rows for cell in row)
        if chars > MAX_TEXT_CHARS:
            raise DocxImportError(f"正文超过 {MAX_TEXT_CHARS // 10000} 万字，不像是一篇讲话稿，未导入；请拆分后再上传")

    def walk_body(container):
        for child in container.iterchildren():
            before = len(raw.items)
            if child.tag == w("p"):
                style, style_bold = _style_name(document, child)
                _emit_paragraph(raw.items, walker.paragraph(child), style, style_bold, _centered(child))
            elif child.tag == w("tbl"):
                table = _table(walker, child)
                if table:
                    raw.items.append(table)
            elif child.tag in (w("sdt"), w("sdtContent"), w("customXml"), w("ins"), w("moveTo")):
                walk_body(child)
                continue
            count(raw.items[before:])

    walk_body(body)
    if not any(isinstance(item, Para) for item in raw.items):
        raise DocxImportError("文档没有正文（空文档），未导入")
    return raw
