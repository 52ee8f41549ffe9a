import secrets

from django.conf import settings
from django.db import models

from campaigns import crypto, form_kinds
from campaigns.idcard import mask_id_number, normalise_name

# No 0/O, 1/I/L, U: read out over the phone without confusion.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 12
ID_TAIL_PREFIX = "id-tail:"


class EnrolmentStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已通过"
    RETURNED = "returned", "已退回"
    CONFLICT = "conflict", "待核实"


class Enrolment(models.Model):
    campaign = models.ForeignKey("campaigns.CampaignPage", verbose_name="活动", on_delete=models.PROTECT,
                                 related_name="enrolments")
    block_id = models.CharField("表单块", max_length=64, editable=False)
    form_kind = models.CharField("表单类型", max_length=20, editable=False,
                                 choices=form_kinds.CHOICES)
    form_title = models.CharField("表单", max_length=100, editable=False)
    reference = models.CharField("受理编号", max_length=32, unique=True, null=True, editable=False)
    conflict_of = models.ForeignKey("self", verbose_name="身份证号相同的首条报名", null=True, blank=True,
                                    editable=False, on_delete=models.PROTECT, related_name="conflicts",
                                    help_text="同一活动中身份证号相同、但姓名或手机号码不同的报名，待工会核实")
    name = models.CharField("姓名", max_length=50)
    id_number_encrypted = models.TextField("身份证号（密文）", editable=False)
    id_number_hash = models.CharField("身份证号摘要", max_length=64, editable=False)
    id_number_masked = models.CharField("身份证号", max_length=18, editable=False)
    mobile = models.CharField("手机号码", max_length=11)
    employer = models.CharField("工作单位", max_length=100)
    branch = models.CharField("基层工会", max_length=100, db_index=True)
    plan = models.CharField("互助方案", max_length=100, blank=True)
    shares = models.PositiveSmallIntegerField("份数", null=True, blank=True)
    membership_number = models.CharField("会员证号", max_length=30, blank=True)
    delivery = models.CharField("领取方式", max_length=10, blank=True,
                                choices=[("pickup", "自取"), ("delivery", "邮寄")])
    address = models.CharField("邮寄地址", max_length=200, blank=True)
    consent = models.BooleanField("同意条款", default=False)
    status = models.CharField("状态", max_length=10, choices=EnrolmentStatus.choices,
                              default=EnrolmentStatus.PENDING, db_index=True)
    review_reason = models.TextField("退回原因", blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)
    # collective path (campaigns/roster.py): the unit that enrolled the member, and the upload
    unit = models.ForeignKey("campaigns.Unit", verbose_name="代办单位", null=True, blank=True, editable=False,
                             on_delete=models.PROTECT, related_name="enrolments")
    roster_upload = models.ForeignKey("campaigns.RosterUpload", verbose_name="名单上传", null=True, blank=True,
                                      editable=False, on_delete=models.SET_NULL, related_name="enrolments")
    member_category = models.CharField("人员类别", max_length=20, blank=True, editable=False)
    # keyed hash of the last 6 characters of the ID number, for the progress lookup (campaigns/lookup.py)
    id_tail_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # conflicting submissions (待核实) are kept beside the first one, never instead of it
            models.UniqueConstraint(fields=["campaign", "id_number_hash"], condition=models.Q(conflict_of=None),
                                    name="one_enrolment_per_id_per_campaign")
        ]
        permissions = [("view_id_number", "查看完整身份证号并导出报名数据")]

    def __str__(self):
        # Admin log entries and messages keep this label: the reference, never the member's name.
        return self.reference or "（未编号）"

    def set_id_number(self, number, id_hash=None):
        self.id_number_encrypted = crypto.encrypt(number)
        self.id_number_hash = id_hash or crypto.lookup_hash(number)
        self.id_number_masked = mask_id_number(number)
        self.id_tail_hash = crypto.lookup_hash(ID_TAIL_PREFIX + number[-6:])

    @property
    def id_number(self):
        """The decrypted number; crypto.DecryptionError when the configured keys cannot read it."""
        return crypto.decrypt(self.id_number_encrypted)

    @staticmethod
    def new_reference(form_kind):
        random_part = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        return f"{form_kinds.reference_prefix(form_kind)}-{random_part}"

    @classmethod
    def first_for(cls, campaign, id_hash):
        """The enrolment holding this ID number in the campaign (not a 待核实 conflict), or None."""
        return cls.objects.filter(campaign=campaign, id_number_hash=id_hash, conflict_of=None).first()

    def same_person(self, name, mobile):
        return normalise_name(self.name).casefold() == name.casefold() and self.mobile == mobile


class EnrolmentReview(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL)
    from_status = models.CharField("原状态", max_length=10, choices=EnrolmentStatus.choices)
    to_status = models.CharField("新状态", max_length=10, choices=EnrolmentStatus.choices)
    reason = models.TextField("原因", blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "审核记录"
        verbose_name_plural = "审核记录"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"
