"""Short readable ASCII slugs for Chinese titles: the pinyin of each word, words joined by hyphens."""

import re

from django.utils.text import slugify
from pypinyin import lazy_pinyin

from search.analysis import segment

MAX_LENGTH = 40
_CJK = re.compile(r"[\u3400-\u9fff]")


def has_chinese(text):
    return bool(_CJK.search(text or ""))


def pinyin_slug(title, max_length=MAX_LENGTH):
    """「在全市工会工作会议上的讲话」 → ``zai-quanshi-gonghui-gongzuo-huiyi-shang-de``, cut at a word boundary."""
    words = []
    for word in segment(title or ""):
        ascii_word = slugify("".join(lazy_pinyin(word)))
        if ascii_word:
            words.append(ascii_word)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or (words[0][:max_length] if words else "")
