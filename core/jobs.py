"""Background jobs on django-tasks: idempotent, retried a bounded number of times, visible in the admin.

    @job(label="导出报名数据")
    def export_enrolments(job): ...            # gets the BackgroundJob; may call job_progress()
    export_enrolments.start(user=request.user, params={...}, key=None)

``start`` stores a ``BackgroundJob`` and enqueues ``run_job(job_id)`` (in the same transaction, so a
rolled-back request enqueues nothing). The worker claims the job only while it is pending or waiting for a
retry, so a job that already succeeded is never run twice. An exception is recorded on the job and the job is
enqueued again after JOB_RETRY_DELAY × 2^(attempt-1) seconds, up to ``max_attempts`` (JOB_MAX_ATTEMPTS = 3);
then it is failed, with its error shown under 后台任务 in the admin. Raise ``PermanentJobError`` (no retry) or
``RetryableJobError`` with a Chinese message for staff; any other exception is shown with its class name.

Other tasks (Wagtail's search and reference indexing, the dictionary re-index) are plain django-tasks: when one
fails, ``task_failed`` records it as a BackgroundJob and enqueues it again, with the same bounds.
"""

import datetime
import logging
import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus, task

from core.models import BackgroundJob, JobStatus

logger = logging.getLogger(__name__)
ERROR_LIMIT = 4000
ID_LIKE = re.compile(r"(?<!\d)(\d{6})\d{8,11}([\dXx])(?!\d)")
MOBILE_LIKE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def scrub(text):
    """Errors are shown to staff: never a full ID number or mobile number in them."""
    text = ID_LIKE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return MOBILE_LIKE.sub(lambda m: m.group(1) + "****" + m.group(2), text)[:ERROR_LIMIT]


def describe(exc):
    """The error as staff see it (scrubbed): the message alone for PermanentJobError and RetryableJobError
    (written for staff, in Chinese), else with the exception's class name, which developers need."""
    if isinstance(exc, (PermanentJobError, RetryableJobError)):
        return scrub(str(exc))
    return scrub(f"{type(exc).__name__}: {exc}")


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (the message is for staff, in Chinese): no retry."""


class RetryableJobError(Exception):
    """A failure another attempt may fix (the message is for staff, in Chinese): retried like any error."""


def retry_delay(attempt):
    return settings.JOB_RETRY_DELAY * 2 ** max(0, attempt - 1)


def _enqueue_later(task_obj, delay, *args, **kwargs):
    backend = task_obj.get_backend()
    if delay and backend.supports_defer:
        task_obj = task_obj.using(run_after=timezone.now() + datetime.timedelta(seconds=delay))
    return task_obj.enqueue(*args, **kwargs)


class JobFunction:
    """A function run by the worker for a BackgroundJob; created by @job."""

    def __init__(self, func, label, max_attempts=None):
        self.func = func
        self.label = label
        self.max_attempts = max_attempts
        self.kind = f"{func.__module__}.{func.__qualname__}"
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__

    def __call__(self, job):
        return self.func(job)

    def start(self, *, user=None, params=None, key=None, label=None, total=None, **fields):
        """Create the job (or return the one with this key) and enqueue it."""
        values = dict(kind=self.kind, label=(label or self.label)[:200], params=params or {},
                      created_by=user if user is not None and user.is_authenticated else None,
                      max_attempts=self.max_attempts or settings.JOB_MAX_ATTEMPTS, progress_total=total, **fields)
        with transaction.atomic():
            if key:
                job, created = BackgroundJob.objects.get_or_create(key=key, defaults=values)
                if not created:
                    return job
            else:
                job = BackgroundJob.objects.create(**values)
            result = run_job.enqueue(job.pk)
            BackgroundJob.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id))
        job.refresh_from_db()
        return job


def job(label, max_attempts=None):
    def decorate(func):
        return JobFunction(func, label, max_attempts)
    return decorate


def job_progress(job, done, total=None):
    """Record progress (a single UPDATE; cheap enough every few thousand rows)."""
    job.progress_done = done
    fields = {"progress_done": done, "updated_at": timezone.now()}
    if total is not None:
        job.progress_total = total
        fields["progress_total"] = total
    BackgroundJob.objects.filter(pk=job.pk).update(**fields)


def _claim(job_id):
    now = timezone.now()
    claimed = BackgroundJob.objects.filter(
        pk=job_id, status__in=(JobStatus.PENDING, JobStatus.RETRYING)
    ).update(status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, updated_at=now)
    return BackgroundJob.objects.filter(pk=job_id).first() if claimed else None


@task()
def run_job(job_id):
    job_record = _claim(job_id)
    if job_record is None:
        logger.info("job %s skipped: already done or running", job_id)
        return "skipped"
    try:
        function = import_string(job_record.kind)
        if not isinstance(function, JobFunction):
            raise TypeError(f"{job_record.kind} 不是后台任务")
        result = function(job_record)
    except Exception as exc:
        error = describe(exc)
        now = timezone.now()
        if job_record.attempts < job_record.max_attempts and not isinstance(exc, PermanentJobError):
            logger.warning("job %s (%s) attempt %s failed, retrying: %s", job_id, job_record.kind,
                           job_record.attempts, error)
            BackgroundJob.objects.filter(pk=job_id).update(status=JobStatus.RETRYING, error=error, updated_at=now)
            retry = _enqueue_later(run_job, retry_delay(job_record.attempts), job_id)
            BackgroundJob.objects.filter(pk=job_id).update(task_id=str(retry.id))
            return "retrying"
        logger.error("job %s (%s) failed after %s attempts: %s", job_id, job_record.kind, job_record.attempts, error)
        BackgroundJob.objects.filter(pk=job_id).update(status=JobStatus.FAILED, error=error, finished_at=now,
                                                       updated_at=now)
        raise
    now = timezone.now()
    BackgroundJob.objects.filter(pk=job_id).update(status=JobStatus.SUCCEEDED, error="", finished_at=now,
                                                   updated_at=now, result=result if isinstance(result, dict) else {})
    return "done"


# Plain tasks (Wagtail's, the search library's): failures recorded and retried -----------------------------------

RUN_JOB_PATH = f"{run_job.func.__module__}.{run_job.func.__qualname__}"


def task_finished(sender, task_result, **kwargs):
    """Receiver of django_tasks' task_finished: a failed plain task is recorded and enqueued again (bounded)."""
    try:
        path = task_result.task.module_path
        if path == RUN_JOB_PATH:
            return
        record = BackgroundJob.objects.filter(kind=path, task_id=str(task_result.id)).first()
        now = timezone.now()
        if task_result.status == TaskResultStatus.SUCCESSFUL:
            if record is not None:
                BackgroundJob.objects.filter(pk=record.pk).update(
                    status=JobStatus.SUCCEEDED, attempts=F("attempts") + 1, finished_at=now, updated_at=now)
            return
        if task_result.status != TaskResultStatus.FAILED:
            return
        error = task_result.errors[-1].traceback.strip().splitlines()[-1] if task_result.errors else "未知错误"
        error = scrub(error)
        if record is None:
            record = BackgroundJob.objects.create(
                kind=path, label=f"系统任务：{task_result.task.name}", status=JobStatus.RUNNING,
                params={"args": task_result.args, "kwargs": task_result.kwargs},
                max_attempts=settings.JOB_MAX_ATTEMPTS, task_id=str(task_result.id), started_at=now)
        record.attempts += 1
        record.error = error
        if record.attempts < record.max_attempts:
            record.status = JobStatus.RETRYING
            record.save(update_fields=["attempts", "error", "status", "updated_at"])
            retry = _enqueue_later(task_result.task, retry_delay(record.attempts),
                                   *task_result.args, **task_result.kwargs)
            BackgroundJob.objects.filter(pk=record.pk).update(task_id=str(retry.id))
        else:
            record.status = JobStatus.FAILED
            record.finished_at = now
            record.save(update_fields=["attempts", "error", "status", "finished_at", "updated_at"])
    except Exception:  # a receiver error must never stop the worker
        logger.exception("recording task %s failed", getattr(task_result, "id", "?"))


