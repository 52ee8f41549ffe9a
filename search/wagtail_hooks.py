from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, SnippetViewSet, SnippetViewSetGroup

from search import reports
from search.models import SearchTerm, SynonymGroup, split_words


class SynonymGroupCreateView(CreateView):
    """Opened from 搜索统计 with ?words=: the group starts with the visitor's query."""

    def get_initial_form_instance(self):
        instance = super().get_initial_form_instance()
        words = split_words(self.request.GET.get("words", "")[:200])
        if words:
            instance = instance or self.model()
            instance.words = " ".join(words)
        return instance


class SearchTermViewSet(SnippetViewSet):
    model = SearchTerm
    icon = "tag"
    menu_label = "搜索词"
    list_display = ["word", "created_at"]
    ordering = ["word"]


class SynonymGroupViewSet(SnippetViewSet):
    model = SynonymGroup
    icon = "list-ul"
    menu_label = "同义词组"
    add_view_class = SynonymGroupCreateView
    list_display = ["__str__", "note"]
    ordering = ["id"]


class SearchDictionaryGroup(SnippetViewSetGroup):
    items = (SearchTermViewSet, SynonymGroupViewSet)
    menu_icon = "search"
    menu_label = "搜索词库"
    menu_name = "search-dictionary"
    menu_order = 230


register_snippet(SearchDictionaryGroup)


@hooks.register("register_admin_urls")
def search_stats_urls():
    return [
        path("reports/search-stats/", reports.SearchStatsView.as_view(), name="search_stats"),
        path("reports/search-stats/add-word/", reports.add_word, name="search_stats_add_word"),
    ]


class SearchStatsMenuItem(MenuItem):
    def is_shown(self, request):
        return reports.may_edit_dictionary(request.user)


@hooks.register("register_reports_menu_item")
def search_stats_menu_item():
    return SearchStatsMenuItem("搜索统计", reverse("search_stats"), icon_name="search", order=150)
