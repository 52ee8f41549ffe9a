from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from search.models import SearchTerm, SynonymGroup


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
    list_display = ["__str__", "note"]
    ordering = ["id"]


class SearchDictionaryGroup(SnippetViewSetGroup):
    items = (SearchTermViewSet, SynonymGroupViewSet)
    menu_icon = "search"
    menu_label = "搜索词库"
    menu_name = "search-dictionary"
    menu_order = 230


register_snippet(SearchDictionaryGroup)
