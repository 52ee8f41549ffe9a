"""“相关讲话”: speeches sharing jieba keywords (TF-IDF) with this one, plus a bonus for shared topics.

Bounded at any archive size: the engine's best CANDIDATES keyword matches and the CANDIDATES speeches sharing most
topics are scored, never every match (a frequent keyword or a common topic reaches most of the archive). A speech
outside the keyword top-N scores its topics only, so a top-5 decided by keyword scores beyond the N-th is the only
one that can differ from scoring every match.
"""

from collections import Counter

from django.core.cache import cache
from django.db import connection
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


def without_common_words(backend, parsed):
    """The query less the words most of the archive holds, when the engine can tell (SQLite): they add next to
    nothing to a score (bm25's idf of a word in more than half the entries is 1e-6) but make the any-word match
    rank nearly every speech. Kept when nothing else is left."""
    common = getattr(backend, "common_terms", None)
    if common is None or parsed.is_empty:
        return parsed
    frequent = common(parsed.words)
    words = [w for w in parsed.words if w not in frequent]
    if not words or not frequent:
        return parsed
    return ParsedQuery(text=" ".join(words), groups=[(w,) for w in words], words=words)


def shared_topics(model, tag_ids, pks=None):
    """[(pk, number of topics shared)] of `pks`, or else of the live speeches sharing most topics (at most
    CANDIDATES, most shared first, newest pk on ties; read from the 2 × CANDIDATES sharing most)."""
    if pks is not None and not pks:
        return []
    link = model.topics.through._meta.db_table
    tags = ", ".join(["%s"] * len(tag_ids))
    with connection.cursor() as cursor:
        if pks is not None:
            # Read by speech (at most CANDIDATES of them), not by topic: a common topic links most of the archive.
            cursor.execute(f"SELECT content_object_id, count(*) FROM {link} WHERE content_object_id IN "
                           f"({', '.join(['%s'] * len(pks))}) AND +tag_id IN ({tags}) GROUP BY content_object_id",
                           [*pks, *tag_ids])
            return cursor.fetchall()
        cursor.execute(f"SELECT content_object_id, count(*) AS n FROM {link} WHERE tag_id IN ({tags}) "
                       "GROUP BY content_object_id ORDER BY n DESC, content_object_id DESC LIMIT %s",
                       [*tag_ids, 2 * CANDIDATES])
        rows = cursor.fetchall()
    live = set(model.objects.live().filter(pk__in=[pk for pk, _n in rows]).values_list("pk", flat=True))
    return [(pk, n) for pk, n in rows if pk in live][:CANDIDATES]


def related_speeches(page, limit=5):
    SpeechPage = page.specific_class
    key = f"related-speeches:{page.pk}:{page.last_published_at and page.last_published_at.timestamp()}:{limit}"
    ids = cache.get(key)
    if ids is None:
        scores = Counter()
        backend = get_search_backend()
        parsed = without_common_words(backend, keyword_query(page))
        if not parsed.is_empty:
            matches = backend.match_scores(SpeechPage, parsed, mode="any", limit=CANDIDATES)
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
