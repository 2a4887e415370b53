"""Hostile text: HTML and script in every front matter field and in ticket text comes out
escaped on every built page; ids and aliases that are paths are rejected and never write
outside the site folder."""

import json
import re
import subprocess
import sqlite3
import sys
from pathlib import Path

import pytest

from conftest import read_search_data, vendor_project

from generated import KB
from test_checks import article

# One payload per field, each with its own marker so a leak names the field.
PAYLOADS = {
    "title": '标题<script>alert("title")</script>',
    "symptom": "现象<img src=x onerror=alert('symptom')>",
    "symptom2": '报错 ORA-12541 <a href="javascript:alert(2)">点此</a>',
    "applies_to": "V8<iframe src=javascript:alert('applies')>",
    "owner": "<svg onload=alert('owner')>",
    "module": "模块<script>alert('module')</script>",
    "ticket": "公文发送失败<script>alert('ticket')</script>",
    "ticket2": "公文打不开<img src=x onerror=alert('ticket2')>",
    "gap": "审批失败<b onmouseover=alert('gap')>x</b>",
}
# What the payloads would create if they were not escaped: a script element running
# alert, or any tag with an on...= handler or a javascript: URL calling it.
LIVE_TAG = re.compile(r"<script>\s*alert|<[a-z][a-z0-9]*\s[^<>]*(?:\bon[a-z]+=[^<>]*alert|javascript:alert)", re.I)


def q(value: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + value.replace("'", "''") + "'"


def hostile_project(root: Path) -> Path:
    vendor_project(root)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "- {name: 常见问题, slug: general}",
        f"- {{name: 常见问题, slug: general}}\n        - {{name: {q(PAYLOADS['module'])}, slug: evil}}"), encoding="utf-8")
    text = (article("KB-0001")
            .replace("title: 测试文章 KB-0001", f"title: {q(PAYLOADS['title'])}")
            .replace("module: 常见问题", f"module: {q(PAYLOADS['module'])}")
            .replace("symptoms: [页面打不开]", f"symptoms: [{q(PAYLOADS['symptom'])}, {q(PAYLOADS['symptom2'])}]")
            .replace("applies_to: [V8.0]", f"applies_to: [{q(PAYLOADS['applies_to'])}]")
            .replace("owner: 测试组", f"owner: {q(PAYLOADS['owner'])}"))
    (root / "kb_articles" / "hostile.md").write_text(text, encoding="utf-8")
    export = root.parent / "export.csv"
    # Three tickets each: a phrase reaches the public site once three tickets reported it.
    rows = [*[(f"GD1-{i}", "2026-03-05 14:20", PAYLOADS["ticket"], "按 KB-0001 处理") for i in range(3)],
            *[(f"GD2-{i}", "2026-03-06 09:00", PAYLOADS["ticket2"], "按 KB-0001 处理") for i in range(3)],
            ("GD3", "2026-03-07 10:00", PAYLOADS["gap"], "已远程处理")]
    export.write_text("工单号,创建时间,问题描述,处理结果\n" + "".join(
        ",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n" for row in rows), encoding="utf-8")
    linked = subprocess.run([*KB, "link", str(export), "--project", str(root), "--quiet"], capture_output=True, text=True)
    assert linked.returncode == 0, linked.stderr
    db = sqlite3.connect(root / "docs" / "_data" / "tickets.sqlite")
    data = [phrase for (phrase,) in db.execute("SELECT phrase FROM ticket_symptoms")]
    db.close()
    # The ticket text reaches the site unchanged: the test is not vacuous.
    assert all(PAYLOADS[k] in data for k in ("ticket", "ticket2", "gap"))
    return root


