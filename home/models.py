from importlib import import_module

from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page

from core.forms import PortalPageForm

# Apps that contribute a section to the home page expose `home_sections(page, request)`
# in a `sections` module; each section is a dict with title, url, items and template.
SECTION_APPS = ("campaigns", "merchants")


class HomePage(Page):
    base_form_class = PortalPageForm
    intro = RichTextField("导语", blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "speeches.SpeechIndexPage",
        "campaigns.CampaignIndexPage",
        "merchants.MerchantDirectoryPage",
        "home.StandardPage",
    ]
    max_count = 1

    class Meta:
        verbose_name = "首页"
        verbose_name_plural = "首页"

    def latest_speeches(self, limit=6):
        from speeches.models import SpeechPage

        return (
            SpeechPage.objects.live()
            .public()
            .descendant_of(self)
            .select_related("speaker")
            .order_by(models.F("date_delivered").desc(nulls_last=True), "-first_published_at", "-pk")[:limit]
        )

    def sections(self, request):
        found = []
        for app in SECTION_APPS:
            try:
                module = import_module(f"{app}.sections")
            except ModuleNotFoundError:
                continue
            found.extend(module.home_sections(self, request))
        return found

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        from speeches.models import SpeechIndexPage

        context["latest_speeches"] = self.latest_speeches()
        context["speech_index"] = SpeechIndexPage.objects.live().child_of(self).first()
        context["sections"] = self.sections(request)
        return context


class StandardPage(Page):
    """A plain page for 关于我们, 联系我们 and similar."""

    base_form_class = PortalPageForm

    body = RichTextField("正文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["home.HomePage", "home.StandardPage"]
    subpage_types = ["home.StandardPage"]

    class Meta:
        verbose_name = "普通页面"
        verbose_name_plural = "普通页面"


@register_setting(icon="site")
class SiteSettings(BaseSiteSetting):
    organisation = models.CharField("主办单位", max_length=100, default="市总工会")
    tagline = models.CharField("口号", max_length=200, blank=True, default="服务职工 维护权益")
    phone = models.CharField("服务热线", max_length=50, blank=True, default="12351")
    address = models.CharField("地址", max_length=200, blank=True)
    icp_number = models.CharField("ICP备案号", max_length=100, blank=True)
    footer_note = models.TextField("页脚说明", blank=True)

    panels = [
        MultiFieldPanel([FieldPanel("organisation"), FieldPanel("tagline")], heading="主办信息"),
        MultiFieldPanel([FieldPanel("phone"), FieldPanel("address")], heading="联系方式"),
        FieldPanel("icp_number"),
        FieldPanel("footer_note"),
    ]

    class Meta:
        verbose_name = "站点设置"
