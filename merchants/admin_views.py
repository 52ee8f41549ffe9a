"""Admin views: spreadsheet import (upload → preview → confirm starts a background job → progress page),
template download and export.

The preview is bounded (merchants/preview.py): a file of up to SYNC_ROWS rows is checked in the request, a larger
one by the check job (progress page, then the preview); the check result is stored, and the preview pages show
the counts and PER_PAGE rows at a time (rejected rows first) without reading the file again."""

import re
import time
import uuid
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.log_actions import log

from core import staging
from core.models import BackgroundJob, JobStatus
from merchants import preview
from merchants.importing import MAX_ROWS, ImportFileError, count_rows, export_rows, write_csv, write_xlsx
from merchants.jobs import check_import, files_in_use, import_merchants, upload_dir
from merchants.models import Merchant

MAX_UPLOAD = 10 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_URL_NAME = "wagtailsnippets_merchants_merchant:list"


def remove_stale_uploads(max_age=24 * 3600):
    """Previews that were never confirmed leave their file behind; drop those older than a day (but not the
    files of imports still waiting for the worker)."""
    in_use = files_in_use()
    cutoff = time.time() - max_age
    for path in upload_dir().glob("*-*.*"):
        try:
            if path.name not in in_use and path.lstat().st_mtime < cutoff:
                staging.remove(path)
        except OSError:
            continue
    preview.remove_stale()


def require_import_permission(user):
    if not (user.has_perm("merchants.add_merchant") and user.has_perm("merchants.change_merchant")):
        raise PermissionDenied


