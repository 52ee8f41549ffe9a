from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Rss201rev2Feed

from speeches.models import SpeechPage


class LatestSpeechesFeed(Feed):
    feed_type = Rss201rev2Feed
    title = "工会宣传门户 · 最新讲话稿"
    link = "/"
    description = "工会工作会议讲话稿，最新发布在前。"
    language = "zh-hans"

    def items(self):
        return SpeechPage.objects.live().public().select_related("speaker").order_by("-first_published_at", "-pk")[:30]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.description

    def item_link(self, item):
        return item.url

    def item_pubdate(self, item):
        return item.first_published_at
