"""The text rules both importers share (corpus format and Word): normalising, headings, salutations, speaker
lines, dates, meeting, level and region, topics, and the shingles that measure duplicates."""

import datetime
import re
from dataclasses import dataclass

CJK = "\u4e00-\u9fff"
PLACEHOLDER = "□"  # stands for garbled characters in a text
SALUTATION = re.compile(r"^(同志们|同事们|老师们|各位[^:：。，,]{0,24}|尊敬的[^:：。]{0,40})[:：]$")
CLOSING = re.compile(r"^同志们[,，]")
OPENING = re.compile(r"^[^。]{0,30}召开[^。]{0,30}会议")

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



# Speaker lines and dates, as a Word document writes them.
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
class Paragraph:
    text: str
    line: int


def chinese_number(text: str) -> int:
    digits = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    units = {"十": 10, "百": 100, "千": 1000}
    total, section, current = 0, 0, 0
    for char in text:
        if char in digits:
            current = digits[char]
        elif char in units:
            section += (current or 1) * units[char]
            current = 0
        elif char == "万":
            total += ((section + current) or 1) * 10000
            section = current = 0
    return total + section + current



_NOT_CONTENT = re.compile(rf"[^{CJK}0-9A-Za-z]")


def normalise(text: str) -> str:
    """Characters that carry content: CJK, letters and digits (punctuation differences ignored)."""
    return _NOT_CONTENT.sub("", text)


def shingles(text: str, size: int = 5) -> set:
    norm = normalise(text)
    return {norm[i : i + size] for i in range(max(len(norm) - size + 1, 1))}



_DOUBLE_HYPHEN = re.compile(rf"(?<=[{CJK}])--(?=[{CJK}])")
_HYPHEN = re.compile(rf"(?<=[{CJK}])-(?=[{CJK}])")
_INNER_SPACE = re.compile(rf"(?<=[{CJK}])[ \t\u3000]+(?=[{CJK}])")


def clean_inline(text: str) -> str:
    if "-" in text:
        text = _HYPHEN.sub("", _DOUBLE_HYPHEN.sub("——", text))
    text = _INNER_SPACE.sub("", text)
    return text.strip(" \t\u3000")



def heading_style(text):
    for name, pattern in HEADING_STYLES:
        if pattern.match(text):
            return name
    return None


_FIRST_SENTENCE = re.compile(rf"^(.{{2,{MAX_HEADING_CHARS}}}?[。！？!?])(.+)$")


def numbered_heading(text):
    """(numbering style, heading, rest) of a line that starts with a heading number (一、 （二） 3. …): a line
    too long for a heading keeps its first sentence as the heading; None when there is no heading."""
    style = heading_style(text)
    if not style:
        return None
    if len(text) <= MAX_HEADING_CHARS:
        return style, text, ""
    match = _FIRST_SENTENCE.match(text)
    if match:
        return style, match[1], match[2].strip()
    return None




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


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


SHINGLE = 5


def shingle_set(norm):
    """The 5-character shingles of a normalised text, as shingles() makes them."""
    if len(norm) <= SHINGLE:
        return {norm}
    return set(map(norm.__getitem__, map(slice, range(len(norm) - SHINGLE + 1), range(SHINGLE, len(norm) + 1))))


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


# Suggested topics: the union vocabulary first, then TF-IDF keywords from the shared jieba analysis.
MIN_TOPICS = 5
MAX_SUGGESTED = 8
# Words every union speech uses; they say nothing about the topic.
GENERIC = set(
    """
    工会 工作 职工 同志 同志们 我们 你们 他们 大家 今天 今年 明年 全市 全省 全县 全区
    领导 会议 问题 组织 发展 建设 推进 活动 单位 部门 各级 积极 认真 努力 切实 做好
    提高 重要 服务 进一步 加强 开展 一是 二是 三是 四是 方面 情况 要求 工作会议 讲话 一个
    这个 没有 不断 广大 同时 坚持 实现 落实 贯彻 围绕 充分 作用 任务 目标 全面 深入
    推动 抓好 取得 成绩 总结 部署 以来 当前 今后 一年 全年 主席 书记 自己 这些 什么
    就是 还是 已经 通过 进行 作为 我市 我省 我县 我区 xx xxx 20xx
    各位 在座 参加 同事 我院 我厂 我校 我局 村里 村中 本学期 学期 担任 我们的 一定 必须 需要 时候
    致以 崇高 敬意 问候 祝福 祝愿 衷心 感谢 谢意 慰问 节日 新春 春节 佳节 美好 热烈 欢迎 祝贺 辛勤 付出
    """.split()
)
# Nouns only (jieba tags): topics are things a speech is about, not verbs, numbers or courtesies.
NOUN_TAGS = ("n", "nz", "nt", "nw", "vn")
MEASURE = re.compile(r"^[\d万亿千百十]*(?:人次|人|次|元|万元|亿元|户|家|名|个|项|件|天|年|月)$")


def union_words():
    from search.analysis import USER_DICT

    words = []
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():
        if line.strip():
            words.append(line.split()[0])
    return words


def existing_topics():
    from speeches.models import SpeechPageTag

    return set(SpeechPageTag.objects.values_list("tag__name", flat=True).distinct())


def _useful(word):
    return (len(word) >= 2 and word not in GENERIC and not re.fullmatch(r"[\dA-Za-z.%xX]+", word)
            and not MEASURE.match(word))


def suggest_topics(text, known=None):
    """5–8 topics: vocabulary topics the text is about, then keywords the union vocabulary or archive knows,
    then other keywords."""
    from search.analysis import extract_keywords

    known = existing_topics() if known is None else known
    vocabulary = set(TOPIC_VOCABULARY) | set(union_words()) | set(known)
    chosen = list(find_topics(text))
    keywords = [word for word in extract_keywords(text, topk=40) if _useful(word)]
    nouns = set(extract_keywords(text, topk=40, allow_pos=NOUN_TAGS))
    preferred = [word for word in keywords if word in vocabulary]
    others = [word for word in keywords if word not in vocabulary and word in nouns and len(word) >= 2]
    synonyms = {word for topic in chosen for word in TOPIC_VOCABULARY.get(topic, [])}

    for word in preferred + others:
        if len(chosen) >= MAX_SUGGESTED:
            break
        if word in chosen or word in synonyms or any(word in topic or topic in word for topic in chosen):
            continue
        chosen.append(word)
    return chosen[:MAX_SUGGESTED]
