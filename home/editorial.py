"""Groups and the moderation workflow that every install must have (run after migrate)."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

EDITORS = "编辑"
MODERATORS = "审核"
WORKFLOW_NAME = "审核发布"

EDITOR_PAGE_PERMS = ["add_page", "change_page"]
MODERATOR_PAGE_PERMS = EDITOR_PAGE_PERMS + ["publish_page", "lock_page", "unlock_page", "bulk_delete_page"]
EDITOR_COLLECTION_PERMS = ["add_image", "choose_image", "add_document", "choose_document"]
MODERATOR_COLLECTION_PERMS = EDITOR_COLLECTION_PERMS + ["change_image", "change_document"]
EDITOR_MODEL_PERMS = [
    "wagtailadmin.access_admin",
    "speeches.add_speaker",
    "speeches.change_speaker",
    "speeches.view_speaker",
    "merchants.add_merchant",
    "merchants.change_merchant",
    "merchants.view_merchant",
    "merchants.view_category",
]
MODERATOR_MODEL_PERMS = EDITOR_MODEL_PERMS + [
    "speeches.delete_speaker",
    "merchants.delete_merchant",
    "merchants.add_category",
    "merchants.change_category",
    "merchants.delete_category",
]


def _perm(codename_with_app):
    app_label, codename = codename_with_app.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()


def _page_perm(codename):
    return Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)


def _collection_perm(codename):
    app = "wagtailimages" if codename.endswith("image") else "wagtaildocs"
    return Permission.objects.get(content_type__app_label=app, codename=codename)


def _grant(group, page_perms, collection_perms, model_perms):
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    root_page = Page.get_first_root_node()
    root_collection = Collection.get_first_root_node()
    for codename in page_perms:
        GroupPagePermission.objects.get_or_create(group=group, page=root_page, permission=_page_perm(codename))
    for codename in collection_perms:
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=root_collection, permission=_collection_perm(codename)
        )
    extra = [p for p in (_perm(name) for name in model_perms) if p is not None]
    group.permissions.add(*extra)


@transaction.atomic
def ensure_editorial_setup(**kwargs):
    from wagtail.models import GroupApprovalTask, Page, Workflow, WorkflowPage, WorkflowTask

    if Page.get_first_root_node() is None:
        return
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    moderators, _ = Group.objects.get_or_create(name=MODERATORS)
    _grant(editors, EDITOR_PAGE_PERMS, EDITOR_COLLECTION_PERMS, EDITOR_MODEL_PERMS)
    _grant(moderators, MODERATOR_PAGE_PERMS, MODERATOR_COLLECTION_PERMS, MODERATOR_MODEL_PERMS)

    task = GroupApprovalTask.objects.filter(name=MODERATORS).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=MODERATORS)
    task.groups.add(moderators)
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task.task_ptr, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=Page.get_first_root_node(), defaults={"workflow": workflow})
