"""Wagtail admin: review enrolments, log each status change, export (full ID numbers need a permission)."""

import csv
import logging
import os
import tempfile

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList, Panel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from campaigns import crypto
from campaigns.models import (
    AuditAction,
    CampaignPage,
    Enrolment,
    EnrolmentAuditLog,
    EnrolmentReview,
    EnrolmentStatus,
    RosterUpload,
    Unit,
)

logger = logging.getLogger(__name__)

FULL_ID_PERMISSION = "campaigns.view_id_number"
UNREADABLE_ID = "【无法解密】"
UNREADABLE_MESSAGE = ("身份证号无法解密：已配置的密钥（ENROLMENT_KEYS / ENROLMENT_KEY）读不出这些数据，"
                      "请立即联系系统管理员核对密钥（旧密钥须保留到 rotate_enrolment_key 运行完毕）。")


def readable_id_number(enrolment):
    """The full ID number, or the 无法解密 marker (logged as an error) when the keys cannot read it."""
    try:
        return enrolment.id_number
    except crypto.DecryptionError:
        logger.error("enrolment %s (id %s): ID number cannot be decrypted with the configured keys",
                     enrolment.reference, enrolment.pk)
        return UNREADABLE_ID


def conflict_note(enrolment):
    if enrolment.conflict_of_id:
        return f"⚠ 冲突：与 {enrolment.conflict_of.reference} 身份证号相同"
    count = getattr(enrolment, "conflict_count", None)
    if count is None:
        count = enrolment.conflicts.count()
    return f"⚠ 有 {count} 条同号冲突报名" if count else ""


