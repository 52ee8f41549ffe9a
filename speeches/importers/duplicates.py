"""Near-duplicate and containment detection by 5-character shingles (the corpus importer's measure).

A Word batch is not compared with every speech of the archive: each speech keeps a few of its shingles' keys in
SpeechShingleKey, chosen by winnowing (in every window of `w` consecutive shingle positions, the one whose first
character ranks lowest), so a speech sharing a run of at least w + 4 content characters with a new text shares a
key with it. A new text is looked up with all of its shingles; only speeches sharing enough keys are read and
compared exactly, with the same measure and thresholds as before. Ranks and minima are computed by builtins (a
dictionary lookup per character, block-wise running minima), so keeping the keys costs little beside an import.
"""

import zlib
from dataclasses import dataclass
from itertools import accumulate

from speeches.importers.text_rules import CJK, SHINGLE, jaccard, normalise, shingles

DUPLICATE_AT = 0.6  # Jaccard similarity of the two texts
CONTAINED_AT = 0.8  # share of the smaller text found in the larger one
MIN_SHINGLES = 40
# Winnowing window (in shingle positions) of a stored speech by its number of shingles: short speeches keep
# denser keys.
WINDOWS = ((200, 8), (2000, 16), (None, 32))
# A candidate shares at least this part of the keys it would have over the smaller text: a match shares at least
# 75 % of the smaller text's shingles (Jaccard 0.6 of equal sizes; containment 0.8). Below FEW_KEYS expected keys,
# one shared key makes a candidate (winnowing guarantees one for every long enough shared run).
CANDIDATE_SHARE = 0.4
FEW_KEYS = 4
LOOKUP_CHUNK = 5000  # keys per query
# A fixed pseudo-random rank for every character normalise() keeps, above the 32 bits that hold the position.
_RANK = {chr(c): zlib.crc32(chr(c).encode("utf-8")) << 32
         for start, end in ((ord(CJK[0]), ord(CJK[-1])), (48, 57), (65, 90), (97, 122))
         for c in range(start, end + 1)}
_POSITION = 0xFFFFFFFF


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

def shingle_key(shingle):
    return zlib.crc32(shingle.encode("utf-8"))


def window_for(shingle_count):
    return next(window for limit, window in WINDOWS if limit is None or shingle_count <= limit)


def winnow(norm, window):
    """Keys of the shingles starting at the lowest-ranked character of every `window` consecutive shingle
    positions (ties: the rightmost), as CRC-32 of the shingle."""
    end = len(norm) - SHINGLE + 1
    if end < 1:
        return set()
    # rank above, reversed position below: the minimum is the lowest rank, then the rightmost position.
    values = [rank | (_POSITION - i) for i, rank in enumerate(map(_RANK.__getitem__, norm[:end]))]
    if end <= window:
        minima = [min(values)]
    else:
        prefix, suffix = [], []
        for start in range(0, end, window):
            block = values[start:start + window]
            prefix += accumulate(block, min)
            suffix += reversed(list(accumulate(reversed(block), min)))
        # the window [i, i + window - 1] spans a block boundary: min(suffix[i], prefix[i + window - 1])
        minima = set(map(min, suffix[:end - window + 1], prefix[window - 1:]))
    return {shingle_key(norm[p:p + SHINGLE]) for p in (_POSITION - (v & _POSITION) for v in minima)}


def keys_of(norm):
    """Keys of every shingle of a normalised text (what a new text is looked up with)."""
    return {shingle_key(norm[i:i + SHINGLE]) for i in range(max(len(norm) - SHINGLE + 1, 0))}


def fingerprint(text):
    """(number of shingles, stored keys) of a speech's text; no keys when it is too short to match."""
    norm = normalise(text)
    count = max(len(norm) - SHINGLE + 1, 0)
    if count < MIN_SHINGLES:
        return count, set()
    return count, winnow(norm, window_for(count))


def index_pages(pages, texts=None):
    """Store (or replace) the keys of these speech pages, as their rows hold them now (or of the given texts)."""
    from django.db import connection

    from speeches.models import SpeechFingerprint, SpeechShingleKey

    pages = list(pages)
    ids = [page.pk for page in pages]
    SpeechShingleKey.objects.filter(fingerprint_id__in=ids).delete()
    SpeechFingerprint.objects.filter(page_id__in=ids).delete()
    prints, keys = [], []
    for page, text in zip(pages, texts or map(page_text, pages), strict=True):
        count, found = fingerprint(text)
        if found:
            prints.append(SpeechFingerprint(page_id=page.pk, shingle_count=count, key_count=len(found)))
            keys += [(page.pk, key) for key in found]
    SpeechFingerprint.objects.bulk_create(prints)
    if not keys:
        return
    table = connection.ops.quote_name(SpeechShingleKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} (fingerprint_id, {connection.ops.quote_name('key')}) VALUES (%s, %s)",
                           keys)


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

    def candidates(self, norm):
        from django.db.models import Count, Max

        from speeches.models import SpeechPage, SpeechShingleKey

        shingle_count = max(len(norm) - SHINGLE + 1, 0)
        keys = sorted(keys_of(norm))
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
            if page_id != self.exclude_pk and (n >= CANDIDATE_SHARE * expected or expected < FEW_KEYS):
                wanted.append(page_id)
        if not wanted:
            return []
        return list(SpeechPage.objects.filter(pk__in=wanted).only("title", "body").order_by("pk"))

    def find(self, text, title=""):
        norm = normalise(text)
        matches = []
        if not norm:
            return matches
        sig = shingles(text)
        if len(sig) >= MIN_SHINGLES:
            from django.urls import reverse

            for page in self.candidates(norm):
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
