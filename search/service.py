"""Speech search used by the /search/ page and the JSON API: parameters, ranking, filters, facets, snippets."""

import bisect
import datetime
import functools
import html
import re
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace

import orjson
from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.html import strip_tags
from wagtail.models import Page, Site
from wagtail.models.pages import WAGTAIL_APPEND_SLASH
from wagtail.search.backends import get_search_backend

from search.analysis import analyse_query, clean_text
from search.backends.common import ANY_MATCH_PENALTY
from speeches.models import OrgLevel, SpeechPage

MAX_PAGE = 1000
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 10
SORTS = ("relevance", "date")
TYPES = ("speech", "page")
SNIPPET_CHARS = 110


class SearchParamError(ValueError):
    """A visitor-supplied parameter that cannot be used; the message is shown to them (Chinese)."""


@dataclass
class SearchParams:
    q: str = ""
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: str = "relevance"
    year: int | None = None
    speaker: str = ""
    level: str = ""
    topic: str = ""
    type: str = "speech"

    @property
    def has_filters(self):
        return bool(self.year or self.speaker or self.level or self.topic)


def _int_param(value, minimum, maximum, message):
    if value is None or value == "":
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        raise SearchParamError(message)
    number = int(value)
    if not minimum <= number <= maximum:
        raise SearchParamError(message)
    return number


def _text_param(value, limit, message):
    value = clean_text(value or "").strip()
    if len(value) > limit:
        raise SearchParamError(message)
    return value


def parse_params(data):
    """SearchParams from a QueryDict; raises SearchParamError with a Chinese message for bad values."""
    params = SearchParams()
    params.q = clean_text(data.get("q", ""))[:5000].strip()
    params.page = _int_param(data.get("page"), 1, MAX_PAGE, f"页码必须是 1 到 {MAX_PAGE} 之间的整数") or 1
    params.page_size = (
        _int_param(data.get("page_size"), 1, MAX_PAGE_SIZE, f"每页条数必须是 1 到 {MAX_PAGE_SIZE} 之间的整数")
        or DEFAULT_PAGE_SIZE
    )
    sort = (data.get("sort") or "relevance").strip()
    if sort not in SORTS:
        raise SearchParamError("排序方式只能是 relevance（相关度）或 date（日期）")
    params.sort = sort
    params.year = _int_param(data.get("year"), 1900, 2100, "年份必须是四位数字，例如 2024")
    params.speaker = _text_param(data.get("speaker"), 100, "讲话人名称过长")
    params.topic = _text_param(data.get("topic"), 100, "主题名称过长")
    level = (data.get("level") or "").strip()
    if level and level != "unknown" and level not in OrgLevel.values:
        raise SearchParamError("组织层级无效，可选：" + "、".join(f"{v}（{label}）" for v, label in OrgLevel.choices))
    params.level = level
    kind = (data.get("type") or "speech").strip()
    if kind not in TYPES:
        raise SearchParamError("类型只能是 speech（讲话稿）或 page（其他页面）")
    params.type = kind
    return params


# --- snippets ---------------------------------------------------------------------------------

