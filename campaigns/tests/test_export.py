"""Enrolment exports as background jobs, run by the real worker: progress, file, permissions, expiry, cells."""

import csv
import datetime
import io
import os
import stat
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.exports import EXPORT_COLUMNS
from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import make_campaign, mutual_aid_data, service_card_data
from campaigns.tests.test_admin import staff_user
from core.jobs import cleanup_job_files, job_file_path
from core.models import BackgroundJob, JobStatus
from core.tests.worker import run_worker

HEADINGS = [column.title for column, _ in EXPORT_COLUMNS]
ID_COLUMN, MOBILE_COLUMN = HEADINGS.index("身份证号"), HEADINGS.index("手机号码")


@pytest.fixture
def officer(django_user_model):
    return staff_user(django_user_model, "officer", "campaigns.view_id_number")


@pytest.fixture
def enrolments(task_queue, client, campaign, campaign_index):
    other = make_campaign(campaign_index, slug="card", title="会员服务卡发放")
    ids = [make_id_number(f"420106199003{n + 10:02d}123") for n in range(6)]
    for n, number in enumerate(ids[:4]):
        data = mutual_aid_data(id_number=number, name=f"职工{n}", branch="武船工会" if n % 2 else "武钢工会")
        assert client.post(campaign.url, data, REMOTE_ADDR=f"10.0.0.{n}").status_code == 302
    for n, number in enumerate(ids[4:]):
        assert client.post(other.url, service_card_data(id_number=number, name=f"会员{n}"),
                           REMOTE_ADDR=f"10.0.1.{n}").status_code == 302
    run_worker()  # the notification e-mails
    return Enrolment.objects.order_by("pk")


def expected_rows(queryset):
    rows = []
    for e in queryset.order_by("created_at", "pk"):
        e.campaign_title = e.campaign.title
        rows.append(["" if v is None else str(v) for v in (getter(e) for _, getter in EXPORT_COLUMNS)])
    return rows


def start_export(client, fmt, query=None):
    url = reverse("enrolments:export", args=(fmt,))
    confirm = client.get(url, query or {})
    assert confirm.status_code == 200
    response = client.post(url, {"query": urlencode(query or {}, doseq=True)})
    job = BackgroundJob.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/admin/jobs/{job.pk}/"
    return job, confirm.content.decode()


def download(client, job):
    response = client.get(f"/admin/jobs/{job.pk}/download/")
    assert response.status_code == 200, response.status_code
    assert "attachment" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]
    return b"".join(response.streaming_content)


def test_csv_export_runs_in_the_worker(client, officer, enrolments, campaign):
    client.force_login(officer)
    job, confirm = start_export(client, "csv", {"campaign": campaign.pk})
    assert "共有 <strong>4</strong> 条报名记录" in confirm
    page = client.get(f"/admin/jobs/{job.pk}/").content.decode()
    assert job.status == JobStatus.PENDING and 'http-equiv="refresh"' in page and "0 / 4" in page
    assert client.get(f"/admin/jobs/{job.pk}/download/").status_code == 404  # nothing yet

    assert run_worker() >= 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and (job.progress_done, job.progress_total) == (4, 4)
    assert job.result["rows"] == job.result["expected"] == 4 and "warning" not in job.result
    page = client.get(f"/admin/jobs/{job.pk}/").content.decode()
    assert "共导出 4 行（开始导出时列表中为 4 条）" in page and "下载文件" in page
    assert 'http-equiv="refresh"' not in page

    body = download(client, job)
    assert body.startswith(b"\xef\xbb\xbf") and len(body) == job.file_size
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == HEADINGS and len(rows) == 5
    wanted = expected_rows(Enrolment.objects.filter(campaign=campaign))
    for row in wanted:  # ID numbers and mobiles carry a leading tab: Excel opens them as text
        row[ID_COLUMN], row[MOBILE_COLUMN] = "\t" + row[ID_COLUMN], "\t" + row[MOBILE_COLUMN]
    assert rows[1:] == wanted
    assert rows[1][ID_COLUMN] == "\t" + Enrolment.objects.order_by("pk").first().id_number


def test_file_is_private_and_outside_media(client, officer, enrolments):
    client.force_login(officer)
    job, _ = start_export(client, "xlsx")
    run_worker()
    job.refresh_from_db()
    path = job_file_path(job)
    assert path.is_file() and path.parent == Path(settings.JOB_FILES_DIR)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Path(settings.MEDIA_ROOT).resolve() not in path.resolve().parents
    assert job.expires_at - timezone.now() > datetime.timedelta(hours=23)


