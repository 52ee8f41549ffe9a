"""A confirmed Word batch becomes drafts in the task worker (core.jobs), one file at a time.

The files stay in the staging area (core.staging) until the job ends. Each draft carries the import key
``docx:<job>:<file>``, so an attempt after a failure creates only the drafts still missing. A file that cannot be
imported is reported with its name and reason and the others are still created.
"""

import json
import logging
import re

from django.conf import settings

from core import staging
from core.jobs import PermanentJobError, job, job_progress
from speeches.importers.word.errors import DocxImportError

logger = logging.getLogger(__name__)

TOKEN = re.compile(r"^[0-9a-f]{32}$")
STAGING_MAX_AGE = 24 * 3600
UNREADABLE = "文档内容无法识别（可能已损坏），未导入；请在 Word 或 WPS 中打开后另存为 .docx 再试"


def staging_root():
    """Outside MEDIA_ROOT, mode 0700 (core.staging); DOCX_IMPORT_STAGING_DIR overrides the place."""
    return staging.directory("docx", getattr(settings, "DOCX_IMPORT_STAGING_DIR", None))


def stage(user, uploads):
    """Keep a batch's files for its confirmation; returns the token that names them."""
    import uuid

    root = staging_root()
    staging.remove_stale(root, STAGING_MAX_AGE)
    token = uuid.uuid4().hex
    folder = staging.make_dir(root, token)
    manifest = {"user": user.pk, "files": []}
    for index, upload in enumerate(uploads):
        if upload.data is not None and not upload.error:
            staging.write(folder / f"{index:03d}.docx", upload.data)
        manifest["files"].append({"name": upload.name, "error": upload.error, "folder": upload.folder})
    staging.write(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
    return token


def unstage(user_id, token):
    """The staged uploads of this user's batch, or None (unknown, expired or someone else's)."""
    from speeches.importers.word.importer import Upload

    if not TOKEN.match(token or ""):
        return None
    folder = staging_root() / token
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("user") != user_id:
        return None
    uploads = []
    for index, entry in enumerate(manifest["files"]):
        path = folder / f"{index:03d}.docx"
        uploads.append(Upload(entry["name"], path.read_bytes() if path.exists() else None, entry["error"],
                              entry.get("folder", "")))
    return uploads


def import_key(job_record, index):
    return f"docx:{job_record.pk}:{index}"


def job_drafts(job_record):
    """The drafts a batch job has created so far, in file order."""
    from speeches.models import SpeechPage

    pages = SpeechPage.objects.filter(import_key__startswith=f"docx:{job_record.pk}:")
    return sorted(pages, key=lambda page: int(page.import_key.rsplit(":", 1)[1]))


def _draft(job_record, parent, upload, choice):
    """Create one file's draft (in one transaction: all of it or nothing); returns the page."""
    from speeches.importers.word.importer import DEFAULT_SOURCE_NOTE, Preview, create_draft
    from speeches.importers.word.parse import parse_docx

    preview = Preview(upload.name, upload.data)
    try:
        preview.parsed = parse_docx(upload.name.rsplit("/", 1)[-1], upload.data)
    except DocxImportError:
        raise
    except Exception as exc:  # a package python-docx opens but whose content it cannot follow
        logger.exception("docx import job %s: cannot parse %s", job_record.pk, upload.name)
        raise DocxImportError(UNREADABLE) from exc
    preview.blocks, preview.cleanup = preview.parsed.cleaned()
    return create_draft(preview, parent, job_record.created_by, topics=choice.get("topics") or None,
                        apply_cleanup=bool(choice.get("cleanup")),
                        source_note=choice.get("source_note", DEFAULT_SOURCE_NOTE),
                        import_key=import_key(job_record, choice["index"]))


@job(label="导入 Word 讲话稿")
def import_word_batch(job_record):
    """params: token (the staged batch), parent (a SpeechIndexPage id), files: [{index, topics, cleanup,
    source_note}]. Returns the summary shown under 后台任务 and on the progress page."""
    from speeches.models import SpeechIndexPage, SpeechPage

    params = job_record.params
    token, choices = params["token"], params["files"]
    folder = staging_root() / token if TOKEN.match(token or "") else None
    last_attempt = job_record.attempts >= job_record.max_attempts
    try:
        parent = SpeechIndexPage.objects.filter(pk=params["parent"]).first()
        if parent is None:
            raise PermanentJobError("要导入到的讲话稿库页面已不存在，未创建任何草稿")
        uploads = unstage(job_record.created_by_id, token) if job_record.created_by_id else None
        existing = {page.import_key for page in job_drafts(job_record)}
        if uploads is None and len(existing) < len(choices):
            raise PermanentJobError("上传的文件已过期或已被清理，未导入的文件请重新上传")
        failed = []
        job_progress(job_record, 0, len(choices))
        for done, choice in enumerate(choices, 1):
            if import_key(job_record, choice["index"]) not in existing:
                upload = uploads[choice["index"]]
                try:
                    _draft(job_record, parent, upload, choice)
                except DocxImportError as exc:
                    failed.append({"name": upload.name, "error": str(exc)})
            job_progress(job_record, done, len(choices))
    except Exception as exc:
        if folder and (last_attempt or isinstance(exc, PermanentJobError)):  # no attempt will need the files
            staging.remove(folder)
        raise
    if folder:
        staging.remove(folder)
    created = SpeechPage.objects.filter(import_key__startswith=f"docx:{job_record.pk}:").count()
    result = {"created": created, "failed": failed,
              "summary": f"已创建 {created} 篇讲话稿草稿（未发布），请逐篇核对后提交审核"}
    if failed:
        result["warning"] = f"{len(failed)} 个文件未导入：" + "；".join(f"{f['name']}（{f['error']}）" for f in failed)
    return result
