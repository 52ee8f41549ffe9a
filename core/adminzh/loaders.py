"""App-directory template loader that replaces the few English texts Wagtail writes into its templates
without gettext, so they need no copied templates. tests/test_admin_chinese.py checks every replacement
still finds its text (a Wagtail upgrade that changes one is noticed)."""

from django.template.loaders.app_directories import Loader as AppDirectoriesLoader

FIXES = {
    # Window titles end in the admin's name, not the product's: "登录 - 管理后台".
    "wagtailadmin/skeleton.html": [("{% block branding_title %}Wagtail{% endblock %}",
                                    "{% block branding_title %}管理后台{% endblock %}")],
    "wagtailadmin/shared/headers/_actions.html": [('aria-label="Actions"', 'aria-label="操作"')],
    "wagtailadmin/shared/header.html": [('value="Search"', 'value="搜索"')],
    "wagtailadmin/home.html": [('value="Search"', 'value="搜索"')],
    # A page published by no user (an import, a script) printed "None".
    "wagtailadmin/shared/user_avatar.html": [("{{ user }}", '{{ user|default_if_none:_("System") }}')],
}


class Loader(AppDirectoriesLoader):
    def get_contents(self, origin):
        contents = super().get_contents(origin)
        for old, new in FIXES.get(origin.template_name, ()):
            contents = contents.replace(old, new)
        return contents
