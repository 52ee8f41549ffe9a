"""A .docx file -> metadata and body blocks (headings, paragraphs, quotes, tables, images)."""

from dataclasses import dataclass, field

from speeches.importers import typography
from speeches.importers.blocks import HeadingLevels, heading, importer_text, numbered_blocks, paragraph
from speeches.importers.text_rules import HEADING_LEVELS, MAX_HEADING_CHARS, SALUTATION
from speeches.importers.word import metadata as meta_mod
from speeches.importers.word.reader import (
    HEADING_STYLE,
    QUOTE_STYLES,
    TITLE_STYLES,
    ImageEl,
    Para,
    TableEl,
    read_docx,
)

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
        return importer_text(self.meta.title, self.blocks if blocks is None else blocks)

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


def classify(items, consumed):
    levels = HeadingLevels()
    blocks = []
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
            blocks.append(heading(text, HEADING_LEVELS[min(int(styled[1]) - 1 if int(styled[1]) else 0, 2)]))
            continue
        if style in TITLE_STYLES:
            blocks.append(heading(text, "h2"))
            continue
        if style in QUOTE_STYLES:
            blocks.append({"type": "quote", "value": text})
            continue
        numbered = numbered_blocks(text, levels)
        if numbered:
            blocks += numbered
            continue
        if item.bold and len(text) <= MAX_HEADING_CHARS and not text.endswith(NOT_HEADING_END) \
                and not SALUTATION.match(text):
            blocks.append(heading(text, levels("bold")))
            continue
        blocks.append(paragraph(text))
    return blocks


def parse_docx(name, data):
    raw = read_docx(name, data)
    paras = [item for item in raw.items if isinstance(item, Para)]
    meta = meta_mod.extract(paras)
    consumed = {id(paras[i]) for i in meta.consumed}
    blocks = classify(raw.items, consumed)
    warnings = list(raw.warnings) + meta.warnings
    if not any(block["type"] in ("paragraph", "quote") for block in blocks):
        from speeches.importers.word.errors import DocxImportError

        raise DocxImportError("文档除标题等信息外没有正文段落，未导入")
    return ParsedDocx(name, meta, blocks, warnings)
