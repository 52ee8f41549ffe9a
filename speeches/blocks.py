import functools
import html
import re

from django.utils.encoding import force_str
from wagtail import blocks
from wagtail.contrib.typed_table_block.blocks import TypedTableBlock
from wagtail.images.blocks import ImageBlock

HEADING_LEVELS = [("h2", "一级标题"), ("h3", "二级标题"), ("h4", "三级标题")]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label="标题文字", max_length=200)
    level = blocks.ChoiceBlock(choices=HEADING_LEVELS, default="h2", label="级别")

    class Meta:
        icon = "title"
        label = "小标题"
        template = "speeches/blocks/heading.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label="引文")
    attribution = blocks.CharBlock(required=False, label="出处")

    class Meta:
        icon = "openquote"
        label = "引文"
        template = "speeches/blocks/quote.html"


_BLOCK_END = re.compile(r"</(?:p|h\d|li|blockquote)>|<(?:br|hr)\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_PLAIN_PARAGRAPH = re.compile(r"<p>(?! *</p>)(?:[^<>&\"'\x00-\x1f\x7f]|&(?:amp|lt|gt|quot|#x27);)*</p>\Z")


def rich_text_to_plain(source):
    """Wagtail's get_text_for_indexing() with a regex instead of an HTML parser.

    Stored paragraphs are whitelisted markup (see ParagraphBlock.get_prep_value); indexing and search snippets
    call this for every paragraph of every speech.
    """
    return html.unescape(_TAG.sub("", _BLOCK_END.sub(" ", source))).strip()


@functools.lru_cache(maxsize=8)
def _whitelister(features):
    from wagtail.admin.rich_text.converters.editor_html import EditorHTMLConverter

    return EditorHTMLConverter(features=list(features)).whitelister


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        kwargs.setdefault("features", ["bold", "italic", "link", "ol", "ul"])
        super().__init__(**kwargs)

    def get_prep_value(self, value):
        # Whatever the source (editor, importers, API, shell), only the allowed tags and attributes are stored.
        source = super().get_prep_value(value)
        if _PLAIN_PARAGRAPH.match(source):
            return source  # one <p> of text with &, < and > escaped: what the whitelister would return
        return _whitelister(tuple(self.features)).clean(source)

    def get_searchable_content(self, value):
        if not self.search_index:
            return []
        return [rich_text_to_plain(force_str(value.source))]

    class Meta:
        icon = "pilcrow"
        label = "段落"
        template = "speeches/blocks/paragraph.html"


class FigureBlock(ImageBlock):
    class Meta:
        icon = "image"
        label = "图片"
        template = "speeches/blocks/image.html"


class TableBlock(TypedTableBlock):
    def __init__(self, **kwargs):
        super().__init__(
            [("text", blocks.CharBlock(label="文字")), ("number", blocks.DecimalBlock(label="数字"))],
            **kwargs,
        )

    class Meta:
        icon = "table"
        label = "表格"
        template = "speeches/blocks/table.html"


class SpeechBodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    heading = HeadingBlock()
    quote = QuoteBlock()
    image = FigureBlock()
    table = TableBlock()

    class Meta:
        block_counts = {}
