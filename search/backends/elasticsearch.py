"""Elasticsearch 8/9 backend (modelsearch) that indexes and queries jieba-segmented Chinese.

The base classes are modelsearch's ``elasticsearch8`` or ``elasticsearch9`` backend, chosen by the major version
of the installed ``elasticsearch`` client, which must match the server's (a 9.x client cannot talk to an 8.x
server): requirements.lock pins the 9.x client, requirements-es8.lock the 8.x one.

Text fields hold ``analysis.analyse_for_index`` output (space-separated, lower-cased tokens) and are mapped with
the prebuilt ``whitespace`` analyzer, so the server needs no analysis plugin and no custom analyzer: the
segmentation, user dictionary and synonyms are exactly those of the SQLite/PostgreSQL backends. Queries are built
from ``analysis.analyse_query`` as bool queries of ``match``/``match_phrase`` clauses (never query-string
syntax), so any visitor input is data.

Index layout: one index per root model (``<prefix>wagtailcore_page`` for all pages), reached through an alias
of that name; ``update_index`` builds ``<alias>_<random>`` and switches the alias atomically.
"""

import hashlib
import html
import json
import os
import re
import threading
import time
from collections import OrderedDict

import elasticsearch
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import F, OrderBy
from modelsearch.backends.base import FilterFieldError, OrderByFieldError
from modelsearch.backends.elasticsearchbase import ElasticsearchAtomicIndexRebuilder
from modelsearch.index import AutocompleteField, RelatedFields, SearchField, class_is_indexed
from modelsearch.query import And, Boost, MatchAll, Not, Or

from search import analysis, ranking
from search.backends.common import _raw_value, is_flat_query, parse_search_query, prefix_groups
from search.ranking import ANY_MATCH_PENALTY, PARTS_WEIGHT, TITLE_WEIGHT

# modelsearch's backend for the client's major version (its elasticsearch9 classes only subclass elasticsearch8's).
CLIENT_MAJOR = int(elasticsearch.__versionstr__.split(".")[0])
if CLIENT_MAJOR == 9:
    from modelsearch.backends.elasticsearch9 import Elasticsearch9Index as BaseIndex
    from modelsearch.backends.elasticsearch9 import Elasticsearch9Mapping as BaseMapping
    from modelsearch.backends.elasticsearch9 import Elasticsearch9SearchBackend as BaseBackend
    from modelsearch.backends.elasticsearch9 import Elasticsearch9SearchQueryCompiler as BaseQueryCompiler
    from modelsearch.backends.elasticsearch9 import Elasticsearch9SearchResults as BaseResults
elif CLIENT_MAJOR == 8:
    from modelsearch.backends.elasticsearch8 import Elasticsearch8Index as BaseIndex
    from modelsearch.backends.elasticsearch8 import Elasticsearch8Mapping as BaseMapping
    from modelsearch.backends.elasticsearch8 import Elasticsearch8SearchBackend as BaseBackend
    from modelsearch.backends.elasticsearch8 import Elasticsearch8SearchQueryCompiler as BaseQueryCompiler
    from modelsearch.backends.elasticsearch8 import Elasticsearch8SearchResults as BaseResults
else:
    raise ImproperlyConfigured(
        f"elasticsearch 客户端 {elasticsearch.__versionstr__} 不受支持：需要 8.x 或 9.x（与服务器主版本一致）"
    )

ANALYZER = "whitespace"
TEXT = {"type": "text", "analyzer": ANALYZER}
HIGHLIGHT_FIELD = "_highlight"
# The same text as written (traditional characters, full-width punctuation, capitals): kept in _source only, so a
# fragment cut from the folded _highlight is shown in the original characters (same length, position for position).
ORIGINAL_FIELD = "_highlight_original"
# Java's whitespace tokenizer splits on U+2009; it is removed again from highlighted fragments.
HIGHLIGHT_SEPARATOR = "\u2009"
MAX_MATCHES = 10_000  # the index's default max_result_window
MATCH_NONE = {"bool": {"must_not": {"match_all": {}}}}

