"""Wagtail admin for the collective path: units, agent accounts, roster uploads (batch review), the audit log
and the erasure action."""

import secrets

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from campaigns import erasure, notifications, roster
from campaigns.idcard import IdNumberError
from campaigns.models import (
    AuditAction,
    CampaignPage,
    Enrolment,
    EnrolmentAuditLog,
    EnrolmentReview,
    EnrolmentStatus,
    RosterStatus,
    RosterUpload,
    Unit,
    UnitAgent,
)

ERASE_PERMISSION = "campaigns.erase_unit_data"
# Uploads and the audit log are read by whoever reviews enrolments.
register_permission_policy(RosterUpload, ModelPermissionPolicy(Enrolment), exact_class=True)
register_permission_policy(EnrolmentAuditLog, ModelPermissionPolicy(Enrolment), exact_class=True)
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def one_time_password():
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(14))


def log(request, action, **fields):
    EnrolmentAuditLog.objects.create(actor=request.user, actor_name=request.user.get_username(), action=action,
                                     **fields)


# --- units ------------------------------------------------------------------------------------------------------


class UnitFilterSet(WagtailFilterSet):
    active = django_filters.BooleanFilter(label="启用")
    district = django_filters.CharFilter(label="所在区", lookup_expr="icontains")

    class Meta:
        model = Unit
        fields = ["active", "district"]


def unit_page_url(user, unit):
    """The unit's edit page for those who may change it, else the listing (erasers only view units)."""
    return reverse("units:edit", args=[unit.pk]) if user.has_perm("campaigns.change_unit") else reverse("units:index")


class UnitIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if self.request.user.has_perm(ERASE_PERMISSION):
            buttons.append(MenuItem("删除个人信息", url=reverse("units:erase", args=[instance.pk]), icon_name="bin",
                                    priority=90))
        return buttons


class UnitEditView(generic.EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm(ERASE_PERMISSION):
            buttons.append(HeaderButton("删除该单位个人信息", url=reverse("units:erase", args=[self.object.pk]),
                                        icon_name="bin"))
        return buttons


class EraseForm(forms.Form):
    id_number = forms.CharField(label="只删除一名会员（身份证号）", required=False, max_length=30,
                                help_text="留空则删除该单位通过名单报名的全部个人信息")
    name = forms.CharField(label="该会员姓名（选填）", required=False, max_length=50,
                           help_text="用于同时删除身份证号填错、未通过预检的行")
    confirm = forms.BooleanField(label="我确认删除，删除后不能恢复",
                                 error_messages={"required": "请勾选确认删除。"})

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        if value:
            from campaigns.idcard import validate_id_number

            try:
                return validate_id_number(value)
            except IdNumberError as error:
                raise forms.ValidationError(str(error)) from None
        return value


class EraseView(WagtailAdminTemplateMixin, View):
    template_name = "campaigns/admin/erase_unit.html"
    page_title = "删除该单位个人信息"
    header_icon = "bin"

    def dispatch(self, request, pk):
        if not request.user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        self.unit = get_object_or_404(Unit, pk=pk)
        return super().dispatch(request, pk)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("units:index"), "label": "基层工会"},
                                         {"url": unit_page_url(self.request.user, self.unit), "label": self.unit.name},
                                         {"url": "", "label": "删除个人信息"}]

    def context(self, form):
        return self.get_context_data(form=form, unit=self.unit, back_url=unit_page_url(self.request.user, self.unit),
                                     enrolment_count=Enrolment.objects.filter(unit=self.unit).count(),
                                     upload_count=RosterUpload.objects.filter(unit=self.unit).count())

    def get(self, request, pk):
        return self.render_to_response(self.context(EraseForm()))

    def post(self, request, pk):
        form = EraseForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.context(form))
        if form.cleaned_data["id_number"]:
            done = erasure.erase_member(self.unit, form.cleaned_data["id_number"], request.user,
                                        name=form.cleaned_data["name"].strip())
            messages.success(request, f"已删除该会员在“{self.unit.name}”的报名 {done['enrolments']} 条、名单行 "
                                      f"{done['rows']} 条，并清除 {done['files']} 个文件中的对应行。")
        else:
            done = erasure.erase_unit(self.unit, request.user)
            messages.success(request, f"已删除“{self.unit.name}”的报名 {done['enrolments']} 条、"
                                      f"名单行 {done['rows']} 条、文件 {done['files']} 个。")
        return redirect(unit_page_url(request.user, self.unit))


