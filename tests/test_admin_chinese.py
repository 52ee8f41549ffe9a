"""Every admin screen that 编辑, 审核 and 管理员 can reach is in Chinese.

Each role crawls the admin from /admin/ (links inside /admin/, one visit per URL shape, bounded) plus an
explicit list of listing, create, edit, history, workflow, report, chooser and error screens; the visible
text and the text attributes of every page are searched for English words."""

import io
import json
import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Comment
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.base import ContentFile
from PIL import Image as PILImage

from core.roles import EDITORS, MODERATORS

User = get_user_model()

# Names and formats that stay in Latin letters in Chinese text.
ALLOWED = {
    "Wagtail", "Word", "Excel", "CSV", "csv", "xlsx", "docx", "URL", "URLs", "ID", "RSS", "API", "HTML", "SEO",
    "PDF", "Gravatar", "JavaScript", "JSON", "Draftail", "Markdown", "ICP", "Email", "email", "Ctrl", "Cmd",
    "Shift", "Alt", "Option", "Enter", "Esc", "Tab", "Space", "Return", "Delete", "Backspace", "jpg", "jpeg",
    "png", "gif", "webp", "svg", "avif", "heic", "ico", "txt", "zip", "v", "px", "KB", "MB", "GB", "SVG", "GIF",
    "PNG", "JPEG", "XLSX", "TSV", "DOCX", "WebP", "AVIF", "HEIC", "IP", "WCAG", "zh", "hans", "Hans", "UTC",
    "GMT", "CST", "AM", "PM",
}
# Single English words that are clearly untranslated interface text.
UI_WORDS = {
    "add", "edit", "delete", "save", "cancel", "search", "filter", "filters", "sort", "page", "pages", "image",
    "images", "document", "documents", "snippet", "snippets", "user", "users", "group", "groups", "settings",
    "status", "title", "live", "draft", "publish", "published", "unpublish", "unpublished", "preview", "history",
    "revisions", "revision", "workflow", "workflows", "task", "tasks", "lock", "locked", "unlock", "copy", "move",
    "view", "more", "actions", "action", "close", "open", "next", "previous", "back", "yes", "no", "none", "all",
    "any", "name", "password", "username", "date", "type", "owner", "updated", "created", "submit", "approve",
    "reject", "comments", "comment", "help", "account", "dashboard", "reports", "sites", "site", "redirects",
    "collections", "collection", "choose", "upload", "select", "clear", "apply", "reset", "loading", "error",
    "errors", "warning", "success", "required", "optional", "usage", "privacy", "public", "private", "schedule",
    "scheduled", "expired", "active", "inactive", "enabled", "disabled", "order", "menu", "explorer", "home",
    "shortcuts", "minimap", "checks", "saved", "refresh", "compare", "results", "items", "item", "blocks",
    "block", "root", "content", "promote", "parent", "child", "language", "locale", "theme", "logout", "login",
    "sign", "profile", "notifications", "file", "files", "tags", "tag", "focal", "width", "height", "size",
    "format", "rotate", "crop", "layout", "grid", "list", "today", "yesterday", "ago", "never", "unknown",
    "expand", "collapse", "toggle", "show", "hide", "insert", "remove", "replace", "confirm", "continue",
    "done", "finish", "start", "stop", "remind", "awaiting", "approved", "rejected", "cancelled", "in", "of",
}
TEXT_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "aria-description", "data-w-tooltip-content-value",
                   "data-w-dismissible-id-value")
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "textarea", "svg", "noscript"}
CODE_LIKE = re.compile(r"\S*(?:[_=@{}%#\\<>|]|://|\.\w|/\w|\d)\S*|\b[a-z]+[A-Z]\w*")
WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’ ,&()-]*[A-Za-z)]|[A-Za-z]")

SKIP_URL = re.compile(
    r"^/admin/(logout|jsi18n|sprite|icons|bulk)|/preview/|/view_draft/|/revisions/\d+/view/|/export|\.(csv|xlsx)$"
    r"|/template\.|/serve/|/download/|^/admin/documents/(serve|view)|/workflow/preview/|/usage/\d+/?$"
)
MAX_VISITS = 260


