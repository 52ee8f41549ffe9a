"""Admin views: spreadsheet import (upload → preview → confirm), template download and export."""

import re
import uuid
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core import staging
from merchants.importing import ImportFileError, export_rows, plan_import, write_csv, write_xlsx
from merchants.models import Merchant

MAX_UPLOAD = 10 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_dir():
    """Outside MEDIA_ROOT, mode 0700, files 0600 (core.staging)."""
    return staging.directory("merchants")


def remove_stale_uploads(max_age=24 * 3600):
    """Previews that were never confirmed leave their file behind; drop those older than a day."""
    staging.remove_stale(upload_dir(), max_age, "*-*.*")


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
            {"url": reverse("wagtailsnippets_merchants_merchant:list"), "label": "特惠商户"},
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
        token = request.POST.get("token", "")
        filename = Path(request.POST.get("filename", "")).name or "merchants.csv"
        path = self.stored_path(request, token, filename) if re.fullmatch(r"[0-9a-f]{32}", token) else None
        if path is None or not path.exists():
            messages.error(request, "导入已过期或文件不存在，请重新上传。")
            return redirect("merchants_import")
        try:
            plan = plan_import(path.read_bytes(), filename)
            plan.apply()
        except ImportFileError as exc:
            messages.error(request, f"{exc} 请重新上传并核对预览。")
            return redirect("merchants_import")
        finally:
            path.unlink(missing_ok=True)
        messages.success(request, "导入完成：" + plan.summary())
        return redirect("wagtailsnippets_merchants_merchant:list")


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
