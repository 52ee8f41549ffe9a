"""Near-duplicate and containment detection by 5-character shingles (the corpus importer's measure).

A Word batch is not compared with every speech of the archive: each speech keeps a few of its shingles'
hashes (winnowing: the least hash of every window of consecutive shingles) in SpeechShingleKey, so a speech
sharing a run of at least window + 4 content characters with a new text shares a key with it. Only speeches
sharing enough keys are read and compared exactly, with the same measure and thresholds as before.
"""

import hashlib
from collections import deque
from dataclasses import dataclass

from speeches.importers.text_rules import SHINGLE, jaccard, normalise, shingles

DUPLICATE_AT = 0.6  # Jaccard similarity of the two texts
CONTAINED_AT = 0.8  # share of the smaller text found in the larger one
MIN_SHINGLES = 40
# Winnowing window (in shingles) of a stored speech by its number of distinct shingles: short speeches keep
# denser keys. New texts are looked up with the smallest window, whose keys include those of every larger one.
WINDOWS = ((200, 8), (2000, 16), (None, 32))
QUERY_WINDOW = WINDOWS[0][1]
# A candidate shares at least this part of the keys it would have over the smaller text: a match shares at least
# 75 % of the smaller text's shingles (Jaccard 0.6 of equal sizes; containment 0.8).
CANDIDATE_SHARE = 0.4
LOOKUP_CHUNK = 5000  # keys per query


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


# keys -------------------------------------------------------------------------------------------------------------

def _hash(shingle):
    """A stable signed 64-bit hash (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def window_for(shingle_count):
    return next(window for limit, window in WINDOWS if limit is None or shingle_count <= limit)


def winnow(norm, window):
    """The least hash of every `window` consecutive shingles of a normalised text."""
    hashes = [_hash(norm[i:i + SHINGLE]) for i in range(len(norm) - SHINGLE + 1)] or [_hash(norm)]
    if len(hashes) <= window:
        return {min(hashes)}
    keys, queue = set(), deque()  # positions of increasing hashes: the window's least one first
    for i, value in enumerate(hashes):
        while queue and hashes[queue[-1]] >= value:
            queue.pop()
        queue.append(i)
        if queue[0] <= i - window:
            queue.popleft()
        if i >= window - 1:
            keys.add(hashes[queue[0]])
    return keys


def fingerprint(text):
    """(number of distinct shingles, stored keys) of a speech's text; no keys when it is too short to match."""
    count = len(shingles(text))
    if count < MIN_SHINGLES:
        return count, set()
    return count, winnow(normalise(text), window_for(count))


def index_pages(pages):
    """Store (or replace) the keys of these speech pages, as their rows hold them now."""
    from speeches.models import SpeechFingerprint, SpeechShingleKey

    pages = list(pages)
    SpeechFingerprint.objects.filter(page_id__in=[page.pk for page in pages]).delete()
    prints, keys = [], []
    for page in pages:
        count, found = fingerprint(page_text(page))
        if found:
            prints.append(SpeechFingerprint(page_id=page.pk, shingle_count=count, key_count=len(found)))
            keys += [SpeechShingleKey(fingerprint_id=page.pk, key=key) for key in found]
    SpeechFingerprint.objects.bulk_create(prints)
    SpeechShingleKey.objects.bulk_create(keys, batch_size=2000)


def index_saved_speech(sender, instance, raw=False, update_fields=None, **kwargs):
    """post_save of SpeechPage: the keys follow the row's title and body (a revision alone leaves both)."""
    if raw or (update_fields is not None and not {"title", "body"} & set(update_fields)):
        return
    index_pages([instance])


def rebuild_index(batch_size=500):
    """Keys of every speech (drafts included); returns how many speeches were read."""
    from speeches.models import SpeechPage

    ids = list(SpeechPage.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        index_pages(SpeechPage.objects.filter(pk__in=ids[start:start + batch_size]).only("title", "body"))
    return len(ids)


# the batch check -------------------------------------------------------------------------------------------------

class ArchiveIndex:
    """Duplicates of new texts among the archive's speeches (drafts included) and the batch so far. Each find()
    costs a few queries however large the archive is (one per LOOKUP_CHUNK keys, one for the candidates)."""

    def __init__(self, exclude_pk=None):
        self.exclude_pk = exclude_pk
        self.batch = []
        self.compared = 0  # archive speeches compared exactly

    def candidates(self, text, shingle_count):
        from django.db.models import Count, Max

        from speeches.models import SpeechPage, SpeechShingleKey

        keys = sorted(winnow(normalise(text), QUERY_WINDOW))
        shared, sizes = {}, {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            rows = (SpeechShingleKey.objects.filter(key__in=keys[start:start + LOOKUP_CHUNK])
                    .values("fingerprint_id")
                    .annotate(n=Count("id"), keys=Max("fingerprint__key_count"),
                              shingles=Max("fingerprint__shingle_count")))
            for row in rows:
                page_id = row["fingerprint_id"]
                shared[page_id] = shared.get(page_id, 0) + row["n"]
                sizes[page_id] = (row["keys"], row["shingles"])
        wanted = []
        for page_id, n in shared.items():
            keys_count, count = sizes[page_id]
            expected = keys_count * min(shingle_count, count) / count  # its keys over the smaller text
            if page_id != self.exclude_pk and n >= max(1, CANDIDATE_SHARE * expected):
                wanted.append(page_id)
        if not wanted:
            return []
        return list(SpeechPage.objects.filter(pk__in=wanted).only("title", "body").order_by("pk"))

    def find(self, text, title=""):
        sig = shingles(text)
        matches = []
        if not normalise(text):
            return matches
        if len(sig) >= MIN_SHINGLES:
            from django.urls import reverse

            for page in self.candidates(text, len(sig)):
                self.compared += 1
                result = compare(sig, shingles(page_text(page)))
                if result:
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
