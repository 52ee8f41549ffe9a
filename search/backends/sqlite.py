"""SQLite FTS5 flavour of the Chinese search backend."""

import contextlib
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction
from django.utils.functional import cached_property
from modelsearch.backends.database.sqlite import sqlite as lite
from modelsearch.utils import get_content_type_pk

from search import ranking
from search.backends import sqlite_tops
from search.backends.common import (
    BatchIndexMixin,
    ChineseSearchMixin,
    IndexEntry,
    SinglePassIndexerMixin,
    _indexer_values,
    _quote,
    fts5_expression,
    fts5_group,
    fts5_phrases,
    needs_counting,
    prefix_groups,
)
from search.ranking import TITLE_WEIGHT

__all__ = ["ChineseSQLiteSearchBackend", "fts5_expression"]


class SegmentingSQLiteIndexer(SinglePassIndexerMixin, lite.ObjectIndexer):
    @cached_property
    def title(self):
        return self._joined("title")

    @cached_property
    def body(self):
        # bm25 has no per-field weight: boosted fields are indexed as often as their boost (search.ranking).
        return self._joined_boosted("body")

    @cached_property
    def autocomplete(self):
        return self._joined("autocomplete")


class ChineseSQLiteIndex(BatchIndexMixin, lite.SQLiteIndex):
    indexer_class = SegmentingSQLiteIndexer

    def _refresh_title_norms(self, full=False):
        """Not used: titles are weighted in bm25() directly."""

    def write_items(self, prepared):
        model, pending = prepared
        indexers = pending.finish()
        content_type_pk = get_content_type_pk(model)
        data = _indexer_values(indexers)
        existing = dict(
            self.entries.filter(content_type_id=content_type_pk, object_id__in=list(data)).values_list(
                "object_id", "pk"
            )
        )
        to_update = []
        for object_id, pk in existing.items():
            title, autocomplete, body = data[object_id]
            to_update.append(IndexEntry(pk=pk, title=title, autocomplete=autocomplete, body=body))
        if to_update:
            IndexEntry._default_manager.bulk_update(to_update, ["title", "autocomplete", "body"], batch_size=500)
        rows = [(content_type_pk, object_id, title, autocomplete, body)
                for object_id, (title, autocomplete, body) in data.items() if object_id not in existing]
        if rows:
            self.insert_rows(rows)

    _writer = None  # inside background_writes(): the writer thread
    _written = None  # its last insert (a future)

    @contextlib.contextmanager
    def background_writes(self):
        """Inside this block (update_index), new entries are inserted by one writer thread on this same connection
        (and transaction): SQLite inserts and tokenises them without holding the GIL, so the next batch is read
        meanwhile. Leaving waits for the last insert; an insert's error is raised by the next write or on leaving."""
        self.write_connection.ensure_connection()
        with ThreadPoolExecutor(1, thread_name_prefix="index-writer") as executor:
            self._writer = executor
            try:
                yield
                self._wait_for_writes()
            finally:
                self._writer = self._written = None

    def _wait_for_writes(self):
        written, self._written = self._written, None
        if written is not None:
            written.result()

    def insert_rows(self, rows):
        """INSERT (content_type_id, object_id, title, autocomplete, body) rows, as many a statement as SQLite binds:
        what bulk_create writes, without a model object and field conversions per row (the values are strings), and
        in fewer statements (FTS5 flushes its pending terms at the end of each)."""
        opts, connection = IndexEntry._meta, self.write_connection
        quote = connection.ops.quote_name
        columns = ", ".join(quote(opts.get_field(name).column)
                            for name in ("content_type_id", "title_norm", "object_id", "title", "autocomplete", "body"))
        # The two numbers are written as literals: an int from the content type and the model's default.
        mark = "?" if self._writer else "%s"
        row_sql = f"({int(rows[0][0])}, {float(opts.get_field('title_norm').get_default())!r}, {', '.join([mark] * 4)})"
        connection.ensure_connection()
        per_statement = max(1, _variable_limit(connection.connection) // 4)
        statements = [
            (f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES " + ", ".join([row_sql] * len(part)),
             [value for row in part for value in row[1:]])
            for part in (rows[start : start + per_statement] for start in range(0, len(rows), per_statement))
        ]
        if self._writer:
            self._wait_for_writes()
            self._written = self._writer.submit(_execute_raw, connection.connection, statements)
            return
        with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)


def _execute_raw(db, statements):
    """In the writer thread: the statements on the sqlite3 connection itself (Django's wrapper belongs to the thread
    that opened it), inside whatever transaction that thread has open."""
    for sql, params in statements:
        db.execute(sql, params)


def _variable_limit(db):
    """How many parameters this SQLite binds in one statement (999 when it cannot say)."""
    try:
        return db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):
        return 999


