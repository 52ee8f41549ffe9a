import datetime

from django.core.validators import MaxValueValidator
from django.db import models
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from campaigns.blocks import CampaignBodyBlock
from core.forms import PortalPageForm

CONFIRM_SALT = "campaigns.enrolment-confirmation"
STATUS_SMS_DEFAULT = "您报名的“{表单}”（受理编号{受理编号}）状态：{状态}。{原因}"


class CampaignStatus(models.TextChoices):
    UPCOMING = "upcoming", "未开始"
    ONGOING = "ongoing", "进行中"
    ENDED = "ended", "已结束"


class CampaignIndexPage(Page):
    base_form_class = PortalPageForm
    intro = RichTextField("导语", blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["campaigns.CampaignPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = "活动专题栏目"
        verbose_name_plural = "活动专题栏目"

    def campaigns(self):
        return CampaignPage.objects.live().public().child_of(self).order_by("-start_date", "-pk")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        order = {CampaignStatus.ONGOING: 0, CampaignStatus.UPCOMING: 1, CampaignStatus.ENDED: 2}
        context["campaigns"] = sorted(self.campaigns(), key=lambda page: order[page.status])
        return context


def confirmation_digest(pk):
    return salted_hmac(CONFIRM_SALT, str(pk)).hexdigest()[:32]


def today():
    return timezone.localdate()


class CampaignPage(RoutablePageMixin, Page):
    base_form_class = PortalPageForm
    intro = RichTextField("导语", blank=True, features=["bold", "italic", "link"])
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True, help_text="留空表示长期有效")
    contact_email = models.EmailField("报名通知邮箱", blank=True, help_text="每有新报名即发邮件到此地址")
    body = StreamField(CampaignBodyBlock(), verbose_name="正文", blank=True)
    min_age = models.PositiveSmallIntegerField("最低年龄（周岁）", default=16, validators=[MaxValueValidator(150)],
                                               help_text="按身份证号中的出生日期计算，含本数")
    max_age = models.PositiveSmallIntegerField("最高年龄（周岁）", default=70, validators=[MaxValueValidator(150)],
                                               help_text="按身份证号中的出生日期计算，含本数")
    status_sms_template = models.TextField(
        "审核状态短信", blank=True, default=STATUS_SMS_DEFAULT,
        help_text="报名状态变化时发给会员的短信。可用：{活动} {表单} {受理编号} {状态} {原因}；不会包含身份证号",
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        MultiFieldPanel([FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
                         FieldPanel("contact_email"), FieldPanel("status_sms_template")], heading="活动时间与通知"),
        MultiFieldPanel([FieldRowPanel([FieldPanel("min_age"), FieldPanel("max_age")])], heading="报名年龄范围"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["campaigns.CampaignIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "活动专题"
        verbose_name_plural = "活动专题"

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "结束日期不能早于开始日期。"})
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValidationError({"max_age": "最高年龄不能低于最低年龄。"})

    @property
    def age_range(self):
        return (self.min_age, self.max_age)

    def status_on(self, day):
        if day < self.start_date:
            return CampaignStatus.UPCOMING
        if self.end_date and day > self.end_date:
            return CampaignStatus.ENDED
        return CampaignStatus.ONGOING

    @property
    def status(self):
        return self.status_on(today())

    @property
    def status_label(self):
        return CampaignStatus(self.status).label

    def form_blocks(self):
        return [block for block in self.body if block.block_type == "enrolment_form"]

    def find_form_block(self, block_id):
        return next((block for block in self.form_blocks() if block.id == block_id), None)

    def closed_message(self, block_value, day=None):
        """Why a form block accepts nothing right now, or '' when it is open."""
        day = day or today()
        status = self.status_on(day)
        if status == CampaignStatus.UPCOMING:
            return f"本活动尚未开始，报名将于{self.start_date:%Y年%-m月%-d日}开放。"
        if status == CampaignStatus.ENDED:
            return "本活动已结束，报名已关闭，不再接受提交。"
        closing = block_value.get("closing_date")
        if isinstance(closing, datetime.date) and day > closing:
            return f"本项报名已于{closing:%Y年%-m月%-d日}截止，不再接受提交。"
        return ""

    @path("")
    def index_route(self, request):
        from campaigns.submission import handle_submission

        if request.method == "POST":
            return handle_submission(self, request)
        return self.render_with_forms(request)

    def render_with_forms(self, request, states=None, status=200, notice=""):
        from campaigns.submission import initial_states

        context = self.get_context(request)
        context["enrolment_states"] = initial_states(self) | (states or {})
        context["notice"] = notice
        return TemplateResponse(request, self.get_template(request), context, status=status)

    @path("confirmed/<str:token>/")
    def confirmed(self, request, token):
        from campaigns.models import Enrolment

        pk, _, digest = token.partition("-")
        if not pk.isdigit() or not constant_time_compare(digest, confirmation_digest(pk)):
            return redirect(self.url)
        enrolment = Enrolment.objects.filter(pk=pk, campaign=self).first()
        if enrolment is None:
            return redirect(self.url)
        context = self.get_context(request)
        context["enrolment"] = enrolment
        return TemplateResponse(request, "campaigns/confirmation.html", context)

    def confirmation_url(self, enrolment):
        token = f"{enrolment.pk}-{confirmation_digest(enrolment.pk)}"
        return self.url + self.reverse_subpage("confirmed", kwargs={"token": token})