def english_in(text):
    """The English words of `text` (a run of two or more, or one interface word), or None."""
    cleaned = CODE_LIKE.sub(" · ", text)
    for run in LATIN_RUN.findall(cleaned):
        words = [w for w in WORD.findall(run) if w not in ALLOWED]
        if not words:
            continue
        # Allowed names break a run into parts: "Wagtail 8" or "Excel 表格" are fine, "Edit Wagtail" is not.
        parts, current = [], []
        for w in WORD.findall(run):
            if w in ALLOWED:
                parts.append(current)
                current = []
            else:
                current.append(w)
        parts.append(current)
        for part in parts:
            if len(part) >= 2 or (len(part) == 1 and part[0].lower() in UI_WORDS):
                return " ".join(part)
    return None


def english_texts(html):
    soup = BeautifulSoup(html, "html.parser")
    for node in soup.find_all(SKIP_TAGS):
        node.decompose()
    for node in soup.find_all(attrs={"lang": re.compile(r"^en")}):
        node.decompose()
    # Time zone names are identifiers (Asia/Shanghai); the side-panel counter is filled in by JavaScript.
    for node in soup.select("select[name$=current_time_zone] option, [data-side-panel-toggle-counter]"):
        node.decompose()
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    found = []
    for text in soup.find_all(string=True):
        words = english_in(str(text))
        if words:
            found.append((words, " ".join(str(text).split())[:120]))
    for tag in soup.find_all(True):
        attributes = list(TEXT_ATTRIBUTES)
        if tag.name == "input" and tag.get("type") in ("submit", "button", "reset"):
            attributes.append("value")
        if tag.name == "option" or tag.get("type") == "hidden":
            attributes = [a for a in attributes if a != "value"]
        for attribute in attributes:
            value = tag.get(attribute)
            if isinstance(value, list):
                value = " ".join(value)
            words = english_in(value) if value else None
            if words:
                found.append((words, f"<{tag.name} {attribute}=“{value[:100]}”>"))
    return found


def outside_pictures(html):
    """Images loaded from another site (Gravatar avatars, for one): the admin must not depend on them."""
    soup = BeautifulSoup(html, "html.parser")
    return [("外部图片", f"<{tag.name} src=“{tag['src']}”>") for tag in soup.find_all(["img", "source"], src=True)
            if re.match(r"^(https?:)?//", tag["src"])]


def html_of(response):
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/html"):
        return response.content.decode()
    if content_type.startswith("application/json"):
        data = json.loads(response.content)
        return data.get("html") if isinstance(data, dict) else None
    return None


def url_shape(url):
    parts = urlsplit(url)
    path = parts.path
    # Each page type has its own explorer and editor; other screens look the same for every object.
    if re.fullmatch(r"/admin/pages/\d+/(edit/)?", path):
        return path
    return re.sub(r"\d+", "N", path)


def links_in(html):
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["a", "form"]):
        href = tag.get("href") if tag.name == "a" else None
        if href:
            href = href.split("#")[0]
            if href.startswith("/admin/"):
                yield href


def crawl(client, start_urls):
    """Visit start_urls and the admin links they lead to; return {url: [(words, where)]} and the visits."""
    queue, seen_shapes, problems, visited = deque(start_urls), set(), {}, []
    explicit, done = set(start_urls), set()
    while queue and len(visited) < MAX_VISITS:
        url = queue.popleft()
        shape = url_shape(url)
        if url in done or (url not in explicit and (shape in seen_shapes or SKIP_URL.search(url))):
            continue
        seen_shapes.add(shape)
        done.add(url)
        response = client.get(url)
        visited.append((url, response.status_code))
        assert response.status_code < 500, f"{url} → {response.status_code}"
        if response.status_code != 200:
            continue
        html = html_of(response)
        if not html:
            continue
        found = english_texts(html) + outside_pictures(html)
        if found:
            problems[url] = found
        for link in links_in(html):
            if url_shape(link) not in seen_shapes:
                queue.append(link)
    return problems, visited


def report(problems):
    lines = []
    for url, found in problems.items():
        lines.append(url)
        lines.extend(f"    {words!r}  in  {where}" for words, where in dict.fromkeys(found))
    return "\n".join(lines)


# Content every role sees ------------------------------------------------------------------------------------


