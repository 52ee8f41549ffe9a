"""What visitors search for, without personal data: the normalised query, its result count, whether a result was
opened, the day. Feeds the admin report 搜索统计 (search/reports.py); rows older than SEARCH_LOG_DAYS are pruned."""

import datetime
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from search.analysis import fold

MAX_LENGTH = 100
# ID numbers, phone numbers, bank cards: never written to the log.
PERSONAL = re.compile(r"\d{6,}|\d{5,}[\dXx]|1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|@")


def normalise(query):
    text = re.sub(r"\s+", " ", fold(query or "")).strip().lower()
    if not text or PERSONAL.search(text):
        return ""
    return text[:MAX_LENGTH]


def record(query, results, day=None):
    from search.models import QueryLog

    text = normalise(query)
    if not text:
        return
    day = day or timezone.localdate()
    changes = {"searches": F("searches") + 1, "results": results}
    if not results:
        changes["zero_results"] = F("zero_results") + 1
    for _attempt in range(2):
        if QueryLog.objects.filter(day=day, query=text).update(**changes):
            return
        try:
            with transaction.atomic():
                QueryLog.objects.create(day=day, query=text, searches=1, results=results,
                                        zero_results=0 if results else 1)
            return
        except IntegrityError:
            continue  # another request created today's row first


def record_open(query, day=None):
    from search.models import QueryLog

    text = normalise(query)
    if text:
        QueryLog.objects.filter(day=day or timezone.localdate(), query=text).update(opens=F("opens") + 1)


def prune(days=None, today=None):
    """Delete rows older than ``days`` (SEARCH_LOG_DAYS); returns how many went."""
    from search.models import QueryLog

    days = settings.SEARCH_LOG_DAYS if days is None else days
    cutoff = (today or timezone.localdate()) - datetime.timedelta(days=days)
    deleted, _ = QueryLog.objects.filter(day__lt=cutoff).delete()
    return deleted
