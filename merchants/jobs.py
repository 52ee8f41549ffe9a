"""The confirmed spreadsheet import, run by the task worker in batches (core.jobs).

The staged upload (core.staging, outside MEDIA_ROOT) stays until the job ends. The file is parsed once and every
row checked (any rejected row: nothing is written), its rows kept in a private RowSpool; then every batch of
BATCH rows is written in its own transaction together with a checkpoint on the job, so a retry goes on after
the last committed batch with the same counts. Rows are matched by name + address when written (and unique in
the database), so a repeated batch creates nothing twice.

A file of more than preview.SYNC_ROWS rows is checked for its preview by ``check_import`` (the result is
stored in the staging area, merchants/preview.py) before it can be confirmed."""

import os
import pickle
import re
import tempfile
import time
from pathlib import Path

from django.db import DatabaseError, transaction
from wagtail.log_actions import log

from core import staging
from core.jobs import PermanentJobError, RetryableJobError, job, job_progress
from core.models import BackgroundJob, JobStatus
from merchants import preview
from merchants.importing import ImportFileError, categories_by_name, check_table, iter_table, summary_text, write_rows

BATCH = 500
MAX_ERROR_LINES = 20
STAGED_NAME = re.compile(r"(\d+)-([0-9a-f]{32})\.(csv|xlsx)")
ACTIONS = ("create", "update", "unchanged")
UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RETRYING)


def upload_dir():
    """Outside MEDIA_ROOT, mode 0700, files 0600 (core.staging)."""
    return staging.directory("merchants")


def staged_path(name):
    return upload_dir() / name if STAGED_NAME.fullmatch(name or "") else None


def files_in_use():
    """Staged files that unfinished import and check jobs still need."""
    jobs = BackgroundJob.objects.filter(kind__in=(import_merchants.kind, check_import.kind), status__in=UNFINISHED)
    return {params.get("file") for params in jobs.values_list("params", flat=True)}


class ImportWriteError(RetryableJobError):
    """A batch could not be written; the job is retried (the message is for staff)."""


def batched(rows, size):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class RowSpool:
    """The file's rows of cells, kept in a private temporary file (0600, in the staging directory) while the job
    runs: the file is parsed once (openpyxl is the slow part) and the writing pass reads the copy back."""

    def __init__(self, directory):
        fd, name = tempfile.mkstemp(prefix="spool-", suffix=".rows", dir=directory)
        self.path = Path(name)
        self.handle = os.fdopen(fd, "w+b")

    def record(self, rows):
        for row in rows:
            pickle.dump(row, self.handle, protocol=pickle.HIGHEST_PROTOCOL)  # cells: str, numbers, dates, None
            yield row

    def replay(self):
        self.handle.flush()
        self.handle.seek(0)
        while True:
            try:
                yield pickle.load(self.handle)  # noqa: S301 - written by this job, in a 0700 directory
            except EOFError:
                return

    def close(self):
        self.handle.close()
        self.path.unlink(missing_ok=True)


def _checked_total(rows, categories, written):
    """Count the rows; refuse the file (PermanentJobError) when it cannot be read or any row is rejected."""
    kept = "未导入任何数据" if not written else f"此前已写入的 {written} 行保留，其余未导入"
    total, errors, lines = 0, 0, []
    try:
        for row in check_table(rows, categories):
            total += 1
            if row.errors:
                errors += 1
                if len(lines) < MAX_ERROR_LINES:
                    lines.append(row.error_line)
    except ImportFileError as exc:
        raise PermanentJobError(f"{exc}。{kept}。") from exc
    if errors:
        more = f"\n……另有 {errors - len(lines)} 行有错误" if errors > len(lines) else ""
        raise PermanentJobError(f"有 {errors} 行有错误（预览之后数据有变化，如类别被删除），{kept}，"
                                f"请重新上传并预览：\n" + "\n".join(lines) + more)
    return total


