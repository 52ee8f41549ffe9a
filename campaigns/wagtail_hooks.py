from wagtail import hooks

from campaigns.admin_views import enrolment_viewset


@hooks.register("register_admin_viewset")
def register_enrolment_viewset():
    return enrolment_viewset
