"""Title, speaker, date and meeting as the text states them; nothing is guessed."""

import datetime
import re
from dataclasses import dataclass, field

from speeches.importing.corpus import CJK, SALUTATION, Paragraph, chinese_number, find_level, find_meeting

TOP_LINES = 6
TAIL_LINES = 3
SHORT_LINE = 60

TITLE_SPEECH = re.compile(
    rf"^(?:[—－\-─]+\s*)?(?:(?P<name>[{CJK}]{{2,4}})同志)?在(?P<meeting>.{{2,60}}?)上的"
    r"(?:讲话|致辞|发言|报告|工作报告|总结讲话|讲话提纲|主旨讲话)(?:稿|（[^）]*）)?$"
)
TITLE_LIKE = re.compile(r"(?:讲话|致辞|发言|报告|讲话稿|讲话提纲)$")
POSTS = (
    "主席|书记|部长|局长|厅长|市长|县长|区长|镇长|乡长|主任|处长|科长|厂长|校长|院长|经理|董事长|秘书长|委员|组长"
    "|负责人|常委|会长|社长|队长|所长|站长|行长"
)
SPEAKER_LINE = re.compile(
    rf"^(?P<post>[{CJK}、]{{2,40}}?(?:{POSTS}))[\s\u3000]+(?P<name>[{CJK}](?:[\s\u3000]?[{CJK}·]){{1,3}})$"
)
NAME_THEN_POST = re.compile(
    rf"^(?P<name>[{CJK}](?:[\s\u3000]?[{CJK}·]){{1,3}})[\s\u3000]*[（(]\s*(?P<post>[{CJK}、]{{2,40}}?(?:{POSTS}))\s*[)）]$"
)
# A bare name beside a date in brackets, 「（王秀兰  二〇二三年十二月二十八日）」, is taken only when it starts with a
# common surname: a place or an organisation in the same position must not become a speaker.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞"
    "颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
    "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商"
    "刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
                     "宇文", "夏侯")
PLACE_ENDINGS = ("省", "市", "县", "区", "镇", "乡", "村", "街道", "路", "会", "厂", "局", "委", "院", "校", "部")
SPEAKER_LABEL = re.compile(r"^(?:讲话人|主讲人|发言人|讲话者)[:：]\s*(?P<rest>.+)$")
PAREN_LINE = re.compile(r"^[（(]\s*(?P<inner>[^()（）]{2,60}?)\s*[)）]$")
COMRADE = re.compile(rf"(?P<post>[{CJK}、]{{0,40}}?)(?P<name>[{CJK}]{{2,4}}?)同志")
ORG_SPLIT = re.compile(
    rf"^(?P<org>[{CJK}]*?(?:总工会|工会|委员会|党委|党组|政府|人大|政协|[局厅委办院校司处]))(?P<post>.+)$"
)

CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
DATE_ARABIC = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
CN_NUM = "[一二三四五六七八九十]{1,3}"
DATE_CHINESE = re.compile(rf"([〇○零一二三四五六七八九]{{4}})\s*年\s*({CN_NUM})\s*月\s*({CN_NUM})\s*日")
DATE_DOTTED = re.compile(r"(?<![\d.])(\d{4})\s*[.．/-]\s*(\d{1,2})\s*[.．/-]\s*(\d{1,2})(?![\d.])")


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


def find_dates(text):
    """(date or None, matched span) for each date written in the text; an impossible date gives None."""
    found = []
    for match in DATE_ARABIC.finditer(text):
        found.append(((int(match[1]), int(match[2]), int(match[3])), match.span()))
    for match in DATE_CHINESE.finditer(text):
        year = int("".join(str(CN_DIGITS[c]) for c in match[1]))
        found.append(((year, chinese_number(match[2]), chinese_number(match[3])), match.span()))
    for match in DATE_DOTTED.finditer(text):
        found.append(((int(match[1]), int(match[2]), int(match[3])), match.span()))
    out = []
    for parts, span in sorted(found, key=lambda item: item[1]):
        try:
            out.append((datetime.date(*parts), span, parts))
        except ValueError:
            out.append((None, span, parts))
    return out


def _name(raw):
    return re.sub(r"[\s\u3000]", "", raw)


def split_post(post):
    """'市总工会主席' -> ('市总工会', '主席'); a post without an organisation stays as it is."""
    match = ORG_SPLIT.match(post)
    if match and match["post"]:
        return match["org"], match["post"].lstrip("、")
    return "", post


def looks_like_name(text):
    name = _name(text)
    if not re.fullmatch(rf"[{CJK}·]{{2,4}}", name) or name.endswith(PLACE_ENDINGS):
        return False
    return name[0] in SURNAMES or name.startswith(COMPOUND_SURNAMES)


def parse_speaker(text):
    """(post, name) from '市总工会主席 张三', '张三（市总工会主席）', '张三同志' or '讲话人：张三'; None otherwise."""
    label = SPEAKER_LABEL.match(text)
    if label:
        text = label["rest"].strip()
        match = SPEAKER_LINE.match(text)
        if match:
            return match["post"], _name(match["name"])
        if re.fullmatch(rf"[{CJK}·]{{2,4}}", _name(text)):
            return "", _name(text)
    match = SPEAKER_LINE.match(text)
    if match:
        return match["post"], _name(match["name"])
    match = NAME_THEN_POST.match(text.strip())
    if match:
        return match["post"], _name(match["name"])
    match = COMRADE.fullmatch(text.strip())
    if match:
        return match["post"], match["name"]
    return None


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
