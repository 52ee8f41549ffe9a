"""HTTP 503 "搜索暂时不可用" when the search server is down or unreachable (never a server error).

Installed as the last middleware, so it sees exceptions from any view that searches (the public search page,
the JSON API, Wagtail API v2 ?search=, the admin). Indexing errors on publish are caught and logged by
modelsearch's signal handlers (the Elasticsearch backend sets ``catch_indexing_errors``).
"""

import logging

from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

MESSAGE = "搜索暂时不可用，请稍后再试。"


def search_server_errors():
    try:
        from elastic_transport import TransportError
        from elasticsearch import ApiError
    except ImportError:  # the client is only needed when the Elasticsearch backend is configured
        return ()
    return (TransportError, ApiError)


def is_search_server_error(exc):
    errors = search_server_errors()
    return bool(errors) and isinstance(exc, errors)


class SearchUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_search_server_error(exception):
            return None
        logger.error("搜索服务器不可用：%s %s", request.path, exception)
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": MESSAGE}, status=503, json_dumps_params={"ensure_ascii": False})
        else:
            response = render(request, "search/unavailable.html", {"message": MESSAGE}, status=503)
        response["Retry-After"] = "30"
        return response
