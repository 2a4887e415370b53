"""The built public site in a real browser (Debian's chromium via Playwright)."""

import functools
import http.server
import threading
from urllib.parse import urlparse

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served_site(built_sample):
    _, public, _ = built_sample
    handler = functools.partial(QuietHandler, directory=str(public))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def test_home_search_box_finds_the_article_first(page, served_site):
    page.goto(served_site + "/")
    page.fill("form.kb-searchbox input[name=q]", "公文 发送 失败")
    page.press("form.kb-searchbox input[name=q]", "Enter")
    first = page.locator(".md-search-result__item").first
    first.wait_for()
    assert "/kb/KB-0001/" in first.locator("a").first.get_attribute("href")


@pytest.mark.parametrize("query, article_id", [
    ("公文发送失败", "KB-0001"),        # no spaces: Material segments it against the index
    ("数据库连接失败", "KB-0029"),
    ("ORA-12541", "KB-0029"),          # error code
    ("550 5.7.1", "KB-0008"),
])
def test_header_search(page, served_site, query, article_id):
    page.goto(served_site + "/kb/")
    page.fill("input.md-search__input", query)
    page.wait_for_function(
        "() => document.querySelector('.md-search-result__item a')", timeout=10000)
    first = page.locator(".md-search-result__item > a").first.get_attribute("href")
    assert f"/kb/{article_id}/" in first


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


def test_only_the_local_server_is_contacted(page, served_site):
    for path in ("/", "/kb/KB-0001/", "/training/admin/", "/commitments/"):
        page.goto(served_site + path)
        page.wait_for_load_state("networkidle")
    hosts = {urlparse(url).netloc for url in page.requests if urlparse(url).scheme in ("http", "https")}
    assert hosts == {urlparse(served_site).netloc}
