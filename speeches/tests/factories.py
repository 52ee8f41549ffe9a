import datetime

import factory
import wagtail_factories

from speeches.models import Speaker, SpeechIndexPage, SpeechPage


class SpeakerFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"张{n}")
    post = "主席"
    organisation = "市总工会"

    class Meta:
        model = Speaker


class SpeechIndexPageFactory(wagtail_factories.PageFactory):
    title = "讲话稿库"
    slug = "speeches"

    class Meta:
        model = SpeechIndexPage


class SpeechPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"在全市工会工作会议上的讲话（{n}）")
    slug = factory.Sequence(lambda n: f"speech-f{n}")
    meeting = "全市工会工作会议"
    org_level = "city"
    date_delivered = datetime.date(2024, 3, 5)
    body = [("paragraph", "<p>同志们，今年的工会工作要围绕服务职工展开。</p>")]

    class Meta:
        model = SpeechPage
