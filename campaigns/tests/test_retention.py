"""Enrolments of campaigns that ended long ago are anonymised; a dry run changes nothing."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.retention import ANONYMOUS_NAME
from campaigns.tests.conftest import make_campaign, mutual_aid_data


@pytest.fixture
def old_and_current(client, campaign_index):
    today = timezone.localdate()
    old = make_campaign(campaign_index, slug="old")
    current = make_campaign(campaign_index, slug="current")
    for n, page in enumerate([old, old, current]):
        data = mutual_aid_data(id_number=make_id_number(f"4201061990031{n}123"), name=f"职工{n}")
        assert client.post(page.url, data, REMOTE_ADDR=f"10.0.0.{n}").status_code == 302
    old.end_date = today - datetime.timedelta(days=800)
    old.start_date = today - datetime.timedelta(days=900)
    old.save_revision().publish()
    return old, current


def test_dry_run_changes_nothing(old_and_current, capsys):
    before = list(Enrolment.objects.values_list("name", "id_number_encrypted", "mobile"))
    call_command("anonymise_enrolments", days=365, dry_run=True)
    assert "试运行：将匿名化 2 条报名" in capsys.readouterr().out
    assert list(Enrolment.objects.values_list("name", "id_number_encrypted", "mobile")) == before


def test_old_campaigns_lose_personal_data_and_keep_statistics(old_and_current, capsys):
    old, current = old_and_current
    call_command("anonymise_enrolments", days=365)
    assert "已匿名化 2/2 条" in capsys.readouterr().out
    for row in Enrolment.objects.filter(campaign=old):
        assert row.name == ANONYMOUS_NAME and row.id_number_encrypted == "" and row.mobile == ""
        assert row.employer == "" and row.id_number_masked == "" and row.id_number_hash.startswith("anonymised:")
        assert row.branch == "武船工会" and row.plan and row.shares == 2 and row.reference
    kept = Enrolment.objects.get(campaign=current)
    assert kept.name == "职工2" and kept.id_number == make_id_number("42010619900312123")
    call_command("anonymise_enrolments", days=365)  # idempotent
    assert "已匿名化" not in capsys.readouterr().out
