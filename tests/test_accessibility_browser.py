"""Headless Chromium checks of the public site: axe-core (WCAG 2.1 AA), 长辈模式 numbers, keyboard use,
no-JavaScript elder switch, 朗读 controls and the A4 print layout."""

import io
import json
import unicodedata

import pytest
from django.template import engines
from django.test import RequestFactory

from tests.frontend_support import AXE_JS, SPEECH_SLUG, SPEECH_TITLE, build_public_site

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
# best-practice rules Lighthouse also scores: one main, one h1, no skipped heading levels, content in landmarks
STRUCTURE_RULES = ["heading-order", "landmark-one-main", "page-has-heading-one", "region", "landmark-unique"]
PAGES = {
    "首页": "/",
    "讲话稿库": "/speeches/",
    "讲话稿库（筛选、第2页）": "/speeches/?level=city&page=2",
    "讲话稿库（无结果）": "/speeches/?year=1999",
    "讲话稿": f"/speeches/{SPEECH_SLUG}/",
    "普通页面": "/about/",
    "搜索结果": "/search/?q=工会",
    "搜索无结果": "/search/?q=没有这个词xyz",
    "404": "/no-such-page/",
    "活动专题": "/campaigns/",
    "活动（医疗互助报名表）": "/campaigns/mutual-aid/",
    "活动（服务卡申领表）": "/campaigns/service-card/",
    "特惠商户": "/merchants/",
    "特惠商户（打印清单）": "/merchants/print/",
    "报名进度查询": "/enrolment-status/",
    "代办员登录": "/agents/login/",
}

FORM_PAGE = """{% extends "base.html" %}{% block title %}活动报名{% endblock %}{% block content %}
<h1>活动报名</h1><form method="post" novalidate>{% include "includes/form_errors.html" %}
{% for field in form %}{% include "includes/form_field.html" %}{% endfor %}
<button type="submit">提交报名</button></form>{% endblock %}"""


@pytest.fixture
def live_site(site_on_live_server, home_page, speech_index, settings):
    settings.SPEECHES_PER_PAGE = 3
    build_public_site(home_page, speech_index)
    # campaigns with their enrolment forms and the merchant directory, from the same demo content as make run
    from campaigns.demo import load_demo as load_campaigns
    from merchants.demo import load_demo as load_merchants
    from merchants.models import Merchant

    load_campaigns(home_page, lambda message: None)
    load_merchants(home_page, lambda message: None)
    PAGES["商户详情"] = f"/merchants/{Merchant.objects.order_by('pk').first().pk}/"
    return site_on_live_server.url


def form_with_errors_html(base_url):
    from tests.test_frontend_pages import EnrolForm

    form = EnrolForm(data={"name": "", "phone": "123"})
    host = base_url.split("//")[1]
    request = RequestFactory().get("/enrol/", HTTP_HOST=host)
    return engines["django"].from_string(FORM_PAGE).render({"form": form}, request)


