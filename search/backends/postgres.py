"""PostgreSQL flavour of the Chinese search backend (tsvector with the 'simple' configuration)."""

from modelsearch.backends.database.postgres import postgres as pg

from search.analysis import analyse_for_index
from search.backends.common import TITLE_WEIGHT, ChineseSearchMixin, IndexEntry, _raw_value, tsquery_parts


class SegmentingPostgresIndexer(pg.ObjectIndexer):
    def prepare_value(self, value):
        return analyse_for_index(_raw_value(value))


class ChinesePostgresIndex(pg.PostgresIndex):
    def add_items(self, model, objs):
        original = pg.ObjectIndexer
        pg.ObjectIndexer = SegmentingPostgresIndexer
        try:
            super().add_items(model, objs)
        finally:
            pg.ObjectIndexer = original


class ChinesePostgresSearchBackend(ChineseSearchMixin, pg.PostgresSearchBackend):
    vendor = "postgresql"
    index_class = ChinesePostgresIndex

    def match_scores(self, model, parsed, mode="all", title_only=False, content_type_ids=None, limit=None):
        parts = tsquery_parts(parsed, mode)
        if not parts:
            return {}
        ct_ids = content_type_ids or self.content_type_ids(model)
        entry = IndexEntry._meta.db_table
        whole = " & ".join(f"({p})" for p in parts)
        if title_only:
            conditions = ["title @@ to_tsquery('simple', %s)" for _ in parts]
        else:
            conditions = ["(title @@ to_tsquery('simple', %s) OR body @@ to_tsquery('simple', %s))" for _ in parts]
        params = [whole, whole]
        sql = [
            f"SELECT object_id, {TITLE_WEIGHT} * ts_rank(title, q.query) + ts_rank(body, q.query) AS score "
            f"FROM {entry}, to_tsquery('simple', %s) AS q(query) WHERE content_type_id IN "
            f"({', '.join(['%s'] * len(ct_ids))})"
        ]
        params = [whole, *ct_ids]
        for part, condition in zip(parts, conditions, strict=True):
            sql.append("AND " + condition)
            params += [part] if title_only else [part, part]
        for phrase in parsed.phrases:
            sql.append(
                "AND (strpos(replace(title_text, ' ', ''), %s) > 0 OR strpos(replace(body_text, ' ', ''), %s) > 0)"
            )
            params += [phrase.key, phrase.key]
        sql.append("ORDER BY score DESC")
        if limit:
            sql.append(f"LIMIT {int(limit)}")
        with self.connection.cursor() as cursor:
            cursor.execute(" ".join(sql), params)
            return {row[0]: float(row[1]) for row in cursor.fetchall()}
