"""“相关讲话”: speeches sharing jieba keywords (TF-IDF) with this one, plus a bonus for shared topics.

Bounded at any archive size: the engine's best CANDIDATES keyword matches and the CANDIDATES speeches sharing most
topics are scored, never every match (a frequent keyword or a common topic reaches most of the archive). A speech
outside the keyword top-N scores its topics only, so a top-5 decided by keyword scores beyond the N-th is the only
one that can differ from scoring every match.
"""

from collections import Counter

from django.core.cache import cache
from django.db import models
from wagtail.search.backends import get_search_backend

from search.analysis import ParsedQuery, extract_keywords, segment

KEYWORDS = 8
CANDIDATES = 300  # keyword matches read from the engine, and speeches read by shared topics (each at most)
CACHE_SECONDS = 600


def keyword_query(page):
    text = "\n".join([page.title, page.summary, page.plain_text()[:20000]])
    tokens = []
    for keyword in extract_keywords(text, KEYWORDS):
        for token in segment(keyword):
            if token not in tokens:
                tokens.append(token)
    return ParsedQuery(text=" ".join(tokens), groups=[(t,) for t in tokens], words=tokens)


def shared_topics(model, tag_ids, pks=None):
    """[(pk, number of topics shared)] of `pks`, or else of the live speeches sharing most topics (at most
    CANDIDATES, most shared first, newest pk on ties)."""
    shared = model.objects.filter(tagged_items__tag_id__in=tag_ids)
    shared = shared.filter(pk__in=pks) if pks is not None else shared.live()
    shared = shared.values("pk").annotate(n=models.Count("tagged_items")).order_by("-n", "-pk")
    if pks is None:
        shared = shared[:CANDIDATES]
    return shared.values_list("pk", "n")


def related_speeches(page, limit=5):
    SpeechPage = page.specific_class
    key = f"related-speeches:{page.pk}:{page.last_published_at and page.last_published_at.timestamp()}:{limit}"
    ids = cache.get(key)
    if ids is None:
        scores = Counter()
        parsed = keyword_query(page)
        if not parsed.is_empty:
            matches = get_search_backend().match_scores(SpeechPage, parsed, mode="any", limit=CANDIDATES)
            top = max(matches.values(), default=0) or 1.0
            for object_id, score in matches.items():
                scores[int(object_id)] += score / top
        tag_ids = list(page.topics.values_list("pk", flat=True))
        if tag_ids:
            # Exact topic counts for the keyword matches, then the speeches sharing most topics.
            counts = dict(shared_topics(SpeechPage, tag_ids, list(scores)) if scores else [])
            counts.update(shared_topics(SpeechPage, tag_ids))
            for pk, n in counts.items():
                scores[pk] += n
        scores.pop(page.pk, None)
        candidates = set(
            SpeechPage.objects.live().public().filter(pk__in=list(scores)).values_list("pk", flat=True)
        )
        ids = [pk for pk, _ in sorted(scores.items(), key=lambda item: (-item[1], -item[0])) if pk in candidates]
        ids = ids[:limit]
        cache.set(key, ids, CACHE_SECONDS)
    pages = SpeechPage.objects.filter(pk__in=ids).in_bulk()
    return [pages[pk] for pk in ids if pk in pages]
