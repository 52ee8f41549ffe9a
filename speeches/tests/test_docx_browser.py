"""Headless Chromium: an editor uploads a Word document, reads the preview, confirms and watches the task worker
create the draft."""

import pytest

from speeches.tests.samples import build_docx

pytestmark = pytest.mark.browser


@pytest.fixture
def initial_data_restored_afterwards(transactional_db):
    """The live-server test ends with a flush of every table; put back what the migrations created
    (home page, site, groups, workflow) so later tests still find it. The flush emits post_migrate."""
    from django.db import connection
    from django.db.models.signals import post_migrate

    snapshot = connection.creation.serialize_db_to_string()

    def restore(**kwargs):
        import json

        from django.contrib.contenttypes.models import ContentType
        from django.core.management import call_command

        post_migrate.disconnect(dispatch_uid="docx-browser-restore")
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True, reset_sequences=False)
        ContentType.objects.clear_cache()
        rows = json.loads(snapshot)
        # content types first: saving other rows may look them up (and would create them otherwise)
        first = [row for row in rows if row["model"] == "contenttypes.contenttype"]
        connection.creation.deserialize_db_from_string(json.dumps(first))
        connection.creation.deserialize_db_from_string(json.dumps([row for row in rows if row not in first]))

    post_migrate.connect(restore, weak=False, dispatch_uid="docx-browser-restore")
    yield


def test_upload_preview_confirm_in_the_admin(initial_data_restored_afterwards, site_on_live_server, speech_index,
                                             desktop_page, tmp_path, settings):
    from django.contrib.auth import get_user_model

    from core.tests.worker import database_tasks, run_worker
    from speeches.models import SpeechPage

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCX_IMPORT_STAGING_DIR = tmp_path / "staging"
    get_user_model().objects.create_superuser("docx-browser", "b@example.org", "pw-browser-123")
    document = tmp_path / "工作会议讲话.docx"
    document.write_bytes(build_docx([
        "在全市工会工作会议上的讲话",
        "市总工会主席 张三",
        "2024年3月5日",
        "同志们：",
        "今天召开全市工会工作会议,总结去年工作，部署今年任务。",
        "一、会员服务卡工作",
        "会员服务卡发放要提速，会员服务卡的优惠项目要增加，职工医疗互助要扩面。",
        ("image",),
        "二、送温暖工作",
        "送温暖资金要及时发放，困难职工帮扶要精准，工资集体协商要扩面提质。",
    ]))

    page = desktop_page
    page.goto(site_on_live_server.url + "/admin/login/")
    page.fill("input[name=username]", "docx-browser")
    page.fill("input[name=password]", "pw-browser-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")

    page.goto(site_on_live_server.url + f"/admin/speeches/docx-import/?parent={speech_index.pk}")
    page.set_input_files("input[name=files]", str(document))
    page.click("text=上传并预览")
    page.wait_for_selector("#docx-summary")
    card = page.locator("section.docx-card").first
    assert "在全市工会工作会议上的讲话" in card.inner_text()
    assert "张三" in card.inner_text() and "2024年3月5日" in card.inner_text()
    assert "排版清理" in card.inner_text()
    assert SpeechPage.objects.count() == 0

    page.click("text=一键采用建议主题")
    checked = page.locator("input[name=topics_0]:checked").count()
    assert checked == page.locator("input[name=topics_0]").count() >= 5
    with database_tasks():
        page.click("text=确认导入为草稿")
        page.wait_for_selector("#docx-job")
        assert "已处理 0 / 1 个文件" in page.inner_text("#docx-job")  # queued, nothing created in the request
        assert SpeechPage.objects.count() == 0
        assert run_worker() >= 1  # the real db_worker
    page.wait_for_selector("text=已创建 1 篇讲话稿草稿", timeout=15000)  # the page refreshes itself
    assert "已处理 1 / 1 个文件" in page.inner_text("#docx-job")

    speech = SpeechPage.objects.get()
    assert page.locator(f"#docx-job a[href='/admin/pages/{speech.pk}/edit/']").count() == 1
    assert not speech.live and speech.title == "在全市工会工作会议上的讲话"
    assert "会员服务卡" in speech.topics.names()
    assert speech.speaker.name == "张三"
