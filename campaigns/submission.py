"""Visitor-facing enrolment: validation, storage, notifications."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils.module_loading import import_string

from campaigns import crypto, form_kinds
from campaigns.forms import FORM_CLASSES
from core.clientip import client_ip

logger = logging.getLogger(__name__)

DUPLICATE_MESSAGE = "该身份证号已在本活动报名，请勿重复提交。如需修改信息，请联系所属工会。"
TOO_MANY = "提交过于频繁，请稍后再试。"


def form_for(page, block_value, data=None):
    form_class = FORM_CLASSES.get(block_value.get("form_kind"), FORM_CLASSES[form_kinds.DEFAULT])
    return form_class(data=data, block_value=block_value, age_range=page.age_range)


def initial_states(page):
    states = {}
    for block in page.form_blocks():
        states[block.id] = {
            "block_id": block.id,
            "value": block.value,
            "form": form_for(page, block.value),
            "closed": page.closed_message(block.value),
            "error": "",
        }
    return states


def ip_key(request):
    return f"campaigns:enrol-rate:{client_ip(request)}"


def count_hit(key, window):
    """Add one to the counter for this window and return it."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        return 1


def ip_limit_reached(request):
    """True when this IP has used up its accepted submissions for the window (nothing counted here)."""
    limit, _ = settings.ENROLMENT_RATE_LIMIT
    return (cache.get(ip_key(request)) or 0) >= limit


def ip_rate_limited(request):
    """Count one accepted submission against the IP; True once the limit is exceeded."""
    limit, window = settings.ENROLMENT_RATE_LIMIT
    return count_hit(ip_key(request), window) > limit


def id_rate_limited(page, id_hash):
    """Count one submission of this ID number in this campaign; True once the limit is exceeded."""
    limit, window = settings.ENROLMENT_ID_RATE_LIMIT
    return count_hit(f"campaigns:enrol-id-rate:{page.pk}:{id_hash}", window) > limit


def handle_submission(page, request):
    request.sensitive_post_parameters = ["id_number"]
    block = page.find_form_block(request.POST.get("block_id", ""))
    if block is None:
        return page.render_with_forms(request, status=400, notice="找不到要提交的报名表，请刷新页面后重试。")
    state = {"block_id": block.id, "value": block.value, "closed": page.closed_message(block.value), "error": ""}
    if ip_limit_reached(request):
        state |= {"form": form_for(page, block.value, request.POST), "error": TOO_MANY}
        return page.render_with_forms(request, {block.id: state}, status=429)
    if state["closed"]:
        state["form"] = form_for(page, block.value)
        return page.render_with_forms(request, {block.id: state}, status=403)
    form = form_for(page, block.value, request.POST)
    state["form"] = form
    if form.honeypot_filled():
        ip_rate_limited(request)  # bots use up the IP's allowance; form errors do not
        state["error"] = "提交未被受理：请不要填写标为“请留空”的字段。"
        return page.render_with_forms(request, {block.id: state}, status=400)
    if not form.is_valid():
        return page.render_with_forms(request, {block.id: state}, status=400)
    if ip_rate_limited(request):
        state["error"] = TOO_MANY
        return page.render_with_forms(request, {block.id: state}, status=429)
    id_hash = crypto.lookup_hash(form.cleaned_data["id_number"])
    if id_rate_limited(page, id_hash):
        minutes = max(1, settings.ENROLMENT_ID_RATE_LIMIT[1] // 60)
        state["error"] = f"同一身份证号在本活动的提交次数已达上限，请{minutes}分钟后再试。"
        return page.render_with_forms(request, {block.id: state}, status=429)
    enrolment = store(page, block, form, id_hash)
    if enrolment is None:
        form.add_error("id_number", DUPLICATE_MESSAGE)
        return page.render_with_forms(request, {block.id: state}, status=409)
    if enrolment is BUSY:
        state["error"] = "系统繁忙，提交未保存，请稍后再试。"
        return page.render_with_forms(request, {block.id: state}, status=503)
    transaction.on_commit(lambda: notify(page, enrolment))
    return redirect(page.confirmation_url(enrolment), permanent=False)


BUSY = object()


def store(page, block, form, id_hash):
    """Save one enrolment and return it; None for a true duplicate (same ID, name and mobile as the first
    enrolment of this ID in the campaign). Anything else with that ID is kept as a 待核实 conflict linked to
    the first, which stays untouched. The partial unique constraint settles concurrent first submissions."""
    from campaigns.models import Enrolment, EnrolmentStatus

    fields = form.enrolment_fields()
    for _ in range(3):  # a concurrent first submission or a reference collision: look again
        with transaction.atomic():
            first = Enrolment.first_for(page, id_hash)
            if first is not None and first.same_person(fields["name"], fields["mobile"]):
                return None
            enrolment = Enrolment(campaign=page, block_id=block.id, form_kind=block.value["form_kind"],
                                  form_title=block.value["title"][:100], conflict_of=first,
                                  status=EnrolmentStatus.CONFLICT if first else EnrolmentStatus.PENDING,
                                  reference=Enrolment.new_reference(block.value["form_kind"]), **fields)
            enrolment.set_id_number(form.cleaned_data["id_number"], id_hash)
            try:
                with transaction.atomic():
                    enrolment.save()
            except IntegrityError:
                continue
        if first is None:
            logger.info("enrolment stored: %s (campaign %s)", enrolment.reference, page.pk)
        else:
            logger.warning("enrolment stored as conflict: %s conflicts with %s (campaign %s)",
                           enrolment.reference, first.reference, page.pk)
        return enrolment
    logger.error("enrolment not stored after repeated integrity errors (campaign %s)", page.pk)
    return BUSY


def notify(page, enrolment):
    message = (
        f"活动：{page.title}\n表单：{enrolment.form_title}\n受理编号：{enrolment.reference}\n"
        f"姓名：{enrolment.name}\n身份证号：{enrolment.id_number_masked}\n基层工会：{enrolment.branch}\n"
        f"请登录管理后台审核。\n"
    )
    if enrolment.conflict_of_id:
        message += (f"注意：本活动已有同一身份证号的报名（{enrolment.conflict_of.reference}），"
                    f"本条姓名或手机号码与之不同，状态为“待核实”，请核实后处理。\n")
    if page.contact_email:
        try:
            send_mail(f"【新报名】{page.title} {enrolment.reference}", message, None, [page.contact_email])
        except Exception:
            logger.exception("enrolment email failed for %s", enrolment.reference)
    hook_path = getattr(settings, "ENROLMENT_SMS_HOOK", "")
    if hook_path:
        try:
            hook = import_string(hook_path)
            hook(mobile=enrolment.mobile,
                 message=f"您的“{enrolment.form_title}”已提交，受理编号{enrolment.reference}，请留意审核结果。",
                 enrolment=enrolment)
        except Exception:
            logger.exception("enrolment SMS hook failed for %s", enrolment.reference)
