"""Personal data is kept only as long as needed: enrolments of campaigns that ended long ago are anonymised.

What stays is what statistics need (campaign, form, 基层工会, plan, shares, status, dates); name, ID number, its
hash, mobile, employer, membership number and address are removed for good.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignPage, Enrolment

ANONYMOUS_NAME = "（已匿名）"
BATCH = 500


def ended_campaigns(days, today=None):
    cutoff = (today or timezone.localdate()) - datetime.timedelta(days=days)
    return CampaignPage.objects.filter(end_date__isnull=False, end_date__lt=cutoff)


def pending_rows(days, today=None):
    return Enrolment.objects.filter(campaign__in=ended_campaigns(days, today)).exclude(name=ANONYMOUS_NAME)


def anonymise(days=None, dry_run=False, today=None, log=print):
    days = settings.ENROLMENT_RETENTION_DAYS if days is None else days
    rows = pending_rows(days, today)
    total = rows.count()
    campaigns = sorted(set(rows.values_list("campaign__title", flat=True)))
    if dry_run:
        log(f"试运行：将匿名化 {total} 条报名（活动结束超过 {days} 天：{'、'.join(campaigns) or '无'}），未做任何修改")
        return total
    done = 0
    while True:
        with transaction.atomic():
            batch = list(rows.select_for_update().values_list("pk", flat=True)[:BATCH])
            if not batch:
                break
            for pk in batch:
                Enrolment.objects.filter(pk=pk).update(
                    name=ANONYMOUS_NAME, id_number_encrypted="", id_number_hash=f"anonymised:{pk}",
                    id_number_masked="", id_tail_hash="", mobile="", employer="", membership_number="", address="",
                )
        done += len(batch)
        log(f"已匿名化 {done}/{total} 条")
    return done
