"""PostgreSQL flavour of the Chinese search backend (tsvector with the 'simple' configuration)."""

from django.utils.functional import cached_property
from modelsearch.backends.database.postgres import postgres as pg
from modelsearch.index import SearchField

from search import ranking
from search.backends.common import (
    BatchIndexMixin,
    ChineseSearchMixin,
    IndexEntry,
    SinglePassIndexerMixin,
    _tsquote,
    needs_counting,
    prefix_groups,
    tsquery_group,
    tsquery_phrases,
)
from search.ranking import TITLE_WEIGHT


class SegmentingPostgresIndexer(SinglePassIndexerMixin, pg.ObjectIndexer):
    def field_weight(self, field):
        return pg.get_weight(field.boost) if isinstance(field, SearchField) else "D"

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


class ChinesePostgresIndex(BatchIndexMixin, pg.PostgresIndex):
    indexer_class = SegmentingPostgresIndexer

    def _refresh_title_norms(self, full=False):
        """Not used: titles are weighted in the rank expression directly."""

    def write_items(self, prepared):
        # modelsearch builds the indexers itself: hand it ours, analysed as one batch.
        model, pending = prepared
        indexers = pending.finish()
        by_object = {id(indexer.obj): indexer for indexer in indexers}
        original = pg.ObjectIndexer
        pg.ObjectIndexer = lambda obj, _backend: by_object[id(obj)]
        try:
            pg.PostgresIndex.add_items(self, model, [indexer.obj for indexer in indexers])
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
        """(SQL selecting key, score — or key, tier unscored; params), like the SQLite backend's statement.

        One AND of every group when no counting is needed; otherwise every group (and a compound's exact form)
        is tested on each entry that matches any group, and the tier comes from the counts (search.ranking).
        """
        n = len(parsed.groups)
        phrase_parts = tsquery_phrases(parsed)
        if not n and not phrase_parts:
            return None, []
        entry = IndexEntry._meta.db_table

        def condition(query):
            if title_only:
                return "title @@ to_tsquery('simple', %s)", [query]
            return "(title @@ to_tsquery('simple', %s) OR body @@ to_tsquery('simple', %s))", [query, query]

        where, where_params = [], []
        if model is not None:
            ct_ids = content_type_ids or self.content_type_ids(model)
            where.append(f"AND content_type_id IN ({', '.join(['%s'] * len(ct_ids))})")
            where_params += ct_ids
        for part in phrase_parts:
            sql_part, part_params = condition(part)
            where.append("AND " + sql_part)
            where_params += part_params
        for phrase in parsed.phrases:
            where.append(
                "AND (strpos(replace(title_text, ' ', ''), %s) > 0 OR strpos(replace(body_text, ' ', ''), %s) > 0)"
            )
            where_params += [phrase.key, phrase.key]
        groups = [tsquery_group(parsed, i) for i in range(n)]
        relevance = f"{TITLE_WEIGHT} * ts_rank(title, q.query) + ts_rank('{pg_weights()}', body, q.query)"

        if not needs_counting(parsed, mode):
            group_where, group_params = [], []
            for group in groups:
                sql_part, part_params = condition(group)
                group_where.append("AND " + sql_part)
                group_params += part_params
            whole = " & ".join(f"({p})" for p in phrase_parts + groups)
            if scored:
                sql = [f"SELECT {key}, {ranking.EXACT * ranking.TIER_OFFSET} + least({relevance}, "
                       f"{ranking.MAX_RELEVANCE}) AS score FROM {entry}, to_tsquery('simple', %s) AS q(query) "
                       "WHERE TRUE"]
                params = [whole]
            else:
                sql, params = [f"SELECT {key}, {ranking.EXACT} FROM {entry} WHERE TRUE"], []
            return " ".join(sql + where + group_where), params + where_params + group_params

        any_query = " | ".join(groups)
        matched, exact, count_params = [], [], []
        for group in groups:
            sql_part, part_params = condition(group)
            matched.append(f"({sql_part})::int")
            count_params += part_params
        for i in range(n):
            sql_part, part_params = condition(tsquery_group(parsed, i, exact_only=True))
            exact.append(f"({sql_part})::int")
            count_params += part_params
        any_sql, any_params = condition(any_query)
        k = ranking.min_groups(n, mode)
        select_relevance = f", {relevance} AS relevance" if scored else ""
        from_query = ", to_tsquery('simple', %s) AS q(query)" if scored else ""
        inner = (f"SELECT {key} AS key, {' + '.join(matched)} AS n, {' + '.join(exact)} AS x{select_relevance} "
                 f"FROM {entry}{from_query} WHERE {any_sql} " + " ".join(where))
        params = count_params + ([" & ".join(f"({p})" for p in [*phrase_parts, any_query])] if scored else [])
        params += any_params + where_params
        value = f"{ranking.sql_score(n, 'relevance', least='least')} AS score" if scored else ranking.sql_tier_case(n)
        return f"SELECT key, {value} FROM ({inner}) AS counted WHERE n >= {k}", params

    def entry_scores_sql(self, parsed, mode="all"):
        return self.match_sql(None, parsed, mode, key="id")

    def entry_relevance(self, parsed, mode="all", min_tier=ranking.ANY, limit=None, matches=None):
        """[(index entry id, relevance)] best first, holding at least every entry of tier `min_tier` or above
        (see the SQLite backend): ts_rank with the scored statement's query, over entries holding every group
        (tiers PARTS and up) or any group; no counting, no phrase check."""
        n = len(parsed.groups)
        phrase_parts = tsquery_phrases(parsed)
        if not n and not phrase_parts:
            return []
        groups = [tsquery_group(parsed, i) for i in range(n)]
        counting = needs_counting(parsed, mode)
        query = " & ".join(f"({p})" for p in phrase_parts + ([" | ".join(groups)] if counting else groups))
        required = phrase_parts + (groups if not counting or min_tier >= ranking.PARTS else [" | ".join(groups)])
        where = " AND ".join("(title @@ to_tsquery('simple', %s) OR body @@ to_tsquery('simple', %s))"
                             for _part in required)
        relevance = f"{TITLE_WEIGHT} * ts_rank(title, q.query) + ts_rank('{pg_weights()}', body, q.query)"
        sql = (f"SELECT id, {relevance} AS relevance FROM {IndexEntry._meta.db_table}, "
               f"to_tsquery('simple', %s) AS q(query) WHERE {where} ORDER BY relevance DESC")
        params = [query, *(part for part in required for _twice in range(2))]
        if limit:
            sql += " LIMIT %s"
            params.append(int(limit))
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(entry, float(value)) for entry, value in cursor.fetchall()]

    def entry_tiers(self, parsed, mode="all"):
        sql, params = self.match_sql(None, parsed, mode, key="id", scored=False)
        if sql is None:
            return {}
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall())

    def entry_ids(self, parsed, mode="all"):
        """Ids of every index entry (any model) matching the parsed query, unranked."""
        return list(self.entry_tiers(parsed, mode))


def pg_weights():
    """ts_rank's {D,C,B,A} weights: each letter weighted by the boost modelsearch maps to it (unboosted fields 1),
    relative to the largest, so a boost counts as on the other engines (search.ranking)."""
    from modelsearch.backends.database.postgres.weights import BOOSTS_WEIGHTS

    boosts = {letter: 1.0 for letter in "ABCD"}
    for boost, letter in BOOSTS_WEIGHTS:
        boosts[letter] = max(boosts[letter], float(boost or 1.0))
    top = max(boosts.values())
    return "{" + ",".join(f"{boosts[letter] / top:.4f}" for letter in "DCBA") + "}"
