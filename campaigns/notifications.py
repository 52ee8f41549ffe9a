"""Status notifications of the collective path: the member by SMS (settings.ENROLMENT_SMS_HOOK, text per campaign),
the unit's agent by e-mail. Never a full ID number: masked at most."""

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from core.jobs import job

logger = logging.getLogger(__name__)


def public_state(enrolment, reviewed=None):
    """The state a member sees: 已提交 / 审核中 / 待核实 / 已通过 / 已退回."""
    status = enrolment.status
    if status == "approved":
        return "已通过"
    if status == "returned":
        return "已退回"
    if status == "conflict":
        return "待核实"
    if reviewed is None:
        reviewed = enrolment.reviews.exists()
    return "审核中" if reviewed else "已提交"


def sms_text(enrolment, state, reason=""):
    from campaigns.models.pages import STATUS_SMS_DEFAULT

    page = enrolment.campaign
    template = (getattr(page, "status_sms_template", "") or STATUS_SMS_DEFAULT).strip() or STATUS_SMS_DEFAULT
    values = {"活动": page.title, "表单": enrolment.form_title, "受理编号": enrolment.reference or "",
              "状态": state, "原因": f"原因：{reason}" if reason else ""}
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template.strip()


def send_sms(enrolment, message):
    hook_path = getattr(settings, "ENROLMENT_SMS_HOOK", "")
    if not hook_path or not enrolment.mobile:
        return
    try:
        import_string(hook_path)(mobile=enrolment.mobile, message=message, enrolment=enrolment)
    except Exception:
        logger.exception("status SMS failed for %s", enrolment.reference)


def agent_addresses(upload):
    if upload.uploaded_by_id and upload.uploaded_by.email and upload.uploaded_by.is_active:
        return [upload.uploaded_by.email]
    return sorted({agent.user.email for agent in upload.unit.agents.select_related("user")
                   if agent.user.email and agent.user.is_active})


def mail_agent(upload, subject, body):
    recipients = agent_addresses(upload)
    if not recipients:
        return
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        logger.exception("agent e-mail failed for upload %s", upload.pk)


def status_changed(reviews):
    """After commit: one SMS per changed enrolment; one e-mail per upload to its agent."""
    by_upload = defaultdict(list)
    for review in reviews:
        enrolment = review.enrolment
        state = public_state(enrolment, reviewed=review.to_status == "pending")
        send_sms(enrolment, sms_text(enrolment, state, enrolment.review_reason if state == "已退回" else ""))
        if enrolment.roster_upload_id:
            by_upload[enrolment.roster_upload_id].append((review, enrolment, state))
    for changes in by_upload.values():
        upload = changes[0][1].roster_upload
        lines = [f"{e.reference} {e.id_number_masked} → {state}" + (f"（原因：{e.review_reason}）"
                                                                     if state == "已退回" else "")
                 for _, e, state in changes[:200]]
        if len(changes) > 200:
            lines.append(f"……共 {len(changes)} 条")
        body = (f"活动：{upload.campaign.title}\n名单：第{upload.pk}批（{upload.original_name}）\n"
                f"以下报名的审核状态已更新：\n" + "\n".join(lines) + "\n\n请登录代办员页面查看详情。\n")
        mail_agent(upload, f"【报名审核】{upload.unit.name} 第{upload.pk}批名单有 {len(changes)} 条状态更新", body)


def roster_confirmed(upload, enrolments):
    """After commit: members of newly stored rows learn they were enrolled by their unit; the agent gets a summary."""
    for enrolment in enrolments:
        send_sms(enrolment, sms_text(enrolment, "已提交（由" + upload.unit.name + "代为报名）"))
    body = (f"活动：{upload.campaign.title}\n表单：{upload.form_title}\n"
            f"名单：第{upload.pk}批（{upload.original_name}）\n"
            f"新增 {upload.new_count} 条，更新 {upload.update_count} 条，已报名跳过 {upload.enrolled_count} 条，"
            f"待核实 {upload.conflict_count} 条，不通过 {upload.rejected_count} 条。\n"
            "工会审核后会再通知您。\n")
    mail_agent(upload, f"【名单已提交】{upload.unit.name} 第{upload.pk}批", body)


# In the background (core.jobs): a batch approval of 5,000 rows sends 5,000 messages, never inside the request.

@job(label="报名状态通知")
def send_status_notifications(job_record):
    from campaigns.models import EnrolmentReview

    reviews = list(EnrolmentReview.objects.filter(pk__in=job_record.params["reviews"]).order_by("pk")
                   .select_related("enrolment__campaign", "enrolment__roster_upload__unit"))
    status_changed(reviews)
    return {"summary": f"已通知 {len(reviews)} 条状态变化"}


@job(label="名单提交通知")
def send_roster_notifications(job_record):
    from campaigns.models import Enrolment, RosterUpload

    upload = RosterUpload.objects.select_related("unit", "campaign", "uploaded_by").get(pk=job_record.params["upload"])
    enrolments = list(Enrolment.objects.filter(pk__in=job_record.params["enrolments"]).select_related("campaign")
                      .order_by("pk"))
    roster_confirmed(upload, enrolments)
    return {"summary": f"已通知 {len(enrolments)} 名会员和代办员"}


def queue_status_notifications(reviews):
    ids = sorted(review.pk for review in reviews if review.pk)
    if ids:
        send_status_notifications.start(params={"reviews": ids}, key=f"status-notify:{ids[0]}:{ids[-1]}:{len(ids)}",
                                        label=f"报名状态通知（{len(ids)} 条）")


def queue_roster_notifications(upload, enrolments):
    send_roster_notifications.start(params={"upload": upload.pk, "enrolments": [e.pk for e in enrolments]},
                                    key=f"roster-notify:{upload.pk}", label=f"名单提交通知（第{upload.pk}批）")
