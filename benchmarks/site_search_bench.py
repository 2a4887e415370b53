"""Site search benchmark: Material's search in a real browser, before and after the kb
plugin's compact search index, on the real corpus and on a large synthetic project.

For each corpus this script
  1. makes a project with `kb.scaffold.init_project`:
     - real: the Alchemy Insights corpus imported with
       `kb.importer.import_articles(project, src, status="validated")` (~2,800 articles);
     - synthetic: N generated articles (default 10,000; `site_bench.generate_articles`);
  2. builds the public site twice with `kb build --site-dir`, each in a fresh process:
     "before" with `compact_search_index: false` in mkdocs.yml (Material's own index:
     every page and section, \\uXXXX-escaped JSON) and "after" with the default (the kb
     plugin leaves the escalation footer, copy-link box and listing pages out of the
     index and writes it as UTF-8);
  3. reports search/search_index.json in bytes, raw and gzip -6 (what a web server with
     compression sends), and the number of indexed sections;
  4. serves each site on 127.0.0.1 and drives Debian's chromium (Playwright, headless):
     - first query: a fresh browser context opens /kb/, and as soon as the DOM is ready
       the first query is typed; time from the keyup to the first result on screen, which
       includes downloading the index and building the lunr index in the search worker
       (median of --loads page loads, alternating between the before and after sites);
     - p50: then ~10 queries one after the other in that page, each timed from the keyup
       to the first result (the result list is emptied in between);
     - found: queries with at least one result; same top-1: queries whose first result
       is the same page before and after (or that find nothing in both).
  Times are to Material's answer: the first result, or its "nothing found" line.

Usage: .venv/bin/python benchmarks/site_search_bench.py [--articles 10000] [--loads 3]
       [--no-real] [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.server
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse


from site_bench import print_aligned, remove_workdir  # benchmarks/ is on sys.path when run as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT_DIR = HERE / "out"  # git-ignored
KB = ROOT / ".venv" / "bin" / "kb"
CORPUS = Path("/work/shared/corpora/alchemy-insights-zh/AlchemyInsights")
QUERIES_FILE = HERE / "queries_alchemy.yml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUERIES_PER_PAGE = 10

# What a caller types on the synthetic site: symptoms, error codes, product actions.
SYNTHETIC_QUERIES = ("公文发送失败", "ORA-12541", "预定会议室 网关错误", "拒绝访问", "550 5.7.1",
                     "同步组织机构", "UKey 证书登录", "套红打印 内部服务器错误", "移动端审批 死锁", "无监听程序")

# Time one query in the page: blank the result list and its meta line, type the query
# (Material reads it on keyup) and wait until Material renders the answer: the first
# result item, or the "nothing found" meta line.
TIME_QUERY = """async (q) => {
  const input = document.querySelector('input.md-search__input');
  const list = document.querySelector('.md-search-result__list');
  const meta = document.querySelector('.md-search-result__meta');
  list.replaceChildren();
  meta.textContent = '';
  const start = performance.now();
  input.value = q;
  input.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));
  await new Promise(resolve => {
    const done = () => list.querySelector('.md-search-result__item') || /没有找到/.test(meta.textContent);
    const observer = new MutationObserver(() => { if (done()) { observer.disconnect(); resolve(); } });
    observer.observe(document.querySelector('.md-search-result'), {childList: true, subtree: true, characterData: true});
  });
  const first = list.querySelector('.md-search-result__item > a');
  return {ms: performance.now() - start, href: first ? first.getAttribute('href') : null};
}"""


# --------------------------------------------------------------------------------------
# Projects and builds
# --------------------------------------------------------------------------------------

def make_real_project(root: Path) -> None:
    from kb.importer import import_articles
    from kb.project import Project
    from kb.scaffold import init_project

    init_project(root)
    import_articles(Project.load(root), CORPUS, status="validated")


def make_synthetic_project(root: Path, count: int) -> None:
    sys.path.insert(0, str(HERE))
    from site_bench import generate_articles, make_kb_project  # the site build benchmark's generator

    make_kb_project(root, generate_articles(count, seed=1))


def set_compact(root: Path, compact: bool) -> None:
    """Write `compact_search_index: <compact>` into the kb plugin's options (text edit, so
    the !ENV tags survive)."""
    path = root / "mkdocs.yml"
    text = re.sub(r"\n[ \t]+compact_search_index: \w+", "", path.read_text(encoding="utf-8"))
    match = re.search(r"^(?P<indent>[ \t]*)- kb:\n", text, re.M)
    if match is None:
        sys.exit(f"{path}: no `- kb:` plugin entry")
    option = f"{match.group('indent')}    compact_search_index: {'true' if compact else 'false'}\n"
    path.write_text(text[:match.end()] + option + text[match.end():], encoding="utf-8")


def build(root: Path, site: Path, compact: bool) -> float:
    set_compact(root, compact)
    start = time.perf_counter()
    proc = subprocess.run([str(KB), "build", "--project", str(root), "--site-dir", str(site)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"kb build failed:\n{proc.stdout}{proc.stderr}")
    return time.perf_counter() - start


def index_stats(site: Path) -> dict:
    data = (site / "search" / "search_index.json").read_bytes()
    return {"raw": len(data), "gzip": len(gzip.compress(data, 6)),
            "sections": len(json.loads(data)["docs"]),
            "pages": sum(1 for _ in site.rglob("*.html"))}


# --------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def page_load(browser, base: str, queries: list[str], hosts: set, warm: bool) -> dict:
    """Open /kb/ in a fresh context, type the first query as soon as the DOM is ready;
    with `warm`, then time the other queries in the same page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
        page.goto(base + "/kb/", wait_until="domcontentloaded")
        page.focus("input.md-search__input")
        results = [page.evaluate(TIME_QUERY, q) for q in (queries if warm else queries[:1])]
    finally:
        context.close()
    return {"first_ms": results[0]["ms"], "warm_ms": [r["ms"] for r in results[1:]],
            "tops": [_page_of(r["href"]) for r in results]}


