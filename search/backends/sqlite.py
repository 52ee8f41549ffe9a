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
    fts5_expression,
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

    def _match_parts(self, model, parsed, mode, title_only, content_type_ids):
        expression = fts5_expression(parsed, mode)
        if not expression:
            return None
        columns = "{title}" if title_only else "{title body}"
        ct_ids = content_type_ids or self.content_type_ids(model)
        return f"{columns} : ({expression})", ct_ids

    def match_sql(self, model, parsed, mode="all", title_only=False, content_type_ids=None, scored=True):
        parts = self._match_parts(model, parsed, mode, title_only, content_type_ids)
        if parts is None:
            return None, []
        match, ct_ids = parts
        fts = f"{IndexEntry._meta.db_table}_fts"
        entry = IndexEntry._meta.db_table
        score = f"-bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT})" if scored else "0.0"
        sql = [
            f"SELECT e.object_id, {score} AS score FROM {fts} "
            # CROSS JOIN keeps the FTS table as the outer loop: one MATCH, then primary-key lookups.
            f"CROSS JOIN {entry} e ON e.id = {fts}.rowid WHERE {fts} MATCH %s "
            f"AND e.content_type_id IN ({', '.join(['%s'] * len(ct_ids))})"
        ]
        params = [match, *ct_ids]
        for phrase in parsed.phrases:
            sql.append("AND (instr(replace(e.title, ' ', ''), %s) > 0 OR instr(replace(e.body, ' ', ''), %s) > 0)")
            params += [phrase.key, phrase.key]
        return " ".join(sql), params

    def top_sql(self, model, parsed, mode, limit):
        """(SQL selecting object_id, score, of_model for the `limit` best index entries; params), or (None, []).

        Ranked by FTS5 alone (as fast as a bare MATCH … ORDER BY bm25 LIMIT); entries of other models come back
        with of_model = 0 so the caller can tell a short list from an exhausted one.
        """
        if parsed.phrases:
            return None, []
        parts = self._match_parts(model, parsed, mode, False, None)
        if parts is None:
            return None, []
        match, ct_ids = parts
        fts = f"{IndexEntry._meta.db_table}_fts"
        sql = (
            f"SELECT e.object_id, c.score, e.content_type_id IN ({', '.join(['%s'] * len(ct_ids))}) AS of_model "
            f"FROM (SELECT rowid AS rid, -bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT}) AS score FROM {fts} "
            f"WHERE {fts} MATCH %s ORDER BY score DESC LIMIT %s) c "
            f"CROSS JOIN {IndexEntry._meta.db_table} e ON e.id = c.rid"
        )
        return sql, [*ct_ids, match, int(limit)]
