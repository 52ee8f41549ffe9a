import django_filters
from django.urls import path, reverse, reverse_lazy
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn
from wagtail.admin.widgets import HeaderButton
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet, SnippetViewSetGroup

from merchants import admin_views, panels
from merchants.models import Category, Merchant, MerchantStatus


class MerchantFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=MerchantStatus.choices, method="filter_status")
    district = django_filters.CharFilter(label="区域", lookup_expr="exact")

    class Meta:
        model = Merchant
        fields = ["category", "district", "active"]

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)


class MerchantIndexView(IndexView):
    @property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm("merchants.add_merchant"):
            buttons.append(HeaderButton("从表格导入", url=reverse("merchants_import"), icon_name="upload"))
        buttons.append(HeaderButton("导出 Excel", url=reverse("merchants_export", args=["xlsx"]), icon_name="download"))
        buttons.append(HeaderButton("导出 CSV", url=reverse("merchants_export", args=["csv"]), icon_name="download"))
        return buttons


class MerchantViewSet(SnippetViewSet):
    model = Merchant
    icon = "tag"
    menu_label = "商户"
    index_view_class = MerchantIndexView
    list_display = [
        "name",
        "category",
        "district",
        "discount",
        StatusTagColumn("status_label", label="状态", primary=lambda merchant: merchant.is_visible()),
        Column("valid_to", label="有效期至"),
    ]
    list_per_page = 50
    filterset_class = MerchantFilterSet
    search_fields = ["name", "address", "discount", "district"]
    ordering = ["sort_key", "name"]


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "folder-open-inverse"
    menu_label = "商户类别"
    list_display = ["name", "sort_order"]
    ordering = ["sort_order", "name"]


class MerchantGroup(SnippetViewSetGroup):
    items = (MerchantViewSet, CategoryViewSet)
    menu_icon = "tag"
    menu_label = "特惠商户"
    menu_name = "merchants"
    menu_order = 220

    def get_submenu_items(self):
        items = super().get_submenu_items()
        items.append(ImportMenuItem("从表格导入", reverse_lazy("merchants_import"), icon_name="upload", order=900))
        return items


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("merchants.add_merchant") and request.user.has_perm("merchants.change_merchant")


register_snippet(MerchantGroup)


@hooks.register("register_admin_urls")
def merchant_admin_urls():
    return [
        path("merchants/import/", admin_views.ImportView.as_view(), name="merchants_import"),
        path("merchants/import/<int:pk>/", admin_views.ImportJobView.as_view(), name="merchants_import_job"),
        path("merchants/import/preview/<str:token>/", admin_views.PreviewView.as_view(),
             name="merchants_import_preview"),
        path("merchants/template.<str:fmt>", admin_views.template_download, name="merchants_template"),
        path("merchants/export.<str:fmt>", admin_views.export, name="merchants_export"),
    ]


hooks.register("construct_homepage_panels", panels.add_panel)


@hooks.register("register_log_actions")
def register_import_log_actions(actions):
    actions.register_action("merchants.import_started", "开始导入特惠商户", "确认导入特惠商户表格（后台处理）")
    actions.register_action("merchants.import", "导入特惠商户", "导入特惠商户表格完成")
