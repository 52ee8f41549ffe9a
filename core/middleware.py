import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from core.clientip import client_ip

request_log = logging.getLogger("portal.requests")

PUBLIC_CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
# The Wagtail admin uses inline styles and scripts of its own.
ADMIN_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " \
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'; base-uri 'self'; object-src 'none'"


class RequestLogMiddleware:
    """One line per request: method, path, status, duration. No query string: it may hold personal data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        request_log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed)
        return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        admin = request.path.startswith(("/admin/", "/django-admin/"))
        response.headers.setdefault("Content-Security-Policy", ADMIN_CSP if admin else PUBLIC_CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


DB_UNAVAILABLE_MESSAGE = "系统暂时繁忙，请稍后再试。如已看到受理编号，您的报名已经成功。"


class DatabaseUnavailableMiddleware:
    """A database that is restarting or unreachable gives visitors HTTP 503, not a server error.

    Reads (GET/HEAD) are retried for up to about two seconds first, so a restart of PostgreSQL is usually
    invisible to visitors; a write is never retried (it was rolled back, or its answer would be a duplicate).
    """

    RETRIES = 4
    RETRY_DELAY = 0.5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        attempts = self.RETRIES + 1 if request.method in ("GET", "HEAD") else 1
        for attempt in range(attempts):
            request.database_unavailable = False
            response = self.get_response(request)
            if not request.database_unavailable:
                return response
            for connection in connections.all():
                connection.close_if_unusable_or_obsolete()
            if attempt + 1 < attempts:
                time.sleep(self.RETRY_DELAY)
        logging.getLogger(__name__).error("数据库不可用：%s %s", request.method, request.path)
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": DB_UNAVAILABLE_MESSAGE}, status=503,
                                    json_dumps_params={"ensure_ascii": False})
        else:
            # Rendered without a request: context processors would query the database.
            response = HttpResponse(render_to_string("503.html", {"message": DB_UNAVAILABLE_MESSAGE}), status=503)
        response["Retry-After"] = "10"
        response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError) and _database_down(exception):
            request.database_unavailable = True
            return HttpResponse(status=503)
        return None


def _database_down(exception):
    """Connection-level failures only: a locked SQLite database or a bad query is a different problem."""
    text = str(exception).lower()
    return isinstance(exception, InterfaceError) or any(
        marker in text
        for marker in ("connection", "server closed", "terminating", "shutting down", "starting up",
                       "could not connect", "unable to open database", "the database system is")
    )


class VaryOnCookieMiddleware:
    """HTML is rendered per 长辈模式 cookie, so any cache must key on the Cookie header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            patch_vary_headers(response, ["Cookie"])
        return response


PASSWORD_PATH = re.compile(r"^/_util/authenticate_with_password/(\d+)/\d+/$")
PASSWORD_LOCKED_MESSAGE = "密码错误次数过多，请一小时后再试。"


class PagePasswordThrottleMiddleware:
    """Password-protected pages are throttled like the admin login: after AXES_FAILURE_LIMIT wrong passwords
    from one address for one restriction, that address is refused for AXES_COOLOFF_TIME hours."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = PASSWORD_PATH.match(request.path) if request.method == "POST" else None
        if match is None:
            return self.get_response(request)
        key = f"page-password-failures:{match.group(1)}:{client_ip(request)}"
        limit = getattr(settings, "AXES_FAILURE_LIMIT", 5)
        if (cache.get(key) or 0) >= limit:
            response = HttpResponse(render_to_string("429.html", {"message": PASSWORD_LOCKED_MESSAGE}), status=429)
            response["Cache-Control"] = "no-store"
            return response
        response = self.get_response(request)
        if response.status_code == 200:  # the form came back: wrong password
            window = int(getattr(settings, "AXES_COOLOFF_TIME", 1) * 3600)
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=window)
        elif response.status_code == 302:
            cache.delete(key)
        return response
