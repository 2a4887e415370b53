"""`kb search` end to end on the real Alchemy Insights corpus: kb init, kb import, kb index
--audience internal, then colloquial queries from benchmarks/queries_alchemy.yml find their
labelled article in the top 5 with the lexical engine alone (the full labelled sets, hybrid
and lexical, are measured by benchmarks/search_bench.py)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import words_only
from kb.cli import cli
from kb.project import Project

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpora/alchemy-insights-zh/AlchemyInsights"

# Three entries of benchmarks/queries_alchemy.yml: (query, source file stems of the right articles).
LABELLED = (
    ("teams里看不到别人共享的屏幕", {"screen-sharing-not-working-in-teams", "screen-sharing-with-teams"}),
    ("onedrive登录报错0x8004de40", {"error-when-logging-into-onedrive", "fix-0x8004de40-error-in-onedrive"}),
    ("outlook一打开就闪退", {"outlook-crash-troubleshooting-steps", "alchemyoutlook-crash-troubleshooting-steps"}),
)


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the Alchemy Insights corpus is not at {CORPUS} (it lives beside the checkout)")
    root = tmp_path_factory.mktemp("corpus") / "kb"
    runner = CliRunner()
    for args in (["init", str(root)],
                 ["import", str(CORPUS), "--project", str(root), "--quiet"],
                 ["index", "--project", str(root), "--audience", "internal", "--quiet"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, f"kb {args[0]}: {result.output}"
        if args[0] == "init":
            words_only(root)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("query,stems", LABELLED, ids=[q for q, _ in LABELLED])
def test_labelled_query_finds_its_article(corpus_project, query, stems):
    # The importer keeps each source file's stem as an alias.
    resolve = Project.load(corpus_project).resolve()
    wanted = {resolve[stem].id for stem in stems}

    result = CliRunner().invoke(cli, ["search", *query.split(), "--project", str(corpus_project),
                                      "--audience", "internal", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert isinstance(hits, list) and hits, f"no hits for {query!r}"
    for hit in hits:
        assert {"id", "title", "url", "score", "path"} <= hit.keys()
        assert hit["url"].endswith(f"kb/{hit['id']}/") and hit["path"].startswith("kb_articles/")
    top5 = [hit["id"] for hit in hits[:5]]
    assert wanted & set(top5), f"{query!r}: none of {sorted(wanted)} in the top 5 {top5}"