class ChineseSQLiteSearchBackend(ChineseSearchMixin, lite.SQLiteSearchBackend):
    vendor = "sqlite"
    index_class = ChineseSQLiteIndex

    def _statement(self, parsed, mode, *, key="fts", columns="{title body}", ct_ids=None, scored=True):
        """(SQL, params) selecting (key, score) — or (key, tier) unscored — for the entries matching the query.

        One FTS5 MATCH when every group must match and none has compound parts; otherwise each group (and the
        exact form of a compound) is matched on its own, the groups each entry holds are counted, and the tier
        comes from the counts (search.ranking). Quoted phrases are required in every MATCH and checked on the
        text with spaces removed.
        """
        n = len(parsed.groups)
        phrases = fts5_phrases(parsed)
        if not n and not phrases:
            return None, []
        fts, entry = f"{IndexEntry._meta.db_table}_fts", IndexEntry._meta.db_table
        keys = {"fts": f"{fts}.rowid", "object_id": "e.object_id"}
        join_entry = bool(parsed.phrases) or ct_ids is not None or key != "fts"
        relevance = f"-bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT})"

        def match(expression):
            return f"{columns} : ({expression})"

        where, params = [], []
        if ct_ids is not None:
            where.append(f"AND e.content_type_id IN ({', '.join(['%s'] * len(ct_ids))})")
            params += list(ct_ids)
        for phrase in parsed.phrases:
            where.append("AND (instr(replace(e.title, ' ', ''), %s) > 0 OR instr(replace(e.body, ' ', ''), %s) > 0)")
            params += [phrase.key, phrase.key]
        entry_join = f" CROSS JOIN {entry} e ON e.id = {fts}.rowid" if join_entry else ""

        if not needs_counting(parsed, mode):
            expression = " AND ".join(phrases + [fts5_group(parsed, i) for i in range(n)])
            value = (f"{ranking.EXACT * ranking.TIER_OFFSET} + min({relevance}, {ranking.MAX_RELEVANCE}) AS score"
                     if scored else str(ranking.EXACT))
            # CROSS JOIN keeps the FTS table as the outer loop: one MATCH, then primary-key lookups.
            sql = (f"SELECT {keys[key]}, {value} FROM {fts}{entry_join} WHERE {fts} MATCH %s " + " ".join(where))
            return sql, [match(expression), *params]

        hits, hit_params = [], []
        for i in range(n):
            has_parts = bool(parsed.group_parts(i))
            hits.append(f"SELECT rowid AS id, 1 AS n, {0 if has_parts else 1} AS x FROM {fts} WHERE {fts} MATCH %s")
            hit_params.append(match(" AND ".join(phrases + [fts5_group(parsed, i)])))
            if has_parts:
                hits.append(f"SELECT rowid, 0, 1 FROM {fts} WHERE {fts} MATCH %s")
                hit_params.append(match(" AND ".join(phrases + [fts5_group(parsed, i, exact_only=True)])))
        k = ranking.min_groups(n, mode)
        cte = (f"WITH hit(id, n, x) AS ({' UNION ALL '.join(hits)}), "
               f"agg AS (SELECT id, sum(n) AS n, sum(x) AS x FROM hit GROUP BY id HAVING sum(n) >= {k}) ")
        if scored:
            any_expression = " AND ".join(phrases + ["(" + " OR ".join(fts5_group(parsed, i) for i in range(n)) + ")"])
            sql = (cte + f"SELECT {keys[key]}, {ranking.sql_score(n, relevance, 'agg.n', 'agg.x')} AS score FROM {fts} "
                   f"CROSS JOIN agg ON agg.id = {fts}.rowid{entry_join} WHERE {fts} MATCH %s " + " ".join(where))
            return sql, [*hit_params, match(any_expression), *params]
        agg_join = f" CROSS JOIN {entry} e ON e.id = agg.id" if join_entry else ""
        key_expr = "agg.id" if key == "fts" else keys[key]
        sql = (cte + f"SELECT {key_expr}, {ranking.sql_tier_case(n, 'agg.n', 'agg.x')} FROM agg{agg_join} WHERE TRUE "
               + " ".join(where))
        return sql, [*hit_params, *params]

    def autocomplete_sql(self, model, parsed, mode, content_type_ids):
        words, phrases = [], []
        for tokens, is_prefix in prefix_groups(parsed):
            if is_prefix is None:
                phrases.append("(" + " AND ".join(_quote(t) for t in tokens) + ")")
            else:
                words.append("(" + " OR ".join(_quote(t) + ("*" if is_prefix else "") for t in tokens) + ")")
        if mode == "any" and len(words) > 1:
            words = ["(" + " OR ".join(words) + ")"]
        if not words and not phrases:
            return None, []
        fts = f"{IndexEntry._meta.db_table}_fts"
        ct_ids = content_type_ids or self.content_type_ids(model)
        sql = (f"SELECT e.object_id, -bm25({fts}, 1.0, 0.0, 0.0) AS score FROM {fts} "
               f"CROSS JOIN {IndexEntry._meta.db_table} e ON e.id = {fts}.rowid WHERE {fts} MATCH %s "
               f"AND e.content_type_id IN ({', '.join(['%s'] * len(ct_ids))})")
        return sql, ["{autocomplete} : (" + " AND ".join(phrases + words) + ")", *ct_ids]

    def common_terms(self, terms):
        """The terms held by more than half of the index's entries (bm25 all but ignores them)."""
        return sqlite_tops.common_terms(terms)

    def match_sql(self, model, parsed, mode="all", title_only=False, content_type_ids=None):
        ct_ids = content_type_ids or self.content_type_ids(model)
        return self._statement(parsed, mode, key="object_id", columns="{title}" if title_only else "{title body}",
                               ct_ids=ct_ids)

    def entry_scores_sql(self, parsed, mode="all"):
        # Without a quoted phrase or counting, a bare FTS5 MATCH (… ORDER BY score LIMIT with a limit).
        return self._statement(parsed, mode)

    def entry_relevance(self, parsed, mode="all", min_tier=ranking.ANY, limit=None, matches=None):
        """[(index entry id, relevance)], best first (with a limit, the best `limit`), holding at least every entry
        (any model) of tier `min_tier` or above; ``ranking.score(tier, relevance)`` is the entry's score.
        `matches`: how many entries the query matches, when the caller knows; a broad query's best are then read
        from its terms' stored lists when they prove them (sqlite_tops).

        Cheaper than entry_scores: no counting and no phrase check, so the rows may include entries of lower
        tiers or ruled out by a quoted phrase (the caller keeps those entry_tiers() gave). The MATCH holds the
        same phrases in the same order as the scored statement (bm25 depends on those only): all groups for
        tiers PARTS and up, any group below.
        """
        n = len(parsed.groups)
        phrases = fts5_phrases(parsed)
        if not n and not phrases:
            return []
        groups = [fts5_group(parsed, i) for i in range(n)]
        if needs_counting(parsed, mode) and min_tier < ranking.PARTS:
            groups = ["(" + " OR ".join(groups) + ")"]
        expression = " AND ".join(phrases + groups)
        if limit and matches is not None and matches >= sqlite_tops.MIN_MATCHES and not parsed.has_parts:
            # Phrases and groups ANDed, each group any of its words (or, joined by OR, any word at all).
            required = [(t,) for p in parsed.phrases for t in p.tokens]
            if len(groups) == n:
                required += [tuple(group) for group in parsed.groups]
            else:
                required.append(tuple(t for group in parsed.groups for t in group))
            rows = sqlite_tops.best_entries(sqlite_tops.expression_terms(parsed), required, int(limit))
            if rows is not None:
                return rows
        fts = f"{IndexEntry._meta.db_table}_fts"
        sql = (f"SELECT rowid, -bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT}) AS relevance FROM {fts} WHERE {fts} MATCH %s "
               "ORDER BY relevance DESC")
        params = ["{title body} : (" + expression + ")"]
        if limit:
            sql += " LIMIT %s"
            params.append(int(limit))
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def entry_tiers(self, parsed, mode="all"):
        """{index entry id: tier} of every entry (any model) matching the parsed query; no bm25 is computed."""
        if not needs_counting(parsed, mode):
            return dict.fromkeys(self.entry_ids(parsed, mode), ranking.EXACT)
        if not parsed.phrases:
            return self._counted_tiers(parsed, mode)
        sql, params = self._statement(parsed, mode, scored=False)
        if sql is None:
            return {}
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall())

    def _counted_tiers(self, parsed, mode):
        """entry_tiers without quoted phrases: each group's (and a compound's exact form's) MATCH gives its ids, and
        counting them here is twice as fast as SQLite's GROUP BY over their UNION ALL (the same rule, same tiers)."""
        n, fts = len(parsed.groups), f"{IndexEntry._meta.db_table}_fts"
        sql = f"SELECT group_concat(rowid) FROM {fts} WHERE {fts} MATCH %s"
        matched = Counter()
        exact = Counter() if parsed.has_parts else matched
        with self.connection.cursor() as cursor:

            def ids(expression):
                cursor.execute(sql, ["{title body} : (" + expression + ")"])
                joined = cursor.fetchone()[0]
                return joined.split(",") if joined else []

            for i in range(n):
                found = ids(fts5_group(parsed, i))
                matched.update(found)
                if exact is not matched:
                    exact.update(ids(fts5_group(parsed, i, exact_only=True)) if parsed.group_parts(i) else found)
        k = ranking.min_groups(n, mode)
        if exact is matched:
            by_count = [ranking.tier(n, count, count) for count in range(n + 1)]
            return {int(entry): by_count[count] for entry, count in matched.items() if count >= k}
        return {int(entry): ranking.tier(n, count, exact[entry]) for entry, count in matched.items() if count >= k}

    def entry_ids(self, parsed, mode="all"):
        """Ids of every index entry (any model) matching the parsed query, unranked (no bm25 is computed)."""
        if needs_counting(parsed, mode):
            return list(self.entry_tiers(parsed, mode))
        sql, params = self._statement(parsed, mode, scored=False)
        if sql is None:
            return []
        fts = f"{IndexEntry._meta.db_table}_fts"
        sql = sql.replace(f"SELECT {fts}.rowid, {ranking.EXACT} ", f"SELECT group_concat({fts}.rowid) ", 1)
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            joined = cursor.fetchone()[0]
        return list(map(int, joined.split(","))) if joined else []
