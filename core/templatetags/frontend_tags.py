import functools
import json
import re

import segno
from django import template
from django.templatetags.static import static
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe
from wagtail.models import Page

register = template.Library()

DESCRIPTION_LENGTH = 120
DEFAULT_IMAGE = "img/share.png"
JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def plain(html):
    return re.sub(r"\s+", " ", strip_tags(str(html))).strip()


def site_settings(context):
    settings = context.get("settings")
    try:
        return settings["home"]["SiteSettings"]
    except (KeyError, TypeError):
        return None


def organisation(context):
    found = site_settings(context)
    return getattr(found, "organisation", "") or "工会"


def default_description(context):
    return f"{organisation(context)}宣传门户：讲话稿、活动专题与会员服务"


def page_description(page):
    """The page's own summary or first text, or '' when it has none."""
    if page is None:
        return ""
    for attr in ("search_description", "description", "summary", "intro", "body"):
        value = getattr(page, attr, None)
        if value:
            text = plain(value)
            if text:
                return text[:DESCRIPTION_LENGTH]
    return ""


def first_image_url(page, request):
    body = getattr(page, "body", None)
    if body is None or isinstance(body, str):
        return ""
    for block in body:
        if block.block_type == "image" and block.value:
            rendition = block.value.get_rendition("fill-1200x630|format-jpeg")
            return request.build_absolute_uri(rendition.url)
    return ""


def canonical_url(page, request, context=None):
    """The page's own URL, or the path a view declares as its own (``canonical_path``: a merchant's page)."""
    declared = (context or {}).get("canonical_path")
    if declared:
        return request.build_absolute_uri(declared)
    if page is not None and hasattr(page, "get_url"):
        url = page.get_url(request)
        if url:
            return request.build_absolute_uri(url)
    return request.build_absolute_uri(request.path)


def share_url(context, request, canonical):
    """What the QR code and the share box point at: the canonical URL, or the full URL where the query is the
    content (search results)."""
    if context.get("share_with_query") and request.GET:
        return request.build_absolute_uri(request.get_full_path())
    return canonical


@register.simple_tag(takes_context=True)
def page_meta(context):
    """Everything the <head> and the share box need: description, canonical URL, Open Graph image, JSON-LD."""
    request = context.get("request")
    page = context.get("page")
    if not isinstance(page, Page):
        page = None  # views such as search use "page" for a page number
    if request is None:
        return {}
    description = page_description(page) or default_description(context)
    canonical = canonical_url(page, request, context)
    image = (first_image_url(page, request) if page is not None else "") or request.build_absolute_uri(
        static(DEFAULT_IMAGE)
    )
    title = (getattr(page, "seo_title", "") or getattr(page, "title", "")) if page is not None else ""
    return {
        "description": description,
        "canonical": canonical,
        "share": share_url(context, request, canonical),
        "image": image,
        "title": title,
        "og_type": "article" if page is not None and page.specific_class.__name__ == "SpeechPage" else "website",
        "organisation": organisation(context),
        "json_ld": json_ld(page, request, context, description, canonical, image),
        "elder": request.COOKIES.get("elder_mode") == "1",
    }


def organisation_ld(context, request):
    found = site_settings(context)
    data = {
        "@type": "Organization",
        "name": organisation(context),
        "url": request.build_absolute_uri("/"),
        "logo": request.build_absolute_uri(static("img/logo.png")),
    }
    if found is not None and found.phone:
        data["telephone"] = found.phone
    if found is not None and found.address:
        data["address"] = {"@type": "PostalAddress", "streetAddress": found.address, "addressCountry": "CN"}
    return data


def json_ld(page, request, context, description, canonical, image):
    if page is None:
        return ""
    kind = page.specific_class.__name__
    if kind == "HomePage":
        data = {"@context": "https://schema.org", **organisation_ld(context, request)}
    elif kind == "SpeechPage":
        speech = page.specific
        published = speech.date_delivered or speech.first_published_at
        modified = speech.last_published_at or speech.latest_revision_created_at
        author = (
            {"@type": "Person", "name": speech.speaker.name, "jobTitle": speech.speaker.post}
            if speech.speaker
            else organisation_ld(context, request)
        )
        data = {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": speech.title[:110],
            "description": description,
            "inLanguage": "zh-CN",
            "mainEntityOfPage": canonical,
            "url": canonical,
            "image": [image],
            "author": author,
            "publisher": organisation_ld(context, request),
        }
        if published:
            data["datePublished"] = published.isoformat()
        if modified:
            data["dateModified"] = modified.isoformat()
        if speech.meeting:
            data["about"] = speech.meeting
    else:
        return ""
    text = json.dumps(data, ensure_ascii=False, indent=None).translate(JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


@register.simple_tag
def qr_svg(url, label="本页二维码"):
    """An inline SVG QR code of `url`, drawn on the server (no outside service)."""
    return mark_safe(_qr_svg(str(url), str(label)))


@functools.lru_cache(maxsize=4096)
def _qr_svg(url, label):
    # Encoding is a few milliseconds of pure Python per page view; a URL's code never changes.
    svg = segno.make(url, error="m").svg_inline(
        scale=4, border=2, dark="#000", light="#fff", svgclass="qr-code", omitsize=True
    )
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}：{escape(url)}" ', 1)


@register.simple_tag
def field_widget(field):
    """Render a bound field's widget with its help text and error ids in aria-describedby."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    attrs = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
