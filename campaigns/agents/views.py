"""代办员 pages on the public site: sign-in, password change, campaign templates, roster upload, preview, confirm.

Everything is scoped on the server to the agent's own unit: another unit's upload is a 404.
"""

import functools
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns import notifications, roster
from campaigns.agents.forms import AgentLoginForm, AgentPasswordForm, ConfirmForm, RosterUploadForm
from campaigns.models import (
    AuditAction,
    CampaignPage,
    EnrolmentAuditLog,
    RosterStatus,
    RosterUpload,
    RowOutcome,
    UnitAgent,
)
from core.clientip import client_ip

PER_PAGE = 50
LOGIN_FAILED = "用户名或密码不正确，或该账号不是有效的代办员账号。"


def audit(request, action, upload=None, campaign=None, row_count=0, note=""):
    agent = getattr(request, "agent", None)
    EnrolmentAuditLog.objects.create(
        actor=request.user if request.user.is_authenticated else None,
        actor_name=request.user.get_username() if request.user.is_authenticated else "",
        action=action, unit=upload.unit if upload else (agent.unit if agent else None),
        campaign=upload.campaign if upload else campaign, upload=upload, row_count=row_count, note=note[:200])


def agent_required(view=None, *, allow_password_change=False):
    """Signed-in, active agent of an active unit; forced to change a one-time password first."""
    if view is None:
        return functools.partial(agent_required, allow_password_change=allow_password_change)

    @functools.wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        user = request.user
        agent = UnitAgent.objects.select_related("unit").filter(user_id=user.pk).first() if (
            user.is_authenticated) else None
        if agent is None or not agent.can_sign_in:
            if user.is_authenticated and agent is not None:
                logout(request)
            return redirect(f"{reverse('agents:login')}?next={request.path}")
        request.agent = agent
        if agent.must_change_password and not allow_password_change:
            return redirect("agents:password")
        return view(request, *args, **kwargs)

    return wrapper


def _ip_failures_key(request):
    return f"campaigns:agent-login-failures:{client_ip(request)}"


