import pytest

pytestmark = pytest.mark.browser


def test_speech_page_on_phone_has_no_horizontal_scroll(site_on_live_server, imported_corpus, phone_page):
    phone_page.goto(site_on_live_server.url + "/speeches/speech-10/")
    assert phone_page.locator("h1").inner_text() == "在全省工会为职工办实事工作座谈会上的讲话"
    scroll_width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
    assert phone_page.evaluate("document.documentElement.lang") == "zh-hans"
