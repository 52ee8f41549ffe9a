import datetime
import logging
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from campaigns import crypto
from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import (
    MUTUAL_AID_BLOCK,
    VALID_ID,
    VALID_ID_X,
    make_campaign,
    mutual_aid_data,
    service_card_data,
)

sms_sent = []


def fake_sms(mobile, message, enrolment):
    sms_sent.append((mobile, message))


def submit(client, page, data):
    return client.post(page.url, data)


def test_valid_enrolment_is_stored_and_confirmed(client, campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, campaign, mutual_aid_data())
    assert response.status_code == 302
    enrolment = Enrolment.objects.get()
    assert re.fullmatch(r"HZ-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{12}", enrolment.reference)
    assert enrolment.plan == "住院医疗互助（每份30元）" and enrolment.shares == 2
    assert enrolment.branch == "武船工会" and enrolment.status == "pending"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert enrolment.reference in html and "报名已提交" in html and "所属工会将核实" in html
    assert VALID_ID not in html


def test_service_card_reference_and_fields(client, campaign):
    response = submit(client, campaign, service_card_data(delivery="delivery", address="武汉市江岸区解放大道1号",
                                                          membership_number="WH-2026-8"))
    assert response.status_code == 302
    enrolment = Enrolment.objects.get()
    assert enrolment.reference.startswith("FWK-")
    assert enrolment.delivery == "delivery" and enrolment.address == "武汉市江岸区解放大道1号"
    assert enrolment.membership_number == "WH-2026-8" and enrolment.id_number == VALID_ID_X


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"name": ""}, "name", "请填写姓名。"),
        ({"id_number": ""}, "id_number", "请填写身份证号。"),
        ({"id_number": "420106199003071230"}, "id_number", "身份证号校验位不正确，请检查是否输错。"),
        ({"id_number": "4201061990030"}, "id_number", "身份证号应为18位：前17位为数字，最后一位为数字或X。"),
        ({"id_number": make_id_number("42010619901307123")}, "id_number",
         "身份证号中的出生日期无效，请核对第7至14位。"),
        ({"mobile": "12345"}, "mobile", "请填写11位大陆手机号码，如 13812345678。"),
        ({"mobile": ""}, "mobile", "请填写手机号码。"),
        ({"employer": ""}, "employer", "请填写工作单位。"),
        ({"branch": ""}, "branch", "请填写所属基层工会。"),
        ({"plan": ""}, "plan", "请填写互助方案。"),
        ({"plan": "不存在的方案"}, "plan", "请从列表中选择互助方案。"),
        ({"shares": "9"}, "shares", "参加份数应在1至5份之间。"),
        ({"shares": "0"}, "shares", "参加份数应在1至5份之间。"),
        ({"shares": "两份"}, "shares", "参加份数请填写整数。"),
        ({"consent": ""}, "consent", "请阅读并勾选同意条款。"),
    ],
)
def test_mutual_aid_validation_messages(client, campaign, overrides, field, message):
    data = mutual_aid_data(**overrides)
    if not data["consent"]:
        del data["consent"]
    response = submit(client, campaign, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    field_id = f"id_{field}-{MUTUAL_AID_BLOCK}"
    assert f'aria-describedby="{field_id}-error"' in html
    assert f'<p class="field-error" id="{field_id}-error">{message}' in html
    assert f'href="#{field_id}"' in html  # error summary links to the field
    assert "提交未成功" in html
    assert Enrolment.objects.count() == 0


def test_input_is_kept_on_error(client, campaign):
    response = submit(client, campaign, mutual_aid_data(mobile="123", name="王小明", employer="武钢集团"))
    html = response.content.decode()
    assert 'value="王小明"' in html and 'value="武钢集团"' in html and 'value="123"' in html
    assert '<option value="住院医疗互助（每份30元）" selected>' in html
    assert "checked" in html.split(f'id="id_consent-{MUTUAL_AID_BLOCK}"')[0].rsplit("<input", 1)[1] or \
        f'id="id_consent-{MUTUAL_AID_BLOCK}" name="consent" checked' in html


def test_service_card_validation(client, campaign):
    response = submit(client, campaign, service_card_data(delivery="delivery", address=""))
    assert response.status_code == 400
    assert "选择邮寄时请填写邮寄地址。" in response.content.decode()
    response = submit(client, campaign, service_card_data(delivery="drone"))
    assert "请选择领取方式。" in response.content.decode()
    response = submit(client, campaign, service_card_data(membership_number="<script>"))
    assert "会员证号只能包含字母、数字和连字符。" in response.content.decode()
    assert Enrolment.objects.count() == 0


def test_duplicate_id_in_same_campaign_is_refused(client, campaign, campaign_index):
    assert submit(client, campaign, mutual_aid_data()).status_code == 302
    response = submit(client, campaign, mutual_aid_data(shares="3"))
    assert response.status_code == 409
    assert "该身份证号已在本活动报名，请勿重复提交。" in response.content.decode()
    # the other form of the same campaign counts too: one enrolment per ID per campaign
    response = submit(client, campaign, service_card_data(id_number=VALID_ID, name=" 张三 ", mobile="13812345678"))
    assert response.status_code == 409
    assert Enrolment.objects.count() == 1
    assert Enrolment.objects.get().shares == 2
    other = make_campaign(campaign_index, slug="other")
    assert submit(client, other, mutual_aid_data()).status_code == 302
    assert Enrolment.objects.count() == 2
    assert not Enrolment.objects.exclude(conflict_of=None).exists()


@pytest.mark.parametrize("kind", ["upcoming", "ended", "block_closed"])
def test_closed_forms_accept_nothing(client, campaign_index, kind):
    today = timezone.localdate()
    if kind == "upcoming":
        page = make_campaign(campaign_index, slug="c", start=today + datetime.timedelta(days=1))
        message = "本活动尚未开始"
    elif kind == "ended":
        page = make_campaign(campaign_index, slug="c", start=today - datetime.timedelta(days=9),
                             end=today - datetime.timedelta(days=1))
        message = "本活动已结束，报名已关闭，不再接受提交。"
    else:
        page = make_campaign(campaign_index, slug="c", closing_date=today - datetime.timedelta(days=1))
        message = "截止，不再接受提交。"
    response = submit(client, page, mutual_aid_data())
    assert response.status_code == 403
    assert message in response.content.decode()
    assert Enrolment.objects.count() == 0
    if kind == "block_closed":  # the other block on the same page is still open
        assert submit(client, page, service_card_data()).status_code == 302


def test_honeypot(client, campaign):
    response = submit(client, campaign, mutual_aid_data(website="http://spam.example"))
    assert response.status_code == 400
    assert "提交未被受理" in response.content.decode()
    assert Enrolment.objects.count() == 0


def test_unknown_block(client, campaign):
    response = submit(client, campaign, mutual_aid_data(block_id="nope"))
    assert response.status_code == 400
    assert "找不到要提交的报名表" in response.content.decode()


def test_rate_limit_per_ip(client, campaign, settings):
    settings.ENROLMENT_RATE_LIMIT = (3, 600)
    for n in range(3):
        assert submit(client, campaign, mutual_aid_data(id_number=make_id_number(f"4201061990031{n}123"))
                      ).status_code == 302
    response = submit(client, campaign, mutual_aid_data())
    assert response.status_code == 429
    assert "提交过于频繁，请稍后再试。" in response.content.decode()
    assert Enrolment.objects.count() == 3
    response = submit(client, campaign, mutual_aid_data(mobile="1"))  # over the limit: refused before validation
    assert response.status_code == 429
    other_ip = Client(REMOTE_ADDR="10.0.0.9")
    assert other_ip.post(campaign.url, mutual_aid_data()).status_code == 302


def test_invalid_posts_do_not_use_up_the_ip_limit(client, campaign, settings):
    settings.ENROLMENT_RATE_LIMIT = (2, 600)
    for _ in range(6):  # a member struggling with the form is never locked out by its own mistakes
        assert submit(client, campaign, mutual_aid_data(mobile="1")).status_code == 400
        assert submit(client, campaign, mutual_aid_data(id_number="420106199003071230")).status_code == 400
    assert submit(client, campaign, mutual_aid_data()).status_code == 302
    assert submit(client, campaign, service_card_data()).status_code == 302
    assert submit(client, campaign, mutual_aid_data(id_number=make_id_number("42010619900301123"))
                  ).status_code == 429
    assert Enrolment.objects.count() == 2


def test_honeypot_posts_use_up_the_ip_limit(client, campaign, settings):
    settings.ENROLMENT_RATE_LIMIT = (2, 600)
    for _ in range(2):
        assert submit(client, campaign, mutual_aid_data(website="http://spam.example")).status_code == 400
    assert submit(client, campaign, mutual_aid_data()).status_code == 429


def test_csrf_required(campaign):
    client = Client(enforce_csrf_checks=True)
    response = client.post(campaign.url, mutual_aid_data())
    assert response.status_code == 403
    assert "提交未被受理" in response.content.decode()
    assert Enrolment.objects.count() == 0
    page = client.get(campaign.url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert client.post(campaign.url, mutual_aid_data(csrfmiddlewaretoken=token)).status_code == 302


def test_id_number_encrypted_at_rest_and_hashed(client, campaign):
    from django.db import connection

    submit(client, campaign, mutual_aid_data())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_encrypted, id_number_hash, id_number_masked FROM campaigns_enrolment")
        encrypted, digest, masked = cursor.fetchone()
    assert VALID_ID not in encrypted and VALID_ID not in digest
    assert crypto.decrypt(encrypted) == VALID_ID
    assert digest == crypto.lookup_hash(VALID_ID) and len(digest) == 64
    assert masked == VALID_ID[:4] + "*" * 10 + VALID_ID[-4:]


def test_encryption_round_trip_and_key_from_settings(settings, tmp_path):
    from cryptography.fernet import Fernet

    token = crypto.encrypt("11010519491231002X")
    assert token != "11010519491231002X" and crypto.decrypt(token) == "11010519491231002X"
    digest = crypto.lookup_hash("11010519491231002X")
    settings.ENROLMENT_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.DecryptionError):  # another key cannot read it, and says so
        crypto.decrypt(token)
    assert crypto.lookup_hash("11010519491231002X") == digest  # the hash has its own key
    assert crypto.lookup_hash("x") != crypto.lookup_hash("y")
    settings.ENROLMENT_KEY = ""
    settings.ENROLMENT_KEY_FILE = tmp_path / "var" / "enrolment.key"
    crypto.encrypt("1")
    crypto.lookup_hash("1")
    for name in ("enrolment.key", "enrolment-hash.key"):
        assert (tmp_path / "var" / name).exists()
        assert oct((tmp_path / "var" / name).stat().st_mode & 0o777) == "0o600"
    assert crypto.lookup_hash("11010519491231002X") != digest


def test_dev_key_file_is_git_ignored():
    import subprocess

    from django.conf import settings

    for path in (settings.ENROLMENT_KEY_FILE, crypto.hash_key_file()):
        result = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=settings.BASE_DIR)
        assert result.returncode == 0
    assert crypto.hash_key_file().parent == settings.ENROLMENT_KEY_FILE.parent


