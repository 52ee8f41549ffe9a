"""Shared parts of the Chinese search backends: query translation and result handling."""

import json

import orjson
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, router
from django.db.models import Count, TextField
from django.db.models.fields.related import RelatedField
from django.db.models.functions import Cast
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from modelsearch.backends.base import BaseSearchResults, FilterFieldError
from modelsearch.conf import get_app_config
from modelsearch.index import AutocompleteField, BaseField, RelatedFields, SearchField
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import get_descendants_content_types_pks

from search import ranking
from search.analysis import (
    ParsedQuery,
    QueryPhrase,
    analyse_for_index,
    analyse_query,
    phrase_key,
    segment,
    submit_many_for_index,
)
from search.ranking import ANY_MATCH_PENALTY, TITLE_WEIGHT  # noqa: F401 - re-exported for older imports

IndexEntry = get_app_config().get_model("IndexEntry", require_ready=False)


def _raw_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "\n".join(_raw_value(item) for item in value)
    if isinstance(value, dict):
        return "\n".join(_raw_value(item) for item in value.values())
    return force_str(value)


# --- query translation -------------------------------------------------------------------------


def parse_search_query(query):
    """(ParsedQuery, operator) for a modelsearch query object, or (None, None) if it is MatchAll/negated."""
    if isinstance(query, MatchAll):
        return None, None
    plain, phrases, operator = [], [], "and"

    def walk(node):
        nonlocal operator
        if isinstance(node, PlainText):
            plain.append(node.query_string)
            operator = node.operator
        elif isinstance(node, Fuzzy):
            plain.append(node.query_string)
            operator = node.operator
        elif isinstance(node, Phrase):
            phrases.append(node.query_string)
        elif isinstance(node, Boost):
            walk(node.subquery)
        elif isinstance(node, And | Or):
            for sub in node.subqueries:
                walk(sub)
            if isinstance(node, Or):
                operator = "or"
        elif isinstance(node, Not):
            raise ValueError("negation")

    try:
        walk(query)
    except ValueError:
        return None, None
    parsed = analyse_query(" ".join(plain))
    for text in phrases:
        tokens = tuple(segment(text))
        key = phrase_key(text)
        if tokens and key:
            parsed.phrases.append(QueryPhrase(text=text, tokens=tokens, key=key))
    return parsed, operator


def is_flat_query(query):
    """True if parse_search_query translates the query exactly: one PlainText, Fuzzy or Phrase, an And of those
    (its plain texts all "and"), an Or of plain texts (all "or"), or MatchAll. Anything else (Not, Boost, MatchAll or
    MatchNone inside another query, nested or mixed operators) is evaluated as a tree by ``evaluate_query``."""
    if isinstance(query, MatchAll | PlainText | Fuzzy | Phrase):
        return True
    if isinstance(query, And):
        return all(isinstance(sub, Phrase) or (isinstance(sub, PlainText | Fuzzy) and sub.operator == "and")
                   for sub in query.subqueries)
    if isinstance(query, Or):
        return all(isinstance(sub, PlainText | Fuzzy) and sub.operator == "or" for sub in query.subqueries)
    return False


def evaluate_query(query, leaf):
    """(positive, ids, scores) for a modelsearch query tree, as Wagtail's database backends evaluate it.

    ``leaf(node)`` gives {id: score} for a PlainText, Fuzzy or Phrase node. The result is either the ids that match
    (positive) or the ids that do not (a complement, e.g. for ``Not(…)`` or ``… | MATCH_ALL``); scores are summed
    over the parts that matched, ``Boost`` multiplies them, negated parts add none.
    """
    if isinstance(query, MatchAll):
        return False, set(), {}
    if isinstance(query, Not):
        positive, ids, _scores = evaluate_query(query.subquery, leaf)
        return not positive, ids, {}
    if isinstance(query, Boost):
        positive, ids, scores = evaluate_query(query.subquery, leaf)
        return positive, ids, {key: value * query.boost for key, value in scores.items()}
    if isinstance(query, And | Or):
        parts = [evaluate_query(sub, leaf) for sub in query.subqueries]
        included = [ids for positive, ids, _ in parts if positive]
        excluded = [ids for positive, ids, _ in parts if not positive]
        if isinstance(query, And):
            if included:
                positive, ids = True, set.intersection(*included) - set().union(*excluded)
            else:
                positive, ids = False, set().union(*excluded)
        elif excluded:
            positive, ids = False, set.intersection(*excluded) - set().union(*included)
        else:
            positive, ids = True, set().union(*included)
        scores = {}
        for _positive, _ids, part_scores in parts:
            for key, value in part_scores.items():
                if (key in ids) == positive:
                    scores[key] = scores.get(key, 0.0) + value
        return positive, ids, scores
    scores = leaf(query)
    return True, set(scores), scores


