"""Parse the speech-template corpus format into clean speeches.

The format: a promo line, then entries that each start with a heading line
``工会工作会议讲话内容篇一`` … and hold one or more speeches with site boilerplate,
pagination debris and broken lines. See corpus/README.md.
"""

import re
from dataclasses import dataclass, field

ENTRY_HEADING = re.compile(r"^工会工作会议讲话内容篇([一二三四五六七八九十百〇零]+)\s*$")
ADDRESS_LINE = re.compile(r"^【本文地址[:：].*】$")
PAGINATION = re.compile(r"^(共|页|页[,，]当前第。?|当前第.*页|[\d\s]{1,12})$")
PROMO_FRAGMENTS = {"讲话稿。", "材料讲话,仅供参考。", "材料讲话，仅供参考。"}
BOILERPLATE = re.compile(r"本站小编|仅供参考|本文地址")
LINK_FRAGMENT = re.compile(r"^[\u4e00-\u9fff]{1,6}。$")
SALUTATION = re.compile(r"^(同志们|同事们|老师们|各位[^:：。，,]{0,24}|尊敬的[^:：。]{0,40})[:：]$")
CLOSING = re.compile(r"^同志们[,，]")
OPENING = re.compile(r"^[^。]{0,30}召开[^。]{0,30}会议")
GARBLED = "^v^"
PLACEHOLDER = "□"
CJK = "\u4e00-\u9fff"

HEADING_STYLES = [
    ("cn", re.compile(r"^[一二三四五六七八九十]{1,3}、")),
    ("cn_paren", re.compile(r"^[（(][一二三四五六七八九十]{1,3}[)）]、?")),
    ("ordinal", re.compile(r"^第[一二三四五六七八九十]{1,3}[,，、]")),
    ("arabic", re.compile(r"^\d{1,2}[.、．](?!\d)")),
    ("arabic_paren", re.compile(r"^[（(]\d{1,2}[)）]、?")),
]
HEADING_LEVELS = ["h2", "h3", "h4"]
MAX_HEADING_CHARS = 40

# Only the meeting this speech is given at: "今天/这次/在这里 … 召开 …会议", "这次…会议", "市委召开…会议".
MEETING_PATTERNS = [
    re.compile(
        r"(?:^(?P<org>[省市县区]委)|今天|这次|本次|在这里)[^。]{0,12}?(?:召开|举行)(?:了)?(?:这次|本次)?(?:的)?"
        r"(?P<m>[^,，。:：;；!！“”、]{2,40}?(?:会议|座谈会|大会|全会|会))(?=[,，。的是上，])"
    ),
    re.compile(r"(?:这次|本次)(?:的)?(?P<m>[^,，。:：;；!！“”、]{2,40}?(?:会议|座谈会|大会|全会))"),
]
LEVEL_RULES = [
    ("national", re.compile(r"全国|全总|中华全国总工会")),
    ("provincial", re.compile(r"全省|省直|省委|省总")),
    ("city", re.compile(r"全市|市委|市总|市直|市人大")),
    ("county", re.compile(r"全县|县委|县总|全区|区委|区总")),
    ("industry", re.compile(r"系统|行业|产业")),
    ("grassroots", re.compile(r"学校|教职工|村|医院|公司|企业|工厂|车间")),
]
REGION = re.compile(rf"([{CJK}]{{2,4}}?[省市县])(?=委|地处)")
DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")

# Topics are read from the text: a topic is tagged when its words occur in the speech.
TOPIC_VOCABULARY = {
    "会员服务卡": ["服务卡"],
    "职工医疗互助": ["医疗互助"],
    "小额担保贷款": ["小额担保贷款", "担保贷款"],
    "疗休养": ["疗休养"],
    "师德建设": ["师德"],
    "送温暖": ["送温暖"],
    "职工维权": ["维权", "合法权益"],
    "工资集体协商": ["工资集体协商", "集体协商"],
    "职代会": ["职代会", "职工代表大会"],
    "厂务公开": ["厂务公开", "校务公开"],
    "安全生产": ["安全生产"],
    "劳动竞赛": ["劳动竞赛"],
    "困难职工帮扶": ["困难职工", "帮扶"],
    "农民工": ["农民工", "流动工人"],
    "党风廉政建设": ["廉政", "反腐败", "廉洁"],
    "工会组织建设": ["组织建设", "基层工会建设", "工会组建"],
    "职工服务中心": ["职工服务中心"],
    "职工文化": ["职工文化", "企业文化"],
    "劳动关系": ["劳动关系", "劳动合同"],
    "教育工会": ["教育工会", "教职工"],
    "民主管理": ["民主管理"],
    "党建工作": ["党建", "党史学习"],
}
MAX_TOPICS = 6


