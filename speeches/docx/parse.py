"""A .docx file -> metadata and body blocks (headings, paragraphs, quotes, tables, images)."""

import re
from dataclasses import dataclass, field

from speeches.docx import metadata as meta_mod
from speeches.docx import typography
from speeches.docx.reader import (
    HEADING_STYLE,
    QUOTE_STYLES,
    TITLE_STYLES,
    ImageEl,
    Para,
    TableEl,
    read_docx,
)
from speeches.importing.corpus import HEADING_LEVELS, MAX_HEADING_CHARS, SALUTATION, heading_style

NOT_HEADING_END = ("。", "；", ";", "：", ":", "，", ",")


@dataclass
class ParsedDocx:
    filename: str
    meta: meta_mod.Metadata
    blocks: list  # {"type": ..., "value": ...}; paragraph values are plain text, images ImageEl
    warnings: list = field(default_factory=list)

    @property
    def title(self):
        return self.meta.title

    def text(self, blocks=None):
        parts = [self.meta.title]
        for block in blocks if blocks is not None else self.blocks:
            if block["type"] in ("paragraph", "quote"):
                parts.append(block["value"])
            elif block["type"] == "heading":
                parts.append(block["value"]["text"])
            elif block["type"] == "table":
                parts += [" ".join(row) for row in block["value"]]
        return "\n".join(p for p in parts if p)

    def cleaned(self):
        """(blocks with typography cleaned, list of {where, changes})."""
        out, report = [], []
        title = typography.clean(self.meta.title)
        if title != self.meta.title:
            report.append({"where": "标题", "changes": typography.changes(self.meta.title, title)})
        for index, block in enumerate(self.blocks, 1):
            kind, value = block["type"], block["value"]
            if kind in ("paragraph", "quote"):
                new = typography.clean(value)
                if new != value:
                    report.append({"where": f"第{index}块", "changes": typography.changes(value, new)})
                out.append({"type": kind, "value": new})
            elif kind == "heading":
                new = typography.clean(value["text"])
                if new != value["text"]:
                    report.append({"where": f"第{index}块（标题）", "changes": typography.changes(value["text"], new)})
                out.append({"type": kind, "value": {**value, "text": new}})
            elif kind == "table":
                rows = [[typography.clean(cell) for cell in row] for row in value]
                if rows != value:
                    report.append({"where": f"第{index}块（表格）", "changes": [
                        change for old_row, new_row in zip(value, rows, strict=True)
                        for old, new in zip(old_row, new_row, strict=True) for change in typography.changes(old, new)
                    ]})
                out.append({"type": kind, "value": rows})
            else:
                out.append(block)
        return out, report


def _heading(text, level):
    return {"type": "heading", "value": {"text": text.rstrip("。")[:200], "level": level}}


def classify(items, consumed):
    levels = {}
    blocks = []

    def typed_level(kind):
        if kind not in levels:
            levels[kind] = HEADING_LEVELS[min(len(levels), len(HEADING_LEVELS) - 1)]
        return levels[kind]

    for item in items:
        if isinstance(item, ImageEl):
            blocks.append({"type": "image", "value": item})
            continue
        if isinstance(item, TableEl):
            blocks.append({"type": "table", "value": item.rows})
            continue
        if id(item) in consumed:
            continue
        text, style = item.text, item.style.lower()
        styled = HEADING_STYLE.match(item.style)
        if styled:
            blocks.append(_heading(text, HEADING_LEVELS[min(int(styled[1]) - 1 if int(styled[1]) else 0, 2)]))
            continue
        if style in TITLE_STYLES:
            blocks.append(_heading(text, "h2"))
            continue
        if style in QUOTE_STYLES:
            blocks.append({"type": "quote", "value": text})
            continue
        kind = heading_style(text)
        if kind:
            if len(text) <= MAX_HEADING_CHARS:
                blocks.append(_heading(text, typed_level(kind)))
                continue
            match = re.match(rf"^(.{{2,{MAX_HEADING_CHARS}}}?[。！？!?])(.+)$", text)
            if match:
                blocks.append(_heading(match[1], typed_level(kind)))
                blocks.append({"type": "paragraph", "value": match[2].strip()})
                continue
        if item.bold and len(text) <= MAX_HEADING_CHARS and not text.endswith(NOT_HEADING_END) \
                and not SALUTATION.match(text):
            blocks.append(_heading(text, typed_level("bold")))
            continue
        blocks.append({"type": "paragraph", "value": text})
    return blocks


def parse_docx(name, data):
    raw = read_docx(name, data)
    paras = [item for item in raw.items if isinstance(item, Para)]
    meta = meta_mod.extract(paras)
    consumed = {id(paras[i]) for i in meta.consumed}
    blocks = classify(raw.items, consumed)
    warnings = list(raw.warnings) + meta.warnings
    if not any(block["type"] in ("paragraph", "quote") for block in blocks):
        from speeches.docx.errors import DocxImportError

        raise DocxImportError("文档除标题等信息外没有正文段落，未导入")
    return ParsedDocx(name, meta, blocks, warnings)
