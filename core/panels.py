"""A dashboard panel listing the work waiting for the signed-in user (apps supply what and for whom)."""

from wagtail.admin.ui.components import Component


class WorkWaitingPanel(Component):
    """Subclasses set ``name``, ``heading``, ``order`` and implement ``items(user)``, ``count(user)``, ``more_url``."""

    template_name = "core/admin/work_waiting_panel.html"
    heading = ""
    empty_text = "目前没有待办事项。"
    limit = 5

    def __init__(self, user):
        self.user = user

    def items(self, user):
        return []

    def count(self, user):
        return len(self.items(user))

    def more_url(self):
        return ""

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        items = list(self.items(self.user)[: self.limit])
        context.update(panel=self, items=items, total=self.count(self.user) if items else 0, more_url=self.more_url())
        return context
