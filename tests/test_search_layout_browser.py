"""The search page on a phone and on a wide screen (Debian's Chromium): results first, facets folded into 筛选 on
a narrow screen, beside the results on a wide one, open there without JavaScript too."""

import pytest

from tests.test_accessibility_browser import live_site  # noqa: F401 - the same public site as the axe checks

pytestmark = pytest.mark.browser

SEARCH = "/search/?q=工会"


def boxes(page):
    return page.evaluate("""() => {
        const box = (selector) => { const r = document.querySelector(selector).getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height}; };
        return {result: box('.search-result'), facets: box('.search-facets'),
                open: document.querySelector('.search-facets details').open,
                links: [...document.querySelectorAll('.search-facets a')].filter(a => a.checkVisibility()).length};
    }""")


def test_phone_shows_results_first_and_folds_the_facets(live_site, phone_page):  # noqa: F811
    page = phone_page
    page.goto(live_site + SEARCH)
    found = boxes(page)
    assert found["result"]["top"] < found["facets"]["top"]
    assert 0 < found["result"]["top"] < 844 and found["result"]["bottom"] <= 844  # within the first screen
    assert not found["open"] and found["links"] == 0
    summary = page.locator(".search-facets summary")
    assert summary.inner_text().startswith("筛选")
    summary.click()
    assert boxes(page)["links"] > 0


def test_wide_screen_shows_the_facets_beside_the_results(live_site, desktop_page):  # noqa: F811
    page = desktop_page
    page.goto(live_site + SEARCH)
    found = boxes(page)
    assert found["open"] and found["links"] > 0
    assert found["facets"]["right"] <= found["result"]["left"]  # a sidebar on the left
    assert found["facets"]["top"] < 800 and abs(found["facets"]["top"] - found["result"]["top"]) < 50


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 800)])
def test_without_javascript_the_facets_are_open(live_site, browser, width, height):  # noqa: F811
    context = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(live_site + SEARCH)
    found = boxes(page)
    assert found["open"] and found["links"] > 0
    assert found["result"]["top"] < 844 and (found["result"]["top"] < found["facets"]["top"] or width > 800)
    context.close()
