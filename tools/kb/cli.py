"""The `kb` command: a few lines per command over the library functions."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from kb import cli_messages
from kb.articles import AUDIENCE_LABELS
from kb.problems import Problem, ProblemsFound
from kb.project import Project, ProjectError

# At import, not in main(): the tests drive `cli` directly and must meet the same messages.
cli_messages.install()

AUDIENCE = click.Choice(["public", "internal"])
SLA_PAGE = "reports/sla.md"
FEEDBACK_PAGE = "reports/feedback.md"


def project_option(command):
    return click.option("--project", "project_dir", default=".", show_default=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="知识库项目目录（含 mkdocs.yml、docs/、kb_articles/）")(command)


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")(command)


def open_project(project_dir: Path) -> Project:
    try:
        return Project.load(project_dir)
    except ProjectError as err:
        raise click.ClickException(str(err)) from None


def print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def progress_reporter(quiet: bool, label: str):
    """A progress callback that redraws one line on a terminal; None when quiet or piped."""
    if quiet or not sys.stderr.isatty():
        return None
    state = {"shown": -1}

    def progress(done: int, total: int | None) -> None:
        if total is None:  # a stream of unknown length: a count
            click.echo(f"\r{label} {done}", err=True, nl=False)
            return
        percent = done * 100 // max(total, 1)
        if percent != state["shown"] or done == total:
            state["shown"] = percent
            click.echo(f"\r{label} {done}/{total}（{percent}%）", err=True, nl=done == total)
    return progress


def show_report(project: Project, result, page: str | None, as_json: bool) -> None:
    """A report's table or JSON; with `page` (under docs/), also its internal-site page."""
    if page:
        path = project.docs_dir / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.markdown_page(), encoding="utf-8")
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo("\n".join(result.table_lines()))
        if page:
            click.echo(f"页面已写入 {project.display(project.docs_dir / page)}（内部站点：kb build --audience internal）")


def report_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"共 {len(problems)} 个问题。", err=True)


# Set by `kb --debug`: main() then lets an unexpected error show its traceback.
_debug = False


class _TruncatedInput(Exception):
    """An EOFError inside a command: a file ended early. kb never reads standard input,
    but click would report it like a Ctrl-D, as a bare "Aborted!"."""


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EOFError as err:
            raise _TruncatedInput(f"读取文件时遇到意外的结尾，文件可能被截断或损坏（{err or 'EOFError'}）") from err


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kb-support")
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈（报告问题时附上）")
def cli(debug):
    """协同办公系统知识库：文章检查、站点构建与查询。"""
    global _debug
    _debug = debug


def _ask(text: str, parse):
    """Ask until the answer parses; an empty answer (None) leaves the item to fill in later."""
    while True:
        answer = click.prompt(text, default="", show_default=False, prompt_suffix="：").strip()
        if not answer:
            return None
        try:
            return parse(answer)
        except ValueError as err:
            click.echo(f"错误：{err}", err=True)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="", metavar="组织名称", help="组织名称：站点标题为“<组织名称> 自助服务中心”")
@click.option("--hotline", "hotlines", multiple=True, metavar="热线",
              help="服务热线，可重复：“号码”“名称=号码”或“名称=号码=受理时段”，如 \"服务热线=400-123-4567=工作日 9:00–17:00\"；"
                   "号码只含数字、空格、-、+ 和括号")