@pytest.fixture(scope="module")
def hostile_sites(tmp_path_factory):
    root = hostile_project(tmp_path_factory.mktemp("hostile") / "p")
    for audience in ("public", "internal"):
        result = subprocess.run([*KB, "build", "--project", str(root), "--audience", audience],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    return root / "site", root / "site-internal"


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def raw(key: str) -> str:
    """The markup part of a payload, as it would appear if it were not escaped."""
    return PAYLOADS[key][PAYLOADS[key].index("<"):]


def leaks(sites, keys) -> list:
    found = []
    for site in sites:
        for path in site.rglob("*"):
            if path.suffix in (".html", ".json", ".xml", ".js"):
                text = path.read_text(encoding="utf-8")
                found += [(path.relative_to(site.parent), k) for k in keys if raw(k) in text]
                if "module" not in keys:  # reported by its own test below
                    text = text.replace(raw("module"), "")
                found += [(path.relative_to(site.parent), m.group()) for m in LIVE_TAG.finditer(text)]
    return found


def test_no_page_carries_a_live_tag_from_the_payloads(hostile_sites):
    assert leaks(hostile_sites, [k for k in PAYLOADS if k != "module"]) == []


def test_module_name_is_escaped_everywhere(hostile_sites):
    assert leaks(hostile_sites, ["module"]) == []


def test_payloads_are_shown_as_text(hostile_sites):
    public, internal = hostile_sites
    escaped = {k: v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for k, v in PAYLOADS.items()}
    art = page(public, "kb/KB-0001")
    assert '&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;' in art                 # <h1> and <title>
    for key in ("symptom", "applies_to", "ticket", "ticket2"):                          # symptom box, status line, 用户反馈的现象
        assert escaped[key].replace('"', "&quot;").replace("'", "&#x27;") in art or escaped[key] in art, key
    assert "&lt;script&gt;alert(&#x27;module&#x27;)&lt;/script&gt;" in art                # module tag link
    module_page = page(public, "kb/module/evil")
    assert "&lt;script&gt;alert(&#x27;module&#x27;)&lt;/script&gt;" in module_page
    assert "标题&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in module_page
    assert "现象&lt;img src=x onerror=alert(&#x27;symptom&#x27;)&gt;" in module_page
    symptoms = page(public, "kb/symptoms")
    assert "现象&lt;img src=x onerror=alert(&#x27;symptom&#x27;)&gt;" in symptoms
    assert "<code>ORA-12541</code>" in symptoms and "&lt;a href=&quot;javascript:alert(2)&quot;&gt;" in symptoms
    home = (public / "index.html").read_text(encoding="utf-8")
    assert '<div class="kb-top-symptoms">' in home
    assert "现象&lt;img src=x onerror=alert(&#x27;symptom&#x27;)&gt;" in home          # home top symptoms
    health = page(internal, "kb/health")                                                   # 知识缺口 from ticket text
    assert "审批失败&lt;b onmouseover=alert(&#x27;gap&#x27;)&gt;x&lt;/b&gt;" in health
    for site in hostile_sites:            # owner: only on the internal review list, and as text
        assert not any("<svg onload=alert('owner')>" in p.read_text(encoding="utf-8") for p in site.rglob("*.html"))


def test_search_data_holds_text_and_the_page_renders_it_as_text(hostile_sites):
    """The search data carry titles and bodies as plain strings (kb-search.js puts them
    into text nodes, never into innerHTML), so a payload shows as the text it is."""
    public, _ = hostile_sites
    docs = [doc for name, doc in read_search_data(public).items() if name.startswith("d/")]
    assert "KB-0001" in [doc[0] for doc in docs]
    assert sum("<script>" in doc[1] + doc[4] or "<img src=x" in doc[1] + doc[4] for doc in docs) >= 1
    script = (public / "assets" / "kb" / "kb-search.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def _markdown_injection_project(root: Path) -> Path:
    vendor_project(root)
    text = (article("KB-0001")
            .replace("title: 测试文章 KB-0001", "title: '标题 [点我](javascript:alert(1)) { onclick=alert(2) }'")
            .replace("symptoms: [页面打不开]", "symptoms: ['[链](javascript:alert(3)) {: onclick=alert(4) }']")
            .replace("applies_to: [V8.0]", "applies_to: ['[v](javascript:alert(5))']"))
    (root / "kb_articles" / "md.md").write_text(text, encoding="utf-8")
    return root


def test_markdown_syntax_in_front_matter_is_not_interpreted(tmp_path):
    root = _markdown_injection_project(tmp_path / "p")
    result = subprocess.run([*KB, "build", "--project", str(root)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    leaks = [(p.relative_to(root), m.group()) for p in (root / "site").rglob("*.html")
             for m in re.finditer(r'href="javascript:[^"]*"|<[a-z0-9]+ [^>]*\bonclick=', p.read_text(encoding="utf-8"))]
    assert leaks == []


TRAVERSALS = ["../../etc", "..", "/abs", "a/b"]


def traversal_project(root: Path) -> Path:
    vendor_project(root)
    for n, bad in enumerate(TRAVERSALS, 1):
        (root / "kb_articles" / f"id{n}.md").write_text(
            article(f"KB-000{n}").replace(f"id: KB-000{n}", f"id: {json.dumps(bad)}"), encoding="utf-8")
    aliases = ", ".join(json.dumps(a) for a in [*TRAVERSALS, "../../escaped-alias", "/tmp/escaped-abs"])
    (root / "kb_articles" / "aliases.md").write_text(
        article("KB-0009").replace("owner: 测试组", f"owner: 测试组\naliases: [{aliases}]"), encoding="utf-8")
    return root


def every_file(top: Path) -> set[Path]:
    return {p for p in top.rglob("*")}


def test_path_like_ids_and_aliases_are_rejected(tmp_path):
    root = traversal_project(tmp_path / "p")
    result = subprocess.run([*KB, "check", "--project", str(root), "--json"], capture_output=True, text=True)
    assert result.returncode == 1
    found = {(p["path"], p["line"], p["message"]) for p in json.loads(result.stdout)}
    for n, bad in enumerate(TRAVERSALS, 1):
        assert (f"kb_articles/id{n}.md", 2, f"编号 {bad!r} 格式不对") in found
        assert (f"kb_articles/aliases.md", 12, f"别名 {bad!r} 不能用作网址") in found
    refused = subprocess.run([*KB, "build", "--project", str(root)], capture_output=True, text=True)
    assert refused.returncode == 1 and not (root / "site").exists()
    # `kb list` never offers such an id as a page.
    listed = json.loads(subprocess.run([*KB, "list", "--project", str(root), "--json"], capture_output=True, text=True).stdout)
    assert [(a["id"], a["aliases"]) for a in listed] == [("KB-0009", [])]


def test_plain_mkdocs_build_writes_nothing_outside_the_site(tmp_path):
    """`mkdocs build` / `make serve` run the plugin without `kb check` first: the parser
    itself keeps path-like ids and aliases away from the page generator."""
    root = traversal_project(tmp_path / "deep" / "p")
    before = every_file(tmp_path)
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    site, index = (root / "site").resolve(), (root / "search_index").resolve()
    new = every_file(tmp_path) - before
    # The build also brings the project's search index up to date (its data feed the site search).
    outside = [p for p in new if not any(d == p.resolve() or d in p.resolve().parents for d in (site, index))]
    assert outside == []
    assert (site / "kb" / "KB-0009" / "index.html").is_file()
    assert not list(site.rglob("*escaped*")) and not Path("/tmp/escaped-abs").exists()
