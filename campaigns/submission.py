"""Visitor-facing enrolment: validation, storage, notifications."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils.module_loading import import_string

from campaigns.forms import FORM_CLASSES
from core.jobs import PermanentJobError, job

logger = logging.getLogger(__name__)

DUPLICATE_MESSAGE = "该身份证号已在本活动报名，请勿重复提交。如需修改信息，请联系所属工会。"


def form_for(block_value, data=None):
    form_class = FORM_CLASSES.get(block_value.get("form_kind"), FORM_CLASSES["mutual_aid"])
    return form_class(data=data, block_value=block_value)


def initial_states(page):
    states = {}
    for block in page.form_blocks():
        states[block.id] = {
            "block_id": block.id,
            "value": block.value,
            "form": form_for(block.value),
            "closed": page.closed_message(block.value),
            "error": "",
        }
    return states


def client_ip(request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limited(request):
    """Count this POST against the visitor's IP; True once the limit for the window is exceeded."""
    limit, window = settings.ENROLMENT_RATE_LIMIT
    key = f"campaigns:enrol-rate:{client_ip(request)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def handle_submission(page, request):
    request.sensitive_post_parameters = ["id_number"]
    block = page.find_form_block(request.POST.get("block_id", ""))
    if block is None:
        return page.render_with_forms(request, status=400, notice="找不到要提交的报名表，请刷新页面后重试。")
    state = {"block_id": block.id, "value": block.value, "closed": page.closed_message(block.value), "error": ""}
    if rate_limited(request):
        state |= {"form": form_for(block.value, request.POST), "error": "提交过于频繁，请稍后再试。"}
        return page.render_with_forms(request, {block.id: state}, status=429)
    if state["closed"]:
        state["form"] = form_for(block.value)
        return page.render_with_forms(request, {block.id: state}, status=403)
    form = form_for(block.value, request.POST)
    state["form"] = form
    if form.honeypot_filled():
        state["error"] = "提交未被受理：请不要填写标为“请留空”的字段。"
        return page.render_with_forms(request, {block.id: state}, status=400)
    if not form.is_valid():
        return page.render_with_forms(request, {block.id: state}, status=400)
    enrolment = store(page, block, form)
    if enrolment is None:
        form.add_error("id_number", DUPLICATE_MESSAGE)
        return page.render_with_forms(request, {block.id: state}, status=409)
    transaction.on_commit(lambda: notify(page, enrolment))
    return redirect(page.confirmation_url(enrolment), permanent=False)


def store(page, block, form):
    """Save one enrolment; None when this ID number already enrolled in the campaign."""
    from campaigns.models import Enrolment

    number = form.cleaned_data["id_number"]
    with transaction.atomic():
        if Enrolment.id_taken(page, number):
            return None
        enrolment = Enrolment(campaign=page, block_id=block.id, form_kind=block.value["form_kind"],
                              form_title=block.value["title"][:100], **form.enrolment_fields())
        enrolment.set_id_number(number)
        try:
            with transaction.atomic():
                enrolment.save()
        except IntegrityError:
            return None
        enrolment.reference = enrolment.make_reference()
        enrolment.save(update_fields=["reference"])
    logger.info("enrolment stored: %s (campaign %s)", enrolment.reference, page.pk)
    return enrolment


def notify(page, enrolment):
    """Queue the e-mail to the campaign contact and the SMS to the visitor (each its own idempotent job)."""
    jobs = []
    if page.contact_email:
        jobs.append((send_enrolment_email, "email", "报名通知邮件"))
    if getattr(settings, "ENROLMENT_SMS_HOOK", ""):
        jobs.append((send_enrolment_sms, "sms", "报名确认短信"))
    for function, channel, label in jobs:
        try:
            function.start(params={"enrolment": enrolment.pk}, key=f"enrolment-{channel}:{enrolment.pk}",
                           label=f"{label} {enrolment.reference}")
        except Exception:  # the enrolment is stored; a queue outage must not turn into an error page
            logger.exception("could not queue the %s notification for %s", channel, enrolment.reference)


def _enrolment(job_record):
    from campaigns.models import Enrolment

    enrolment = Enrolment.objects.select_related("campaign").filter(pk=job_record.params["enrolment"]).first()
    if enrolment is None:
        raise PermanentJobError("报名记录已不存在，未发送通知")
    return enrolment


@job(label="报名通知邮件")
def send_enrolment_email(job_record):
    enrolment = _enrolment(job_record)
    page = enrolment.campaign
    message = (
        f"活动：{page.title}\n表单：{enrolment.form_title}\n受理编号：{enrolment.reference}\n"
        f"姓名：{enrolment.name}\n身份证号：{enrolment.id_number_masked}\n基层工会：{enrolment.branch}\n"
        f"请登录管理后台审核。\n"
    )
    send_mail(f"【新报名】{page.title} {enrolment.reference}", message, None, [page.contact_email])
    return {"summary": f"已发送至 {page.contact_email}"}


@job(label="报名确认短信")
def send_enrolment_sms(job_record):
    enrolment = _enrolment(job_record)
    if not getattr(settings, "ENROLMENT_SMS_HOOK", ""):
        raise PermanentJobError("短信接口（ENROLMENT_SMS_HOOK）未配置，未发送")
    hook = import_string(settings.ENROLMENT_SMS_HOOK)
    hook(mobile=enrolment.mobile,
         message=f"您的“{enrolment.form_title}”已提交，受理编号{enrolment.reference}，请留意审核结果。",
         enrolment=enrolment)
    return {"summary": "已交给短信接口"}
