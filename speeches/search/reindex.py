"""Speeches to re-index when editors change dictionary words (registered with search.dictionary)."""

import json

from django.db.models import Q

from speeches.models import SpeechPage

CHUNK = 200


def speeches_mentioning(words):
    """Every live speech whose title, summary or body mentions any of the words, in primary-key chunks."""
    query = Q()
    for word in words:
        escaped = json.dumps(word)[1:-1]  # StreamField JSON may store CJK as \\uXXXX escapes
        query |= Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        if escaped != word:
            query |= Q(body__icontains=escaped)
    ids = list(SpeechPage.objects.live().filter(query).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        yield from SpeechPage.objects.filter(pk__in=ids[start:start + CHUNK]).specific()
