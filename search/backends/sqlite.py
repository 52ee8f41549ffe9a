"""SQLite FTS5 flavour of the Chinese search backend."""

from django.utils.functional import cached_property
from modelsearch.backends.database.sqlite import sqlite as lite
from modelsearch.utils import get_content_type_pk

from search.backends.common import (
    TITLE_WEIGHT,
    ChineseSearchMixin,
    IndexEntry,
    SinglePassIndexerMixin,
    _indexer_values,
    _quote,
    analyse_indexers,
    fts5_expression,
    prefix_groups,
)


class SegmentingSQLiteIndexer(SinglePassIndexerMixin, lite.ObjectIndexer):
    @cached_property
    def title(self):
        return self._joined("title")

    @cached_property
    def body(self):
        return self._joined("body")

    @cached_property
    def autocomplete(self):
        return self._joined("autocomplete")


class ChineseSQLiteIndex(lite.SQLiteIndex):
    def _refresh_title_norms(self, full=False):
        """Not used: titles are weighted in bm25() directly."""
    def add_items(self, model, objs):
        if not model.get_search_fields():
            return
        indexers = [SegmentingSQLiteIndexer(obj, self.backend) for obj in objs]
        if not indexers:
            return
        analyse_indexers(indexers)
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
        to_create = [
            IndexEntry(content_type_id=content_type_pk, object_id=object_id, title=title, autocomplete=autocomplete,
                       body=body)
            for object_id, (title, autocomplete, body) in data.items()
            if object_id not in existing
        ]
        self.entries.bulk_create(to_create, batch_size=500)


class ChineseSQLiteSearchBackend(ChineseSearchMixin, lite.SQLiteSearchBackend):
    vendor = "sqlite"
    index_class = ChineseSQLiteIndex

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

    def _match_parts(self, model, parsed, mode, title_only, content_type_ids):
        expression = fts5_expression(parsed, mode)
        if not expression:
            return None
        columns = "{title}" if title_only else "{title body}"
        ct_ids = content_type_ids or self.content_type_ids(model)
        return f"{columns} : ({expression})", ct_ids

    def match_sql(self, model, parsed, mode="all", title_only=False, content_type_ids=None):
        parts = self._match_parts(model, parsed, mode, title_only, content_type_ids)
        if parts is None:
            return None, []
        match, ct_ids = parts
        fts = f"{IndexEntry._meta.db_table}_fts"
        entry = IndexEntry._meta.db_table
        sql = [
            f"SELECT e.object_id, -bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT}) AS score FROM {fts} "
            # CROSS JOIN keeps the FTS table as the outer loop: one MATCH, then primary-key lookups.
            f"CROSS JOIN {entry} e ON e.id = {fts}.rowid WHERE {fts} MATCH %s "
            f"AND e.content_type_id IN ({', '.join(['%s'] * len(ct_ids))})"
        ]
        params = [match, *ct_ids]
        sql, params = self._with_phrases(sql, params, parsed)
        return " ".join(sql), params

    @staticmethod
    def _with_phrases(sql, params, parsed):
        for phrase in parsed.phrases:
            sql.append("AND (instr(replace(e.title, ' ', ''), %s) > 0 OR instr(replace(e.body, ' ', ''), %s) > 0)")
            params = [*params, phrase.key, phrase.key]
        return sql, params

    def _entry_sql(self, select, parsed, mode):
        expression = fts5_expression(parsed, mode)
        if not expression:
            return None, []
        fts = f"{IndexEntry._meta.db_table}_fts"
        sql = [select.format(fts=fts) + f" FROM {fts}"]
        if parsed.phrases:
            sql.append(f"CROSS JOIN {IndexEntry._meta.db_table} e ON e.id = {fts}.rowid")
        sql.append(f"WHERE {fts} MATCH %s")
        sql, params = self._with_phrases(sql, [f"{{title body}} : ({expression})"], parsed)
        return " ".join(sql), params

    def entry_scores_sql(self, parsed, mode="all"):
        # Without a quoted phrase, a bare FTS5 MATCH (… ORDER BY bm25 LIMIT with a limit).
        return self._entry_sql(f"SELECT {{fts}}.rowid, -bm25({{fts}}, 0.0, 1.0, {TITLE_WEIGHT}) AS score", parsed, mode)

    def entry_ids(self, parsed, mode="all"):
        """Ids of every index entry (any model) matching the parsed query, unranked (no bm25 is computed)."""
        sql, params = self._entry_sql("SELECT group_concat({fts}.rowid)", parsed, mode)
        if sql is None:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            joined = cursor.fetchone()[0]
        return list(map(int, joined.split(","))) if joined else []
