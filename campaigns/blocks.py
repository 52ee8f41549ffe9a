from wagtail import blocks
from wagtail.images.blocks import ImageBlock

from campaigns import form_kinds


class TextBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        kwargs.setdefault("features", ["h2", "h3", "bold", "italic", "link", "ol", "ul"])
        super().__init__(**kwargs)

    class Meta:
        icon = "pilcrow"
        label = "正文"
        template = "campaigns/blocks/text.html"


class CampaignImageBlock(ImageBlock):
    """Wagtail's ImageBlock: the editor must give alt text or mark the image decorative."""

    class Meta:
        icon = "image"
        label = "图片"
        template = "campaigns/blocks/image.html"


class KeyFigureBlock(blocks.StructBlock):
    value = blocks.CharBlock(label="数字", max_length=30, help_text="如 140万、1625.6万元")
    label = blocks.CharBlock(label="说明", max_length=100)

    class Meta:
        icon = "decimal"
        label = "数字"


class KeyFiguresBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label="标题", required=False, max_length=100)
    figures = blocks.ListBlock(KeyFigureBlock(), label="数字", min_num=1)

    class Meta:
        icon = "order"
        label = "关键数字"
        template = "campaigns/blocks/key_figures.html"


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(label="问题", max_length=200)
    answer = blocks.TextBlock(label="回答")

    class Meta:
        icon = "help"
        label = "问答"


class FaqBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label="标题", required=False, default="常见问题", max_length=100)
    items = blocks.ListBlock(FaqItemBlock(), label="问答", min_num=1)

    class Meta:
        icon = "help"
        label = "常见问题"
        template = "campaigns/blocks/faq.html"


class EnrolmentFormBlock(blocks.StructBlock):
    form_kind = blocks.ChoiceBlock(choices=form_kinds.CHOICES, label="表单类型", default=form_kinds.DEFAULT)
    title = blocks.CharBlock(label="表单标题", max_length=100)
    intro = blocks.TextBlock(label="表单说明", required=False)
    plan_options = blocks.ListBlock(
        blocks.CharBlock(max_length=100, label="方案"), label="互助方案/档次", default=[],
        help_text="仅职工医疗互助表单使用，如“住院医疗互助（每份30元）”",
    )
    max_shares = blocks.IntegerBlock(label="每人最多份数", default=5, min_value=1, max_value=100,
                                     help_text="仅职工医疗互助表单使用")
    pickup_note = blocks.CharBlock(label="自取地点说明", required=False, max_length=200,
                                   help_text="仅会员服务卡表单使用")
    consent_text = blocks.TextBlock(label="同意条款", default="本人已阅读并同意活动章程，承诺所填信息真实有效。")
    closing_date = blocks.DateBlock(label="截止日期", required=False, help_text="留空则以活动结束日期为准")

    class Meta:
        icon = "form"
        label = "报名表单"
        template = "campaigns/blocks/enrolment_form.html"


class CampaignBodyBlock(blocks.StreamBlock):
    text = TextBlock()
    image = CampaignImageBlock()
    key_figures = KeyFiguresBlock()
    faq = FaqBlock()
    enrolment_form = EnrolmentFormBlock()
