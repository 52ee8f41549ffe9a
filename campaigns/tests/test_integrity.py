"""One person, one ID number; no enumeration, no squatting; unguessable references (attacks replayed)."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import VALID_ID, VALID_ID_X, make_campaign, mutual_aid_data, service_card_data

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
REFERENCE_RE = re.compile(r"(?:HZ|FWK)-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{12}")


def post(page, data, ip="10.1.0.1"):
    return Client(REMOTE_ADDR=ip).post(page.url, data)


def id_born(years_ago, days=0, region="420106"):
    born = timezone.localdate().replace(year=timezone.localdate().year - years_ago) + datetime.timedelta(days=days)
    return make_id_number(f"{region}{born:%Y%m%d}123")


def error_text(response):
    return response.content.decode()


@pytest.fixture
def many_tries(settings):
    """Lift the per-ID limit for tests that replay one number many times (it has its own test)."""
    settings.ENROLMENT_ID_RATE_LIMIT = (100, 3600)


# 1. one person, one ID number

@pytest.mark.parametrize("variant", [
    VALID_ID.translate(FULL_WIDTH),
    "４２０１０６　１９９００３０７　" + VALID_ID[14:].translate(FULL_WIDTH),  # ideographic spaces
    f"{VALID_ID[:6]}-{VALID_ID[6:14]}-{VALID_ID[14:]}",
    f"{VALID_ID[:6]}－{VALID_ID[6:14]}\u2014{VALID_ID[14:]}",
    VALID_ID.translate(ARABIC_INDIC),
    "\u200b" + VALID_ID + "\ufeff",
])
def test_same_id_in_other_characters_enrols_once(campaign, variant, many_tries):
    first = post(campaign, mutual_aid_data(id_number=variant))
    assert first.status_code == 302
    stored = Enrolment.objects.get()
    assert stored.id_number == VALID_ID and stored.id_number_masked == VALID_ID[:4] + "*" * 10 + VALID_ID[-4:]
    for again in (VALID_ID, variant, VALID_ID.translate(FULL_WIDTH)):
        response = post(campaign, mutual_aid_data(id_number=again), ip="10.1.0.2")
        assert response.status_code == 409
        assert "该身份证号已在本活动报名" in error_text(response)
    assert Enrolment.objects.count() == 1


@pytest.mark.parametrize("first,second", [(VALID_ID_X.lower(), VALID_ID_X), (VALID_ID_X, VALID_ID_X[:-1] + "ｘ"),
                                          (VALID_ID_X[:-1] + "Ｘ", VALID_ID_X.lower())])
def test_lower_and_full_width_x_are_the_same_number(campaign, first, second):
    assert post(campaign, service_card_data(id_number=first)).status_code == 302
    assert Enrolment.objects.get().id_number == VALID_ID_X
    assert post(campaign, service_card_data(id_number=second), ip="10.1.0.2").status_code == 409
    assert Enrolment.objects.count() == 1


@pytest.mark.parametrize("value", [
    "４２０１０６１９９００３０７１２３" + "Ｙ",
    VALID_ID[:-1] + "\u0d6a",  # Malayalam digit four in place of the check digit: normalised, then wrong
    VALID_ID + "1",
    "42010619900307123\u2167",  # Roman numeral eight: a number but no decimal digit
])
def test_other_characters_are_refused(campaign, value):
    response = post(campaign, mutual_aid_data(id_number=value))
    assert response.status_code == 400
    assert "身份证号应为18位" in error_text(response) or "校验位不正确" in error_text(response)
    assert Enrolment.objects.count() == 0


def test_zero_width_and_bidi_characters_cannot_make_a_new_name(campaign, many_tries):
    assert post(campaign, mutual_aid_data(name="张\u200b三\u202e")).status_code == 302
    assert Enrolment.objects.get().name == "张三"
    for disguised in ("\u2066张三\u2069", "张\u200d三", "\ufeff张三", " 张三　"):
        response = post(campaign, mutual_aid_data(name=disguised), ip="10.1.0.2")
        assert response.status_code == 409, disguised
    assert Enrolment.objects.count() == 1


def test_names_are_nfkc_normalised_and_whitespace_collapsed(campaign):
    assert post(campaign, mutual_aid_data(name="  ＺＨＡＮＧ　 \t San  ")).status_code == 302
    assert Enrolment.objects.get().name == "ZHANG San"
    assert post(campaign, mutual_aid_data(name="zhang san"), ip="10.1.0.2").status_code == 409


@pytest.mark.parametrize("name", ["……", "！！！", "·", "123", "\u200b\u200b", "\u202e"])
def test_name_without_a_letter_is_refused(campaign, name):
    response = post(campaign, mutual_aid_data(name=name))
    assert response.status_code == 400
    html = error_text(response)
    assert "姓名须包含文字，不能只有符号或数字。" in html or "请填写姓名。" in html
    assert Enrolment.objects.count() == 0


def test_minority_name_with_middle_dot_is_accepted(campaign):
    assert post(campaign, mutual_aid_data(name="阿卜杜·热合曼")).status_code == 302


def test_childs_id_is_refused_and_age_bounds_are_inclusive(campaign):
    response = post(campaign, mutual_aid_data(id_number=id_born(10)))
    assert response.status_code == 400
    assert "根据身份证号，年龄须在16至70周岁之间。" in error_text(response)
    assert post(campaign, mutual_aid_data(id_number=id_born(16, days=1))).status_code == 400  # 16 tomorrow
    assert post(campaign, mutual_aid_data(id_number=id_born(71))).status_code == 400
    assert post(campaign, mutual_aid_data(id_number=id_born(16))).status_code == 302  # 16th birthday today
    assert post(campaign, mutual_aid_data(id_number=id_born(71, days=1))).status_code == 302  # still 70
    assert Enrolment.objects.count() == 2


def test_editors_set_the_age_range(campaign_index):
    page = make_campaign(campaign_index, slug="family", min_age=0, max_age=100)
    assert post(page, mutual_aid_data(id_number=id_born(10))).status_code == 302
    page = make_campaign(campaign_index, slug="young", min_age=18, max_age=35)
    response = post(page, mutual_aid_data())
    assert response.status_code == 400 and "年龄须在18至35周岁之间" in error_text(response)


def test_age_range_must_be_ordered(campaign_index):
    from django.core.exceptions import ValidationError

    from campaigns.models import CampaignPage

    page = CampaignPage(title="x", slug="x", start_date=datetime.date(2026, 5, 1), min_age=60, max_age=18)
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "最高年龄不能低于最低年龄。" in str(error.value)
    page = CampaignPage(title="x", slug="x", start_date=datetime.date(2026, 5, 1))
    assert (page.min_age, page.max_age) == (16, 70)


def test_age_range_in_the_editor(client, django_user_model, campaign_index, campaign):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-123456789")
    client.force_login(admin)
    html = client.get(f"/admin/pages/{campaign.pk}/edit/").content.decode()
    assert 'name="min_age"' in html and 'name="max_age"' in html and "报名年龄范围" in html


@pytest.mark.parametrize("region", ["990106", "000106", "190106", "720106", "830106"])
def test_fake_region_code_is_refused(campaign, region):
    number = make_id_number(region + VALID_ID[6:17])
    response = post(campaign, mutual_aid_data(id_number=number))
    assert response.status_code == 400
    assert "身份证号前两位不是有效的省级行政区划代码" in error_text(response)


def test_future_birth_date_is_refused(campaign):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = post(campaign, mutual_aid_data(id_number=make_id_number(f"420106{tomorrow:%Y%m%d}123")))
    assert response.status_code == 400 and "出生日期无效" in error_text(response)


@pytest.mark.parametrize("mobile", ["１３８１２３４５６７８", "138\u30001234\u30005678",
                                    "＋８６ １３８-１２３４-５６７８", "١٣٨١٢٣٤٥٦٧٨"])
def test_mobile_in_full_width_digits_is_normalised(campaign, mobile):
    assert post(campaign, mutual_aid_data(mobile=mobile)).status_code == 302
    assert Enrolment.objects.get().mobile == "13812345678"
    assert post(campaign, mutual_aid_data(), ip="10.1.0.2").status_code == 409


# 2. no enumeration, no squatting

def confirmation_text(response):
    html = Client().get(response["Location"]).content.decode()
    return re.sub(r"confirmed/\d+-[0-9a-f]+/", "confirmed/TOKEN/", REFERENCE_RE.sub("REF", html))


def snapshot(enrolment):
    enrolment.refresh_from_db()
    return {field.attname: getattr(enrolment, field.attname) for field in Enrolment._meta.concrete_fields}


def test_squatting_leaves_the_first_enrolment_untouched_and_is_flagged(campaign):
    real = post(campaign, mutual_aid_data(), ip="10.1.0.1")
    original = Enrolment.objects.get()
    before = snapshot(original)
    squat = post(campaign, mutual_aid_data(name="李四", mobile="13900000000", branch="别的工会"), ip="10.9.9.9")
    assert squat.status_code == real.status_code == 302
    assert confirmation_text(squat) == confirmation_text(real)  # the visitor learns nothing
    assert "所属工会将核实" in confirmation_text(squat)
    assert snapshot(original) == before
    conflict = Enrolment.objects.exclude(pk=original.pk).get()
    assert conflict.status == "conflict" and conflict.get_status_display() == "待核实"
    assert conflict.conflict_of == original and conflict.name == "李四" and conflict.id_number == VALID_ID
    assert REFERENCE_RE.fullmatch(conflict.reference) and conflict.reference != original.reference
    # the real member is not locked out either when the squatter came first
    other = make_campaign(campaign.get_parent().specific, slug="second")
    assert post(other, mutual_aid_data(name="李四", mobile="13900000000"), ip="10.9.9.9").status_code == 302
    assert post(other, mutual_aid_data(), ip="10.1.0.1").status_code == 302
    squatter, member = Enrolment.objects.filter(campaign=other).order_by("pk")
    assert squatter.conflict_of is None and member.conflict_of == squatter and member.status == "conflict"


@pytest.mark.parametrize("changes", [{"name": "张三丰"}, {"mobile": "13900000000"},
                                     {"name": "张三丰", "mobile": "13900000000"}])
def test_other_name_or_mobile_gets_the_neutral_answer(campaign, changes):
    real = post(campaign, mutual_aid_data())
    other = post(campaign, mutual_aid_data(**changes), ip="10.1.0.2")
    assert other.status_code == 302
    assert "该身份证号已在本活动报名" not in confirmation_text(other)
    assert confirmation_text(other) == confirmation_text(real)
    assert Enrolment.objects.filter(status="conflict").count() == 1


def test_conflicts_point_at_the_first_enrolment_not_at_each_other(campaign):
    post(campaign, mutual_aid_data())
    post(campaign, mutual_aid_data(name="李四"), ip="10.1.0.2")
    post(campaign, service_card_data(id_number=VALID_ID, name="王五"), ip="10.1.0.3")
    first = Enrolment.objects.get(conflict_of=None)
    assert sorted(first.conflicts.values_list("name", flat=True)) == ["李四", "王五"]


def test_submissions_per_id_number_are_limited(campaign, campaign_index, settings):
    settings.ENROLMENT_ID_RATE_LIMIT = (3, 3600)
    for n, name in enumerate(["张三", "李四", "王五"]):
        assert post(campaign, mutual_aid_data(name=name), ip=f"10.2.0.{n}").status_code == 302
    response = post(campaign, mutual_aid_data(name="赵六"), ip="10.2.0.9")
    assert response.status_code == 429
    assert "同一身份证号在本活动的提交次数已达上限，请60分钟后再试。" in error_text(response)
    assert Enrolment.objects.count() == 3
    # a true duplicate counts as well, and the answer does not tell whether the number is enrolled
    response = post(campaign, mutual_aid_data(), ip="10.2.0.10")
    assert response.status_code == 429 and "该身份证号已在本活动报名" not in error_text(response)
    assert post(campaign, mutual_aid_data(id_number=VALID_ID_X), ip="10.2.0.11").status_code == 302
    other = make_campaign(campaign_index, slug="other")
    assert post(other, mutual_aid_data(), ip="10.2.0.12").status_code == 302


def test_invalid_posts_do_not_count_for_the_id_limit(campaign, settings):
    settings.ENROLMENT_ID_RATE_LIMIT = (1, 3600)
    for _ in range(3):
        assert post(campaign, mutual_aid_data(mobile="123")).status_code == 400
    assert post(campaign, mutual_aid_data()).status_code == 302


# 3. references

def test_references_are_random_and_unique(campaign):
    for n in range(12):
        number = make_id_number(f"4201061990{(n % 12) + 1:02d}15123")
        assert post(campaign, mutual_aid_data(id_number=number), ip=f"10.3.0.{n}").status_code == 302
    references = list(Enrolment.objects.order_by("pk").values_list("reference", flat=True))
    assert len(set(references)) == 12 and all(REFERENCE_RE.fullmatch(r) for r in references)
    assert len({r[3:5] for r in references}) > 1  # not a counter: 12 in a row share no common head


def test_reference_collision_is_retried(campaign, monkeypatch):
    post(campaign, mutual_aid_data())
    taken = Enrolment.objects.get().reference
    issued = iter([taken, "HZ-23456789ABCD"])
    monkeypatch.setattr(Enrolment, "new_reference", staticmethod(lambda kind: next(issued)))
    assert post(campaign, mutual_aid_data(id_number=VALID_ID_X), ip="10.1.0.2").status_code == 302
    assert Enrolment.objects.filter(reference="HZ-23456789ABCD").exists()


def test_existing_sequential_references_stay_valid(client, campaign):
    post(campaign, mutual_aid_data())
    Enrolment.objects.update(reference="HZ-2026-000001")
    enrolment = Enrolment.objects.get()
    assert Enrolment.objects.get(reference="HZ-2026-000001") == enrolment
    assert "HZ-2026-000001" in client.get(campaign.confirmation_url(enrolment)).content.decode()
    assert post(campaign, mutual_aid_data(id_number=VALID_ID_X), ip="10.1.0.2").status_code == 302
    assert Enrolment._meta.get_field("reference").unique  # stored and indexed for the later lookup page
