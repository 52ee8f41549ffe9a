"""Chinese typography clean-up: full-width punctuation, stray spaces, split words and quotes.

Numbers, Latin words and URLs are left alone. `clean` returns the new text; `changes` describes what changed.
"""

import difflib
import re

from speeches.importers.text_rules import CJK, clean_inline

CJK_PUNCT = "，。：；？！、（）“”‘’《》〈〉【】—…「」『』"
HAN = f"[{CJK}]"
HAN_OR_PUNCT = f"[{CJK}{CJK_PUNCT}]"
PROTECTED = re.compile(r"(?:https?://|ftp://|www\.)[^\s\u3000，。；！？）”]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
HALF_TO_FULL = {",": "，", ".": "。", ":": "：", ";": "；", "?": "？", "!": "！"}


def _clean_segment(text):
    text = re.sub(rf"(?<={HAN})\.{{3,6}}", "……", text)
    # 「126个 ,为」: spaces before half-width punctuation that follows Chinese text
    text = re.sub(rf"(?<={HAN})[ \t\u3000]+(?=[,;?!](?:$|\s|{HAN_OR_PUNCT}))", "", text)
    # half-width punctuation right after a Chinese character (not inside numbers like 3.5 or 10:30)
    text = re.sub(
        rf"(?<={HAN})([,.:;?!])(?=$|\s|{HAN_OR_PUNCT}|[\"'0-9])",
        lambda m: HALF_TO_FULL[m[1]] if not (m[1] in ".:" and _digit_after(m)) else m[1],
        text,
    )
    text = re.sub(rf"(?<=[{CJK_PUNCT}])([,.:;?!])(?={HAN})", lambda m: HALF_TO_FULL[m[1]], text)
    # parentheses around Chinese text
    text = re.sub(
        r"\(([^()]*)\)",
        lambda m: f"（{m[1]}）" if re.search(HAN, m[1]) or _han_around(m) else m[0],
        text,
    )
    # straight or corner quotes around Chinese text
    text = re.sub(r"\"([^\"\n]*)\"", lambda m: f"“{m[1]}”" if re.search(HAN, m[1]) or _han_around(m) else m[0], text)
    text = text.replace("「", "“").replace("」", "”")
    # hyphens splitting words, '--' dashes and spaces between Chinese characters (shared with the corpus importer)
    core = text.strip(" \t\u3000")
    if core:
        start = text.index(core)
        text = text[:start] + clean_inline(core) + text[start + len(core):]
    text = re.sub(rf"(?<={HAN_OR_PUNCT})[ \t\u3000]+(?={HAN_OR_PUNCT})", "", text)
    return text


def _digit_after(match):
    rest = match.string[match.end():]
    return bool(rest[:1].isdigit())


def _han_around(match):
    before = match.string[match.start() - 1 : match.start()]
    after = match.string[match.end() : match.end() + 1]
    return bool(re.match(HAN, before) or re.match(HAN, after))


def clean(text):
    if not text or not re.search(HAN, text):
        return text
    parts, last = [], 0
    for match in PROTECTED.finditer(text):
        parts.append(_clean_segment(text[last : match.start()]))
        parts.append(match[0])
        last = match.end()
    parts.append(_clean_segment(text[last:]))
    return "".join(parts)


def clean_html(html):
    """Clean the text between tags of a rich-text fragment, never tags or attributes."""
    return "".join(part if part.startswith("<") else clean(part) for part in re.split(r"(<[^>]*>)", html))


def changes(before, after, context=6):
    """Short 'before → after' excerpts of each change."""
    if before == after:
        return []
    out = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = max(i1 - context, 0)
        out.append({
            "before": before[start:i1], "removed": before[i1:i2], "added": after[j1:j2],
            "after": before[i2 : i2 + context],
        })
    return out
