"""Speech search used by the /search/ page and the JSON API: parameters, ranking, filters, facets, snippets."""

import datetime
import html
import re
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.utils.html import strip_tags
from wagtail.models import Page
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

_PASSAGE_SPLIT = re.compile(r"(?<=[。！？!?；;\n])")


def _term_pattern(terms):
    terms = [t for t in terms if t]
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)), re.IGNORECASE)


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
    """The passage matching the most distinct terms (longer terms count more), trimmed and highlighted."""
    text = clean_text(text)
    pattern = _term_pattern(terms)
    passages = [p.strip() for p in _PASSAGE_SPLIT.split(text) if p.strip()]
    if not passages:
        return ""
    if pattern is None:
        return html.escape(passages[0][:width])
    best, best_score = None, 0.0
    for passage in passages:
        found = {m.group(0).lower() for m in pattern.finditer(passage)}
        score = sum(len(f) for f in found) + 0.01 * len(found)
        if score > best_score:
            best, best_score = passage, score
    if best is None:
        return html.escape(text[:width]) + ("…" if len(text) > width else "")
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


def _speech_rows(parsed):
    """Live, public speeches matching the query, with what filters and facets need, in two SQL statements.

    Returns ([(pk, date, speaker name, level)], {pk: score}, {pk: {topic names}}).
    """
    from taggit.models import Tag
    from wagtail.models import PageViewRestriction

    from speeches.models import Speaker

    backend = get_search_backend()
    page_table, speech_table = Page._meta.db_table, SpeechPage._meta.db_table
    tag_link = SpeechPage.topics.through
    for mode, factor in (("all", 1.0), ("any", ANY_MATCH_PENALTY)):
        if mode == "any" and len(parsed.groups) < 2:
            break
        if parsed.is_empty:
            # Browsing by filters only (e.g. a topic link): every live speech, score 0.
            sql, params = f"SELECT CAST(page_ptr_id AS varchar(50)) AS object_id, 0.0 AS score FROM {speech_table}", []
        elif not hasattr(backend, "match_sql"):
            # A search engine outside the database (Elasticsearch): scores from the engine, rows from the ORM.
            found = _rows_from_scores(backend.match_scores(SpeechPage, parsed, mode=mode), factor)
            if found[0]:
                return found
            continue
        else:
            sql, params = backend.match_sql(SpeechPage, parsed, mode)
        if sql is None:
            break
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH m AS MATERIALIZED ({sql}) "
                f"SELECT p.id, m.score, p.path, sp.date_delivered, s.name, sp.org_level FROM m "
                f"JOIN {page_table} p ON p.id = CAST(m.object_id AS integer) "
                f"JOIN {speech_table} sp ON sp.page_ptr_id = p.id "
                f"LEFT JOIN {Speaker._meta.db_table} s ON s.id = sp.speaker_id WHERE p.live = %s",
                [*params, True],
            )
            found = cursor.fetchall()
        restricted = tuple(PageViewRestriction.objects.values_list("page__path", flat=True))
        if restricted:
            found = [row for row in found if not row[2].startswith(restricted)]
        if not found:
            continue
        rows = [(row[0], _as_date(row[3]), row[4], row[5]) for row in found]
        scores = {row[0]: float(row[1]) * factor for row in found}
        topics = {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH m AS MATERIALIZED ({sql}) "
                f"SELECT t.content_object_id, g.name FROM {tag_link._meta.db_table} t "
                f"JOIN {Tag._meta.db_table} g ON g.id = t.tag_id "
                f"WHERE t.content_object_id IN (SELECT CAST(m.object_id AS integer) FROM m)",
                params,
            )
            for pk, name in cursor.fetchall():
                if pk in scores:
                    topics.setdefault(pk, set()).add(name)
        return rows, scores, topics
    return [], {}, {}


def _rows_from_scores(score_map, factor):
    """The same (rows, scores, topics) as the SQL path, for engines that return {object_id: score}."""
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


def _facet_list(counter, labels=None):
    items = [
        {"value": str(value), "label": (labels or {}).get(value, str(value)), "count": count}
        for value, count in counter.items()
    ]
    items.sort(key=lambda item: (-item["count"], item["value"]))
    return items


def search_speeches(params: SearchParams):
    """Run a speech search. Returns a dict with the API's shape plus objects for the HTML page."""
    parsed = analyse_query(params.q)
    empty = {"query": params.q, "count": 0, "page": params.page, "page_size": params.page_size, "num_pages": 0,
             "results": [], "facets": {"year": [], "speaker": [], "level": [], "topic": []},
             "parsed": parsed, "pages": []}
    if parsed.is_empty and not params.has_filters:
        return empty
    rows, scores, topics = _speech_rows(parsed)
    if not rows:
        return empty

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

    facet_counts = {"year": Counter(), "speaker": Counter(), "level": Counter(), "topic": Counter()}
    for row in rows:
        pk, date, speaker, level = row
        if date and keep(row, "year"):
            facet_counts["year"][date.year] += 1
        if speaker and keep(row, "speaker"):
            facet_counts["speaker"][speaker] += 1
        if keep(row, "level"):
            facet_counts["level"][level or "unknown"] += 1
        if keep(row, "topic"):
            for name in topics.get(pk, ()):
                facet_counts["topic"][name] += 1
    level_labels = dict(OrgLevel.choices) | {"unknown": "未注明"}
    facets = {
        "year": sorted(_facet_list(facet_counts["year"]), key=lambda i: i["value"], reverse=True),
        "speaker": _facet_list(facet_counts["speaker"]),
        "level": _facet_list(facet_counts["level"], level_labels),
        "topic": _facet_list(facet_counts["topic"]),
    }

    matched = [row for row in rows if keep(row)]
    if params.sort == "date":
        matched.sort(key=lambda r: (-(r[1].toordinal() if r[1] else 0), -scores[r[0]], -r[0]))
    else:
        matched.sort(key=lambda r: (-scores[r[0]], -(r[1].toordinal() if r[1] else 0), -r[0]))
    count = len(matched)
    start = (params.page - 1) * params.page_size
    page_pks = [row[0] for row in matched[start : start + params.page_size]]
    objects = SpeechPage.objects.filter(pk__in=page_pks).select_related("speaker").in_bulk()
    terms = parsed.highlight_terms()
    results, pages = [], []
    for pk in page_pks:
        page = objects[pk]
        text = page.plain_text() or page.summary
        snippet = best_snippet(" ".join(filter(None, [page.summary, text])), terms)
        page.search_snippet = snippet
        page.search_score = round(scores[pk], 4)
        pages.append(page)
        results.append(
            {
                "title": page.title,
                "url": page.url,
                "date": page.date_delivered.isoformat() if page.date_delivered else None,
                "speaker": page.speaker.name if page.speaker else None,
                "level": page.org_level or None,
                "snippet": snippet,
                "score": page.search_score,
            }
        )
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

