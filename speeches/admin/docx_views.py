"""Admin views: Word import (upload -> preview -> confirm) and the typography/duplicate check of a speech."""

import json
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from speeches.importers import typography
from speeches.importers.blocks import block_text
from speeches.importers.duplicates import ArchiveIndex, page_text
from speeches.importers.text_rules import suggest_topics
from speeches.importers.word.batch import import_word_batch, job_drafts, stage, unstage
from speeches.importers.word.importer import DEFAULT_SOURCE_NOTE, Batch, Upload, expand, preview_uploads

MAX_FILES = 100


def _parents(user):
    from speeches.models import SpeechIndexPage

    return [page for page in SpeechIndexPage.objects.all().order_by("path")
            if page.permissions_for_user(user).can_add_subpage()]


def _parent(request, value):
    parents = _parents(request.user)
    for page in parents:
        if str(page.pk) == str(value):
            return page, parents
    if value in (None, "") and len(parents) == 1:
        return parents[0], parents
    return None, parents


@require_http_methods(["GET", "POST"])
def docx_import(request):
    parent, parents = _parent(request, request.POST.get("parent") or request.GET.get("parent"))
    if not parents:
        messages.error(request, "没有可以添加讲话稿的“讲话稿库”页面，或您没有在其中添加页面的权限")
        return redirect("wagtailadmin_home")
    context = {"parents": parents, "parent": parent, "max_mb": _max_mb()}
    if request.method == "GET":
        return render(request, "speeches/admin/docx_upload.html", context)

    files = request.FILES.getlist("files")
    errors = []
    if parent is None:
        errors.append("请选择导入到哪个讲话稿库")
    if not files:
        errors.append("请选择要上传的 Word 文档（.docx）或压缩包（.zip）")
    if len(files) > MAX_FILES:
        errors.append(f"一次最多上传 {MAX_FILES} 个文件")
    if errors:
        return render(request, "speeches/admin/docx_upload.html", {**context, "errors": errors}, status=400)

    uploads, batch = [], Batch()
    for uploaded in files:
        name = Path(uploaded.name or "未命名").name
        if uploaded.size > _max_bytes_for(name):
            uploads.append(Upload(name, error=f"文件过大（{uploaded.size / 1048576:.1f} MB），"
                                              f"不能超过 {_max_bytes_for(name) // 1048576} MB"))
            continue
        refusal = batch.refusal(0 if name.lower().endswith(".zip") else uploaded.size)
        if refusal:
            uploads.append(Upload(name, error=refusal))
            continue
        uploads += expand(name, uploaded.read(), batch)
    previews = preview_uploads(uploads)
    token = stage(request.user, [Upload(p.name, p.data, p.error, p.folder) for p in previews])
    ok = [p for p in previews if p.ok]
    return render(request, "speeches/admin/docx_preview.html", {
        **context, "previews": previews, "token": token, "ok_count": len(ok),
        "failed_count": len(previews) - len(ok),
    })


def _max_mb():
    from speeches.importers.word.reader import max_bytes

    return max_bytes() // 1048576


def _max_bytes_for(name):
    from speeches.importers.word.reader import max_bytes

    return max_bytes() * (5 if name.lower().endswith(".zip") else 1)


@require_POST
def docx_import_confirm(request):
    """Start the batch job for the chosen files (they stay staged until it ends) and show its progress."""
    parent, _parents_list = _parent(request, request.POST.get("parent"))
    token = request.POST.get("token", "")
    uploads = unstage(request.user.pk, token)
    if parent is None or uploads is None:
        messages.error(request, "导入已过期或无效，请重新上传文件")
        return redirect("speeches_docx_import")
    selected = [i for i, upload in enumerate(uploads) if request.POST.get(f"import_{i}") and not upload.error]
    if not selected:
        messages.error(request, "没有选中要导入的文件，未创建任何页面")
        return redirect(reverse("speeches_docx_import") + f"?parent={parent.pk}")
    files = [{
        "index": index,
        "topics": [t.strip()[:100] for t in request.POST.getlist(f"topics_{index}") if t.strip()],
        "cleanup": bool(request.POST.get(f"cleanup_{index}")),
        "source_note": request.POST.get(f"source_note_{index}", DEFAULT_SOURCE_NOTE)[:200],
    } for index in selected]
    job_record = import_word_batch.start(
        user=request.user, params={"token": token, "parent": parent.pk, "files": files}, key=f"docx-import:{token}",
        label=f"导入 Word 讲话稿（{len(files)} 个文件）", total=len(files))
    return redirect("speeches_docx_import_job", job_record.pk)