@click.option("--site-url", default="", metavar="网址", help="站点网址（http:// 或 https:// 开头）：文章短链接以它开头")
def init(directory, name, hotlines, site_url):
    """在 DIRECTORY 新建一个空的知识库项目。

    在终端中运行时，询问选项未给出的组织名称、服务热线和站点网址。未给出的（直接回车或不在终端中）
    写成“〔待填写：…〕”，服务承诺的时限和服务项目也是；kb check 逐条报告，全部填好之前 kb build 不构建站点。"""
    from kb.checks import unfilled_problems
    from kb.scaffold import InitRefused, Vendor, check_target, init_project, parse_hotline, parse_site_url
    ctx = click.get_current_context()

    def parsed(option: str, value: str, parse):
        try:
            return parse(value)
        except ValueError as err:
            raise click.UsageError(f"{option} 的值无效：{err}", ctx) from None

    try:
        check_target(directory)  # before asking anything
    except InitRefused as err:
        raise click.ClickException(str(err)) from None
    found = [parsed("--hotline", h, parse_hotline) for h in hotlines]
    site_url = parsed("--site-url", site_url, parse_site_url) if site_url else ""
    if sys.stdin.isatty() and not (name and hotlines and site_url):
        click.echo("新建知识库项目：请填写贵单位的信息（直接回车可稍后在文件中填写）。")
        if not name:
            name = _ask("组织名称", str) or ""
        while not hotlines and (hotline := _ask(
                "再添加一条服务热线（直接回车结束）" if found else
                "服务热线（“号码”“名称=号码”或“名称=号码=受理时段”，如 服务热线=400-123-4567=工作日 9:00–17:00）",
                parse_hotline)):
            found.append(hotline)
        if not site_url:
            site_url = _ask("站点网址（http:// 或 https:// 开头）", parse_site_url) or ""
    made = init_project(directory, Vendor(name, tuple(found), site_url))
    click.echo(f"已创建 {len(made)} 个文件于 {directory}。")
    unfilled = unfilled_problems(Project.load(directory))
    if unfilled:
        files = "、".join(dict.fromkeys(p.path for p in unfilled))
        click.echo(f"还有 {len(unfilled)} 处“〔待填写：…〕”（{files}）：运行 kb check --project {directory} 逐条查看，"
                   "换成贵单位的实际内容；填好之前 kb build 不会构建站点。")
    click.echo(f"下一步：把文章放进 {directory / 'kb_articles'}，然后运行 kb build --project {directory}")


@cli.command("list")
@project_option
@click.option("--audience", type=AUDIENCE, default=None, help="只列出会进入该站点的文章（默认列出全部）")
@json_option
def list_articles(project_dir, audience, as_json):
    """列出文章：编号、标题、链接、模块、受众、状态。"""
    project = open_project(project_dir)
    articles = project.articles_for(audience) if audience else project.articles
    if as_json:
        print_json([a.to_dict(project.site_url) for a in articles])
        return
    for a in articles:
        click.echo(f"{a.id}\t{a.status}\t{a.audience}\t{a.module}\t{a.title}\t{project.site_url}{a.url_path}")
    if project.parse_problems:
        click.echo(f"另有文件无法解析，运行 kb check --project {project_dir} 查看。", err=True)


@cli.command()
@project_option
@json_option
def check(project_dir, as_json):
    """检查所有文章、页面和数据文件；有问题时退出码为 1。"""
    from kb.checks import check_project
    project = open_project(project_dir)
    problems = check_project(project)
    if as_json:
        print_json([p.to_dict() for p in problems])
    elif problems:
        report_problems(problems)
    else:
        click.echo(f"检查通过：{len(project.articles)} 篇文章。")
    sys.exit(1 if problems else 0)


@cli.command()
@project_option
@click.option("--audience", type=AUDIENCE, default="public", show_default=True,
              help="public：对客户的站点（site/）；internal：含内部与草稿文章的工程师站点（site-internal/）")
