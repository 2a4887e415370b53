import shutil
from pathlib import Path

import pytest

from kb.build import build_site
from kb.project import Project

ROOT = Path(__file__).resolve().parents[1]


def copy_sample(dest: Path) -> Path:
    """A private copy of the shipped sample project, safe to modify and build."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for folder in ("docs", "kb_articles"):
        shutil.copytree(ROOT / folder, dest / folder)
    (dest / "search_index").mkdir()
    return dest


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    return copy_sample(tmp_path / "sample")


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory):
    """The sample built once per test run, both audiences: (project, public site, internal site)."""
    root = copy_sample(tmp_path_factory.mktemp("built") / "sample")
    project = Project.load(root)
    public = build_site(project, "public")
    internal = build_site(Project.load(root), "internal")
    return project, public, internal