def prefix_groups(parsed: ParsedQuery):
    """[(alternatives, is_prefix)] for autocomplete: the last word typed may be incomplete."""
    groups = [(tuple(group), False) for group in parsed.groups]
    if groups:
        groups[-1] = (groups[-1][0], True)
    return groups + [(tuple(p.tokens), None) for p in parsed.phrases]


def _quote(token):
    return '"' + token.replace('"', '""') + '"'


def needs_counting(parsed: ParsedQuery, mode="all"):
    """True when matches fall into several tiers (compound parts, "most words", "any word"), so each group is
    matched separately and counted; otherwise one AND of every group finds exactly the full matches."""
    n = len(parsed.groups)
    return parsed.has_parts or ranking.min_groups(n, mode) < n


def fts5_group(parsed: ParsedQuery, index, exact_only=False):
    """FTS5 expression for one word group: the word or a synonym, or (unless exact_only) all its parts."""
    alternatives = [_quote(t) for t in parsed.groups[index]]
    parts = () if exact_only else parsed.group_parts(index)
    if parts:
        alternatives.append("(" + " AND ".join("(" + " OR ".join(_quote(t) for t in part) + ")" for part in parts)
                            + ")")
    return "(" + " OR ".join(alternatives) + ")"


def fts5_phrases(parsed: ParsedQuery):
    return ["(" + " AND ".join(_quote(t) for t in p.tokens) + ")" for p in parsed.phrases]


def fts5_expression(parsed: ParsedQuery, mode="all"):
    """An FTS5 MATCH expression for a parsed query (every group, or in "any" mode one of them); every token is a
    quoted string."""
    groups = [fts5_group(parsed, i) for i in range(len(parsed.groups))]
    if mode == "any" and len(groups) > 1:
        groups = ["(" + " OR ".join(groups) + ")"]
    return " AND ".join(fts5_phrases(parsed) + groups)


def _tsquote(token):
    return "'" + token.replace("'", "''").replace("\\", "\\\\") + "'"


def tsquery_group(parsed: ParsedQuery, index, exact_only=False):
    alternatives = [_tsquote(t) for t in parsed.groups[index]]
    parts = () if exact_only else parsed.group_parts(index)
    if parts:
        alternatives.append("(" + " & ".join("(" + " | ".join(_tsquote(t) for t in part) + ")" for part in parts)
                            + ")")
    return "(" + " | ".join(alternatives) + ")"


def tsquery_phrases(parsed: ParsedQuery):
    return ["(" + " & ".join(_tsquote(t) for t in p.tokens) + ")" for p in parsed.phrases]


def tsquery_parts(parsed: ParsedQuery, mode="all"):
    """tsquery strings (to be ANDed) for a parsed query."""
    parts = [tsquery_group(parsed, i) for i in range(len(parsed.groups))]
    if mode == "any" and len(parts) > 1:
        parts = [" | ".join(parts)]
    return tsquery_phrases(parsed) + parts


# --- searching --------------------------------------------------------------------------------


