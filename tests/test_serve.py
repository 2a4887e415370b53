"""`kb serve` on a real waitress server over a built copy of the sample, and `kb report feedback`.

Clients come from different loopback addresses (127.0.0.N), as different callers would,
so that each test has its own POST rate-limit bucket."""

import gzip
import http.client
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from click.testing import CliRunner

from conftest import copy_sample
from kb.build import build_site
from kb.cli import cli
from kb.project import Project
from kb.reports.feedback import NEW_ARTICLE, OUT_OF_SCOPE, feedback_report
from kb.serve import Server
from kb.serve.app import BODY_LIMIT, POST_BURST
from kb.staging import swap_into_place

KB = str(Path(sys.executable).with_name("kb"))


def request(base: str, method: str, path: str, body=None, *, client: str = "127.0.0.1", headers=None):
    """One request on its own connection from `client`: (status, headers, body bytes)."""
    host, port = base.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(client, 0))
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def post(base, path, body, client):
    return request(base, "POST", path, body, client=client)


def rows(project: Project, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(project.events_path)) as db:
        return db.execute(sql).fetchall()


def wait_count(project: Project, sql: str, count: int) -> None:
    """Until the writer thread has stored what `sql` counts (it flushes every 0.2 s)."""
    deadline = time.monotonic() + 5
    while rows(project, sql)[0][0] < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows(project, sql)[0][0] == count


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Project:
    root = copy_sample(tmp_path_factory.mktemp("serve") / "sample")
    build_site(Project.load(root), "public")
    return Project.load(root)


@pytest.fixture(scope="module")
def served(built):
    server = Server(built, "public", "127.0.0.1", 0)
    thread = threading.Thread(target=server.run)
    thread.start()
    yield server.url.rstrip("/"), server
    server.stop()
    thread.join(15)
    assert not thread.is_alive()


