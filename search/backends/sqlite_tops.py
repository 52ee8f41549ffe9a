"""Term scores kept for broad queries, so that SQLite ranks their first page without scoring every match.

FTS5 orders a MATCH by computing bm25 for every matching row: 工会 or 职工 match nearly every speech. bm25 is a sum,
in phrase order, of one part per phrase (here: one term each), and a term's part in a row is exactly what the term
alone scores there (same idf, column weights and lengths) when the row holds the term, 0 when it does not. For each
term of a broad query the worker stores every entry's score for the term and their order, against a signature of
the FTS5 index (any write changes it).

A query then takes each term's best `depth` entries and scores them exactly from those scores (summed in the same
order as bm25, so bit for bit the same); an entry beyond every term's depth scores at most the sum of the terms'
scores at that depth (``edge``). When the limit-th candidate beats that sum, the candidates' best are the index's
best; otherwise the depth doubles, up to MAX_DEPTH. Past it, and while a term is missing or was built on another
signature (a build is then enqueued), the caller runs the full MATCH. Expressions nesting an AND inside an OR
(compound parts) are left to the full MATCH: FTS5 drops the part of a term whose AND does not match.
"""

import hashlib
import threading
import time
from array import array
from bisect import bisect_left

from django.db import connections, router, transaction

from search.backends.common import IndexEntry, _quote
from search.ranking import TITLE_WEIGHT

TOP_K = 1000  # first depth
MAX_DEPTH = 16_000
# Past these a query is left to the full MATCH: scoring candidates in Python must stay cheaper than bm25 in C.
MAX_TERMS = 8
MAX_CANDIDATES = 20_000
# A query matching fewer entries is ranked by the full MATCH: bm25 over that many rows costs under ~20 ms, about
# what reading the stored scores costs.
MIN_MATCHES = 20_000

_enqueued = {}  # (signature, term) -> when this process last asked the worker for it
REQUEUE_SECONDS = 120
_lock = threading.Lock()


def _fts():
    return f"{IndexEntry._meta.db_table}_fts"


def _model():
    from search.models import TermTop  # the backend is imported while the app registry loads

    return TermTop


def signature(cursor):
    """A digest of the FTS5 index's structure record, which every write (insert, update, delete, merge) changes."""
    cursor.execute(f"SELECT block FROM {_fts()}_data WHERE id = 10")
    row = cursor.fetchone()
    return hashlib.blake2b(bytes(row[0]) if row else b"", digest_size=16).hexdigest()


# term -> (entries in the index when counted, entries holding the term): per process, recounted once the index has
# grown or shrunk by more than 1 % (a choice of words uses them, not a score).
_document_counts = {}


def _varint(blob, at):
    """SQLite's variable-length integer at blob[at:]: (value, next position)."""
    value = 0
    for i in range(9):
        byte = blob[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return value, at + 9


def common_terms(terms, share=0.5):
    """The terms held by more than `share` of the index's entries. bm25 gives a term held by more than half of them
    an idf of 1e-6, so such a term adds at most ~2e-6 to any score while its matches cost the most to rank."""
    fts = _fts()
    with _connection().cursor() as cursor:
        cursor.execute(f"SELECT block FROM {fts}_data WHERE id = 1")  # FTS5's averages record: rows first
        row = cursor.fetchone()
        total = _varint(bytes(row[0]), 0)[0] if row and row[0] else 0
        counts = {t: _document_counts.get(t, (-total, 0)) for t in set(terms)}
        missing = [t for t, (counted_at, _n) in counts.items() if abs(counted_at - total) > total / 100]
        if missing:
            cursor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocabulary "
                           f"USING fts5vocab(main, {fts}, row)")
            for term in missing:
                cursor.execute("SELECT doc FROM temp.search_vocabulary WHERE term = %s", [term])
                found = cursor.fetchone()
                counts[term] = (total, found[0] if found else 0)
        if len(_document_counts) > 50_000:
            _document_counts.clear()
        _document_counts.update((t, counts[t]) for t in missing)
    return {t for t in terms if total and counts[t][1] > share * total}


def _connection(write=False):
    return connections[(router.db_for_write if write else router.db_for_read)(IndexEntry)]


