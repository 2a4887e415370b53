"""The built sites in a real browser (Debian's chromium via Playwright): the public and the
internal site served over http, and the offline copy opened from file://.

Every page records the requests it makes; each test of a whole site checks that nothing
but the local server (or, offline, nothing but files) was contacted. Screenshots of the
home page, an article and a search result are saved to tests/artifacts/screenshots/
(printed at the end of the run) so a human can see what a caller sees."""

from urllib.parse import quote, unquote, urlparse

import pytest

from kb.project import read_mkdocs_yml
from kb.site.pages import page_url
from kb.site.printing import find_guides

playwright = pytest.importorskip("playwright.sync_api")

RESULT = "[data-kb-results] a.kb-result__title"
DONE = "[data-kb-results][data-kb-state=done]"


@pytest.fixture
def page(new_page, served_site):
    return new_page()


def search(page, query):
    """Type a query into the header box (on any page), land on the search page and return
    the result links, best first."""
    page.fill(".kb-header-search input[name=q]", query)
    page.press(".kb-header-search input[name=q]", "Enter")
    page.wait_for_selector(DONE, state="attached", timeout=15000)
    return [a.get_attribute("href") for a in page.locator(RESULT).all()]


def hosts_contacted(page):
    return {urlparse(url).netloc for url in page.requests if urlparse(url).scheme in ("http", "https")}


@pytest.fixture
def screenshot(screenshot_dir):
    """save(page, name): a PNG of the viewport in tests/artifacts/screenshots/ (conftest)."""
    def save(page, name):
        page.screenshot(path=str(screenshot_dir / f"{name}.png"))
    return save


# Public site ---------------------------------------------------------------------------

def test_home_search_box_finds_the_article_first(page, served_site, screenshot):
    page.goto(served_site + "/")
    screenshot(page, "home")
    page.fill("form.kb-searchbox input[name=q]", "公文 发送 失败")
    page.press("form.kb-searchbox input[name=q]", "Enter")
    page.wait_for_selector(DONE, state="attached")
    assert urlparse(page.url).path == "/search/"  # a page of results that can be shared
    assert "/kb/KB-0001/" in page.locator(RESULT).first.get_attribute("href")
    screenshot(page, "search-result")


@pytest.mark.parametrize("query, article_id", [
    ("公文发送失败", "KB-0001"),        # no spaces: segmented against the index's words
    ("数据库连接失败", "KB-0029"),
    ("ORA-12541", "KB-0029"),          # error codes, as callers read them out
    ("550 5.7.1", "KB-0008"),
    ("DOC-5001", "KB-0001"),
    ("0x80070005", "KB-0017"),
])
def test_header_search(page, served_site, query, article_id):
    page.goto(served_site + "/kb/")
    assert f"/kb/{article_id}/" in search(page, query)[0]


def test_search_result_opens_the_article(page, served_site, screenshot):
    page.goto(served_site + "/")
    search(page, "ORA-12541")
    page.locator(RESULT).first.click()
    page.wait_for_url("**/kb/KB-0029/**")
    assert "KB-0029" in page.locator(".kb-status").inner_text()
    assert page.locator("article mark.kb-highlight", has_text="ORA-12541").count() >= 1  # the whole code, marked
    screenshot(page, "article")


def test_search_page_keys_and_announced_count(page, served_site):
    """A shared link (search/?q=…) answers at once; the count is announced; ↓ goes from
    the box to the first result, ↓/↑ move, Esc goes back to the box; Enter opens."""
    page.goto(served_site + "/search/?q=" + quote("公文发送失败"))
    page.wait_for_selector(DONE, state="attached")
    status = page.locator("[data-kb-status]")
    assert status.get_attribute("aria-live") == "polite" and "找到" in status.inner_text()
    links = page.locator(RESULT)
    assert links.count() >= 2
    page.focus(".kb-search__form input[name=q]")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == links.nth(0).get_attribute("href")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == links.nth(1).get_attribute("href")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url("**/kb/KB-0001/**")


