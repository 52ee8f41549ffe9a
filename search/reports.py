"""Admin report 搜索统计: top queries, queries with no result, queries whose results nobody opens; one click adds
a query to the dictionary (re-indexing what it affects) or starts a synonym group with it."""

import datetime
import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Sum
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from search import querylog
from search.models import QueryEvent, QueryLog, SearchTerm, validate_word

logger = logging.getLogger(__name__)
PERIODS = {"7": 7, "30": 30, "90": 90}
ROWS = 30
REPORT_ROLLUP = 2000  # event rows the report counts itself before reading; the worker does the rest


def may_edit_dictionary(user):
    return user.has_perm("portal_search.add_searchterm")


def catch_up():
    """Count the newest searches before the report reads (bounded); returns the event rows still waiting, or None
    when the log cannot be read up to date."""
    try:
        querylog.flush()
        querylog.rollup_batch(REPORT_ROLLUP)
        waiting = QueryEvent.objects.aggregate(n=Sum("searches"))["n"] or 0
    except Exception:  # the report still shows what was counted before
        logger.warning("search stats: roll-up failed", exc_info=True)
        return None
    if waiting:
        querylog.schedule_rollup()
    return waiting


def summary(days, today=None):
    since = (today or timezone.localdate()) - datetime.timedelta(days=days - 1)
    rows = (QueryLog.objects.filter(day__gte=since).values("query")
            .annotate(searches=Sum("searches"), zero=Sum("zero_results"), opens=Sum("opens"), results=Max("results")))
    known = set(SearchTerm.objects.values_list("word", flat=True))
    top = list(rows.order_by("-searches", "query")[:ROWS])
    zero = list(rows.filter(zero__gt=0).order_by("-zero", "query")[:ROWS])
    unopened = list(rows.filter(opens=0, results__gt=0).order_by("-searches", "query")[:ROWS])
    for row in top + zero + unopened:
        row["in_dictionary"] = row["query"] in known
    return {"top": top, "zero": zero, "unopened": unopened, "since": since}


class SearchStatsView(WagtailAdminTemplateMixin, View):
    template_name = "portal_search/admin/search_stats.html"
    page_title = "搜索统计"
    header_icon = "search"

    def dispatch(self, request, *args, **kwargs):
        if not may_edit_dictionary(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        period = request.GET.get("days", "30")
        days = PERIODS.get(period, 30)
        waiting = catch_up()
        context = self.get_context_data(days=days, periods=list(PERIODS.values()), waiting=waiting, **summary(days))
        return self.render_to_response(context)


class AddWordForm(forms.Form):
    word = forms.CharField(max_length=100)


def add_word(request):
    """POST: the query becomes a dictionary word (saving it re-indexes the speeches that mention it)."""
    if request.method != "POST" or not may_edit_dictionary(request.user):
        raise PermissionDenied
    form = AddWordForm(request.POST)
    word = form.data.get("word", "").strip() if form.is_valid() else ""
    try:
        validate_word(word)
    except ValidationError as error:
        messages.error(request, f"“{word[:20]}”未加入词库：{error.messages[0]}")
        return redirect("search_stats")
    _term, created = SearchTerm.objects.get_or_create(word=word)
    if created:
        messages.success(request, f"已把“{word}”加入搜索词库，包含它的讲话稿将重新索引。")
    else:
        messages.info(request, f"“{word}”已在搜索词库中。")
    return redirect("search_stats")


def synonym_url(query):
    from urllib.parse import urlencode

    return reverse("wagtailsnippets_portal_search_synonymgroup:add") + "?" + urlencode({"words": query})
