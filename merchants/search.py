"""Merchant search through the project's Wagtail search backend (jieba segmentation once merged)."""

import re

from wagtail.search.backends import get_search_backend

MAX_QUERY_LENGTH = 50


def clean_query(raw):
    """Visitor input reduced to words: punctuation would be query syntax for the full-text engines."""
    text = re.sub(r"[^\w\s]|_", " ", str(raw or ""))
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def matching_ids(query, queryset):
    """Primary keys of merchants in ``queryset`` that match ``query``, best match first."""
    from merchants.models import Merchant

    query = clean_query(query)
    if not query:
        return None
    backend = get_search_backend()
    found = [merchant.pk for merchant in backend.search(query, Merchant.objects.all())]
    allowed = set(queryset.filter(pk__in=found).values_list("pk", flat=True))
    return [pk for pk in found if pk in allowed]