def measure_browser(browser, sites: dict[str, Path], queries: list[str], loads: int) -> dict:
    """Page loads alternate between the sites (before, after, before, …), so that a busy
    machine slows both alike; the last load of each also times the other queries."""
    served = {name: serve(site) for name, site in sites.items()}
    hosts = set()
    runs = {name: [] for name in sites}
    try:
        for n in range(loads):
            for name, (base, _) in served.items():
                runs[name].append(page_load(browser, base, queries, hosts, warm=n == loads - 1))
    finally:
        for _, server in served.values():
            server.shutdown()
    if hosts - {urlparse(base).netloc for base, _ in served.values()}:
        sys.exit(f"the sites contacted other hosts: {sorted(hosts)}")
    return {name: {"first_ms": statistics.median(r["first_ms"] for r in loads_),
                   "p50_ms": statistics.median(loads_[-1]["warm_ms"]), "tops": loads_[-1]["tops"]}
            for name, loads_ in runs.items()}


def _page_of(href: str | None) -> str | None:
    """The page a result links to, without host (each site has its own port) or query."""
    return urlparse(href).path if href else None


# --------------------------------------------------------------------------------------
# Run and report
# --------------------------------------------------------------------------------------

def bench_corpus(name: str, root: Path, queries: list[str], loads: int, browser) -> dict:
    from kb.project import Project

    result = {"corpus": name, "articles": len(Project.load(root).articles_for("public"))}
    sites = {}
    for variant, compact in (("before", False), ("after", True)):
        sites[variant] = root.parent / f"{root.name}-site-{variant}"
        print(f"  {variant}: building …", file=sys.stderr, flush=True)
        build_s = build(root, sites[variant], compact)
        result[variant] = {**index_stats(sites[variant]), "build_s": build_s}
        print(f"  {variant}: built in {build_s:.0f} s, index {result[variant]['raw']:,} B", file=sys.stderr, flush=True)
    print("  measuring in chromium …", file=sys.stderr, flush=True)
    for variant, measured in measure_browser(browser, sites, queries, loads).items():
        result[variant].update(measured)
    before, after = result["before"]["tops"], result["after"]["tops"]
    result["same_top"] = sum(b == a for b, a in zip(before, after))
    result["queries"] = len(queries)
    return result


