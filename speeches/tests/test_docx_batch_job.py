"""A confirmed Word batch is imported by the task worker (the real db_worker): progress page, drafts created once,
failures named with their reason, staging removed at the end, the progress page for its owner only."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import BackgroundJob, JobStatus
from core.roles import EDITORS
from core.tests.worker import run_worker
from speeches.importers.word.batch import import_key, import_word_batch
from speeches.models import SpeechPage
from speeches.tests.samples import build_docx

FIRST = ["在全市工会工作会议上的讲话", "市总工会主席 张三", "二〇二四年三月五日", "同志们：",
         "今天我们召开全市工会工作会议,总结去年工作，部署今年任务。",
         "去年全市工会大力推进会员服务卡发放，会员服务卡覆盖率明显提高，职工医疗互助参保人数增长。"]
SECOND = ["在全区职工书屋建设推进会上的讲话", "同志们：", "今年要在全区新建职工书屋二十家，让一线职工就近读书学习。",
          "各基层工会要配齐管理员，延长开放时间，职工书屋要成为职工的精神家园。"]


@pytest.fixture
def staging_dir(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCX_IMPORT_STAGING_DIR = tmp_path / "staging"
    return tmp_path / "staging"


@pytest.fixture
def editor(task_queue):
    user = get_user_model().objects.create_user("docx-job-editor", password="pw-editor-123")
    user.groups.add(Group.objects.get(name=EDITORS))
    return user


def preview(client, parent, files):
    html = client.post(reverse("speeches_docx_import"), {"parent": parent.pk, "files": [
        SimpleUploadedFile(name, data) for name, data in files]}).content.decode()
    return re.search(r'name="token" value="([0-9a-f]{32})"', html)[1]


def confirm(client, parent, token, indexes, **extra):
    data = {"token": token, "parent": parent.pk, **{f"import_{i}": "1" for i in indexes}, **extra}
    response = client.post(reverse("speeches_docx_import_confirm"), data)
    assert response.status_code == 302
    return response


def test_confirm_queues_the_batch_and_the_worker_creates_the_drafts(client, editor, speech_index, staging_dir):
    client.force_login(editor)
    token = preview(client, speech_index, [("讲话.docx", build_docx(FIRST)), ("书屋.docx", build_docx(SECOND)),
                                           ("旧稿.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)])
    response = confirm(client, speech_index, token, [0, 1, 2], cleanup_0="1", topics_0=["会员服务卡"],
                       source_note_1="区总工会供稿")
    job = BackgroundJob.objects.get()
    assert response["Location"] == reverse("speeches_docx_import_job", args=[job.pk])
    assert SpeechPage.objects.count() == 0 and (staging_dir / token).is_dir()  # nothing done in the request

    waiting = client.get(response["Location"]).content.decode()
    assert "已处理 0 / 2 个文件" in waiting and 'http-equiv="refresh"' in waiting and "正在后台创建草稿" in waiting

    assert run_worker() >= 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.progress_done == job.progress_total == 2
    pages = list(SpeechPage.objects.order_by("pk"))
    assert [p.title for p in pages] == ["在全市工会工作会议上的讲话", "在全区职工书屋建设推进会上的讲话"]
    assert all(not p.live for p in pages) and list(pages[0].topics.names()) == ["会员服务卡"]
    assert "全市工会工作会议，总结" in pages[0].body[1].value.source  # clean-up chosen
    assert pages[1].source_note == "区总工会供稿"
    assert pages[0].get_latest_revision().user == editor
    assert not (staging_dir / token).exists()

    done = client.get(response["Location"]).content.decode()
    assert "已处理 2 / 2 个文件" in done and 'http-equiv="refresh"' not in done
    assert "已创建 2 篇讲话稿草稿（未发布）" in done
    for page in pages:
        assert reverse("wagtailadmin_pages:edit", args=[page.pk]) in done
    assert reverse("wagtailadmin_explore", args=[speech_index.pk]) in done

    # confirming the same preview again starts nothing: its files are gone
    again = confirm(client, speech_index, token, [0])
    assert again["Location"] == reverse("speeches_docx_import")
    assert BackgroundJob.objects.count() == 1 and SpeechPage.objects.count() == 2


def test_only_the_starter_or_a_superuser_sees_the_progress(client, editor, speech_index, staging_dir):
    client.force_login(editor)
    token = preview(client, speech_index, [("讲话.docx", build_docx(FIRST))])
    url = confirm(client, speech_index, token, [0])["Location"]
    other = get_user_model().objects.create_user("other-editor", password="pw-other-123")
    other.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.get(reverse("speeches_docx_import_job", args=[999999])).status_code == 404
    admin = get_user_model().objects.create_superuser("docx-job-admin", "a@example.org", "pw-admin-123")
    client.force_login(admin)
    assert client.get(url).status_code == 200
    # another kind of job is not shown here, even to its owner
    from core.models import BackgroundJob as Job

    export = Job.objects.create(kind="campaigns.exports.export_enrolments", label="导出", created_by=admin)
    assert client.get(reverse("speeches_docx_import_job", args=[export.pk])).status_code == 404


def test_a_file_failing_in_the_job_is_named_with_its_reason(client, editor, speech_index, staging_dir):
    client.force_login(editor)
    token = preview(client, speech_index, [("讲话.docx", build_docx(FIRST)), ("书屋.docx", build_docx(SECOND))])
    (staging_dir / token / "001.docx").write_bytes(b"PK\x03\x04 not a zip any more")  # damaged after the preview
    url = confirm(client, speech_index, token, [0, 1])["Location"]
    run_worker()
    job = BackgroundJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert [p.title for p in SpeechPage.objects.all()] == ["在全市工会工作会议上的讲话"]
    assert job.result["failed"] == [{"name": "书屋.docx", "error": "文件已损坏，无法作为 Word 文档（.docx）打开"}]
    page = client.get(url).content.decode()
    assert "1 个文件未导入" in page and "书屋.docx：文件已损坏" in page and "已创建 1 篇讲话稿草稿" in page
    jobs = client.get(reverse("core_job", args=[job.pk])).content.decode()
    assert "书屋.docx（文件已损坏" in jobs  # and under 后台任务
    assert not (staging_dir / token).exists()


def test_a_retried_job_creates_each_draft_once(client, editor, speech_index, staging_dir):
    client.force_login(editor)
    token = preview(client, speech_index, [("讲话.docx", build_docx(FIRST)), ("书屋.docx", build_docx(SECOND))])
    confirm(client, speech_index, token, [0, 1])
    job = BackgroundJob.objects.get()
    # an earlier attempt created the first draft before it failed
    early = SpeechPage(title="在全市工会工作会议上的讲话", slug="early", live=False, import_key=import_key(job, 0))
    speech_index.add_child(instance=early)
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == 2
    assert SpeechPage.objects.count() == 2
    assert SpeechPage.objects.filter(import_key=import_key(job, 0)).get().pk == early.pk
    # a second start with the same preview's key returns the same job
    same = import_word_batch.start(user=editor, params=job.params, key=f"docx-import:{token}")
    assert same.pk == job.pk and BackgroundJob.objects.count() == 1


def test_files_gone_before_the_job_ran_fail_it_in_chinese(client, editor, speech_index, staging_dir):
    import shutil

    client.force_login(editor)
    token = preview(client, speech_index, [("讲话.docx", build_docx(FIRST))])
    url = confirm(client, speech_index, token, [0])["Location"]
    shutil.rmtree(staging_dir / token)
    run_worker()
    job = BackgroundJob.objects.get()
    assert job.status == JobStatus.FAILED and job.attempts == 1  # no retry can bring the files back
    assert job.error == "上传的文件已过期或已被清理，未导入的文件请重新上传"
    page = client.get(url).content.decode()
    assert "导入失败：上传的文件已过期或已被清理" in page and SpeechPage.objects.count() == 0
