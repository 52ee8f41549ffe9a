"""The confirmed import runs as a background job in the real worker (core/tests/worker.py): progress page, retries
without duplicates, failures shown in Chinese, access for the starter only, 20,000 rows."""

import re
import time

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import ModelLogEntry

from core.models import BackgroundJob, JobStatus
from core.tests.worker import run_worker
from merchants import admin_views
from merchants.jobs import BATCH
from merchants.models import Category, Merchant

from .helpers import GOOD_ROWS, csv_bytes, xlsx_bytes

IMPORT_URL = "/admin/merchants/import/"
LIST_URL = "/admin/snippets/merchants/merchant/"


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def make_editor(django_user_model, username):
    user = django_user_model.objects.create_user(username, password="pass-word-123")
    user.groups.add(Group.objects.get(name="编辑"))
    return user


@pytest.fixture
def editor(task_queue, django_user_model):
    return make_editor(django_user_model, "editor")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def many_rows(count, discount="持卡9折"):
    categories = ["购物", "餐饮", "医疗", "出行", "文体", "教育培训", "生活服务"]
    return [[f"测试商户{n}号店", categories[n % 7], "渝中区", f"民生路{n}号", "023-63861234", "09:00-21:00",
             discount, "2024-01-01", "", "是"] for n in range(1, count + 1)]


def upload_and_preview(client, data, filename):
    """The preview's first page: from the upload itself, or (a large file) from the check job once the worker
    has run it."""
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile(filename, data)})
    if response.status_code == 302:
        assert re.fullmatch(rf"{IMPORT_URL}\d+/", response["Location"]), response["Location"]
        run_worker()
        response = client.get(response["Location"])
        assert response.status_code == 302 and "/preview/" in response["Location"]
        response = client.get(response["Location"])
    assert response.status_code == 200
    return response.content.decode()


def preview_and_confirm(client, data, filename):
    preview = upload_and_preview(client, data, filename)
    assert "确认导入" in preview, preview[:2000]
    token = re.search(r'name="token" value="([0-9a-f]{32})"', preview)[1]
    rows = re.search(r'name="rows" value="(\d+)"', preview)[1]
    response = client.post(IMPORT_URL, {"token": token, "filename": filename, "rows": rows})
    job = BackgroundJob.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"{IMPORT_URL}{job.pk}/"
    return job, token, preview


def staged_files():
    return sorted(p.name for p in admin_views.upload_dir().iterdir())


