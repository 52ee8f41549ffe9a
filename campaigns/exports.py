"""Enrolment exports (CSV and .xlsx) written by the task worker into a private file for the user who asked."""

import logging

import django_filters
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from campaigns import crypto
from campaigns.models import CampaignPage, Enrolment, EnrolmentStatus, RosterUpload, Unit
from core.jobs import PermanentJobError, attach_file, job, job_progress, open_job_file
from core.spreadsheets import Column, write_csv, write_xlsx

logger = logging.getLogger(__name__)

FULL_ID_PERMISSION = "campaigns.view_id_number"
UNREADABLE_ID = "【无法解密】"
UNREADABLE_MESSAGE = ("身份证号无法解密：已配置的密钥（ENROLMENT_KEYS / ENROLMENT_KEY）读不出这些数据，"
                      "请立即联系系统管理员核对密钥（旧密钥须保留到 rotate_enrolment_key 运行完毕）。")


def readable_id_number(enrolment):
    """The full ID number, or the 无法解密 marker (logged as an error) when the keys cannot read it."""
    try:
        return enrolment.id_number
    except crypto.DecryptionError:
        logger.error("enrolment %s (id %s): ID number cannot be decrypted with the configured keys",
                     enrolment.reference, enrolment.pk)
        return UNREADABLE_ID


def conflict_note(enrolment):
    if enrolment.conflict_of_id:
        return f"⚠ 冲突：与 {enrolment.conflict_of.reference} 身份证号相同"
    count = getattr(enrolment, "conflict_count", None)
    if count is None:
        count = enrolment.conflicts.count()
    return f"⚠ 有 {count} 条同号冲突报名" if count else ""


