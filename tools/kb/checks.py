"""`kb check`: every rule an article, page or data file must satisfy, all reported in one run."""

from __future__ import annotations

from pathlib import Path

from kb.articles import Article, parse_page, text_lines
from kb.commitments import UNFILLED
from kb.links import find_article_links
from kb.problems import Problem
from kb.project import Project
from kb.site.pages import KB_INDEX, MARKER_PATTERN, MARKERS, SYMPTOM_INDEX, article_page_path


def check_project(project: Project) -> list[Problem]:
    problems = [*project.module_problems(), *project.commitments_problems, *project.synonyms_problems,
                *project.out_of_scope_problems, *project.parse_problems, *unfilled_problems(project)]
    articles = project.articles
    problems += _identity_problems(project, articles)
    problems += _module_problems(project, articles)
    table = project.resolve()
    by_path = {a.path.resolve(): a for a in articles}
    for article in articles:
        problems += _link_problems(project, article.body, article.body_line, article.path,
                                   article.is_public and article.status != "archived", table, by_path)
    problems += _page_problems(project, table, by_path)
    return sorted(set(problems))


def unfilled_problems(project: Project) -> list[Problem]:
    """Every 〔待填写：…〕 that kb init left in mkdocs.yml and the data files: until each is
    replaced, a build would publish it as the site's name, hotline or promise."""
    problems = []
    for path in [project.mkdocs_yml, *sorted(project.data_dir.glob("*.yml"))]:
        display = project.display(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue  # reported by the loader of that file
        for number, line in enumerate(text_lines(text), 1):
            if line.lstrip().startswith("#"):
                continue  # a comment may show the marker to explain it
            for m in UNFILLED.finditer(line):
                problems.append(Problem(display, number, f"{m.group(1)}尚未填写",
                                        f"请把 {display} 第 {number} 行的“{m.group(0)}”换成贵单位的{m.group(1)}"))
    return problems


def _identity_problems(project: Project, articles: list[Article]) -> list[Problem]:
    """Ids and aliases share one namespace (/kb/<id-or-alias>/): each may be used once.
    A clash is reported on every file involved, since either may be the one to change."""
    holders: dict[str, list[tuple[Article, str]]] = {}
    for article in articles:
        for key, field in [(article.id, "id"), *((alias, "aliases") for alias in article.aliases)]:
            holders.setdefault(key, []).append((article, field))
    problems = []
    for key, users in holders.items():
        if len(users) < 2:
            continue
        for article, field in users:
            others = "、".join(project.display(a.path) for a, _ in users if a is not article) or "本文"
            problems.append(Problem(project.display(article.path), article.line_of(field),
                                    f"{'编号' if field == 'id' else '别名'} {key} 已被 {others} 使用",
                                    "编号和别名全站唯一，且编号永不复用：请换一个新编号或别名"))
    return problems


def _module_problems(project: Project, articles: list[Article]) -> list[Problem]:
    names = [m.name for m in project.modules]
    return [
        Problem(project.display(a.path), a.line_of("module"), f"模块 {a.module!r} 不在项目的模块列表中",
                "可选：" + "、".join(names) + "（新模块请加到 mkdocs.yml 中 kb 插件的 modules）")
        for a in articles if a.module not in names
    ]


def _link_problems(project: Project, body: str, first_line: int, source: Path, source_is_public: bool,
                   table: dict[str, Article], by_path: dict[Path, Article]) -> list[Problem]:
    problems = []
    display = project.display(source)
    for link in find_article_links(body, first_line, source):
        if link.key:
            target = table.get(link.key)
        else:
            target = by_path.get(link.path)
            if target is None:
                if not _is_page(project, link.path):
                    problems.append(Problem(display, link.line, f"链接 {link.target} 指向的文件不存在", "检查相对路径，或用 (KB-0007) 的形式按编号链接文章"))
                continue
        if target is None:
            problems.append(Problem(display, link.line, f"链接 {link.target} 指向不存在的文章", "检查编号是否写错，或先建立该文章"))
        elif target.status == "archived":
            problems.append(Problem(display, link.line, f"链接 {link.target} 指向已归档文章 {target.id}", "改为链接替代它的新文章"))
        elif source_is_public and not target.is_public:
            problems.append(Problem(display, link.line, f"公开内容链接到了内部或草稿文章 {target.id}",
                                    "公开站点中没有该文章，链接会失效：删除链接或先将其发布为公开"))
    return problems


def _is_page(project: Project, path: Path) -> bool:
    """A local .md link that resolves to an authored or generated page."""
    if path.is_file():
        return True
    try:
        rel = path.relative_to(project.docs_dir.resolve()).as_posix()
    except ValueError:
        return False
    generated = {KB_INDEX, SYMPTOM_INDEX, *(m.page for m in project.modules), *(article_page_path(a.id) for a in project.articles)}
    return rel in generated


def _page_problems(project: Project, table: dict[str, Article], by_path: dict[Path, Article]) -> list[Problem]:
    problems = []
    if not project.docs_dir.is_dir():
        return [Problem("docs", 1, "缺少 docs/ 目录", "运行 kb init 生成项目骨架")]
    data_dir = project.data_dir.resolve()
    for path in sorted(project.docs_dir.rglob("*.md")):
        if data_dir in path.resolve().parents:
            continue
        fm, found = parse_page(path, project.display(path))
        problems += found
        if fm is None:
            continue
        display = project.display(path)
        for offset, line in enumerate(text_lines(fm.body)):
            for m in MARKER_PATTERN.finditer(line):
                if m.group(1) not in MARKERS:
                    problems.append(Problem(display, fm.body_line + offset, f"未知的占位标记 kb:{m.group(1)}",
                                            "可用：" + "、".join(f"kb:{name}" for name in MARKERS)))
        is_public = fm.data.get("audience") != "internal"
        problems += _link_problems(project, fm.body, fm.body_line, path, is_public, table, by_path)
    return problems
