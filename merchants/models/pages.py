from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField
from wagtail.models import Page

from core.forms import PortalPageForm
from merchants.search import clean_query, matching_ids

from .merchant import Category, Merchant, pinyin_key

SORTS = {"name": "按名称（拼音）", "newest": "最新加入"}
PRINT_LIMIT = 2000


class MerchantDirectoryPage(RoutablePageMixin, Page):
    base_form_class = PortalPageForm
    intro = RichTextField("导语", blank=True, features=["bold", "italic", "link"])
    notice = models.TextField("使用说明", blank=True, default="消费时请出示工会会员服务卡，优惠以商户店内公示为准。")

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("notice")]

    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = "特惠商户名录"
        verbose_name_plural = "特惠商户名录"

    def merchants(self):
        return Merchant.objects.visible().select_related("category", "logo")

    def filter_merchants(self, request):
        """Apply the visitor's search, category, district and sort; return the queryset and the filter state."""
        query = clean_query(request.GET.get("q"))
        category = request.GET.get("category", "").strip()
        district = request.GET.get("district", "").strip()
        sort = request.GET.get("sort", "name")
        if sort not in SORTS:
            sort = "name"

        base = self.merchants()
        ranked = None
        if query:
            ranked = matching_ids(query, base)
            base = base.filter(pk__in=ranked)

        categories = list(Category.objects.order_by("sort_order", "name"))
        if category not in {c.name for c in categories}:
            category = ""
        if district and not base.filter(district=district).exists():
            district = ""
        in_district = base.filter(district=district) if district else base
        counts = dict(
            in_district.order_by().values("category__name").annotate(n=models.Count("pk"))
            .values_list("category__name", "n")
        )
        category_counts = [(c.name, counts[c.name]) for c in categories if counts.get(c.name)]
        in_category = base.filter(category__name=category) if category else base
        district_counts = sorted(
            in_category.exclude(district="").order_by().values("district").annotate(n=models.Count("pk"))
            .values_list("district", "n"),
            key=lambda pair: pinyin_key(pair[0]),
        )

        merchants = base
        if category:
            merchants = merchants.filter(category__name=category)
        if district:
            merchants = merchants.filter(district=district)
        if sort == "newest":
            merchants = merchants.order_by("-created_at", "-pk")
        else:
            merchants = merchants.order_by("sort_key", "name", "pk")
        state = {
            "query": query,
            "selected_category": category,
            "selected_district": district,
            "sort": sort,
            "sorts": SORTS.items(),
            "category_counts": category_counts,
            "district_counts": district_counts,
            "total_count": base.count(),
            "filtered": bool(query or category or district),
        }
        return merchants, state

    @path("")
    def directory(self, request):
        merchants, state = self.filter_merchants(request)
        per_page = getattr(settings, "MERCHANTS_PER_PAGE", 20)
        page_obj = Paginator(merchants, per_page).get_page(request.GET.get("page"))
        context = {"page_obj": page_obj, "merchants": page_obj.object_list, **state}
        return self.render(request, context_overrides=context)

    @path("print/", name="print")
    def print_list(self, request):
        merchants, state = self.filter_merchants(request)
        context = self.get_context(request)
        context.update(state, merchants=merchants[:PRINT_LIMIT], print_limit=PRINT_LIMIT)
        return TemplateResponse(request, "merchants/merchant_print.html", context)

    @re_path(r"^(?P<pk>\d+)/$", name="merchant")
    def merchant_detail(self, request, pk):
        merchant = self.merchants().filter(pk=pk).first()
        if merchant is None:
            raise Http404("商户不存在或优惠已结束")
        context = self.get_context(request)
        context["merchant"] = merchant
        context["canonical_path"] = self.merchant_url(merchant)
        return TemplateResponse(request, "merchants/merchant_detail.html", context)

    def get_sitemap_urls(self, request=None):
        urls = super().get_sitemap_urls(request)
        base = self.get_full_url(request)
        for merchant in Merchant.objects.visible().only("pk", "updated_at").order_by("pk"):
            urls.append({"location": f"{base}{merchant.pk}/", "lastmod": merchant.updated_at})
        return urls

    def merchant_url(self, merchant):
        return self.url + self.reverse_subpage("merchant", kwargs={"pk": merchant.pk})