def test_the_worker_imports_the_file_and_the_page_shows_the_result(editor_client, editor):
    job, token, preview = preview_and_confirm(editor_client, xlsx_bytes(GOOD_ROWS), "商户.xlsx")
    assert "共 3 行，新建 3 家" in preview
    assert Merchant.objects.count() == 0 and job.status == JobStatus.PENDING  # not in the request
    assert staged_files() == [f"{editor.pk}-{token}.xlsx"]  # kept until the job ends
    page = editor_client.get(f"{IMPORT_URL}{job.pk}/").content.decode()
    assert "已处理 0 / 共 3 行" in page and 'http-equiv="refresh"' in page and "已排队" in page
    # confirming twice (a double click) gives the same job
    again = editor_client.post(IMPORT_URL, {"token": token, "filename": "商户.xlsx"})
    assert again["Location"] == f"{IMPORT_URL}{job.pk}/" and BackgroundJob.objects.count() == 1

    assert run_worker() >= 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert {key: job.result[key] for key in ("rows", "created", "updated", "unchanged", "rejected")} == {
        "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert Merchant.objects.count() == 3 and staged_files() == []
    page = editor_client.get(f"{IMPORT_URL}{job.pk}/").content.decode()
    assert "导入完成：商户.xlsx：共 3 行，新建 3 家，更新 0 家，无变化 0 家，拒绝 0 行" in page
    assert "已处理 3 / 共 3 行" in page and 'http-equiv="refresh"' not in page
    assert f'href="{LIST_URL}"' in page and "查看商户列表" in page
    assert "导入特惠商户：商户.xlsx" in editor_client.get("/admin/jobs/").content.decode()  # 后台任务
    # audit: who confirmed, and what the import did
    started, done = ModelLogEntry.objects.filter(object_id=str(job.pk)).order_by("pk")
    assert (started.action, started.user_id, started.data["file"]) == ("merchants.import_started", editor.pk,
                                                                       "商户.xlsx")
    assert (done.action, done.user_id, done.data["created"], done.data["rows"]) == ("merchants.import", editor.pk,
                                                                                    3, 3)
    assert done.label == "导入特惠商户：商户.xlsx" and done.message == "导入特惠商户表格完成"

    # importing the same file again updates nothing and creates nothing
    job2, _, preview = preview_and_confirm(editor_client, xlsx_bytes(GOOD_ROWS), "商户.xlsx")
    assert "无变化 3 家" in preview
    run_worker()
    job2.refresh_from_db()
    assert job2.result["unchanged"] == 3 and Merchant.objects.count() == 3


def add_fault(name):
    """A real database error on inserting the merchant called ``name`` (a trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"CREATE TRIGGER merchant_fault BEFORE INSERT ON merchants_merchant "
                           f"WHEN NEW.name = '{name}' BEGIN SELECT RAISE(ABORT, 'disk I/O fault'); END")
        else:
            cursor.execute("CREATE FUNCTION merchant_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                           f"IF NEW.name = '{name}' THEN RAISE EXCEPTION 'disk I/O fault'; END IF; "
                           "RETURN NEW; END $$")
            cursor.execute("CREATE TRIGGER merchant_fault BEFORE INSERT ON merchants_merchant "
                           "FOR EACH ROW EXECUTE FUNCTION merchant_fault()")


def remove_fault():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER merchant_fault")
        else:
            cursor.execute("DROP TRIGGER merchant_fault ON merchants_merchant")
            cursor.execute("DROP FUNCTION merchant_fault()")


def test_a_retry_after_a_partial_failure_creates_nothing_twice(editor_client, settings):
    settings.JOB_RETRY_DELAY = 30  # the retry waits, so the test can look at the failed attempt
    count = 2 * BATCH + 200
    job, _, preview = preview_and_confirm(editor_client, csv_bytes(many_rows(count)), "商户.csv")
    assert f"共 {count} 行，新建 {count} 家" in preview
    add_fault(f"测试商户{BATCH + 100}号店")  # in the second batch
    try:
        assert run_worker() == 1
    finally:
        remove_fault()
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING and job.attempts == 1
    assert Merchant.objects.count() == BATCH and job.progress_done == BATCH  # the first batch is committed
    assert job.error.startswith(f"第 {BATCH + 2}–{2 * BATCH + 1} 行写入数据库时出错")  # no class name
    assert "disk I/O fault" in job.error
    page = editor_client.get(f"{IMPORT_URL}{job.pk}/").content.decode()
    assert "ImportWriteError" not in page
    assert "系统会自动重试" in page and "写入数据库时出错" in page and f"已处理 {BATCH} / 共 {count} 行" in page
    assert 'http-equiv="refresh"' in page
    assert len(staged_files()) == 1  # still there for the retry

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    assert run_worker() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2 and job.error == ""
    assert Merchant.objects.count() == count
    assert Merchant.objects.values("name", "address").distinct().count() == count
    assert (job.result["created"], job.result["unchanged"], job.progress_done) == (count, 0, count)
    assert staged_files() == []

    # a stray second run of the finished job changes nothing
    from core.jobs import run_job

    run_job.enqueue(job.pk)
    run_worker()
    job.refresh_from_db()
    assert job.attempts == 2 and Merchant.objects.count() == count


def test_a_second_run_without_its_checkpoint_converges(editor_client):
    """Even when an attempt's checkpoint is lost, rows are matched by name + address: nothing is duplicated."""
    count = BATCH + 10
    job, _, _ = preview_and_confirm(editor_client, csv_bytes(many_rows(count)), "商户.csv")
    add_fault(f"测试商户{BATCH + 5}号店")
    try:
        run_worker()  # three attempts, all failing in the second batch
    finally:
        remove_fault()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 3 and "写入数据库时出错" in job.error
    assert "已尝试 3 次，不再重试" in job.error
    assert Merchant.objects.count() == BATCH
    page = editor_client.get(f"{IMPORT_URL}{job.pk}/").content.decode()
    assert "导入失败（已尝试 3 次）" in page and 'http-equiv="refresh"' not in page
    assert staged_files() == []  # the job has ended

    job2, _, preview = preview_and_confirm(editor_client, csv_bytes(many_rows(count)), "商户.csv")
    assert f"新建 10 家，更新 0 家，无变化 {BATCH} 家" in preview
    run_worker()
    job2.refresh_from_db()
    assert job2.status == JobStatus.SUCCEEDED and Merchant.objects.count() == count
    assert (job2.result["created"], job2.result["unchanged"]) == (10, BATCH)


def test_a_vanished_file_fails_with_a_chinese_message(editor_client):
    job, token, _ = preview_and_confirm(editor_client, xlsx_bytes(GOOD_ROWS), "商户.xlsx")
    for path in admin_views.upload_dir().iterdir():
        path.unlink()
    assert run_worker() == 1  # not retried: another attempt cannot bring the file back
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert job.error.startswith("导入文件已不存在") and Merchant.objects.count() == 0
    page = editor_client.get(f"{IMPORT_URL}{job.pk}/").content.decode()
    assert "导入失败" in page and "导入文件已不存在" in page and "请重新上传" in page
    assert "导入文件已不存在" in editor_client.get("/admin/jobs/").content.decode()


def test_rows_that_became_invalid_after_the_preview_change_nothing(editor_client):
    rows = [*GOOD_ROWS, ["学而思培训", "教育培训", "渝北区", "新南路2号", "", "", "学费9折", "", "", ""]]
    job, _, preview = preview_and_confirm(editor_client, csv_bytes(rows), "商户.csv")
    assert "新建 4 家" in preview
    Category.objects.filter(name="教育培训").delete()
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 1 and Merchant.objects.count() == 0
    assert "有 1 行有错误" in job.error and "未导入任何数据" in job.error
    assert "第 5 行（学而思培训）：类别“教育培训”不存在" in job.error


def test_a_bad_file_is_refused_at_preview_and_starts_nothing(editor_client):
    rows = [*GOOD_ROWS, ["", "餐饮", "", "", "", "", "9折", "", "", ""]]
    preview = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("坏.csv", csv_bytes(rows))}).content.decode()
    assert "缺少商户名称" in preview and "未导入任何数据" in preview and "确认导入" not in preview
    assert BackgroundJob.objects.count() == 0 and Merchant.objects.count() == 0 and staged_files() == []


