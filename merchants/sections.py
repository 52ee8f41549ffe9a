from merchants.models import Merchant, MerchantDirectoryPage


def home_sections(page, request):
    directory = MerchantDirectoryPage.objects.live().public().descendant_of(page).first()
    if directory is None:
        return []
    items = list(Merchant.objects.visible().select_related("category").order_by("-created_at", "-pk")[:6])
    for merchant in items:
        merchant.detail_url = directory.merchant_url(merchant)
    return [{"title": "特惠商户", "url": directory.url, "items": items, "template": "merchants/section.html"}]
