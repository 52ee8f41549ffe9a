import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import URLPattern, get_resolver

from campaigns.models import AuditAction, EnrolmentAuditLog, UnitAgent
from campaigns.tests.collective import (
    AGENT_PASSWORD,
    latest_upload,
    make_agent,
    make_unit,
    person_row,
    upload,
)
from campaigns.tests.conftest import MUTUAL_AID_BLOCK

LOGIN = "/agents/login/"


@pytest.fixture(autouse=True)
def roster_settings(settings, tmp_path):
    settings.ROSTER_DIR = tmp_path / "rosters"
    return settings


@pytest.fixture
def unit(db):
    return make_unit()


@pytest.fixture
def agent(unit):
    return make_agent(unit)


def sign_in(client, username="wuchuan", password=AGENT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_agent_signs_in_on_the_public_site(client, agent):
    page = client.get(LOGIN)
    assert page.status_code == 200 and "代办员登录" in page.content.decode()
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    response = sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/agents/"
    html = client.get("/agents/").content.decode()
    assert "代办员工作台" in html and "武船工会" in html
    assert client.post("/agents/logout/").status_code == 302
    assert client.get("/agents/")["Location"].startswith(LOGIN)


def test_wrong_password_unknown_user_and_non_agents_get_the_same_message(client, agent, django_user_model):
    django_user_model.objects.create_user("staffer", password="Staff-pass-2026-x")
    for username, password in [("wuchuan", "wrong-password"), ("nobody", "whatever-123"),
                               ("staffer", "Staff-pass-2026-x")]:
        response = sign_in(client, username, password)
        assert response.status_code == 400
        assert "用户名或密码不正确，或该账号不是有效的代办员账号。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_disabled_agent_or_unit_cannot_sign_in_or_stay_signed_in(client, agent, unit):
    assert sign_in(client).status_code == 302
    unit.active = False
    unit.save()
    assert client.get("/agents/")["Location"].startswith(LOGIN)
    assert sign_in(client).status_code == 400
    unit.active = True
    unit.save()
    agent.user.is_active = False
    agent.user.save()
    assert sign_in(client).status_code == 400


def test_agents_have_no_wagtail_admin_access(client, agent):
    assert not agent.user.has_perm("wagtailadmin.access_admin") and not agent.user.is_staff
    sign_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    response = client.post("/admin/login/", {"username": "wuchuan", "password": AGENT_PASSWORD})
    assert "_auth_user_id" not in client.session or client.get("/admin/").status_code == 302
    assert response.status_code in (200, 302)


def test_first_login_forces_a_password_change_with_validators(client, unit):
    agent = make_agent(unit, must_change=True)
    response = sign_in(client)
    assert response["Location"] == "/agents/password/"
    assert client.get("/agents/")["Location"] == "/agents/password/"
    assert client.get(f"/agents/campaigns/1/{MUTUAL_AID_BLOCK}/template/")["Location"] == "/agents/password/"
    page = client.get("/agents/password/").content.decode()
    assert "请先设置自己的新密码" in page
    weak = client.post("/agents/password/", {"old_password": AGENT_PASSWORD, "new_password1": "1234567890",
                                             "new_password2": "1234567890"})
    assert weak.status_code == 400
    html = weak.content.decode()
    assert "这个密码太常见了" in html or "这个密码全部为数字" in html
    same = client.post("/agents/password/", {"old_password": AGENT_PASSWORD, "new_password1": AGENT_PASSWORD,
                                             "new_password2": AGENT_PASSWORD})
    assert "新密码不能与当前密码相同" in same.content.decode()
    done = client.post("/agents/password/", {"old_password": AGENT_PASSWORD, "new_password1": "Gong-hui-mima-77",
                                             "new_password2": "Gong-hui-mima-77"})
    assert done.status_code == 302 and done["Location"] == "/agents/"
    agent.refresh_from_db()
    assert not agent.must_change_password
    assert client.get("/agents/").status_code == 200  # still signed in after the change
    client.logout()
    assert sign_in(client, password="Gong-hui-mima-77")["Location"] == "/agents/"


@override_settings(AXES_ENABLED=True)
def test_agent_login_is_throttled_by_axes(client, agent):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, password="wrong-password").status_code == 400
    locked = sign_in(client, password="wrong-password")
    assert locked.status_code == 429
    response = sign_in(client)  # the right password is refused while locked
    assert response.status_code == 429 and "登录已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # another address is not locked out for this username
    assert sign_in(client, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_agent_login_is_throttled_per_address(client, agent, settings):
    settings.AGENT_LOGIN_IP_LIMIT = (3, 900)
    for n in range(3):
        assert sign_in(client, f"guess{n}", "wrong-password").status_code == 400
    response = sign_in(client)
    assert response.status_code == 429 and "登录失败次数过多" in response.content.decode()
    assert sign_in(client, REMOTE_ADDR="10.9.9.8").status_code == 302


def test_login_next_only_within_agent_pages(client, agent):
    response = client.post(LOGIN + "?next=https://evil.example/", {"username": "wuchuan",
                                                                     "password": AGENT_PASSWORD})
    assert response["Location"] == "/agents/"
    client.logout()
    response = client.post(LOGIN + "?next=/agents/password/", {"username": "wuchuan", "password": AGENT_PASSWORD})
    assert response["Location"] == "/agents/password/"


def agent_url_patterns():
    resolver = get_resolver()
    for entry in resolver.url_patterns:
        if str(entry.pattern) == "agents/":
            return [p for p in entry.url_patterns if isinstance(p, URLPattern)]
    raise AssertionError("agents/ URLs are not included")


def test_every_agent_url_with_another_units_ids_is_404(client, campaign, unit, agent):
    other_unit = make_unit(name="武钢工会", serial="MC0000002")
    other_agent = make_agent(other_unit, username="wugang")
    client.force_login(agent.user)
    assert upload(client, campaign, unit, [person_row(1), person_row(2)]).status_code == 302
    mine = latest_upload()
    client.post(f"/agents/uploads/{mine.pk}/confirm/", {"consent": "on"})
    upload(client, campaign, unit, [person_row(3)])
    pending = latest_upload()

    client.force_login(other_agent.user)
    routes = [p for p in agent_url_patterns() if "<int:pk>" in str(p.pattern)]
    assert {p.name for p in routes} == {"upload", "confirm", "cancel", "file", "export"}
    for target in (mine, pending):
        for pattern in routes:
            url = "/agents/" + str(pattern.pattern).replace("<int:pk>", str(target.pk))
            assert client.get(url).status_code in (404, 405), url
            assert client.post(url, {"consent": "on"}).status_code == 404, url
    for missing in ("/agents/campaigns/999999/x/template/", f"/agents/campaigns/{campaign.pk}/nope/template/",
                    f"/agents/campaigns/{campaign.pk}/nope/upload/"):
        assert client.get(missing).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "previewed" and pending.rows.count() == 1
    # the other unit's dashboard lists none of them
    html = client.get("/agents/").content.decode()
    assert f"第{mine.pk}批" not in html and "还没有上传过名单" in html
    # the owner still reaches all of them
    client.force_login(agent.user)
    for name, method in [("upload", "get"), ("file", "get"), ("export", "get")]:
        assert getattr(client, method)(f"/agents/uploads/{mine.pk}/{'' if name == 'upload' else name + '/'}") \
            .status_code == 200, name


def test_agent_file_and_export_show_no_full_id(client, campaign, unit, agent):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(agent.user)
    rows = [person_row(1), person_row(2, mobile="1")]
    upload(client, campaign, unit, rows)
    roster_upload = latest_upload()
    export = client.get(f"/agents/uploads/{roster_upload.pk}/export/")
    values = [list(r) for r in load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True)]
    assert values[0][:4] == ["Excel 行号", "姓名", "身份证号（部分隐藏）", "预检结果"]
    assert values[1][1] == "职工1" and "*" in values[1][2] and rows[0]["id_number"] not in str(values)
    assert values[2][3] == "不通过"
    original = client.get(f"/agents/uploads/{roster_upload.pk}/file/")
    assert original.status_code == 200 and original["Content-Disposition"].startswith("attachment")
    actions = set(EnrolmentAuditLog.objects.filter(upload=roster_upload).values_list("action", flat=True))
    assert {AuditAction.UPLOAD, AuditAction.AGENT_EXPORT, AuditAction.DOWNLOAD_FILE} <= actions


