"""Placeholder search views; the Chinese search issue replaces them."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render

from speeches.models import SpeechPage


def _results(query):
    if not query.strip():
        return SpeechPage.objects.none()
    return SpeechPage.objects.live().public().filter(title__icontains=query.strip())


def search(request):
    query = request.GET.get("q", "")
    page_obj = Paginator(_results(query), 10).get_page(request.GET.get("page"))
    return render(request, "search/search.html", {"search_query": query, "page_obj": page_obj})


def search_api(request):
    query = request.GET.get("q", "")
    results = list(_results(query)[:10])
    return JsonResponse(
        {"query": query, "count": len(results), "results": [{"title": p.title, "url": p.url} for p in results]}
    )
