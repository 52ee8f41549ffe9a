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


# Word import and the typography/duplicate check (speeches/admin/docx_views.py).
from django.urls import path, reverse  # noqa: E402
from wagtail import hooks  # noqa: E402
from wagtail.admin.menu import MenuItem  # noqa: E402
from wagtail.admin.ui.menus.pages import PageMenuItem  # noqa: E402

from speeches.admin import docx_views  # noqa: E402


@hooks.register("register_admin_urls")
def docx_admin_urls():
    return [
        path("speeches/docx-import/", docx_views.docx_import, name="speeches_docx_import"),
        path("speeches/docx-import/confirm/", docx_views.docx_import_confirm, name="speeches_docx_import_confirm"),
        path("speeches/docx-import/jobs/<int:job_id>/", docx_views.docx_import_job, name="speeches_docx_import_job"),
        path("speeches/<int:page_id>/check/", docx_views.speech_check, name="speeches_speech_check"),
        path("speeches/<int:page_id>/check/topics/", docx_views.speech_add_topics, name="speeches_speech_add_topics"),
    ]


@hooks.register("register_page_header_buttons")
def docx_page_buttons(page, user, view_name, next_url=None):
    from speeches.models import SpeechIndexPage, SpeechPage

    specific = page.specific_class
    if specific is SpeechIndexPage and page.permissions_for_user(user).can_add_subpage():
        yield PageMenuItem("导入 Word 讲话稿", reverse("speeches_docx_import") + f"?parent={page.pk}",
                           icon_name="doc-full", priority=16, page=page)
    if specific is SpeechPage and page.permissions_for_user(user).can_edit():
        yield PageMenuItem("排版清理与查重", reverse("speeches_speech_check", args=[page.pk]),
                           icon_name="doc-full-inverse", priority=17, page=page)


class WordImportMenuItem(MenuItem):
    def is_shown(self, request):
        from speeches.models import SpeechIndexPage

        return any(index.permissions_for_user(request.user).can_add_subpage()
                   for index in SpeechIndexPage.objects.all()[:20])


@hooks.register("register_admin_menu_item")
def docx_menu_item():
    return WordImportMenuItem("导入 Word 讲话稿", reverse("speeches_docx_import"), icon_name="doc-full",
                              name="speeches-docx-import", order=205)
