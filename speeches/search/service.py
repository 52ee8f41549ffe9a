"""Speech search used by the /search/ page and the JSON API: parameters, ranking, filters, facets, snippets."""

import datetime
import functools
import heapq
import html
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from types import SimpleNamespace

import orjson
from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.html import strip_tags
from wagtail.models import Page, Site
from wagtail.models.pages import WAGTAIL_APPEND_SLASH
from wagtail.search.backends import get_search_backend

from search import ranking
from search.analysis import analyse_query, clean_text
from search.folding import to_simplified
from speeches.models import OrgLevel, Speaker, SpeechPage, plain_text_from_stream
from speeches.search.catalog import speech_catalog
from speeches.search.suggest import dictionary_terms

MAX_PAGE = 1000
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 10
SORTS = ("relevance", "date")
TYPES = ("speech", "page")
MATCHES = ("", "all")
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
    match: str = ""  # "all": full matches only (every word); "": full matches, then partial ones

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
    match = (data.get("match") or "").strip()
    if match not in MATCHES:
        raise SearchParamError("匹配方式只能是 all（只看完全匹配），或不填（先完全匹配，再部分匹配）")
    params.match = match
    return params


# --- snippets ---------------------------------------------------------------------------------

_PASSAGE_ENDERS = "。！？!?；;\n"
_PASSAGE_END = re.compile(f"[{_PASSAGE_ENDERS}]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _width_tolerant(term):
    """A regex for a term that also matches its full-width form (ＡＢＣ１２３ for abc123) in the original text."""
    parts = []
    for char in term:
        if char == " ":  # what clean_text makes a space: U+3000 and control characters
            parts.append("[ \u3000\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
        elif "!" <= char <= "~":
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


def _matching_text(text):
    """The text terms are looked for in: traditional characters folded (same length, so positions carry over to
    the original, which is what is shown). Width and spaces are left to the term pattern (_width_tolerant): the
    full clean_text of every result's text cost more than the rest of a search."""
    folded = to_simplified(text)
    return folded if len(folded) == len(text) else text


def highlight(text, terms, matching=None):
    """HTML-escaped text with every term wrapped in <mark> (terms are simplified; the text may be traditional).
    `matching`: the text's _matching_text(), when the caller has it."""
    pattern = _term_pattern(terms)
    if pattern is None:
        return html.escape(text)
    out, last = [], 0
    for match in pattern.finditer(matching if matching is not None else _matching_text(text)):
        out.append(html.escape(text[last : match.start()]))
        out.append("<mark>" + html.escape(text[match.start() : match.end()]) + "</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def best_snippet(text, terms, width=SNIPPET_CHARS):
    """The passage matching the most distinct terms (longer terms count more), trimmed and highlighted.

    Works on the original text (full-width punctuation kept): passages end at 。！？；or a line break. Only the
    passages holding a match are delimited, so the cost follows the matches, not the length of the speech.
    """
    text = text or ""
    pattern = _term_pattern(terms)
    if pattern is None:
        text = _CONTROL.sub(" ", text)
        end = _PASSAGE_END.search(text)
        return html.escape(text[: end.end() if end else len(text)].strip()[:width])
    found, first_match, passage_end = {}, {}, -1
    folded = _matching_text(text)  # once: the passage and the piece shown are cut from it as from the text
    for match in pattern.finditer(folded):
        if match.start() >= passage_end:
            end = _PASSAGE_END.search(text, match.start())
            passage_end = end.end() if end else len(text)
            first_match[passage_end] = match.start()
        found.setdefault(passage_end, set()).add(clean_text(match.group(0)).lower())
    best_end, best_score = None, 0.0
    for end in found:  # in text order: the first of equally good passages wins
        score = sum(len(f) for f in found[end]) + 0.01 * len(found[end])
        if score > best_score:
            best_end, best_score = end, score
    if best_end is None:
        lead = " ".join(_CONTROL.sub(" ", text).split())
        return html.escape(lead[:width]) + ("…" if len(lead) > width else "")
    start = 1 + max(text.rfind(char, 0, first_match[best_end]) for char in _PASSAGE_ENDERS)
    best = _CONTROL.sub(" ", text[start:best_end]).strip()
    matching = _CONTROL.sub(" ", folded[start:best_end]).strip()  # folding leaves spaces where they are
    if len(matching) != len(best):
        matching = _matching_text(best)
    if len(best) > width:
        first = pattern.search(matching)
        start = max(0, min(first.start() - width // 3, len(best) - width))
        piece = best[start : start + width]
        return (("…" if start else "") + highlight(piece, terms, matching[start : start + width])
                + ("…" if start + width < len(best) else ""))
    return highlight(best, terms, matching)


# --- speech search ----------------------------------------------------------------------------


def match_scores(model, parsed):
    """{pk: score}: all words, then most words, falling back to any word (tiers in search.ranking)."""
    backend = get_search_backend()
    scores = backend.match_scores(model, parsed, mode="all")
    if not scores and len(parsed.groups) > 1:
        scores = backend.match_scores(model, parsed, mode="any")
    return {int(k): v for k, v in scores.items()}


def _as_date(value):
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


def _search_catalog(backend, parsed, params):
    """(count, count_all, hits, facets): full matches, then partial ones (search.ranking), the same for every
    backend; with params.match == "all", full matches only.

    The engine gives the matches (index entry ids from the databases, page ids from Elasticsearch) with their
    tier; the catalog (catalog.py) keeps out what is not live and public and supplies filter and facet values, so
    counting and filtering are dictionary lookups. Without filters, a relevance page needs the scores of the best
    few entries only, and the database ranks those itself (as cheap as a bare ranked MATCH).
    """
    by_entry = hasattr(backend, "entry_scores") and not parsed.is_empty
    catalog = speech_catalog(by_entry=by_entry)
    engine_ranks = by_entry and params.sort == "relevance" and not params.has_filters
    modes = ["all"] + (["any"] if len(parsed.groups) > 1 else [])
    ids, score_of, mode, tier_of = [], None, "all", {}
    for mode in modes:
        if parsed.is_empty:
            # Browsing by filters only (e.g. a topic link): every speech, score 0, a full match.
            score_of = dict.fromkeys(catalog.page, ranking.score(ranking.EXACT, 0.0))
            tier_of = dict.fromkeys(catalog.page, ranking.EXACT)
        elif engine_ranks:
            tier_of = backend.entry_tiers(parsed, mode)
        else:
            if by_entry:
                score_of = dict(backend.entry_scores(parsed, mode))
            else:
                score_of = {int(pk): score
                            for pk, score in backend.match_scores(SpeechPage, parsed, mode=mode).items()}
            tier_of = {e: ranking.tier_of(score) for e, score in score_of.items()}
        ids = list(filter(catalog.page.__contains__, tier_of))
        if ids:
            break
    if params.match == "all":
        ids = [e for e in ids if tier_of[e] == ranking.EXACT]
    if not ids:
        return 0, 0, [], {}

    passing = _filters(catalog, ids, params)
    facets = _facet_counts(catalog, passing)
    matched = passing()
    want = params.page * params.page_size
    per_tier = Counter(map(tier_of.__getitem__, matched))
    if engine_ranks:
        top, score_of = _engine_top(backend, parsed, mode, tier_of, per_tier, catalog, want)
    else:
        top = _ranked(matched, score_of, catalog, params.sort, want)
    start = (params.page - 1) * params.page_size
    hits = [(catalog.page[e], score_of[e], catalog.date[e]) for e in top[start:want]]
    count_all = per_tier[ranking.EXACT]
    return len(matched), count_all, hits, facets


def _filters(catalog, ids, params):
    """passing(skip=None): the matches that pass every filter but `skip` (facets ignore their own filter)."""
    chosen = {}
    if params.year:
        year = f"{params.year:04d}"
        chosen["year"] = {e for e in ids if catalog.year[e] == year}
    if params.speaker:
        wanted = catalog.speaker_ids(params.speaker)
        chosen["speaker"] = {e for e in ids if catalog.speaker[e] in wanted}
    if params.level:
        chosen["level"] = {e for e in ids if catalog.level[e] == params.level}
    if params.topic:
        wanted = catalog.tag_ids(params.topic)
        chosen["topic"] = {e for e in ids if not wanted.isdisjoint(catalog.topics[e])}

    def passing(skip=None):
        sets = [s for name, s in chosen.items() if name != skip]
        if not sets:
            return ids
        return set.intersection(*sets) if len(sets) > 1 else sets[0]

    return passing


def _facet_counts(catalog, passing):
    def named(counter, names):
        out = Counter()
        for key, n in counter.items():
            if key in names:
                out[names[key]] += n
        return out

    facets = {
        "year": Counter(map(catalog.year.__getitem__, passing("year"))),
        "speaker": named(Counter(map(catalog.speaker.__getitem__, passing("speaker"))), catalog.speaker_names),
        "level": Counter(map(catalog.level.__getitem__, passing("level"))),
        "topic": named(Counter(chain.from_iterable(map(catalog.topics.__getitem__, passing("topic")))),
                       catalog.tag_names),
    }
    facets["year"].pop("", None)
    return facets


def _order_key(score_of, catalog):
    """Display order: score, then later date (missing last), then newer page."""
    page_of, date_key = catalog.page, catalog.date_key
    return lambda e: (-score_of[e], date_key[e], -page_of[e])


def _ranked(matched, score_of, catalog, sort, want):
    """The first `want` matches in display order."""
    if sort == "date":
        page_of, date_key = catalog.page, catalog.date_key
        return sorted(matched, key=lambda e: (date_key[e], -score_of[e], -page_of[e]))[:want]
    top = heapq.nlargest(want, matched, key=score_of.__getitem__)
    if len(top) == want:
        edge = score_of[top[-1]]  # every entry tied with the last one, so ties are ordered by date
        top = [e for e in matched if score_of[e] >= edge]
    return sorted(top, key=_order_key(score_of, catalog))[:want]


def _engine_top(backend, parsed, mode, tier_of, per_tier, catalog, want):
    """(first `want` matches in display order, their scores) from the engine's relevance of the tiers the page
    reaches only (search.ranking: a tier's every score is above the next tier's), so no group is counted again.
    When one tier fills the page, only the database's top-N of that tier's MATCH is read, and it is used when its
    edge proves the page (the want-th kept score above every unread row's); otherwise every row of those tiers.

    Without filters (the only case here) the matches are the public entries of tier_of, less those below EXACT
    with match=all, when only EXACT is counted in per_tier: so among entries of the tiers ranked, "public" is
    "a match"."""
    tiers = sorted(per_tier, reverse=True)
    cut, reached = tiers[-1], 0
    for value in tiers:
        reached += per_tier[value]
        if reached >= want:
            cut = value
            break
    public = catalog.page

    def scored(rows):
        score_of, kept = {}, []
        for entry, relevance in rows:
            value = tier_of.get(entry)
            if value is not None and value >= cut:
                score_of[entry] = ranking.score(value, relevance)
                if entry in public:
                    kept.append(entry)
        return kept, score_of

    if cut == tiers[0]:
        limit = want * 2 + 20
        rows = backend.entry_relevance(parsed, mode, cut, limit=limit, matches=len(tier_of))
        kept, score_of = scored(rows)
        if len(rows) < limit or (len(kept) >= want
                                 and score_of[kept[want - 1]] > ranking.score(cut, rows[-1][1])):
            return sorted(kept, key=_order_key(score_of, catalog))[:want], score_of
    kept, score_of = scored(backend.entry_relevance(parsed, mode, cut))
    return _ranked(kept, score_of, catalog, "relevance", want), score_of


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
    empty = {"query": params.q, "count": 0, "count_all": 0, "count_partial": 0, "page": params.page,
             "page_size": params.page_size, "num_pages": 0, "results": [],
             "facets": {"year": [], "speaker": [], "level": [], "topic": []}, "parsed": parsed, "pages": []}
    if parsed.is_empty and not params.has_filters:
        return empty
    backend = get_search_backend()
    count, count_all, hits, facet_counts = _search_catalog(backend, parsed, params)
    if not count:
        return empty
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
            page.search_match = ranking.match_kind(score)
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
        "count_all": count_all,
        "count_partial": count - count_all,
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
            "level": level or None, "snippet": snippet, "score": score, "match": ranking.match_kind(score)}


def _hit_rows(pks, request=None):
    """[(pk, title, url, date, speaker, level, summary, plain text)] in the order of pks, without page objects."""
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