class CorpusFormatError(Exception):
    def __init__(self, message, line=None):
        self.line = line
        super().__init__(f"第{line}行：{message}" if line else message)


@dataclass
class Notice:
    line: int
    message: str

    def __str__(self):
        return f"第{self.line}行：{self.message}"


@dataclass
class Paragraph:
    text: str
    line: int


@dataclass
class ParsedSpeech:
    number: str
    part: int
    paragraphs: list
    start_line: int
    end_line: int
    parts_in_entry: int = 1
    title: str = ""
    meeting: str = ""
    org_level: str = ""
    region: str = ""
    date: object = None
    topics: list = field(default_factory=list)
    blocks: list = field(default_factory=list)

    @property
    def label(self):
        return f"篇{self.number}" + (f"（{self.part}）" if self.parts_in_entry > 1 else "")

    @property
    def key_suffix(self):
        return f"{self.number}-{self.part}"

    @property
    def slug(self):
        return f"speech-{chinese_number(self.number):02d}" + (f"-{self.part}" if self.parts_in_entry > 1 else "")

    @property
    def text(self):
        return "\n".join(p.text for p in self.paragraphs)


@dataclass
class Duplicate:
    label: str
    of_label: str
    similarity: float
    line: int
    kind: str = "duplicate"

    def __str__(self):
        if self.kind == "contained":
            return f"{self.label} 的一部分与 {self.of_label} 全文相同，只导入一次"
        return f"{self.label} 与 {self.of_label} 重复（相似度 {self.similarity:.0%}），未重复导入"


@dataclass
class ParseResult:
    speeches: list
    duplicates: list
    warnings: list
    removed_lines: int = 0


