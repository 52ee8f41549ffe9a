"""Site search page (/search/), JSON search API (/api/search/) and suggestions (/api/search/suggest/)."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import render

from speeches.search.service import (
    SearchParamError,
    parse_params,
    related_terms,
    search_other_pages,
    search_speeches,
)
from speeches.search.suggest import did_you_mean, suggestions

OTHER_PAGES_PREVIEW = 5


def _error(message, status=400):
    return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})


def search_api(request):
    try:
        params = parse_params(request.GET)
    except SearchParamError as exc:
        return _error(str(exc))
    data = search_speeches(params, with_pages=False, request=request)
    body = {key: data[key] for key in ("query", "count", "count_all", "count_partial", "page", "results", "facets")}
    body["page_size"] = data["page_size"]
    body["num_pages"] = data["num_pages"]
    body["match"] = params.match or None
    body["did_you_mean"] = did_you_mean(params.q) if params.q and not data["count"] else None
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def suggest_api(request):
    return JsonResponse({"query": request.GET.get("q", "")[:50].replace("\x00", ""),
                         "suggestions": suggestions(request.GET.get("q", ""))},
                        json_dumps_params={"ensure_ascii": False})


def _url(params, **changes):
    values = {"q": params.q, "sort": params.sort, "type": params.type, "year": params.year or "",
              "speaker": params.speaker, "level": params.level, "topic": params.topic, "match": params.match,
              "page": params.page}
    values.update(changes)
    if values.get("page") == 1:
        values.pop("page")
    if values.get("sort") == "relevance":
        values.pop("sort")
    if values.get("type") == "speech":
        values.pop("type")
    return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


def search(request):
    try:
        params = parse_params(request.GET)
    except SearchParamError as exc:
        return render(request, "search/search.html", {"error": str(exc), "search_query": request.GET.get("q", "")
                                                      .replace("\x00", "")[:200]}, status=400)
    context = {"params": params, "search_query": params.q, "share_with_query": True}
    if params.type == "page":
        pages, count = search_other_pages(params)
        data = {"count": count, "count_all": count, "count_partial": 0,
                "num_pages": (count + params.page_size - 1) // params.page_size, "pages": pages, "facets": {},
                "parsed": None}
    else:
        data = search_speeches(params, request=request)
        other, other_count = search_other_pages(params, limit=OTHER_PAGES_PREVIEW) if params.q else ([], 0)
        context.update(other_pages=other, other_count=other_count, other_url=_url(params, type="page", page=1))
    # "page" in the template context means the current Wagtail page (used by the site <head>), not a number.
    context.update({key: value for key, value in data.items() if key != "page"}, page_number=data.get("page"))
    mark = " ".join(data["parsed"].highlight_terms()[:8]) if data.get("parsed") else ""
    for page in data["pages"]:
        url = page.get_url(request) or ""
        page.search_url = f"{url}?{urlencode({'hl': mark})}" if mark and url else url
    facet_links = {}
    for name, items in data["facets"].items():
        current = getattr(params, name)
        facet_links[name] = [
            dict(item, url=_url(params, page=1, **{name: "" if str(current) == item["value"] else item["value"]}),
                 selected=str(current) == item["value"])
            for item in items
        ]
    context.update(
        facet_links=facet_links,
        sort_urls={"relevance": _url(params, sort="relevance", page=1), "date": _url(params, sort="date", page=1)},
        type_urls={"speech": _url(params, type="speech", page=1), "page": _url(params, type="page", page=1)},
        clear_filters_url=_url(params, year="", speaker="", level="", topic="", page=1),
        prev_url=_url(params, page=params.page - 1) if params.page > 1 else None,
        next_url=_url(params, page=params.page + 1) if params.page < data["num_pages"] else None,
    )
    context["match_urls"] = {"all": _url(params, match="all", page=1), "any": _url(params, match="", page=1)}
    if params.q and not data["count"] and data.get("parsed") is not None:
        context["related_terms"] = [(term, _url(params, q=term, page=1)) for term in related_terms(data["parsed"])]
        suggestion = did_you_mean(params.q)
        if suggestion:
            context["did_you_mean"] = (suggestion, _url(params, q=suggestion, page=1))
    return render(request, "search/search.html", context)
