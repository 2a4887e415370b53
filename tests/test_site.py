"""Real MkDocs builds of the sample: pages by id, audiences kept apart, redirects, no
external requests, Chinese search index, atomic builds."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.build import build_site
from kb.cli import cli
from kb.problems import ProblemsFound
from kb.project import Project
from conftest import read_search_data




def all_files(site: Path):
    return [p for p in site.rglob("*") if p.is_file()]


def test_every_article_has_a_page_by_id(built_sample):
    project, public, internal = built_sample
    for article in project.articles:
        page = public / "kb" / article.id / "index.html"
        assert page.is_file() == article.in_build("public"), article.id
        assert (internal / "kb" / article.id / "index.html").is_file()
    html = (public / "kb" / "KB-0001" / "index.html").read_text(encoding="utf-8")
    assert "https://support.example.com/kb/KB-0001/" in html          # copy-link field
    assert 'class="md-button kb-share__copy"' in html
    assert "点击“发送”后页面提示“HTTP 500 内部服务器错误”" in html     # symptom box
    assert "400-810-2468" in html                                      # escalation footer from commitments.yml


@pytest.mark.parametrize("article_id", ["KB-0033", "KB-0034", "KB-0035", "KB-0036"])
def test_internal_and_draft_articles_absent_from_every_public_file(built_sample, article_id):
    project, public, internal = built_sample
    article = project.resolve()[article_id]
    assert not article.is_public
    needles = [article_id, article.title, json.dumps(article.title)[1:-1]]  # search_index.json escapes CJK
    hits = [(p, n) for p in all_files(public) for n in needles if n in p.read_text(encoding="utf-8", errors="replace")]
    assert hits == []
    assert any(article_id in p.read_text(encoding="utf-8", errors="replace") for p in all_files(internal))


def test_internal_build_marks_internal_content(built_sample):
    _, _, internal = built_sample
    html = (internal / "kb" / "KB-0033" / "index.html").read_text(encoding="utf-8")
    assert "内部文章" in html and "（内部）" in html
    draft = (internal / "kb" / "KB-0036" / "index.html").read_text(encoding="utf-8")
    assert "草稿" in draft


def test_aliases_redirect_to_the_current_page(built_sample):
    project, public, _ = built_sample
    aliases = [(alias, a.id) for a in project.articles_for("public") for alias in a.aliases]
    assert len(aliases) >= 5
    for alias, article_id in aliases:
        html = (public / "kb" / alias / "index.html").read_text(encoding="utf-8")
        assert f'url=../{article_id}/"' in html
    internal_aliases = [alias for a in project.articles if not a.is_public for alias in a.aliases]
    assert all(not (public / "kb" / alias).exists() for alias in internal_aliases)


def test_archived_article_kept_but_not_searchable_or_listed(built_sample):
    _, public, _ = built_sample
    assert "已归档" in (public / "kb" / "KB-0037" / "index.html").read_text(encoding="utf-8")
    ids = [doc[0] for name, doc in read_search_data(public).items() if name.startswith("d/")]
    assert "KB-0001" in ids and "KB-0037" not in ids
    assert "KB-0037" not in (public / "kb" / "module" / "account" / "index.html").read_text(encoding="utf-8")


EXTERNAL_RESOURCE = re.compile(r'<(?:link|script|img|iframe|source)\b[^>]*\b(?:href|src)="(?:https?:)?//(?!support\.example\.com)', re.I)


def test_no_built_page_requests_an_external_host(built_sample):
    _, public, internal = built_sample
    for site in (public, internal):
        for page in site.rglob("*.html"):
            html = page.read_text(encoding="utf-8")
            assert not EXTERNAL_RESOURCE.search(html), page
            assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
        for css in site.rglob("*.css"):
            assert not re.search(r"url\((['\"]?)(https?:)?//", css.read_text(encoding="utf-8")), css


def test_generated_index_pages(built_sample):
    project, public, _ = built_sample
    symptoms = (public / "kb" / "symptoms" / "index.html").read_text(encoding="utf-8")
    for code in ("ORA-12541", "0x80070005", "550 5.7.1", "HTTP 500", "502", "DOC-5001"):
        assert code in symptoms, code
    for article in project.articles_for("public"):
        if article.status != "archived":
            assert article.symptoms[0].replace("“", "").split("”")[0][:6] in symptoms.replace("“", "")
    for module in project.modules:
        assert (public / "kb" / "module" / module.slug / "index.html").is_file()
    nav_html = (public / "kb" / "index.html").read_text(encoding="utf-8")
    assert "现象与错误代码索引" in nav_html and "公文流转" in nav_html


def test_markers_rendered_from_commitments(built_sample):
    _, public, _ = built_sample
    home = (public / "index.html").read_text(encoding="utf-8")
    commitments = (public / "commitments" / "index.html").read_text(encoding="utf-8")
    assert "kb:" not in home and 'class="kb-searchbox"' in home and "400-810-2468" in home
    assert "&lt; 1 小时" in commitments and "≤ 4 小时" in commitments and "≤ 2 小时" in commitments


def test_the_404_page_is_chinese_with_search_and_hotline(built_sample):
    """Served at any missing address: its links start from the site's root path."""
    _, public, _ = built_sample
    page = (public / "404.html").read_text(encoding="utf-8")
    assert "Not found" not in page and "<title>页面不存在 - " in page and "<h1>页面不存在</h1>" in page
    assert 'role="search"' in page and 'action="/search/"' in page and 'name="q"' in page
    assert 'href="tel:4008102468"' in page and '<a href="/">返回首页</a>' in page