def png_bytes():
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def admin_content(home_page, speech_index, settings, tmp_path):
    from wagtail.documents.models import Document
    from wagtail.images.models import Image

    from campaigns.tests.conftest import make_campaign
    from merchants.models import Category, Merchant, MerchantDirectoryPage
    from search.models import SearchTerm, SynonymGroup
    from speeches.tests.factories import SpeakerFactory, SpeechPageFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    speaker = SpeakerFactory(name="王建国")
    speech = SpeechPageFactory(parent=speech_index, title="在市总工会全委会议上的讲话", speaker=speaker)
    speech.save_revision().publish()
    from campaigns.models import CampaignIndexPage

    campaign_index = CampaignIndexPage(title="活动专题", slug="campaigns")
    home_page.add_child(instance=campaign_index)
    campaign_index.save_revision().publish()
    campaign = make_campaign(campaign_index)
    directory = MerchantDirectoryPage(title="特惠商户", slug="merchants")
    home_page.add_child(instance=directory)
    directory.save_revision().publish()
    merchant = Merchant.objects.create(name="重庆老火锅", category=Category.objects.first(), district="渝中区",
                                       address="解放碑民族路88号", discount="持卡消费8.8折")
    term = SearchTerm.objects.create(word="职工之家")
    SynonymGroup.objects.create(words="困难帮扶 帮困", note="帮扶")
    image = Image(title="劳模表彰大会", file=ContentFile(png_bytes(), name="laomo.png"))
    image.save()
    document = Document(title="工会章程", file=ContentFile(b"%PDF-1.4 test", name="zhangcheng.pdf"))
    document.save()
    return {"speech": speech, "speaker": speaker, "campaign": campaign, "directory": directory,
            "merchant": merchant, "term": term, "image": image, "document": document}


def make_user(username, group=None, superuser=False):
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.org", "pw-1234567890",
                                             first_name="刘管理")
    else:
        name = {EDITORS: "张编辑", MODERATORS: "李审核"}[group]
        user = User.objects.create_user(username, f"{username}@example.org", "pw-1234567890", first_name=name)
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return make_user("bianji", EDITORS)


@pytest.fixture
def moderator(db):
    return make_user("shenhe", MODERATORS)


@pytest.fixture
def superuser(db):
    return make_user("guanli", superuser=True)


def explicit_urls(content, role):
    speech, campaign = content["speech"], content["campaign"]
    urls = [
        "/admin/", "/admin/pages/", f"/admin/pages/{speech.get_parent().pk}/", f"/admin/pages/{speech.pk}/edit/",
        f"/admin/pages/{speech.pk}/history/", f"/admin/pages/{speech.pk}/revisions/",
        f"/admin/pages/{speech.pk}/usage/", f"/admin/pages/{campaign.pk}/edit/",
        f"/admin/pages/{content['directory'].pk}/edit/",
        f"/admin/pages/add/speeches/speechpage/{speech.get_parent().pk}/",
        f"/admin/pages/{speech.get_parent().pk}/add_subpage/", f"/admin/pages/{speech.pk}/copy/",
        f"/admin/pages/{speech.pk}/move/", f"/admin/pages/{speech.pk}/delete/", f"/admin/pages/{speech.pk}/unpublish/",
        "/admin/pages/search/?q=讲话",
        "/admin/reports/locked/", "/admin/reports/workflow/", "/admin/reports/workflow_tasks/",
        "/admin/reports/site-history/", "/admin/reports/aging-pages/", "/admin/reports/page-types-usage/",
        "/admin/images/", "/admin/images/multiple/add/", f"/admin/images/{content['image'].pk}/",
        f"/admin/images/{content['image'].pk}/delete/", "/admin/images/chooser/",
        "/admin/documents/", "/admin/documents/multiple/add/", f"/admin/documents/edit/{content['document'].pk}/",
        "/admin/documents/chooser/", "/admin/choose-page/", f"/admin/choose-page/{speech.get_parent().pk}/",
        "/admin/snippets/", "/admin/snippets/speeches/speaker/", "/admin/snippets/speeches/speaker/add/",
        f"/admin/snippets/speeches/speaker/edit/{content['speaker'].pk}/",
        f"/admin/snippets/speeches/speaker/history/{content['speaker'].pk}/",
        "/admin/snippets/merchants/merchant/", "/admin/snippets/merchants/merchant/add/",
        f"/admin/snippets/merchants/merchant/edit/{content['merchant'].pk}/", "/admin/snippets/merchants/category/",
        "/admin/snippets/portal_search/searchterm/", "/admin/snippets/portal_search/searchterm/add/",
        f"/admin/snippets/portal_search/searchterm/edit/{content['term'].pk}/",
        "/admin/snippets/portal_search/synonymgroup/",
        "/admin/snippets/choose/speeches/speaker/",
        "/admin/merchants/import/", "/admin/speeches/docx-import/", f"/admin/speeches/{speech.pk}/check/",
        "/admin/account/", "/admin/collections/",
    ]
    if role in ("moderator", "superuser"):
        urls += ["/admin/enrolments/"]
    if role == "superuser":
        urls += ["/admin/users/", "/admin/users/add/", "/admin/groups/", "/admin/groups/add/",
                 f"/admin/groups/edit/{Group.objects.get(name=EDITORS).pk}/", "/admin/sites/", "/admin/sites/new/",
                 "/admin/workflows/list/", "/admin/workflows/add/", "/admin/workflows/tasks/index/",
                 "/admin/redirects/", "/admin/redirects/add/", "/admin/redirects/import/",
                 "/admin/settings/home/sitesettings/", "/admin/collections/add/", "/admin/forms/"]
    return urls


