"""`kb build`: check, then build the site into a temporary folder and swap it into place,
so a failed or interrupted build never leaves a half-written site."""

from __future__ import annotations

import logging
from pathlib import Path

from kb.checks import check_project
from kb.problems import ProblemsFound
from kb.project import Project
from kb.staging import staging_folder, swap_into_place


class BuildFailed(Exception):
    """MkDocs itself failed (strict-mode warning, theme error); the old site is untouched."""


def build_site(project: Project, audience: str = "public", site_dir: Path | None = None,
               offline: bool = False, pdf: bool = False) -> Path:
    """Build the site for `audience` into `site_dir` (default: the project's site folder
    for the audience). `offline` builds a copy that works from file:// (Material's offline
    plugin: page.html URLs, search index inlined as a script, no web server needed).
    `pdf` also prints each training guide to `training/<role>/<role>-guide.pdf`; a site
    that has those PDFs gets them printed again by a later build without `pdf`, so that
    they are neither lost nor out of date."""
    problems = check_project(project)
    if problems:
        raise ProblemsFound(problems, "kb check")
    # Imported here: mkdocs and Material take most of a second to import, and the read-only
    # commands (list, check, search) must stay quick.
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    target = Path(site_dir) if site_dir else project.site_dir(audience, offline)
    pdf = pdf or any(target.glob("training/*/*-guide.pdf"))
    # The staging folder is locked while this build runs; one left by a killed build is
    # deleted here. The swap is one atomic rename: the site is served throughout.
    with staging_folder(target) as staging:
        try:
            config = load_config(str(project.mkdocs_yml), site_dir=str(staging))
            # Material's search plugin imported jieba, which set its own logger to DEBUG.
            logging.getLogger("jieba").setLevel(logging.getLogger("mkdocs").level)
            config.plugins["kb"].config.audience = audience
            config.plugins["kb"].with_pdf = pdf  # each guide's first page links its PDF
            _set_offline(config, offline, project)
            build(config)
            if pdf:
                from kb.site.pdf import print_guides
                print_guides(staging, config.plugins["kb"].guides, config.use_directory_urls)
        except MkDocsException as err:
            raise BuildFailed(str(err)) from None
        swap_into_place(staging, target)
    return target


def _set_offline(config, offline: bool, project: Project) -> None:
    """Switch Material's offline plugin on or off for this build, whatever KB_OFFLINE says."""
    plugin = config.plugins.get("material/offline")
    if plugin is not None:
        plugin.config.enabled = offline
    elif offline:
        raise BuildFailed(f"{project.mkdocs_yml}: plugins 中没有 offline 插件，无法构建离线版；请在 plugins 末尾加入"
                          "「- offline: {enabled: !ENV [KB_OFFLINE, false]}」（kb init 生成的 mkdocs.yml 已包含）")


def mkdocs_logging(verbose: bool) -> None:
    """Show MkDocs' warnings (strict mode turns them into a failed build) on stderr."""
    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_kb", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))
        handler._kb = True
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