def test_staff_manage_agents_in_the_admin(client, unit):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.org", "Boss-pass-2026-x")
    client.force_login(admin)
    assert "基层工会" in client.get("/admin/units/").content.decode()
    response = client.post("/admin/unit_agents/new/", {"username": "hankou", "full_name": "周代办",
                                                       "email": "zhou@example.org", "unit": unit.pk,
                                                       "active": "on"})
    assert response.status_code == 200
    html = response.content.decode()
    password = re.search(r'class="one-time-password"[^>]*>([^<]+)<', html).group(1)
    assert "只显示这一次" in html and "no-store" in response["Cache-Control"]
    agent = UnitAgent.objects.get(user__username="hankou")
    assert agent.must_change_password and agent.unit == unit and agent.user.first_name == "周代办"
    assert not agent.user.is_staff and not agent.user.has_perm("wagtailadmin.access_admin")
    client.logout()
    assert sign_in(client, "hankou", password)["Location"] == "/agents/password/"
    client.logout()

    client.force_login(admin)
    reset = client.post(f"/admin/unit_agents/reset/{agent.pk}/")
    new_password = re.search(r'class="one-time-password"[^>]*>([^<]+)<', reset.content.decode()).group(1)
    assert new_password != password
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.RESET_PASSWORD, unit=unit).count() == 1
    edit = client.post(f"/admin/unit_agents/edit/{agent.pk}/", {"full_name": "周代办", "email": "",
                                                                "unit": unit.pk})
    assert edit.status_code == 302
    agent.user.refresh_from_db()
    assert not agent.user.is_active  # unticked 启用账号 disables the account
    client.logout()
    assert sign_in(client, "hankou", new_password).status_code == 400
    client.force_login(admin)
    duplicate = client.post("/admin/unit_agents/new/", {"username": "HANKOU", "full_name": "重复",
                                                        "unit": unit.pk, "active": "on"})
    assert "该用户名已被使用" in duplicate.content.decode()


def test_unit_admin_validates_the_credit_code(client, db):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.org", "Boss-pass-2026-x")
    client.force_login(admin)
    response = client.post("/admin/units/new/", {"name": "江汉工会", "credit_code": "81420106MC0000001Y",
                                                 "district": "江汉区", "active": "on"})
    assert response.status_code == 200 and "校验位不正确" in response.content.decode()
    response = client.post("/admin/units/new/", {"name": "江汉工会", "credit_code": "81420106mc0000001x",
                                                 "district": "江汉区", "active": "on"})
    assert response.status_code == 302
    from campaigns.models import Unit

    assert Unit.objects.get(name="江汉工会").credit_code == "81420106MC0000001X"