class ChineseSearchResults(BaseSearchResults):
    """Results computed from one fast index query (object id -> score), then restricted to the queryset."""

    supports_facet = True

    def _clone(self):
        new = super()._clone()
        new._ranked = getattr(self, "_ranked", None)
        return new

    def ranked(self):
        """(ordered primary keys, {pk: score})."""
        if getattr(self, "_ranked", None) is not None:
            return self._ranked
        compiler = self.query_compiler
        if getattr(compiler, "LAST_TERM_IS_PREFIX", False) or not is_flat_query(compiler.query):
            self._ranked = self.ranked_tree()
            return self._ranked
        queryset = compiler.queryset
        parsed, operator = parse_search_query(compiler.query)
        if parsed is None:
            if isinstance(compiler.query, MatchAll):
                qs = queryset if queryset.query.order_by else queryset.order_by("-pk")
                pks = list(qs.values_list("pk", flat=True))
            else:
                pks = []
            self._ranked = (pks, {})
            return self._ranked
        if parsed.is_empty:
            self._ranked = ([], {})
            return self._ranked
        title_only = bool(compiler.fields) and set(compiler.fields) <= {"title"}
        model = queryset.model
        scores = self.backend.match_scores(model, parsed, mode="all" if operator == "and" else "any",
                                           title_only=title_only)
        if not scores and operator == "and" and len(parsed.groups) > 1:
            # Nothing holds all or most words: any word, ranked in the ANY tier (see search.ranking).
            scores = self.backend.match_scores(model, parsed, mode="any", title_only=title_only)
        to_python = model._meta.pk.to_python
        scores = {to_python(k): v for k, v in scores.items()}
        qs = queryset.filter(pk__in=list(scores))
        if compiler.order_by_relevance:
            pks = list(qs.order_by().values_list("pk", flat=True))
            pks.sort(key=lambda pk: (-scores[pk], -pk if isinstance(pk, int) else 0))
        else:
            if not qs.query.order_by:
                qs = qs.order_by("-pk")
            pks = list(qs.values_list("pk", flat=True))
        self._ranked = (pks, scores)
        return self._ranked

    def ranked_tree(self):
        """ranked() for autocomplete and for query trees (negation, boosts, MATCH_ALL/MATCH_NONE inside, nesting).

        Autocomplete finds what search finds (complete words in titles and text) plus the entries whose
        AutocompleteFields hold the words with the last one as a prefix; it never falls back to "any word".
        """
        compiler = self.query_compiler
        queryset = compiler.queryset
        model = queryset.model
        to_python = model._meta.pk.to_python
        autocomplete = getattr(compiler, "LAST_TERM_IS_PREFIX", False)
        title_only = bool(compiler.fields) and set(compiler.fields) <= {"title"}
        content_type_ids = self.backend.content_type_ids(model)

        def leaf(node):
            parsed, operator = parse_search_query(node)
            if parsed is None or parsed.is_empty:
                return {}
            mode = "all" if operator == "and" else "any"
            scores = self.backend.match_scores(model, parsed, mode, title_only, content_type_ids)
            if autocomplete:
                # Complete words anywhere (editors look for a speech by what it says), and the last word typed as a
                # prefix in the AutocompleteFields (titles): what Wagtail's autocomplete finds.
                for key, value in self.backend.autocomplete_scores(model, parsed, mode, content_type_ids).items():
                    scores[key] = scores.get(key, 0.0) + value
            return {to_python(key): value for key, value in scores.items()}

        positive, ids, scores = evaluate_query(compiler.query, leaf)
        qs = queryset.filter(pk__in=list(ids)) if positive else queryset.exclude(pk__in=list(ids))
        if compiler.order_by_relevance:
            pks = list(qs.order_by().values_list("pk", flat=True))
            pks.sort(key=lambda pk: (-scores.get(pk, 0.0), -pk if isinstance(pk, int) else 0))
        else:
            if not qs.query.order_by:
                qs = qs.order_by("-pk")
            pks = list(qs.values_list("pk", flat=True))
        return pks, scores

    def _do_search(self):
        pks, scores = self.ranked()
        page = pks[self.start : self.stop]
        if not page:
            return []
        qs = self.query_compiler.queryset.filter(pk__in=page)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        objects = {obj.pk: obj for obj in qs}
        out = []
        for pk in page:
            obj = objects.get(pk)
            if obj is None:
                continue
            if self._score_field:
                setattr(obj, self._score_field, scores.get(pk, 0.0))
            out.append(obj)
        return out

    def _do_count(self):
        pks, _scores = self.ranked()
        return len(pks[self.start : self.stop])

    def facet(self, field_name):
        field = self.query_compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(f'Cannot facet search results with field "{field_name}".', field_name=field_name)
        pks, _scores = self.ranked()
        rows = (
            self.query_compiler.queryset.model._default_manager.filter(pk__in=pks)
            .values(field_name)
            .annotate(count=Count("pk"))
            .order_by("-count")
        )
        return {row[field_name]: row["count"] for row in rows}