# Only prebuilt analyzers: the stock edge-ngram/ngram analyzers need the analysis-common module. Shards and
# replicas can be raised per deployment with ELASTICSEARCH_SHARDS / ELASTICSEARCH_REPLICAS.
INDEX_SETTINGS = {"settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}}}
# Bulk indexing and the rebuild's force merge wait this long: a bulk that outlives the search timeout is still being
# applied, and sending it again would index every document twice (and mark a healthy node dead).
BULK_TIMEOUT = 300


def preference(query):
    """The same shard copy for every request of one query (count, page 1, page 2, facets, snippets).

    A shard's copies hold the same documents but may score them slightly differently (BM25 statistics count the
    replaced documents a copy has not merged away yet); one copy per query keeps its pages consistent. Queries are
    spread over the copies by their hash. When that copy's node is down another one answers.
    """
    text = json.dumps(query, sort_keys=True, ensure_ascii=False, default=str)
    return "q" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(hosts, **options):
    """One client per configuration and process, shared by every backend instance (Wagtail makes one per search).

    Its node pool remembers dead nodes between requests, so with several URLs a crashed node is skipped until its
    backoff ends instead of being tried first by every request; its HTTP connections are reused. Keyed by the
    process id too: a forked worker never uses its parent's sockets.
    """
    key = (os.getpid(), repr(hosts), repr(sorted(options.items())))
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = elasticsearch.Elasticsearch(hosts=hosts, **options)
        return client


def highlight_text(text):
    """Original text with segment boundaries marked by a whitespace character the server splits on."""
    text = analysis.fold(text)
    if not text.strip():
        return ""
    return HIGHLIGHT_SEPARATOR.join(piece.lower() for piece in analysis._engine().cut(text))


class ChineseElasticsearchMapping(BaseMapping):
    edgengram_analyzer_config = {"analyzer": ANALYZER, "search_analyzer": ANALYZER}

    def get_field_mapping(self, field):
        key, mapping = super().get_field_mapping(field)
        if isinstance(field, SearchField | AutocompleteField) and mapping.get("type") == "text":
            mapping["analyzer"] = ANALYZER
            mapping.pop("search_analyzer", None)
        return key, mapping

    def get_mapping(self):
        mapping = super().get_mapping()
        props = mapping["properties"]
        for name, value in props.items():
            if name.startswith("_all_text") or name == "_edgengrams":
                value.update(TEXT)
                value.pop("search_analyzer", None)
        props[HIGHLIGHT_FIELD] = dict(TEXT)
        props[ORIGINAL_FIELD] = {"type": "text", "index": False}
        return mapping

    def analyse_value(self, value):
        """analyse_for_index for a field value. Short values (titles, names, places) repeat within a bulk chunk
        (one mapping instance), so they are remembered for its lifetime only: dictionary edits apply next time."""
        if value is None:
            return ""
        text = _raw_value(value)
        if len(text) > 200:
            return analysis.analyse_for_index(text)
        memo = self.__dict__.setdefault("_memo", {})
        if text not in memo:
            if len(memo) > 5000:
                memo.clear()
            memo[text] = analysis.analyse_for_index(text)
        return memo[text]

    def _get_document_field_data(self, field, obj):
        name, value, edgengrams = super()._get_document_field_data(field, obj)
        if isinstance(field, AutocompleteField):
            value = self.analyse_value(value)
            return name, value, [value]
        if isinstance(field, SearchField) and not isinstance(field, RelatedFields):
            value = self.analyse_value(value)
        return name, value, edgengrams

    def get_document(self, obj):
        doc = super().get_document(obj)
        if callable(getattr(obj, "plain_text", None)):
            source = html.unescape(obj.plain_text())
        else:
            source = "\n".join(
                _raw_value(f.get_value(obj) or "")
                for f in self.model.get_search_fields()
                if isinstance(f, SearchField) and f.field_name != "title"
            )
        doc[HIGHLIGHT_FIELD] = highlight_text(source)
        doc[ORIGINAL_FIELD] = source
        return doc


class ChineseElasticsearchIndex(BaseIndex):
    def add_item(self, item):
        if not class_is_indexed(item.__class__):
            return
        mapping = self.mapping_class(item.__class__)
        # An editor who publishes expects to find the page straight away.
        self.es.index(index=self.name, document=mapping.get_document(item), id=mapping.get_document_id(item),
                      refresh=True)

    def delete_item(self, item):
        if not class_is_indexed(item.__class__):
            return
        mapping = self.mapping_class(item.__class__)
        try:
            self.es.delete(index=self.name, id=mapping.get_document_id(item), refresh=True)
        except self.backend.NotFoundError:
            pass


class AtomicAliasRebuilder(ElasticsearchAtomicIndexRebuilder):
    """Builds ``<alias>_<random>`` and moves the alias in ONE update_aliases call.

    modelsearch's rebuilder adds the alias to the new index before removing it from the old one, so for a moment
    every search sees both indexes and counts each document twice.
    """

    def finish(self):
        self.index.refresh()
        es, alias, new = self.index.es, self.alias.name, self.index.name
        # One segment without replaced documents on every copy: primary and replica then have the same statistics,
        # so they score alike and a node failure never changes an answer (see expunge_replaced).
        expunge_replaced(es, new)
        old = []
        if self.alias.is_alias():
            old = [index.name for index in self.alias.aliased_indices() if index.name != new]
            actions = [{"remove": {"index": name, "alias": alias}} for name in old]
        elif es.indices.exists(index=alias):
            actions = [{"remove_index": {"index": alias}}]  # first rebuild after incremental indexing
        else:
            actions = []
        es.indices.update_aliases(actions=[*actions, {"add": {"index": new, "alias": alias}}])
        for name in old:
            try:
                es.indices.delete(index=name)
            except self.index.backend.NotFoundError:
                pass


def replaced_docs(es, index):
    """{shard copy: replaced (deleted) documents its BM25 statistics still count} of an index."""
    out = {}
    for row in es.cat.segments(index=index, format="json", h="shard,prirep,id,docs.deleted"):
        copy = f"{row['shard']}{row['prirep']}@{row['id']}"
        out[copy] = out.get(copy, 0) + int(row["docs.deleted"] or 0)
    return out


def expunge_replaced(es, index, timeout=60):
    """Force-merge a freshly built index to one segment until no copy counts a replaced document.

    A bulk resent after a failure replaces documents; each copy merges them away on its own schedule, so the copies'
    scores differ until then. The operations stay retained (for replica recovery) until the copies' retention leases
    move past them, which the cluster syncs every few seconds once writing stops, so the merge is repeated until then.
    """
    es = es.options(request_timeout=BULK_TIMEOUT)
    deadline = time.monotonic() + timeout
    while True:
        es.indices.flush(index=index)
        es.indices.forcemerge(index=index, max_num_segments=1)
        left = replaced_docs(es, index)
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(1)


def _match(field, terms, boost):
    query = {"query": " ".join(terms)}
    if boost != 1:
        query["boost"] = boost
    return {"match": {field: query}}


def _phrase(field, tokens, boost):
    query = {"query": " ".join(tokens)}
    if boost != 1:
        query["boost"] = boost
    return {"match_phrase": {field: query}}


def _group_clause(parsed, index, fields, exact_only=False):
    """One word group: the word or a synonym in any field, or (unless exact_only) all of its compound's parts."""
    should = [_match(f, parsed.groups[index], b) for f, b in fields]
    parts = () if exact_only else parsed.group_parts(index)
    if parts:
        should.append({"bool": {"must": [
            {"bool": {"should": [_match(f, part, b) for f, b in fields], "minimum_should_match": 1}}
            for part in parts
        ], "boost": PARTS_WEIGHT}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _tier_bonus(query):
    return {"constant_score": {"filter": query, "boost": ranking.TIER_OFFSET}}


def build_query(parsed, fields, mode="all"):
    """A bool query for a ParsedQuery over [(field, boost)], scored like the database backends (search.ranking):
    BM25 of the groups a document holds, plus TIER_OFFSET for each tier it reaches (most groups, every group,
    every group without compound parts). Documents holding fewer than min_groups() groups do not match."""
    n = len(parsed.groups)
    groups = [_group_clause(parsed, i, fields) for i in range(n)]
    phrases = [
        {"bool": {"should": [_phrase(f, p.tokens, b) for f, b in fields], "minimum_should_match": 1}}
        for p in parsed.phrases
    ]
    if not groups and not phrases:
        return MATCH_NONE
    must = list(phrases)
    should = []
    if groups:
        k = ranking.min_groups(n, mode)
        matching = {"bool": {"should": groups, "minimum_should_match": k}}
        if mode == "any":
            matching["bool"]["boost"] = ANY_MATCH_PENALTY  # the ANY tier's relevance; higher tiers add offsets
        must.append(matching)
        exact = [_group_clause(parsed, i, fields, exact_only=True) for i in range(n)]
        should = [
            _tier_bonus({"bool": {"should": groups, "minimum_should_match": ranking.min_groups(n)}}),
            _tier_bonus({"bool": {"must": groups}}),
            _tier_bonus({"bool": {"must": exact}}),
        ]
    else:
        should = [_tier_bonus({"match_all": {}}) for _tier in range(ranking.EXACT)]
    return {"bool": {"must": must, "should": should}}


AUTOCOMPLETE_FIELD = "_edgengrams"  # every AutocompleteField's analysed value


def autocomplete_query(parsed, mode="all"):
    """The words in the AutocompleteFields, the last one as a prefix (analysed tokens, so a prefix of a word)."""
    words, phrases = [], []
    for tokens, is_prefix in prefix_groups(parsed):
        if is_prefix is None:
            phrases.append(_phrase(AUTOCOMPLETE_FIELD, tokens, 1))
        elif is_prefix:
            words.append({"bool": {"should": [{"prefix": {AUTOCOMPLETE_FIELD: {"value": t}}} for t in tokens],
                                   "minimum_should_match": 1}})
        else:
            words.append(_match(AUTOCOMPLETE_FIELD, tokens, 1))
    if not words and not phrases:
        return MATCH_NONE
    if mode == "any" and len(words) > 1:
        words = [{"bool": {"should": words, "minimum_should_match": 1}}]
    return {"bool": {"must": phrases + words}}


class ChineseElasticsearchQueryCompiler(BaseQueryCompiler):
    mapping_class = ChineseElasticsearchMapping
    DEFAULT_OPERATOR = "and"  # as on the database backends: all words, then any
    HANDLES_ORDER_BY_EXPRESSIONS = True
    LAST_TERM_IS_PREFIX = False
    mode = None

    def is_tree(self):
        """Autocomplete and query trees (Not, Boost, nesting) are compiled node by node, never retried as "any"."""
        return self.LAST_TERM_IS_PREFIX or not is_flat_query(self.query)

    def compile_node(self, node, fields):
        """A bool query for a modelsearch query tree, evaluated as Wagtail's backends do."""
        if isinstance(node, MatchAll):
            return {"match_all": {}}
        if isinstance(node, Not):
            return {"bool": {"must_not": [self.compile_node(node.subquery, fields)]}}
        if isinstance(node, Boost):
            return {"bool": {"must": [self.compile_node(node.subquery, fields)], "boost": node.boost}}
        if isinstance(node, And):
            return {"bool": {"must": [self.compile_node(sub, fields) for sub in node.subqueries]}}
        if isinstance(node, Or):
            return {"bool": {"should": [self.compile_node(sub, fields) for sub in node.subqueries],
                             "minimum_should_match": 1}}
        parsed, operator = parse_search_query(node)
        if parsed is None or parsed.is_empty:
            return MATCH_NONE
        mode = "all" if operator == "and" else "any"
        query = build_query(parsed, fields, mode) if fields else MATCH_NONE
        if self.LAST_TERM_IS_PREFIX:
            # As on the database backends: complete words anywhere, or the AutocompleteFields with a prefix.
            query = {"bool": {"should": [query, autocomplete_query(parsed, mode)], "minimum_should_match": 1}}
        return query

    def parsed(self):
        if not hasattr(self, "_parsed"):
            self._parsed = parse_search_query(self.query)
        return self._parsed

    def search_fields(self):
        """[(index field, boost)]: the title weighted like the database backends, then everything."""
        searchable = {f.field_name: f for f in self.get_searchable_fields()}
        title = searchable.get("title")
        title_column = self.mapping.get_field_column_name(title) if title else None
        if self.fields and set(self.fields) <= {"title"}:
            return [(title_column, 1.0)] if title_column else []
        fields = [(f.field_name, f.boost) for f in self.remapped_fields]
        if title_column and not self.fields:
            fields.insert(0, (title_column, TITLE_WEIGHT))
        return fields

    def default_mode(self):
        _parsed, operator = self.parsed()
        return "any" if operator == "or" else "all"

    def _order_items(self):
        """(descending, FilterField, missing) for each ordering of the queryset: field names and, as Wagtail's admin
        listings use them, ``F(name).asc()/.desc()`` with ``nulls_first``/``nulls_last``."""
        for item in self.queryset.query.order_by:
            missing = None
            if isinstance(item, OrderBy):
                if not isinstance(item.expression, F):
                    raise OrderByFieldError(f'Sorting search results with "{item}" is not supported by this search '
                                            "backend.", field_name=item)
                name, descending = item.expression.name, item.descending
                missing = "_first" if item.nulls_first else "_last" if item.nulls_last else None
            else:
                name, descending = item.lstrip("-"), item.startswith("-")
            field = self._get_filterable_field(name)
            if field is None:
                raise OrderByFieldError(
                    f'Cannot sort search results with field "{name}". Please add index.FilterField("{name}") to '
                    f"{self.queryset.model.__name__}.search_fields.", field_name=name
                )
            yield descending, field, missing

    def _get_order_by(self):
        if self.order_by_relevance:
            return
        for descending, field, _missing in self._order_items():
            yield descending, field

    def get_sort(self):
        # Equal scores are ordered by pk: a shard's copies (primary, replica) can order ties differently, so the
        # same search would list them differently from one request to the next and a page could repeat a result.
        if self.order_by_relevance:
            return [{"_score": "desc"}, {"pk": "asc"}]
        if not self.queryset.ordered:
            return [{"pk": "desc"}]
        sort = []
        for descending, field, missing in self._order_items():
            order = {"order": "desc" if descending else "asc"}
            if missing:
                order["missing"] = missing
            sort.append({self.mapping.get_field_column_name(field): order})
        return sort

    def get_inner_query(self):
        if self.is_tree():
            return self.compile_node(self.query, self.search_fields())
        if isinstance(self.query, MatchAll):
            return {"match_all": {}}
        parsed, _operator = self.parsed()
        if parsed is None or parsed.is_empty:
            return MATCH_NONE
        fields = self.search_fields()
        if not fields:
            return MATCH_NONE
        return build_query(parsed, fields, self.mode or self.default_mode())

    def highlight_query(self):
        parsed, _operator = self.parsed()
        if not parsed or parsed.is_empty:
            return None
        should = []
        terms = sorted({t for group in parsed.groups for t in group}
                       | {t for parts in parsed.parts for part in parts for t in part})
        if terms:
            should.append(_match(HIGHLIGHT_FIELD, terms, 1))
        for p in parsed.phrases:
            should.append(_match(HIGHLIGHT_FIELD, p.tokens, 1))
        return {"bool": {"should": should}} if should else None


class ChineseElasticsearchResults(BaseResults):
    def _clone(self):
        new = super()._clone()
        new._mode_checked = getattr(self, "_mode_checked", False)
        return new

    def _index_name(self):
        return self.backend.get_index_for_model(self.query_compiler.queryset.model).name

    def ensure_mode(self):
        """All groups must match; when that finds nothing, any group matches (ranked lower)."""
        compiler = self.query_compiler
        if getattr(self, "_mode_checked", False) or compiler.mode or compiler.is_tree():
            return
        self._mode_checked = True
        parsed, operator = compiler.parsed()
        if parsed is None or operator != "and" or len(parsed.groups) < 2:
            return
        query = compiler.get_query()
        count = self.backend.es.count(index=self._index_name(), query=query, preference=preference(query))["count"]
        if count == 0:
            compiler.mode = "any"

    def _do_search(self):
        """One request, never modelsearch's scroll: a scroll context lives on the node holding the shard copy, and
        if that node dies mid-scroll the remaining results silently go missing. Shard failures are errors, never
        partial results. At most MAX_MATCHES results (the index's max_result_window), as in match_scores."""
        self.ensure_mode()
        stop = MAX_MATCHES if self.stop is None else min(self.stop, MAX_MATCHES)
        if stop <= self.start:
            return
        body = self._get_es_body()
        response = self.backend.es.search(
            index=self._index_name(), **body, from_=self.start, size=stop - self.start,
            source=False, stored_fields=["pk"], allow_partial_search_results=False,
            preference=preference(body["query"]),
        )
        yield from self._get_results_from_hits(response["hits"]["hits"])

    def _do_count(self):
        self.ensure_mode()
        query = self.query_compiler.get_query()
        hit_count = self.backend.es.count(index=self._index_name(), query=query, preference=preference(query))["count"]
        hit_count -= self.start
        if self.stop is not None:
            hit_count = min(hit_count, self.stop - self.start)
        return max(hit_count, 0)

    def facet(self, field_name):
        field = self.query_compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(f'Cannot facet search results with field "{field_name}".', field_name=field_name)
        self.ensure_mode()
        column = self.query_compiler.mapping.get_field_column_name(field)
        query = self.query_compiler.get_query()
        response = self.backend.es.search(
            index=self._index_name(), query=query, preference=preference(query), size=0, track_total_hits=True,
            aggregations={field_name: {"terms": {"field": column, "size": 500}},
                          "_missing": {"missing": {"field": column}}},
        )
        model_field = field.get_field(self.query_compiler.queryset.model)
        counts = []
        for bucket in response["aggregations"][field_name]["buckets"]:
            key = bucket.get("key_as_string", bucket["key"])
            if isinstance(model_field, models.DateField) and not isinstance(model_field, models.DateTimeField):
                key = str(key)[:10]
            try:
                key = model_field.to_python(key)
            except Exception:  # noqa: BLE001 - keep the raw key if the field cannot convert it
                pass
            counts.append((key, bucket["doc_count"]))
        # Documents without a value (no tag at all, for a many-to-many field): counted under None, as the database
        # backends do, in order of count.
        missing = response["aggregations"]["_missing"]["doc_count"]
        if missing > 0:
            counts.append((None, missing))
        counts.sort(key=lambda item: -item[1])
        return OrderedDict(counts)

    def highlights(self, fragment_size=120):
        """{pk: snippet HTML with <mark>} for this slice of results, from Elasticsearch's highlighter."""
        self.ensure_mode()
        compiler = self.query_compiler
        highlight_query = compiler.highlight_query()
        if highlight_query is None:
            return {}
        size = (self.stop - self.start) if self.stop is not None else 100
        body = self._get_es_body()
        response = self.backend.es.search(
            index=self._index_name(), **body, from_=self.start, size=size, source=[ORIGINAL_FIELD],
            stored_fields=["pk"], preference=preference(body["query"]),
            highlight={
                "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
                "fields": {HIGHLIGHT_FIELD: {"type": "unified", "fragment_size": fragment_size,
                                             "number_of_fragments": 1, "no_match_size": fragment_size,
                                             "highlight_query": highlight_query}},
            },
        )
        terms = compiler.parsed()[0].highlight_terms()
        out = {}
        to_python = compiler.queryset.model._meta.pk.to_python
        for hit in response["hits"]["hits"]:
            fragments = hit.get("highlight", {}).get(HIGHLIGHT_FIELD) or [""]
            original = (hit.get("_source") or {}).get(ORIGINAL_FIELD) or ""
            out[to_python(hit["fields"]["pk"][0])] = as_written(tidy_fragment(fragments[0], terms), original)
        return out


_MARK_RE = re.compile(r"(<mark>.*?</mark>)", re.S)


def tidy_fragment(fragment, terms):
    """Join the segments again and mark query words the highlighter could not see inside longer words."""
    fragment = fragment.replace(HIGHLIGHT_SEPARATOR, "").replace("</mark><mark>", "")
    escaped = [html.escape(t, quote=False) for t in terms if t]
    if not escaped:
        return fragment
    pattern = re.compile("|".join(re.escape(t) for t in escaped))
    parts = _MARK_RE.split(fragment)
    for i, part in enumerate(parts):
        if not part.startswith("<mark>"):
            parts[i] = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", part)
    return "".join(parts).strip()


def as_written(fragment, original):
    """A fragment of the folded, lower-cased highlight text (HTML with <mark>) in the original's characters: the
    folded text lines up with the original character for character, so the fragment's place in it is the place
    to copy from. Unchanged when it cannot be found (a document indexed before the original was kept)."""
    folded = analysis.fold(original).lower()
    if not fragment or len(folded) != len(original):
        return fragment
    parts = [part for part in _MARK_RE.split(fragment) if part]
    plain = [html.unescape(part[6:-7] if part.startswith("<mark>") else part) for part in parts]
    at = folded.find("".join(plain))
    if at < 0:
        return fragment
    out = []
    for part, text in zip(parts, plain, strict=True):
        piece = html.escape(original[at : at + len(text)], quote=False)
        at += len(text)
        out.append(f"<mark>{piece}</mark>" if part.startswith("<mark>") else piece)
    return "".join(out)


def highlight(results, fragment_size=120):
    """{pk: snippet HTML} for a sliced search results object (Elasticsearch's highlighter, `<mark>` tags)."""
    if hasattr(results, "highlights"):
        return results.highlights(fragment_size)
    return {}


class ChineseElasticsearchAutocompleteQueryCompiler(ChineseElasticsearchQueryCompiler):
    LAST_TERM_IS_PREFIX = True


class ChineseElasticsearchSearchBackend(BaseBackend):
    vendor = "elasticsearch"
    mapping_class = ChineseElasticsearchMapping
    index_class = ChineseElasticsearchIndex
    query_compiler_class = ChineseElasticsearchQueryCompiler
    autocomplete_query_compiler_class = ChineseElasticsearchAutocompleteQueryCompiler
    results_class = ChineseElasticsearchResults
    atomic_rebuilder_class = AtomicAliasRebuilder
    settings = INDEX_SETTINGS
    client_class = staticmethod(shared_client)

    def bulk(self, client, actions, **kwargs):
        return super().bulk(client.options(request_timeout=BULK_TIMEOUT), actions, **kwargs)

    def match_scores(self, model, parsed, mode="all", title_only=False, content_type_ids=None, limit=None):
        """{object_id (str): score} for documents of `model` matching a ParsedQuery, as the database backends give.

        The same contract as ``ChineseSearchMixin.match_scores``, so code written against the database backends
        (the search page's service) runs unchanged on Elasticsearch.
        """
        if parsed is None or parsed.is_empty:
            return {}
        compiler = self.query_compiler_class(model._default_manager.all(), MatchAll(),
                                             fields=["title"] if title_only else None)
        fields = compiler.search_fields()
        if not fields:
            return {}
        query = {"bool": {"must": build_query(parsed, fields, mode), "filter": compiler.get_content_type_filter()}}
        # Ties by pk, so a cut at `limit` keeps the same documents on every shard copy.
        response = self.es.search(index=self.get_index_for_model(model).name, query=query, source=False,
                                  stored_fields=["pk"], size=min(limit or MAX_MATCHES, MAX_MATCHES),
                                  sort=[{"_score": "desc"}, {"pk": "asc"}], track_scores=True,
                                  track_total_hits=False, preference=preference(query))
        return {hit["fields"]["pk"][0]: hit["_score"] for hit in response["hits"]["hits"]}


SearchBackend = ChineseElasticsearchSearchBackend
