"""/media/… in development and production: uploaded files are never served as HTML or script.

Only allow-listed types keep their content type; anything else is an ``application/octet-stream``
download. Every response carries ``nosniff`` and ``Content-Security-Policy: default-src 'none'; sandbox``.
Documents (``documents/``) are never served here: Wagtail's /documents/<id>/<name> view checks the
collection's privacy first. Paths are checked (no ``..``, no symlink out of MEDIA_ROOT, no dotfiles).
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

SAFE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
}
MEDIA_CSP = "default-src 'none'; sandbox"
# Documents (Wagtail's view checks their collection) and Word imports staged here by older versions.
PRIVATE_PREFIXES = ("documents/", "docx_import/")
MAX_AGE = 24 * 3600


def _resolve(path):
    """The file under MEDIA_ROOT for a URL path, or Http404."""
    parts = path.split("/")
    if not path or "\\" in path or "\x00" in path or any(not p or p.startswith(".") for p in parts):
        raise Http404  # empty segments, "..", dotfiles
    if path.startswith(PRIVATE_PREFIXES):
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        full = (root / path).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise Http404 from None
    if root not in full.parents or not full.is_file():
        raise Http404  # outside MEDIA_ROOT through a symlink, or a directory
    if full.relative_to(root).as_posix().startswith(PRIVATE_PREFIXES):
        raise Http404  # a symlink into documents/
    return full


@require_safe
def serve(request, path):
    full = _resolve(path)
    stat = full.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    response = get_conditional_response(request, etag=etag, last_modified=int(stat.st_mtime))
    if response is None:
        content_type = SAFE_TYPES.get(full.suffix.lower())
        response = FileResponse(full.open("rb"), content_type=content_type or "application/octet-stream")
        if content_type is None:
            response["Content-Disposition"] = f'attachment; filename="{_ascii(full.name)}"'
        response["Content-Length"] = str(stat.st_size)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


def _ascii(name):
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