SEARCH_FIELDS = ["reference", "name", "mobile", "employer", "branch", "membership_number"]
FORMATS = {"csv": "CSV", "xlsx": "Excel"}
EXPORT_COLUMNS = [
    (Column("受理编号"), lambda e: e.reference or ""),
    (Column("活动"), lambda e: e.campaign_title),
    (Column("表单"), lambda e: e.form_title),
    (Column("姓名"), lambda e: e.name),
    (Column("身份证号", "digits"), readable_id_number),
    (Column("手机号码", "digits"), lambda e: e.mobile),
    (Column("工作单位"), lambda e: e.employer),
    (Column("基层工会"), lambda e: e.branch),
    (Column("互助方案"), lambda e: e.plan),
    (Column("份数", "number"), lambda e: e.shares if e.shares is not None else ""),
    (Column("会员证号"), lambda e: e.membership_number),
    (Column("领取方式"), lambda e: e.get_delivery_display() if e.delivery else ""),
    (Column("邮寄地址"), lambda e: e.address),
    (Column("状态"), lambda e: e.get_status_display()),
    (Column("身份证号冲突"), conflict_note),
    (Column("退回原因"), lambda e: e.review_reason),
    (Column("提交时间"), lambda e: timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S")),
]
COLUMNS = [column for column, _ in EXPORT_COLUMNS]
ID_COLUMN = [column.title for column in COLUMNS].index("身份证号")


def can_see_full_id(user):
    return user is not None and user.is_active and user.has_perm(FULL_ID_PERMISSION)


class EnrolmentFilterSet(WagtailFilterSet):
    campaign = django_filters.ModelChoiceFilter(label="活动", queryset=CampaignPage.objects.order_by("-start_date"))
    status = django_filters.ChoiceFilter(label="状态", choices=EnrolmentStatus.choices)
    created_at = django_filters.DateFromToRangeFilter(label="提交日期", widget=DateRangePickerWidget)
    branch = django_filters.CharFilter(label="基层工会", lookup_expr="icontains")
    form_kind = django_filters.ChoiceFilter(label="表单类型", choices=Enrolment._meta.get_field("form_kind").choices)
    conflict = django_filters.ChoiceFilter(
        label="身份证号冲突", method="filter_conflict",
        choices=[("yes", "有冲突（待核实的报名及其首条报名）"), ("no", "无冲突")])
    unit = django_filters.ModelChoiceFilter(label="代办单位", queryset=Unit.objects.all())
    roster_upload = django_filters.ModelChoiceFilter(label="名单批次", queryset=RosterUpload.objects.all())

    class Meta:
        model = Enrolment
        fields = ["campaign", "status", "conflict", "created_at", "branch", "form_kind", "unit", "roster_upload"]

    def filter_conflict(self, queryset, name, value):
        involved = Q(conflict_of__isnull=False) | Exists(Enrolment.objects.filter(conflict_of=OuterRef("pk")))
        if value == "yes":
            return queryset.filter(involved)
        if value == "no":
            return queryset.exclude(involved)
        return queryset


def with_conflict_counts(queryset):
    conflicts = (Enrolment.objects.filter(conflict_of=OuterRef("pk")).order_by().values("conflict_of")
                 .annotate(n=Count("pk")).values("n"))
    return queryset.select_related("campaign", "conflict_of").annotate(
        conflict_count=Coalesce(Subquery(conflicts, output_field=IntegerField()), 0))


def filtered_enrolments(query):
    """The enrolments the listing shows for these GET parameters (a QueryDict: filters and search)."""
    queryset = with_conflict_counts(Enrolment.objects.order_by("created_at", "pk"))
    filterset = EnrolmentFilterSet(query, queryset=queryset)
    if filterset.is_valid():
        queryset = filterset.qs
    text = query.get("q", "").strip()
    if text:
        condition = Q()
        for field in SEARCH_FIELDS:
            condition |= Q(**{f"{field}__icontains": text})
        queryset = queryset.filter(condition)
    return queryset


def query_from(params):
    query = QueryDict(mutable=True)
    for key, values in params.get("query", []):
        query.setlist(key, values)
    return query


def export_rows(queryset, stats=None):
    """One list per enrolment, decrypting each ID number as its row is written; a closing notice row when some
    ID numbers could not be decrypted (counted in ``stats["unreadable"]``)."""
    getters = [getter for _, getter in EXPORT_COLUMNS]
    rows = queryset.annotate(campaign_title=F("campaign__title")).iterator(chunk_size=2000)
    unreadable = 0
    for enrolment in rows:
        row = [getter(enrolment) for getter in getters]
        unreadable += row[ID_COLUMN] == UNREADABLE_ID
        yield row
    if stats is not None:
        stats["unreadable"] = unreadable
    if unreadable:
        yield [f"注意：共 {unreadable} 行身份证号{UNREADABLE_ID}。{UNREADABLE_MESSAGE}"] + [""] * (len(COLUMNS) - 1)


def start_export(user, query, fmt):
    """Queue an export of what the listing shows for ``query``; the count is taken now and checked at the end."""
    queryset = filtered_enrolments(query)
    last = queryset.order_by("-pk").values_list("pk", flat=True).first() or 0
    expected = queryset.count()
    return export_enrolments.start(
        user=user, label=f"导出报名数据（{FORMATS[fmt]}，{expected} 条）", total=expected,
        params={"format": fmt, "query": [[key, query.getlist(key)] for key in query], "last_pk": last,
                "expected": expected})


@job(label="导出报名数据")
def export_enrolments(job_record):
    params = job_record.params
    if not can_see_full_id(job_record.created_by):
        raise PermanentJobError("发起人没有“查看完整身份证号并导出报名数据”权限，未导出")
    fmt = params["format"]
    queryset = filtered_enrolments(query_from(params)).filter(pk__lte=params["last_pk"])
    total = queryset.count()
    job_progress(job_record, 0, total)

    def progress(done):
        job_progress(job_record, done)

    stats = {}
    with open_job_file(job_record, f".{fmt}") as (name, handle):
        if fmt == "csv":
            count = write_csv(handle, COLUMNS, export_rows(queryset, stats), progress=progress)
        else:
            count = write_xlsx(handle, COLUMNS, export_rows(queryset, stats), sheet_title="报名", progress=progress)
    count -= 1 if stats.get("unreadable") else 0  # the closing notice row
    stamp = timezone.localtime(job_record.created_at).strftime("%Y%m%d-%H%M")
    attach_file(job_record, name, f"报名数据-{stamp}.{fmt}", permission=FULL_ID_PERMISSION)
    expected = params["expected"]
    result = {"rows": count, "expected": expected, "summary": f"共导出 {count} 行（开始导出时列表中为 {expected} 条）"}
    if stats.get("unreadable"):
        result["warning"] = f"有 {stats['unreadable']} 行身份证号{UNREADABLE_ID}。{UNREADABLE_MESSAGE}"
    if count != expected:
        result["warning"] = (f"导出 {count} 行，与开始导出时列表中的 {expected} 条不一致："
                             "导出期间有报名的状态或内容被修改。如需与列表一致，请重新导出。")
    return result
