import re

import pytest

from campaigns.models import Enrolment, EnrolmentReview
from campaigns.tests.collective import latest_upload, make_agent, make_unit, person_id, person_row, upload
from campaigns.tests.conftest import VALID_ID_X, mutual_aid_data

URL = "/enrolment-status/"


@pytest.fixture(autouse=True)
def roster_settings(settings, tmp_path):
    settings.ROSTER_DIR = tmp_path / "rosters"
    return settings


@pytest.fixture
def individual(client, campaign):
    assert client.post(campaign.url, mutual_aid_data(name="王五", id_number=VALID_ID_X)).status_code == 302
    return Enrolment.objects.get(name="王五")


def ask(client, reference, tail, address="10.1.1.1"):
    return client.post(URL, {"reference": reference, "id_tail": tail}, REMOTE_ADDR=address)


def without_token(response):
    """The page less its CSRF token and the echoed reference (the visitor's own input)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r'name="reference" value="[^"]*"', "", html)


def test_campaign_page_links_to_the_lookup(client, campaign):
    html = client.get(campaign.url).content.decode()
    assert f'href="{URL}"' in html and "报名进度查询" in html
    page = client.get(URL)
    assert page.status_code == 200 and "<h1>报名进度查询</h1>" in page.content.decode()


def test_every_campaign_page_links_to_the_lookup(client, campaign_index):
    """Also a campaign whose form was taken off the page: its members still ask how their enrolment stands."""
    from campaigns.tests.conftest import make_campaign

    page = make_campaign(campaign_index, slug="no-form")
    page.body = [block for block in page.body.raw_data if block["type"] != "enrolment_form"]
    page.save_revision().publish()
    page.refresh_from_db()
    assert not page.form_blocks()
    assert f'href="{URL}"' in client.get(page.url).content.decode()


def test_right_pair_shows_state_and_date_only(client, individual):
    response = ask(client, individual.reference, VALID_ID_X[-6:])
    html = response.content.decode()
    assert response.status_code == 200 and '<strong class="lookup-state">已提交</strong>' in html
    assert "更新时间：" in html
    for private in ("王五", individual.mobile, individual.id_number_masked, individual.campaign.title):
        assert private not in html.split("<h1>")[1].split("查询次数有限制")[0].replace(individual.reference, "")
    # lower-case x, spaces and full-width characters are folded
    tail = VALID_ID_X[-6:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    wide_reference = individual.reference.lower().replace("-", "－")
    assert "已提交" in ask(client, wide_reference, " " + tail + " ", "10.1.1.2").content.decode()


def test_states_follow_the_review(client, individual):
    individual.status, individual.review_reason = "returned", "工作单位填写有误"
    individual.save()
    EnrolmentReview.objects.create(enrolment=individual, from_status="pending", to_status="returned",
                                   reason="工作单位填写有误")
    html = ask(client, individual.reference, VALID_ID_X[-6:]).content.decode()
    assert "已退回" in html and "退回原因：工作单位填写有误" in html
    individual.status, individual.review_reason = "pending", ""
    individual.save()
    assert "审核中" in ask(client, individual.reference, VALID_ID_X[-6:], "10.1.1.3").content.decode()
    individual.status = "approved"
    individual.save()
    assert "已通过" in ask(client, individual.reference, VALID_ID_X[-6:], "10.1.1.4").content.decode()


def test_every_wrong_pair_gets_the_same_neutral_answer(client, individual, campaign):
    other = Enrolment(campaign=campaign, block_id="b", form_kind="mutual_aid", form_title="表", name="赵六",
                      mobile="13800000000", employer="单位", branch="工会")
    other.set_id_number(person_id(5))
    other.reference = Enrolment.new_reference("mutual_aid")
    other.save()
    wrong = [
        (individual.reference, "000000"),                      # right reference, wrong tail
        (individual.reference, person_id(5)[-6:]),             # another member's tail
        ("HZ-2000-999999", VALID_ID_X[-6:]),                   # no such reference, right tail
        ("HZ-2000-999999", "123456"),
        (other.reference, VALID_ID_X[-6:]),
    ]
    bodies = set()
    for n, (reference, tail) in enumerate(wrong):
        response = ask(client, reference, tail, f"10.2.0.{n}")
        assert response.status_code == 200
        bodies.add(without_token(response))
        assert f'value="{tail}"' not in response.content.decode()
    assert len(bodies) == 1
    assert "未找到：请核对受理编号和身份证号后6位。" in bodies.pop()
    bad = ask(client, individual.reference, "12345", "10.2.1.1")
    assert bad.status_code == 400 and "请填写身份证号的最后6位" in bad.content.decode()


def test_roster_enrolments_can_be_looked_up(client, campaign):
    unit = make_unit()
    agent = make_agent(unit)
    client.force_login(agent.user)
    upload(client, campaign, unit, [person_row(7)])
    client.post(f"/agents/uploads/{latest_upload().pk}/confirm/", {"consent": "on"})
    enrolment = Enrolment.objects.get(unit=unit)
    client.logout()
    assert "已提交" in ask(client, enrolment.reference, person_id(7)[-6:]).content.decode()


def test_rate_limited_per_address(client, individual, settings):
    for n in range(10):
        assert ask(client, f"HZ-2026-{n:06d}", "123456").status_code == 200
    limited = ask(client, individual.reference, VALID_ID_X[-6:])
    assert limited.status_code == 429 and "查询次数过多" in limited.content.decode()
    assert "已提交" not in limited.content.decode()
    invalid = client.post(URL, {"reference": "", "id_tail": ""}, REMOTE_ADDR="10.1.1.1")
    assert invalid.status_code == 429
    assert "已提交" in ask(client, individual.reference, VALID_ID_X[-6:], "10.3.3.3").content.decode()


def test_rate_limited_per_reference(client, individual):
    for n in range(5):
        assert ask(client, individual.reference, f"00000{n}", f"10.4.0.{n}").status_code == 200
    # the right pair from a fresh address is refused too: one reference cannot be tried more than 5 times an hour
    limited = ask(client, individual.reference, VALID_ID_X[-6:], "10.4.1.1")
    assert limited.status_code == 429 and "已提交" not in limited.content.decode()
    # the per-reference counter does not depend on whether the reference exists
    for n in range(6):
        response = ask(client, "HZ-2000-000001", "123456", f"10.5.0.{n}")
    assert response.status_code == 429
