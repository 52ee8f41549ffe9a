"""PostgreSQL flavour of the Chinese search backend (tsvector with the 'simple' configuration)."""

from django.utils.functional import cached_property
from modelsearch.backends.database.postgres import postgres as pg

from search.backends.common import (
    TITLE_WEIGHT,
    ChineseSearchMixin,
    IndexEntry,
    SinglePassIndexerMixin,
    _tsquote,
    analyse_indexers,
    prefix_groups,
    tsquery_parts,
)


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
        # modelsearch builds the indexers itself: hand it ours, analysed as one batch.
        indexers = {id(obj): SegmentingPostgresIndexer(obj, self.backend) for obj in objs}
        analyse_indexers(indexers.values())
        original = pg.ObjectIndexer
        pg.ObjectIndexer = lambda obj, _backend: indexers[id(obj)]
        try:
            super().add_items(model, objs)
        finally:
            pg.ObjectIndexer = original


class ChinesePostgresSearchBackend(ChineseSearchMixin, pg.PostgresSearchBackend):
    vendor = "postgresql"
    index_class = ChinesePostgresIndex

    def autocomplete_sql(self, model, parsed, mode, content_type_ids):
        words, phrases = [], []
        for tokens, is_prefix in prefix_groups(parsed):
            if is_prefix is None:
                phrases.append("(" + " & ".join(_tsquote(t) for t in tokens) + ")")
            else:
                words.append("(" + " | ".join(_tsquote(t) + (":*" if is_prefix else "") for t in tokens) + ")")
        if mode == "any" and len(words) > 1:
            words = ["(" + " | ".join(words) + ")"]
        if not words and not phrases:
            return None, []
        ct_ids = content_type_ids or self.content_type_ids(model)
        sql = (f"SELECT object_id, ts_rank(autocomplete, q.query) AS score "
               f"FROM {IndexEntry._meta.db_table}, to_tsquery('simple', %s) AS q(query) "
               f"WHERE content_type_id IN ({', '.join(['%s'] * len(ct_ids))}) AND autocomplete @@ q.query")
        return sql, [" & ".join(phrases + words), *ct_ids]

    def match_sql(self, model, parsed, mode="all", title_only=False, content_type_ids=None, key="object_id",
                  scored=True):
        parts = tsquery_parts(parsed, mode)
        if not parts:
            return None, []
        entry = IndexEntry._meta.db_table
        whole = " & ".join(f"({p})" for p in parts)
        if title_only:
            conditions = ["title @@ to_tsquery('simple', %s)" for _ in parts]
        else:
            conditions = ["(title @@ to_tsquery('simple', %s) OR body @@ to_tsquery('simple', %s))" for _ in parts]
        if scored:
            sql = [f"SELECT {key}, {TITLE_WEIGHT} * ts_rank(title, q.query) + ts_rank(body, q.query) AS score "
                   f"FROM {entry}, to_tsquery('simple', %s) AS q(query) WHERE TRUE"]
            params = [whole]
        else:
            sql, params = [f"SELECT {key} FROM {entry} WHERE TRUE"], []
        if model is not None:
            ct_ids = content_type_ids or self.content_type_ids(model)
            sql.append(f"AND content_type_id IN ({', '.join(['%s'] * len(ct_ids))})")
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

    def entry_scores_sql(self, parsed, mode="all"):
        return self.match_sql(None, parsed, mode, key="id")

    def entry_ids(self, parsed, mode="all"):
        """Ids of every index entry (any model) matching the parsed query, unranked."""
        sql, params = self.match_sql(None, parsed, mode, key="id", scored=False)
        if sql is None:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]
