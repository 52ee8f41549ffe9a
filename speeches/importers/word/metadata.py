"""Title, speaker, date and meeting as the text states them; nothing is guessed."""

import datetime
import re
from dataclasses import dataclass, field

from speeches.importers.text_rules import (
    CJK,
    PAREN_LINE,
    SALUTATION,
    Paragraph,
    _name,
    find_dates,
    find_level,
    find_meeting,
    looks_like_name,
    parse_speaker,
    split_post,
)

TOP_LINES = 6
TAIL_LINES = 3
SHORT_LINE = 60

TITLE_SPEECH = re.compile(
    rf"^(?:[—－\-─]+\s*)?(?:(?P<name>[{CJK}]{{2,4}})同志)?在(?P<meeting>.{{2,60}}?)上的"
    r"(?:讲话|致辞|发言|报告|工作报告|总结讲话|讲话提纲|主旨讲话)(?:稿|（[^）]*）)?$"
)
TITLE_LIKE = re.compile(r"(?:讲话|致辞|发言|报告|讲话稿|讲话提纲)$")
@dataclass
class Metadata:
    title: str = ""
    meeting: str = ""
    org_level: str = ""
    speaker_name: str = ""
    speaker_post: str = ""
    speaker_org: str = ""
    date: datetime.date | None = None
    warnings: list = field(default_factory=list)
    consumed: set = field(default_factory=set)  # indexes of paragraphs that only held metadata

    @property
    def org_level_label(self):
        from speeches.models import OrgLevel

        return dict(OrgLevel.choices).get(self.org_level, "")

    def missing(self):
        labels = [("title", "标题"), ("speaker_name", "讲话人"), ("date", "讲话日期"), ("meeting", "会议/场合"),
                  ("org_level", "组织层级")]
        return [label for attr, label in labels if not getattr(self, attr)]


def extract(paras):
    """Read metadata from the top and tail lines of the document (a list of Para)."""
    meta = Metadata()
    texts = [p.text for p in paras]
    top = []
    for index, text in enumerate(texts[:TOP_LINES]):
        if SALUTATION.match(text) or len(text) > SHORT_LINE or text.endswith("。"):
            break
        top.append(index)
    tail = [i for i in range(max(len(texts) - TAIL_LINES, 0), len(texts)) if len(texts[i]) <= 40 and i not in top]

    # Title: a "在……上的讲话" line (possibly a subtitle under the main title), else a title-styled line.
    for index in top:
        match = TITLE_SPEECH.match(texts[index])
        if not match:
            continue
        meta.meeting = match["meeting"]
        if match["name"]:
            meta.speaker_name = match["name"]
        subtitle = texts[index].startswith(("—", "－", "-", "─"))
        previous = [i for i in top if i < index and i not in meta.consumed]
        if subtitle and previous and not find_dates(texts[previous[-1]]):
            meta.title = texts[previous[-1]]
            meta.consumed.add(previous[-1])
        else:
            meta.title = texts[index].lstrip("—－-─ ")
        meta.consumed.add(index)
        break
    if not meta.title:
        for index in top:
            para = paras[index]
            styled = para.style.lower() in {"title", "标题"} or re.match(r"(?i)^(heading|标题)\s*1$", para.style)
            if (index == top[0] and styled) or TITLE_LIKE.search(para.text):
                meta.title = para.text
                meta.consumed.add(index)
                break

    # Speaker and date: '（张三同志 2024年3月5日）', '市总工会主席 张三', a date line.
    for index in top + tail:
        if index in meta.consumed:
            continue
        text = texts[index].strip()
        paren = PAREN_LINE.match(text)
        inner = paren["inner"] if paren else text
        dates = find_dates(inner)
        rest = inner
        for _date, (start, end), _parts in reversed(dates):
            rest = rest[:start] + rest[end:]
        rest = rest.strip(" \u3000，,")
        speaker = parse_speaker(rest) if rest else None
        if speaker is None and dates and paren and looks_like_name(rest):
            speaker = ("", _name(rest))
        if dates and (not rest or speaker):
            date, _span, parts = dates[0]
            if date is None:
                meta.warnings.append(f"日期“{parts[0]}年{parts[1]}月{parts[2]}日”不存在，未填写，请核对")
            elif not meta.date:
                meta.date = date
            meta.consumed.add(index)
        if speaker and not meta.speaker_post and (not meta.speaker_name or meta.speaker_name == speaker[1]):
            post, name = speaker
            meta.speaker_name = name
            meta.speaker_org, meta.speaker_post = split_post(post) if post else ("", "")
            meta.consumed.add(index)

    if not meta.meeting:
        body = [Paragraph(t, i) for i, t in enumerate(texts) if i not in meta.consumed]
        meta.meeting = find_meeting(body)
    meta.org_level = find_level(meta.meeting)
    return meta
