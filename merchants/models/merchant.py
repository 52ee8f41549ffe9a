from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, PageChooserPanel
from wagtail.search import index

from merchants.validation import PHONE_HELP, normalise_phone, validate_phone


def pinyin_key(text):
    """Sort key that orders Chinese names by pinyin (拼音排序)."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text or "", style=Style.TONE3)).lower()[:255]


class Category(models.Model):
    name = models.CharField("名称", max_length=30, unique=True)
    sort_order = models.PositiveIntegerField("排序", default=100, help_text="数字小的排在前面")

    panels = [FieldPanel("name"), FieldPanel("sort_order")]

    class Meta:
        verbose_name = "商户类别"
        verbose_name_plural = "商户类别"
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class MerchantStatus(models.TextChoices):
    VALID = "valid", "有效"
    EXPIRED = "expired", "已过期"
    PENDING = "pending", "未开始"
    INACTIVE = "inactive", "已停用"


class MerchantQuerySet(models.QuerySet):
    def visible(self, today=None):
        """Listings the public sees: active and inside their validity period."""
        today = today or timezone.localdate()
        return self.filter(
            models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=today),
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=today),
            active=True,
        )

    def with_status(self, status, today=None):
        today = today or timezone.localdate()
        if status == MerchantStatus.VALID:
            return self.visible(today)
        if status == MerchantStatus.INACTIVE:
            return self.filter(active=False)
        if status == MerchantStatus.EXPIRED:
            return self.filter(active=True, valid_to__lt=today)
        if status == MerchantStatus.PENDING:
            return self.filter(active=True, valid_from__gt=today).exclude(valid_to__lt=today)
        return self


class Merchant(index.Indexed, models.Model):
    name = models.CharField("商户名称", max_length=100)
    category = models.ForeignKey(Category, verbose_name="类别", on_delete=models.PROTECT, related_name="merchants")
    district = models.CharField("区域", max_length=50, blank=True, help_text="如：渝中区、江北区")
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=50, blank=True, validators=[validate_phone], help_text=PHONE_HELP)
    opening_hours = models.CharField("营业时间", max_length=100, blank=True)
    discount = models.CharField("优惠内容", max_length=300, help_text="如：持卡消费9折")
    logo = models.ForeignKey(
        "wagtailimages.Image", verbose_name="标志/照片", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    valid_from = models.DateField("有效期开始", null=True, blank=True, help_text="留空表示立即生效")
    valid_to = models.DateField("有效期结束", null=True, blank=True, help_text="留空表示长期有效")
    active = models.BooleanField("启用", default=True, help_text="取消勾选后不在商户名录中显示")
    campaign = models.ForeignKey(
        "wagtailcore.Page", verbose_name="关联活动", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", limit_choices_to={"live": True},
    )
    sort_key = models.CharField(max_length=255, editable=False, db_index=True, default="")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = MerchantQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("category"), FieldPanel("district")]),
        FieldPanel("address"),
        FieldRowPanel([FieldPanel("phone"), FieldPanel("opening_hours")]),
        FieldPanel("discount"),
        FieldPanel("logo"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("valid_from"), FieldPanel("valid_to")]), FieldPanel("active")],
            heading="有效期与状态",
        ),
        PageChooserPanel("campaign"),
    ]

    search_fields = [
        index.SearchField("name", boost=3),
        index.SearchField("discount", boost=2),
        index.SearchField("address"),
        index.SearchField("district"),
        index.AutocompleteField("name"),
        index.RelatedFields("category", [index.SearchField("name")]),
        index.FilterField("category"),
        index.FilterField("district"),
        index.FilterField("active"),
        index.FilterField("valid_from"),
        index.FilterField("valid_to"),
    ]

    class Meta:
        verbose_name = "特惠商户"
        verbose_name_plural = "特惠商户"
        ordering = ["sort_key", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["name", "address"], name="unique_merchant_name_address")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "有效期结束日期不能早于开始日期"})

    def save(self, *args, **kwargs):
        self.phone = normalise_phone(self.phone)
        self.sort_key = pinyin_key(self.name)
        super().save(*args, **kwargs)

    def status(self, today=None):
        today = today or timezone.localdate()
        if not self.active:
            return MerchantStatus.INACTIVE
        if self.valid_to and self.valid_to < today:
            return MerchantStatus.EXPIRED
        if self.valid_from and self.valid_from > today:
            return MerchantStatus.PENDING
        return MerchantStatus.VALID

    def is_visible(self, today=None):
        return self.status(today) == MerchantStatus.VALID

    @property
    def status_label(self):
        return MerchantStatus(self.status()).label

    @property
    def tel_href(self):
        return "tel:" + "".join(ch for ch in self.phone.split("/")[0] if ch.isdigit() or ch == "-")
