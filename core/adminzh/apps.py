from wagtail.users.apps import WagtailUsersAppConfig


class UsersConfig(WagtailUsersAppConfig):
    """Wagtail's user admin with one 姓名 field (Chinese order) instead of 名 + 姓."""

    user_viewset = "core.adminzh.views.UserViewSet"
    default = False

    def ready(self):
        super().ready()
        from wagtail.admin.views.account import NameEmailSettingsPanel

        from core.adminzh.forms import NameEmailForm

        # The account page's 姓名 panel uses the same single field.
        NameEmailSettingsPanel.form_class = NameEmailForm
