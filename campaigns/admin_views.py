"""Wagtail admin: review enrolments, log each status change, export (full ID numbers need a permission)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.views.generic import View
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList, Panel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from campaigns import crypto
from campaigns.exports import (
    FORMATS,
    SEARCH_FIELDS,
    UNREADABLE_ID,
    UNREADABLE_MESSAGE,
    EnrolmentFilterSet,
    can_see_full_id,
    conflict_note,
    filtered_enrolments,
    readable_id_number,
    start_export,
    with_conflict_counts,
)
from campaigns.models import AuditAction, Enrolment, EnrolmentAuditLog, EnrolmentReview, EnrolmentStatus, Unit


class ExportView(WagtailAdminTemplateMixin, View):
    """GET: how many rows the export will have; POST: queue it and go to its progress page."""

    template_name = "campaigns/admin/export_confirm.html"
    header_icon = "download"

    def dispatch(self, request, fmt):
        if not can_see_full_id(request.user):
            raise PermissionDenied
        if fmt not in FORMATS:
            raise Http404
        self.fmt = fmt
        return super().dispatch(request, fmt)

    def get_page_title(self):
        return f"导出报名数据（{FORMATS[self.fmt]}）"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("enrolments:index"), "label": "报名审核"},
                                         {"url": "", "label": "导出"}]

    def get(self, request, fmt):
        query = request.GET.urlencode()
        return self.render_to_response(self.get_context_data(
            count=filtered_enrolments(request.GET).count(), format_label=FORMATS[fmt], query=query,
            listing_url=reverse("enrolments:index") + (f"?{query}" if query else "")))

    def post(self, request, fmt):
        query = QueryDict(request.POST.get("query", ""))
        first = filtered_enrolments(query).first()
        if first is not None and readable_id_number(first) == UNREADABLE_ID:
            messages.error(request, "导出已取消：" + UNREADABLE_MESSAGE)
            return redirect(reverse("enrolments:index") + (f"?{query.urlencode()}" if query else ""))
        job_record = start_export(request.user, query, fmt)
        unit = Unit.objects.filter(pk=query["unit"]).first() if query.get("unit", "").isdigit() else None
        EnrolmentAuditLog.objects.create(actor=request.user, actor_name=request.user.get_username(),
                                         action=AuditAction.EXPORT, unit=unit,
                                         row_count=filtered_enrolments(query).count(), note=f"导出 {fmt}")
        messages.success(request, "已开始导出。完成后在本页下载（仅限您本人，24 小时内有效）。")
        return redirect("core_job", pk=job_record.pk)


class EnrolmentDetailsPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "campaigns/admin/enrolment_details.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            enrolment = self.instance
            context["enrolment"] = enrolment
            context["full_id"] = readable_id_number(enrolment) if can_see_full_id(self.request.user) else ""
            context["unreadable_marker"] = UNREADABLE_ID
            context["conflict_of"] = enrolment.conflict_of
            context["conflicts"] = enrolment.conflicts.order_by("pk") if enrolment.pk else []
            context["reviews"] = enrolment.reviews.select_related("user") if enrolment.pk else []
            return context


class ReviewForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.original_status = self.instance.status
        self.fields["review_reason"].label = "退回原因"
        self.fields["review_reason"].help_text = "退回时必填，将记录在审核记录中"
        self.fields["review_reason"].widget = forms.Textarea(attrs={"rows": 3})

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status == self.original_status:
            self.add_error("status", "状态没有变化：请选择新的审核状态。")
        if status == EnrolmentStatus.CONFLICT and not self.instance.conflict_of_id:
            self.add_error("status", "“待核实”只用于身份证号与先前报名相同、姓名或手机号码不同的报名。")
        if status == EnrolmentStatus.RETURNED and not (data.get("review_reason") or "").strip():
            self.add_error("review_reason", "退回时请填写退回原因。")
        if status != EnrolmentStatus.RETURNED:
            data["review_reason"] = ""
        return data


class ReviewView(generic.EditView):
    def get_context_data(self, **kwargs):
        if can_see_full_id(self.request.user) and self.request.method == "GET":
            EnrolmentAuditLog.objects.create(
                actor=self.request.user, actor_name=self.request.user.get_username(), action=AuditAction.VIEW_ID,
                unit_id=self.object.unit_id, campaign_id=self.object.campaign_id,
                upload_id=self.object.roster_upload_id, row_count=1, note=self.object.reference or "")
            try:
                crypto.decrypt(self.object.id_number_encrypted)
            except crypto.DecryptionError:
                messages.error(self.request, f"报名 {self.object.reference} 的" + UNREADABLE_MESSAGE)
        return super().get_context_data(**kwargs)

    def save_instance(self):
        original = self.form.original_status
        instance = super().save_instance()
        EnrolmentReview.objects.create(enrolment=instance, user=self.request.user, from_status=original,
                                       to_status=instance.status, reason=instance.review_reason)
        return instance

    def get_success_message(self):
        return f"{self.object.reference} 已改为“{self.object.get_status_display()}”。"


class EnrolmentIndexView(generic.IndexView):
    def get_add_url(self):
        return None

    def get_base_queryset(self):
        return with_conflict_counts(super().get_base_queryset())

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_see_full_id(self.request.user):
            query = self.request.GET.urlencode()
            for fmt, label in (("xlsx", "导出 Excel"), ("csv", "导出 CSV")):
                url = reverse("enrolments:export", args=(fmt,)) + (f"?{query}" if query else "")
                buttons.append(HeaderButton(label, url=url, icon_name="download"))
        return buttons


class EnrolmentViewSet(ModelViewSet):
    model = Enrolment
    icon = "form"
    menu_label = "报名审核"
    menu_order = 250
    add_to_admin_menu = True
    name = "enrolments"
    index_view_class = EnrolmentIndexView
    edit_view_class = ReviewView
    filterset_class = EnrolmentFilterSet
    search_fields = SEARCH_FIELDS
    list_display = [
        "reference",
        "name",
        Column("id_number_masked", label="身份证号"),
        "branch",
        Column("campaign", label="活动"),
        Column("status", label="状态", accessor="get_status_display"),
        Column("conflict", label="身份证号冲突", accessor=conflict_note),
        "created_at",
    ]
    list_export = []
    copy_view_enabled = False
    edit_handler = ObjectList(
        [EnrolmentDetailsPanel(heading="报名信息"), FieldPanel("status"), FieldPanel("review_reason")],
        base_form_class=ReviewForm,
    )

    def get_urlpatterns(self):
        patterns = [pattern for pattern in super().get_urlpatterns() if pattern.name != "add"]
        return patterns + [path("export/<str:fmt>/", ExportView.as_view(), name="export")]


enrolment_viewset = EnrolmentViewSet()