@click.option("--site-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="输出目录（默认按 audience 决定）")
@click.option("--offline", is_flag=True,
              help="离线版：不需要网站服务器，直接用浏览器打开 index.html（U 盘、共享目录），搜索可用；输出到 site-offline/（内部：site-internal-offline/）")
@click.option("--pdf", is_flag=True, help="同时用 chromium 把各角色的培训指南打印成 PDF（training/<角色>/<角色>-guide.pdf）")
@click.option("-v", "--verbose", is_flag=True, help="显示 MkDocs 的详细输出")
def build(project_dir, audience, site_dir, offline, pdf, verbose):
    """先检查，再构建站点；失败时保留原有站点不变。"""
    from kb.build import BuildFailed, build_site, mkdocs_logging
    from kb.site.pdf import PdfFailed
    project = open_project(project_dir)
    mkdocs_logging(verbose)
    try:
        target = build_site(project, audience, site_dir, offline=offline, pdf=pdf)
    except PdfFailed as err:
        raise click.ClickException(f"{err}（原有站点保持不变）") from None
    except ProblemsFound as err:
        report_problems(err.problems)
        raise click.ClickException("检查未通过，未构建站点（原有站点保持不变）。请先修正以上问题。") from None
    except BuildFailed as err:
        raise click.ClickException(f"MkDocs 构建失败：{err}（原有站点保持不变）") from None
    click.echo(f"站点已生成：{target}" + (f"（离线版：用浏览器打开 {target / 'index.html'}）" if offline else ""))
    for path in sorted(target.glob("training/*/*-guide.pdf")):
        click.echo(f"培训指南 PDF：{path}")


@cli.command()
@project_option
@click.option("--audience", type=AUDIENCE, default="public", show_default=True, help="为哪个站点的文章建索引")
@click.option("--rebuild", is_flag=True, help="丢弃现有索引，全部重建")
@click.option("--quiet", is_flag=True, help="不显示进度，只输出一行摘要")
@json_option
def index(project_dir, audience, rebuild, quiet, as_json):
    """建立或增量更新全文搜索索引（search_index/）。"""
    from kb.search.index import update_index
    project = open_project(project_dir)
    report = update_index(project, audience, rebuild=rebuild, progress=progress_reporter(quiet or as_json, "建立索引"),
                          embedding_progress=progress_reporter(quiet or as_json, "计算语义向量"))
    if as_json:
        print_json(report.to_dict())
    else:
        how = "全部重建" if report.rebuilt else "增量更新"
        dense = (f"语义向量新算 {report.embedded}、复用 {report.vectors_reused}" if report.model
                 else "仅按字词索引（mkdocs.yml 中关闭了 semantic_search）" if not project.semantic_search
                 else "未安装语义模型，仅按字词索引")
        click.echo(f"{how}{AUDIENCE_LABELS[audience]}索引：共 {report.documents} 篇，新增 {len(report.added)}，更新 {len(report.updated)}，"
                   f"删除 {len(report.deleted)}，未变 {report.unchanged}，{dense}，用时 {report.seconds} 秒。")
    if project.parse_problems:
        click.echo(f"有 {len(project.parse_problems)} 个文件无法解析，未进入索引：运行 kb check --project {project_dir} 查看。", err=True)


@cli.command("import")
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@project_option
@click.option("--status", type=click.Choice(["draft", "validated"]), default="draft", show_default=True,
              help="导入文章的状态；默认草稿，经人工核对后再发布")
@click.option("--quiet", is_flag=True, help="不显示进度和明细，只输出一行摘要")
@json_option
def import_(source, project_dir, status, quiet, as_json):
    """从现有的 Markdown 知识库（SOURCE 目录）迁移文章；重复运行不会产生重复文章。"""
    from kb.importer import ImportRefused, import_articles
    project = open_project(project_dir)
    try:
        report = import_articles(project, source, status, progress=progress_reporter(quiet or as_json, "导入"))
    except ImportRefused as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        print_json(report.to_dict())
    else:
        lines = report.summary_lines()
        click.echo(f"{lines[0]}；{lines[1]}" if quiet else "\n".join(lines))


@cli.command()
@click.argument("tickets", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@project_option
@click.option("--encoding", default=None, help="导出文件的编码（默认逐个文件自动识别 UTF-8、GBK/GB18030、UTF-16 等）")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="列名映射 YAML（我方字段: 对方表头），用于其他服务台系统的导出")
@click.option("--quiet", is_flag=True, help="不显示进度和明细，只输出一行摘要")
@json_option
def link(tickets, project_dir, encoding, mapping, quiet, as_json):
    """读取工单导出，把工单的现象关联到处理结果引用的文章，并报告关联率、缺口和失效引用。"""
    from kb.search.query import gap_suggester
    from kb.tickets import TicketFileError
    from kb.tickets.linking import link_exports
    project = open_project(project_dir)
    try:
        report = link_exports(project, tickets, encoding=encoding, mapping=mapping, suggest=gap_suggester(project),
                              progress=progress_reporter(quiet or as_json, "关联工单"),
                              waiting=lambda: click.echo("另一个 kb link 正在写入工单数据，等待它完成……", err=True))
    except TicketFileError as err:
        report_problems(err.problems)
        raise click.ClickException("工单导出文件无法使用，未写入任何数据。") from None
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        print_json(report.to_dict())
        return
    skipped = sum(f["skipped"] for f in report.files)
    summary = (f"工单 {report.tickets} 张，引用了文章的 {report.linked} 张，关联率 {report.link_rate:.1%}；"
               f"跳过的行 {len(report.rows_rejected)}；失效引用 {len(report.dangling)} 处"
               + (f"；{skipped} 个文件与上次导入时相同，未重新读取" if skipped else "")
               + f"。数据已写入 {report.data_file}")
    if quiet:
        click.echo(summary)
        return
    for row in report.rows_rejected:
        click.echo(f"{row['path']}:{row['row']}: 已跳过：{row['reason']}", err=True)
    click.echo(summary)
    busiest = sorted(report.articles.items(), key=lambda kv: -kv[1]["tickets"])[:5]
    if busiest:
        click.echo("引用最多的文章：" + "、".join(f"{i}（{a['tickets']} 张）" for i, a in busiest))
    for d in report.dangling[:10]:
        click.echo(f"失效引用：工单 {d['ticket_id']} 引用 {d['reference']}：{d['reason']}")
    for gap in report.gaps[:10]:
        hint = (f"可用 {gap['suggestion']['id']} {gap['suggestion']['title']}" if gap["suggestion"]
                else gap["advice"])
        click.echo(f"缺口：“{gap['symptom']}”（{gap['tickets']} 张工单）→ {hint}")


@cli.group()
def report():
    """服务报告。"""


@report.command()
@click.argument("tickets", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@project_option
@click.option("--timezone", default=None, help="不带时区的时间按此时区理解（默认取 mkdocs.yml 中 kb 插件的 timezone，Asia/Shanghai）")
@click.option("--encoding", default=None, help="导出文件的编码（默认自动识别）")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="列名映射 YAML（我方字段: 对方表头），用于其他服务台系统的导出")
@click.option("--page", "write_page", is_flag=True, help=f"同时写出内部站点页面 docs/{SLA_PAGE}（月度服务报告）")
@json_option
def sla(tickets, project_dir, timezone, encoding, mapping, write_page, as_json):
    """按月、按模块统计响应、排除和到场是否在承诺时限内，列出超时工单。"""
    from kb.reports.sla import SlaError, sla_report
    from kb.tickets import TicketFileError
    project = open_project(project_dir)
    try:
        result = sla_report(project, tickets, timezone=timezone, encoding=encoding, mapping=mapping)
    except TicketFileError as err:
        report_problems(err.problems)
        raise click.ClickException("工单导出文件无法使用。") from None
    except SlaError as err:
        raise click.ClickException(str(err)) from None
    show_report(project, result, SLA_PAGE if write_page else None, as_json)


def _day(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"应为 YYYY-MM-DD 格式的日期，例如 2026-11-01，收到 {value!r}") from None


@report.command()
@project_option
@click.option("--audience", type=AUDIENCE, default="public", show_default=True, help="统计哪个站点（kb serve --audience）的记录")
@click.option("--since", default=None, metavar="YYYY-MM-DD", callback=_day, help="只统计这一天（含）以后的记录")
@click.option("--page", "write_page", is_flag=True, help=f"同时写出内部站点页面 docs/{FEEDBACK_PAGE}（自助成效）")
@json_option
@click.option("--backup", "backup_file", default=None, metavar="文件", type=click.Path(path_type=Path),
              help="不出报告，只把反馈数据库完整备份到这个文件（kb serve 运行时也可以，备份是某一时刻的完整副本）")
def feedback(project_dir, audience, since, write_page, as_json, backup_file):
    """自助成效：文章有帮助率、自助成功率、搜不到结果和没人点开的查询（来自 kb serve 的记录）。"""
    from kb.reports.feedback import feedback_report
    from kb.serve.events import EventStoreError, backup_store
    project = open_project(project_dir)
    if backup_file is not None:
        if since or write_page or as_json:
            raise click.UsageError("--backup 只做备份，不能与 --since、--page、--json 同用")
        try:
            done = backup_store(project.events_path, backup_file, project.display(project.events_path))
        except EventStoreError as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"已备份反馈数据到 {done.path}：共 {done.events} 条事件（搜索 {done.searches}，"
                   f"点开 {done.clicks}，反馈 {done.votes}）。")
        return
    try:
        result = feedback_report(project, since=since, audience=audience)
    except EventStoreError as err:
        raise click.ClickException(str(err)) from None
    show_report(project, result, FEEDBACK_PAGE if write_page else None, as_json)