class ChineseSearchMixin:
    """Shared by both backends: match_scores() plus modelsearch wiring."""

    results_class = ChineseSearchResults

    def __init__(self, params):
        super().__init__(params)
        self.config = "simple" if self.vendor == "postgresql" else None
        self.autocomplete_config = "simple" if self.vendor == "postgresql" else None
        if params.get("ATOMIC_REBUILD", True):
            self.rebuilder_class = self.atomic_rebuilder_class

    def autocomplete_sql(self, model, parsed, mode, content_type_ids):
        """(SQL selecting object_id, score; params) for entries whose autocomplete fields (AutocompleteField, e.g.
        page titles) hold every word (or, in "any" mode, one), the last one as a prefix; (None, []) if none can."""
        raise NotImplementedError

    def autocomplete_scores(self, model, parsed, mode, content_type_ids):
        """{object_id (str): score} for the as-you-type search of Wagtail's choosers and ``.autocomplete()``."""
        sql, params = self.autocomplete_sql(model, parsed, mode, content_type_ids)
        if sql is None:
            return {}
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {row[0]: float(row[1]) for row in cursor.fetchall()}

    @property
    def connection(self):
        return connections[router.db_for_read(IndexEntry)]

    def content_type_ids(self, model):
        return list(get_descendants_content_types_pks(model))

    def match_sql(self, model, parsed, mode="all", title_only=False, content_type_ids=None):
        """(SQL selecting object_id, score; params) for index entries of `model` matching the parsed query.

        Every visitor-supplied value is a bound parameter made of letters and digits. (None, []) if nothing
        can match.
        """
        raise NotImplementedError

    def entry_scores_sql(self, parsed, mode="all"):
        """(SQL selecting index entry id, score; params) for the entries of any model matching the parsed query,
        or (None, [])."""
        raise NotImplementedError

    def entry_tiers(self, parsed, mode="all"):
        """{index entry id: tier (search.ranking)} for every entry (any model) matching the parsed query."""
        raise NotImplementedError

    def entry_scores(self, parsed, mode="all", limit=None):
        """[(index entry id, score)] for the entries of any model matching the parsed query; with a limit, the
        best `limit` of them, best first. Scores carry the tier (search.ranking.tier_of)."""
        sql, params = self.entry_scores_sql(parsed, mode)
        if sql is None:
            return []
        if limit:
            sql += " ORDER BY score DESC LIMIT %s"
            params = [*params, int(limit)]
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def match_scores(self, model, parsed, mode="all", title_only=False, content_type_ids=None, limit=None):
        """{object_id (str): score (higher is better)}."""
        sql, params = self.match_sql(model, parsed, mode, title_only, content_type_ids)
        if sql is None:
            return {}
        sql += " ORDER BY score DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {row[0]: float(row[1]) for row in cursor.fetchall()}


_value_getters = {}
STREAM_JSON = "_search_json_"  # prefix of the annotation holding a StreamField's JSON text (indexed_queryset)
_NOT_READ = object()


def _is_stream_field(model_field):
    return hasattr(model_field, "stream_block") and hasattr(model_field, "json_field")