class UnitViewSet(ModelViewSet):
    model = Unit
    icon = "group"
    menu_label = "基层工会"
    name = "units"
    index_view_class = UnitIndexView
    edit_view_class = UnitEditView
    filterset_class = UnitFilterSet
    search_fields = ["name", "credit_code", "district", "contact_person"]
    search_backend_name = None
    list_display = ["name", "credit_code", "district", "contact_person", "contact_phone",
                    Column("active", label="启用", accessor=lambda unit: "是" if unit.active else "否")]
    list_export = []
    copy_view_enabled = False
    form_fields = ["name", "credit_code", "district", "contact_person", "contact_phone", "active"]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [path("erase/<int:pk>/", EraseView.as_view(), name="erase")]


# --- agents -----------------------------------------------------------------------------------------------------


class AgentForm(WagtailAdminModelForm):
    username = forms.RegexField(label="用户名", max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": "用户名只能包含字母、数字和 @ . + - _。"})
    full_name = forms.CharField(label="姓名", max_length=150)
    email = forms.EmailField(label="电子邮箱", required=False, help_text="审核结果会发到此邮箱")
    active = forms.BooleanField(label="启用账号", required=False, initial=True, help_text="取消勾选即停用，不能登录")

    class Meta:
        model = UnitAgent
        fields = ["unit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.instance.user if self.instance.pk else None
        self.fields["unit"].queryset = Unit.objects.filter(active=True) if user is None else Unit.objects.all()
        self.fields["unit"].error_messages["required"] = "请选择基层工会。"
        for name in ("username", "full_name"):
            self.fields[name].error_messages["required"] = f"请填写{self.fields[name].label}。"
        if user is not None:
            self.fields["username"].disabled = True
            self.initial.update(username=user.username, full_name=user.first_name, email=user.email,
                                active=user.is_active)

    def clean_username(self):
        username = self.cleaned_data["username"]
        others = get_user_model().objects.filter(username__iexact=username)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.user_id)
        if others.exists():
            raise forms.ValidationError("该用户名已被使用。")
        return username

    def save(self, commit=True):
        agent = super().save(commit=False)
        if agent.pk:
            user = agent.user
        else:
            user = get_user_model()(username=self.cleaned_data["username"])
            self.one_time_password = one_time_password()
            user.set_password(self.one_time_password)
            agent.must_change_password = True
        user.first_name = self.cleaned_data["full_name"]
        user.email = self.cleaned_data["email"]
        user.is_active = self.cleaned_data["active"]
        user.is_staff = False
        user.save()
        agent.user = user
        if commit:
            agent.save()
        return agent


class PasswordShownView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "campaigns/admin/agent_password.html"
    page_title = "代办员临时密码"
    header_icon = "key"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("unit_agents:index"), "label": "代办员"},
                                         {"url": "", "label": "临时密码"}]


def render_password(request, agent, password, created):
    """The one-time password, shown once on this response only (never stored in a message or log)."""
    view = PasswordShownView()
    view.setup(request)
    response = view.render_to_response(view.get_context_data(agent=agent, password=password, created=created))
    response["Cache-Control"] = "no-store"
    return response


class AgentCreateView(generic.CreateView):
    def save_action(self):
        return render_password(self.request, self.object, self.form.one_time_password, created=True)


