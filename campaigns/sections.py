def home_sections(page, request):
    from campaigns.models import CampaignIndexPage

    index = CampaignIndexPage.objects.live().child_of(page).first()
    if index is None:
        return []
    campaigns = list(index.campaigns()[:20])
    order = {"ongoing": 0, "upcoming": 1, "ended": 2}
    campaigns.sort(key=lambda campaign: order[campaign.status])
    return [{"title": "活动专题", "url": index.url, "items": campaigns[:4],
             "template": "campaigns/includes/home_section.html"}]
