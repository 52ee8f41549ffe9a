"""SQLite FTS5 flavour of the Chinese search backend."""

from modelsearch.backends.database.sqlite import sqlite as lite
from modelsearch.utils import get_content_type_pk

from search.analysis import analyse_for_index
from search.backends.common import (
    TITLE_WEIGHT,
    ChineseSearchMixin,
    IndexEntry,
    _indexer_values,
    _raw_value,
    fts5_expression,
)


class SegmentingSQLiteIndexer(lite.ObjectIndexer):
    def prepare_value(self, value):
        return analyse_for_index(_raw_value(value))


class ChineseSQLiteIndex(lite.SQLiteIndex):
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

    def match_scores(self, model, parsed, mode="all", title_only=False, content_type_ids=None, limit=None):
        expression = fts5_expression(parsed, mode)
        if not expression:
            return {}
        columns = "{title}" if title_only else "{title body}"
        ct_ids = content_type_ids or self.content_type_ids(model)
        fts = f"{IndexEntry._meta.db_table}_fts"
        entry = IndexEntry._meta.db_table
        sql = [
            f"SELECT e.object_id, -bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT}) AS score FROM {fts} "
            f"JOIN {entry} e ON e.id = {fts}.rowid WHERE {fts} MATCH %s "
            f"AND e.content_type_id IN ({', '.join(['%s'] * len(ct_ids))})"
        ]
        params = [f"{columns} : ({expression})", *ct_ids]
        for phrase in parsed.phrases:
            sql.append("AND (instr(replace(e.title, ' ', ''), %s) > 0 OR instr(replace(e.body, ' ', ''), %s) > 0)")
            params += [phrase.key, phrase.key]
        sql.append("ORDER BY score DESC")
        if limit:
            sql.append(f"LIMIT {int(limit)}")
        with self.connection.cursor() as cursor:
            cursor.execute(" ".join(sql), params)
            return {row[0]: row[1] for row in cursor.fetchall()}
