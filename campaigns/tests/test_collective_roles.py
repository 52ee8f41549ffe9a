"""Who may use the collective path's admin screens: 报名审核 runs units, agents and reviews; 个人信息删除 erases;
审核 reviews; 编辑 sees none of it. Every screen is tried as each group's user."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.creditcode import make_credit_code
from campaigns.models import AuditAction, Enrolment, EnrolmentAuditLog, RosterStatus, Unit, UnitAgent
from campaigns.tests.collective import latest_upload, make_agent, make_unit, person_row, upload
from core import roles
from core.roles import DATA_ERASERS, EDITORS, ENROLMENT_STAFF, MODERATORS


@pytest.fixture(autouse=True)
def roster_settings(settings, tmp_path):
    settings.ROSTER_DIR = tmp_path / "rosters"
    return settings


@pytest.fixture
def collective(client, campaign, django_capture_on_commit_callbacks):
    """A unit with an agent and a confirmed two-row upload."""
    unit = make_unit()
    agent = make_agent(unit)
    client.force_login(agent.user)
    assert upload(client, campaign, unit, [person_row(1), person_row(2)]).status_code == 302
    roster_upload = latest_upload()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/agents/uploads/{roster_upload.pk}/confirm/", {"consent": "on"})
    client.logout()
    return unit, agent, roster_upload


def member_of(django_user_model, group):
    user = django_user_model.objects.create_user(f"user-{len(group)}-{group}", password="Role-pass-2026-x")
    user.groups.add(Group.objects.get(name=group))
    return user


def screens(unit, agent, roster_upload):
    enrolment = Enrolment.objects.filter(roster_upload=roster_upload).first()
    return {
        "units": "/admin/units/",
        "unit_new": "/admin/units/new/",
        "unit_edit": f"/admin/units/edit/{unit.pk}/",
        "unit_delete": f"/admin/units/delete/{unit.pk}/",
        "erase": f"/admin/units/erase/{unit.pk}/",
        "agents": "/admin/unit_agents/",
        "agent_new": "/admin/unit_agents/new/",
        "agent_edit": f"/admin/unit_agents/edit/{agent.pk}/",
        "agent_reset": f"/admin/unit_agents/reset/{agent.pk}/",
        "agent_delete": f"/admin/unit_agents/delete/{agent.pk}/",
        "uploads": "/admin/roster_uploads/",
        "upload_review": f"/admin/roster_uploads/review/{roster_upload.pk}/",
        "upload_file": f"/admin/roster_uploads/file/{roster_upload.pk}/",
        "audit": "/admin/roster_audit/",
        "enrolments": "/admin/enrolments/",
        "enrolment_edit": f"/admin/enrolments/edit/{enrolment.pk}/",
        "enrolment_delete": f"/admin/enrolments/delete/{enrolment.pk}/",
    }


REVIEW = {"uploads", "upload_review", "audit", "enrolments", "enrolment_edit"}
ALLOWED = {
    EDITORS: set(),
    MODERATORS: REVIEW,
    ENROLMENT_STAFF: REVIEW | {"units", "unit_new", "unit_edit", "agents", "agent_new", "agent_edit", "agent_reset"},
    DATA_ERASERS: {"units", "erase"},
}


@pytest.mark.parametrize("group", [EDITORS, MODERATORS, ENROLMENT_STAFF, DATA_ERASERS])
def test_each_group_reaches_exactly_its_screens(client, collective, django_user_model, group):
    user = member_of(django_user_model, group)
    client.force_login(user)
    urls = screens(*collective)
    reached = set()
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code in (200, 302, 403), (name, response.status_code)
        if response.status_code == 200:
            reached.add(name)
        elif response.status_code == 302:
            assert not response["Location"].startswith(url), name
    assert reached == ALLOWED[group]
    admin_home = client.get("/admin/")
    assert admin_home.status_code == 200
    html = admin_home.content.decode()
    # the menu links exactly the listings they may open
    for name in ("units", "agents", "uploads", "audit", "enrolments"):
        assert (f'"{urls[name]}"' in html) == (name in ALLOWED[group]), name


def test_enrolment_staff_run_units_agents_and_batches(client, collective, django_user_model,
                                                      django_capture_on_commit_callbacks):
    unit, agent, roster_upload = collective
    staff = member_of(django_user_model, ENROLMENT_STAFF)
    client.force_login(staff)
    assert client.post("/admin/units/new/", {"name": "江汉工会", "credit_code": make_credit_code("81420106MC0000003"),
                                             "district": "江汉区", "active": "on"}).status_code == 302
    new_unit = Unit.objects.get(name="江汉工会")
    assert client.post(f"/admin/units/edit/{new_unit.pk}/", {"name": "江汉工会", "credit_code": new_unit.credit_code,
                                                             "district": "江汉区"}).status_code == 302
    new_unit.refresh_from_db()
    assert not new_unit.active  # disabled
    new_unit.active = True
    new_unit.save()
    created = client.post("/admin/unit_agents/new/", {"username": "jianghan", "full_name": "赵代办",
                                                      "email": "", "unit": new_unit.pk, "active": "on"})
    assert created.status_code == 200 and "one-time-password" in created.content.decode()
    assert UnitAgent.objects.get(user__username="jianghan").must_change_password
    reset = client.post(f"/admin/unit_agents/reset/{agent.pk}/")
    assert reset.status_code == 200 and re.search(r'class="one-time-password"[^>]*>[^<]+<', reset.content.decode())
    disabled = client.post(f"/admin/unit_agents/edit/{agent.pk}/", {"full_name": "李代办", "email": "",
                                                                     "unit": unit.pk})
    assert disabled.status_code == 302
    agent.user.refresh_from_db()
    assert not agent.user.is_active
    returned = Enrolment.objects.filter(roster_upload=roster_upload).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/admin/enrolments/edit/{returned.pk}/",
                           {"status": "returned", "review_reason": "单位填写有误"}).status_code == 302
        assert client.post(f"/admin/roster_uploads/review/{roster_upload.pk}/").status_code == 302
    assert sorted(Enrolment.objects.values_list("status", flat=True)) == ["approved", "returned"]
    roster_upload.refresh_from_db()
    assert roster_upload.status == RosterStatus.APPROVED
    # erasing is not theirs: refused, nothing removed
    assert client.post(f"/admin/units/erase/{unit.pk}/", {"confirm": "on"}).status_code in (302, 403)
    assert Enrolment.objects.count() == 2
    assert not EnrolmentAuditLog.objects.filter(action=AuditAction.ERASE_UNIT).exists()
    assert client.post(f"/admin/unit_agents/delete/{agent.pk}/").status_code in (302, 403)
    assert UnitAgent.objects.filter(pk=agent.pk).exists()


def test_data_eraser_erases_from_the_listing_and_nothing_else(client, collective, django_user_model):
    unit, agent, roster_upload = collective
    eraser = member_of(django_user_model, DATA_ERASERS)
    client.force_login(eraser)
    listing = client.get("/admin/units/").content.decode()
    assert f"/admin/units/erase/{unit.pk}/" in listing and f"/admin/units/edit/{unit.pk}/" not in listing
    page = client.get(f"/admin/units/erase/{unit.pk}/").content.decode()
    assert 'href="/admin/units/"' in page  # back to the listing, not to an edit page they cannot open
    response = client.post(f"/admin/units/erase/{unit.pk}/", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/admin/units/"
    assert not Enrolment.objects.exists()
    entry = EnrolmentAuditLog.objects.get(action=AuditAction.ERASE_UNIT)
    assert entry.actor == eraser and entry.unit == unit
    for url in ("/admin/units/new/", f"/admin/units/edit/{unit.pk}/"):
        assert client.post(url, {"name": "改名", "credit_code": unit.credit_code}).status_code in (302, 403)
    unit.refresh_from_db()
    assert unit.name == "武船工会"


def test_editors_and_moderators_cannot_create_units_or_agents(client, collective, django_user_model):
    unit = collective[0]
    for group in (EDITORS, MODERATORS):
        client.force_login(member_of(django_user_model, group))
        client.post("/admin/units/new/", {"name": "冒名工会", "credit_code": unit.credit_code, "active": "on"})
        client.post("/admin/unit_agents/new/", {"username": f"x{len(group)}", "full_name": "某",
                                                "unit": unit.pk, "active": "on"})
        client.post(f"/admin/units/erase/{unit.pk}/", {"confirm": "on"})
    assert list(Unit.objects.values_list("name", flat=True)) == ["武船工会"]
    assert UnitAgent.objects.count() == 1 and Enrolment.objects.count() == 2


def described(names):
    return {tuple(name.split(".")) for name in names}


def held(group):
    return set(Group.objects.get(name=group).permissions.values_list("content_type__app_label", "codename"))


def test_the_groups_hold_what_core_roles_describes(db):
    assert held(ENROLMENT_STAFF) == described(roles.ENROLMENT_STAFF_MODEL_PERMS)
    assert held(DATA_ERASERS) == described(roles.DATA_ERASER_MODEL_PERMS)
    assert ("campaigns", "erase_unit_data") not in held(EDITORS) | held(MODERATORS) | held(ENROLMENT_STAFF)
    assert not held(EDITORS) & described(roles.COLLECTIVE_STAFF_PERMS)


@pytest.mark.django_db(transaction=True)
def test_migration_0003_brings_a_database_made_before_it_to_the_same_roles(home_page):
    """A database whose roles were made before the collective path: 0003 adds just its permissions."""
    staff = Group.objects.get(name=ENROLMENT_STAFF)
    fresh = {ENROLMENT_STAFF: held(ENROLMENT_STAFF), DATA_ERASERS: held(DATA_ERASERS)}
    staff.permissions.remove(*Permission.objects.filter(content_type__app_label="campaigns",
                                                        content_type__model__in=["unit", "unitagent"]))
    staff.permissions.remove(Permission.objects.get(codename="change_enrolment"))  # an administrator's change
    Group.objects.filter(name=DATA_ERASERS).delete()
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(("core", "0003_collective_roles"))
    migration = executor.loader.get_migration("core", "0003_collective_roles")
    migration.operations[0].code(state.apps, None)
    assert held(DATA_ERASERS) == fresh[DATA_ERASERS]
    assert held(ENROLMENT_STAFF) == fresh[ENROLMENT_STAFF] - {("campaigns", "change_enrolment")}
