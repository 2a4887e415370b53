"""The MkDocs plugin: turns kb_articles/ into pages at /kb/<id>/, adds the index pages,
the search page and its static search data, alias redirects and assets, expands
markers, and keeps internal content out of the public build. Material-specific only in
the page meta it sets (tags, hide) and the offline plugin's Worker shim it drops
(kb build --offline): the site search is ours (kb.search.export, assets/kb-search.js)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import posixpath
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from kb.articles import page_audience, parse_page
from kb.project import Project
from kb.reports.review import review
from kb.site.printing import Cover, find_guides, print_page
from kb.site.pages import (HEALTH_PAGE, KB_INDEX, SEARCH_PAGE, SYMPTOM_INDEX, SitePages, article_page_path, e,
                           page_url)
from kb.tickets.linking import article_symptoms, link_report, open_store

log = logging.getLogger("mkdocs.plugins.kb")
ASSETS = Path(__file__).parent / "assets"
REVIEW_PAGE = "kb/review.md"
SLA_PAGE = "reports/sla.md"
FEEDBACK_PAGE = "reports/feedback.md"  # written by kb report feedback --page
ASSETS_DIR = "assets/kb"
CSS, SCRIPTS = "kb.css", ("kb.js", "kb-search.js", "kb-serve.js")
META_MARKER = "// kb:search-meta\n"  # in kb-search.js, replaced by the search data's meta


class KBPluginConfig(Config):
    audience = c.Choice(("public", "internal"), default="public")
    articles_dir = c.Type(str, default="kb_articles")
    data_dir = c.Type(str, default="docs/_data")
    modules = c.ListOfItems(c.Type(dict), default=[])
    timezone = c.Type(str, default="Asia/Shanghai")  # for times in ticket exports (kb report sla)
    # kb index/search with the bundled language model beside the words (kb.search.embedding);
    # false: words only, e.g. where embedding thousands of articles takes too long.
    semantic_search = c.Type(bool, default=True)


class KBPlugin(BasePlugin[KBPluginConfig]):
    with_pdf = False  # set by kb build --pdf (kb.build): the guides' PDFs will be there
    # After the other plugins' on_config: Material's offline plugin switches
    # use_directory_urls off and adds its shim there, and the links written here follow.
    @event_priority(-50)
    def on_config(self, config):
        root = Path(config.config_file_path).parent
        self.project = Project(root, dict(self.config), config.site_url or "", config.site_dir)
        if config.nav is None:
            # Without an explicit nav MkDocs lists every article in it, and Material then
            # renders that nav into every page: quadratic build time and memory.
            raise PluginError("mkdocs.yml 没有 nav：请写出导航（kb init 生成的 mkdocs.yml 有示例），文章页不放进导航")
        commitments = self.project.commitments
        if commitments is None:
            raise PluginError("; ".join(map(str, self.project.commitments_problems)))
        audience = self.config.audience
        if audience == "internal":
            config.site_name = f"{config.site_name}（内部）"
        # The store is read here, once: the public build gets only publishable phrases,
        # the internal one every scrubbed phrase and the KCS figures.
        try:
            store = open_store(self.project)
        except ValueError as err:
            raise PluginError(str(err)) from None
        self.link_report = None
        reported = {}
        if store is not None:
            with store:
                reported = article_symptoms(self.project, audience, store)
                if audience == "internal":
                    self.link_report = link_report(self.project, store, [], None)
        self.pages = SitePages(
            self.project.articles_for(audience), self.project.resolve(), self.project.modules,
            commitments, self.project.site_url, audience, reported,
            directory_urls=config.use_directory_urls,
        )
        # Before the nav gains generated entries: the role sections of the training tab.
        self.guides = find_guides(config.nav)
        self._add_modules_to_nav(config.nav)
        config.extra_css.append(f"{ASSETS_DIR}/{CSS}")
        # Deferred, as the theme's bundle is (defer_theme_scripts): neither holds up the
        # first paint, and they still run in order, before DOMContentLoaded.
        page_script = ExtraScriptValue(f"{ASSETS_DIR}/kb.js")
        page_script.defer = True
        config.extra_javascript.append(page_script)
        offline = config.plugins.get("material/offline")
        self.offline = bool(offline and offline.config.enabled)
        if not self.offline:  # feedback and search log under kb serve; inert on any other server
            serve_script = ExtraScriptValue(f"{ASSETS_DIR}/kb-serve.js")
            serve_script.defer = True
            config.extra_javascript.append(serve_script)
        # The search script starts on a shared search/?q=… link while the theme's own
        # scripts are still loading: async, it does not wait for them. On the web only the
        # search page loads it (on_post_page): the other pages send the header box's query
        # there, and a phone's connection is better spent on the page it opened. The offline
        # copy, read from disk, keeps it on every page.
        if self.offline:
            search_script = ExtraScriptValue(f"{ASSETS_DIR}/kb-search.js")
            search_script.async_ = True
            config.extra_javascript.append(search_script)
        # The offline plugin adds a shim for Material's search worker from unpkg.com; our
        # search has no worker, and an offline copy must request nothing from the internet.
        config.extra["polyfills"] = [s for s in config.extra.get("polyfills") or [] if "iframe-worker" not in str(s)]
        return config

    def _add_modules_to_nav(self, nav) -> None:
        """Put one entry per module after the kb/index.md entry: the nav stays small
        (modules, not articles) however many articles there are."""
        # Themes print nav titles unescaped; module names come from mkdocs.yml.
        module_entries = [{e(m.name): m.page} for m in self.pages.modules]
        for section in _nav_lists(nav):
            for i, item in enumerate(section):
                if _nav_target(item) == KB_INDEX:
                    extra = []
                    if self.config.audience == "internal":
                        extra = [{"知识健康度": HEALTH_PAGE}, {"文章审核清单": REVIEW_PAGE}]
                        if (self.project.docs_dir / SLA_PAGE).is_file():  # written by kb report sla --page
                            extra.append({"月度服务报告": SLA_PAGE})
                        if (self.project.docs_dir / FEEDBACK_PAGE).is_file():
                            extra.append({"自助成效": FEEDBACK_PAGE})
                    section[i + 1:i + 1] = [{"现象与错误代码索引": SYMPTOM_INDEX}, *extra, *module_entries]
                    return

    def on_files(self, files: Files, config) -> Files:
        audience = self.config.audience
        data_dir = Path(self.project.data_dir).resolve()
        removed = set()
        for file in list(files):
            path = Path(file.abs_src_path).resolve() if file.abs_src_path else None
            if path and (path == data_dir or data_dir in path.parents):
                files.remove(file)
            elif audience == "public" and file.is_documentation_page() and path:
                fm, _ = parse_page(path)
                if page_audience(fm) == "internal":
                    files.remove(file)
                    removed.add(file.src_uri)
        _drop_from_nav(config.nav, removed)
        generated = {
            KB_INDEX: self.pages.kb_index_page(),
            SEARCH_PAGE: self.pages.search_page(),
            SYMPTOM_INDEX: self.pages.symptom_index_page(),
        }
        for module in self.pages.modules:
            generated[module.page] = self.pages.module_page(module)
        if audience == "internal":
            generated[HEALTH_PAGE] = self.pages.health_page(self.link_report)
            generated[REVIEW_PAGE] = review(self.project).markdown_page()
        cover = Cover(config.site_name, self.pages.commitments.hotline_html(),
                      dt.datetime.now(ZoneInfo(self.project.timezone)).date())
        for guide in self.guides:
            # Lessons link to articles by id: rewritten here, as on_page_markdown does for
            # authored pages (it leaves generated pages alone).
            generated[guide.print_page] = self.pages.rewrite(
                print_page(guide, self.project.docs_dir, cover), guide.print_page, self.project.docs_dir / guide.folder)
        for article in self.pages.articles:
            generated[article_page_path(article.id)] = self.pages.article_page(article)
            for alias in article.aliases:
                generated[self.pages.redirect_path(alias)] = self.pages.redirect_page(alias, article.id)
        generated[f"{ASSETS_DIR}/{CSS}"] = (ASSETS / CSS).read_text(encoding="utf-8")
        # Where the header box sends a query: search/, or search.html in the offline copy.
        site = json.dumps({"searchPage": page_url(SEARCH_PAGE, config.use_directory_urls)})
        for name in SCRIPTS:
            prefix = f"window.kbSite = {site};\n" if name == "kb.js" else ""
            generated[f"{ASSETS_DIR}/{name}"] = prefix + (ASSETS / name).read_text(encoding="utf-8")
        for uri, content in generated.items():
            if files.get_file_from_path(uri):
                raise PluginError(f"docs/{uri} 与生成的页面同名：请改名或删除 docs/{uri}")
            files.append(File.generated(config, uri, content=content))
        return files

    def on_env(self, env, config, files):
        # Our 404 page before the theme's ("404 - Not found"), extending its main.html.
        from jinja2 import ChoiceLoader, DictLoader

        env.loader = ChoiceLoader([DictLoader({"404.html": self.pages.not_found_template()}), env.loader])
        return env

    def on_page_context(self, context, page, config, nav):
        # A guide's previous/next links stay within it: after an admin's last lesson
        # comes nothing, not the first page of the 操作用户 guide.
        for guide in self.guides:
            if page.file.src_uri == guide.pages[-1]:
                page.next_page = None
            if page.file.src_uri == guide.pages[0]:
                page.previous_page = None
        if self.offline and page.canonical_url and self.project.site_url:
            # The offline copy's page.html URLs do not exist on the web server: point the
            # canonical link at the page's address on the (directory-URL) site.
            page.canonical_url = self.project.site_url + page_url(page.file.src_uri)
        return context

    def on_post_build(self, config):
        # The audience's search index written out for the page script: the same engine
        # as kb search (the index is brought up to date first).
        from kb.search.export import write_search_data

        assets = Path(config.site_dir) / ASSETS_DIR
        report = write_search_data(self.project, self.config.audience, assets / "search")
        # The page script carries the data's meta: no request before the first query's own.
        script = assets / "kb-search.js"
        script.write_text(script.read_text(encoding="utf-8").replace(META_MARKER, report.meta_script(), 1), encoding="utf-8")
        if self.offline:
            # The sitemap would list page.html URLs under site_url, which do not exist online.
            for name in ("sitemap.xml", "sitemap.xml.gz"):
                Path(config.site_dir, name).unlink(missing_ok=True)

    def on_post_page(self, output, page, config):
        if page.file.src_uri == SEARCH_PAGE and not self.offline:
            src = get_relative_url(f"{ASSETS_DIR}/kb-search.js", page.url)
            head, body_end, tail = output.rpartition("</body>")
            output = f'{head}<script src="{e(src)}" async></script>\n{body_end}{tail}' if body_end else output
        return defer_theme_scripts(name_nav_sections(output))

    def on_post_template(self, output_content, template_name, config):
        return defer_theme_scripts(output_content) if template_name == "404.html" else output_content

    def on_page_markdown(self, markdown, page, config, files):
        if page.file.generated_by:
            return markdown
        src = page.file.src_uri
        source_dir = Path(page.file.abs_src_path).parent
        guide = next((g for g in self.guides if g.pages[0] == src), None)
        if guide:
            markdown += f"\n\n[打印整本指南（{guide.title}，共 {len(guide.pages)} 课）](print.md){{ .md-button }}"
            if self.with_pdf:  # raw HTML: the PDF is written after MkDocs checks the links
                here = page_url(src, config.use_directory_urls)
                href = posixpath.relpath(f"{guide.folder}/{guide.pdf_name}", here.rstrip("/") if here.endswith("/")
                                         else posixpath.dirname(here))
                markdown += f' <a class="md-button" href="{e(href)}" download>下载 PDF（A4）</a>'
            markdown += "\n"
        return self.pages.expand_markers(self.pages.rewrite(markdown, src, source_dir), src)


_THEME_BUNDLE = re.compile(r'<script src="([^"<>]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js)"></script>')


def defer_theme_scripts(html: str) -> str:
    """Material's bundle, a plain script at the end of the body, gets `defer`: the page is
    painted before the 114 KB bundle has arrived (on a phone's connection Lighthouse counts it
    render-blocking). It still runs before DOMContentLoaded, which it waits for, and before
    our deferred kb.js; a theme without that tag is left as it is."""
    return _THEME_BUNDLE.sub(r'<script src="\1" defer></script>', html, count=1)


_NAV_TITLE = re.compile(r'<label class="md-nav__title" for="(__nav_[\d_]+)">(.*?)</label>', re.S)
_TAG = re.compile(r"<[^>]+>")


def name_nav_sections(html: str) -> str:
    """Material labels a nav section by its expand toggle, which holds only an icon: two
    nameless navigation landmarks on a training page (axe: landmark-unique). Name each by
    its section title instead; a theme without that markup is left as it is."""
    for m in _NAV_TITLE.finditer(html):
        title = " ".join(_TAG.sub(" ", m.group(2)).split())
        if title:
            html = html.replace(f'aria-labelledby="{m.group(1)}_label"', f'aria-label="{title}"', 1)
    return html


def _nav_lists(nav):
    """Every list in a nav tree, depth first."""
    if isinstance(nav, list):
        yield nav
        for item in nav:
            if isinstance(item, dict):
                for value in item.values():
                    yield from _nav_lists(value)


def _drop_from_nav(nav, removed: set[str]) -> None:
    """Remove nav entries for pages left out of this build (internal pages, public build)."""
    for section in list(_nav_lists(nav)):
        section[:] = [item for item in section if _nav_target(item) not in removed]


def _nav_target(item) -> str | None:
    """The page path of a nav entry (`page.md` or `{title: page.md}`); None for sections."""
    value = next(iter(item.values())) if isinstance(item, dict) else item
    return value if isinstance(value, str) else None