def test_static_files(served, built):
    base, _ = served
    status, headers, body = request(base, "GET", "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert body == (built.site_dir() / "index.html").read_bytes()
    assert headers["cache-control"] == "no-cache" and headers["x-content-type-options"] == "nosniff"
    status, again, _ = request(base, "GET", "/", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and again["etag"] == headers["etag"]
    status, headers, body = request(base, "GET", "/kb/KB-0001/", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == (built.site_dir() / "kb" / "KB-0001" / "index.html").read_bytes()
    status, headers, _ = request(base, "GET", "/kb/KB-0001")
    assert status == 301 and headers["location"] == "/kb/KB-0001/"
    css = next((built.site_dir() / "assets" / "stylesheets").glob("main.*.min.css"))
    status, headers, _ = request(base, "GET", f"/assets/stylesheets/{css.name}")
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
    assert "immutable" in headers["cache-control"]  # named after its content
    status, headers, _ = request(base, "HEAD", "/kb/KB-0001/")
    assert status == 200 and int(headers["content-length"]) > 0
    status, headers, body = request(base, "GET", "/kb/KB-4040/")
    assert status == 404 and "页面不存在" in body.decode("utf-8") and headers["content-type"].startswith("text/html")
    assert request(base, "POST", "/", b"x", headers={"Content-Type": "text/plain"})[0] == 405


@pytest.mark.parametrize("path", ["/../mkdocs.yml", "/%2e%2e/mkdocs.yml", "/%2E%2E/%2E%2E/mkdocs.yml",
                                  "/kb/..%2f..%2fmkdocs.yml", "/assets/../../mkdocs.yml", "/.%2e/mkdocs.yml",
                                  "/..%5cmkdocs.yml", "//etc/passwd", "/%00/index.html", "/.hidden"])
def test_no_way_out_of_the_site(served, path):
    base, _ = served
    status, _, body = request(base, "GET", path)
    assert 400 <= status < 500
    assert b"site_name" not in body and b"root:" not in body


QUERIES = ["公文发不出去 提示500", "邮件 发送失败", "公问发送失败", "ORA-12541", "密码", "完全无关的火星天气"]


@pytest.mark.parametrize("query", QUERIES)
def test_search_is_kb_search_json(served, built, query):
    base, _ = served
    status, headers, body = request(base, "GET", f"/api/search?q={quote(query)}&limit=5")
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    cli_result = CliRunner().invoke(cli, ["search", *query.split(), "--project", str(built.root), "--json", "--limit", "5"])
    assert cli_result.exit_code == 0, cli_result.output
    assert json.loads(body) == json.loads(cli_result.stdout)
    assert len(headers["x-kb-search-id"]) == 32 and headers["x-kb-confident"] in ("0", "1")
    if query == "公问发送失败":  # read as 公文: said in a header, the body stays kb search's
        assert unquote(headers["x-kb-corrected"]) == "公文发送失败"
        assert "按“公文发送失败”查找" in cli_result.stderr


def test_search_bad_input(served):
    base, _ = served
    for path in ("/api/search", "/api/search?q=", "/api/search?q=a&limit=0", "/api/search?q=a&limit=x",
                 f"/api/search?q={quote('长' * 201)}", "/api/search?q=%ff"):
        status, _, body = request(base, "GET", path)
        assert status == 400 and json.loads(body)["error"], path
    assert request(base, "POST", "/api/search", {"q": "a"}, client="127.0.0.9")[0] == 405
    assert request(base, "GET", "/api/nothing")[0] == 404
    status, _, body = request(base, "GET", "/api/health")
    assert status == 200 and json.loads(body)["ok"] is True and json.loads(body)["audience"] == "public"


def test_feedback_good_and_bad_input(served, built):
    base, server = served
    client = "127.0.0.2"
    before = rows(built, "SELECT count(*) FROM votes")[0][0]
    assert post(base, "/api/feedback", {"article": "KB-0001", "helpful": True}, client)[0] == 202
    # An alias is the article it names: KB-9001 is KB-0023's old id.
    assert post(base, "/api/feedback", {"article": "KB-9001", "helpful": False, "comment": "还是登不上"}, client)[0] == 202
    bad = [
        (b"{not json", 400), (b"[1, 2]", 400), ("\u00ff".encode("latin-1"), 400),
        (json.dumps({"article": "KB-0001", "helpful": True, "comment": "x" * BODY_LIMIT}).encode(), 413),
        ({"article": "KB-9999", "helpful": True}, 400), ({"article": "../../etc/passwd", "helpful": True}, 400),
        ({"article": "KB-0001", "helpful": "yes"}, 400), ({"article": "KB-0001"}, 400), ({"helpful": True}, 400),
        ({"article": "KB-0001", "helpful": True, "comment": "长" * 501}, 400),
        ({"article": "KB-0001", "helpful": True, "comment": 5}, 400),
        ({"article": "KB-0001", "helpful": True, "search_id": "abc"}, 400),
        ({"article": "KB-0001", "helpful": True, "rating": 5}, 400),
    ]
    for body, expected in bad:
        status, _, answer = post(base, "/api/feedback", body, client)
        assert status == expected and json.loads(answer)["error"], body
    status, _, _ = request(base, "POST", "/api/feedback", b'{"article": "KB-0001", "helpful": true}',
                           client=client, headers={"Content-Type": "text/plain"})
    assert status == 415
    wait_count(built, "SELECT count(*) FROM votes", before + 2)
    time.sleep(0.3)  # a wrongly accepted event would have been written by now
    assert rows(built, "SELECT count(*) FROM votes")[0][0] == before + 2
    assert rows(built, "SELECT article, helpful, comment FROM votes ORDER BY id DESC LIMIT 2") == [
        ("KB-0023", 0, "还是登不上"), ("KB-0001", 1, "")]


def test_comments_are_plain_text_scrubbed_and_escaped(served, built):
    base, _ = served
    comment = '<script>alert("x")</script><b>没用</b> 请回电 13812345678'
    assert post(base, "/api/feedback", {"article": "KB-0005", "helpful": False, "comment": comment}, "127.0.0.3")[0] == 202
    wait_count(built, "SELECT count(*) FROM votes WHERE article = 'KB-0005'", 1)
    stored = rows(built, "SELECT comment FROM votes WHERE article = 'KB-0005'")[-1][0]
    assert stored == '<script>alert("x")</script><b>没用</b> 请回电 〔手机号〕'  # as typed, minus the phone
    page = feedback_report(built).markdown_page()
    assert "&lt;script&gt;" in page and "<script>" not in page and "<b>" not in page and "13812345678" not in page


def test_queries_are_scrubbed_before_storage(served, built):
    base, _ = served
    status, headers, _ = request(base, "GET", f"/api/search?q={quote('密码忘了 我的手机 13812345678 张工')}")
    assert status == 200
    wait_count(built, f"SELECT count(*) FROM searches WHERE id = '{headers['x-kb-search-id']}'", 1)
    (query,) = rows(built, f"SELECT query FROM searches WHERE id = '{headers['x-kb-search-id']}'")[0]
    assert "13812345678" not in query and "〔手机号〕" in query and "张工" not in query
    # Not read here: closing a file drops every POSIX lock this process holds on it, SQLite's too.
    raw = subprocess.run([sys.executable, "-c", "import glob, sys; sys.stdout.buffer.write(b''.join("
                          "open(p, 'rb').read() for p in glob.glob(sys.argv[1] + '*')))", str(built.events_path)],
                         capture_output=True, check=True).stdout
    assert b"SQLite format 3" in raw and "13812345678".encode() not in raw


def test_posts_are_rate_limited_per_client(served):
    base, _ = served
    statuses = [post(base, "/api/click", {"search_id": "0" * 32, "article": "KB-0001"}, "127.0.0.4")[0]
                for _ in range(POST_BURST + 5)]
    assert statuses[:POST_BURST] == [202] * POST_BURST and statuses[-1] == 429
    status, headers, _ = post(base, "/api/click", {"search_id": "0" * 32, "article": "KB-0001"}, "127.0.0.4")
    assert status == 429 and int(headers["retry-after"]) >= 1
    assert post(base, "/api/click", {"search_id": "0" * 32, "article": "KB-0001"}, "127.0.0.5")[0] == 202  # another caller


def test_swapped_site_is_served_without_a_failed_request(served, built):
    """`kb build` swaps the site folder in one rename: requests meanwhile all succeed,
    and the new site is served at once."""
    base, _ = served
    site = built.site_dir()
    staging = site.with_name(".site.building-test")
    shutil.copytree(site, staging)
    (staging / "index.html").write_text((site / "index.html").read_text(encoding="utf-8") + "<!-- rebuilt -->",
                                        encoding="utf-8")
    failures, stop = [], threading.Event()

    def hammer():
        while not stop.is_set():
            status = request(base, "GET", "/")[0]
            if status != 200:
                failures.append(status)
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    swap_into_place(staging, site)
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    shutil.rmtree(staging, ignore_errors=True)
    assert failures == []
    assert request(base, "GET", "/")[2].endswith(b"<!-- rebuilt -->")


def _site_paths(site: Path) -> list[str]:
    """Every page (by its folder URL) and file of a built site, as a browser asks for them."""
    paths = []
    for path in sorted(site.rglob("*")):
        if path.is_file() and not path.name.endswith((".gz", ".map", ".pdf")):
            rel = path.relative_to(site).as_posix()
            paths.append("/" + (rel[:-len("index.html")] if rel.endswith("index.html") else rel))
    return paths


def _hammer(base: str, paths: list[str], stop: threading.Event, n: int, outcome: dict, lock: threading.Lock) -> None:
    """One caller until `stop`: files, searches and votes, each from a fresh loopback address
    (127.0.<n+10>.x) so the POST limit never answers 429; any answer but the expected is a failure."""
    import random

    rnd = random.Random(n)
    while not stop.is_set():
        client = f"127.0.{10 + n}.{rnd.randint(1, 250)}"
        kind = rnd.choices(["static", "search", "vote"], [6, 2, 1])[0]
        if kind == "static":
            method, path, body, expected = "GET", rnd.choice(paths), None, 200
        elif kind == "search":
            method, path, body, expected = "GET", f"/api/search?q={quote(rnd.choice(QUERIES))}", None, 200
        else:
            method, path, body, expected = "POST", "/api/feedback", {"article": "KB-0023", "helpful": True}, 202
        try:
            status = request(base, method, path, body, client=client, headers={"Accept-Encoding": "gzip"})[0]
        except OSError as err:
            status = f"{type(err).__name__}: {err}"
        with lock:
            outcome[kind] += 1
            outcome["votes"] += kind == "vote" and status == 202
            if status != expected:
                outcome["failures"].append(f"{method} {path} → {status}")


def test_requests_while_kb_build_swaps_the_site_twice(built, tmp_path):
    """The real `kb build`, twice, and a full `kb index --rebuild` between them, while
    callers fetch files, search and vote: not one request fails, the rebuilt article and
    index are served at once, and every vote accepted is stored."""
    root = tmp_path / "swapped"
    shutil.copytree(built.root, root, ignore=shutil.ignore_patterns("events.sqlite*"))
    project = Project.load(root)
    article = next(project.root.glob("kb_articles/**/KB-0023-*.md"))
    paths = _site_paths(project.site_dir())
    server = Server(project, "public", "127.0.0.1", 0)
    thread = threading.Thread(target=server.run)
    thread.start()
    base = server.url.rstrip("/")
    outcome, lock, stop = {"static": 0, "search": 0, "vote": 0, "votes": 0, "failures": []}, threading.Lock(), threading.Event()
    callers = [threading.Thread(target=_hammer, args=(base, paths, stop, n, outcome, lock)) for n in range(6)]
    try:
        for t in callers:
            t.start()
        time.sleep(0.5)
        for step, command in enumerate(["build", "index", "build"]):
            if command == "build":
                article.write_text(article.read_text(encoding="utf-8") + f"\n\n换站标记 swapmark{step}\n", encoding="utf-8")
            args = [KB, command, "--project", str(root)] + (["--rebuild", "--quiet"] if command == "index" else [])
            result = subprocess.run(args, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
        time.sleep(0.5)
        # Rebuilt, not restarted: the same server sends the article's new text, and finds it.
        page = request(base, "GET", "/kb/KB-0023/")[2].decode("utf-8")
        found = json.loads(request(base, "GET", "/api/search?q=swapmark2")[2])
    finally:
        stop.set()
        for t in callers:
            t.join(60)
        server.stop()
        thread.join(30)
    assert outcome["failures"] == [], outcome["failures"][:10]
    assert outcome["static"] > 50 and outcome["search"] > 10 and outcome["vote"] > 5, outcome
    assert rows(project, "SELECT count(*) FROM votes")[0][0] == outcome["votes"]  # none lost
    assert "swapmark2" in page and [hit["id"] for hit in found][:1] == ["KB-0023"]


def test_a_swap_by_two_renames_fails_no_request(served, built, monkeypatch):
    """Where the system cannot exchange two folders in one rename, swap_into_place moves the
    old site (and index) aside, then the new one in: in between (widened here to 0.3 s)
    requests wait for the new folder instead of failing."""
    import kb.staging

    base, _ = served
    monkeypatch.setattr(kb.staging, "_exchange", lambda a, b: False)
    rename = Path.rename

    def slow_rename(self, target):
        moved = rename(self, target)
        if Path(target).name.startswith((".site.old-", ".public.old-")):
            time.sleep(0.3)  # the moment with no site (or no index) in place
        return moved
    monkeypatch.setattr(Path, "rename", slow_rename)
    site, index = built.site_dir(), built.search_index_dir / "public"
    paths = _site_paths(site)
    outcome, lock, stop = {"static": 0, "search": 0, "vote": 0, "votes": 0, "failures": []}, threading.Lock(), threading.Event()
    callers = [threading.Thread(target=_hammer, args=(base, paths, stop, n, outcome, lock)) for n in range(6)]
    for t in callers:
        t.start()
    try:
        time.sleep(0.2)
        for target in (site, index, site):
            staging = target.with_name(f".{target.name}.building-test")
            shutil.copytree(target, staging)
            swap_into_place(staging, target)
            assert not staging.exists() and target.is_dir()
            time.sleep(0.2)
    finally:
        stop.set()
        for t in callers:
            t.join(60)
    assert outcome["failures"] == [], outcome["failures"][:10]
    assert outcome["static"] > 20 and outcome["search"] and outcome["vote"], outcome


def test_kb_serve_command_counts_and_report(built, tmp_path):
    """The real `kb serve` process: a visit's events are all stored by the time it stops
    on SIGTERM, and `kb report feedback` counts them (library and CLI alike)."""
    root = tmp_path / "copy"
    shutil.copytree(built.root, root, ignore=shutil.ignore_patterns("events.sqlite*"))
    project = Project.load(root)
    process = subprocess.Popen([KB, "serve", "--project", str(root), "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "正在提供公开站点" in line, line + process.stderr.read()
        base = line.split("：", 1)[1].split("（")[0].rstrip("/")
        assert request(base, "GET", "/api/health")[0] == 200
        ids = {}
        for query in ("公文发不出去", "邮件发送失败", "打印机卡纸", "完全无关的火星天气"):
            status, headers, body = request(base, "GET", f"/api/search?q={quote(query)}")
            ids[query] = (headers["x-kb-search-id"], [h["id"] for h in json.loads(body)])
        first = ids["公文发不出去"]
        # Opened the first hit and it helped; opened a mail article, it did not; voted without a search.
        assert post(base, "/api/click", {"search_id": first[0], "article": first[1][0]}, "127.0.0.6")[0] == 202
        assert post(base, "/api/feedback", {"article": first[1][0], "helpful": True, "search_id": first[0]}, "127.0.0.6")[0] == 202
        mail = ids["邮件发送失败"]
        assert post(base, "/api/click", {"search_id": mail[0], "article": mail[1][0]}, "127.0.0.7")[0] == 202
        assert post(base, "/api/feedback", {"article": mail[1][0], "helpful": False, "search_id": mail[0]}, "127.0.0.7")[0] == 202
        assert post(base, "/api/feedback", {"article": "KB-0010", "helpful": True}, "127.0.0.8")[0] == 202
        process.send_signal(signal.SIGTERM)  # at once: the events are still queued
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "本次记录 9 条事件" in out
    assert rows(project, "SELECT count(*) FROM searches")[0][0] == 4
    assert rows(project, "SELECT count(*) FROM clicks")[0][0] == 2
    report = feedback_report(project)
    result = CliRunner().invoke(cli, ["report", "feedback", "--project", str(root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(report.to_dict()))
    assert data["votes"] == {"total": 3, "helpful": 2, "not_helpful": 1}
    searches = data["searches"]
    assert (searches["searches"], searches["clicked"], searches["successful"]) == (4, 2, 1)
    assert searches["success_rate"] == 0.25 and searches["click_rate"] == 0.5
    by_id = {a["id"]: a for a in data["articles"]}
    assert by_id[mail[1][0]]["not_helpful"] == 1 and data["articles"][0]["id"] == mail[1][0]  # worst first
    assert by_id["KB-0010"] == {**by_id["KB-0010"], "helpful": 1, "not_helpful": 0, "helpful_rate": 1.0}
    no_click = {g["query"] for g in data["no_click"]}
    assert {"打印机卡纸"} <= no_click and "公文发不出去" not in no_click
    for group in data["no_click"] + data["zero_results"]:
        assert group["suggestion"] or group["advice"] in (NEW_ARTICLE, OUT_OF_SCOPE.format(question="打印机卡纸了，纸拽不出来"))
    # A question the sample lists as out of scope (docs/_data/out_of_scope.yml) asks for no article.
    printer = next(g for g in data["no_click"] if g["query"] == "打印机卡纸")
    assert printer["advice"] == OUT_OF_SCOPE.format(question="打印机卡纸了，纸拽不出来")
    since = CliRunner().invoke(cli, ["report", "feedback", "--project", str(root), "--json", "--since", "2999-01-01"])
    assert json.loads(since.stdout)["votes"]["total"] == 0
    text = CliRunner().invoke(cli, ["report", "feedback", "--project", str(root), "--page"])
    assert text.exit_code == 0 and "自助成功率 25.0%" in text.stdout
    assert (root / "docs" / "reports" / "feedback.md").read_text(encoding="utf-8").startswith("---\ntitle: 自助成效\naudience: internal")


def test_kb_serve_refuses_an_unbuilt_site_and_a_taken_port(served, built, tmp_path):
    root = copy_sample(tmp_path / "unbuilt")
    result = subprocess.run([KB, "serve", "--project", str(root)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "站点尚未构建" in result.stderr and "kb build" in result.stderr
    base, _ = served
    port = base.rsplit(":", 1)[1]
    other = tmp_path / "built"
    shutil.copytree(built.root, other, ignore=shutil.ignore_patterns("events.sqlite*"))
    result = subprocess.run([KB, "serve", "--project", str(other), "--port", port], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "无法在 127.0.0.1:" in result.stderr and "--port" in result.stderr


def test_report_without_events(sample_copy):
    result = CliRunner().invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["votes"]["total"] == 0 and data["searches"]["success_rate"] is None and data["notes"]
    bad = CliRunner().invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--since", "1 月 1 日"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_only_kb_serve_switches_the_page_script_on(served, built):
    base, _ = served
    on_disk = (built.site_dir() / "assets" / "kb" / "kb-serve.js").read_bytes()
    assert not on_disk.startswith(b"window.kbServe") and b"if (!window.kbServe) return;" in on_disk
    status, headers, body = request(base, "GET", "/assets/kb/kb-serve.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and body == b"window.kbServe = true;\n" + on_disk
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert request(base, "GET", "/assets/kb/kb-serve.js", headers={"If-None-Match": headers["etag"]})[0] == 304
    page = (built.site_dir() / "kb" / "KB-0001" / "index.html").read_text(encoding="utf-8")
    assert '<script src="../../assets/kb/kb-serve.js" defer></script>' in page


def test_the_page_asks_and_logs_under_kb_serve_only(served, built, new_page):
    """In the browser: under kb serve, a search's opened result and the vote on it are
    logged with the search's id; on a plain web server the pages ask nothing."""
    from conftest import serve as plain_serve

    base, _ = served
    page = new_page()
    with page.expect_response(lambda r: "/api/search?" in r.url):
        page.goto(f"{base}/search/?q={quote('公文发送失败')}")
    page.wait_for_selector("[data-kb-results][data-kb-state=done] a.kb-result__title")
    page.wait_for_timeout(100)  # the page reads the search id from the response
    first = page.locator("a.kb-result__title").first
    article = first.get_attribute("href").split("/kb/")[1].split("/")[0]
    first.click()
    page.wait_for_selector(".kb-feedback button[data-helpful=true]")
    page.click(".kb-feedback button[data-helpful=true]")
    page.wait_for_selector(".kb-feedback__status:has-text('谢谢')")
    wait_count(built, f"SELECT count(*) FROM votes WHERE article = '{article}' AND search_id IS NOT NULL", 1)
    (search_id,) = rows(built, f"SELECT search_id FROM votes WHERE article = '{article}' AND search_id IS NOT NULL")[-1]
    assert rows(built, f"SELECT query FROM searches WHERE id = '{search_id}'") == [("公文发送失败",)]
    assert rows(built, f"SELECT article FROM clicks WHERE search_id = '{search_id}'") == [(article,)]

    page.goto(f"{base}/kb/KB-0003/")
    page.click(".kb-feedback button[data-helpful=false]")
    page.fill("#kb-feedback-comment", "第二步的菜单找不到")
    page.click(".kb-feedback form button[type=submit]")
    page.wait_for_selector(".kb-feedback__status:has-text('谢谢')")
    wait_count(built, "SELECT count(*) FROM votes WHERE article = 'KB-0003' AND comment = '第二步的菜单找不到'", 1)

    url, server = plain_serve(built.site_dir())
    try:
        page = new_page()
        for path in ("/kb/KB-0003/", f"/search/?q={quote('公文发送失败')}"):
            page.goto(url + path)
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)
            assert page.locator(".kb-feedback").count() == 0
        assert not [r for r in page.requests if "/api/" in r]
    finally:
        server.shutdown()


def test_backup_while_events_are_written_and_restore(sample_copy, tmp_path):
    """`kb report feedback --backup` while the writer thread stores events: the copy opens
    with sqlite3 on its own (no -wal beside it), holds every event committed before it
    began, and restored over the store is read as the original (`--json` counting every
    vote, per article too)."""
    import random
    import zoneinfo

    from kb.serve.events import EventStore, EventWriter, Stamp, VoteEvent

    project = Project.load(sample_copy)
    writer = EventWriter(project.events_path, lambda text: text, flush_seconds=0.005, batch_events=20)
    zone, stop = zoneinfo.ZoneInfo(project.timezone), threading.Event()

    def vote():
        rnd = random.Random(1)
        while not stop.is_set():
            writer.put(VoteEvent(rnd.choice(["KB-0001", "KB-0003", "KB-0023"]), rnd.random() < 0.6, "",
                                 None, Stamp.now(zone), "public"))
            time.sleep(0.0005)
    thread = threading.Thread(target=vote)
    thread.start()
    out = tmp_path / "backups" / "events-backup.sqlite"
    out.parent.mkdir()
    out.write_bytes(b"an older backup")  # replaced whole
    try:
        time.sleep(0.3)
        committed = writer.written
        result = CliRunner().invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--backup", str(out)])
        after = writer.written
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"已备份反馈数据到 {out}：共 ") and "条事件" in result.stdout
    assert len(result.stdout.splitlines()) == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ["events-backup.sqlite"]  # no temporary file left
    with closing(sqlite3.connect(out)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        (saved,) = db.execute("SELECT count(*) FROM votes").fetchone()
    assert 0 < committed <= saved <= after, (committed, saved, after)
    assert f"反馈 {saved}）" in result.stdout

    # Restored as the README says (kb serve stopped): the store is the backup's moment.
    assert rows(project, "SELECT count(*) FROM votes")[0][0] == writer.written >= saved
    for leftover in ("-wal", "-shm"):
        Path(f"{project.events_path}{leftover}").unlink(missing_ok=True)
    shutil.copyfile(out, project.events_path)
    EventStore(project.events_path).close()  # what kb serve opens it with
    raw = {a: (h, n) for a, h, n in rows(project, "SELECT article, sum(helpful), sum(1 - helpful) FROM votes GROUP BY article")}
    data = json.loads(CliRunner().invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--json"]).stdout)
    assert data["votes"]["total"] == saved == sum(h + n for h, n in raw.values())
    assert data["votes"]["helpful"] == sum(h for h, _ in raw.values())
    assert data["votes"]["not_helpful"] == sum(n for _, n in raw.values())
    assert {a["id"]: (a["helpful"], a["not_helpful"]) for a in data["articles"]} == raw


def test_backup_errors_name_the_path(sample_copy, tmp_path):
    runner = CliRunner()
    project = Project.load(sample_copy)
    result = runner.invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--backup", str(tmp_path / "b.sqlite")])
    assert result.exit_code == 1 and "还没有反馈数据" in result.output
    from kb.serve.events import EventStore
    EventStore(project.events_path).close()
    missing = tmp_path / "no-such-folder" / "b.sqlite"
    result = runner.invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--backup", str(missing)])
    assert result.exit_code == 1 and f"{missing}: 备份所在的文件夹 {missing.parent} 不存在" in result.output
    assert not missing.parent.exists()
    result = runner.invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--backup", str(tmp_path)])
    assert result.exit_code == 1 and "是一个文件夹" in result.output
    result = runner.invoke(cli, ["report", "feedback", "--project", str(sample_copy), "--backup",
                                 str(tmp_path / "b.sqlite"), "--json"])
    assert result.exit_code != 0 and "--backup 只做备份" in result.output
    kb = subprocess.run([KB, "report", "feedback", "--project", str(sample_copy), "--backup", str(missing)],
                        capture_output=True, text=True, timeout=60)
    assert kb.returncode == 1 and kb.stderr.startswith(f"错误：{missing}: 备份所在的文件夹") and kb.stdout == ""


def test_index_and_model_are_loaded_before_the_first_search(built):
    """The first caller does not pay for opening the index and loading the model."""
    from kb.search import query
    from kb.search.index import index_dir

    key = str(index_dir(built, "public"))
    query._opened.pop(key, None)
    server = Server(built, "public", "127.0.0.1", 0)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        def model_ready() -> bool:  # the index opened and its dense retriever (a cached_property) made
            opened = query._opened.get(key)
            return opened is not None and opened.__dict__.get("dense") is not None

        deadline = time.monotonic() + 30
        while not model_ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert model_ready()
    finally:
        server.stop()
        thread.join(15)