@cli.group()
def synonyms():
    """同义词组（docs/_data/synonyms.yml）：从工单和搜索学到的来电用语建议，采纳或不采纳。"""


@synonyms.command("suggest")
@project_option
@json_option
def synonyms_suggest(project_dir, as_json):
    """列出来电者常用、文章里没有的说法及其对应的文章用词（来自 kb link 的工单和 kb serve 的搜索）。"""
    from kb.reports.vocabulary import vocabulary_suggestions
    project = open_project(project_dir)
    if project.synonyms_problems:  # a curated pair must not be offered again because the file is unreadable
        report_problems(project.synonyms_problems)
        raise click.ClickException("同义词文件有问题，先修正（kb check）。")
    result = vocabulary_suggestions(project)
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo("\n".join(result.table_lines()))


@synonyms.command("add")
@click.argument("words", nargs=-1, required=True)
@project_option
def synonyms_add(words, project_dir):
    """把几个说法放进同一组（已有组含其中之一时并入该组），例如 kb synonyms add 开会软件 Teams。"""
    from kb.search.synonyms import SynonymsEditError, add_synonyms
    project = open_project(project_dir)
    path = project.synonyms_path
    try:
        group = add_synonyms(path, project.display(path), list(words), f"kb synonyms add，{dt.date.today().isoformat()}")
    except SynonymsEditError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"已写入 {project.display(path)}：[{', '.join(group)}]；运行 kb index 后生效")


