"""`kb init` makes a new, empty but buildable project; the scaffold stays in step with the sample."""

from click.testing import CliRunner

from conftest import ROOT
from kb.cli import cli
from kb.scaffold import TEMPLATE


def test_init_then_build_an_empty_project(tmp_path):
    target = tmp_path / "newkb"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    for name in ("mkdocs.yml", "docs/index.md", "docs/_data/commitments.yml", "kb_articles/README.md", "search_index/README.md", ".gitignore"):
        assert (target / name).is_file(), name
    assert runner.invoke(cli, ["check", "--project", str(target)]).exit_code == 0
    build = runner.invoke(cli, ["build", "--project", str(target)])
    assert build.exit_code == 0, build.output
    assert (target / "site" / "index.html").is_file()
    assert (target / "site" / "kb" / "index.html").is_file()
    listing = runner.invoke(cli, ["list", "--project", str(target), "--json"])
    assert listing.exit_code == 0 and listing.stdout.strip() == "[]"


def test_init_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "existing.txt").write_text("x")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1 and "不为空" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.txt"]


def test_scaffold_shares_the_authoring_guide_and_commitments_schema():
    assert (TEMPLATE / "kb_articles" / "README.md").read_text(encoding="utf-8") == (ROOT / "kb_articles" / "README.md").read_text(encoding="utf-8")
    assert (TEMPLATE / "search_index" / "README.md").read_text(encoding="utf-8") == (ROOT / "search_index" / "README.md").read_text(encoding="utf-8")
