"""Headless Chromium through the whole editorial journey, as the union's staff use it: an editor (编辑) writes a
speech in the page editor and submits it to 审核发布, a moderator (审核) approves and publishes it from the
dashboard, visitors see it and find it; Word documents and a zipped folder become drafts through the import page."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from wagtail.models import PageLogEntry

from core.roles import EDITORS, MODERATORS, WORKFLOW_NAME
from speeches.models import SpeechPage
from speeches.tests.samples import build_docx
from speeches.tests.test_docx_browser import initial_data_restored_afterwards  # noqa: F401
from speeches.tests.test_docx_zip_folders import windows_zip

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("initial_data_restored_afterwards")]

TITLE = "关于推进职工书屋建设的讲话"
BODY = "今年全市要新建职工书屋三十家，书屋要常态化开放，让一线职工就近读书学习。"


def staff(username, group, name):
    user = get_user_model().objects.create_user(username, password=f"pw-{username}-2024", first_name=name)
    user.groups.add(Group.objects.get(name=group))
    return user


def log_in(page, base, username):
    """The real login form; the session of whoever was logged in before is dropped."""
    page.context.clear_cookies()
    page.goto(base + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def open_action_menu(page):
    page.locator("footer [data-w-dropdown-target=toggle]").last.click()


def run_queued_tasks():
    """Index updates are tasks: with a queueing backend (TASKS), run what is waiting, as the worker would."""
    from django.core.management import call_command
    from django_tasks import task_backends
    from django_tasks.backends.immediate import ImmediateBackend

    if not isinstance(task_backends["default"], ImmediateBackend):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def test_editor_writes_moderator_publishes_visitors_find(site_on_live_server, speech_index, desktop_page):
    base = site_on_live_server.url
    staff("bianji", EDITORS, "李编辑")
    staff("shenhe", MODERATORS, "王审核")
    page = desktop_page

    # The editor writes the speech in the page editor and submits it to the workflow.
    log_in(page, base, "bianji")
    page.goto(base + f"/admin/pages/{speech_index.pk}/")
    page.get_by_role("link", name="添加子页面").first.click()
    page.wait_for_url("**/add/speeches/speechpage/**")
    page.fill("#id_title", TITLE)
    page.fill("#id_meeting", "全市职工书屋建设推进会")
    page.click("#body-root button.c-sf-add-button")
    page.get_by_role("option", name="段落").click()
    editor = page.locator("#body-root .public-DraftEditor-content").first
    editor.click()
    expect(page.locator("#body-root .Draftail-Editor--focus")).to_have_count(1)  # Draft.js is listening
    page.keyboard.type(BODY)
    expect(page.locator("input[name=body-0-value]")).to_have_value(re.compile(BODY))  # what the form will send
    open_action_menu(page)
    submit = page.locator("button[name=action-submit]")
    assert WORKFLOW_NAME in submit.inner_text()
    with page.expect_navigation():
        submit.click()
    page.wait_for_selector("text=已创建并提交审核")
    speech = SpeechPage.objects.get(title=TITLE)
    assert not speech.live and speech.slug and speech.current_workflow_state.status == "in_progress"
    assert speech.get_latest_revision().user.username == "bianji"
    public_url = base + speech.url  # the slug the admin made from the title
    assert page.context.request.get(public_url).status == 404  # not published yet
    assert TITLE not in page.context.request.get(base + "/search/?q=职工书屋").text()

    # The moderator finds it awaiting review on the dashboard, approves and publishes.
    log_in(page, base, "shenhe")
    awaiting = page.locator("section", has_text="等待你的审查")
    awaiting.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"**/admin/pages/{speech.pk}/edit/")
    open_action_menu(page)
    with page.expect_navigation():
        page.locator("footer").get_by_role("button", name="批准并发布", exact=True).click()
    assert "已被更新" in page.locator(".messages").inner_text()
    speech.refresh_from_db()
    assert speech.live and not speech.has_unpublished_changes
    assert speech.current_workflow_state is None
    published = PageLogEntry.objects.get(page=speech, action="wagtail.publish")
    assert published.user.username == "shenhe"
    run_queued_tasks()

    # Visitors see it and the search finds it.
    page.context.clear_cookies()
    page.goto(public_url)
    assert page.locator("h1").inner_text() == TITLE
    assert BODY in page.locator("main").inner_text()
    for query in ["职工书屋", "常态化开放"]:  # a word of the title, words only in the body
        page.goto(base + f"/search/?q={query}")
        assert TITLE in page.locator("main").inner_text(), query
    page.goto(base + "/speeches/")
    assert TITLE in page.locator("main").inner_text()


OFFICIAL = [
    "在全市工会工作会议上的讲话",
    "（王秀兰  二〇二三年十二月二十八日）",
    "同志们：",
    "这次会议的主要任务是，总结今年全市工会工作，部署明年任务。",
    "一、今年工作回顾",
    "全年为困难职工发放帮扶资金两千万元，职工医疗互助参保人数增长一成。",
    ("table", [["项目", "人数"], ["职工医疗互助", "12000"]]),
    ("image",),
    "二、明年主要任务",
    "明年要扩大工资集体协商覆盖面，办好职工服务中心。",
]
IN_FOLDER = [
    "在全区劳动竞赛总结表彰大会上的讲话",
    "张三（市总工会主席）",
    "2023年11月6日",
    "同志们：",
    "今年全区劳动竞赛覆盖职工八万人，技术革新成果六十项，涌现出一批劳动模范。",
    "明年要把竞赛延伸到新就业形态劳动者，让快递员、外卖骑手也能参赛。",
]


def upload_and_confirm(page, path, expect):
    page.locator("nav.sidebar-main-menu").get_by_role("link", name="导入 Word 讲话稿").click()
    page.wait_for_url("**/admin/speeches/docx-import/**")
    page.set_input_files("input[name=files]", str(path))
    page.click("text=上传并预览")
    page.wait_for_selector("#docx-summary")
    text = page.locator("section.docx-card").first.inner_text()
    for expected in expect:
        assert expected in text, expected
    page.click("text=确认导入为草稿")
    page.wait_for_selector("text=篇讲话稿草稿")


def test_word_document_and_zipped_folder_become_drafts(site_on_live_server, speech_index, desktop_page, tmp_path,
                                                        settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCX_IMPORT_STAGING_DIR = tmp_path / "staging"
    base = site_on_live_server.url
    staff("bianji", EDITORS, "李编辑")
    page = desktop_page
    log_in(page, base, "bianji")

    document = tmp_path / "全市工会工作会议讲话.docx"
    document.write_bytes(build_docx(OFFICIAL))
    upload_and_confirm(page, document, ["在全市工会工作会议上的讲话", "王秀兰", "2023年12月28日", "市级"])
    draft = SpeechPage.objects.get(title="在全市工会工作会议上的讲话")
    assert not draft.live and draft.speaker.name == "王秀兰" and str(draft.date_delivered) == "2023-12-28"
    assert draft.meeting == "全市工会工作会议" and draft.get_latest_revision().user.username == "bianji"
    assert draft.slug == "zai-quanshi-gonghui-gongzuo-huiyi-shang"  # pinyin, as the page editor makes it
    # the draft, with its headings, table and picture, goes through the page editor into the workflow
    page.locator("main").get_by_role("link", name="在全市工会工作会议上的讲话").first.click()
    page.wait_for_url(f"**/admin/pages/{draft.pk}/edit/")
    open_action_menu(page)
    with page.expect_navigation():
        page.locator("button[name=action-submit]").click()
    assert "提交进行审核" in page.locator(".messages").inner_text()
    draft.refresh_from_db()
    assert draft.current_workflow_state.status == "in_progress" and not draft.live

    bundle = tmp_path / "2023年讲话.zip"
    bundle.write_bytes(windows_zip({
        "2023年讲话/": None,
        "2023年讲话/区总/": None,
        "2023年讲话/区总/劳动竞赛讲话.docx": build_docx(IN_FOLDER),
        "2023年讲话/区总/Thumbs.db": b"thumbs",
        "2023年讲话/desktop.ini": b"[.ShellClassInfo]",
    }))
    upload_and_confirm(page, bundle, ["来自文件夹：2023年讲话/区总", "张三", "2023年11月6日"])
    draft = SpeechPage.objects.get(title="在全区劳动竞赛总结表彰大会上的讲话")
    assert not draft.live and (draft.speaker.name, draft.speaker.post, draft.speaker.organisation) == (
        "张三", "主席", "市总工会")
    assert str(draft.date_delivered) == "2023-11-06"
    assert SpeechPage.objects.count() == 2 and not SpeechPage.objects.live().exists()
