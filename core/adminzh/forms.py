"""One 姓名 field for admin users, stored whole in first_name (last_name empty).

Django's get_full_name() joins first_name and last_name, so a name stored this way is shown as written,
in Chinese order, everywhere Wagtail shows a user."""

from django import forms
from wagtail.admin.forms.account import NameEmailForm as WagtailNameEmailForm
from wagtail.users.forms import UserCreationForm as WagtailUserCreationForm
from wagtail.users.forms import UserEditForm as WagtailUserEditForm


def full_name_field():
    return forms.CharField(label="姓名", max_length=150, help_text="按中文习惯填写全名，如：张伟",
                           error_messages={"required": "请填写姓名。", "max_length": "姓名最多 150 个字。"})


def stored_full_name(user):
    """A name entered before (名 in first_name, 姓 in last_name) comes back in Chinese order."""
    if user is None or user.pk is None:
        return ""
    return f"{user.last_name}{user.first_name}".strip()


NAME_FIELDS = {"first_name", "last_name"}


class FullNameMixin:
    def _init_full_name(self):
        self.fields = {"full_name": full_name_field(), **self.fields}
        if not self.is_bound:
            self.initial.setdefault("full_name", stored_full_name(self.instance))

    def _apply_full_name(self):
        name = self.cleaned_data.get("full_name")
        if name:
            self.instance.first_name = name
            self.instance.last_name = ""


class UserCreationForm(FullNameMixin, WagtailUserCreationForm):
    first_name = None
    last_name = None

    class Meta(WagtailUserCreationForm.Meta):
        fields = WagtailUserCreationForm.Meta.fields - NAME_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_full_name()

    def _post_clean(self):
        self._apply_full_name()  # before the password validators compare the password with the name
        super()._post_clean()


class UserEditForm(FullNameMixin, WagtailUserEditForm):
    first_name = None
    last_name = None

    class Meta(WagtailUserEditForm.Meta):
        fields = WagtailUserEditForm.Meta.fields - NAME_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_full_name()

    def _post_clean(self):
        self._apply_full_name()
        super()._post_clean()


class NameEmailForm(FullNameMixin, WagtailNameEmailForm):
    first_name = None
    last_name = None

    class Meta(WagtailNameEmailForm.Meta):
        fields = ["email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_full_name()

    def _post_clean(self):
        self._apply_full_name()
        super()._post_clean()
