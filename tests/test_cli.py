"""The CLI over the library: `kb list`, and every command and option documented in the README."""

import json
import re

import click
from click.testing import CliRunner

from conftest import ROOT
from kb.cli import cli
from kb.project import Project


def test_list_json_matches_the_library():
    result = CliRunner().invoke(cli, ["list", "--project", str(ROOT), "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    project = Project.load(ROOT)
    assert [r["id"] for r in rows] == [a.id for a in project.articles]
    first = rows[0]
    assert set(first) >= {"id", "title", "url", "path", "module", "audience", "status", "symptoms", "aliases"}
    assert first["url"] == "https://support.example.com/kb/KB-0001/"


def test_list_by_audience():
    public = json.loads(CliRunner().invoke(cli, ["list", "--project", str(ROOT), "--audience", "public", "--json"]).stdout)
    internal = json.loads(CliRunner().invoke(cli, ["list", "--project", str(ROOT), "--audience", "internal", "--json"]).stdout)
    assert {r["id"] for r in public} < {r["id"] for r in internal}
    assert all(r["audience"] == "public" and r["status"] != "draft" for r in public)
    text = CliRunner().invoke(cli, ["list", "--project", str(ROOT)])
    assert text.exit_code == 0 and "KB-0033" in text.output


def test_every_command_and_option_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []

    def visit(group, prefix):
        for name, command in group.commands.items():
            full = f"{prefix} {name}"
            if not re.search(rf"\b{full}\b", readme):
                missing.append(full)
            for param in command.params:
                if isinstance(param, click.Option):
                    missing.extend(f"{full} {opt}" for opt in param.opts
                                   if opt.startswith("--") and opt != "--help" and opt not in readme)
            if isinstance(command, click.Group):
                visit(command, full)

    visit(cli, "kb")
    assert missing == []


def test_quiet_means_one_summary_line(tmp_path):
    from conftest import copy_sample

    root = copy_sample(tmp_path / "p")
    runner = CliRunner()
    export = ROOT / "tools" / "sample_data" / "helpdesk_export_2026.csv"
    for args in (["link", str(export)], ["index"], ["index", "--audience", "internal"]):
        result = runner.invoke(cli, [*args, "--project", str(root), "--quiet"])
        assert result.exit_code == 0, result.output
        assert len(result.stdout.splitlines()) == 1 and result.stderr == "", (args, result.output)