class AgentEditView(generic.EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        buttons.append(HeaderButton("重置密码", url=reverse("unit_agents:reset", args=[self.object.pk]),
                                    icon_name="key"))
        return buttons


class ResetPasswordView(WagtailAdminTemplateMixin, View):
    template_name = "campaigns/admin/agent_reset.html"
    page_title = "重置代办员密码"
    header_icon = "key"

    def dispatch(self, request, pk):
        if not request.user.has_perm("campaigns.change_unitagent"):
            raise PermissionDenied
        self.agent = get_object_or_404(UnitAgent.objects.select_related("user", "unit"), pk=pk)
        return super().dispatch(request, pk)

    def get(self, request, pk):
        return self.render_to_response(self.get_context_data(agent=self.agent))

    def post(self, request, pk):
        password = one_time_password()
        with transaction.atomic():
            self.agent.user.set_password(password)
            self.agent.user.save(update_fields=["password"])
            self.agent.must_change_password = True
            self.agent.save(update_fields=["must_change_password"])
            log(request, AuditAction.RESET_PASSWORD, unit=self.agent.unit, note=f"代办员 {self.agent.user.username}")
        return render_password(request, self.agent, password, created=False)


class AgentFilterSet(WagtailFilterSet):
    unit = django_filters.ModelChoiceFilter(label="基层工会", queryset=Unit.objects.all())
    user__is_active = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = UnitAgent
        fields = ["unit"]


class UnitAgentViewSet(ModelViewSet):
    model = UnitAgent
    icon = "user"
    menu_label = "代办员"
    name = "unit_agents"
    add_view_class = AgentCreateView
    edit_view_class = AgentEditView
    filterset_class = AgentFilterSet
    search_fields = ["user__username", "user__first_name", "unit__name"]
    search_backend_name = None
    list_display = [
        Column("username", label="用户名", accessor=lambda agent: agent.user.username),
        Column("full_name", label="姓名", accessor=lambda agent: agent.user.first_name),
        Column("unit", label="基层工会"),
        Column("active", label="状态", accessor=lambda agent: "启用" if agent.user.is_active else "已停用"),
        Column("must_change_password", label="须改密码",
               accessor=lambda agent: "是" if agent.must_change_password else "否"),
        Column("last_login", label="最近登录", accessor=lambda agent: timezone.localtime(
            agent.user.last_login).strftime("%Y-%m-%d %H:%M") if agent.user.last_login else "从未"),
    ]
    list_export = []
    copy_view_enabled = False
    edit_handler = ObjectList([FieldPanel("username"), FieldPanel("full_name"), FieldPanel("email"),
                               FieldPanel("unit"), FieldPanel("active")], base_form_class=AgentForm)

    def get_queryset(self, request):
        return UnitAgent.objects.select_related("user", "unit")

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [path("reset/<int:pk>/", ResetPasswordView.as_view(), name="reset")]


# --- roster uploads -----------------------------------------------------------------------------------------------


class UploadFilterSet(WagtailFilterSet):
    unit = django_filters.ModelChoiceFilter(label="基层工会", queryset=Unit.objects.all())
    campaign = django_filters.ModelChoiceFilter(label="活动", queryset=CampaignPage.objects.order_by("-start_date"))
    status = django_filters.ChoiceFilter(label="状态", choices=RosterStatus.choices)

    class Meta:
        model = RosterUpload
        fields = ["unit", "campaign", "status"]


class UploadIndexView(generic.IndexView):
    def get_add_url(self):
        return None

    def get_edit_url(self, instance):
        return reverse("roster_uploads:review", args=[instance.pk])


def _can_review(user):
    return user.is_active and user.has_perm("campaigns.change_enrolment")


class UploadReviewView(WagtailAdminTemplateMixin, View):
    template_name = "campaigns/admin/roster_review.html"
    header_icon = "doc-full"

    def dispatch(self, request, pk):
        if not request.user.has_perm("campaigns.view_enrolment"):
            raise PermissionDenied
        self.upload = get_object_or_404(RosterUpload.objects.select_related("unit", "campaign", "uploaded_by"), pk=pk)
        return super().dispatch(request, pk)

    def get_page_title(self):
        return f"第{self.upload.pk}批名单"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("roster_uploads:index"), "label": "名单上传"},
                                         {"url": "", "label": f"第{self.upload.pk}批"}]

    def get(self, request, pk):
        rows = self.upload.rows.select_related("enrolment").order_by("row_number")
        page_obj = Paginator(rows, 50).get_page(request.GET.get("p"))
        pending = Enrolment.objects.filter(roster_upload=self.upload, status=EnrolmentStatus.PENDING).count()
        return self.render_to_response(self.get_context_data(
            upload=self.upload, page_obj=page_obj, pending=pending, can_review=_can_review(request.user),
            can_download=request.user.has_perm("campaigns.view_id_number") and bool(self.upload.file_path),
            enrolments_url=reverse("enrolments:index") + f"?roster_upload={self.upload.pk}"))

    def post(self, request, pk):
        if not _can_review(request.user):
            raise PermissionDenied
        reviews = approve_upload(self.upload, request.user)
        if reviews:
            log(request, AuditAction.APPROVE_UPLOAD, unit=self.upload.unit, campaign=self.upload.campaign,
                upload=self.upload, row_count=len(reviews))
            messages.success(request, f"已整批通过 {len(reviews)} 条报名。")
        else:
            messages.warning(request, "这批名单中没有待审核的报名。")
        return redirect("roster_uploads:review", self.upload.pk)


