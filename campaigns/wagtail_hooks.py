from wagtail import hooks

from campaigns import panels
from campaigns.admin_views import enrolment_viewset
from campaigns.units_admin import CollectiveEnrolmentGroup


@hooks.register("register_admin_viewset")
def register_enrolment_viewset():
    return enrolment_viewset


@hooks.register("register_admin_viewset")
def register_collective_enrolment():
    return CollectiveEnrolmentGroup()


@hooks.register("before_delete_page")
def keep_campaigns_with_enrolments(request, page):
    """Enrolments are never lost by deleting their campaign page: refuse with a message instead."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from campaigns.models import Enrolment

    pages = page.get_descendants(inclusive=True)
    count = Enrolment.objects.filter(campaign__in=pages.values("pk")).count()
    if count:
        messages.error(request, f"“{page.title}”下有 {count} 条报名记录，不能删除。"
                                "请改为取消发布，或先导出并由管理员处理报名记录。")
        return redirect("wagtailadmin_explore", page.get_parent().pk)
    return None


hooks.register("construct_homepage_panels", panels.add_panel)
