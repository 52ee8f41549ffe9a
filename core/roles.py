"""The portal's roles (groups) and its one moderation workflow.

Created once by migration core 0001; later migrations leave an administrator's changes alone.
``ensure_roles`` takes an app registry so the migration can pass its historical one.
"""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes

EDITORS = "编辑"
MODERATORS = "审核"
ENROLMENT_STAFF = "报名审核"
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
ENROLMENT_STAFF_MODEL_PERMS = ["wagtailadmin.access_admin", "campaigns.view_enrolment", "campaigns.change_enrolment"]


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
