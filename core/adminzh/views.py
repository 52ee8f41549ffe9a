from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from core.adminzh.forms import UserCreationForm, UserEditForm


class UserViewSet(WagtailUserViewSet):
    create_template_name = "adminzh/users/create.html"
    edit_template_name = "adminzh/users/edit.html"

    def get_form_class(self, for_update=False):
        return UserEditForm if for_update else UserCreationForm