@synonyms.command("reject")
@click.argument("word")
@click.argument("term")
@project_option
def synonyms_reject(word, term, project_dir):
    """记下“口语说法 → 文章用词”这条建议不采纳，kb synonyms suggest 不再提出。"""
    from kb.search.synonyms import SynonymsEditError, reject_synonyms
    project = open_project(project_dir)
    path = project.synonyms_path
    try:
        added = reject_synonyms(path, project.display(path), word, term, f"kb synonyms reject，{dt.date.today().isoformat()}")
    except SynonymsEditError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"已记入 {project.display(path)} 的 rejected：{word} → {term}" if added else f"{word} → {term} 早已记为不采纳")


@cli.command()
@project_option
@click.option("--draft-days", default=30, show_default=True, type=click.IntRange(0), help="草稿超过多少天未更新算过期")
@click.option("--orphan-months", default=6, show_default=True, type=click.IntRange(0), help="最近多少个月没有任何工单引用算无人使用")
@json_option
def review(project_dir, draft_days, orphan_months, as_json):
    """列出需要审核的文章：过了审核日期、久未完成的草稿、无人引用、已归档仍被引用。"""
    from kb.reports.review import review as run_review
    project = open_project(project_dir)
    try:
        result = run_review(project, draft_days=draft_days, orphan_months=orphan_months)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo("\n".join(result.table_lines()))


# More changed articles than this and `kb search` asks for `kb index` instead of waiting.
AUTO_REINDEX_LIMIT = 20


@cli.command()
@click.argument("query", nargs=-1, required=True)
@project_option
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100), help="最多显示几条")
@click.option("--module", default=None, help="只在该模块中查找，例如 邮件")
@click.option("--audience", type=AUDIENCE, default="public", show_default=True, help="internal：连内部文章和草稿一起查")
@json_option
def search(query, project_dir, limit, module, audience, as_json):
    """按来电者描述的现象查找文章，给出可直接发送的链接。"""
    from kb.search.index import IndexMissing, index_dir, staleness, update_index
    from kb.search.query import search as run_search
    project = open_project(project_dir)
    try:
        changed = staleness(project, audience)
        if index_dir(project, audience) in changed:  # a rebuild, too long to wait for on a call
            raise click.ClickException(f"搜索索引需要重建（同义词或索引格式已变）。运行 kb index --project {project_dir}"
                                       f"{'' if audience == 'public' else ' --audience internal'}")
        if changed and len(changed) <= AUTO_REINDEX_LIMIT:
            update_index(project, audience)
            click.echo(f"（{len(changed)} 个文件有变化，索引已自动更新）", err=True)
        elif changed:
            raise click.ClickException(f"搜索索引已过期：{len(changed)} 个文件有变化。运行 kb index --project {project_dir}"
                                       f"{'' if audience == 'public' else ' --audience internal'}")
        result = run_search(project, " ".join(query), audience=audience, limit=limit, module=module)
    except IndexMissing as err:
        raise click.ClickException(str(err)) from None
    except click.ClickException:
        raise  # "stale, run kb index": not a damaged index
    except Exception as err:  # whoosh raises EOFError, struct.error, zlib.error... for a damaged index
        if _debug:
            raise
        raise click.ClickException(
            f"{project.display(project.search_index_dir / audience)}: 搜索失败（{type(err).__name__}），索引可能已损坏：运行 "
            f"kb index --project {project_dir}{'' if audience == 'public' else ' --audience internal'} --rebuild；"
            "仍失败请加 --debug 运行并报告") from None
    if result.corrected:
        click.echo(f"已按“{result.corrected}”查找（按拼音纠正了输入）。", err=as_json)
    if result.hits and result.out_of_scope:
        click.echo(f"可能没有相关文章：“{result.query}”像是知识库不解答的问题（与范围外问题“{result.out_of_scope}”相近），"
                   "请告知来电者并转相关部门；以下结果仅供参考。", err=as_json)
    elif result.hits and not result.confident:
        # Before the hits: an engineer on the phone must not read out a wrong answer.
        click.echo(f"可能没有相关文章：以下结果与“{result.query}”关系不大，请记录为新问题或转工程师处理。", err=as_json)
    if as_json:
        print_json([hit.to_dict() for hit in result.hits])
    else:
        for n, hit in enumerate(result.hits, 1):
            click.echo(f"{n}. {click.style(hit.id, bold=True)}  {hit.title}  [{hit.module}]  得分 {hit.score}")
            click.echo(f"   {click.style(hit.url, fg='blue')}")
            for symptom in hit.symptoms[:2]:
                click.echo(f"   现象：{symptom}")
            click.echo(f"   {hit.snippet}")
    if not result.hits:
        lines = [f"没有找到与“{result.query}”匹配的文章。"]
        if result.did_you_mean:
            lines.append("您是不是要找：" + "、".join(result.did_you_mean))
        for near in result.nearest_symptoms:
            lines.append(f"相近的现象：{near['symptom']} → {near['id']} {near['title']}")
        click.echo("\n".join(lines), err=as_json)


