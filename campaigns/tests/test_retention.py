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


@pytest.fixture
def rosters(client, campaign_index, settings, tmp_path, django_capture_on_commit_callbacks):
    """An old and a current campaign, each with a confirmed upload and a preview left unconfirmed."""
    from campaigns.tests.collective import latest_upload, make_agent, make_unit, person_row, upload

    settings.ROSTER_DIR = tmp_path / "rosters"
    today = timezone.localdate()
    old = make_campaign(campaign_index, slug="old-roster")
    current = make_campaign(campaign_index, slug="current-roster")
    unit = make_unit()
    other = make_unit(name="武钢工会", serial="MC0000002")
    uploads = {}
    for key, page, owner, rows in [("old_confirmed", old, unit, [1, 2]), ("old_preview", old, other, [3]),
                                   ("current_confirmed", current, unit, [4, 5]), ("current_preview", current, other,
                                                                                 [6])]:
        agent = owner.agents.first() or make_agent(owner, username=f"agent{owner.pk}")
        client.force_login(agent.user)
        assert upload(client, page, owner, [person_row(n) for n in rows]).status_code == 302
        uploads[key] = latest_upload()
        if key.endswith("confirmed"):
            with django_capture_on_commit_callbacks(execute=True):
                client.post(f"/agents/uploads/{uploads[key].pk}/confirm/", {"consent": "on"})
    client.logout()
    old.end_date = today - datetime.timedelta(days=800)
    old.start_date = today - datetime.timedelta(days=900)
    old.save_revision().publish()
    for roster_upload in uploads.values():
        roster_upload.refresh_from_db()
        assert (settings.ROSTER_DIR / roster_upload.file_path).is_file()
    return uploads


def test_retention_removes_ended_campaigns_roster_lines_and_files(rosters, settings, capsys):
    from campaigns.models import AuditAction, EnrolmentAuditLog, RosterRow, RosterStatus

    paths = {key: settings.ROSTER_DIR / u.file_path for key, u in rosters.items()}
    counts = {key: u.total_rows for key, u in rosters.items()}
    call_command("anonymise_enrolments", days=365, dry_run=True)
    assert "试运行：将删除 2 份名单的 3 条名单行和 2 个上传文件" in capsys.readouterr().out
    assert all(path.is_file() for path in paths.values()) and RosterRow.objects.count() == 6

    call_command("anonymise_enrolments", days=365)
    out = capsys.readouterr().out
    assert "已匿名化 2/2 条" in out and "已删除 2 份名单的逐行数据和上传文件" in out
    for key in ("old_confirmed", "old_preview"):
        roster_upload = rosters[key]
        roster_upload.refresh_from_db()
        assert not paths[key].exists()
        assert not RosterRow.objects.filter(upload=roster_upload).exists()
        assert roster_upload.status == RosterStatus.ERASED and roster_upload.file_path == ""
        assert roster_upload.original_name == "（已删除）" and roster_upload.total_rows == counts[key]
        entry = EnrolmentAuditLog.objects.get(action=AuditAction.RETENTION, upload=roster_upload)
        assert entry.actor_name == "system" and entry.unit == roster_upload.unit
        assert entry.row_count == counts[key] and "活动结束超过365天" in entry.note
    # the current campaign's uploads, lines, files and enrolments are untouched
    for key in ("current_confirmed", "current_preview"):
        roster_upload = rosters[key]
        status = roster_upload.status
        roster_upload.refresh_from_db()
        assert paths[key].is_file() and roster_upload.file_path and roster_upload.status == status
        assert RosterRow.objects.filter(upload=roster_upload).count() == counts[key]
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.RETENTION).count() == 2
    current = Enrolment.objects.filter(campaign=rosters["current_confirmed"].campaign)
    assert sorted(current.values_list("name", flat=True)) == ["职工4", "职工5"]
    old_enrolments = Enrolment.objects.filter(campaign=rosters["old_confirmed"].campaign)
    assert old_enrolments.count() == 2 and set(old_enrolments.values_list("name", flat=True)) == {ANONYMOUS_NAME}

    call_command("anonymise_enrolments", days=365)  # nothing left to do: no new audit entries
    assert "已删除" not in capsys.readouterr().out
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.RETENTION).count() == 2