def test_xlsx_cells_are_text_escaped_sized_and_frozen(client, officer, enrolments, campaign):
    assert client.post(campaign.url, mutual_aid_data(id_number=make_id_number("11010519900307002"),
                                                     name="=HYPERLINK(\"http://evil\",\"点我\")",
                                                     employer="+1 单位", branch="-2 工会"),
                       REMOTE_ADDR="10.0.9.1").status_code == 302
    Enrolment.objects.filter(name__startswith="=").update(address="@SUM(A1)", review_reason="\t=1+1")
    client.force_login(officer)
    job, _ = start_export(client, "xlsx")
    run_worker()
    job.refresh_from_db()
    sheet = load_workbook(io.BytesIO(download(client, job)))["报名"]
    assert sheet.freeze_panes == "A2" and sheet.max_row == 8
    assert [c.value for c in sheet[1]] == HEADINGS
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)
        for column in (ID_COLUMN, MOBILE_COLUMN):
            assert row[column].data_type == "s" and row[column].number_format == "@"
    values = {c.value for row in sheet.iter_rows(min_row=2) for c in row}
    assert {"'=HYPERLINK(\"http://evil\",\"点我\")", "'+1 单位", "'-2 工会", "'@SUM(A1)", "'\t=1+1"} <= values
    assert make_id_number("11010519900307002") in values
    width = sheet.column_dimensions["B"].width  # 活动: "职工医疗互助活动" is 8 wide characters
    assert 16 <= width <= 20 and sheet.column_dimensions["E"].width >= 18  # ID numbers fit


def test_csv_escapes_formulas(client, officer, campaign, task_queue):
    names = ["=HYPERLINK(\"x\")", "+1", "-1", "@x", "\tx", "\rx"]
    for n in range(len(names)):
        data = mutual_aid_data(id_number=make_id_number(f"420106199003{n + 10:02d}123"), name=f"职工{n}")
        assert client.post(campaign.url, data, REMOTE_ADDR=f"10.0.3.{n}").status_code == 302
    for n, name in enumerate(names):  # the form strips whitespace; stored data may still start with it
        Enrolment.objects.filter(name=f"职工{n}").update(name=name)
    client.force_login(officer)
    job, _ = start_export(client, "csv")
    run_worker()
    job.refresh_from_db()
    rows = list(csv.reader(io.StringIO(download(client, job).decode("utf-8-sig"))))
    names = [row[HEADINGS.index("姓名")] for row in rows[1:]]
    assert names == ["'=HYPERLINK(\"x\")", "'+1", "'-1", "'@x", "'\tx", "'\rx"]


def test_only_the_user_who_started_it_downloads(client, officer, enrolments, django_user_model):
    client.force_login(officer)
    job, _ = start_export(client, "csv")
    run_worker()
    colleague = staff_user(django_user_model, "colleague", "campaigns.view_id_number")
    reviewer = staff_user(django_user_model, "reviewer")
    for user in (colleague, reviewer):
        client.force_login(user)
        assert client.get(f"/admin/jobs/{job.pk}/download/").status_code == 404
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.org", "pw-123456789"))
    assert client.get(f"/admin/jobs/{job.pk}/download/").status_code == 404
    assert "文件仅限发起人下载" in client.get(f"/admin/jobs/{job.pk}/").content.decode()
    # The starter who loses the permission cannot download either.
    officer.user_permissions.remove(officer.user_permissions.get(codename="view_id_number"))
    client.force_login(django_user_model.objects.get(pk=officer.pk))
    assert client.get(f"/admin/jobs/{job.pk}/download/").status_code == 404


def test_export_expires(client, officer, enrolments):
    client.force_login(officer)
    job, _ = start_export(client, "csv")
    run_worker()
    job.refresh_from_db()
    path = job_file_path(job)
    assert path.is_file()
    BackgroundJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(f"/admin/jobs/{job.pk}/download/")
    assert response.status_code == 302 and not path.exists()  # refused, deleted, told to export again
    assert "文件已过期" in client.get(response["Location"]).content.decode()

    job2, _ = start_export(client, "xlsx")
    run_worker()
    job2.refresh_from_db()
    BackgroundJob.objects.filter(pk=job2.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    cleanup_job_files.enqueue()
    run_worker()
    job2.refresh_from_db()
    assert job2.file_name == "" and not job_file_path(job2)
    assert client.get(f"/admin/jobs/{job2.pk}/download/").status_code == 404


def test_export_job_is_idempotent_and_keeps_the_row_count(client, officer, enrolments, campaign):
    client.force_login(officer)
    job, _ = start_export(client, "csv", {"status": "pending"})
    # Enrolments arriving after the export was started are not in it.
    assert client.post(campaign.url, mutual_aid_data(id_number=make_id_number("42010619900301123")),
                       REMOTE_ADDR="10.0.8.1").status_code == 302
    run_worker()
    job.refresh_from_db()
    assert job.result["rows"] == 6 and job.file_size == job_file_path(job).stat().st_size
    first = job_file_path(job).read_bytes()
    from core.jobs import run_job

    run_job.enqueue(job.pk)
    run_worker()
    job.refresh_from_db()
    assert job.attempts == 1 and job_file_path(job).read_bytes() == first
    assert len(list(Path(settings.JOB_FILES_DIR).glob(f"{job.pk}-*"))) == 1


def test_export_is_refused_when_the_permission_is_gone(client, officer, enrolments):
    client.force_login(officer)
    job, _ = start_export(client, "csv")
    officer.user_permissions.remove(officer.user_permissions.get(codename="view_id_number"))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 1 and "权限" in job.error and not job.file_name


def test_row_count_mismatch_is_shown(client, officer, enrolments):
    client.force_login(officer)
    job, _ = start_export(client, "csv", {"status": "pending"})
    Enrolment.objects.filter(pk=enrolments[0].pk).update(status="approved")
    run_worker()
    job.refresh_from_db()
    assert job.result["rows"] == 5 and job.result["expected"] == 6
    assert "不一致" in client.get(f"/admin/jobs/{job.pk}/").content.decode()
