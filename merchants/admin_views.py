"""Admin views: spreadsheet import (upload → preview → confirm starts a background job → progress page),
template download and export."""

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
from core.models import BackgroundJob
from merchants.importing import MAX_ROWS, ImportFileError, export_rows, plan_import, write_csv, write_xlsx
from merchants.jobs import files_in_use, import_merchants, upload_dir
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


class ImportView(WagtailAdminTemplateMixin, View):
    template_name = "merchants/admin/import.html"
    page_title = "导入特惠商户"
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(LIST_URL_NAME), "label": "特惠商户"},
            {"url": "", "label": "导入"},
        ]

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
        data = upload.read()
        try:
            plan = plan_import(data, upload.name)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.render_to_response(self.get_context_data(form=form))
        token = ""
        if plan.ok:
            token = uuid.uuid4().hex
            remove_stale_uploads()
            staging.write(self.stored_path(request, token, upload.name), data)
        return self.render_to_response(self.get_context_data(plan=plan, token=token, filename=upload.name))

    def stored_path(self, request, token, filename):
        suffix = ".xlsx" if Path(filename).suffix.lower() == ".xlsx" else ".csv"
        return upload_dir() / f"{request.user.pk}-{token}{suffix}"

    def confirm(self, request):
        """Start the import job for the staged file (once per preview) and show its progress."""
        token = request.POST.get("token", "")
        filename = Path(request.POST.get("filename", "")).name or "merchants.csv"
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            messages.error(request, "导入已过期或文件不存在，请重新上传。")
            return redirect("merchants_import")
        key = f"merchants-import:{request.user.pk}:{token}"
        started = BackgroundJob.objects.filter(key=key, created_by=request.user).first()
        if started is not None:  # confirmed twice
            return redirect("merchants_import_job", pk=started.pk)
        path = self.stored_path(request, token, filename)
        if not path.exists():
            messages.error(request, "导入已过期或文件不存在，请重新上传。")
            return redirect("merchants_import")
        rows = request.POST.get("rows", "")
        rows = min(int(rows), MAX_ROWS) if rows.isdigit() else None  # shown until the job has counted them
        job_record = import_merchants.start(
            user=request.user, key=key, label=f"导入特惠商户：{filename}", total=rows,
            params={"file": path.name, "filename": filename})
        log(job_record, "merchants.import_started", user=request.user, title=f"导入特惠商户：{filename}",
            data={"file": filename, "rows": rows, "job": job_record.pk})
        messages.success(request, "已开始导入，后台正在处理。本页会自动刷新，显示进度和结果。")
        return redirect("merchants_import_job", pk=job_record.pk)


class ImportJobView(WagtailAdminTemplateMixin, TemplateView):
    """Progress and result of one import job: for the user who started it and superusers (others: 404)."""

    template_name = "merchants/admin/import_job.html"
    page_title = "导入特惠商户"
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(LIST_URL_NAME), "label": "特惠商户"},
            {"url": reverse("merchants_import"), "label": "导入"},
            {"url": "", "label": "导入进度"},
        ]

    def dispatch(self, request, pk):
        require_import_permission(request.user)
        job_record = BackgroundJob.objects.filter(pk=pk, kind=import_merchants.kind).first()
        if job_record is None or not (request.user.is_superuser or job_record.created_by_id == request.user.pk):
            raise Http404("没有这个导入任务")
        self.job = job_record
        return super().dispatch(request, pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(job=self.job, refresh=not self.job.finished,
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
