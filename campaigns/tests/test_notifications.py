"""Enrolment notifications (e-mail to the campaign, SMS hook to the visitor) sent by the real task worker."""

import json

from django.conf import settings as django_settings
from django.core import mail
from django_tasks_db.models import DBTaskResult

from campaigns.models import Enrolment
from campaigns.tests.conftest import VALID_ID, mutual_aid_data
from core.jobs import RUN_JOB_PATH, run_job
from core.models import BackgroundJob, JobStatus
from core.tests.worker import run_worker

sent = []


def sms_hook(mobile, message, enrolment):
    sent.append((mobile, message))


def sms_hook_failing_twice(mobile, message, enrolment):
    sent.append((mobile, message))
    if len(sent) <= 2:
        raise ConnectionError(f"短信网关超时：{mobile}")


def sms_hook_down(mobile, message, enrolment):
    raise ConnectionError(f"短信网关拒绝：{mobile}")


def test_email_timeout_is_bounded():
    assert django_settings.EMAIL_TIMEOUT == 10


def test_worker_sends_email_and_sms_without_the_id_number(task_queue, client, campaign, settings):
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.test_notifications.sms_hook"
    sent.clear()
    assert client.post(campaign.url, mutual_aid_data()).status_code == 302
    enrolment = Enrolment.objects.get()
    assert mail.outbox == [] and sent == []  # nothing is sent inside the visitor's request
    queued = DBTaskResult.objects.filter(status="READY", task_path=RUN_JOB_PATH)
    assert queued.count() == 2
    assert all(VALID_ID not in json.dumps(t.args_kwargs) and "13812345678" not in json.dumps(t.args_kwargs)
               for t in queued)
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["huzhu@example.org"] and enrolment.reference in message.subject
    assert enrolment.id_number_masked in message.body and VALID_ID not in message.body
    assert sent == [("13812345678", sent[0][1])] and enrolment.reference in sent[0][1] and VALID_ID not in sent[0][1]
    jobs = BackgroundJob.objects.order_by("pk")
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert [j.key for j in jobs] == [f"enrolment-email:{enrolment.pk}", f"enrolment-sms:{enrolment.pk}"]

    for job in jobs:  # a duplicate run sends nothing twice
        run_job.enqueue(job.pk)
    run_worker()
    assert len(mail.outbox) == 1 and len(sent) == 1


def test_sms_failing_twice_is_retried(task_queue, client, campaign, settings):
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.test_notifications.sms_hook_failing_twice"
    sent.clear()
    assert client.post(campaign.url, mutual_aid_data()).status_code == 302
    run_worker()
    job = BackgroundJob.objects.get(key__startswith="enrolment-sms:")
    assert len(sent) == 3 and job.attempts == 3 and job.status == JobStatus.SUCCEEDED
    assert len(mail.outbox) == 1  # the e-mail is its own job, sent once


def test_sms_gateway_down_fails_visibly_without_the_mobile(task_queue, client, campaign, settings,
                                                           django_user_model):
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.test_notifications.sms_hook_down"
    assert client.post(campaign.url, mutual_aid_data()).status_code == 302
    run_worker()
    job = BackgroundJob.objects.get(key__startswith="enrolment-sms:")
    assert job.status == JobStatus.FAILED and job.attempts == 3
    assert job.error == "ConnectionError: 短信网关拒绝：138****5678"
    assert Enrolment.objects.count() == 1 and len(mail.outbox) == 1
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.org", "pw-123456789"))
    listing = client.get("/admin/jobs/").content.decode()
    assert "报名确认短信" in listing and "短信网关拒绝" in listing and "13812345678" not in listing
