"""Shared helpers for the front-end and accessibility tests: a small public site with every page type."""

import re

from django.conf import settings
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from home.models import StandardPage
from speeches.models import SpeechPage

AXE_JS = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SPEECH_SLUG = "speech-10"
SPEECH_TITLE = "在全省工会为职工办实事工作座谈会上的讲话"


PARAGRAPHS = [
    "同志们：今天我们召开全省工会为职工办实事工作座谈会，主要任务是总结经验，部署下一阶段工作。",
    "过去一年，各级工会坚持以职工为中心，围绕会员服务卡发放、职工医疗互助、困难职工帮扶等重点工作，办成了一批实事。",
    "下面，我讲三点意见。",
]


def build_speeches(speech_index):
    """A handful of speeches like the imported corpus (headings, paragraphs, quote) without the slow import."""
    import datetime

    from speeches.tests.factories import SpeakerFactory, SpeechPageFactory

    speaker = SpeakerFactory(name="王建国", post="主席", organisation="省总工会")
    body = [("paragraph", f"<p>{text}</p>") for text in PARAGRAPHS]
    body += [("heading", {"text": "一、关于工会会员服务卡发送工作", "level": "h2"}),
             ("paragraph", "<p>会员服务卡是工会服务职工的重要载体，要做到应发尽发、应享尽享。</p>"),
             ("quote", {"text": "工会要做职工群众信赖的“职工之家”。", "attribution": "全总文件"}),
             ("heading", {"text": "二、关于职工医疗互助", "level": "h2"}),
             ("paragraph", "<p>要扩大职工医疗互助覆盖面，简化理赔流程，让职工少跑腿。</p>")]
    speech = SpeechPageFactory(parent=speech_index, slug=SPEECH_SLUG, title=SPEECH_TITLE, speaker=speaker,
                               meeting="全省工会为职工办实事工作座谈会", org_level="provincial",
                               date_delivered=datetime.date(2023, 6, 8), body=body)
    speech.topics.add("会员服务卡", "职工医疗互助")
    speech.save_revision().publish()
    for n in range(4):
        other = SpeechPageFactory(parent=speech_index, title=f"在{2012 + n}年全市工会工作会议上的讲话",
                                  date_delivered=datetime.date(2012 + n, 3, 5), org_level="city", speaker=speaker)
        other.topics.add("会员服务卡")
        other.save_revision().publish()
    return speech


def build_public_site(home_page, speech_index):
    """Every public page type: home, archive (paginated), a speech with image, table and English passage, 关于我们."""
    build_speeches(speech_index)
    about = StandardPage(
        title="关于我们", slug="about", show_in_menus=True,
        body='<p>市总工会宣传门户由市总工会宣传部主办。联系我们：<a href="/speeches/">讲话稿库</a>。</p>',
    )
    home_page.add_child(instance=about)
    about.save_revision().publish()
    image = Image.objects.create(title="职工之家", file=get_test_image_file(size=(1600, 900)))
    speech = SpeechPage.objects.get(slug=SPEECH_SLUG)
    body = list(speech.body.raw_data)
    body.insert(2, {"type": "image", "value": {"image": image.pk, "alt_text": "职工之家活动现场", "decorative": False}})
    body.append({"type": "table", "value": {
        "caption": "服务卡发放情况",
        "columns": [{"type": "text", "heading": "地区"}, {"type": "number", "heading": "发放张数（张）"},
                    {"type": "text", "heading": "说明"}],
        "rows": [{"values": ["省直机关", 12000, "已完成发放并开通线上服务功能"]},
                 {"values": ["市区", 58000, "分三批发放，第三批预计年底完成"]}],
    }})
    body.append({"type": "paragraph", "value": '<p>会议口号：<span lang="en">Workers first</span>。</p>'})
    speech.body = body
    speech.save_revision().publish()
    return about, speech


def visible_text_urls(html):
    return re.findall(r'(?:src|href|content|action)="((?:https?:)?//[^"]+)"', html)
