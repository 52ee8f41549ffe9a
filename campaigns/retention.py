"""Personal data is kept only as long as needed: enrolments of campaigns that ended long ago are anonymised.

What stays is what statistics need (campaign, form, 基层工会, plan, shares, status, dates); name, ID number, its
hash, mobile, employer, membership number and address are removed for good. The collective path's copies go too:
the roster lines (``RosterRow``) and the agents' uploaded files under ROSTER_DIR; an upload keeps only its counts.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from campaigns import roster
from campaigns.models import (
    AuditAction,
    CampaignPage,
    Enrolment,
    EnrolmentAuditLog,
    RosterRow,
    RosterStatus,
    RosterUpload,
)

ANONYMOUS_NAME = "（已匿名）"
BATCH = 500


def ended_campaigns(days, today=None):
    cutoff = (today or timezone.localdate()) - datetime.timedelta(days=days)
    return CampaignPage.objects.filter(end_date__isnull=False, end_date__lt=cutoff)


def pending_rows(days, today=None):
    return Enrolment.objects.filter(campaign__in=ended_campaigns(days, today)).exclude(name=ANONYMOUS_NAME)


def pending_uploads(days, today=None):
    """Uploads of those campaigns that still hold roster lines or a stored file."""
    has_rows = Exists(RosterRow.objects.filter(upload=OuterRef("pk")))
    return RosterUpload.objects.filter(campaign__in=ended_campaigns(days, today)).filter(
        Q(file_path__gt="") | Q(has_rows)).order_by("pk")


def purge_rosters(days, dry_run=False, today=None, log=print):
    """Delete the roster lines and stored files of ended campaigns' uploads, one audit entry per upload."""
    uploads = pending_uploads(days, today)
    if dry_run:
        total = uploads.count()
        files = uploads.filter(file_path__gt="").count()
        lines = RosterRow.objects.filter(upload__in=uploads).count()
        log(f"试运行：将删除 {total} 份名单的 {lines} 条名单行和 {files} 个上传文件，未做任何修改")
        return total
    done = 0
    for pk in list(uploads.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = RosterUpload.objects.select_for_update().filter(pk=pk).first()
            if locked is None:
                continue
            relative = locked.file_path
            lines = RosterRow.objects.filter(upload=locked).delete()[0]
            RosterUpload.objects.filter(pk=pk).update(status=RosterStatus.ERASED, file_path="", file_sha256="",
                                                      original_name="（已删除）")
            EnrolmentAuditLog.objects.create(
                action=AuditAction.RETENTION, actor_name="system", unit_id=locked.unit_id,
                campaign_id=locked.campaign_id, upload=locked, row_count=lines,
                note=f"活动结束超过{days}天，删除名单行{lines}条、文件{1 if relative else 0}个")
        roster.delete_file(relative)
        done += 1
    if done:
        log(f"已删除 {done} 份名单的逐行数据和上传文件")
    return done


def anonymise(days=None, dry_run=False, today=None, log=print):
    days = settings.ENROLMENT_RETENTION_DAYS if days is None else days
    rows = pending_rows(days, today)
    total = rows.count()
    campaigns = sorted(set(rows.values_list("campaign__title", flat=True)))
    if dry_run:
        log(f"试运行：将匿名化 {total} 条报名（活动结束超过 {days} 天：{'、'.join(campaigns) or '无'}），未做任何修改")
        purge_rosters(days, dry_run=True, today=today, log=log)
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
    purge_rosters(days, today=today, log=log)
    return done
