import csv
import json
import functools
import http.server
import io
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from kb.build import build_site
from kb.project import Project

ROOT = Path(__file__).resolve().parents[1]
# A vendor's details for `kb init`, and the promised hours it fills in afterwards.
HOTLINE = "服务热线=400-123-4567=工作日 9:00–17:00"
HOURS = {"故障响应承诺小时数": "1", "故障排除承诺小时数": "4", "现场到场承诺小时数": "2"}
INIT_OPTIONS = ["--name", "某某科技", "--hotline", HOTLINE, "--site-url", "https://kb.acme.test"]
# Browser tests save screenshots here (git-ignored); the folder is printed after the run.
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
_STARTED = pytest.StashKey[float]()


def write_csv_export(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    """A helpdesk export as such tools write it: CSV with CRLF line ends, in `encoding`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def fill_in_promises(root):
    """What a vendor does after kb init: put its own hours and services in commitments.yml."""
    path = root / "docs" / "_data" / "commitments.yml"
    path.write_text(re.sub(r"〔待填写：([^〕]+)〕", lambda m: HOURS.get(m.group(1), f"本单位{m.group(1)}"),
                               path.read_text(encoding="utf-8")), encoding="utf-8")


def vendor_project(root):
    """A project as a vendor has it after kb init with its details and filling in its
    promises: clean and buildable, where tests of everything but kb init start."""
    from kb.scaffold import Vendor, init_project, parse_hotline

    init_project(root, Vendor("某某科技", (parse_hotline(HOTLINE),), "https://kb.acme.test/"))
    fill_in_promises(root)
    return root


def words_only(root: Path) -> Path:
    """Turn the project's language model off (`semantic_search: false`): for the tests on
    the 3,000-article corpus, which check the lexical engine and would spend minutes
    embedding (the hybrid search is tested on the sample and measured by the benchmark)."""
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "      articles_dir: kb_articles\n" in text
    config.write_text(text.replace("      articles_dir: kb_articles\n", "      articles_dir: kb_articles\n      semantic_search: false\n", 1),
                      encoding="utf-8")
    return root


def copy_sample(dest: Path) -> Path:
    """A private copy of the shipped sample project, safe to modify and build."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for folder in ("docs", "kb_articles"):
        # The ticket store is written by `make site` (kb link on the sample export).
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("ticket_links.json", "tickets.sqlite*"))
    (dest / "search_index").mkdir()
    return dest


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    return copy_sample(tmp_path / "sample")


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory):
    """The sample built once per test run, both audiences: (project, public site, internal site)."""
    root = copy_sample(tmp_path_factory.mktemp("built") / "sample")
    project = Project.load(root)
    public = build_site(project, "public")
    internal = build_site(Project.load(root), "internal")
    return project, public, internal


@pytest.fixture(scope="session")
def offline_sample(built_sample):
    """The same sample built with `--offline` (public audience): the site-offline/ folder."""
    project, _, _ = built_sample
    return build_site(Project.load(project.root), "public", offline=True)


# The built sites in a real browser (tests/test_browser.py, tests/test_accessibility.py) ----

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """Serve `directory` on 127.0.0.1 (a free port); returns (base URL, server)."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture(scope="module")
def served_site(built_sample):
    _, public, _ = built_sample
    url, server = serve(public)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def served_internal(built_sample):
    _, _, internal = built_sample
    url, server = serve(internal)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (no browser download)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """A factory of fresh pages (own context, desktop viewport unless given) that record
    every request in page.requests."""
    contexts = []

    def make(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.requests = []
        page.on("request", lambda request: page.requests.append(request.url))
        return page
    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_sessionstart(session):
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter, config):
    started = config.stash.get(_STARTED, 0)
    shots = [p for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= started] if SCREENSHOTS.is_dir() else []
    if shots:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(shots)} screenshots in {SCREENSHOTS}")


def read_search_data(site: Path) -> dict:
    """The site's static search data: assets/kb/search/**.js, each pushing [name, value]
    onto window.kbSearchQueue."""
    data = {}
    prefix = "(window.kbSearchQueue=window.kbSearchQueue||[]).push("
    for path in (site / "assets" / "kb" / "search").rglob("*.js"):
        text = path.read_text(encoding="utf-8").strip()
        assert text.startswith(prefix) and text.endswith(");"), path
        name, value = json.loads(text[len(prefix):-2])
        data[name] = value
    return data