def test_article_pages_have_breadcrumbs_and_related_articles(built_sample):
    _, public, _ = built_sample
    page = (public / "kb" / "KB-0023" / "index.html").read_text(encoding="utf-8")
    crumbs = re.search(r'<nav aria-label="当前位置" class="kb-breadcrumbs">(.*?)</nav>', page).group(1)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumbs) == [
        ("../../", "首页"), ("../", "自助排障"), ("../module/account/", "登录与账号")]
    related = re.search(r'<h2 id="[^"]*">相关文章.*?<ul>(.*?)</ul>', page, re.S).group(1)
    ids = re.findall(r'<a href="\.\./(KB-\d+)/">', related)
    assert 1 <= len(ids) <= 3 and "KB-0023" not in ids and "KB-0025" in ids  # 登录 both
    suggested = {i for p in public.glob("kb/KB-*/index.html")
                 for block in re.findall(r'>相关文章<.*?</ul>', p.read_text(encoding="utf-8"), re.S)
                 for i in re.findall(r"(KB-\d+) ", block)}
    assert len(suggested) > 20 and "KB-0037" not in suggested  # archived: never suggested


def test_changing_a_commitment_changes_every_page(sample_copy):
    data = sample_copy / "docs" / "_data" / "commitments.yml"
    data.write_text(data.read_text(encoding="utf-8").replace("limit_hours: 4", "limit_hours: 3"), encoding="utf-8")
    site = build_site(Project.load(sample_copy))
    assert "≤ 3 小时" in (site / "commitments" / "index.html").read_text(encoding="utf-8")
    assert "≤ 3 小时" in (site / "kb" / "KB-0008" / "index.html").read_text(encoding="utf-8")
    assert "≤ 4 小时" not in (site / "kb" / "KB-0008" / "index.html").read_text(encoding="utf-8")


def test_hostile_front_matter_is_escaped(sample_copy):
    path = next((sample_copy / "kb_articles" / "document").glob("KB-0001-*.md"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: ", "title: <script>alert(1)</script>", 1).replace("symptoms:\n", "symptoms:\n  - \"<img src=x onerror=alert(2)>\"\n", 1), encoding="utf-8")
    site = build_site(Project.load(sample_copy))
    html = (site / "kb" / "KB-0001" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html


def test_failed_build_leaves_previous_site_untouched(sample_copy):
    project = Project.load(sample_copy)
    site = build_site(project)
    before = {p: p.read_bytes() for p in all_files(site)}
    broken = sample_copy / "kb_articles" / "broken.md"
    broken.write_text("---\nid: KB-0001\ntitle: [未闭合\n---\n", encoding="utf-8")
    with pytest.raises(ProblemsFound):
        build_site(Project.load(sample_copy))
    result = CliRunner().invoke(cli, ["build", "--project", str(sample_copy)])
    assert result.exit_code == 1 and "kb_articles/broken.md:3" in result.output and "原有站点保持不变" in result.output
    assert {p: p.read_bytes() for p in all_files(site)} == before
    assert not list(sample_copy.glob(".site*"))  # no staging folder left behind


def test_mkdocs_failure_leaves_previous_site_untouched(sample_copy):
    site = build_site(Project.load(sample_copy))
    before = sorted(all_files(site))
    page = sample_copy / "docs" / "commitments.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[坏链接](nowhere.md)\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--project", str(sample_copy)])
    assert result.exit_code == 1 and "原有站点保持不变" in result.output
    assert sorted(all_files(site)) == before
    assert not list(sample_copy.glob(".site*"))