def real_queries() -> list[str]:
    import yaml

    queries = [q["q"] for q in yaml.safe_load(QUERIES_FILE.read_text(encoding="utf-8"))["queries"]]
    step = max(1, len(queries) // QUERIES_PER_PAGE)
    return queries[::step][:QUERIES_PER_PAGE]


def kb_size(n: int) -> str:
    return f"{n / 1000:,.0f}"


def print_table(results: list[dict]) -> None:
    columns = ("corpus", "pages", "sections b/a", "index KB: Material raw", "ours raw", "gzip b/a",
               "1st query after load ms b/a", "p50 ms b/a", "found b/a", "same top-1")
    rows = []
    for r in results:
        b, a = r["before"], r["after"]
        rows.append((f"{r['corpus']} ({r['articles']:,} articles)", f"{a['pages']:,}",
                     f"{b['sections']:,} / {a['sections']:,}", kb_size(b["raw"]), kb_size(a["raw"]),
                     f"{kb_size(b['gzip'])} / {kb_size(a['gzip'])}",
                     f"{b['first_ms']:,.0f} / {a['first_ms']:,.0f}", f"{b['p50_ms']:.0f} / {a['p50_ms']:.0f}",
                     f"{sum(map(bool, b['tops']))} / {sum(map(bool, a['tops']))}", f"{r['same_top']}/{r['queries']}"))
    print_aligned(columns, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="synthetic articles (default: %(default)s)")
    parser.add_argument("--loads", type=int, default=3, help="page loads for the first-query time (median)")
    parser.add_argument("--no-real", action="store_true", help="skip the real corpus")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 synthetic articles, no real corpus, 1 load")
    parser.add_argument("--keep", action="store_true", help="keep the projects and sites (benchmarks/out/)")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.no_real, args.loads = 300, True, 1
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium (see the Makefile)")
    real = not args.no_real and CORPUS.is_dir()

    from importlib.metadata import version
    from playwright.sync_api import sync_playwright

    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"kb site search benchmark — {dt.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, mkdocs-material {version('mkdocs-material')}, {chromium}")
    print("before = Material's own search index (compact_search_index: false); after = the kb plugin's default.")
    print("index KB are search/search_index.json (1 KB = 1,000 B), gzip -6; times in headless chromium, "
          f"localhost, {args.loads} page load(s) for the first query, p50 over the next {QUERIES_PER_PAGE - 1} queries.")
    print("NOTE: 2-core, noisy machines: differences under ~15% are noise.\n", flush=True)

    OUT_DIR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="site-search-bench-", dir=OUT_DIR))
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            if real:
                print("… real corpus: importing", file=sys.stderr, flush=True)
                make_real_project(workdir / "real")
                results.append(bench_corpus("real", workdir / "real", real_queries(), args.loads, browser))
            print(f"… synthetic: generating {args.articles:,} articles", file=sys.stderr, flush=True)
            make_synthetic_project(workdir / "synthetic", args.articles)
            results.append(bench_corpus("synthetic", workdir / "synthetic", list(SYNTHETIC_QUERIES), args.loads, browser))
            browser.close()
    finally:
        if not args.keep:
            remove_workdir(workdir)
    print_table(results)
    builds = ", ".join(f"{r['corpus']} {r['before']['build_s']:.0f} / {r['after']['build_s']:.0f} s" for r in results)
    print(f"\nkb build (before / after, incl. start-up): {builds}")
    if args.keep:
        print(f"Projects and sites kept in {workdir}")


if __name__ == "__main__":
    main()