def docx_import_job(request, job_id):
    """The batch's progress, then its drafts; only for whoever started it (or a superuser)."""
    from core.models import BackgroundJob
    from speeches.models import SpeechIndexPage

    job_record = BackgroundJob.objects.filter(pk=job_id, kind=import_word_batch.kind).first()
    if job_record is None or not (request.user.is_superuser or job_record.created_by_id == request.user.pk):
        raise Http404("没有这个导入任务")
    parent = SpeechIndexPage.objects.filter(pk=job_record.params.get("parent")).first()
    return render(request, "speeches/admin/docx_progress.html", {
        "job": job_record, "drafts": job_drafts(job_record) if job_record.finished else [],
        "failed": (job_record.result or {}).get("failed", []), "parent": parent, "refresh": not job_record.finished,
    })


def _clean_stream(raw):
    new = []
    for block in raw:
        block = json.loads(json.dumps(block))
        kind, value = block["type"], block["value"]
        if kind == "paragraph":
            block["value"] = typography.clean_html(value)
        elif kind == "heading":
            value["text"] = typography.clean(value.get("text", ""))
        elif kind == "quote":
            value["text"] = typography.clean(value.get("text", ""))
            value["attribution"] = typography.clean(value.get("attribution") or "")
        elif kind == "table":
            for column in value.get("columns", []):
                column["heading"] = typography.clean(column.get("heading", ""))
            for row in value.get("rows", []):
                row["values"] = [typography.clean(v) if isinstance(v, str) else v for v in row["values"]]
        new.append(block)
    return new


def _page_cleanup(page):
    """(cleaned field values, list of {where, changes})."""
    report, fields = [], {}
    for name, label in (("title", "标题"), ("meeting", "会议/场合"), ("summary", "摘要")):
        old = getattr(page, name) or ""
        new = typography.clean(old)
        if new != old:
            fields[name] = new
            report.append({"where": label, "changes": typography.changes(old, new)})
    raw = list(page.body.raw_data)
    cleaned = _clean_stream(raw)
    for index, (old, new) in enumerate(zip(raw, cleaned, strict=True), 1):
        before, after = block_text(old["type"], old["value"]), block_text(new["type"], new["value"])
        if old != new:
            report.append({"where": f"正文第{index}块", "changes": typography.changes(before, after)})
    if cleaned != raw:
        fields["body"] = cleaned
    return fields, report


@require_http_methods(["GET", "POST"])
def speech_check(request, page_id):
    from speeches.models import SpeechPage

    page = get_object_or_404(SpeechPage, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    latest = page.get_latest_revision_as_object()
    fields, report = _page_cleanup(latest)
    if request.method == "POST":
        if not fields:
            messages.info(request, "没有需要清理的排版问题，未创建新版本")
        else:
            for name, value in fields.items():
                setattr(latest, name, value)
            latest.save_revision(user=request.user, log_action=True)
            messages.success(request, f"已清理 {len(report)} 处排版问题，保存为新的草稿版本（未发布）")
        return redirect("wagtailadmin_pages:edit", page.pk)
    text = page_text(latest)
    duplicates = ArchiveIndex(exclude_pk=page.pk).find(text)
    current = set(latest.topics.names()) if hasattr(latest.topics, "names") else set()
    topics = [t for t in suggest_topics(text) if t not in current]
    return render(request, "speeches/admin/speech_check.html", {
        "page": page, "report": report, "duplicates": duplicates, "topics": topics,
    })


@require_POST
def speech_add_topics(request, page_id):
    from speeches.models import SpeechPage

    page = get_object_or_404(SpeechPage, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    topics = [t.strip()[:100] for t in request.POST.getlist("topics") if t.strip()]
    if not topics:
        messages.error(request, "没有选中主题，未作修改")
        return redirect("speeches_speech_check", page.pk)
    latest = page.get_latest_revision_as_object()
    latest.topics.add(*topics)
    latest.save_revision(user=request.user, log_action=True)
    messages.success(request, f"已添加主题：{'、'.join(topics)}（保存为新的草稿版本）")
    return redirect("wagtailadmin_pages:edit", page.pk)


