"""The bounded import preview: counts, rejected rows first, PER_PAGE rows a page from the stored check result;
files over SYNC_ROWS rows are checked by the real worker (core/tests/worker.py) and previewed when ready."""

import re
import stat
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.models import BackgroundJob, JobStatus
from core.tests.worker import run_worker
from merchants import preview
from merchants.jobs import check_import, upload_dir
from merchants.models import Merchant

from .helpers import csv_bytes, xlsx_bytes
from .test_import_job import IMPORT_URL, make_editor, many_rows, upload_and_preview

ROW = re.compile(r'<tr class="import-(\w+)">\s*<td>(\d+)</td>')


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def editor(task_queue, django_user_model):
    return make_editor(django_user_model, "editor")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def table_rows(html):
    """(action, Excel row number) of each row of the preview table."""
    return [(action, int(number)) for action, number in ROW.findall(html)]


def preview_url(html):
    return re.search(r'href="(/admin/merchants/import/preview/[0-9a-f]{32}/)\?page=\d+"', html)[1]


def with_bad_rows(count, bad):
    rows = many_rows(count)
    for n in bad:  # data row n is on line n + 1 of the file
        rows[n - 1][1] = "不存在的类别"
    return rows


def test_a_small_file_is_previewed_in_the_request_in_pages(editor_client):
    started = time.perf_counter()
    response = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("商户.csv", csv_bytes(many_rows(250)))})
    html = response.content.decode()
    assert response.status_code == 200 and BackgroundJob.objects.count() == 0  # no job for a small file
    print(f"250 行预览请求：{time.perf_counter() - started:.2f} 秒")
    assert "共 250 行，新建 250 家，更新 0 家，无变化 0 家，拒绝 0 行" in html and "确认导入" in html
    assert "<td>250 家</td><td>0 家</td><td>0 家</td><td>0 行</td>" in html  # 新建/更新/无变化/拒绝
    assert table_rows(html) == [("create", n) for n in range(2, 102)]  # 100 rows, Excel row numbers
    assert "第 1 / 3 页" in html and 'rel="prev"' not in html
    url = preview_url(html)
    [stored] = preview.check_dir().iterdir()  # the compact check result, private
    assert stored.name.endswith(".json.gz") and stat.S_IMODE(stored.stat().st_mode) == 0o600
    # paging reads the stored result, not the file: it works with the upload gone
    [upload] = upload_dir().iterdir()
    data = upload.read_bytes()
    upload.unlink()
    page3 = editor_client.get(url, {"page": 3}).content.decode()
    assert table_rows(page3) == [("create", n) for n in range(202, 252)] and "第 3 / 3 页" in page3
    assert 'rel="next"' not in page3 and "确认导入" not in page3 and "上传的文件已不存在" in page3
    upload.write_bytes(data)
    for bad in ("abc", "0", "-1", "99999999999999999999"):  # a bad page number: first or last page, never a 500
        response = editor_client.get(url, {"page": bad})
        assert response.status_code == 200 and len(table_rows(response.content.decode())) in (100, 50)
    # confirming uses up the preview
    token = url.split("/")[-2]
    response = editor_client.post(IMPORT_URL, {"token": token, "filename": "商户.csv", "rows": "250"})
    assert response.status_code == 302 and list(preview.check_dir().iterdir()) == []
    assert "导入已过期" in editor_client.get(url, follow=True).content.decode()
    run_worker()
    assert Merchant.objects.count() == 250


def test_rejected_rows_come_first_with_their_excel_row_and_reason(editor_client):
    rows = with_bad_rows(150, bad=[140, 7])
    rows[19][0] = ""  # data row 20, Excel row 21: no name
    html = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("坏.xlsx", xlsx_bytes(rows))}).content.decode()
    assert "新建 147 家" in html and "拒绝 3 行" in html and "确认导入" not in html and "未导入任何数据" in html
    found = table_rows(html)
    assert found[:3] == [("reject", 8), ("reject", 21), ("reject", 141)]
    assert found[3:] == [("create", n) for n in range(2, 152) if n not in (8, 21, 141)][:97]
    assert "类别“不存在的类别”不存在" in html and "缺少商户名称" in html
    assert list(upload_dir().iterdir()) == []  # a refused file is not kept, only its check result
    page2 = editor_client.get(preview_url(html), {"page": 2}).content.decode()
    assert "拒绝 3 行" in page2 and len(table_rows(page2)) == 50