def _json_loads(text):
    """json.loads's result, from orjson when it can: it refuses NaN, infinities and lone surrogates, and reads
    integers past 64 bits as floats (so a result holding a float is read again by json)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _holds_float(value) else value


def _holds_float(value):
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            return True
    return False


def field_value(field, obj):
    """BaseField.get_value(obj) (modelsearch), with the model field and what to call on it looked up once per
    class instead of for every object."""
    key = (field, obj.__class__)
    getter = _value_getters.get(key)
    if getter is None:
        getter = _value_getters[key] = _value_getter(field, obj.__class__)
    return getter(obj)


def _value_getter(field, cls):
    try:
        model_field = field.get_field(cls)
    except FieldDoesNotExist:
        name = field.field_name

        def attribute(obj):
            value = getattr(obj, name, None)
            return value() if callable(value) else value

        return attribute
    read = model_field.value_from_object
    if _is_stream_field(model_field):
        key = STREAM_JSON + model_field.name

        def stream(obj):
            # The JSON text when update_index read it so (the field itself is deferred then), else the field.
            raw = obj.__dict__.get(key, _NOT_READ)
            if raw is _NOT_READ:
                return model_field.get_searchable_content(read(obj))
            return model_field.get_searchable_content(model_field.to_python(None if raw is None else _json_loads(raw)))

        return stream
    if apps.is_installed("taggit"):
        from taggit.managers import TaggableManager

        if isinstance(model_field, TaggableManager):
            return read
    if hasattr(model_field, "get_searchable_content"):
        return lambda obj: model_field.get_searchable_content(read(obj))
    if isinstance(model_field, RelatedField):
        remote_field = model_field
        while isinstance(remote_field, RelatedField):
            remote_field = remote_field.target_field
        if hasattr(remote_field, "get_searchable_content"):
            return lambda obj: remote_field.get_searchable_content(read(obj))
    return read


class SinglePassIndexerMixin:
    """Collect every search field's raw text once per object, segment each piece once.

    modelsearch's indexers walk all fields (and parse StreamFields) separately for title, body and
    autocomplete; this walks them once.
    """

    def prepare_value(self, value):
        return _raw_value(value)

    def field_weight(self, field):
        """The weight modelsearch's prepare_field yields beside a field's value (PostgreSQL), or None."""
        return None

    def prepare_field(self, obj, field):
        # modelsearch's, with each field's value read as BaseField.get_value would (field_value, cached per class).
        if isinstance(field, SearchField | AutocompleteField) and type(field).get_value is BaseField.get_value:
            value = self.prepare_value(field_value(field, obj))
            weight = self.field_weight(field)
            yield (field, value) if weight is None else (field, weight, value)
        else:
            yield from super().prepare_field(obj, field)

    @cached_property
    def _pieces(self):
        pieces = []
        for field in self.search_fields:
            for item in self.prepare_field(self.obj, field):
                current_field, value = item[0], item[-1]
                weight = item[1] if len(item) == 3 else None
                boost = getattr(current_field, "boost", None)
                if isinstance(current_field, SearchField):
                    kind = "title" if current_field.field_name == "title" else "body"
                elif isinstance(current_field, AutocompleteField):
                    kind = "autocomplete"
                else:
                    continue
                pieces.append((kind, weight, value, boost))
        return pieces

    def _analysed(self, kind):
        analysed = self.__dict__.get("_analysed_pieces")
        if analysed is None:
            analysed = self._analysed_pieces = [analyse_for_index(piece[2]) for piece in self._pieces]
        return [(text, piece[1]) for piece, text in zip(self._pieces, analysed, strict=True)
                if piece[0] == kind and piece[2]]

    def _joined(self, kind):
        return " ".join(text for text, _weight in self._analysed(kind))

    def _joined_boosted(self, kind):
        """Like _joined, each field's text repeated as often as its boost asks (search.ranking.field_repeat)."""
        analysed = self.__dict__.get("_analysed_pieces")
        if analysed is None:
            self._analysed(kind)
            analysed = self._analysed_pieces
        return " ".join(" ".join([text] * ranking.field_repeat(piece[3]))
                        for piece, text in zip(self._pieces, analysed, strict=True) if piece[0] == kind and piece[2])