def test_nothing_found_offers_spelling_symptoms_and_hotline(page, served_site):
    page.goto(served_site + "/search/?q=ORA-12514")  # a digit swapped: ORA-12541 exists
    page.wait_for_selector(DONE, state="attached")
    assert page.locator(RESULT).count() == 0
    help_box = page.locator("[data-kb-noresult]")
    assert help_box.is_visible()
    assert "ora-12541" in page.locator("[data-kb-suggestions]").inner_text()
    assert "KB-0029" in page.locator("[data-kb-nearest]").inner_text()  # ORA-12541 is one of its symptoms
    assert "400-810-2468" in help_box.inner_text()  # the hotline, from commitments.yml


def test_short_query_is_cut_off_not_every_page(page, served_site):
    page.goto(served_site + "/search/?q=" + quote("打印"))
    page.wait_for_selector(DONE, state="attached")
    count = page.locator(RESULT).count()
    assert 1 <= count <= 10
    cards = page.locator("[data-kb-results] li.kb-result").all_inner_texts()
    assert not any("缺少" in c or "下次审核" in c for c in cards)


def test_copy_link_button(page, served_site):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served_site)
    page.goto(served_site + "/kb/KB-0008/")
    page.click(".kb-share__copy")
    page.locator(".kb-share__done").wait_for(state="visible")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "https://support.example.com/kb/KB-0008/"


def test_alias_lands_on_the_current_article(page, served_site):
    page.goto(served_site + "/kb/document-send-500/")
    page.wait_for_url("**/kb/KB-0001/")
    assert "HTTP 500" in page.locator("h1").inner_text()


@pytest.mark.parametrize("tab, path, heading", [
    ("自助排障", "/kb/", "自助排障"),
    ("培训", "/training/", "培训"),
    ("服务承诺", "/commitments/", "服务承诺"),
])
def test_navigation_tabs_lead_to_their_pages(page, served_site, tab, path, heading):
    page.goto(served_site + "/")
    page.locator(".md-tabs__link", has_text=tab).click()
    page.wait_for_url(served_site + path)
    assert heading in page.locator("article h1").inner_text()
    assert tab in page.locator(".md-tabs__item--active").inner_text()


def test_training_learning_path_follows_next_page(page, served_site, built_sample):
    """In each role's guide, 下一页 (navigation.footer) walks its lessons in nav order and
    stops at the last one: it never leads into another role's guide."""
    project, _, _ = built_sample
    guides = find_guides(read_mkdocs_yml(project.mkdocs_yml)["nav"])
    assert [g.title for g in guides] == ["系统管理员", "操作用户", "领导"]
    for guide in guides:
        page.goto(f"{served_site}/{page_url(guide.pages[0])}")
        assert page.locator("a.md-footer__link--prev").count() == 0
        visited = [urlparse(page.url).path]
        while page.locator("a.md-footer__link--next").count():
            next_link = page.locator("a.md-footer__link--next")
            assert "下一页" in next_link.inner_text()
            next_link.click()
            page.wait_for_load_state()
            visited.append(urlparse(page.url).path)
        assert visited == ["/" + page_url(lesson) for lesson in guide.pages]


def test_only_the_local_server_is_contacted(page, served_site):
    for path in ("/", "/kb/KB-0001/", "/training/admin/", "/commitments/", "/kb/symptoms/"):
        page.goto(served_site + path)
        page.wait_for_load_state("networkidle")
    search(page, "公文发送失败")
    assert hosts_contacted(page) == {urlparse(served_site).netloc}


# Internal site -------------------------------------------------------------------------

INTERNAL_TITLE = "应用服务器无响应时的现场排查手册"