@never_cache
def login_view(request):
    form = AgentLoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        limit, window = settings.AGENT_LOGIN_IP_LIMIT
        key = _ip_failures_key(request)
        if (cache.get(key) or 0) >= limit:
            return TemplateResponse(request, "campaigns/agents/login.html", {
                "form": AgentLoginForm(), "locked": f"本设备登录失败次数过多，请在{window // 60}分钟后再试。"},
                status=429)
        if form.is_valid():
            user = authenticate(request, username=form.cleaned_data["username"],
                                password=form.cleaned_data["password"])
            agent = UnitAgent.objects.select_related("unit").filter(user_id=user.pk).first() if user else None
            if agent is not None and agent.can_sign_in:
                login(request, user)
                cache.delete(key)
                if agent.must_change_password:
                    return redirect("agents:password")
                target = request.POST.get("next") or request.GET.get("next") or ""
                if target.startswith("/agents/") and url_has_allowed_host_and_scheme(target, {request.get_host()}):
                    return redirect(target)
                return redirect("agents:dashboard")
            if getattr(request, "axes_locked_out", False):
                return HttpResponse(status=429)  # replaced by axes' lockout page
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=window)
            form.add_error(None, LOGIN_FAILED)
        status = 400
    return TemplateResponse(request, "campaigns/agents/login.html",
                            {"form": form, "next": request.GET.get("next", "")}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("agents:login")


@agent_required(allow_password_change=True)
def password_view(request):
    form = AgentPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        UnitAgent.objects.filter(pk=request.agent.pk).update(must_change_password=False)
        messages.success(request, "密码已修改。")
        return redirect("agents:dashboard")
    return TemplateResponse(request, "campaigns/agents/password.html",
                            {"form": form, "forced": request.agent.must_change_password},
                            status=400 if form.errors else 200)


def _campaign_forms():
    """[(campaign, [form blocks])] of live campaigns that have an enrolment form."""
    found = []
    for campaign in CampaignPage.objects.live().public().order_by("-start_date", "-pk"):
        blocks = campaign.form_blocks()
        if blocks:
            found.append((campaign, [(block, campaign.closed_message(block.value)) for block in blocks]))
    return found


@agent_required
def dashboard(request):
    uploads = RosterUpload.objects.filter(unit=request.agent.unit).select_related("campaign", "uploaded_by")
    page_obj = Paginator(uploads, 20).get_page(request.GET.get("page"))
    return TemplateResponse(request, "campaigns/agents/dashboard.html", {
        "agent": request.agent, "campaign_forms": _campaign_forms(), "page_obj": page_obj})


def _campaign_block(campaign_id, block_id):
    campaign = get_object_or_404(CampaignPage.objects.live().public(), pk=campaign_id)
    block = campaign.find_form_block(block_id)
    if block is None:
        raise Http404
    return campaign, block


@agent_required
def template_view(request, campaign_id, block_id):
    campaign, block = _campaign_block(campaign_id, block_id)
    content = roster.build_template(campaign, block, request.agent.unit)
    audit(request, AuditAction.TEMPLATE, campaign=campaign)
    response = HttpResponse(content, content_type=roster.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="roster-template-{campaign.pk}.xlsx"'
    return response


@agent_required
def upload_view(request, campaign_id, block_id):
    campaign, block = _campaign_block(campaign_id, block_id)
    closed = campaign.closed_message(block.value)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    error = ""
    status = 200
    if request.method == "POST":
        if closed:
            error, status = closed, 403
        elif form.is_valid():
            try:
                upload = roster.preview(campaign, block, request.agent.unit, request.user,
                                        form.cleaned_data["roster"])
            except roster.RosterFileError as problem:
                error, status = str(problem), 400
                audit(request, AuditAction.UPLOAD_REFUSED, campaign=campaign, note=error)
            else:
                audit(request, AuditAction.UPLOAD, upload=upload, row_count=upload.total_rows)
                return redirect("agents:upload", pk=upload.pk)
        else:
            status = 400
    return TemplateResponse(request, "campaigns/agents/upload.html", {
        "campaign": campaign, "form_block": block, "form": form, "closed": closed, "error": error}, status=status)


def _own_upload(request, pk):
    return get_object_or_404(RosterUpload.objects.select_related("campaign", "unit", "uploaded_by"),
                             pk=pk, unit=request.agent.unit)


OUTCOME_FILTERS = [("", "全部")] + list(RowOutcome.choices)


@agent_required
def upload_detail(request, pk):
    upload = _own_upload(request, pk)
    rows = upload.rows.select_related("enrolment").order_by("row_number")
    outcome = request.GET.get("outcome", "")
    if outcome in RowOutcome.values:
        rows = rows.filter(outcome=outcome)
    else:
        outcome = ""
    page_obj = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for row in page_obj:
        row.state = notifications.public_state(row.enrolment, reviewed=row.enrolment.status == "pending"
                                               and row.enrolment.reviews.exists()) if row.enrolment else ""
    if upload.status == RosterStatus.PREVIEWED and not request.GET.get("page"):
        audit(request, AuditAction.PREVIEW, upload=upload, row_count=upload.total_rows)
    return TemplateResponse(request, "campaigns/agents/upload_detail.html", {
        "upload": upload, "page_obj": page_obj, "outcome": outcome, "outcomes": OUTCOME_FILTERS,
        "confirm_form": ConfirmForm(), "can_confirm": upload.status == RosterStatus.PREVIEWED,
        "storable": upload.new_count + upload.update_count + upload.conflict_count})


@agent_required
@require_POST
def confirm_view(request, pk):
    upload = _own_upload(request, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["consent"][0])
        return redirect("agents:upload", pk=upload.pk)
    block = upload.campaign.find_form_block(upload.block_id)
    closed = upload.campaign.closed_message(block.value) if block else "该报名表已从活动页面删除，不能再提交。"
    if closed:
        messages.error(request, closed)
        return redirect("agents:upload", pk=upload.pk)
    try:
        created, updated, reviews = roster.confirm(upload, request.user)
    except roster.ConfirmError as problem:
        audit(request, AuditAction.CONFIRM_FAILED, upload=upload, note=str(problem))
        messages.error(request, str(problem))
        return redirect("agents:upload", pk=upload.pk)
    audit(request, AuditAction.CONFIRM, upload=upload, row_count=created + updated,
          note=f"新增{created}条，更新{updated}条")
    fresh = list(upload.enrolments.filter(roster_rows__upload=upload, roster_rows__outcome=RowOutcome.NEW)
                 .select_related("campaign").order_by("pk"))
    transaction.on_commit(lambda: notifications.queue_roster_notifications(upload, fresh))
    if reviews:
        transaction.on_commit(lambda: notifications.queue_status_notifications(reviews))
    messages.success(request, f"名单已提交：新增 {created} 条，更新 {updated} 条，等待工会审核。")
    return redirect("agents:upload", pk=upload.pk)


@agent_required
@require_POST
def cancel_view(request, pk):
    upload = _own_upload(request, pk)
    with transaction.atomic():
        updated = RosterUpload.objects.filter(pk=upload.pk, status=RosterStatus.PREVIEWED).update(
            status=RosterStatus.CANCELLED, file_path="")
        if updated:
            upload.rows.all().delete()
    if updated:
        roster.delete_file(upload.file_path)
        audit(request, AuditAction.CANCEL, upload=upload)
        messages.success(request, "已取消这份名单，文件和预检数据已删除。")
    else:
        messages.error(request, "这份名单已提交或已取消，不能再取消。")
    return redirect("agents:upload", pk=upload.pk)


@agent_required
def file_view(request, pk):
    upload = _own_upload(request, pk)
    path = roster.file_path(upload)
    if not upload.file_path or not path.is_file():
        raise Http404
    audit(request, AuditAction.DOWNLOAD_FILE, upload=upload)
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"roster-{upload.pk}.xlsx",
                        content_type=roster.XLSX_TYPE)


@agent_required
def export_view(request, pk):
    """The upload's lines with their outcome and review state; ID numbers masked."""
    from openpyxl import Workbook

    upload = _own_upload(request, pk)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("处理结果")
    sheet.append(["Excel 行号", "姓名", "身份证号（部分隐藏）", "预检结果", "说明", "受理编号", "审核状态", "退回原因"])
    count = 0
    for row in upload.rows.select_related("enrolment").order_by("row_number").iterator(chunk_size=1000):
        enrolment = row.enrolment
        sheet.append([row.row_number, _safe(row.name), row.id_number_masked, row.get_outcome_display(),
                      row.reason, enrolment.reference if enrolment else "",
                      enrolment.get_status_display() if enrolment else "",
                      _safe(enrolment.review_reason) if enrolment else ""])
        count += 1
    handle = io.BytesIO()
    workbook.save(handle)
    audit(request, AuditAction.AGENT_EXPORT, upload=upload, row_count=count)
    response = HttpResponse(handle.getvalue(), content_type=roster.XLSX_TYPE)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="roster-{upload.pk}-result-{stamp}.xlsx"'
    return response


def _safe(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
