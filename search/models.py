"""Editor-managed search dictionary: extra words and synonym groups (snippets under 搜索词库)."""

import re

from django.core.exceptions import ValidationError
from django.db import models

WORD_SPLIT = re.compile(r"[\s、，,]+")


def validate_word(value):
    value = value or ""
    if re.search(r"\s", value):
        raise ValidationError("词语中不能包含空格。")
    if not 2 <= len(value) <= 20:
        raise ValidationError("词语长度须为2到20个字。")


def split_words(text):
    seen = []
    for word in WORD_SPLIT.split(text or ""):
        if word and word not in seen:
            seen.append(word)
    return seen


class SearchTerm(models.Model):
    word = models.CharField("词语", max_length=20, unique=True, validators=[validate_word],
                            help_text="2到20个字，不含空格，例如：职工书屋")
    created_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = "搜索词"
        verbose_name_plural = "搜索词"
        ordering = ["word"]

    def __str__(self):
        return self.word

    def clean(self):
        self.word = (self.word or "").strip()

    def affected_words(self):
        return [self.word]


class SynonymGroup(models.Model):
    words = models.TextField("同义词", help_text="用空格、顿号（、）或逗号（，）分隔，例如：困难帮扶 帮困")
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "同义词组"
        verbose_name_plural = "同义词组"
        ordering = ["id"]

    def __str__(self):
        return " / ".join(self.word_list())

    def word_list(self):
        return split_words(self.words)

    def clean(self):
        words = self.word_list()
        if len(words) < 2:
            raise ValidationError({"words": "同义词组至少需要两个不同的词。"})
        for word in words:
            try:
                validate_word(word)
            except ValidationError as error:
                raise ValidationError({"words": f"“{word}”：{error.messages[0]}"}) from None
        self.words = " ".join(words)

    def affected_words(self):
        return self.word_list()


class IndexGeneration(models.Model):
    """One row whose token changes whenever what an app's search catalog holds may have changed.

    Apps install database triggers that replace the token (speeches migration 0004 for the speech catalog). A random
    token (not a counter) so that a rolled-back change can never bring back a token a process has already cached.
    """

    token = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "搜索目录版本"
        verbose_name_plural = "搜索目录版本"

    def __str__(self):
        return str(self.token)


class QueryLog(models.Model):
    """One row per normalised query per day: how often it was searched, found and opened. No address, user or
    cookie is ever stored; queries that look like ID or phone numbers are not logged at all (search.querylog)."""

    day = models.DateField("日期", db_index=True)
    query = models.CharField("搜索词", max_length=100)
    searches = models.PositiveIntegerField("搜索次数", default=0)
    zero_results = models.PositiveIntegerField("无结果次数", default=0)
    results = models.PositiveIntegerField("结果数", default=0, help_text="当天最后一次搜索的结果数")
    opens = models.PositiveIntegerField("打开结果次数", default=0)

    class Meta:
        verbose_name = "搜索记录"
        verbose_name_plural = "搜索记录"
        constraints = [models.UniqueConstraint(fields=["day", "query"], name="one_query_log_row_per_day")]

    def __str__(self):
        return f"{self.day} {self.query}"


class QueryEvent(models.Model):
    """Searches and opens not yet counted in QueryLog. Each web process appends its buffered counts (one row per
    query and day per flush; no unique constraint, so appending never waits for another row); the roll-up task
    (search.tasks.rollup_search_log) adds them to QueryLog and deletes them in the same transaction."""

    day = models.DateField("日期")
    query = models.CharField("搜索词", max_length=100)
    searches = models.PositiveIntegerField("搜索次数", default=0)
    zero_results = models.PositiveIntegerField("无结果次数", default=0)
    results = models.PositiveIntegerField("结果数", default=0, help_text="这批中最后一次搜索的结果数")
    opens = models.PositiveIntegerField("打开结果次数", default=0)

    class Meta:
        verbose_name = "待汇总的搜索事件"
        verbose_name_plural = "待汇总的搜索事件"

    def __str__(self):
        return f"{self.day} {self.query}"


class SuggestionSource(models.Model):
    """A source of suggestions (search.suggest.register_source) and the version its stored prefix keys were built
    from; `pending` is the version a build was last enqueued for, so each change enqueues one build."""

    name = models.CharField("名称", max_length=40, unique=True)
    version = models.TextField("已建版本", blank=True)
    pending = models.TextField("待建版本", blank=True)
    pending_at = models.DateTimeField("排队时间", null=True, blank=True)

    class Meta:
        verbose_name = "输入提示来源"
        verbose_name_plural = "输入提示来源"

    def __str__(self):
        return self.name


class SuggestionText(models.Model):
    source = models.ForeignKey(SuggestionSource, on_delete=models.CASCADE, related_name="texts")
    text = models.CharField("文字", max_length=255)

    class Meta:
        verbose_name = "输入提示文字"
        verbose_name_plural = "输入提示文字"
        constraints = [models.UniqueConstraint(fields=["source", "text"], name="one_suggestion_text_per_source")]

    def __str__(self):
        return self.text


class SuggestionKey(models.Model):
    """One prefix key of a text (its characters, full pinyin or initials from a word start). Read by range on
    (source, key): the index is made in migration 0005 (binary order on PostgreSQL too, so a range is a prefix)."""

    source = models.ForeignKey(SuggestionSource, on_delete=models.CASCADE, db_index=False, related_name="+")
    text = models.ForeignKey(SuggestionText, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField("键", max_length=120)
    start = models.PositiveSmallIntegerField("起点")
    kind = models.PositiveSmallIntegerField("类型")

    class Meta:
        verbose_name = "输入提示键"
        verbose_name_plural = "输入提示键"

    def __str__(self):
        return self.key


class TermTop(models.Model):
    """One term's scores for SQLite FTS5 (search.backends.sqlite_tops): every entry's score and their order, so a
    broad query's first page is ranked from its terms' best entries instead of computing bm25 for every match.
    Valid only while the FTS5 index has the signature it was built at; built by the worker
    (search.tasks.build_term_tops)."""

    term = models.TextField("词", unique=True)
    signature = models.CharField("索引签名", max_length=64)
    entries = models.BinaryField("条目")  # every entry id holding the term (int64), ascending
    scores = models.BinaryField("得分")  # their scores (float64)
    order = models.BinaryField("排序")  # positions in entries (int32), best score first
    built_at = models.DateTimeField("建立时间", auto_now=True)

    class Meta:
        verbose_name = "常用词最佳条目"
        verbose_name_plural = "常用词最佳条目"

    def __str__(self):
        return self.term