def test_pages_link_to_articles_by_id(built_sample):
    _, public, _ = built_sample
    html = (public / "training" / "user" / "01-login-settings" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../../kb/KB-0023/"' in html


# Offline copy (kb build --offline) ------------------------------------------------------

LOCAL_LINK = re.compile(r'\b(?:href|src)="(?!https?:|//|#|tel:|mailto:|data:|javascript:)([^"]+)"')


def test_offline_copy_links_every_page_by_file(offline_sample):
    """From file:// there is no web server to turn kb/KB-0001/ into kb/KB-0001/index.html:
    every local link in the offline copy, Material's and ours, names an existing file."""
    site = offline_sample
    assert site.name == "site-offline"
    assert (site / "kb" / "KB-0001.html").is_file() and not (site / "kb" / "KB-0001").exists()
    broken = []
    for page in site.rglob("*.html"):
        if page.name == "404.html":  # served by a web server only; its links are site-absolute
            continue
        for target in LOCAL_LINK.findall(page.read_text(encoding="utf-8")):
            path = target.split("#")[0].split("?")[0]
            if path and not (page.parent / path).is_file():
                broken.append((page.relative_to(site), target))
    assert broken == []
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="kb/KB-0001.html"' in home and 'href="kb/module/document.html"' in home  # top symptoms


def test_offline_copy_needs_no_internet(offline_sample):
    site = offline_sample
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not EXTERNAL_RESOURCE.search(html), page
        assert "unpkg.com" not in html, page
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "iframe-worker" not in home  # Material's search worker shim: our search has no worker
    assert '<script src="assets/kb/kb-search.js" async></script>' in home
    data = read_search_data(site)  # scripts, not JSON: loadable from file://
    assert data["d/0"][0] == "KB-0001" and "公文" in data["d/0"][1]


def test_offline_copy_keeps_online_addresses_for_sharing(offline_sample):
    html = (offline_sample / "kb" / "KB-0008.html").read_text(encoding="utf-8")
    assert 'data-url="https://support.example.com/kb/KB-0008/"' in html  # the link engineers send
    assert '<link rel="canonical" href="https://support.example.com/kb/KB-0008/">' in html
    assert not (offline_sample / "sitemap.xml").exists()  # it would list page.html addresses


def test_offline_aliases_redirect_file_to_file(built_sample, offline_sample):
    project, _, _ = built_sample
    aliases = [(alias, a.id) for a in project.articles_for("public") for alias in a.aliases]
    for alias, article_id in aliases:
        html = (offline_sample / "kb" / f"{alias}.html").read_text(encoding="utf-8")
        assert f'url={article_id}.html"' in html and f"location.replace(&#x27;{article_id}.html&#x27;" in html


def test_offline_build_of_the_internal_site(sample_copy):
    result = CliRunner().invoke(cli, ["build", "--project", str(sample_copy), "--audience", "internal", "--offline"])
    assert result.exit_code == 0, result.output
    site = sample_copy / "site-internal-offline"
    assert str(site / "index.html") in result.output
    assert "内部文章" in (site / "kb" / "KB-0033.html").read_text(encoding="utf-8")
    assert "KB-0033" in [doc[0] for name, doc in read_search_data(site).items() if name.startswith("d/")]
    assert not (sample_copy / "site").exists()  # the online sites are other folders


def test_offline_build_needs_the_offline_plugin(sample_copy):
    config = sample_copy / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"  - offline:\n.*\n", "", text), encoding="utf-8")
    assert "- offline" not in config.read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--project", str(sample_copy), "--offline"])
    assert result.exit_code == 1 and "offline" in result.output and "KB_OFFLINE" in result.output
    build_site(Project.load(sample_copy))  # the ordinary build does not need it


def test_article_page_shows_last_review(built_sample):
    project, public, _ = built_sample
    reviewed = project.resolve()["KB-0008"]
    assert reviewed.reviewed is not None
    html = (public / "kb" / "KB-0008" / "index.html").read_text(encoding="utf-8")
    assert f"最后审核 {reviewed.reviewed}" in html
    plain = project.resolve()["KB-0001"]
    assert f"最后审核 {plain.updated}" in (public / "kb" / "KB-0001" / "index.html").read_text(encoding="utf-8")