def test_only_the_starter_and_superusers_see_the_progress(editor_client, editor, client, django_user_model):
    job, _, _ = preview_and_confirm(editor_client, xlsx_bytes(GOOD_ROWS), "商户.xlsx")
    url = f"{IMPORT_URL}{job.pk}/"
    assert editor_client.get(url).status_code == 200
    client.force_login(make_editor(django_user_model, "colleague"))
    assert client.get(url).status_code == 404
    assert client.get(f"{IMPORT_URL}{job.pk + 1000}/").status_code == 404
    token = job.params["file"].split("-")[1].split(".")[0]  # the colleague cannot confirm the editor's upload
    response = client.post(IMPORT_URL, {"token": token, "filename": "商户.xlsx"}, follow=True)
    assert "导入已过期" in response.content.decode() and BackgroundJob.objects.count() == 1
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-123456789"))
    assert client.get(url).status_code == 200
    from django.contrib.auth.models import Permission

    reader = django_user_model.objects.create_user("reader", password="pass-word-123")
    reader.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(reader)
    assert client.get(url).status_code in (302, 403)  # no import permission, as for the import itself
    run_worker()
    assert Merchant.objects.count() == 3


def test_twenty_thousand_rows_through_the_worker(editor_client):
    count = 20000
    data = csv_bytes(many_rows(count))
    job, _, _ = preview_and_confirm(editor_client, data, "两万商户.csv")
    assert job.progress_total == count
    started = time.perf_counter()
    assert run_worker() >= 1
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Merchant.objects.count() == count and (job.progress_done, job.progress_total) == (count, count)
    assert job.result["created"] == count and job.result["rows_per_second"] > 0
    page = editor_client.get(f"{IMPORT_URL}{job.pk}/").content.decode()
    assert f"已处理 {count} / 共 {count} 行" in page and f"新建 {count} 家" in page
    print(f"20000 行导入任务：{seconds:.1f} 秒，约 {job.result['rows_per_second']} 行/秒")