class PendingIndexers:
    """A batch of indexers whose texts are being analysed (submit_indexers); ``finish()`` waits and stores them."""

    def __init__(self, indexers):
        self.indexers = list(indexers)
        self._todo = [indexer for indexer in self.indexers if "_analysed_pieces" not in indexer.__dict__]
        self._analysis = submit_many_for_index([piece[2] for indexer in self._todo for piece in indexer._pieces])

    def finish(self):
        analysed = iter(self._analysis.result())
        for indexer in self._todo:
            indexer._analysed_pieces = [next(analysed) for _piece in indexer._pieces]
        return self.indexers


def submit_indexers(indexers):
    """Start analysing every text of a batch of indexers (shared between cores inside update_index)."""
    return PendingIndexers(indexers)


def analyse_indexers(indexers):
    """Analyse every text of a batch of indexers in one call (shared between cores inside update_index)."""
    submit_indexers(indexers).finish()


def search_columns(model):
    """Names of the model fields its search and autocomplete fields read (what a database index stores; filter
    fields are not stored), or None when that is not known: a field with its own get_value, or an attribute the
    model does not list in ``search_attribute_fields`` ({attribute: fields it reads})."""
    declared = getattr(model, "search_attribute_fields", {})
    names = set()
    for field in model.get_search_fields():
        if isinstance(field, SearchField | AutocompleteField):
            if type(field).get_value is not BaseField.get_value:
                return None
        elif not isinstance(field, RelatedFields):
            continue
        try:
            model_field = model._meta.get_field(field.field_name)
        except FieldDoesNotExist:
            if field.field_name not in declared:
                return None
            names.update(declared[field.field_name])
            continue
        if model_field.concrete and not model_field.many_to_many:
            names.add(model_field.name)
        elif not isinstance(field, RelatedFields) or model_field.one_to_one:
            return None  # a tag manager read as a SearchField; a reverse one-to-one (select_related)
    return sorted(names)


class BatchIndexMixin:
    """add_items in two steps, so update_index loads and writes one batch while the next is analysed:
    ``prepare_items`` builds the indexers and starts their analysis, ``write_items`` waits for it and writes."""

    indexer_class = None

    def indexed_queryset(self, model, queryset):
        """The queryset update_index reads a model's objects from: only the columns the index needs, if known, each
        StreamField as its JSON text (decoded by field_value with orjson). A model with
        ``load_search_attributes(objs)`` (what its search attributes read, for a whole batch at once) is read
        without the prefetches of get_indexed_objects(): update_index calls that on each batch instead."""
        columns = search_columns(model)
        if columns is not None:
            streams = [name for name in columns if _is_stream_field(model._meta.get_field(name))]
            queryset = queryset.only(*[name for name in columns if name not in streams] or [model._meta.pk.name])
            if streams:
                queryset = queryset.annotate(**{STREAM_JSON + name: Cast(name, TextField()) for name in streams})
        if hasattr(model, "load_search_attributes"):
            queryset = queryset.prefetch_related(None)
        return queryset

    def prepare_items(self, model, objs):
        """(model, PendingIndexers) for objs, or None when there is nothing to index."""
        if not model.get_search_fields():
            return None
        indexers = [self.indexer_class(obj, self.backend) for obj in objs]
        if not indexers:
            return None
        return model, submit_indexers(indexers)

    def write_items(self, prepared):
        raise NotImplementedError

    def add_items(self, model, objs):
        prepared = self.prepare_items(model, objs)
        if prepared is not None:
            self.write_items(prepared)


def _indexer_values(indexers):
    return {indexer.id: (indexer.title, indexer.autocomplete, indexer.body) for indexer in indexers}
