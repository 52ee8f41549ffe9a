"""Marks the words a visitor searched for (``?hl=``) in a speech's paragraphs and headings."""

import html
import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from search import analysis
from speeches.search.service import highlight

register = template.Library()

MAX_TERMS = 10
MAX_HL_CHARS = 200
TARGET_CLASSES = ("block-paragraph", "block-heading")
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIP_TAGS = {"script", "style", "textarea", "mark"}
_TAG_RE = re.compile(r"""(<!--.*?-->|<(?:[^>"']|"[^"]*"|'[^']*')*>)""", re.DOTALL)
_TAG_NAME_RE = re.compile(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)")
_CLASS_RE = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_CJK_RE = re.compile(r"^[\u3400-\u9fff]+$")


def highlight_terms(raw):
    """The words to mark: the visitor's ``hl`` segmented by search.analysis, at most 10."""
    raw = (raw or "")[:MAX_HL_CHARS]
    if not raw.strip():
        return []
    words = analysis.analyse_query(raw).words
    terms = []
    for word in words:
        if (len(word) >= 2 or _CJK_RE.match(word)) and word not in terms:
            terms.append(word)
        if len(terms) >= MAX_TERMS:
            break
    return terms


def mark_terms_in_html(markup, terms):
    """Wrap the terms in <mark> in the text of paragraph/heading blocks only; tags are copied untouched."""
    if not terms:
        return markup
    out = []
    stack = []  # (tag name, is target, is skip)
    for piece in _TAG_RE.split(str(markup)):
        if not piece:
            continue
        if piece.startswith("<"):
            out.append(piece)
            name_match = _TAG_NAME_RE.match(piece)
            if piece.startswith("<!--") or not name_match:
                continue
            name = name_match.group(1).lower()
            if piece.startswith("</"):
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][0] == name:
                        del stack[i:]
                        break
            elif name not in VOID_TAGS and not piece.rstrip(">").endswith("/"):
                class_match = _CLASS_RE.search(piece)
                classes = (next((g for g in class_match.groups() if g), "") if class_match else "").split()
                stack.append((name, any(c in TARGET_CLASSES for c in classes), name in SKIP_TAGS))
            continue
        inside = any(entry[1] for entry in stack) and not any(entry[2] for entry in stack)
        out.append(highlight(html.unescape(piece), terms) if inside else piece)
    return "".join(out)


class HighlightNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        content = self.nodelist.render(context)
        request = context.get("request")
        raw = request.GET.get("hl", "") if request is not None else ""
        terms = highlight_terms(raw)
        if not terms:
            return content
        notice = format_html(
            '<p class="search-highlight-notice no-print" role="status">'
            '已高亮显示搜索词：{} <a href="{}">取消高亮</a></p>',
            "、".join(terms),
            request.path,
        )
        return notice + mark_safe(mark_terms_in_html(content, terms))


@register.tag("search_highlight")
def search_highlight(parser, token):
    """{% search_highlight %}…{% endsearch_highlight %}: highlight ?hl= words in the enclosed body."""
    nodelist = parser.parse(("endsearch_highlight",))
    parser.delete_first_token()
    return HighlightNode(nodelist)
