"""A KB project: a folder with mkdocs.yml, docs/, kb_articles/ and search_index/.

Project settings live in mkdocs.yml, under the `kb` plugin's options, so the site build
and the command line read one file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from kb.articles import Article, parse_article
from kb.commitments import FILE_NAME as COMMITMENTS_FILE, Commitments, load_commitments
from kb.problems import Problem, yaml_reason
from kb.search.out_of_scope import FILE_NAME as OUT_OF_SCOPE_FILE, load_out_of_scope
from kb.search.synonyms import FILE_NAME as SYNONYMS_FILE, Synonyms, load_synonyms

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DEFAULT_OPTIONS = {"articles_dir": "kb_articles", "data_dir": "docs/_data", "modules": []}


class ProjectError(Exception):
    """The project folder or its mkdocs.yml cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Module:
    name: str
    slug: str

    @property
    def page(self) -> str:
        """Docs-relative path of the generated module index page."""
        return f"kb/module/{self.slug}.md"


class _TolerantLoader(yaml.SafeLoader):
    """mkdocs.yml may hold tags such as !ENV or !!python/name; the CLI only needs plain values."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_TolerantLoader.add_multi_constructor("!", _untagged)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _untagged)


def read_mkdocs_yml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as f:
            data = yaml.load(f, Loader=_TolerantLoader) or {}
    except FileNotFoundError:
        raise ProjectError(f"{path}: 找不到 mkdocs.yml（用 --project 指向知识库项目目录，或用 kb init 新建一个）") from None
    except yaml.YAMLError as err:
        # Where the broken construct starts (an unclosed bracket or quote), as in articles.
        mark = getattr(err, "context_mark", None) or getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ProjectError(f"{path}:{line}: mkdocs.yml 的 YAML 语法错误：{yaml_reason(err)}"
                           "（检查缩进、冒号后的空格和括号、引号是否成对）") from None
    if not isinstance(data, dict):
        raise ProjectError(f"{path}:1: mkdocs.yml 必须是键值映射")
    return data


def plugin_options(mkdocs_config: dict) -> dict | None:
    """Options of the `kb` plugin entry, or None if the plugin is not configured."""
    plugins = mkdocs_config.get("plugins") or []
    entries = plugins.items() if isinstance(plugins, dict) else (
        next(iter(p.items())) if isinstance(p, dict) else (p, {}) for p in plugins)
    for name, options in entries:
        if name == "kb":
            return options or {}
    return None


class Project:
    def __init__(self, root: Path, options: dict, site_url: str = "", site_dir: str = "site"):
        self.root = Path(root).resolve()
        self.options = {**DEFAULT_OPTIONS, **(options or {})}
        self.site_url = site_url.rstrip("/") + "/" if site_url else ""
        self._site_dir = site_dir

    @classmethod
    def load(cls, root: str | os.PathLike = ".") -> Project:
        root = Path(root)
        if not root.is_dir():
            raise ProjectError(f"{root}: 项目目录不存在（用 --project 指向知识库项目目录）")
        config_path = root / "mkdocs.yml"
        config = read_mkdocs_yml(config_path)
        options = plugin_options(config)
        if options is None:
            raise ProjectError(f"{config_path}: 没有启用 kb 插件（在 plugins 中加入 - kb，见 kb init 生成的 mkdocs.yml）")
        return cls(root, options, str(config.get("site_url") or ""), str(config.get("site_dir") or "site"))

    # Paths -------------------------------------------------------------------------------

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def articles_dir(self) -> Path:
        return self.root / self.options["articles_dir"]

    @property
    def data_dir(self) -> Path:
        return self.root / self.options["data_dir"]

    @property
    def search_index_dir(self) -> Path:
        return self.root / "search_index"

    @property
    def semantic_search(self) -> bool:
        """Whether `kb index` embeds the articles for the dense retriever (kb.search)."""
        return self.options.get("semantic_search", True) is not False

    @property
    def timezone(self) -> str:
        """IANA name of the timezone the helpdesk's times without an offset are in."""
        return str(self.options.get("timezone") or "Asia/Shanghai")

    def site_dir(self, audience: str = "public", offline: bool = False) -> Path:
        """site/, site-internal/; the offline builds site-offline/, site-internal-offline/."""
        base = self.root / self._site_dir
        name = base.name + ("" if audience == "public" else f"-{audience}") + ("-offline" if offline else "")
        return base.with_name(name)

    def display(self, path: Path) -> str:
        """Path as shown in messages: relative to the project when inside it."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    # Content -----------------------------------------------------------------------------

    @cached_property
    def modules(self) -> list[Module]:
        modules = []
        for entry in self.options.get("modules") or []:
            if isinstance(entry, dict) and entry.get("name") and entry.get("slug"):
                modules.append(Module(str(entry["name"]), str(entry["slug"])))
        return modules

    def module_problems(self) -> list[Problem]:
        problems, seen = [], set()
        for entry in self.options.get("modules") or []:
            if not (isinstance(entry, dict) and entry.get("name") and entry.get("slug")):
                problems.append(Problem("mkdocs.yml", 1, f"kb 插件的 modules 条目 {entry!r} 无效", "每项写成 {name: 公文流转, slug: document}"))
            elif not SLUG_PATTERN.match(str(entry["slug"])) or entry["slug"] in seen:
                problems.append(Problem("mkdocs.yml", 1, f"模块 slug {entry['slug']!r} 无效或重复", "slug 用小写字母、数字和 -，且互不相同"))
            else:
                seen.add(entry["slug"])
        return problems

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)

    def article_files(self) -> Iterator[os.DirEntry]:
        """Every *.md under the articles folder but README.md and what starts with _ or .,
        as directory entries: `kb search` stats them all on every call (10,000 files
        included), and entries spare it building a Path for each. Folders linked to
        are not entered, as os.walk does not."""
        folders = [str(self.articles_dir)]
        while folders:
            try:
                listing = os.scandir(folders.pop())
            except OSError:  # gone or unreadable: nothing there to index, as with os.walk
                continue
            with listing:
                for entry in listing:
                    if entry.name.startswith(("_", ".")):
                        continue
                    if entry.is_dir():
                        if not entry.is_symlink():
                            folders.append(entry.path)
                    elif entry.name.endswith(".md") and entry.name != "README.md":
                        yield entry

    def article_paths(self) -> list[Path]:
        return sorted(Path(entry.path) for entry in self.article_files())

    @cached_property
    def _parsed(self) -> tuple[list[Article], list[Problem]]:
        articles, problems = [], []
        for path in self.article_paths():
            article, found = parse_article(path, self.display(path))
            problems += found
            if article:
                articles.append(article)
        return articles, problems

    @property
    def articles(self) -> list[Article]:
        """Every article that parsed, whatever its audience or status, sorted by id."""
        return sorted(self._parsed[0], key=lambda a: a.id)

    @property
    def parse_problems(self) -> list[Problem]:
        return self._parsed[1]

    def articles_for(self, audience: str) -> list[Article]:
        return [a for a in self.articles if a.in_build(audience)]

    def resolve(self) -> dict[str, Article]:
        """Every id and alias → its article (first wins; duplicates are reported by kb.checks)."""
        table: dict[str, Article] = {}
        for article in self.articles:
            for key in (article.id, *article.aliases):
                table.setdefault(key, article)
        return table

    # Data files --------------------------------------------------------------------------

    @property
    def commitments_path(self) -> Path:
        return self.data_dir / COMMITMENTS_FILE

    @cached_property
    def _commitments(self) -> tuple[Commitments | None, list[Problem]]:
        return load_commitments(self.commitments_path, self.display(self.commitments_path))

    @property
    def commitments(self) -> Commitments | None:
        return self._commitments[0]

    @property
    def commitments_problems(self) -> list[Problem]:
        return self._commitments[1]

    @property
    def ticket_store_path(self) -> Path:
        """Written by `kb link` (kb.tickets.store): which tickets cite which articles, scrubbed."""
        return self.data_dir / "tickets.sqlite"

    @property
    def events_path(self) -> Path:
        """Written by `kb serve` (kb.serve.events): searches, articles opened and votes, scrubbed."""
        return self.data_dir / "events.sqlite"

    @property
    def synonyms_path(self) -> Path:
        return self.data_dir / SYNONYMS_FILE

    @cached_property
    def _synonyms(self) -> tuple[Synonyms, list[Problem]]:
        return load_synonyms(self.synonyms_path, self.display(self.synonyms_path))

    @property
    def synonyms(self) -> Synonyms:
        return self._synonyms[0]

    @property
    def synonyms_problems(self) -> list[Problem]:
        return self._synonyms[1]

    @property
    def out_of_scope_path(self) -> Path:
        return self.data_dir / OUT_OF_SCOPE_FILE

    @cached_property
    def _out_of_scope(self) -> tuple[tuple[str, ...], list[Problem]]:
        return load_out_of_scope(self.out_of_scope_path, self.display(self.out_of_scope_path))

    @property
    def out_of_scope(self) -> tuple[str, ...]:
        """Questions the knowledge base does not answer (kb.search.out_of_scope)."""
        return self._out_of_scope[0]

    @property
    def out_of_scope_problems(self) -> list[Problem]:
        return self._out_of_scope[1]
