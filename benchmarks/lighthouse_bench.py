"""Lighthouse (mobile) benchmark: performance of the built public site's home page, an
article and a training lesson, against a stock Material for MkDocs page measured in the
same run. One table.

1. The public site: reused with `--site DIR` (a `kb build` output), else built into
   benchmarks/out/lighthouse/site as `make site` does (`kb check`, `kb link` of the
   sample tickets, `kb index`, `kb build --site-dir`).
2. The baseline: a stock mkdocs-material project in a temporary folder with one page:
   KB-0001's Markdown body under its title, the theme settings of our mkdocs.yml (name,
   language, font: false, features; palette if there is one), MkDocs' default plugins (search) and none
   of ours: no kb plugin, no extra CSS or JavaScript. `mkdocs build` of it.
3. Each site is served by a threaded http.server on 127.0.0.1 (HTTP/1.1, keep-alive) that
   gzips text responses (HTML, CSS, JavaScript, JSON, SVG, XML; level 6) when the browser
   asks for it, as a production web server (nginx `gzip on`, IIS static compression) is
   set up to ("gzip"), and by a second one that serves every file as it is on disk
   ("plain": a server with no compression set up). `--serve gzip|plain` measures only one.
4. Lighthouse (the CLI from benchmarks/.npm, installed by the Makefile at a pinned
   version) runs each page --runs times (default 3; the pages alternate) with its
   defaults: mobile form factor, simulated throttling (slow 4G, 4x CPU slowdown),
   performance category only, `--chrome-flags="--headless=new --no-sandbox"` and
   CHROME_PATH=/usr/bin/chromium. The table shows per page the median of each figure
   over the runs: performance score, FCP, LCP, TBT, CLS, total transfer bytes (as
   Lighthouse counts them: compressed when served compressed).

Exit status 1 if the median score of any of the three site pages, served either way, is
below the target (90); the baseline is not held to it. The JSON reports are kept in
benchmarks/out/lighthouse/ (git-ignored) for their opportunities and diagnostics.

Usage: .venv/bin/python benchmarks/lighthouse_bench.py [--runs 3] [--site DIR] [--serve both|gzip|plain]
       [--pages / /kb/KB-0001/ ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.server
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "lighthouse"  # git-ignored
BIN = Path(sys.executable).parent
LIGHTHOUSE = HERE / ".npm" / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
SAMPLE_TICKETS = ROOT / "tools" / "sample_data" / "helpdesk_export_2026.csv"
PAGES = {"/": "home", "/kb/KB-0001/": "article", "/training/admin/01-system-init-org/": "training lesson"}
BASELINE_ARTICLE = "KB-0001"
TARGET = 90
COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"}


def progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------

def run(*cmd: str, cwd: Path = ROOT) -> None:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


def build_site(site: Path) -> None:
    """The public site as `make site` builds it (ticket links and search index included)."""
    kb = str(BIN / "kb")
    run(kb, "check")
    run(kb, "link", str(SAMPLE_TICKETS), "--quiet")
    run(kb, "index", "--quiet")
    run(kb, "build", "--site-dir", str(site))


def build_baseline(workdir: Path) -> Path:
    """A stock Material for MkDocs site: one page (KB-0001's body), our theme settings,
    MkDocs' default plugins, nothing of the kb plugin."""
    ours = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_IgnoreTags)
    article = next(p for p in (ROOT / "kb_articles").rglob(f"{BASELINE_ARTICLE}-*.md"))
    _, front, body = article.read_text(encoding="utf-8").split("---\n", 2)
    title = yaml.safe_load(front)["title"]
    docs = workdir / "docs"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text(f"# {title}\n{body}", encoding="utf-8")
    config = {"site_name": ours["site_name"], "site_url": "https://example.com/",
              "theme": ours["theme"], "markdown_extensions": ours.get("markdown_extensions", []),
              "extra": {"generator": False}}
    (workdir / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run(str(BIN / "mkdocs"), "build", "--quiet", "--site-dir", str(workdir / "site"), cwd=workdir)
    return workdir / "site"


class _IgnoreTags(yaml.SafeLoader):
    """Reads mkdocs.yml with its !ENV tags as empty values."""


_IgnoreTags.add_multi_constructor("", lambda loader, suffix, node: None)


# --------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any production web server does
    compress = True
    _cache: dict = {}
    _lock = threading.Lock()

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # the redirect to the slash URL
            path = path / "index.html"
        wants = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (self.compress and wants and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        key = (path, path.stat().st_mtime_ns)
        with self._lock:
            body = self._cache.get(key)
            if body is None:
                body = self._cache[key] = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def serve(directory: Path, compress: bool):
    handler = functools.partial(type("H", (Handler,), {"compress": compress}), directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


# --------------------------------------------------------------------------------------
# Lighthouse
# --------------------------------------------------------------------------------------

def lighthouse_version() -> str:
    return subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def lighthouse(url: str, report: Path) -> dict:
    env = dict(os.environ, CHROME_PATH=CHROME)
    cmd = [str(LIGHTHOUSE), url, "--only-categories=performance", "--output=json",
           f"--output-path={report}", "--chrome-flags=--headless=new --no-sandbox", "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not report.is_file():
        sys.exit(f"lighthouse {url} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    lhr = json.loads(report.read_text(encoding="utf-8"))
    if lhr.get("runtimeError"):
        sys.exit(f"lighthouse {url}: {lhr['runtimeError']}")
    audits = lhr["audits"]
    score = lhr["categories"]["performance"]["score"]
    if score is None:
        sys.exit(f"lighthouse {url}: no performance score ({report})")
    return {
        "score": score * 100,
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
        "version": lhr["lighthouseVersion"],
        "chrome": lhr["environment"].get("hostUserAgent", ""),
    }


def medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in ("score", "fcp", "lcp", "tbt", "cls", "bytes")}


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------

def print_table(rows: list[tuple[str, str, str, dict, dict]]) -> None:
    columns = ("page", "served", "score", "FCP s", "LCP s", "TBT ms", "CLS", "transfer KB", "LCP / baseline",
               "KB / baseline")
    lines = []
    for label, path, served, m, base in rows:
        lines.append((f"{label} ({path})", served, f"{m['score']:.0f}", f"{m['fcp'] / 1000:.2f}",
                      f"{m['lcp'] / 1000:.2f}", f"{m['tbt']:.0f}", f"{m['cls']:.3f}", f"{m['bytes'] / 1024:.0f}",
                      f"{m['lcp'] / base['lcp']:.2f}", f"{m['bytes'] / base['bytes']:.2f}"))
    widths = [max(len(c), *(len(r[i]) for r in lines)) for i, c in enumerate(columns)]

    def fmt(cells) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(fmt(columns))
    print(fmt(["-" * w for w in widths]))
    for line in lines:
        print(fmt(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (median reported)")
    parser.add_argument("--site", type=Path, help="a built public site to measure (default: build one)")
    parser.add_argument("--serve", choices=("both", "gzip", "plain"), default="both",
                        help="gzip: compressed as a production server does; plain: every file as it is on disk")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="site paths to measure")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run `make bench` (or `make {LIGHTHOUSE.relative_to(ROOT)}`) first")
    if not Path(CHROME).exists():
        sys.exit(f"{CHROME} is missing: run `make /usr/bin/chromium` first")
    OUT.mkdir(parents=True, exist_ok=True)
    modes = ("gzip", "plain") if args.serve == "both" else (args.serve,)
    servers = []
    with tempfile.TemporaryDirectory(prefix="lighthouse-bench-") as tmp:
        site = args.site
        if site is None:
            site = OUT / "site"
            progress(f"building the public site into {site}")
            build_site(site)
        progress("building the stock Material baseline")
        baseline = build_baseline(Path(tmp) / "baseline")
        targets = []  # (key, label, path, served, url)
        for mode in modes:
            ours_url, ours_server = serve(site, mode == "gzip")
            base_url, base_server = serve(baseline, mode == "gzip")
            servers += [ours_server, base_server]
            targets.append((f"baseline-{mode}", "baseline: stock Material", "1 page", mode, base_url + "/"))
            targets += [(f"{PAGES.get(p, p)}-{mode}", PAGES.get(p, p), p, mode, ours_url + p) for p in args.pages]
        results: dict[str, list[dict]] = {t[0]: [] for t in targets}
        try:
            for n in range(args.runs):
                for key, _, _, _, url in targets:
                    progress(f"run {n + 1}/{args.runs}: {key} {url}")
                    results[key].append(lighthouse(url, OUT / f"{key.replace(' ', '-')}-{n + 1}.json"))
        finally:
            for server in servers:
                server.shutdown()
    first = results[targets[0][0]][0]
    rows, failed = [], []
    for mode in modes:
        base = medians(results[f"baseline-{mode}"])
        for key, label, path, served, _ in targets:
            if served == mode:
                m = medians(results[key])
                rows.append((label, path, served, m, base))
                if not key.startswith("baseline-") and m["score"] < TARGET:
                    failed.append(f"{label} ({served}) {m['score']:.0f}")
    browser = re.search(r"HeadlessChrome/[\d.]+", first["chrome"])
    print(f"Lighthouse {first['version']}, mobile (simulated slow 4G, 4x CPU slowdown), performance only; "
          f"{browser.group(0) if browser else first['chrome']}; median of {args.runs} run(s) per page; "
          f"{dt.date.today()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    print()
    print_table(rows)
    print()
    print(f"Target: performance ≥ {TARGET} on every site page — " + (f"NOT met: {', '.join(failed)}" if failed else "met"))
    per_run = "; ".join(k + " " + ", ".join(f"{r['score']:.0f}" for r in v) for k, v in results.items())
    print(f"Scores per run: {per_run}")
    print("served: gzip = text files gzip -6 when the browser asks (as nginx `gzip on` or IIS static compression); "
          "plain = every file as it is on disk. Ratios are against the baseline served the same way.")
    print(f"JSON reports (opportunities, diagnostics): {OUT}")
    print("NOTE: 2-core, noisy machines: TBT, and with it the score, moves by several points between runs.")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