SEARCH_FIELDS = ["reference", "name", "mobile", "employer", "branch", "membership_number"]
EXPORT_COLUMNS = [
    ("受理编号", lambda e: e.reference or ""),
    ("活动", lambda e: e.campaign.title),
    ("表单", lambda e: e.form_title),
    ("姓名", lambda e: e.name),
    ("身份证号", readable_id_number),
    ("手机号码", lambda e: e.mobile),
    ("工作单位", lambda e: e.employer),
    ("基层工会", lambda e: e.branch),
    ("互助方案", lambda e: e.plan),
    ("份数", lambda e: e.shares if e.shares is not None else ""),
    ("会员证号", lambda e: e.membership_number),
    ("领取方式", lambda e: e.get_delivery_display() if e.delivery else ""),
    ("邮寄地址", lambda e: e.address),
    ("状态", lambda e: e.get_status_display()),
    ("身份证号冲突", conflict_note),
    ("退回原因", lambda e: e.review_reason),
    ("提交时间", lambda e: timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S")),
]


ID_COLUMN = [title for title, _ in EXPORT_COLUMNS].index("身份证号")


def can_see_full_id(user):
    return user.is_active and user.has_perm(FULL_ID_PERMISSION)


class EnrolmentFilterSet(WagtailFilterSet):
    campaign = django_filters.ModelChoiceFilter(label="活动", queryset=CampaignPage.objects.order_by("-start_date"))
    status = django_filters.ChoiceFilter(label="状态", choices=EnrolmentStatus.choices)
    created_at = django_filters.DateFromToRangeFilter(label="提交日期", widget=DateRangePickerWidget)
    branch = django_filters.CharFilter(label="基层工会", lookup_expr="icontains")
    form_kind = django_filters.ChoiceFilter(label="表单类型", choices=Enrolment._meta.get_field("form_kind").choices)
    conflict = django_filters.ChoiceFilter(
        label="身份证号冲突", method="filter_conflict",
        choices=[("yes", "有冲突（待核实的报名及其首条报名）"), ("no", "无冲突")])
    unit = django_filters.ModelChoiceFilter(label="代办单位", queryset=Unit.objects.all())
    roster_upload = django_filters.ModelChoiceFilter(label="名单批次", queryset=RosterUpload.objects.all())

    class Meta:
        model = Enrolment
        fields = ["campaign", "status", "conflict", "created_at", "branch", "form_kind", "unit", "roster_upload"]

    def filter_conflict(self, queryset, name, value):
        involved = Q(conflict_of__isnull=False) | Exists(Enrolment.objects.filter(conflict_of=OuterRef("pk")))
        if value == "yes":
            return queryset.filter(involved)
        if value == "no":
            return queryset.exclude(involved)
        return queryset


def with_conflict_counts(queryset):
    conflicts = (Enrolment.objects.filter(conflict_of=OuterRef("pk")).order_by().values("conflict_of")
                 .annotate(n=Count("pk")).values("n"))
    return queryset.select_related("campaign", "conflict_of").annotate(
        conflict_count=Coalesce(Subquery(conflicts, output_field=IntegerField()), 0))


def filtered_enrolments(request):
    """The queryset the index view shows for these GET parameters (filters and search)."""
    queryset = with_conflict_counts(Enrolment.objects.order_by("created_at", "pk"))
    filterset = EnrolmentFilterSet(request.GET, queryset=queryset)
    if filterset.is_valid():
        queryset = filterset.qs
    query = request.GET.get("q", "").strip()
    if query:
        condition = Q()
        for field in SEARCH_FIELDS:
            condition |= Q(**{f"{field}__icontains": query})
        queryset = queryset.filter(condition)
    return queryset


def safe_cell(value):
    """Stop spreadsheet formula injection from visitor input."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_rows(queryset):
    """Rows of the export; a closing notice row when some ID numbers could not be decrypted."""
    unreadable = 0
    for enrolment in queryset.iterator(chunk_size=2000):
        row = [safe_cell(getter(enrolment)) for _, getter in EXPORT_COLUMNS]
        unreadable += row[ID_COLUMN] == UNREADABLE_ID
        yield row
    if unreadable:
        yield [f"注意：共 {unreadable} 行身份证号{UNREADABLE_ID}。{UNREADABLE_MESSAGE}"]


class _Echo:
    def write(self, value):
        return value


def csv_response(queryset, filename):
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff" + writer.writerow([title for title, _ in EXPORT_COLUMNS])
        for row in export_rows(queryset):
            yield writer.writerow(row)

    response = StreamingHttpResponse((chunk.encode("utf-8") for chunk in stream()),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(queryset, filename):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("报名")
    sheet.append([title for title, _ in EXPORT_COLUMNS])
    for row in export_rows(queryset):
        if len(row) > ID_COLUMN:
            cell = WriteOnlyCell(sheet, value=row[ID_COLUMN])
            cell.number_format = "@"
            row[ID_COLUMN] = cell
        sheet.append(row)
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    handle.close()
    workbook.save(handle.name)
    stream = open(handle.name, "rb")  # noqa: SIM115 - closed by FileResponse
    os.unlink(handle.name)
    return FileResponse(stream, as_attachment=True, filename=f"{filename}.xlsx",
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def export_view(request, fmt):
    if not can_see_full_id(request.user):
        raise PermissionDenied
    if fmt not in ("csv", "xlsx"):
        raise Http404
    queryset = filtered_enrolments(request)
    first = queryset.first()
    if first is not None and readable_id_number(first) == UNREADABLE_ID:
        messages.error(request, "导出已取消：" + UNREADABLE_MESSAGE)
        query = request.GET.urlencode()
        return redirect(reverse("enrolments:index") + (f"?{query}" if query else ""))
    filename = f"enrolments-{timezone.localdate():%Y%m%d}"
    unit = Unit.objects.filter(pk=request.GET["unit"]).first() if request.GET.get("unit", "").isdigit() else None
    EnrolmentAuditLog.objects.create(actor=request.user, actor_name=request.user.get_username(),
                                     action=AuditAction.EXPORT, unit=unit, row_count=queryset.count(),
                                     note=f"导出 {fmt}")
    return csv_response(queryset, filename) if fmt == "csv" else xlsx_response(queryset, filename)


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
        return patterns + [path("export/<str:fmt>/", export_view, name="export")]


enrolment_viewset = EnrolmentViewSet()