# Files produced by jobs --------------------------------------------------------------------------------------------

def files_dir():
    path = Path(settings.JOB_FILES_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@contextmanager
def open_job_file(job_record, suffix):
    """A new private file (mode 0600) for this job: yields (name, binary handle); deleted if writing fails."""
    name = f"{job_record.pk}-{secrets.token_hex(8)}{suffix}"
    path = files_dir() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield name, handle
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def job_file_path(job_record):
    if not job_record.file_name or "/" in job_record.file_name or job_record.file_name.startswith("."):
        return None
    return Path(settings.JOB_FILES_DIR) / job_record.file_name


def attach_file(job_record, name, download_name, permission=""):
    """Point the job at its finished file (replacing a partial one from an earlier attempt)."""
    old = job_file_path(job_record)
    path = Path(settings.JOB_FILES_DIR) / name
    expires = timezone.now() + datetime.timedelta(hours=settings.JOB_FILE_HOURS)
    BackgroundJob.objects.filter(pk=job_record.pk).update(
        file_name=name, file_size=path.stat().st_size, download_name=download_name,
        download_permission=permission, expires_at=expires)
    if old is not None and old.name != name:
        old.unlink(missing_ok=True)
    job_record.file_name, job_record.expires_at = name, expires
    _enqueue_later(cleanup_job_files, settings.JOB_FILE_HOURS * 3600 + 60)


def remove_file(job_record):
    path = job_file_path(job_record)
    if path is not None:
        path.unlink(missing_ok=True)
    BackgroundJob.objects.filter(pk=job_record.pk).update(file_name="", updated_at=timezone.now())
    job_record.file_name = ""


def cleanup_files(now=None):
    """Delete expired job files and files no job points to; returns how many were deleted."""
    now = now or timezone.now()
    removed = 0
    for record in BackgroundJob.objects.exclude(file_name="").filter(expires_at__lte=now):
        remove_file(record)
        removed += 1
    directory = Path(settings.JOB_FILES_DIR)
    if directory.is_dir():
        known = set(BackgroundJob.objects.exclude(file_name="").values_list("file_name", flat=True))
        cutoff = now.timestamp() - 3600  # files of running jobs are newer than that
        for path in directory.iterdir():
            if path.is_file() and path.name not in known and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


@task()
def cleanup_job_files():
    return cleanup_files()
