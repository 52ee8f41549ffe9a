import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupApprovalTask, Page, Workflow, WorkflowPage

from core.roles import DATA_ERASERS, EDITORS, ENROLMENT_STAFF, MODERATORS, WORKFLOW_NAME
from speeches.models import SpeechPage
from speeches.tests.factories import SpeechPageFactory

User = get_user_model()


@pytest.fixture
def editor(db):
    user = User.objects.create_user("editor", password="pw-editor-123")
    user.groups.add(Group.objects.get(name=EDITORS))
    return user


@pytest.fixture
def moderator(db):
    user = User.objects.create_user("moderator", password="pw-moderator-123")
    user.groups.add(Group.objects.get(name=MODERATORS))
    return user


def test_groups_and_workflow_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) == {EDITORS, MODERATORS, ENROLMENT_STAFF, DATA_ERASERS}
    root = Page.get_first_root_node()
    assert WorkflowPage.objects.get(page=root).workflow.name == WORKFLOW_NAME
    assert list(Workflow.objects.values_list("name", flat=True)) == [WORKFLOW_NAME]
    task = GroupApprovalTask.objects.get()
    assert list(task.groups.values_list("name", flat=True)) == [MODERATORS]


def test_roles_hold_the_permissions_of_the_job(db):
    editors, moderators = Group.objects.get(name=EDITORS), Group.objects.get(name=MODERATORS)
    editor_perms = set(editors.permissions.values_list("codename", flat=True))
    assert {"add_searchterm", "change_synonymgroup", "access_admin"} <= editor_perms
    assert not {"delete_searchterm", "view_enrolment", "view_id_number"} & editor_perms
    assert {"delete_searchterm", "view_enrolment", "change_enrolment"} <= set(
        moderators.permissions.values_list("codename", flat=True))
    assert not Group.objects.filter(permissions__codename="view_id_number").exists()


@pytest.mark.django_db(transaction=True)
def test_a_later_migrate_leaves_an_administrators_changes_alone(home_page):
    editors = Group.objects.get(name=EDITORS)
    editors.permissions.remove(Permission.objects.get(content_type__app_label="speeches", codename="add_speaker"))
    Group.objects.create(name="宣传部")
    call_command("migrate", verbosity=0)
    assert not editors.permissions.filter(codename="add_speaker").exists()
    assert Group.objects.filter(name="宣传部").exists()


def test_editor_cannot_publish_but_moderator_can(editor, moderator, speech_index):
    page = SpeechPageFactory(parent=speech_index)
    assert not page.permissions_for_user(editor).can_publish()
    assert page.permissions_for_user(editor).can_edit()
    assert page.permissions_for_user(moderator).can_publish()


def test_editor_change_goes_live_only_after_approval(client, editor, moderator, speech_index):
    page = SpeechPageFactory(parent=speech_index, title="原标题讲话")
    client.force_login(editor)
    edit_url = f"/admin/pages/{page.pk}/edit/"
    form = client.get(edit_url)
    assert form.status_code == 200
    data = {
        "title": "改过的标题讲话",
        "slug": page.slug,
        "meeting": page.meeting,
        "org_level": page.org_level,
        "region": "",
        "topics": "",
        "summary": "",
        "source_note": "",
        "date_delivered": "2024-03-05",
        "speaker": "",
        "body-count": "0",
        "action-submit": "提交审核",
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000",
    }
    response = client.post(edit_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    page.refresh_from_db()
    assert page.title == "原标题讲话"  # live version unchanged
    assert page.has_unpublished_changes
    state = page.current_workflow_state
    assert state is not None and state.status == "in_progress"
    assert client.get(page.url).content.decode().count("改过的标题讲话") == 0

    client.force_login(moderator)
    task_state = state.current_task_state
    approve = client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk]),
        {"comment": "同意发布"},
    )
    assert approve.status_code in (200, 302)
    page.refresh_from_db()
    assert page.title == "改过的标题讲话"
    assert "改过的标题讲话" in client.get(page.url).content.decode()


def test_scheduled_publishing(speech_index):
    page = SpeechPageFactory(parent=speech_index, title="定时发布的讲话", live=False)
    page.go_live_at = timezone.now() + datetime.timedelta(hours=1)
    revision = page.save_revision()
    revision.publish()
    page.refresh_from_db()
    assert not page.live
    assert revision.approved_go_live_at is not None
    call_command("publish_scheduled")
    assert not SpeechPage.objects.get(pk=page.pk).live  # not yet due

    # the hour passes: move the schedule into the past instead of sleeping
    past = timezone.now() - datetime.timedelta(minutes=1)
    revision.content["go_live_at"] = past.isoformat()
    revision.approved_go_live_at = past
    revision.save()
    call_command("publish_scheduled")
    assert SpeechPage.objects.get(pk=page.pk).live