def approve_upload(upload, user):
    """Approve every pending enrolment of the upload in one transaction; the reviews (members and agent notified)."""
    with transaction.atomic():
        pending = list(Enrolment.objects.select_for_update().filter(roster_upload=upload,
                                                                    status=EnrolmentStatus.PENDING))
        reviews = [EnrolmentReview(enrolment=e, user=user, from_status=e.status, to_status=EnrolmentStatus.APPROVED)
                   for e in pending]
        for enrolment in pending:
            enrolment.status = EnrolmentStatus.APPROVED
            enrolment.review_reason = ""
        Enrolment.objects.bulk_update(pending, ["status", "review_reason"], batch_size=500)
        EnrolmentReview.objects.bulk_create(reviews, batch_size=500)
        if pending:
            RosterUpload.objects.filter(pk=upload.pk).update(status=RosterStatus.APPROVED, reviewed_at=timezone.now())
        transaction.on_commit(lambda: notifications.queue_status_notifications(reviews))
    return reviews


class UploadFileView(View):
    def get(self, request, pk):
        if not request.user.has_perm("campaigns.view_id_number"):
            raise PermissionDenied
        upload = get_object_or_404(RosterUpload, pk=pk)
        file_path = roster.file_path(upload)
        if not upload.file_path or not file_path.is_file():
            raise Http404
        log(request, AuditAction.DOWNLOAD_FILE, unit=upload.unit, campaign=upload.campaign, upload=upload)
        return FileResponse(file_path.open("rb"), as_attachment=True, filename=f"roster-{upload.pk}.xlsx",
                            content_type=roster.XLSX_TYPE)


class RosterUploadViewSet(ModelViewSet):
    model = RosterUpload
    icon = "doc-full"
    menu_label = "名单上传"
    name = "roster_uploads"
    index_view_class = UploadIndexView
    filterset_class = UploadFilterSet
    list_display = [
        Column("pk", label="批次", accessor=lambda upload: f"第{upload.pk}批"),
        Column("unit", label="基层工会"),
        Column("campaign", label="活动"),
        Column("status", label="状态", accessor="get_status_display"),
        "total_rows", "new_count", "update_count", "conflict_count", "rejected_count", "created_at",
    ]
    list_export = []
    copy_view_enabled = False
    form_fields = []

    def get_queryset(self, request):
        return RosterUpload.objects.select_related("unit", "campaign")

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in ("index", "index_results")] + [
            path("review/<int:pk>/", UploadReviewView.as_view(), name="review"),
            path("file/<int:pk>/", UploadFileView.as_view(), name="file"),
        ]


# --- audit log ----------------------------------------------------------------------------------------------------


class AuditFilterSet(WagtailFilterSet):
    action = django_filters.ChoiceFilter(label="操作", choices=AuditAction.choices)
    unit = django_filters.ModelChoiceFilter(label="基层工会", queryset=Unit.objects.all())
    created_at = django_filters.DateFromToRangeFilter(label="日期", widget=DateRangePickerWidget)

    class Meta:
        model = EnrolmentAuditLog
        fields = ["action", "unit", "created_at"]


class AuditIndexView(generic.IndexView):
    def get_add_url(self):
        return None

    def get_edit_url(self, instance):
        return None


class AuditLogViewSet(ModelViewSet):
    model = EnrolmentAuditLog
    icon = "history"
    menu_label = "名单操作记录"
    name = "roster_audit"
    index_view_class = AuditIndexView
    filterset_class = AuditFilterSet
    list_display = [
        Column("created_at", label="时间", accessor=lambda e: timezone.localtime(e.created_at).strftime(
            "%Y-%m-%d %H:%M:%S")),
        Column("actor_name", label="操作人"),
        Column("action", label="操作", accessor="get_action_display"),
        Column("unit", label="基层工会"),
        Column("campaign", label="活动"),
        Column("upload", label="名单", accessor=lambda e: f"第{e.upload_id}批" if e.upload_id else ""),
        Column("row_count", label="行数"),
        Column("note", label="说明"),
    ]
    list_export = []
    copy_view_enabled = False
    form_fields = []

    def get_queryset(self, request):
        return EnrolmentAuditLog.objects.select_related("unit", "campaign")

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in ("index", "index_results")]


class CollectiveEnrolmentGroup(ViewSetGroup):
    items = (UnitViewSet, UnitAgentViewSet, RosterUploadViewSet, AuditLogViewSet)
    menu_icon = "group"
    menu_label = "集体报名"
    menu_name = "collective"
    menu_order = 251
