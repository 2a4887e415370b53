"""Do linked tickets make search better? Measured on the sample knowledge base.

The sample export (tools/sample_data/helpdesk_export_2026.csv) holds 1,200 tickets; those
whose resolution cites exactly one article (kb.tickets.references) are the labelled
queries: the caller's description is the query, the cited article the answer. They are
split in two by a hash of the ticket id (--held-out share, default 30 %):

  - before: a copy of the project without any ticket store, indexed; the held-out
    descriptions are searched;
  - after: the other tickets (all of them, cited or not, as the export has them) written
    to a CSV in the export's own format and linked with `kb link`; the project indexed
    again; the same held-out descriptions searched.

The held-out tickets are never linked, so "after" can only gain from what other callers
reported. Both audiences are measured: the internal index gets every scrubbed reported
phrase, the public one only phrases reported in at least 3 tickets (kb.tickets.linking).
Each with kb search as shipped (hybrid) and lexical only. Figures: recall@1, recall@5 and
MRR@10 over the held-out descriptions.

Usage: .venv/bin/python benchmarks/linked_tickets_bench.py [--held-out 0.3]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from site_bench import print_aligned, remove_workdir  # benchmarks/ is on sys.path when run as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXPORT = ROOT / "tools" / "sample_data" / "helpdesk_export_2026.csv"
K_MRR = 10


def held_out(ticket_id: str, share: float) -> bool:
    return int(hashlib.sha256(ticket_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def copy_project(dest: Path) -> Path:
    """The sample project without its generated files (no ticket store, no index)."""
    dest.mkdir(parents=True)
    for name in ("mkdocs.yml", "kb_articles"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, dest / name)
    shutil.copytree(ROOT / "docs", dest / "docs", ignore=shutil.ignore_patterns("tickets.sqlite*", "ticket_links.json", "reports"))
    (dest / "search_index").mkdir()
    return dest


def measure(project, queries: list[tuple[str, str]], audience: str, lexical_only: bool) -> dict:
    from kb.search.query import search

    ranks = []
    for text, wanted in queries:
        ids = [h.id for h in search(project, text, audience=audience, limit=K_MRR, lexical_only=lexical_only).hits]
        ranks.append(ids.index(wanted) + 1 if wanted in ids else None)
    n = len(queries)
    return {"recall@1": sum(r == 1 for r in ranks) / n, "recall@5": sum(1 for r in ranks if r and r <= 5) / n,
            "mrr@10": sum(1 / r for r in ranks if r) / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held-out", type=float, default=0.3, help="share of the cited tickets held out as queries")
    args = parser.parse_args()
    if not 0 < args.held_out < 1:
        parser.error("--held-out must be between 0 and 1")

    from kb.project import Project
    from kb.search.index import update_index
    from kb.tickets import read_tickets
    from kb.tickets.linking import link_exports
    from kb.tickets.references import ReferenceResolver

    batch = read_tickets(EXPORT)
    project = Project.load(ROOT)
    resolver = ReferenceResolver.for_project(project)
    queries, linked_rows = [], set()
    for ticket in batch.tickets:
        links, _ = resolver.ticket_references(ticket)
        cited = {link.article_id for link in links}
        if held_out(ticket.id, args.held_out):
            if len(cited) == 1:
                queries.append((ticket.description, cited.pop()))
        else:
            linked_rows.add(ticket.id)
    print(f"Linked tickets and search — sample KB, {EXPORT.name}: {len(batch.tickets)} tickets read; "
          f"{len(queries)} held-out descriptions citing one article are the queries; "
          f"{len(linked_rows)} other tickets are linked.\n", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="linked-tickets-bench-"))
    rows = []
    try:
        root = copy_project(workdir / "kb")
        results = {}
        for stage in ("before", "after"):
            if stage == "after":
                export = workdir / "linked.csv"
                with EXPORT.open(encoding=batch.encoding, newline="") as source, \
                        export.open("w", encoding=batch.encoding, newline="") as out:
                    reader, writer = csv.reader(source), csv.writer(out)
                    writer.writerow(next(reader))
                    writer.writerows(row for row in reader if row and row[0] in linked_rows)
                link_exports(Project.load(root), [export])
            for audience in ("internal", "public"):
                update_index(Project.load(root), audience)
                for lexical_only in (False, True):
                    results[stage, audience, lexical_only] = measure(Project.load(root), queries, audience, lexical_only)
        for audience in ("internal", "public"):
            for lexical_only in (False, True):
                before, after = results["before", audience, lexical_only], results["after", audience, lexical_only]
                engine = "lexical only" if lexical_only else "kb search (hybrid)"
                for measure_name in ("recall@1", "recall@5", "mrr@10"):
                    rows.append((f"{measure_name}, {audience}, {engine}", f"{before[measure_name]:.3f}",
                                 f"{after[measure_name]:.3f}", f"{after[measure_name] - before[measure_name]:+.3f}"))
    finally:
        remove_workdir(workdir)
    print_aligned(("measure (held-out descriptions)", "before linking", "after linking", "change"), rows, left=1)
    print("\nThe held-out tickets are never linked: any gain comes from other callers' reported symptoms. "
          "Public: phrases from at least 3 tickets only.")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