def axe_violations(page):
    assert AXE_JS.exists(), "缺少 node_modules/axe-core：运行 npm ci（make test 会自动安装）"
    # Evaluated through DevTools, not as a <script> tag: the site's CSP (script-src 'self') stays in force.
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;true")
    return page.evaluate(
        """async ([tags, rules]) => {
            const wcag = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            const structure = await axe.run(document, {runOnly: {type: 'rule', values: rules}});
            return wcag.violations.concat(structure.violations).map(v => ({id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        [AXE_TAGS, STRUCTURE_RULES],
    )


def use_mode(page, base_url, elder):
    if elder:
        page.context.add_cookies([{"name": "elder_mode", "value": "1", "url": base_url}])
    else:
        page.context.clear_cookies()


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
@pytest.mark.parametrize("viewport", ["phone_page", "desktop_page"], ids=["390x844", "1280x800"])
def test_axe_finds_no_wcag_violations(live_site, request, viewport, elder):
    page = request.getfixturevalue(viewport)
    use_mode(page, live_site, elder)
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((live_site, "data:")) else None)
    width = page.viewport_size["width"]
    problems = {}
    for name, path in PAGES.items():
        page.goto(live_site + path)
        assert page.evaluate("document.documentElement.classList.contains('elder')") == elder, name
        found = axe_violations(page)
        if found:
            problems[name] = found
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} 出现横向滚动"
    # the real enrolment form after a submission with a wrong ID number
    page.goto(live_site + "/campaigns/mutual-aid/")
    page.fill("input[name=name]", "张三")
    page.fill("input[name=id_number]", "110101199003074515")
    page.locator("form[method=post] button[type=submit]").first.click()
    page.wait_for_load_state("load")
    assert "身份证" in page.inner_text("main")
    found = axe_violations(page)
    if found:
        problems["医疗互助报名表（含错误）"] = found
    page.goto(live_site + "/about/")
    page.set_content(form_with_errors_html(live_site))
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    found = axe_violations(page)
    if found:
        problems["报名表（含错误）"] = found
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert not outside, f"对外请求：{outside}"


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_every_page_fits_360_pixels(live_site, browser, elder):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    use_mode(page, live_site, elder)
    for name, path in PAGES.items():
        page.goto(live_site + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
        # wide tables scroll inside their own box
        boxes = page.evaluate(
            "[...document.querySelectorAll('.table-scroll')].map(b => b.getBoundingClientRect().right)")
        assert all(right <= 360 for right in boxes), name
    context.close()


def test_elder_switch_works_without_javascript(live_site, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_site + "/speeches/?level=city")
    assert page.locator("html").get_attribute("class") == ""
    page.get_by_role("link", name="长辈模式").click()
    assert page.url == live_site + "/speeches/?level=city"
    assert page.locator("html").get_attribute("class") == "elder"
    page.goto(live_site + f"/speeches/{SPEECH_SLUG}/")
    assert page.locator("html").get_attribute("class") == "elder", "长辈模式应在各页面保持"
    assert page.locator(".read-aloud").is_hidden()
    page.get_by_role("link", name="退出长辈模式").click()
    assert page.url == live_site + f"/speeches/{SPEECH_SLUG}/"
    assert page.locator("html").get_attribute("class") == ""
    context.close()


def tab_until(page, predicate_js, limit=60):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(predicate_js):
            return True
    return False


def test_keyboard_alone_reaches_search_and_filters(live_site, desktop_page):
    page = desktop_page
    page.goto(live_site + "/speeches/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # the year filter, operated by keyboard
    assert tab_until(page, "document.activeElement.id === 'f-level'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.getElementById('f-level').value") == "provincial"
    assert tab_until(page, "document.activeElement.type === 'submit' && !!document.activeElement.closest('.filters')")
    page.keyboard.press("Enter")
    page.wait_for_url("**level=provincial**")
    assert SPEECH_TITLE in page.locator("main").inner_text()
    # the search box, from the top of the page
    page.goto(live_site + "/")
    assert tab_until(page, "document.activeElement.id === 'header-q'")
    page.keyboard.type("座谈会")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/**")
    assert SPEECH_TITLE in page.locator("main").inner_text()
    # the elder switch is reachable and operable too
    page.goto(live_site + "/")
    assert tab_until(page, "document.activeElement.classList.contains('mode-switch')")
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.classList.contains('elder')")


ELDER_METRICS = """() => {
  const lum = (rgb) => rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number);
    return {rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1}; };
  const background = (el) => {
    let layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a === 1) break; }
    }
    let rgb = [255, 255, 255];
    for (const layer of layers.reverse()) rgb = rgb.map((v, i) => layer.rgb[i] * layer.a + v * (1 - layer.a));
    return rgb;
  };
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('.visually-hidden'); };
  const lowContrast = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !visible(el) || el.closest('script,style,svg')) continue;
    const fg = parse(getComputedStyle(el).color);
    const [a, b] = [lum(fg.rgb), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 7) lowContrast.push(el.tagName + '.' + el.className + ' ' + ratio.toFixed(2));
  }
  const smallTargets = [];
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [tabindex="0"]')) {
    if (!visible(el) || el.closest('.prose p, .lead p, .summary')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 60 || r.height < 60) smallTargets.push(el.tagName + ' ' + el.textContent.trim().slice(0, 12) + ' ' +
      Math.round(r.width) + 'x' + Math.round(r.height));
  }
  const p = document.querySelector('.prose p');
  const ps = getComputedStyle(p);
  const animated = [...document.querySelectorAll('*')].filter(e => {
    const s = getComputedStyle(e); return s.animationName !== 'none' || parseFloat(s.transitionDuration) > 0; }).length;
  return {fontSize: parseFloat(ps.fontSize), lineHeight: parseFloat(ps.lineHeight), gap: parseFloat(ps.marginBottom),
          bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
          h1: parseFloat(getComputedStyle(document.querySelector('h1')).fontSize),
          h2: parseFloat(getComputedStyle(document.querySelector('main h2:not(.visually-hidden)')).fontSize),
          lowContrast, smallTargets, animated};
}"""


@pytest.mark.parametrize("viewport", ["phone_page", "desktop_page"], ids=["390x844", "1280x800"])
def test_elder_mode_meets_the_numbers(live_site, request, viewport):
    page = request.getfixturevalue(viewport)
    use_mode(page, live_site, True)
    for path in [f"/speeches/{SPEECH_SLUG}/", "/about/"]:
        page.goto(live_site + path)
        m = page.evaluate(ELDER_METRICS)
        assert m["fontSize"] >= 24 and m["bodyFont"] >= 24, m
        assert m["lineHeight"] >= 1.5 * m["fontSize"], m
        assert m["gap"] >= 1.3 * m["lineHeight"], m
        assert m["h1"] > m["fontSize"] and m["h2"] > m["fontSize"], m
        assert not m["lowContrast"], m["lowContrast"]
        assert not m["smallTargets"], m["smallTargets"]
        assert m["animated"] == 0
    for path in ["/", "/speeches/?level=city&page=2", "/search/?q=工会", "/campaigns/", "/campaigns/mutual-aid/",
                 "/merchants/", PAGES["商户详情"]]:
        page.goto(live_site + path)
        page.evaluate("document.querySelector('main')"
                      ".insertAdjacentHTML('afterbegin', '<div class=\"prose\"><p>测试</p></div>')")
        m = page.evaluate(ELDER_METRICS)
        assert not m["lowContrast"], (path, m["lowContrast"])
        assert not m["smallTargets"], (path, m["smallTargets"])
    # simplified navigation: one column of large buttons, no secondary footer links
    assert page.locator(".footer-links").is_hidden()
    normal = page.context.browser.new_context(viewport=page.viewport_size)
    plain = normal.new_page()
    plain.goto(live_site + f"/speeches/{SPEECH_SLUG}/")
    plain.evaluate("0")
    assert plain.evaluate("parseFloat(getComputedStyle(document.querySelector('.prose p')).fontSize)") < 24
    normal.close()


FAKE_SPEECH = """
window.__spoken = [];
class FakeUtterance { constructor(text) { this.text = text; } }
window.SpeechSynthesisUtterance = FakeUtterance;
const fake = {paused: false, speaking: false, current: null,
  getVoices() { return [{lang: 'en-US', name: 'en'}, {lang: 'zh-CN', name: '中文'}]; },
  speak(u) { this.current = u; this.speaking = true;
    window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.name}); },
  pause() { this.paused = true; window.__paused = true; }, resume() { this.paused = false; window.__paused = false; },
  cancel() { const u = this.current; this.current = null; this.speaking = false;
    if (u && u.onerror) u.onerror({error: 'interrupted'}); },
  finishCurrent() { const u = this.current; this.current = null; if (u && u.onend) u.onend({}); }};
