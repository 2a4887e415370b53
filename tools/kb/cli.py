"""The `kb` command: a few lines per command over the library functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kb.problems import Problem, ProblemsFound
from kb.project import Project, ProjectError

AUDIENCE = click.Choice(["public", "internal"])


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


def report_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"共 {len(problems)} 个问题。", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kb-support")
def cli():
    """协同办公系统知识库：文章检查、站点构建与查询。"""


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory):
    """在 DIRECTORY 新建一个空的、可直接构建的知识库项目。"""
    from kb.scaffold import InitRefused, init_project
    try:
        made = init_project(directory)
    except InitRefused as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"已创建 {len(made)} 个文件于 {directory}。下一步：把文章放进 {directory / 'kb_articles'}，然后运行 kb build --project {directory}")


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
@click.option("-v", "--verbose", is_flag=True, help="显示 MkDocs 的详细输出")
def build(project_dir, audience, site_dir, verbose):
    """先检查，再构建站点；失败时保留原有站点不变。"""
    from kb.build import BuildFailed, build_site, mkdocs_logging
    project = open_project(project_dir)
    mkdocs_logging(verbose)
    try:
        target = build_site(project, audience, site_dir)
    except ProblemsFound as err:
        report_problems(err.problems)
        raise click.ClickException("检查未通过，未构建站点（原有站点保持不变）。请先修正以上问题。") from None
    except BuildFailed as err:
        raise click.ClickException(f"MkDocs 构建失败：{err}（原有站点保持不变）") from None
    click.echo(f"站点已生成：{target}")


def main():
    cli(prog_name="kb")
