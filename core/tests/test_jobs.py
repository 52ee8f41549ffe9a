"""Background jobs through the real task worker (django-tasks-db's db_worker): retries, idempotency, visibility."""

import datetime

from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.jobs import RUN_JOB_PATH, run_job
from core.models import BackgroundJob, JobStatus
from core.tests import sample_jobs
from core.tests.worker import run_worker


def runs(log):
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def staff(django_user_model, username, superuser=False):
    if superuser:
        return django_user_model.objects.create_superuser(username, f"{username}@example.org", "pw-123456789")
    user = django_user_model.objects.create_user(username, password="pw-123456789")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


def test_job_waits_for_the_worker_and_runs_once(task_queue, tmp_path):
    log = tmp_path / "log"
    job = sample_jobs.counted.start(params={"log": str(log)}, key="counted-1")
    assert job.status == JobStatus.PENDING and runs(log) == 0
    assert DBTaskResult.objects.filter(task_path=RUN_JOB_PATH, status="READY").count() == 1
    assert run_worker() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1 and runs(log) == 1
    assert (job.progress_done, job.progress_total, job.percent) == (5, 5, 100)
    assert job.result == {"summary": "第 1 次运行"} and job.finished_at and job.task_id

    # The same key gives the same job, and a stray second run of a finished job does nothing.
    assert sample_jobs.counted.start(params={"log": str(log)}, key="counted-1").pk == job.pk
    run_job.enqueue(job.pk)
    assert run_worker() == 1
    assert runs(log) == 1 and BackgroundJob.objects.count() == 1
    assert DBTaskResult.objects.order_by("-enqueued_at").first().return_value == "skipped"


def test_failing_twice_then_succeeding(task_queue, tmp_path):
    log = tmp_path / "log"
    job = sample_jobs.flaky.start(params={"log": str(log)})
    assert run_worker() == 3
    job.refresh_from_db()
    assert runs(log) == 3 and job.attempts == 3
    assert job.status == JobStatus.SUCCEEDED and job.error == ""
    assert DBTaskResult.objects.filter(task_path=RUN_JOB_PATH).count() == 3


def test_always_failing_ends_failed_with_its_error_in_the_admin(task_queue, tmp_path, client, django_user_model):
    log = tmp_path / "log"
    user = staff(django_user_model, "officer")
    job = sample_jobs.broken.start(user=user, params={"log": str(log)})
    assert run_worker() == 3
    assert run_worker() == 0  # bounded: nothing left to retry
    job.refresh_from_db()
    assert runs(log) == 3 and job.attempts == 3 == job.max_attempts
    assert job.status == JobStatus.FAILED and job.finished_at
    assert job.error == "ValueError: 接口返回错误：身份证号 420106********4 无效"
    assert DBTaskResult.objects.filter(task_path=RUN_JOB_PATH).order_by("-enqueued_at").first().status == "FAILED"

    client.force_login(user)
    listing = client.get("/admin/jobs/").content.decode()
    assert "总是失败的任务" in listing and "失败" in listing and "接口返回错误" in listing
    assert "420106199003071234" not in listing and "3 / 3" in listing
    detail = client.get(f"/admin/jobs/{job.pk}/").content.decode()
    assert "ValueError: 接口返回错误" in detail and 'http-equiv="refresh"' not in detail
    assert "接口返回错误" in client.get("/admin/jobs/", {"status": "failed"}).content.decode()
    assert "接口返回错误" not in client.get("/admin/jobs/", {"status": "succeeded"}).content.decode()


def test_permanent_error_is_not_retried(task_queue, tmp_path):
    log = tmp_path / "log"
    job = sample_jobs.refused.start(params={"log": str(log)})
    assert run_worker() == 1
    job.refresh_from_db()
    assert runs(log) == 1 and job.status == JobStatus.FAILED and job.error == "记录已不存在，未处理"