Object.defineProperty(window, 'speechSynthesis', {value: fake, configurable: true});
"""


def test_read_aloud_reads_paragraphs_in_chinese_with_pause_and_stop(live_site, phone_page):
    page = phone_page
    page.add_init_script(FAKE_SPEECH)
    page.goto(live_site + f"/speeches/{SPEECH_SLUG}/")
    box = page.locator(".read-aloud")
    assert box.is_visible()
    page.get_by_role("button", name="朗读全文").click()
    first = page.evaluate("window.__spoken[0]")
    assert first["lang"] == "zh-CN" and first["voice"] == "中文" and first["text"].startswith("同志们")
    assert page.locator(".is-reading").inner_text().startswith("同志们")
    page.evaluate("speechSynthesis.finishCurrent()")
    assert page.locator(".is-reading").inner_text().startswith("过去一年")
    assert "第 2 段" in page.locator(".read-aloud-status").inner_text()
    page.get_by_role("button", name="暂停").click()
    assert page.evaluate("window.__paused") is True
    page.get_by_role("button", name="继续").click()
    assert page.evaluate("window.__paused") is False
    page.get_by_role("button", name="停止").click()
    assert page.locator(".is-reading").count() == 0
    assert page.get_by_role("button", name="朗读全文").is_visible()
    assert page.evaluate("document.activeElement.dataset.action") == "start"


def test_read_aloud_hidden_without_speech_synthesis(live_site, desktop_page):
    page = desktop_page
    page.add_init_script("delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;"
                         "Object.defineProperty(window, 'speechSynthesis', {value: undefined});")
    page.goto(live_site + f"/speeches/{SPEECH_SLUG}/")
    page.wait_for_load_state("load")
    assert page.locator(".read-aloud").is_hidden()


def test_speech_prints_as_a4_official_document(live_site, desktop_page):
    from pypdf import PdfReader

    page = desktop_page
    use_mode(page, live_site, True)  # elder mode must not change the printed layout
    page.goto(live_site + f"/speeches/{SPEECH_SLUG}/")
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=False)))
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4 in points
    text = "".join(p.extract_text() for p in pdf.pages)
    # Chromium maps some Noto CJK glyphs to their Kangxi-radical code points (工 -> ⼯); NFKC folds them back.
    compact = unicodedata.normalize("NFKC", "".join(text.split()))
    assert SPEECH_TITLE in compact
    assert "一、关于工会会员服务卡发送工作" in compact
    for chrome in ["跳到正文", "主导航", "长辈模式", "朗读全文", "打印本文", "搜索讲话稿", "相关讲话", "订阅讲话稿"]:
        assert chrome not in compact, chrome
    assert "—1—" in compact  # page number in the GB/T 9704 style
    # print geometry: 16pt body, 22pt title, text block of 156 mm
    page.emulate_media(media="print")
    geometry = page.evaluate("""() => ({
        body: getComputedStyle(document.querySelector('.prose p')).fontSize,
        title: getComputedStyle(document.querySelector('h1')).fontSize,
        line: getComputedStyle(document.querySelector('.prose p')).lineHeight,
        font: getComputedStyle(document.querySelector('.prose p')).fontFamily,
        nav: getComputedStyle(document.querySelector('.site-nav')).display})""")
    assert geometry["body"] == "21.3333px" and geometry["title"] == "29.3333px"  # 16pt and 22pt
    assert abs(float(geometry["line"].rstrip("px")) - 38.6) < 0.2  # 225 mm / 22 lines
    assert "FangSong" in geometry["font"] and "Noto Serif CJK SC" in geometry["font"]
    assert geometry["nav"] == "none"