def _run(job_record, path, filename):
    if path is None or not path.is_file():
        raise PermanentJobError("导入文件已不存在（可能已被清理），未导入任何数据。请重新上传表格，预览后再确认导入。")
    started = time.perf_counter()
    data = path.read_bytes()  # at most MAX_FILE_BYTES; the rows are streamed from it
    checkpoint = (job_record.result or {}).get("checkpoint") or {}
    skip = checkpoint.get("rows", 0)
    counts = {action: checkpoint.get(action, 0) for action in ACTIONS}
    categories = categories_by_name()
    spool = RowSpool(path.parent)
    try:
        total = _checked_total(spool.record(iter_table(data, filename)), categories, skip)
        del data
        job_progress(job_record, skip, total)
        counts = _write_batches(job_record, check_table(spool.replay(), categories), skip, counts)
    finally:
        spool.close()
    seconds = time.perf_counter() - started
    result = {
        "summary": summary_text(filename, total, counts["create"], counts["update"], counts["unchanged"], 0),
        "rows": total, "created": counts["create"], "updated": counts["update"], "unchanged": counts["unchanged"],
        "rejected": 0, "seconds": round(seconds, 2),
        "rows_per_second": round((total - skip) / seconds) if seconds else 0,
    }
    log(job_record, "merchants.import", user=job_record.created_by, title=f"导入特惠商户：{filename}",
        data={"file": filename, **{key: result[key] for key in ("rows", "created", "updated", "unchanged")}})
    return result


def _write_batches(job_record, rows, skip, counts):
    """Write the checked rows BATCH at a time, each batch with its checkpoint; the first ``skip`` rows were
    committed by an earlier attempt. Returns the counts per action."""
    done = 0
    for batch in batched(rows, BATCH):
        if done + len(batch) <= skip:  # committed by an earlier attempt
            done += len(batch)
            continue
        if skip > done:  # a partly committed batch (only if BATCH changed between attempts)
            batch, done = batch[skip - done:], skip
        try:
            with transaction.atomic():
                written = write_rows(batch)
                new_counts = {action: counts[action] + written[action] for action in ACTIONS}
                BackgroundJob.objects.filter(pk=job_record.pk).update(
                    result={"checkpoint": {"rows": done + len(batch), **new_counts}})
                job_progress(job_record, done + len(batch))
        except DatabaseError as exc:
            then = ("系统会自动重试" if job_record.attempts < job_record.max_attempts
                    else f"已尝试 {job_record.attempts} 次，不再重试；请排除故障后重新上传导入")
            raise ImportWriteError(
                f"第 {batch[0].row_number}–{batch[-1].row_number} 行写入数据库时出错（{exc}）。"
                f"已写入 {done} 行；{then}，已写入的行不会重复。") from exc
        counts = new_counts
        done += len(batch)
    return counts


@job(label="导入特惠商户")
def import_merchants(job_record):
    params = job_record.params
    path = staged_path(params.get("file", ""))
    finished = False
    try:
        result = _run(job_record, path, params.get("filename") or "merchants.csv")
        finished = True
        return result
    except PermanentJobError:
        finished = True
        raise
    except Exception:
        finished = job_record.attempts >= job_record.max_attempts  # no retry follows
        raise
    finally:
        if finished and path is not None:
            Path(path).unlink(missing_ok=True)


def _check(job_record, path, filename):
    if path is None or not path.is_file():
        raise PermanentJobError("表格文件已不存在（可能已被清理），请重新上传。")
    user_id, token = STAGED_NAME.fullmatch(path.name).group(1, 2)
    started = time.perf_counter()
    try:
        result = preview.check_upload(path.read_bytes(), filename, progress=lambda done: job_progress(job_record, done))
    except ImportFileError as exc:
        raise PermanentJobError(f"{exc}。未导入任何数据。") from exc
    except DatabaseError as exc:
        then = "系统会自动重试" if job_record.attempts < job_record.max_attempts else "请稍后重新上传"
        raise RetryableJobError(f"读取现有商户时数据库出错（{exc}），{then}。") from exc
    preview.save(preview.check_path(user_id, token), result)
    job_progress(job_record, result["rows"], result["rows"])
    counts = result["counts"]
    return {"summary": preview.summary(result), "token": token, "rows": result["rows"],
            "created": counts["create"], "updated": counts["update"], "unchanged": counts["unchanged"],
            "rejected": counts["reject"], "seconds": round(time.perf_counter() - started, 2)}


@job(label="检查特惠商户表格")
def check_import(job_record):
    """Check a large staged file for its preview (nothing is written). The upload stays for the confirmation,
    or for a retry; it is removed when a row is rejected or the file cannot be read."""
    path = staged_path(job_record.params.get("file", ""))
    keep = False
    try:
        result = _check(job_record, path, job_record.params.get("filename") or "merchants.csv")
        keep = not result["rejected"]
        return result
    except PermanentJobError:
        raise
    except Exception:
        keep = job_record.attempts < job_record.max_attempts  # a retry follows
        raise
    finally:
        if not keep and path is not None:
            Path(path).unlink(missing_ok=True)
