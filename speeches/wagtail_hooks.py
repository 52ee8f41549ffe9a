from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from speeches.models import Speaker


class SpeakerViewSet(SnippetViewSet):
    model = Speaker
    icon = "user"
    menu_label = "讲话人"
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["name", "post", "organisation"]
    search_fields = ["name", "post", "organisation"]


register_snippet(SpeakerViewSet)