def test_internal_article_only_in_the_internal_build(new_page, served_site, served_internal):
    internal, public = new_page(), new_page()
    internal.goto(served_internal + "/kb/")
    assert any("/kb/KB-0033/" in href for href in search(internal, "现场排查手册 jstack"))
    internal.goto(served_internal + "/kb/module/admin/")
    assert internal.locator("a", has_text=INTERNAL_TITLE).count() == 1
    internal.locator("a", has_text=INTERNAL_TITLE).click()
    internal.wait_for_url("**/kb/KB-0033/")
    assert "内部文章" in internal.locator(".kb-banner--internal").inner_text()

    public.goto(served_site + "/kb/")
    assert not any("KB-0033" in (href or "") for href in search(public, "现场排查手册 jstack"))
    public.goto(served_site + "/kb/module/admin/")
    assert "KB-0033" not in public.content() and INTERNAL_TITLE not in public.content()
    assert public.goto(served_site + "/kb/KB-0033/").status == 404
    for p, site in ((internal, served_internal), (public, served_site)):
        assert hosts_contacted(p) == {urlparse(site).netloc}


def test_internal_site_contacts_only_the_local_server(new_page, served_internal):
    page = new_page()
    for path in ("/", "/kb/KB-0033/", "/kb/health/", "/training/admin/"):
        page.goto(served_internal + path)
        page.wait_for_load_state("networkidle")
    assert hosts_contacted(page) == {urlparse(served_internal).netloc}


# Offline copy (file://) -----------------------------------------------------------------

def test_offline_copy_works_from_files(new_page, offline_sample, screenshot):
    """No web server: index.html opened from disk, search included (its data are scripts,
    which a file:// page may load), links between pages, and not a single request to any
    http(s) host. No --allow-file-access-from-files needed."""
    page = new_page()
    home = offline_sample.as_uri() + "/index.html"
    page.goto(home)
    hrefs = search(page, "公文发送失败")
    assert unquote(page.url).split("?")[0] == offline_sample.as_uri() + "/search.html"
    assert hrefs[0].split("?")[0] == "kb/KB-0001.html"
    screenshot(page, "offline-search-result")
    page.locator(RESULT).first.click()
    page.wait_for_url("**/kb/KB-0001.html**")
    assert "HTTP 500" in page.locator("article h1").inner_text()

    page.goto(home)  # the home page's top symptoms are raw HTML links written by the kb plugin
    page.locator(".kb-top-symptoms a", has_text="收文编号已存在").click()
    page.wait_for_url("**/kb/KB-0002.html")
    page.locator(".md-tabs__link", has_text="培训").click()
    page.wait_for_url("**/training/index.html")
    page.locator("article").get_by_role("link", name="系统管理员", exact=True).click()
    page.wait_for_url("**/training/admin/index.html")
    page.locator("a.md-footer__link--next").click()
    page.wait_for_url("**/training/admin/01-system-init-org.html")
    assert page.locator("article h1").count() == 1

    page.goto(offline_sample.as_uri() + "/kb/document-send-500.html")  # an alias
    page.wait_for_url("**/kb/KB-0001.html")
    assert hosts_contacted(page) == set()
    assert all(url.startswith(("file:", "data:", "about:", "blob:")) for url in page.requests), page.requests


# Phones ---------------------------------------------------------------------------------

PHONE_PAGES = ["", "kb/KB-0001/", "kb/", "kb/module/document/", "kb/symptoms/", "commitments/",
               "training/admin/", "training/admin/print/", "search/?q=公文发送失败", "404.html"]


@pytest.mark.parametrize("width", [320, 375, 414])
def test_phones_never_scroll_sideways_and_can_call_from_the_first_screen(new_page, served_site, screenshot, width):
    page = new_page({"width": width, "height": 700})
    for path in PHONE_PAGES:
        page.goto(f"{served_site}/{path}")
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        if path in ("", "kb/KB-0001/"):
            # A tap-to-call link visible without scrolling, on the home page and on articles.
            calls = page.locator('a[href^="tel:"]').evaluate_all(
                "links => links.filter(a => { const r = a.getBoundingClientRect();"
                " return r.width > 0 && r.bottom <= innerHeight && r.top >= 0; }).length")
            assert calls >= 1, path
    page.goto(f"{served_site}/")
    button = page.locator(".kb-searchbox button").bounding_box()
    assert button["height"] < 50  # 搜索 on one line
    screenshot(page, f"phone-home-{width}")