@cli.command()
@project_option
@click.option("--audience", type=AUDIENCE, default="public", show_default=True,
              help="public：提供 site/；internal：提供 site-internal/（先用 kb build 构建）")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址；对局域网开放用 0.0.0.0（建议放在 nginx 之后）")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="监听端口；0 表示任选一个空闲端口")
@click.option("--trusted-proxy", default=None, metavar="地址",
              help="前面的反向代理（如 nginx）的地址：只信任它发来的 X-Forwarded-For，按真实客户端限流")
def serve(project_dir, audience, host, port, trusted_proxy):
    """提供已构建的站点，并收集搜索记录和“这篇文章有帮助吗？”的反馈（docs/_data/events.sqlite）。"""
    import signal

    from kb.serve import Server, ServeError
    from kb.serve.events import EventStoreError
    project = open_project(project_dir)
    try:
        server = Server(project, audience, host, port, trusted_proxy=trusted_proxy)
    except (ServeError, EventStoreError) as err:
        raise click.ClickException(str(err)) from None
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.stop())
    click.echo(f"正在提供{AUDIENCE_LABELS[audience]}站点 {project.display(project.site_dir(audience))}：{server.url}"
               f"（反馈数据：{project.display(project.events_path)}；按 Ctrl-C 停止）")
    sys.stdout.flush()
    server.run()
    click.echo(f"已停止。本次记录 {server.events.written} 条事件"
               + (f"，{server.events.refused} 条因写入积压未能记录" if server.events.refused else "") + "。")


def main():
    try:
        # Not standalone: click would print its own errors after an English "Error:".
        status = cli.main(prog_name="kb", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C
        click.echo("\n已中止。", err=True)
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as err:  # `kb report` alone: its help is the answer
        click.echo(err.format_message(), err=True)
        sys.exit(err.exit_code)
    except click.ClickException as err:
        if isinstance(err, click.UsageError) and err.ctx is not None:
            click.echo(err.ctx.get_usage(), err=True)
            click.echo(f"查看帮助：{err.ctx.command_path} -h", err=True)
        message = err.format_message()
        if isinstance(err, click.MissingParameter) and message.endswith("."):  # click appends "."
            message = message[:-1] + "。"
        click.echo(f"错误：{message}", err=True)
        sys.exit(err.exit_code)
    except Exception as err:
        if _debug:
            raise
        message = " ".join((cli_messages.os_error(err) if isinstance(err, OSError) else str(err)).split())  # one line
        if not isinstance(err, (OSError, _TruncatedInput)):  # these already say what happened
            message = f"{type(err).__name__}: {message}" if message else type(err).__name__
        click.echo(f"错误：{message}（加 --debug 查看详细信息）", err=True)
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)
