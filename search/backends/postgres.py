"""PostgreSQL flavour of the Chinese search backend (tsvector with the 'simple' configuration)."""

from django.utils.functional import cached_property
from modelsearch.backends.database.postgres import postgres as pg

from search.backends.common import TITLE_WEIGHT, ChineseSearchMixin, IndexEntry, SinglePassIndexerMixin, tsquery_parts


class SegmentingPostgresIndexer(SinglePassIndexerMixin, pg.ObjectIndexer):
    @cached_property
    def title(self):
        return self.as_vector(self._analysed("title"))

    @cached_property
    def body(self):
        return self.as_vector(self._analysed("body"))

    @cached_property
    def autocomplete(self):
        return self.as_vector(self._analysed("autocomplete"), for_autocomplete=True)

    @cached_property
    def title_text(self):
        return self._joined("title")

    @cached_property
    def body_text(self):
        return self._joined("body")


class ChinesePostgresIndex(pg.PostgresIndex):
    def _refresh_title_norms(self, full=False):
        """Not used: titles are weighted in the rank expression directly."""
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

    def match_sql(self, model, parsed, mode="all", title_only=False, content_type_ids=None, scored=True):
        parts = tsquery_parts(parsed, mode)
        if not parts:
            return None, []
        ct_ids = content_type_ids or self.content_type_ids(model)
        entry = IndexEntry._meta.db_table
        whole = " & ".join(f"({p})" for p in parts)
        if title_only:
            conditions = ["title @@ to_tsquery('simple', %s)" for _ in parts]
        else:
            conditions = ["(title @@ to_tsquery('simple', %s) OR body @@ to_tsquery('simple', %s))" for _ in parts]
        if scored:
            select = (f"SELECT object_id, {TITLE_WEIGHT} * ts_rank(title, q.query) + ts_rank(body, q.query) AS score "
                      f"FROM {entry}, to_tsquery('simple', %s) AS q(query)")
            params = [whole]
        else:
            select, params = f"SELECT object_id, 0.0 AS score FROM {entry}", []
        sql = [f"{select} WHERE content_type_id IN ({', '.join(['%s'] * len(ct_ids))})"]
        params += ct_ids
        for part, condition in zip(parts, conditions, strict=True):
            sql.append("AND " + condition)
            params += [part] if title_only else [part, part]
        for phrase in parsed.phrases:
            sql.append(
                "AND (strpos(replace(title_text, ' ', ''), %s) > 0 OR strpos(replace(body_text, ' ', ''), %s) > 0)"
            )
            params += [phrase.key, phrase.key]
        return " ".join(sql), params

    def top_sql(self, model, parsed, mode, limit):
        """(SQL selecting object_id, score, of_model for the `limit` best entries of `model`; params)."""
        sql, params = self.match_sql(model, parsed, mode)
        if sql is None:
            return None, []
        return f"SELECT object_id, score, TRUE AS of_model FROM ({sql}) t ORDER BY score DESC LIMIT %s", [
            *params, int(limit)]