_PASSAGE_END = re.compile(r"[。！？!?；;\n]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _width_tolerant(term):
    """A regex for a term that also matches its full-width form (ＡＢＣ１２３ for abc123) in the original text."""
    parts = []
    for char in term:
        if "!" <= char <= "~":
            parts.append("[" + re.escape(char) + re.escape(chr(ord(char) + 0xFEE0)) + "]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


@functools.lru_cache(maxsize=512)
def _compiled_terms(terms):
    return re.compile("|".join(_width_tolerant(t) for t in sorted(set(terms), key=len, reverse=True)), re.IGNORECASE)


def _term_pattern(terms):
    terms = tuple(t for t in terms if t)
    return _compiled_terms(terms) if terms else None


def highlight(text, terms):
    """HTML-escaped text with every term wrapped in <mark>."""
    pattern = _term_pattern(terms)
    if pattern is None:
        return html.escape(text)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append("<mark>" + html.escape(match.group(0)) + "</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def best_snippet(text, terms, width=SNIPPET_CHARS):
    """The passage matching the most distinct terms (longer terms count more), trimmed and highlighted.

    Works on the original text (full-width punctuation kept): passages end at 。！？；or a line break.
    """
    text = _CONTROL.sub(" ", text or "")
    if not text.strip():
        return ""
    pattern = _term_pattern(terms)
    ends = [m.end() for m in _PASSAGE_END.finditer(text)]
    if not ends or ends[-1] < len(text):
        ends.append(len(text))
    if pattern is None:
        return html.escape(text[: ends[0]].strip()[:width])
    found = {}
    for match in pattern.finditer(text):
        found.setdefault(bisect.bisect_right(ends, match.start()), set()).add(clean_text(match.group(0)).lower())
    best_index, best_score = None, 0.0
    for index in sorted(found):
        score = sum(len(f) for f in found[index]) + 0.01 * len(found[index])
        if score > best_score:
            best_index, best_score = index, score
    if best_index is None:
        lead = " ".join(text.split())
        return html.escape(lead[:width]) + ("…" if len(lead) > width else "")
    best = text[ends[best_index - 1] if best_index else 0 : ends[best_index]].strip()
    if len(best) > width:
        first = pattern.search(best)
        start = max(0, min(first.start() - width // 3, len(best) - width))
        piece = best[start : start + width]
        return ("…" if start else "") + highlight(piece, terms) + ("…" if start + width < len(best) else "")
    return highlight(best, terms)


# --- speech search ----------------------------------------------------------------------------


def match_scores(model, parsed):
    """{pk: score} with 'all words' semantics, falling back to 'any word' ranked lower."""
    backend = get_search_backend()
    scores = backend.match_scores(model, parsed, mode="all")
    if not scores and len(parsed.groups) > 1:
        scores = {k: v * ANY_MATCH_PENALTY for k, v in backend.match_scores(model, parsed, mode="any").items()}
    return {int(k): v for k, v in scores.items()}


def _as_date(value):
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


class _SpeechQuery:
    """SQL over the index matches of one parsed query: counts and facets in one statement, then the page of hits.

    Everything runs inside the database (SQLite or PostgreSQL); only facet counts and one page of hits come back.
    """

    def __init__(self, backend, parsed, mode, params):
        from taggit.models import Tag
        from wagtail.models import PageViewRestriction

        self.backend, self.parsed, self.mode, self.params = backend, parsed, mode, params
        self.page_t, self.speech_t = Page._meta.db_table, SpeechPage._meta.db_table
        self.link_t, self.tag_t = SpeechPage.topics.through._meta.db_table, Tag._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT path FROM {self.page_t} WHERE id IN "
                           f"(SELECT page_id FROM {PageViewRestriction._meta.db_table})")
            self.restricted = sorted({row[0] for row in cursor.fetchall()})
        self.conditions = {}
        if params.year:
            self.conditions["year"] = ("substr(r.d, 1, 4) = %s", [f"{params.year:04d}"])
        if params.speaker:
            self.conditions["speaker"] = (
                f"r.speaker_id IN (SELECT id FROM {self._speaker_t} WHERE name = %s)", [params.speaker])
        if params.level:
            self.conditions["level"] = ("r.lvl = %s", [params.level])
        if params.topic:
            self.conditions["topic"] = (
                f"EXISTS (SELECT 1 FROM {self.link_t} tl JOIN {self.tag_t} tg ON tg.id = tl.tag_id "
                f"WHERE tl.content_object_id = r.id AND tg.name = %s)",
                [params.topic],
            )

    @property
    def _facets_index(self):
        # SQLite's planner prefers the rowid over the covering index (see SpeechPage.Meta.indexes).
        return " INDEXED BY speech_search_facets" if connection.vendor == "sqlite" else ""

    @property
    def _speaker_t(self):
        from speeches.models import Speaker

        return Speaker._meta.db_table

    def match(self, scored):
        if self.parsed.is_empty:
            # Browsing by filters only (e.g. a topic link): every speech, score 0.
            return (f"SELECT CAST(page_ptr_id AS varchar(50)) AS object_id, 0.0 AS score FROM {self.speech_t}", [])
        return self.backend.match_sql(SpeechPage, self.parsed, self.mode, scored=scored)

    def rows_cte(self, scored):
        """WITH r: live, public speeches among the matches, with what filters and facets need."""
        match, params = self.match(scored)
        if match is None:
            return None, []
        cte = (
            f"WITH r AS MATERIALIZED (SELECT p.id, m.score, COALESCE(CAST(sp.date_delivered AS varchar(10)), '') AS d, "
            f"sp.speaker_id, COALESCE(NULLIF(sp.org_level, ''), 'unknown') AS lvl FROM ({match}) m "
            f"JOIN {self.page_t} p ON p.id = CAST(m.object_id AS integer) "
            f"JOIN {self.speech_t} sp{self._facets_index} ON sp.page_ptr_id = p.id WHERE p.live = %s"
            + "".join(f" AND substr(p.path, 1, {len(path)}) <> %s" for path in self.restricted)
            + ") "
        )
        return cte, [*params, True, *self.restricted]

    def where(self, *extra, skip=None):
        parts, values = list(extra), []
        for name, (condition, condition_params) in self.conditions.items():
            if name != skip:
                parts.append(condition)
                values += condition_params
        return (" WHERE " + " AND ".join(parts)) if parts else "", values

    def counts(self):
        """(total before filters, count after filters, {facet: {value: count}}); facets ignore their own filter."""
        cte, params = self.rows_cte(scored=False)
        if cte is None:
            return 0, 0, {}
        arms, arm_params = [], []

        def arm(sql, values):
            arms.append(sql)
            arm_params.extend(values)

        clause, values = self.where()
        arm(f"SELECT 'count', '', COUNT(*) FROM r{clause}", values)
        if self.conditions:
            arm("SELECT 'total', '', COUNT(*) FROM r", [])
        clause, values = self.where("r.d <> ''", skip="year")
        arm(f"SELECT 'year', substr(r.d, 1, 4), COUNT(*) FROM r{clause} GROUP BY substr(r.d, 1, 4)", values)
        clause, values = self.where(skip="speaker")
        arm(f"SELECT 'speaker', s.name, COUNT(*) FROM r JOIN {self._speaker_t} s ON s.id = r.speaker_id{clause} "
            f"GROUP BY s.name", values)
        clause, values = self.where(skip="level")
        arm(f"SELECT 'level', r.lvl, COUNT(*) FROM r{clause} GROUP BY r.lvl", values)
        clause, values = self.where(skip="topic")
        arm(f"SELECT 'topic', tg.name, COUNT(DISTINCT r.id) FROM r JOIN {self.link_t} tl "
            f"ON tl.content_object_id = r.id JOIN {self.tag_t} tg ON tg.id = tl.tag_id{clause} GROUP BY tg.name",
            values)
        with connection.cursor() as cursor:
            cursor.execute(cte + " UNION ALL ".join(arms), [*params, *arm_params])
            rows = cursor.fetchall()
        count, total, facets = 0, None, {"year": {}, "speaker": {}, "level": {}, "topic": {}}
        for kind, key, n in rows:
            if kind == "count":
                count = n
            elif kind == "total":
                total = n
            else:
                facets[kind][key] = n
        return (count if total is None else total), count, facets

    def hits(self):
        """[(pk, score, ISO date or '')] of the requested page, in display order."""
        if self.params.sort == "relevance" and not self.conditions and not self.parsed.is_empty:
            found = self._hits_from_top()
            if found is not None:
                return found
        cte, params = self.rows_cte(scored=not self.parsed.is_empty)
        clause, values = self.where()
        order = "r.score DESC, r.d DESC, r.id DESC" if self.params.sort == "relevance" else \
            "r.d DESC, r.score DESC, r.id DESC"
        with connection.cursor() as cursor:
            cursor.execute(
                f"{cte}SELECT r.id, r.score, r.d FROM r{clause} ORDER BY {order} LIMIT %s OFFSET %s",
                [*params, *values, self.params.page_size, (self.params.page - 1) * self.params.page_size],
            )
            return [(pk, float(score), d) for pk, score, d in cursor.fetchall()]

    def _hits_from_top(self):
        """Relevance order from the engine's own top-N (as cheap as a bare ranked MATCH), checked against the
        database; None when the top-N cannot prove the page (too many entries dropped, or ties at its edge)."""
        top = getattr(self.backend, "top_sql", None)
        if top is None:
            return None
        want = self.params.page * self.params.page_size
        limit = want * 2 + 20
        sql, params = top(SpeechPage, self.parsed, self.mode, limit)
        if sql is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT CAST(c.object_id AS integer), c.score, c.of_model, p.live, p.path, "
                f"COALESCE(CAST(sp.date_delivered AS varchar(10)), '') FROM ({sql}) c "
                f"LEFT JOIN {self.page_t} p ON p.id = CAST(c.object_id AS integer) "
                f"LEFT JOIN {self.speech_t} sp ON sp.page_ptr_id = p.id",
                params,
            )
            rows = cursor.fetchall()
        if not rows:
            return []
        floor = min(float(row[1]) for row in rows)
        restricted = tuple(self.restricted)
        good = [
            (pk, float(score), d or "")
            for pk, score, of_model, live, path, d in rows
            if of_model and live and path and not (restricted and path.startswith(restricted))
        ]
        good.sort(key=lambda h: (-h[1], _negated(h[2]), -h[0]))
        exhausted = len(rows) < limit
        if not exhausted and (len(good) < want or good[want - 1][1] <= floor):
            return None
        start = (self.params.page - 1) * self.params.page_size
        return good[start:want]


def _search_sql(backend, parsed, params):
    """(total, count, hits, facets) for the database backends, with the all-words-then-any-word fallback."""
    for mode, factor in (("all", 1.0), ("any", ANY_MATCH_PENALTY)):
        if mode == "any" and (len(parsed.groups) < 2 or parsed.is_empty):
            break
        query = _SpeechQuery(backend, parsed, mode, params)
        total, count, facets = query.counts()
        if total:
            hits = query.hits() if count else []
            return total, count, [(pk, score * factor, d) for pk, score, d in hits], facets
    return 0, 0, [], {}


def _negated(date_text):
    """Sort key putting later ISO dates first and missing dates last."""
    return -datetime.date.fromisoformat(date_text).toordinal() if date_text else 0


def _rows_from_scores(score_map, factor):
    """(rows, scores, topics) for engines that return {object_id: score} (Elasticsearch)."""
    from wagtail.models import PageViewRestriction

    scores = {int(pk): float(score) * factor for pk, score in score_map.items()}
    if not scores:
        return [], {}, {}
    restricted = tuple(PageViewRestriction.objects.values_list("page__path", flat=True))
    rows = []
    for pk, path, date, speaker, level in SpeechPage.objects.filter(pk__in=list(scores), live=True).values_list(
        "pk", "path", "date_delivered", "speaker__name", "org_level"
    ):
        if restricted and path.startswith(restricted):
            continue
        rows.append((pk, _as_date(date), speaker, level))
    kept = {row[0] for row in rows}
    topics = {}
    for pk, name in SpeechPage.topics.through.objects.filter(content_object_id__in=kept).values_list(
        "content_object_id", "tag__name"
    ):
        topics.setdefault(pk, set()).add(name)
    return rows, {pk: scores[pk] for pk in kept}, topics


def _search_scored(backend, parsed, params):
    """The same (total, count, hits, facets) as _search_sql, from an engine's {pk: score} (Elasticsearch)."""
    for mode, factor in (("all", 1.0), ("any", ANY_MATCH_PENALTY)):
        if mode == "any" and len(parsed.groups) < 2:
            break
        rows, scores, topics = _rows_from_scores(backend.match_scores(SpeechPage, parsed, mode=mode), factor)
        if rows:
            break
    if not rows:
        return 0, 0, [], {}

    def keep(row, skip=None):
        pk, date, speaker, level = row
        if skip != "year" and params.year and (date is None or date.year != params.year):
            return False
        if skip != "speaker" and params.speaker and speaker != params.speaker:
            return False
        if skip != "level" and params.level and (level or "unknown") != params.level:
            return False
        if skip != "topic" and params.topic and params.topic not in topics.get(pk, ()):
            return False
        return True

    facets = {"year": Counter(), "speaker": Counter(), "level": Counter(), "topic": Counter()}
    for row in rows:
        pk, date, speaker, level = row
        if date and keep(row, "year"):
            facets["year"][f"{date.year:04d}"] += 1
        if speaker and keep(row, "speaker"):
            facets["speaker"][speaker] += 1
        if keep(row, "level"):
            facets["level"][level or "unknown"] += 1
        if keep(row, "topic"):
            for name in topics.get(pk, ()):
                facets["topic"][name] += 1
    matched = [(pk, scores[pk], date.isoformat() if date else "") for pk, date, _s, _l in filter(keep, rows)]
    if params.sort == "date":
        matched.sort(key=lambda h: (_negated(h[2]), -h[1], -h[0]))
    else:
        matched.sort(key=lambda h: (-h[1], _negated(h[2]), -h[0]))
    start = (params.page - 1) * params.page_size
    return len(rows), len(matched), matched[start : start + params.page_size], facets


def _facet_list(counter, labels=None):
    items = [
        {"value": str(value), "label": (labels or {}).get(value, str(value)), "count": count}
        for value, count in counter.items()
    ]
    items.sort(key=lambda item: (-item["count"], item["value"]))
    return items


def search_speeches(params: SearchParams, with_pages=True, request=None):
    """Run a speech search. Returns a dict with the API's shape, plus page objects for the HTML page."""
    parsed = analyse_query(params.q)
    empty = {"query": params.q, "count": 0, "page": params.page, "page_size": params.page_size, "num_pages": 0,
             "results": [], "facets": {"year": [], "speaker": [], "level": [], "topic": []},
             "parsed": parsed, "pages": []}
    if parsed.is_empty and not params.has_filters:
        return empty
    backend = get_search_backend()
    if hasattr(backend, "match_sql") or parsed.is_empty:
        found = _search_sql(backend, parsed, params)
    else:
        # A search engine outside the database (Elasticsearch): scores from the engine, rows from the ORM.
        found = _search_scored(backend, parsed, params)
    if not found or not found[0]:
        return empty
    _total, count, hits, facet_counts = found
    level_labels = dict(OrgLevel.choices) | {"unknown": "未注明"}
    facets = {
        "year": sorted(_facet_list(facet_counts["year"]), key=lambda i: i["value"], reverse=True),
        "speaker": _facet_list(facet_counts["speaker"]),
        "level": _facet_list(facet_counts["level"], level_labels),
        "topic": _facet_list(facet_counts["topic"]),
    }
    scores = {pk: score for pk, score, _d in hits}
    terms = parsed.highlight_terms()
    results, pages = [], []
    if with_pages:
        objects = SpeechPage.objects.filter(pk__in=list(scores)).select_related("speaker").in_bulk()
        for pk, score, _d in hits:
            page = objects[pk]
            page.search_snippet = best_snippet(" ".join(filter(None, [page.summary, page.plain_text()])), terms)
            page.search_score = round(score, 4)
            pages.append(page)
            speaker = page.speaker.name if page.speaker else None
            results.append(_result(page.title, page.get_url(request), page.date_delivered, speaker, page.org_level,
                                   page.search_snippet, page.search_score))
    else:
        for row in _hit_rows(list(scores), request):
            pk, title, url, date, speaker, level, summary, text = row
            snippet = best_snippet(" ".join(filter(None, [summary, text])), terms)
            results.append(_result(title, url, date, speaker, level, snippet, round(scores[pk], 4)))
    return {
        "query": params.q,
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "num_pages": (count + params.page_size - 1) // params.page_size,
        "results": results,
        "facets": facets,
        "parsed": parsed,
        "pages": pages,
    }


def _result(title, url, date, speaker, level, snippet, score):
    return {"title": title, "url": url, "date": date.isoformat() if date else None, "speaker": speaker or None,
            "level": level or None, "snippet": snippet, "score": score}


def _hit_rows(pks, request=None):
    """[(pk, title, url, date, speaker, level, summary, plain text)] in the order of pks, without page objects."""
    from speeches.models import Speaker, plain_text_from_stream

    if not pks:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, p.title, p.url_path, sp.date_delivered, s.name, sp.org_level, sp.summary, sp.body "
            f"FROM {SpeechPage._meta.db_table} sp JOIN {Page._meta.db_table} p ON p.id = sp.page_ptr_id "
            f"LEFT JOIN {Speaker._meta.db_table} s ON s.id = sp.speaker_id "
            f"WHERE sp.page_ptr_id IN ({', '.join(['%s'] * len(pks))})",
            list(pks),
        )
        rows = {row[0]: row for row in cursor.fetchall()}
    holder = request if request is not None else SimpleNamespace()
    out = []
    for pk in pks:
        row = rows.get(pk)
        if row is None:
            continue
        pk, title, url_path, date, speaker, level, summary, body = row
        blocks = orjson.loads(body) if isinstance(body, str | bytes) else body
        out.append((pk, title, page_url(url_path, holder), _as_date(date), speaker, level, summary,
                    plain_text_from_stream(blocks)))
    return out


def page_url(url_path, holder):
    """Page.url for a page known only by its url_path, without building a Page (single-language sites).

    `holder` (the request, or any object) caches the site root paths as Wagtail's own get_url() does.
    """
    try:
        roots = holder._wagtail_cached_site_root_paths
    except AttributeError:
        roots = holder._wagtail_cached_site_root_paths = Site.get_site_root_paths()
    if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        return Page(url_path=url_path).get_url(None)
    for _site_id, root_path, root_url, _language in roots:
        if url_path.startswith(root_path):
            path = _serve_path(get_script_prefix(), url_path[len(root_path) :])
            if path is None or len(roots) == 1:
                return path
            return root_url + path
    return None


@functools.lru_cache(maxsize=20_000)
def _serve_path(script_prefix, relative):
    try:
        path = reverse("wagtail_serve", args=(relative,))
    except NoReverseMatch:
        return None
    if not WAGTAIL_APPEND_SLASH and path != "/":
        path = path.rstrip("/")
    return path


def search_other_pages(params: SearchParams, limit=None):
    """Non-speech pages (campaigns, merchants, plain pages) through Wagtail's Page search."""
    parsed = analyse_query(params.q)
    if parsed.is_empty:
        return [], 0
    scores = match_scores(Page, parsed)
    if not scores:
        return [], 0
    ids = list(
        Page.objects.live().public().not_type(SpeechPage).filter(pk__in=list(scores), depth__gt=2)
        .values_list("pk", flat=True)
    )
    ids.sort(key=lambda pk: -scores[pk])
    count = len(ids)
    if limit is None:
        start = (params.page - 1) * params.page_size
        ids = ids[start : start + params.page_size]
    else:
        ids = ids[:limit]
    pages = Page.objects.filter(pk__in=ids).specific().in_bulk()
    terms = parsed.highlight_terms()
    out = []
    for pk in ids:
        page = pages.get(pk)
        if page is None:
            continue
        text = strip_tags(getattr(page, "search_description", "") or "") or page.title
        page.search_snippet = best_snippet(text, terms)
        page.search_score = round(scores[pk], 4)
        out.append(page)
    return out, count


def related_terms(parsed, limit=8):
    """Suggestions for a zero-result page: synonyms of the words and dictionary words that contain them."""
    from search.suggest import dictionary_terms

    suggestions = []
    for group in parsed.groups:
        suggestions.extend(t for t in group if t not in parsed.words)
    for word in parsed.words:
        suggestions.extend(t for t in dictionary_terms(word, limit=limit) if t != word)
    seen, out = set(), []
    for term in suggestions:
        if term not in seen:
            seen.add(term)
            out.append(term)
    return out[:limit]

