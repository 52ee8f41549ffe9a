"""Speech body blocks: the one builder both importers use, the StreamField data its blocks become, and the plain
text of stored blocks (for the importers, the admin views and the page model).

An importer's blocks are {"type", "value"} dicts with plain-text values: a paragraph or quote is its text, a
heading {"text", "level"}, a table its rows (the first one the header), an image a reader.ImageEl.
"""

from django.utils.html import escape

from speeches.importers.text_rules import HEADING_LEVELS, numbered_heading

TEXT_KINDS = ("paragraph", "heading", "quote")  # what page.plain_text() reads (tables are left out)


class HeadingLevels:
    """h2, h3, h4 in the order a text first uses each kind of heading (一、 then （一） then 1. …)."""

    def __init__(self):
        self.levels = {}

    def __call__(self, kind):
        if kind not in self.levels:
            self.levels[kind] = HEADING_LEVELS[min(len(self.levels), len(HEADING_LEVELS) - 1)]
        return self.levels[kind]


def heading(text, level):
    return {"type": "heading", "value": {"text": text.rstrip("。")[:200], "level": level}}


def paragraph(text):
    return {"type": "paragraph", "value": text}


def numbered_blocks(text, levels):
    """A line starting with a heading number as a heading (and the rest of a long line as a paragraph), or None."""
    found = numbered_heading(text)
    if found is None:
        return None
    kind, title, rest = found
    return [heading(title, levels(kind))] + ([paragraph(rest)] if rest else [])


def build_blocks(texts, levels=None):
    """Blocks of plain paragraphs: numbered headings found by their numbering, everything else a paragraph."""
    levels = levels or HeadingLevels()
    blocks = []
    for text in texts:
        blocks += numbered_blocks(text, levels) or [paragraph(text)]
    return blocks


def to_stream(blocks, image=None):
    """An importer's blocks as StreamField data ([type, value] pairs). image(ImageEl) makes the stored image;
    without it images are left out."""
    data = []
    for block in blocks:
        kind, value = block["type"], block["value"]
        if kind == "paragraph":
            data.append(["paragraph", f"<p>{escape(value)}</p>"])
        elif kind == "image":
            if image is not None:
                data.append(["image", image(value)])
        elif kind == "table":
            header, *rows = value
            data.append(["table", {
                "columns": [{"type": "text", "heading": cell} for cell in header],
                "rows": [{"values": row} for row in rows],
                "caption": "",
            }])
        else:
            data.append([kind, value])
    return data


def block_text(kind, value):
    """The readable text of one stored block ("" for images)."""
    from speeches.blocks import rich_text_to_plain  # StreamField blocks need the app registry; the rules do not

    if kind == "paragraph" and isinstance(value, str):
        return rich_text_to_plain(value)
    if kind in ("heading", "quote"):
        return value if isinstance(value, str) else (value or {}).get("text") or ""
    if kind == "table" and isinstance(value, dict):
        return " ".join([column.get("heading", "") for column in value.get("columns", [])]
                        + [str(v) for row in value.get("rows", []) for v in row.get("values", [])])
    return ""


def plain_text(blocks, kinds=TEXT_KINDS):
    """The readable text of stored blocks (a StreamField value, its raw data or to_stream() pairs), one block a
    line. Works on the stored JSON without building blocks, so search can call it for a page of results cheaply."""
    parts = []
    for block in getattr(blocks, "raw_data", blocks) or ():
        kind, value = (block.get("type"), block.get("value")) if isinstance(block, dict) else block
        if kind in kinds:
            parts.append(block_text(kind, value))
    return "\n".join(parts)


def importer_text(title, blocks):
    """Title and text of an importer's blocks, tables included (duplicates, topics and the text budget)."""
    body = plain_text(to_stream(blocks), kinds=(*TEXT_KINDS, "table"))
    return "\n".join(part for part in [title, *body.split("\n")] if part)
