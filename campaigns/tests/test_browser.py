"""End-to-end enrolment in headless Chromium against a real gunicorn server on its own database.

The server runs on a separate database (not pytest's live_server), so this test never flushes the shared
test database that later tests rely on.
"""

import pytest

from bench.enrolment_load import running_server
from campaigns.tests.conftest import VALID_ID

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOW = """
from campaigns.models import Enrolment
for e in Enrolment.objects.all():
    print("ENROLMENT", e.reference, e.id_number, e.name)
"""


def test_enrol_with_wrong_then_corrected_id(phone_page):
    wrong_id = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
    with running_server(workers=1, threads=2) as server:
        page = phone_page
        page.goto(server.base_url + server.path)
        assert page.locator(".campaign-status").first.inner_text() == "进行中"
        form = page.locator("form.enrolment-form").first
        form.get_by_label("姓名").fill("张三")
        form.get_by_label("身份证号").fill(wrong_id)
        form.get_by_label("手机号码").fill("13812345678")
        form.get_by_label("工作单位").fill("武汉船舶工业公司")
        form.get_by_label("所属基层工会").fill("武船工会")
        form.get_by_label("互助方案").select_option("住院医疗互助")
        form.get_by_label("参加份数").fill("2")
        form.locator("input[name=consent]").check()
        form.get_by_role("button", name="提交报名").click()

        page.wait_for_selector(".error-summary")
        assert "身份证号校验位不正确" in page.locator(".error-summary").first.inner_text()
        form = page.locator("form.enrolment-form").first
        id_input = form.get_by_label("身份证号")
        assert id_input.get_attribute("aria-invalid") == "true"
        described = id_input.get_attribute("aria-describedby")
        assert "身份证号校验位不正确" in page.locator(f"[id='{described}']").inner_text()
        assert form.get_by_label("姓名").input_value() == "张三"
        assert form.get_by_label("所属基层工会").input_value() == "武船工会"
        assert "ENROLMENT" not in server.manage("shell", stdin=SHOW)

        id_input.fill(VALID_ID)
        form.get_by_role("button", name="提交报名").click()
        page.wait_for_selector(".reference")
        reference = page.locator(".reference").inner_text()
        assert reference.startswith("HZ-")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        stored = [line.split() for line in server.manage("shell", stdin=SHOW).splitlines()
                  if line.startswith("ENROLMENT")]
        assert stored == [["ENROLMENT", reference, VALID_ID, "张三"]]
