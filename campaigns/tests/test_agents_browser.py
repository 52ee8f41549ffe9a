"""The collective path in headless Chromium at phone width: agent sign-in (forced password change), roster upload
with a bad row, preview, confirm, staff batch approval, and the member's progress lookup."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from campaigns.tests.collective import AGENT_PASSWORD, make_agent, make_unit, person_id, person_row, roster_bytes
from core.roles import ENROLMENT_STAFF
from tests.test_accessibility_browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def fits_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_agent_upload_to_member_lookup(browser, phone_page, site_on_live_server, campaign, settings, tmp_path,
                                       django_user_model):
    settings.ROSTER_DIR = tmp_path / "rosters"
    base = site_on_live_server.url
    unit = make_unit()
    make_agent(unit, must_change=True)
    page = phone_page

    page.goto(base + "/agents/login/")
    page.get_by_label("用户名").fill("wuchuan")
    page.get_by_label("密码").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/agents/password/")
    page.get_by_label("当前密码（或工会提供的临时密码）").fill(AGENT_PASSWORD)
    page.locator("#id_new_password1").fill("Gong-hui-mima-77")
    page.get_by_label("再次输入新密码").fill("Gong-hui-mima-77")
    page.get_by_role("button", name="保存新密码").click()
    page.wait_for_url("**/agents/")
    assert "代办员工作台" in page.locator("h1").inner_text() and fits_phone(page)
    assert axe_violations(page) == []

    page.get_by_role("link", name="上传名单").first.click()
    rows = [person_row(1), person_row(2, mobile="12345"), person_row(3)]
    content = roster_bytes(campaign, unit, rows)
    page.set_input_files("input[name=roster]", files=[{
        "name": "武船工会名单.xlsx", "buffer": content,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.get_by_role("button", name="上传并预检").click()
    page.wait_for_selector(".upload-counts")
    counts = page.locator(".upload-counts").inner_text()
    assert "新增 2" in counts and "不通过 1" in counts
    assert "手机号码应为11位大陆手机号码" in page.locator(".roster-rows").inner_text()
    assert rows[0]["id_number"] not in page.content() and fits_phone(page)
    assert axe_violations(page) == []

    page.get_by_label("我确认名单中的会员均已知情并同意报名，所填信息真实有效").check()
    page.get_by_role("button", name="确认提交 2 条").click()
    page.wait_for_selector(".agent-messages")
    assert "名单已提交：新增 2 条" in page.locator(".agent-messages").inner_text()
    upload_url = page.url

    reviewer = django_user_model.objects.create_user("shenhe", password="Review-pass-2026-x")
    reviewer.groups.add(Group.objects.get(name=ENROLMENT_STAFF))  # a 报名审核 member, not a superuser
    staff = Client()
    staff.force_login(reviewer)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": base}])
    staff_page = context.new_page()
    upload_pk = upload_url.rstrip("/").rsplit("/", 1)[1]
    staff_page.goto(f"{base}/admin/roster_uploads/review/{upload_pk}/")
    staff_page.get_by_role("button", name="整批通过（2 条待审核）").click()
    staff_page.wait_for_selector("text=已整批通过 2 条报名")
    context.close()

    page.goto(upload_url)
    assert page.locator(".roster-rows").inner_text().count("已通过") == 2
    reference = page.locator(".roster-rows tbody tr").first.locator(".help").inner_text()

    page.goto(base + "/enrolment-status/")
    page.get_by_label("受理编号").fill(reference)
    page.get_by_label("身份证号后6位").fill(person_id(3)[-6:])
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector(".lookup-result")
    assert "未找到" in page.locator(".lookup-result").inner_text()
    page.get_by_label("受理编号").fill(reference)
    page.get_by_label("身份证号后6位").fill(person_id(1)[-6:])
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector(".lookup-state")
    assert page.locator(".lookup-state").inner_text() == "已通过" and fits_phone(page)
    assert axe_violations(page) == []
