"""Merchant names as a source of search suggestions (search.suggest)."""

from django.db.models import Count, Max
from django.utils import timezone

from search import suggest


def _names():
    from merchants.models import Merchant

    return Merchant.objects.visible().values_list("name", flat=True)


def _version():
    from merchants.models import Merchant

    row = Merchant.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    return row["n"], row["changed"], timezone.localdate()  # validity dates depend on the day


def register_source():
    suggest.register_source("merchants", "merchant", "特惠商户", _names, _version, priority=25)
