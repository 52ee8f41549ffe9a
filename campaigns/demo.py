"""Demo campaigns built from speech 篇十 (全省工会为职工办实事工作座谈会): 会员服务卡 and 职工医疗互助."""

import datetime

from django.utils import timezone

MUTUAL_AID_FORM = "5a1f0c1e-8d0b-4c52-9a43-0d3b1e6a7c01"
SERVICE_CARD_FORM = "5a1f0c1e-8d0b-4c52-9a43-0d3b1e6a7c02"


def service_card_body():
    return [
        {"type": "text", "id": "demo-card-text", "value": (
            "<p>开展“万名工会干部进万家企业送万张服务卡”活动，是今年我省工会深化职工服务工作的改革创新之举，"
            "纳入了全省工会工作的十件大事。按照“统一设计、统一标识、统分结合、不断完善”的工作思路，"
            "全力推进工会会员服务卡发送工作。</p>"
            "<p>服务卡搭载日常困难帮扶、送温暖慰问、金秋助学、小额担保贷款、医疗互助、劳模津补贴资金的快速划转等"
            "工会各项服务职能，以及购物、就医、出行、文体消费、教育培训等优惠服务。省总工会与省工行已整合了"
            "灵秀湖北、大楚美食、中百超市等项目，让服务卡成为会员的贴心卡、方便卡、实惠卡。</p>")},
        {"type": "key_figures", "id": "demo-card-figures", "value": {"heading": "发卡目标", "figures": [
            {"value": "100万张以上", "label": "到11月底全省发行目标"},
            {"value": "7000张", "label": "武汉市首发仪式首批发放"},
        ]}},
        {"type": "faq", "id": "demo-card-faq", "value": {"heading": "常见问题", "items": [
            {"question": "服务卡有哪些功能？",
             "answer": "搭载困难帮扶、送温暖慰问、金秋助学、小额担保贷款、医疗互助、劳模津补贴资金快速划转等工会服务，"
                       "以及购物、就医、出行、文体消费、教育培训等优惠。"},
            {"question": "服务卡由哪家银行发行？",
             "answer": "省总工会与省工商银行签订了战略合作协议，服务卡按银行规定办理。"},
            {"question": "领卡后需要做什么？",
             "answer": "请尽快激活并使用，避免服务卡成为“睡眠卡”。"},
        ]}},
        {"type": "enrolment_form", "id": SERVICE_CARD_FORM, "value": {
            "form_kind": "service_card", "title": "工会会员服务卡申领",
            "intro": "工会会员可在线申领服务卡，由所属基层工会审核后统一办理。",
            "plan_options": [], "max_shares": 1, "pickup_note": "所属基层工会办公室",
            "consent_text": "本人是工会会员，同意工会及合作银行使用以上信息办理服务卡。", "closing_date": None}},
    ]


def mutual_aid_body():
    return [
        {"type": "text", "id": "demo-aid-text", "value": (
            "<p>开展职工医疗互助活动是工会服务职工群众的有效平台。职工医疗互助活动由工会组织，发扬团结友爱、"
            "互助互利的精神，聚小钱办大事，实现了“有病人帮我、无病我帮人”良性互助循环，"
            "是对现行医疗保障体系的有效补充。</p>"
            "<p>职工医疗互助活动遵循大数法则，实行“众人抬一”的做法：底盘越大安全度越高，惠及职工也更广。"
            "活动先在国有企业、大型企业、机关事业单位中推行，然后向非公企业和其他经济组织拓展延伸。</p>")},
        {"type": "key_figures", "id": "demo-aid-figures", "value": {"heading": "互助成效", "figures": [
            {"value": "140万人", "label": "武汉城市圈职工医疗互助参加人数"},
            {"value": "1684名", "label": "三年间获得互助补助的职工"},
            {"value": "1625.6万元", "label": "互助补助总金额，占筹资总额的61.6%"},
            {"value": "80万人", "label": "今年全省新增参加目标"},
        ]}},
        {"type": "faq", "id": "demo-aid-faq", "value": {"heading": "常见问题", "items": [
            {"question": "医疗互助和医疗保险有什么不同？",
             "answer": "职工医疗互助由工会组织，是对现行医疗保障体系的有效补充，具有公益性、稳定性。"},
            {"question": "互助资金安全吗？",
             "answer": "工会建立健全资金监督管理制度，规范使用程序，确保资金安全。"},
        ]}},
        {"type": "enrolment_form", "id": MUTUAL_AID_FORM, "value": {
            "form_kind": "mutual_aid", "title": "职工医疗互助入会登记",
            "intro": "请选择互助方案和参加份数，由所属基层工会统一审核、收缴。",
            "plan_options": ["住院医疗互助", "特殊病种医疗互助"], "max_shares": 5, "pickup_note": "",
            "consent_text": "本人已阅读并同意职工医疗互助活动章程，承诺所填信息真实有效。", "closing_date": None}},
    ]


def load_demo(home, log):
    from campaigns.models import CampaignIndexPage, CampaignPage
    from core.demo import ensure_child

    index = ensure_child(home, CampaignIndexPage, "campaigns", title="活动专题", show_in_menus=True,
                         intro="<p>会员服务卡申领、职工医疗互助等为职工办实事活动，在线报名。</p>")
    today = timezone.localdate()
    created = 0
    for slug, title, intro, body in (
        ("service-card", "工会会员服务卡发放",
         "<p>万名工会干部进万家企业送万张服务卡，让服务卡成为会员的贴心卡、方便卡、实惠卡。</p>", service_card_body),
        ("mutual-aid", "职工医疗互助活动",
         "<p>聚小钱办大事，有病人帮我、无病我帮人。欢迎广大职工参加职工医疗互助活动。</p>", mutual_aid_body),
    ):
        if CampaignPage.objects.child_of(index).filter(slug=slug).exists():
            continue
        ensure_child(index, CampaignPage, slug, title=title, intro=intro,
                     start_date=today - datetime.timedelta(days=30), end_date=today + datetime.timedelta(days=335),
                     contact_email="huzhu@example.org" if slug == "mutual-aid" else "card@example.org",
                     body=body())
        created += 1
    log(f"活动专题：新建 {created} 个活动（共 {CampaignPage.objects.child_of(index).count()} 个）")