def test_a_large_file_is_checked_by_the_worker_then_previewed(editor_client, django_user_model):
    count = preview.SYNC_ROWS + 500
    started = time.perf_counter()
    response = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("大表.csv", csv_bytes(many_rows(count)))})
    seconds = time.perf_counter() - started
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{IMPORT_URL}{job.pk}/"
    assert job.kind == check_import.kind and job.status == JobStatus.PENDING and job.progress_total == count + 1
    print(f"{count} 行上传（交给后台检查）：{seconds:.2f} 秒")
    page = editor_client.get(response["Location"]).content.decode()
    assert "正在后台检查表格" in page and 'http-equiv="refresh"' in page and "检查进度" in page
    # a colleague sees neither the job nor a preview
    client = Client()
    client.force_login(make_editor(django_user_model, "colleague"))
    assert client.get(response["Location"]).status_code == 404

    assert run_worker() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == count
    assert (job.progress_done, job.progress_total) == (count, count)
    ready = editor_client.get(response["Location"])
    assert ready.status_code == 302 and "/preview/" in ready["Location"]
    html = editor_client.get(ready["Location"]).content.decode()
    assert f"共 {count} 行，新建 {count} 家" in html and "确认导入" in html
    assert len(table_rows(html)) == preview.PER_PAGE and f"第 1 / {-(-count // preview.PER_PAGE)} 页" in html
    assert "导入已过期" in client.get(ready["Location"], follow=True).content.decode()
    # the upload stayed for the confirmation
    token = ready["Location"].split("/")[-2]
    editor_client.post(IMPORT_URL, {"token": token, "filename": "大表.csv", "rows": str(count)})
    job2 = BackgroundJob.objects.latest("pk")
    assert job2.kind != check_import.kind
    run_worker()
    assert Merchant.objects.count() == count


def test_a_large_file_with_rejected_rows(editor_client):
    count = preview.SYNC_ROWS + 100
    html = upload_and_preview(editor_client, csv_bytes(with_bad_rows(count, bad=[2050, 3])), "大表.csv")
    assert "拒绝 2 行" in html and "确认导入" not in html
    assert table_rows(html)[:3] == [("reject", 4), ("reject", 2051), ("create", 2)]
    assert list(upload_dir().iterdir()) == []  # not confirmable, so not kept
    assert Merchant.objects.count() == 0


def test_a_check_whose_file_vanished_fails_in_chinese(editor_client):
    response = editor_client.post(IMPORT_URL, {
        "file": SimpleUploadedFile("大表.csv", csv_bytes(many_rows(preview.SYNC_ROWS + 10)))})
    for path in upload_dir().iterdir():
        path.unlink()
    assert run_worker() == 1
    job = BackgroundJob.objects.get()
    assert job.status == JobStatus.FAILED and job.attempts == 1  # not retried
    assert job.error == "表格文件已不存在（可能已被清理），请重新上传。"
    page = editor_client.get(response["Location"]).content.decode()
    assert "检查失败" in page and "表格文件已不存在" in page and 'http-equiv="refresh"' not in page


def test_twenty_thousand_rows_preview_is_bounded(editor_client):
    """The upload request of 20,000 rows only counts them; each preview page holds PER_PAGE rows."""
    data = xlsx_bytes(many_rows(20000))
    started = time.perf_counter()
    response = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("两万.xlsx", data)})
    upload_seconds = time.perf_counter() - started
    assert response.status_code == 302
    run_worker()
    ready = editor_client.get(response["Location"])
    started = time.perf_counter()
    page = editor_client.get(ready["Location"], {"page": 150})
    page_seconds = time.perf_counter() - started
    html = page.content.decode()
    assert "共 20000 行，新建 20000 家" in html and "第 150 / 200 页" in html
    assert table_rows(html) == [("create", n) for n in range(14902, 15002)]
    assert len(page.content) < 100_000
    print(f"20000 行 xlsx：上传请求 {upload_seconds:.2f} 秒，预览第 150 页 {page_seconds:.3f} 秒，"
          f"{len(page.content) // 1024} KB")
