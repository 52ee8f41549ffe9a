"""Dashboard: merchant agreements that end within 30 days."""

import datetime

from django.urls import reverse
from django.utils import timezone

from core.panels import WorkWaitingPanel
from merchants.models import Merchant

DAYS = 30


class MerchantsEndingPanel(WorkWaitingPanel):
    name = "merchants-ending"
    heading = f"{DAYS} 天内到期的特惠商户"
    empty_text = f"没有 {DAYS} 天内到期的商户协议。"
    order = 95

    def ending(self):
        today = timezone.localdate()
        return Merchant.objects.filter(active=True, valid_to__gte=today,
                                       valid_to__lte=today + datetime.timedelta(days=DAYS)).order_by("valid_to", "pk")

    def count(self, user):
        return self.ending().count()

    def items(self, user):
        today = timezone.localdate()
        return [{"title": merchant.name, "url": reverse("wagtailsnippets_merchants_merchant:edit", args=[merchant.pk]),
                 "note": f"{merchant.valid_to:%Y-%m-%d} 到期（还有 {(merchant.valid_to - today).days} 天）"}
                for merchant in self.ending()[: self.limit]]

    def more_url(self):
        return reverse("wagtailsnippets_merchants_merchant:list")


def add_panel(request, panels):
    if request.user.has_perm("merchants.change_merchant"):
        panels.append(MerchantsEndingPanel(request.user))
