"""Near-duplicate and containment detection by 5-character shingles (the corpus importer's measure)."""

from dataclasses import dataclass

from speeches.importers.text_rules import jaccard, normalise, shingles

DUPLICATE_AT = 0.6  # Jaccard similarity of the two texts
CONTAINED_AT = 0.8  # share of the smaller text found in the larger one
MIN_SHINGLES = 40


@dataclass
class Match:
    title: str
    similarity: float
    kind: str  # "duplicate" | "contains" | "contained"
    page_id: int | None = None
    url: str = ""
    label: str = ""

    def message(self):
        name = f"《{self.title}》"
        if self.kind == "contains":
            return f"本文包含已有讲话{name}的 {self.similarity:.0%} 内容"
        if self.kind == "contained":
            return f"本文 {self.similarity:.0%} 的内容已出现在{name}中"
        return f"与{name}高度相似（相似度 {self.similarity:.0%}），可能是重复稿"


def page_text(page):
    return "\n".join([page.title, page.plain_text()])


def compare(sig, other):
    if len(sig) < MIN_SHINGLES or len(other) < MIN_SHINGLES:
        return None
    similarity = jaccard(sig, other)
    if similarity >= DUPLICATE_AT:
        return "duplicate", similarity
    common = len(sig & other)
    if common / len(other) >= CONTAINED_AT:
        return "contains", common / len(other)
    if common / len(sig) >= CONTAINED_AT:
        return "contained", common / len(sig)
    return None


class ArchiveIndex:
    """Shingle sets of every speech in the archive (drafts included), built once per batch."""

    def __init__(self, exclude_pk=None):
        from speeches.models import SpeechPage

        self.entries = []
        for page in SpeechPage.objects.exclude(pk=exclude_pk).select_related("speaker"):
            self.entries.append((page, shingles(page_text(page))))
        self.batch = []

    def find(self, text, title=""):
        sig = shingles(text)
        matches = []
        if not normalise(text):
            return matches
        for page, other in self.entries:
            result = compare(sig, other)
            if result:
                from django.urls import reverse

                matches.append(Match(page.title, result[1], result[0], page.pk,
                                     reverse("wagtailadmin_pages:edit", args=[page.pk])))
        for label, other_title, other in self.batch:
            result = compare(sig, other)
            if result:
                matches.append(Match(other_title, result[1], result[0], label=label))
        matches.sort(key=lambda m: -m.similarity)
        return matches

    def add_to_batch(self, label, title, text):
        self.batch.append((label, title, shingles(text)))