def test_notifications_email_and_sms(client, campaign, settings, django_capture_on_commit_callbacks):
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.test_submission.fake_sms"
    sms_sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, campaign, mutual_aid_data())
    enrolment = Enrolment.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["huzhu@example.org"] and enrolment.reference in message.subject
    assert enrolment.id_number_masked in message.body and VALID_ID not in message.body
    assert sms_sent == [("13812345678", sms_sent[0][1])] and enrolment.reference in sms_sent[0][1]


def test_failing_sms_hook_loses_nothing(client, campaign, settings, django_capture_on_commit_callbacks):
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.test_submission.missing_function"
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(client, campaign, mutual_aid_data()).status_code == 302
    assert Enrolment.objects.count() == 1


def test_no_id_number_in_logs(client, campaign, caplog, settings, django_capture_on_commit_callbacks):
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.test_submission.missing_function"
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, campaign, mutual_aid_data())
    submit(client, campaign, mutual_aid_data())
    submit(client, campaign, mutual_aid_data(id_number="420106199003071230"))
    assert "enrolment stored" in caplog.text
    assert VALID_ID not in caplog.text and "420106199003071230" not in caplog.text
    assert VALID_ID[:6] + "1990" not in caplog.text


def test_sensitive_post_parameters_hide_id_in_error_reports(rf, campaign):
    from django.views.debug import SafeExceptionReporterFilter

    request = rf.post(campaign.url, mutual_aid_data())
    request.sensitive_post_parameters = ["id_number"]
    cleaned = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleaned["id_number"] != VALID_ID
