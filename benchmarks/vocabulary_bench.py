"""Does learning callers' vocabulary from tickets make search better? Measured on the real corpus.

Corpus: the Alchemy Insights articles (as in search_bench.py), imported into a fresh
`kb init` project and indexed for the internal audience. Tickets: benchmarks/
tickets_alchemy.yml, 200 helpdesk tickets written by a helper that saw neither the query
sets, the search nor the synonyms: office workers' descriptions in their own words
(often not naming the product), each resolved by one article. They are written out as a
CSV export (工单编号, 创建时间, 问题描述, 处理结果 citing the article's KB id) and read by
`kb link`, as a support centre's export would be.

Stages, each measured on the four labelled query sets of search_bench.py (dev, held-out,
test, hard; answerable queries only), with kb search as shipped (hybrid) and lexical only:

  - base: no tickets;
  - linked: the tickets linked (`link_exports`), so their symptoms are on the articles
    and in the index (kb link's own effect, article by article);
  - linked + vocabulary: every suggestion of `kb synonyms suggest`
    (kb.reports.vocabulary) taken with `kb synonyms add` without curation (a curator
    would drop the wrong ones, so this is the floor of what curation gives);
  - vocabulary only: the same synonyms, the ticket store removed and the index updated:
    what the learned words give for articles no ticket cited.

The hard set was written blind and nothing was tuned on it; its `everyday` kind (callers
who never name the product) is the one the learned vocabulary is for, and is printed apart.

Usage: .venv/bin/python benchmarks/vocabulary_bench.py [--corpus DIR] [--tickets FILE]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
from pathlib import Path

import yaml

from search_bench import (DEFAULT_CORPUS, DEFAULT_QUERIES, OUT_DIR, SET_NAMES, LabelledQuery, import_corpus,
                          label_ids, load_queries, progress, quality, rank_kb)
from site_bench import print_aligned, remove_workdir

HERE = Path(__file__).resolve().parent
DEFAULT_TICKETS = HERE / "tickets_alchemy.yml"
STAGES = ("base", "linked", "linked + vocabulary", "vocabulary only")


def write_export(path: Path, tickets: list[LabelledQuery]) -> None:
    """The tickets as a helpdesk CSV export whose resolutions cite the article by id."""
    start = dt.datetime(2026, 11, 2, 9, 0)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["工单编号", "创建时间", "问题描述", "处理结果"])
        for i, ticket in enumerate(tickets):
            (article_id,) = ticket.ids
            opened = start + dt.timedelta(hours=3 * i)
            writer.writerow([f"GD{opened:%Y%m%d}{i:04d}", f"{opened:%Y-%m-%d %H:%M}", ticket.text,
                             f"已发送知识库文章 {article_id}，用户按文章操作后恢复正常。"])


def measure(project, query_sets) -> dict:
    """(set, engine) → quality, over the answerable queries; plus the everyday kind of all sets,
    and how many out-of-scope questions kb search flags 可能没有相关文章 (linked symptoms move
    the articles' vectors, so the signal is measured at each stage)."""
    result = {}
    for name, queries in query_sets:
        answered = [q for q in queries if q.ids]
        out_of_scope = [q for q in queries if not q.ids]
        for lexical_only in (False, True):
            ranked, sure = rank_kb(project, answered, lexical_only=lexical_only)
            if out_of_scope and not lexical_only:
                flagged = sum(not s for s in rank_kb(project, out_of_scope)[1])
                result[f"{name} out-of-scope", None] = {"flagged": f"{flagged}/{len(out_of_scope)}",
                                                        "answerable flagged": f"{sure.count(False)}/{len(answered)}"}
            result[name, lexical_only] = quality(answered, ranked)
            everyday = [(q, r) for q, r in zip(answered, ranked) if q.kind == "everyday"]
            if everyday:
                result[f"{name} everyday", lexical_only] = quality([q for q, _ in everyday], [r for _, r in everyday])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the Alchemy Insights folder (default: %(default)s)")
    parser.add_argument("--tickets", type=Path, default=DEFAULT_TICKETS, help="tickets to learn from (default: %(default)s)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus}: corpus not found (it lives beside the checkout; use --corpus DIR)")

    from kb.project import Project
    from kb.reports.vocabulary import vocabulary_suggestions
    from kb.search.index import update_index
    from kb.search.synonyms import SynonymsEditError, add_synonyms
    from kb.tickets.linking import link_exports

    query_sets = [(SET_NAMES[path.name], load_queries(path)) for path in DEFAULT_QUERIES]
    tickets = [LabelledQuery(str(t["description"]), "ticket", [str(t["article"])])
               for t in yaml.safe_load(args.tickets.read_text(encoding="utf-8"))]
    print(f"Learned vocabulary benchmark — {dt.date.today().isoformat()}: {len(tickets)} tickets "
          f"({args.tickets.name}), {sum(len(qs) for _, qs in query_sets)} labelled queries in "
          f"{len(query_sets)} sets, on {args.corpus.name}.\n", flush=True)

    OUT_DIR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="vocabulary-bench-", dir=OUT_DIR))
    results, learned, skipped = {}, [], []
    try:
        progress(f"importing and indexing {args.corpus}")
        root = workdir / "alchemy"
        project, report, _, _ = import_corpus(root, args.corpus)
        label_ids(project, report, [q for _, qs in query_sets for q in qs] + tickets)
        progress("base")
        results["base"] = measure(project, query_sets)

        progress("linking the tickets")
        export = workdir / "tickets.csv"
        write_export(export, tickets)
        linked = link_exports(Project.load(root), [export])
        update_index(Project.load(root), "internal")
        results["linked"] = measure(Project.load(root), query_sets)

        progress("learning the vocabulary")
        project = Project.load(root)
        learned = vocabulary_suggestions(project).suggestions
        for s in learned:
            try:
                add_synonyms(project.synonyms_path, project.display(project.synonyms_path), [s.word, s.term], "vocabulary_bench")
            except SynonymsEditError as err:
                skipped.append(f"{s.word} → {s.term}: {err}")
        update_index(Project.load(root), "internal")  # synonyms shape the index: a rebuild, vectors reused
        results["linked + vocabulary"] = measure(Project.load(root), query_sets)

        progress("vocabulary without the linked symptoms")
        for path in (root / "docs" / "_data").glob("tickets.sqlite*"):
            path.unlink()
        update_index(Project.load(root), "internal")
        results["vocabulary only"] = measure(Project.load(root), query_sets)
    finally:
        remove_workdir(workdir)

    print(f"kb link: {linked.tickets} tickets, {linked.linked} linked ({linked.link_rate:.1%}).")
    cited = {article_id for t in tickets for article_id in t.ids}
    print("Queries whose right article some ticket cites (linking can only help those directly): "
          + ", ".join(f"{name} {sum(bool(q.ids & cited) for q in qs if q.ids)}/{sum(bool(q.ids) for q in qs)}"
                      for name, qs in query_sets) + ".")
    print(f"Learned, all taken without curation ({len(learned)}): "
          + "; ".join(f"{s.word} → {s.term} ({s.articles} articles)" for s in learned))
    for line in skipped:
        print(f"  not taken: {line}")
    print()
    rows = []
    for key in results["base"]:
        name, lexical_only = key
        if lexical_only is None:
            for measure_name in results["base"][key]:
                rows.append((f"{name}, hybrid, {measure_name}", *(results[stage][key][measure_name] for stage in STAGES)))
            continue
        engine = "lexical" if lexical_only else "hybrid"
        n = len(results["base"][key]["ranks"])
        for metric in ("recall@5", "mrr@10"):
            rows.append((f"{name} ({n}), {engine}, {metric}", *(f"{results[stage][key][metric]:.3f}" for stage in STAGES)))
    print_aligned(("query set, engine, measure", *STAGES), rows, left=1)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
