"""Dashboard: enrolments waiting for review, for the people who review them."""

from django.urls import reverse

from campaigns.models import Enrolment, EnrolmentStatus
from core.panels import WorkWaitingPanel

WAITING = [EnrolmentStatus.PENDING]


class EnrolmentsToReviewPanel(WorkWaitingPanel):
    name = "enrolments-to-review"
    heading = "待审核的报名"
    empty_text = "没有待审核的报名。"
    order = 90

    def waiting(self):
        return Enrolment.objects.filter(status__in=WAITING)

    def count(self, user):
        return self.waiting().count()

    def items(self, user):
        rows = self.waiting().select_related("campaign").order_by("created_at")
        return [{"title": f"{row.reference} · {row.campaign.title}",
                 "note": f"{row.get_status_display()}，提交于 {row.created_at:%Y-%m-%d %H:%M}",
                 "url": reverse("enrolments:edit", args=[row.pk])} for row in rows[: self.limit]]

    def more_url(self):
        return reverse("enrolments:index") + "?status=pending"


def add_panel(request, panels):
    if request.user.has_perm("campaigns.change_enrolment"):
        panels.append(EnrolmentsToReviewPanel(request.user))
