from django.contrib.auth.models import Group

from campaigns.demo import load_demo
from campaigns.models import CampaignIndexPage, CampaignPage


def test_demo_campaigns_are_idempotent_and_render(client, home_page):
    lines = []
    load_demo(home_page, lines.append)
    load_demo(home_page, lines.append)
    assert CampaignIndexPage.objects.count() == 1
    assert sorted(CampaignPage.objects.values_list("slug", flat=True)) == ["mutual-aid", "service-card"]
    assert "新建 2 个活动" in lines[0] and "新建 0 个活动" in lines[1]
    card = CampaignPage.objects.get(slug="service-card")
    aid = CampaignPage.objects.get(slug="mutual-aid")
    assert [b.value["form_kind"] for b in card.form_blocks()] == ["service_card"]
    assert [b.value["form_kind"] for b in aid.form_blocks()] == ["mutual_aid"]
    html = client.get(card.url).content.decode()
    assert "100万张以上" in html and "灵秀湖北、大楚美食、中百超市" in html and "工会会员服务卡申领" in html
    assert "进行中" in html
    html = client.get(aid.url).content.decode()
    assert "140万人" in html and "1625.6万元" in html and "有病人帮我、无病我帮人" in html
    assert "职工医疗互助入会登记" in html and "特殊病种医疗互助" in html


def test_moderators_may_review_but_not_see_full_ids(db):
    codenames = set(Group.objects.get(name="审核").permissions.values_list("codename", flat=True))
    assert {"view_enrolment", "change_enrolment"} <= codenames
    assert "view_id_number" not in codenames