@pytest.mark.parametrize("role", ["editor", "moderator", "superuser"])
def test_every_admin_screen_is_chinese(role, request, client, admin_content):
    user = request.getfixturevalue(role)
    other_editor = request.getfixturevalue("editor") if role != "editor" else user
    # A page waiting in the workflow, so the dashboard, reports and workflow screens have something to show.
    speech = admin_content["speech"]
    speech.title = "在市总工会全委会议上的讲话（修订）"
    speech.save_revision(user=other_editor)
    from wagtail.models import Workflow

    Workflow.objects.get(name="审核发布").start(speech, other_editor)
    client.force_login(user)
    problems, visited = crawl(client, explicit_urls(admin_content, role))
    assert len(visited) >= 40, visited
    assert not problems, f"{role}：{len(problems)} 个后台页面有英文：\n{report(problems)}"


def speech_form_data(page, **overrides):
    data = {
        "title": page.title, "slug": page.slug, "meeting": page.meeting, "org_level": page.org_level,
        "region": "", "topics": "", "summary": "", "source_note": "", "date_delivered": "2024-03-05",
        "speaker": "", "body-count": "0", "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0", "comments-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_error_screens_are_chinese(client, admin_content, editor):
    """A slug already used under the parent, an empty required field, a bad import file: Chinese messages."""
    speech = admin_content["speech"]
    other = speech.copy(update_attrs={"slug": "qita-jianghua", "title": "另一篇讲话"})
    client.force_login(editor)
    problems = {}
    clash = client.post(f"/admin/pages/{other.pk}/edit/", speech_form_data(other, slug=speech.slug))
    assert clash.status_code == 200
    html = clash.content.decode()
    assert f"网址别名“{speech.slug}”已被同一栏目下的页面“{speech.title}”使用" in html and "转到第一个错误" in html
    problems[f"/admin/pages/{other.pk}/edit/ (别名重复)"] = english_texts(html)
    add_url = f"/admin/pages/add/speeches/speechpage/{speech.get_parent().pk}/"
    empty = client.post(add_url, speech_form_data(speech, title="", slug=""))
    assert empty.status_code == 200 and "页面有未通过校验的内容，未能创建。" in empty.content.decode()
    problems[add_url + " (缺标题)"] = english_texts(empty.content.decode())
    speaker = client.post("/admin/snippets/speeches/speaker/add/", {"name": "", "post": "", "organisation": ""})
    assert speaker.status_code == 200
    problems["讲话人缺姓名"] = english_texts(speaker.content.decode())
    bad_file = ContentFile(b"not a spreadsheet", name="shanghu.xlsx")
    merchants = client.post("/admin/merchants/import/", {"file": bad_file})
    assert merchants.status_code == 200
    problems["商户导入坏文件"] = english_texts(merchants.content.decode())
    docx = client.post("/admin/speeches/docx-import/", {"files": ContentFile(b"not a docx", name="jianghua.docx"),
                                                        "parent": speech.get_parent().pk})
    assert docx.status_code in (200, 400)
    problems["Word 导入坏文件"] = english_texts(docx.content.decode())
    problems = {url: found for url, found in problems.items() if found}
    assert not problems, report(problems)


def test_moderator_screens_of_a_submitted_page(client, admin_content, editor, moderator):
    """The moderator's dashboard, the workflow actions (批准并发布) and their dialog are Chinese."""
    from wagtail.models import Workflow

    speech = admin_content["speech"]
    speech.save_revision(user=editor)
    state = Workflow.objects.get(name="审核发布").start(speech, editor)
    task_state = state.current_task_state
    client.force_login(moderator)
    edit = client.get(f"/admin/pages/{speech.pk}/edit/").content.decode()
    assert "批准并发布" in edit and "附意见批准并发布" in edit
    dashboard = client.get("/admin/").content.decode()
    assert speech.title in dashboard
    modal = client.get(f"/admin/pages/workflow/action/{speech.pk}/approve/{task_state.pk}/")
    assert modal.status_code == 200
    problems = {"/admin/ (待审核)": english_texts(dashboard), "编辑页（待审核）": english_texts(edit),
                "批准对话框": english_texts(html_of(modal))}
    problems = {url: found for url, found in problems.items() if found}
    assert not problems, report(problems)


def test_workflow_emails_are_chinese_with_the_base_url(client, admin_content, editor, moderator, settings):
    """Submitting as 编辑 mails the 审核 group, approving mails the editor: subjects and bodies in Chinese."""
    from wagtail.models import Site

    from home.demo import point_site_at_base_url

    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
    point_site_at_base_url(Site.objects.get(is_default_site=True))  # as load_demo does
    speech = admin_content["speech"]
    client.force_login(editor)
    data = speech_form_data(speech, title="修改后的讲话标题", **{"action-submit": "提交审核"})
    assert client.post(f"/admin/pages/{speech.pk}/edit/", data).status_code == 302
    to_moderator = [m for m in mail.outbox if moderator.email in m.to]
    assert to_moderator, [m.subject for m in mail.outbox]
    client.force_login(moderator)
    speech.refresh_from_db()
    task_state = speech.current_workflow_task_state
    approve = client.post(f"/admin/pages/workflow/action/{speech.pk}/approve/{task_state.pk}/", {"comment": ""})
    assert approve.status_code in (200, 302)
    to_editor = [m for m in mail.outbox if editor.email in m.to]
    assert to_editor, [m.subject for m in mail.outbox]
    for message in mail.outbox:
        texts = [message.subject, message.body] + [body for body, kind in getattr(message, "alternatives", [])]
        english = [english_in(line) for text in texts for line in text.splitlines() if english_in(line)]
        assert not english, (message.subject, message.body, english)
        assert "修改后的讲话标题" in message.subject
    assert "http://127.0.0.1:8000/admin/pages/" in to_moderator[0].body
    assert f"http://127.0.0.1:8000{speech.url}" in to_editor[-1].body  # the live page, on the site's port


def test_every_package_string_is_translated_and_compiled():
    """scripts/missing_translations.py finds nothing left; the compiled .mo files match the .po files."""
    import importlib.util

    from django.conf import settings

    def load(name):
        spec = importlib.util.spec_from_file_location(name, settings.BASE_DIR / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    missing = load("missing_translations")
    for domain in missing.DOMAINS:
        left = missing.missing_entries(domain)
        assert not left, [entry.msgid for _, entry in left]
        assert missing.missing_entries(domain, use_project=False), "the packages now translate everything?"
    assert load("compile_translations").main(check=True) == 0, "locale/*.mo 缺失或过期：运行 make install"


def test_loader_fixes_still_find_their_text():
    from django.template.loaders.app_directories import get_app_template_dirs

    from core.adminzh.loaders import FIXES

    for name, fixes in FIXES.items():
        source = next(d / name for d in get_app_template_dirs("templates") if (d / name).exists()).read_text()
        for old, _new in fixes:
            assert old in source, f"{name} 不再包含 {old!r}：检查 core/adminzh/loaders.py"


@pytest.mark.parametrize("text, english", [
    ("Insert a block", "Insert a block"), ("Autosave is paused", "Autosave is paused"), ("Password", "Password"),
    ("There are no 搜索词 to display. Why not add one?", "There are no"), ("26 Pages created", "Pages created"),
    ("登录Wagtail", None), ("导出 Excel", None), ("支持 CSV、xlsx", None), ("user@example.org", None),
    ("/admin/pages/3/", None), ("张编辑", None), ("bianji", None), ("Wagtail 8.0 编辑指南", None),
])
def test_english_detector(text, english):
    assert english_in(text) == english


def test_login_and_password_reset_screens_are_chinese(client, db):
    login = client.get("/admin/login/").content.decode()
    assert "登录管理后台" in login and "Wagtail" not in BeautifulSoup(login, "html.parser").title.text
    problems = {"/admin/login/": english_texts(login)}
    failed = client.post("/admin/login/", {"username": "nobody", "password": "wrong-password"})
    problems["/admin/login/ (密码错误)"] = english_texts(failed.content.decode())
    problems["/admin/password_reset/"] = english_texts(client.get("/admin/password_reset/").content.decode())
    problems = {url: found for url, found in problems.items() if found}
    assert not problems, report(problems)