def chinese_number(text: str) -> int:
    digits = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    total, current = 0, 0
    for char in text:
        if char in digits:
            current = digits[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise CorpusFormatError("文件包含空字节，不是文本文件")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CorpusFormatError("文件不是 UTF-8 编码的文本", line) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def normalise(text: str) -> str:
    """Characters that carry content: CJK, letters and digits (punctuation differences ignored)."""
    return re.sub(rf"[^{CJK}0-9A-Za-z]", "", text)


def shingles(text: str, size: int = 5) -> set:
    norm = normalise(text)
    return {norm[i : i + size] for i in range(max(len(norm) - size + 1, 1))}


def clean_inline(text: str) -> str:
    text = re.sub(rf"(?<=[{CJK}])--(?=[{CJK}])", "——", text)
    text = re.sub(rf"(?<=[{CJK}])-(?=[{CJK}])", "", text)
    text = re.sub(rf"(?<=[{CJK}])[ \t\u3000]+(?=[{CJK}])", "", text)
    return text.strip(" \t\u3000")


def split_entries(lines):
    entries, current = [], None
    preamble = []
    for number, line in enumerate(lines, 1):
        match = ENTRY_HEADING.match(line.strip())
        if match:
            current = {"number": match.group(1), "line": number, "lines": []}
            entries.append(current)
        elif current is None:
            if line.strip():
                preamble.append(number)
        else:
            current["lines"].append((number, line))
    return entries, preamble


def clean_entry(entry, warnings):
    """Drop boilerplate and debris, repair broken lines; return paragraphs."""
    kept = []
    removed = 0
    for number, raw in entry["lines"]:
        line = raw.strip().strip("\u3000")
        if not line:
            continue
        if ADDRESS_LINE.match(line) or line in PROMO_FRAGMENTS or BOILERPLATE.search(line) or PAGINATION.match(line):
            removed += 1
            continue
        kept.append(Paragraph(line, number))

    joined = []
    i = 0
    while i < len(kept):
        para = kept[i]
        if (
            joined
            and i + 1 < len(kept)
            and LINK_FRAGMENT.match(para.text)
            and not heading_style(para.text)
            and joined[-1].text.endswith("。")
        ):
            previous = joined[-1]
            nxt = kept[i + 1]
            previous.text = previous.text[:-1] + para.text[:-1] + nxt.text
            warnings.append(Notice(para.line, f"修复断行：“{para.text}”与上下行合并"))
            i += 2
            continue
        if joined and joined[-1].text[-1] in ",，、" and not heading_style(para.text):
            joined[-1].text += para.text
            i += 1
            continue
        joined.append(Paragraph(para.text, para.line))
        i += 1

    for para in joined:
        if GARBLED in para.text:
            count = para.text.count(GARBLED)
            para.text = para.text.replace(GARBLED, PLACEHOLDER)
            warnings.append(Notice(para.line, f"乱码“^v^”{count}处，已替换为“{PLACEHOLDER}”，请编辑核对原文"))
        para.text = clean_inline(para.text)
    return [p for p in joined if p.text], removed


def split_speeches(paragraphs):
    """Split an entry where a new speech clearly begins: a fresh salutation after
    content, or an opening about convening a meeting right after a closing remark."""
    parts, current, content = [], [], 0
    for index, para in enumerate(paragraphs):
        starts_new = False
        if SALUTATION.match(para.text) and content >= 3:
            starts_new = True
        elif (
            index > 0
            and CLOSING.match(paragraphs[index - 1].text)
            and OPENING.match(para.text)
            and content >= 3
        ):
            starts_new = True
        if starts_new:
            parts.append(current)
            current, content = [], 0
        current.append(para)
        if not SALUTATION.match(para.text):
            content += 1
    if current:
        parts.append(current)
    return parts


def heading_style(text):
    for name, pattern in HEADING_STYLES:
        if pattern.match(text):
            return name
    return None


def build_blocks(paragraphs):
    levels = {}
    blocks = []
    for para in paragraphs:
        style = heading_style(para.text)
        heading, rest = None, ""
        if style:
            if len(para.text) <= MAX_HEADING_CHARS:
                heading = para.text
            else:
                match = re.match(rf"^(.{{2,{MAX_HEADING_CHARS}}}?[。！？!?])(.+)$", para.text)
                if match:
                    heading, rest = match.group(1), match.group(2).strip()
        if heading:
            if style not in levels:
                levels[style] = HEADING_LEVELS[min(len(levels), len(HEADING_LEVELS) - 1)]
            blocks.append({"type": "heading", "value": {"text": heading.rstrip("。"), "level": levels[style]}})
            if rest:
                blocks.append({"type": "paragraph", "value": rest})
        else:
            blocks.append({"type": "paragraph", "value": para.text})
    return blocks


def find_meeting(paragraphs):
    for para in [p for p in paragraphs if not SALUTATION.match(p.text)][:2]:
        matches = [m for pattern in MEETING_PATTERNS for m in pattern.finditer(para.text)]
        for match in sorted(matches, key=lambda m: m.start()):
                meeting = match.group("m").strip()
                org = match.groupdict().get("org") or ""
                if org and not meeting.startswith(org):
                    meeting = org + meeting
                meeting = re.sub(r"^(在这里|这里|我们|了)", "", meeting)
                if len(meeting) >= 4 and PLACEHOLDER not in meeting and not meeting.startswith("会"):
                    if not meeting.endswith(("会议", "座谈会", "大会", "全会")) and meeting.endswith("会"):
                        meeting += "议"
                    return meeting
    return ""


def find_level(meeting):
    for level, pattern in LEVEL_RULES:
        if meeting and pattern.search(meeting):
            return level
    return ""


def find_region(opening):
    """A place the opening states as the speaker's own (十堰市委…, 景东县地处…), confirmed by jieba."""
    from search.analysis import place_names

    for match in REGION.finditer("\n".join(opening)):
        candidate = match.group(1)
        for name in place_names(candidate):
            if len(name) < 2:
                continue
            if candidate.endswith(name):
                return name
            if candidate[:-1].endswith(name):
                return name + candidate[-1]
    return ""


def find_date(paragraphs):
    import datetime

    for para in paragraphs[-3:] + paragraphs[:2]:
        if len(para.text) <= 30:
            match = DATE.search(para.text)
            if match:
                try:
                    return datetime.date(*(int(g) for g in match.groups()))
                except ValueError:
                    return None
    return None


def find_topics(text):
    counts = []
    for topic, words in TOPIC_VOCABULARY.items():
        total = sum(text.count(word) for word in words)
        if total >= 2:
            counts.append((total, topic))
    counts.sort(key=lambda item: (-item[0], item[1]))
    return [topic for _, topic in counts[:MAX_TOPICS]]


def remove_contained(speeches, duplicates, warnings):
    """If a whole speech appears as a run of paragraphs inside another, keep it once:
    cut the run out of the larger one (the corpus appends 篇十七 to 篇十一)."""
    for small in speeches:
        small_norm = [normalise(p.text) for p in small.paragraphs]
        if len(small_norm) < 2:
            continue
        for big in speeches:
            if big is small or len(big.paragraphs) <= len(small.paragraphs):
                continue
            big_norm = [normalise(p.text) for p in big.paragraphs]
            n = len(small_norm)
            for start in range(len(big_norm) - n + 1):
                if big_norm[start : start + n] == small_norm:
                    run = big.paragraphs[start : start + n]
                    chars = sum(len(p.text) for p in run)
                    del big.paragraphs[start : start + n]
                    warnings.append(
                        Notice(
                            run[0].line,
                            f"{big.label} 第{run[0].line}–{run[-1].line}行（{chars}字）与 {small.label} 全文相同，"
                            f"已从{big.label}中移除，只作为{small.label}导入一次",
                        )
                    )
                    duplicates.append(Duplicate(big.label, small.label, 1.0, run[0].line, "contained"))
                    break


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def parse_corpus(text: str, threshold: float = 0.85) -> ParseResult:
    lines = text.split("\n")
    entries, preamble = split_entries(lines)
    if not entries:
        raise CorpusFormatError("未找到讲话分篇标题（如“工会工作会议讲话内容篇一”），文件格式不符")
    warnings = [Notice(n, "站点推广文字，不属于任何讲话，已忽略") for n in preamble]
    seen_numbers = {}
    speeches = []
    removed_total = 0
    for entry in entries:
        if entry["number"] in seen_numbers:
            raise CorpusFormatError(
                f"分篇标题“篇{entry['number']}”重复（第{seen_numbers[entry['number']]}行已出现）", entry["line"]
            )
        seen_numbers[entry["number"]] = entry["line"]
        paragraphs, removed = clean_entry(entry, warnings)
        removed_total += removed
        if not any(not SALUTATION.match(p.text) for p in paragraphs):
            raise CorpusFormatError(f"篇{entry['number']}没有正文", entry["line"])
        parts = split_speeches(paragraphs)
        for index, part in enumerate(parts, 1):
            speech = ParsedSpeech(
                number=entry["number"],
                part=index,
                paragraphs=part,
                start_line=part[0].line,
                end_line=part[-1].line,
                parts_in_entry=len(parts),
            )
            speeches.append(speech)
        if len(parts) > 1:
            warnings.append(Notice(entry["line"], f"篇{entry['number']}包含{len(parts)}篇讲话，已拆分"))

    duplicates = []
    remove_contained(speeches, duplicates, warnings)

    kept = []
    signatures = []
    for speech in speeches:
        if not speech.paragraphs:
            continue
        sig = shingles(speech.text)
        match = None
        for other, other_sig in zip(kept, signatures, strict=True):
            similarity = jaccard(sig, other_sig)
            if similarity >= threshold:
                match = (other, similarity)
                break
        if match:
            duplicates.append(Duplicate(speech.label, match[0].label, match[1], speech.start_line))
            continue
        kept.append(speech)
        signatures.append(sig)

    for speech in kept:
        speech.blocks = build_blocks(speech.paragraphs)
        speech.meeting = find_meeting(speech.paragraphs)
        speech.org_level = find_level(speech.meeting)
        speech.region = find_region([p.text for p in speech.paragraphs if not SALUTATION.match(p.text)][:2])
        speech.date = find_date(speech.paragraphs)
        speech.topics = find_topics(speech.text)
        speech.title = f"在{speech.meeting}上的讲话" if speech.meeting else f"工会工作会议讲话（{speech.label}）"
    return ParseResult(kept, duplicates, warnings, removed_total)