def build(terms):
    """Store the scores of `terms` for the index as it is now, drop those of older states of the index; returns how
    many were written. Idempotent: a term already built on the current signature is kept."""
    fts, TermTop = _fts(), _model()
    connection = _connection(write=True)
    terms = sorted({t for t in terms if t})
    built = []
    # No transaction while reading (it would hold SQLite's write lock): each term's scores come from one statement,
    # and the index's signature is the same before and after the whole read, so they all describe that state.
    with connection.cursor() as cursor:
        current = signature(cursor)
        have = set(TermTop.objects.using(connection.alias).filter(term__in=terms, signature=current)
                   .values_list("term", flat=True))
        for term in terms:
            if term in have:
                continue
            cursor.execute(f"SELECT rowid, -bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT}) FROM {fts} WHERE {fts} MATCH %s "
                           "ORDER BY rowid", ["{title body} : (" + _quote(term) + ")"])
            rows = cursor.fetchall()
            scores = array("d", [row[1] for row in rows])
            order = array("i", sorted(range(len(rows)), key=scores.__getitem__, reverse=True))
            built.append(TermTop(term=term, signature=current, entries=array("q", [row[0] for row in rows]).tobytes(),
                                 scores=scores.tobytes(), order=order.tobytes()))
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        stored = TermTop.objects.using(connection.alias)
        if signature(cursor) != current:
            return 0  # the index changed meanwhile: these scores are stale, and newer ones may be stored
        # Terms of an older index are dropped (rebuilt when a search needs them again): the table holds the terms
        # searched since the index last changed.
        stored.filter(term__in=[t.term for t in built]).delete()
        stored.exclude(signature=current).delete()
        stored.bulk_create(built)
    return len(built)


def expression_terms(parsed):
    """Every quoted term of the FTS5 expressions made from `parsed` (fts5_phrases, fts5_group), in order, with
    repeats."""
    terms = [t for p in parsed.phrases for t in p.tokens]
    for i, group in enumerate(parsed.groups):
        terms += group
        for part in parsed.group_parts(i):
            terms += part
    return terms


def _enqueue(current, terms):
    now = time.monotonic()
    with _lock:
        wanted = [t for t in terms if now - _enqueued.get((current, t), -REQUEUE_SECONDS) >= REQUEUE_SECONDS]
        if not wanted:
            return
        if len(_enqueued) > 10_000:
            _enqueued.clear()
        _enqueued.update(((current, t), now) for t in wanted)
    from search.tasks import build_term_tops

    try:
        build_term_tops.enqueue(sorted(wanted))
    except Exception:  # noqa: BLE001 - the queue being unavailable only costs the slower full MATCH
        with _lock:
            for t in wanted:
                _enqueued.pop((current, t), None)


def _lists(terms):
    """{term: (entry ids ascending, their scores, positions best first)} for the current index, or None (missing or
    stale terms are enqueued)."""
    table = _model()._meta.db_table
    wanted = sorted(set(terms))
    with _connection().cursor() as cursor:
        current = signature(cursor)
        cursor.execute(f"SELECT term, signature, entries, scores, \"order\" FROM {table} "
                       f"WHERE term IN ({', '.join(['%s'] * len(wanted))})", wanted)
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    stale = [t for t in wanted if t not in rows or rows[t][0] != current]
    if stale:
        _enqueue(current, stale)
        return None
    return {term: (array("q", bytes(entries)), array("d", bytes(scores)), array("i", bytes(order)))
            for term, (_sig, entries, scores, order) in rows.items()}


def best_entries(terms, required, limit):
    """[(entry id, relevance)], best first: the best `limit` rows of the FTS5 MATCH (columns title and body) of
    AND(any term of each tuple in `required`), whose phrases are `terms` (one term each, in the expression's order,
    with repeats); None when the stored scores cannot prove them."""
    if not terms or not required or limit <= 0 or len(set(terms)) > MAX_TERMS:
        return None
    lists = _lists(terms)
    if lists is None:
        return None
    seen, found, start, depth = set(), [], 0, TOP_K
    while True:
        for entries, _scores, order in lists.values():
            for position in order[start:depth]:
                entry = entries[position]
                if entry not in seen:
                    if len(seen) >= MAX_CANDIDATES:
                        return None
                    seen.add(entry)
                    score, holds = 0.0, set()
                    for term in terms:
                        ids, scores, _order = lists[term]
                        at = bisect_left(ids, entry)
                        if at < len(ids) and ids[at] == entry:
                            score += scores[at]
                            holds.add(term)
                    if all(not holds.isdisjoint(component) for component in required):
                        found.append((entry, score))
        found.sort(key=lambda row: -row[1])
        top = found[:limit]
        if any(all(len(lists[t][2]) <= depth for t in component) for component in required):
            return top  # every match holds a term whose every entry has been scored
        edge = sum(lists[t][1][lists[t][2][depth]] if depth < len(lists[t][2]) else 0.0 for t in terms)
        if len(top) == limit and top[-1][1] > edge + abs(edge) * 1e-9:
            return top
        if depth >= MAX_DEPTH:
            return None
        start, depth = depth, depth * 2