def test_a_retryable_error_shows_staff_its_message_alone(task_queue, tmp_path, client, django_user_model,
                                                         settings):
    """RetryableJobError: retried like any error, its message shown without the class name (scrubbed); other
    exceptions keep their class name for developers (test_always_failing_…)."""
    settings.JOB_RETRY_DELAY = 30  # the retry waits, so the failed attempt can be looked at
    log = tmp_path / "log"
    user = staff(django_user_model, "officer")
    job = sample_jobs.gateway_down.start(user=user, params={"log": str(log)})
    assert run_worker() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING and job.attempts == 1
    assert job.error == "短信网关暂时不可用（第 1 次），发给 138****5678 的短信稍后重发"
    client.force_login(user)
    for url in ("/admin/jobs/", f"/admin/jobs/{job.pk}/"):
        page = client.get(url).content.decode()
        assert "短信网关暂时不可用（第 1 次）" in page and "RetryableJobError" not in page
        assert "13812345678" not in page
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    assert run_worker() == 1
    job.refresh_from_db()
    assert runs(log) == 2 and job.status == JobStatus.SUCCEEDED and job.error == ""


def test_retry_waits_with_backoff(task_queue, tmp_path, settings):
    settings.JOB_RETRY_DELAY = 30
    log = tmp_path / "log"
    job = sample_jobs.flaky.start(params={"log": str(log)})
    before = timezone.now()
    assert run_worker() == 1  # the retry is not ready yet
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING and job.attempts == 1 and "短信网关超时" in job.error
    retry = DBTaskResult.objects.get(status="READY")
    assert before + datetime.timedelta(seconds=29) < retry.run_after < before + datetime.timedelta(seconds=40)
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    assert run_worker() == 1
    retry = DBTaskResult.objects.get(status="READY")  # second delay doubles
    assert retry.run_after > timezone.now() + datetime.timedelta(seconds=55)


def test_plain_tasks_are_retried_and_recorded(task_queue, tmp_path):
    log = tmp_path / "flaky"
    sample_jobs.plain_flaky.enqueue(str(log))
    assert run_worker() == 3
    job = BackgroundJob.objects.get(kind="core.tests.sample_jobs.plain_flaky")
    assert runs(log) == 3 and job.status == JobStatus.SUCCEEDED and job.attempts == 3

    log = tmp_path / "broken"
    sample_jobs.plain_broken.enqueue(str(log))
    assert run_worker() == 3
    job = BackgroundJob.objects.get(kind="core.tests.sample_jobs.plain_broken")
    assert runs(log) == 3 and job.status == JobStatus.FAILED and job.attempts == 3
    assert job.error == "RuntimeError: 索引服务拒绝请求" and job.label == "系统任务：plain_broken"


def test_listing_shows_staff_their_own_jobs(task_queue, tmp_path, client, django_user_model):
    mine, other, admin = (staff(django_user_model, "mine"), staff(django_user_model, "other"),
                          staff(django_user_model, "boss", superuser=True))
    job = sample_jobs.counted.start(user=mine, params={"log": str(tmp_path / "a")}, label="我的导出")
    sample_jobs.counted.start(user=other, params={"log": str(tmp_path / "b")}, label="别人的导出")
    client.force_login(mine)
    html = client.get("/admin/jobs/").content.decode()
    assert "我的导出" in html and "别人的导出" not in html
    detail = client.get(f"/admin/jobs/{job.pk}/").content.decode()
    assert 'http-equiv="refresh"' in detail and "排队中" in detail  # reloads itself until the job ends
    client.force_login(other)
    assert client.get(f"/admin/jobs/{job.pk}/").status_code == 404
    client.force_login(admin)
    html = client.get("/admin/jobs/").content.decode()
    assert "我的导出" in html and "别人的导出" in html
    assert "background-jobs" in client.get("/admin/").content.decode()  # the 报告 menu entry


def test_anonymous_visitors_see_no_jobs(client, db):
    assert client.get("/admin/jobs/").status_code == 302
    assert client.get("/admin/jobs/1/download/").status_code == 302


def test_cleanup_command_removes_expired_files(task_queue, settings, tmp_path):
    from core.jobs import files_dir

    job = sample_jobs.counted.start(params={"log": str(tmp_path / "log")})
    run_worker()
    path = files_dir() / f"{job.pk}-abc.csv"
    path.write_text("x")
    BackgroundJob.objects.filter(pk=job.pk).update(file_name=path.name, expires_at=timezone.now()
                                                   - datetime.timedelta(minutes=1))
    call_command("cleanup_jobs", verbosity=0)
    job.refresh_from_db()
    assert not path.exists() and job.file_name == ""
