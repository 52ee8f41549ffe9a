"""Chinese for what Wagtail and Django keep outside the translation catalogues."""

import re

from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy

PERMISSION_ACTIONS = {"add": "添加", "change": "修改", "delete": "删除", "view": "查看"}
DEFAULT_PERMISSION = re.compile(r"Can (add|change|delete|view) (.+)")
# Records that Wagtail's migrations create with English names.
ROOT_PAGE_TITLE = "根页面"
ROOT_COLLECTION_NAME = "根集合"
WAGTAIL_DEFAULT_WORKFLOW = {"Moderators approval": "审核员审批（Wagtail 默认）"}
WAGTAIL_DEFAULT_TASK = {"Moderators approval": "审核员审批"}


def label_fields():
    """Labels Wagtail derives from field names ("Site name", "Page", "Password") instead of translating them."""
    from wagtail.admin.forms.auth import LoginForm
    from wagtail.admin.forms.workflows import WorkflowPageForm
    from wagtail.models import Site
    from wagtail.sites.views import IndexView as SiteIndexView
    from wagtail.users.forms import PagePermissionsForm

    for column in SiteIndexView.columns:
        if column.name in ("site_name", "root_page", "port"):
            column.label = capfirst(Site._meta.get_field(column.name).verbose_name)
    for form in (PagePermissionsForm, WorkflowPageForm):
        form.base_fields["page"].label = gettext_lazy("Page")
    LoginForm.base_fields["password"].label = gettext_lazy("Password")


def chinese_permission_name(permission):
    match = DEFAULT_PERMISSION.fullmatch(permission.name)
    if match:
        model = permission.content_type.model_class()
        noun = str(model._meta.verbose_name) if model else match.group(2)
        return f"可{PERMISSION_ACTIONS[match.group(1)]}{noun}"
    return str(translation.gettext(permission.name))


def chinese_records(app_config=None, using="default", **kwargs):
    """After migrate: permission names (stored in English by Django) and Wagtail's built-in records in Chinese."""
    from django.apps import apps
    from django.contrib.auth.models import Permission

    configs = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is not None and configs and app_config is not configs[-1]:
        return  # once per migrate, after the last app's permissions are created
    from wagtail.models import Collection, Page, Task, Workflow

    with translation.override("zh-hans"):
        changed = []
        for permission in Permission.objects.using(using).select_related("content_type"):
            name = chinese_permission_name(permission)[:255]
            if name != permission.name:
                permission.name = name
                changed.append(permission)
        Permission.objects.using(using).bulk_update(changed, ["name"], batch_size=500)
    Page.objects.using(using).filter(depth=1, title="Root").update(title=ROOT_PAGE_TITLE, draft_title=ROOT_PAGE_TITLE)
    Collection.objects.using(using).filter(depth=1, name="Root").update(name=ROOT_COLLECTION_NAME)
    for english, chinese in WAGTAIL_DEFAULT_WORKFLOW.items():
        Workflow.objects.using(using).filter(name=english).update(name=chinese)
    for english, chinese in WAGTAIL_DEFAULT_TASK.items():
        Task.objects.using(using).filter(name=english).update(name=chinese)
