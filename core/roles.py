"""The portal's roles (groups) and its one moderation workflow.

Created once by migration core 0001; later migrations leave an administrator's changes alone. The collective
path's permissions (units, agents, erasure) came later: migration core 0003 grants just those to databases made
before (``grant_collective_roles``), so a fresh database and a migrated one hold the same roles.
``ensure_roles`` takes an app registry so the migration can pass its historical one.
"""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes

EDITORS = "编辑"
MODERATORS = "审核"
ENROLMENT_STAFF = "报名审核"
DATA_ERASERS = "个人信息删除"
WORKFLOW_NAME = "审核发布"
# Wagtail's own defaults, folded into the roles above so an administrator sees one set.
WAGTAIL_GROUPS = {"Editors": EDITORS, "Moderators": MODERATORS}
WAGTAIL_WORKFLOW = "Moderators approval"

EDITOR_PAGE_PERMS = ["add", "change"]
MODERATOR_PAGE_PERMS = [*EDITOR_PAGE_PERMS, "publish", "lock", "unlock", "bulk_delete"]
EDITOR_COLLECTION_PERMS = ["add_image", "choose_image", "add_document", "choose_document"]
MODERATOR_COLLECTION_PERMS = [*EDITOR_COLLECTION_PERMS, "change_image", "change_document"]
EDITOR_MODEL_PERMS = [
    "wagtailadmin.access_admin",
    "speeches.add_speaker",
    "speeches.change_speaker",
    "speeches.view_speaker",
    "merchants.add_merchant",
    "merchants.change_merchant",
    "merchants.view_merchant",
    "merchants.view_category",
    "portal_search.add_searchterm",
    "portal_search.change_searchterm",
    "portal_search.view_searchterm",
    "portal_search.add_synonymgroup",
    "portal_search.change_synonymgroup",
    "portal_search.view_synonymgroup",
]
MODERATOR_MODEL_PERMS = [
    *EDITOR_MODEL_PERMS,
    "speeches.delete_speaker",
    "merchants.delete_merchant",
    "merchants.add_category",
    "merchants.change_category",
    "merchants.delete_category",
    "portal_search.delete_searchterm",
    "portal_search.delete_synonymgroup",
    "campaigns.view_enrolment",
    "campaigns.change_enrolment",
]
# Full ID numbers and exports (campaigns.view_id_number) are granted to named people, not to a role.
# 报名审核 also runs the collective path: units and their agents (add, change = disable and reset; never delete,
# the data stays tied to them); roster uploads and the audit log follow the enrolment permissions.
COLLECTIVE_STAFF_PERMS = [
    "campaigns.add_unit",
    "campaigns.change_unit",
    "campaigns.view_unit",
    "campaigns.add_unitagent",
    "campaigns.change_unitagent",
    "campaigns.view_unitagent",
]
ENROLMENT_STAFF_MODEL_PERMS = [
    "wagtailadmin.access_admin",
    "campaigns.view_enrolment",
    "campaigns.change_enrolment",
    *COLLECTIVE_STAFF_PERMS,
]
# Erasing a unit's or a member's personal data cannot be undone: its own group, for the named people who do it.
DATA_ERASER_MODEL_PERMS = ["wagtailadmin.access_admin", "campaigns.view_unit", "campaigns.erase_unit_data"]


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if perm is not None:
            found.append(perm)
    return found


def _create_permissions(apps):
    for app_config in apps.get_app_configs():
        stub = getattr(app_config, "models_module", None) is None  # historical registries leave it unset
        if stub:
            app_config.models_module = True
        create_contenttypes(app_config, verbosity=0, apps=apps)
        create_permissions(app_config, verbosity=0, apps=apps)
        if stub:
            app_config.models_module = None


def _grant(apps, group, page_perms, collection_perms, model_perms, root_page, root_collection):
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    if root_page is not None:
        for action in page_perms:
            perm = Permission.objects.get(content_type__app_label="wagtailcore", codename=f"{action}_page")
            GroupPagePermission.objects.get_or_create(group=group, page=root_page, permission=perm)
    if root_collection is not None:
        for codename in collection_perms:
            app_label = "wagtailimages" if codename.endswith("image") else "wagtaildocs"
            perm = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            GroupCollectionPermission.objects.get_or_create(group=group, collection=root_collection, permission=perm)
    group.permissions.add(*_permissions(apps, model_perms))


def ensure_roles(apps):
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    Task = apps.get_model("wagtailcore", "Task")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    _create_permissions(apps)
    root_page = Page.objects.filter(depth=1).order_by("path").first()
    root_collection = Collection.objects.filter(depth=1).order_by("path").first()
    roles = {}
    for name, page_perms, collection_perms, model_perms in [
        (EDITORS, EDITOR_PAGE_PERMS, EDITOR_COLLECTION_PERMS, EDITOR_MODEL_PERMS),
        (MODERATORS, MODERATOR_PAGE_PERMS, MODERATOR_COLLECTION_PERMS, MODERATOR_MODEL_PERMS),
        (ENROLMENT_STAFF, [], [], ENROLMENT_STAFF_MODEL_PERMS),
        (DATA_ERASERS, [], [], DATA_ERASER_MODEL_PERMS),
    ]:
        roles[name], _ = Group.objects.get_or_create(name=name)
        _grant(apps, roles[name], page_perms, collection_perms, model_perms, root_page, root_collection)

    for wagtail_name, ours in WAGTAIL_GROUPS.items():
        old = Group.objects.filter(name=wagtail_name).first()
        if old is not None:
            for user in old.user_set.all():
                user.groups.add(roles[ours])
            old.delete()

    task = GroupApprovalTask.objects.filter(name=MODERATORS).first()
    if task is None:
        content_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="groupapprovaltask")
        task = GroupApprovalTask.objects.create(name=MODERATORS, content_type=content_type, active=True)
    task.groups.add(roles[MODERATORS])
    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first() or Workflow.objects.create(
        name=WORKFLOW_NAME, active=True
    )
    WorkflowTask.objects.get_or_create(workflow=workflow, task_id=task.pk, defaults={"sort_order": 0})
    for old in Workflow.objects.filter(name=WAGTAIL_WORKFLOW).exclude(pk=workflow.pk):
        WorkflowPage.objects.filter(workflow=old).update(workflow=workflow)
        old_tasks = list(WorkflowTask.objects.filter(workflow=old).values_list("task_id", flat=True))
        old.delete()
        Task.objects.filter(pk__in=old_tasks, name=WAGTAIL_WORKFLOW, workflow_tasks__isnull=True).delete()
    if root_page is not None:
        WorkflowPage.objects.update_or_create(page=root_page, defaults={"workflow": workflow})
    return roles


def grant_collective_roles(apps):
    """Migration core 0003: the collective path's permissions, for databases whose roles were made before it.

    Adds only these; an administrator's other changes stay. A deleted 报名审核 group is not brought back."""
    Group = apps.get_model("auth", "Group")
    _create_permissions(apps)
    staff = Group.objects.filter(name=ENROLMENT_STAFF).first()
    if staff is not None:
        staff.permissions.add(*_permissions(apps, COLLECTIVE_STAFF_PERMS))
    erasers, _ = Group.objects.get_or_create(name=DATA_ERASERS)
    erasers.permissions.add(*_permissions(apps, DATA_ERASER_MODEL_PERMS))
