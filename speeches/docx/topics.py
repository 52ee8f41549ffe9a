"""Suggested topics: the union vocabulary first, then TF-IDF keywords from the shared jieba analysis."""

import re

from speeches.importing.corpus import TOPIC_VOCABULARY, find_topics

MIN_TOPICS = 5
MAX_TOPICS = 8
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
        if len(chosen) >= MAX_TOPICS:
            break
        if word in chosen or word in synonyms or any(word in topic or topic in word for topic in chosen):
            continue
        chosen.append(word)
    return chosen[:MAX_TOPICS]
