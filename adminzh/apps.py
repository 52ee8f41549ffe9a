from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AdminZhConfig(AppConfig):
    """The admin in Chinese: see adminzh/fixes.py and locale/."""

    name = "adminzh"
    verbose_name = "中文管理后台"
    default = True

    def ready(self):
        from django.db.models.signals import post_migrate

        from adminzh import fixes

        fixes.label_fields()
        post_migrate.connect(fixes.chinese_records, sender=self)


class UsersConfig(WagtailUsersAppConfig):
    """Wagtail's user admin with one 姓名 field (Chinese order) instead of 名 + 姓."""

    user_viewset = "adminzh.views.UserViewSet"
    default = False

    def ready(self):
        super().ready()
        from wagtail.admin.views.account import NameEmailSettingsPanel

        from adminzh.forms import NameEmailForm

        # The account page's 姓名 panel uses the same single field.
        NameEmailSettingsPanel.form_class = NameEmailForm