class UploadForm(forms.Form):
    file = forms.FileField(
        label="商户表格", help_text="支持 .xlsx 和 .csv（UTF-8 或 GBK 编码），最大 10 MB",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("文件超过 10 MB，请拆分后导入")
        if Path(upload.name).suffix.lower() not in {".xlsx", ".csv"}:
            raise forms.ValidationError("只支持 .xlsx 或 .csv 文件")
        return upload


class ImportMixin(WagtailAdminTemplateMixin):
    page_title = "导入特惠商户"
    header_icon = "upload"
    crumb = "导入"

    def get_breadcrumbs_items(self):
        items = [{"url": reverse(LIST_URL_NAME), "label": "特惠商户"}]
        if self.crumb != "导入":
            items.append({"url": reverse("merchants_import"), "label": "导入"})
        return self.breadcrumbs_items + items + [{"url": "", "label": self.crumb}]


def expired(request):
    messages.error(request, "导入已过期或文件不存在，请重新上传。")
    return redirect("merchants_import")


def stored_path(user, token, filename):
    suffix = ".xlsx" if Path(filename).suffix.lower() == ".xlsx" else ".csv"
    return upload_dir() / f"{user.pk}-{token}{suffix}"


class ImportView(ImportMixin, View):
    template_name = "merchants/admin/import.html"

    def dispatch(self, request, *args, **kwargs):
        require_import_permission(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render_to_response(self.get_context_data(form=UploadForm()))

    def post(self, request):
        if "token" in request.POST:
            return self.confirm(request)
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["file"]
        filename = Path(upload.name).name
        data = upload.read()
        try:
            rows = count_rows(data, filename)  # refuses oversized files and zip bombs before any row is checked
            result = preview.check_upload(data, filename) if rows <= preview.SYNC_ROWS + 1 else None
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.render_to_response(self.get_context_data(form=form))
        token = uuid.uuid4().hex
        remove_stale_uploads()
        if result is None:  # large: the worker checks it, the progress page leads to the preview
            path = staging.write(stored_path(request.user, token, filename), data)
            job_record = check_import.start(
                user=request.user, key=f"merchants-check:{request.user.pk}:{token}", total=rows,
                label=f"检查特惠商户表格：{filename}", params={"file": path.name, "filename": filename})
            messages.info(request, f"表格共约 {rows} 行，正在后台检查。本页会自动刷新，检查完成后显示预览。")
            return redirect("merchants_import_job", pk=job_record.pk)
        preview.save(preview.check_path(request.user.pk, token), result)
        if not result["counts"]["reject"]:
            staging.write(stored_path(request.user, token, filename), data)
        return PreviewView.as_view()(request, token=token)

    def confirm(self, request):
        """Start the import job for the staged file (once per preview) and show its progress."""
        token = request.POST.get("token", "")
        filename = Path(request.POST.get("filename", "")).name or "merchants.csv"
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            return expired(request)
        key = f"merchants-import:{request.user.pk}:{token}"
        started = BackgroundJob.objects.filter(key=key, created_by=request.user).first()
        if started is not None:  # confirmed twice
            return redirect("merchants_import_job", pk=started.pk)
        path = stored_path(request.user, token, filename)
        if not path.exists():
            return expired(request)
        rows = request.POST.get("rows", "")
        rows = min(int(rows), MAX_ROWS) if rows.isdigit() else None  # shown until the job has counted them
        job_record = import_merchants.start(
            user=request.user, key=key, label=f"导入特惠商户：{filename}", total=rows,
            params={"file": path.name, "filename": filename})
        log(job_record, "merchants.import_started", user=request.user, title=f"导入特惠商户：{filename}",
            data={"file": filename, "rows": rows, "job": job_record.pk})
        staging.remove(preview.check_path(request.user.pk, token))  # the preview is used up
        messages.success(request, "已开始导入，后台正在处理。本页会自动刷新，显示进度和结果。")
        return redirect("merchants_import_job", pk=job_record.pk)


class PreviewView(ImportMixin, TemplateView):
    """One page of a stored check result (the user's own only): counts, then PER_PAGE rows, rejected first."""

    template_name = "merchants/admin/import.html"
    crumb = "预览"

    def dispatch(self, request, token):
        require_import_permission(request.user)
        path = preview.check_path(request.user.pk, token)
        self.result = preview.load(path) if path is not None else None
        if self.result is None:
            return expired(request)
        self.token = token
        return super().dispatch(request, token)

    def post(self, request, token):  # the upload's response is the first page
        return self.get(request, token)

    def get_context_data(self, **kwargs):
        result = self.result
        number, pages, lines = preview.page_of(result, self.request.GET.get("page"))
        url = reverse("merchants_import_preview", args=[self.token])
        filename = result["filename"]
        rejected = result["counts"]["reject"]
        return super().get_context_data(
            result=result, summary=preview.summary(result), counts=result["counts"], lines=lines,
            page=number, pages=pages, per_page=preview.PER_PAGE, token=self.token, filename=filename,
            ok=not rejected, rejected=rejected,
            can_confirm=not rejected and stored_path(self.request.user, self.token, filename).exists(),
            first_row=(number - 1) * preview.PER_PAGE + 1, last_row=(number - 1) * preview.PER_PAGE + len(lines),
            prev_url=f"{url}?page={number - 1}" if number > 1 else "",
            next_url=f"{url}?page={number + 1}" if number < pages else "", **kwargs)


class ImportJobView(ImportMixin, TemplateView):
    """Progress and result of one import or check job: for the user who started it and superusers (others: 404).
    A finished check leads to its preview."""

    template_name = "merchants/admin/import_job.html"
    crumb = "导入进度"

    def dispatch(self, request, pk):
        require_import_permission(request.user)
        job_record = BackgroundJob.objects.filter(pk=pk, kind__in=(import_merchants.kind, check_import.kind)).first()
        if job_record is None or not (request.user.is_superuser or job_record.created_by_id == request.user.pk):
            raise Http404("没有这个导入任务")
        self.job = job_record
        self.checking = job_record.kind == check_import.kind
        if self.checking:
            self.crumb = "检查进度"
            token = (job_record.result or {}).get("token", "")
            if job_record.status == JobStatus.SUCCEEDED and job_record.created_by_id == request.user.pk and token:
                return redirect("merchants_import_preview", token=token)
        return super().dispatch(request, pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(job=self.job, refresh=not self.job.finished, checking=self.checking,
                                        list_url=reverse(LIST_URL_NAME), **kwargs)


def _download(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    ascii_name = "merchants" + Path(filename).suffix
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response


def template_download(request, fmt):
    require_import_permission(request.user)
    if fmt == "csv":
        return _download(write_csv([]), "特惠商户导入模板.csv", "text/csv; charset=utf-8")
    return _download(write_xlsx([]), "特惠商户导入模板.xlsx", XLSX_TYPE)


def export(request, fmt):
    if not request.user.has_perm("merchants.view_merchant"):
        raise PermissionDenied
    rows = export_rows(Merchant.objects.all())
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "csv":
        return _download(write_csv(rows), f"特惠商户-{stamp}.csv", "text/csv; charset=utf-8")
    return _download(write_xlsx(rows), f"特惠商户-{stamp}.xlsx", XLSX_TYPE)
