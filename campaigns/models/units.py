"""基层工会 (units), their 代办员 (agents), roster uploads and the audit log of the collective path."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from campaigns.creditcode import CreditCodeError, validate_credit_code
from campaigns.models.enrolments import EnrolmentReview


def credit_code_validator(value):
    try:
        validate_credit_code(value)
    except CreditCodeError as error:
        raise ValidationError(str(error)) from None


class Unit(models.Model):
    name = models.CharField("基层工会名称", max_length=100, unique=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[credit_code_validator],
                                   help_text="18位，末位为校验码（GB 32100-2015）")
    district = models.CharField("所在区", max_length=50, blank=True)
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    active = models.BooleanField("启用", default=True, help_text="停用后，该单位的代办员不能登录或上传名单")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "基层工会"
        verbose_name_plural = "基层工会"
        ordering = ["name"]
        permissions = [("erase_unit_data", "删除基层工会的报名个人信息")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.credit_code:
            try:
                self.credit_code = validate_credit_code(self.credit_code)
            except CreditCodeError:
                pass  # reported by the field validator


class UnitAgent(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE,
                                related_name="unit_agent")
    unit = models.ForeignKey(Unit, verbose_name="基层工会", on_delete=models.PROTECT, related_name="agents")
    must_change_password = models.BooleanField("下次登录须修改密码", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "代办员"
        verbose_name_plural = "代办员"
        ordering = ["unit__name", "user__username"]

    def __str__(self):
        full_name = self.user.get_full_name() if self.user_id else ""
        return f"{full_name or self.user.username}（{self.unit}）"

    @property
    def can_sign_in(self):
        return self.user.is_active and self.unit.active


class RosterStatus(models.TextChoices):
    PREVIEWED = "previewed", "待确认"
    CONFIRMED = "confirmed", "已提交审核"
    APPROVED = "approved", "已整批通过"
    CANCELLED = "cancelled", "已取消"
    ERASED = "erased", "个人信息已删除"


class RosterUpload(models.Model):
    unit = models.ForeignKey(Unit, verbose_name="基层工会", on_delete=models.PROTECT, related_name="uploads")
    campaign = models.ForeignKey("campaigns.CampaignPage", verbose_name="活动", on_delete=models.PROTECT,
                                 related_name="roster_uploads")
    block_id = models.CharField("表单块", max_length=64)
    form_title = models.CharField("表单", max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", null=True,
                                    on_delete=models.SET_NULL, related_name="roster_uploads")
    original_name = models.CharField("文件名", max_length=200)
    file_path = models.CharField("存储位置", max_length=200, blank=True, editable=False,
                                 help_text="ROSTER_DIR 下的相对路径；不在公开媒体目录中")
    file_sha256 = models.CharField("文件摘要", max_length=64, blank=True, editable=False)
    status = models.CharField("状态", max_length=10, choices=RosterStatus.choices, default=RosterStatus.PREVIEWED,
                              db_index=True)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    new_count = models.PositiveIntegerField("新增", default=0)
    update_count = models.PositiveIntegerField("更新", default=0)
    enrolled_count = models.PositiveIntegerField("已报名", default=0)
    conflict_count = models.PositiveIntegerField("待核实", default=0)
    rejected_count = models.PositiveIntegerField("不通过", default=0)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    reviewed_at = models.DateTimeField("整批审核时间", null=True, blank=True)

    class Meta:
        verbose_name = "名单上传"
        verbose_name_plural = "名单上传"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.unit} · {self.campaign.title} · 第{self.pk}批"


class RowOutcome(models.TextChoices):
    NEW = "new", "新增"
    UPDATE = "update", "更新本单位此前上传"
    ENROLLED = "enrolled", "已报名（跳过）"
    CONFLICT = "conflict", "待核实（另一姓名已报名）"
    REJECTED = "rejected", "不通过"


class RosterRow(models.Model):
    """One line of an uploaded roster as checked at preview; linked to its enrolment once confirmed."""

    upload = models.ForeignKey(RosterUpload, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField("Excel 行号")
    outcome = models.CharField("预检结果", max_length=10, choices=RowOutcome.choices)
    reason = models.CharField("说明", max_length=300, blank=True)
    name = models.CharField("姓名", max_length=50, blank=True)
    id_number_masked = models.CharField("身份证号", max_length=18, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_number_encrypted = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    enrolment = models.ForeignKey("campaigns.Enrolment", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="roster_rows")

    class Meta:
        verbose_name = "名单行"
        verbose_name_plural = "名单行"
        ordering = ["upload", "row_number"]
        indexes = [models.Index(fields=["upload", "outcome", "row_number"])]

    def __str__(self):
        return f"第{self.row_number}行"


class AuditAction(models.TextChoices):
    TEMPLATE = "template", "下载模板"
    UPLOAD = "upload", "上传并预检名单"
    UPLOAD_REFUSED = "refused", "上传被拒（文件无效）"
    PREVIEW = "preview", "查看预检结果"
    CONFIRM = "confirm", "确认提交名单"
    CONFIRM_FAILED = "confirm_failed", "确认提交失败（未保存）"
    CANCEL = "cancel", "取消名单"
    DOWNLOAD_FILE = "file", "下载原始文件"
    AGENT_EXPORT = "agent_export", "代办员导出结果"
    APPROVE_UPLOAD = "approve", "整批通过"
    REVIEW = "review", "审核单条报名"
    EXPORT = "export", "导出报名数据"
    VIEW_ID = "view_id", "查看完整身份证号"
    ERASE_UNIT = "erase_unit", "删除单位个人信息"
    ERASE_MEMBER = "erase_member", "删除单个会员个人信息"
    RETENTION = "retention", "保留期满自动删除名单"
    RESET_PASSWORD = "reset_password", "重置代办员密码"


class EnrolmentAuditLog(models.Model):
    """Who did what to which unit's data. Never a member's name or ID number."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=AuditAction.choices, db_index=True)
    unit = models.ForeignKey(Unit, verbose_name="基层工会", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    campaign = models.ForeignKey("campaigns.CampaignPage", verbose_name="活动", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    upload = models.ForeignKey(RosterUpload, verbose_name="名单上传", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="audit_entries")
    row_count = models.PositiveIntegerField("涉及行数", default=0)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "名单操作记录"
        verbose_name_plural = "名单操作记录"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.actor_name} {self.get_action_display()}"


@receiver(post_save, sender=EnrolmentReview, dispatch_uid="campaigns-review-notify")
def _review_saved(sender, instance, created, raw=False, **kwargs):
    """Every status change (admin review or batch approval) notifies the member and the agent."""
    if created and not raw:
        from campaigns.notifications import queue_status_notifications

        enrolment = instance.enrolment
        if enrolment.unit_id:
            EnrolmentAuditLog.objects.create(
                actor=instance.user, actor_name=getattr(instance.user, "username", ""), action=AuditAction.REVIEW,
                unit_id=enrolment.unit_id, campaign_id=enrolment.campaign_id, upload_id=enrolment.roster_upload_id,
                row_count=1, note=f"{instance.get_from_status_display()} → {instance.get_to_status_display()}")
        transaction.on_commit(lambda: queue_status_notifications([instance]))
