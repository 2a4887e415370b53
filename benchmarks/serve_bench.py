"""`kb serve` under load: static pages, searches and votes from many callers at once,
next to Python's own http.server serving the same files, measured in the same run.

  1. copies the sample project (this checkout) into a temporary folder and builds its
     public site with `kb build`;
  2. starts `kb serve --port 0` on 127.0.0.1 and drives it with CLIENTS simulated callers
     for DURATION seconds: each caller has its own keep-alive connection and its own
     loopback address (127.0.x.y, so the per-client POST limit sees different callers),
     waits a random think time (exponential, mean THINK seconds) between requests, and
     picks static files (70 %: pages, the theme's CSS/JS, our assets, search data),
     `/api/search` (20 %, queries as callers type them, worded in many ways) or `/api/feedback` (10 %, a vote
     on a public article, sometimes with a comment), asking for gzip as browsers do;
  3. stops the server with SIGTERM and counts the events in docs/_data/events.sqlite
     against the searches (200) and votes (202) the server accepted: lost events;
  4. the same again on a new `kb serve` while the site and index are rebuilt under it
     (SWAP_STEPS, one after the other, from 2 s into the load): an article is edited and
     `kb build` swaps the new site in (and commits the changed article into the index),
     `kb index --rebuild` swaps a whole new index folder in, the article is edited again
     and `kb build` swaps the site once more. The load lasts DURATION seconds, or until 2 s
     after the last step if the steps take longer (at most SWAP_LIMIT seconds of steps).
     Then the same server must send the article's last text and find it by its new word
     (reloaded without a restart). Every request must succeed meanwhile;
  5. runs the same callers against `python -m http.server` serving the built site, where
     a search or a vote is replaced by the think time alone, so both servers get the same
     static load: the baseline for static latency.

The callers run in LOAD_PROCESSES processes of threads, so the load generator's own GIL
does not stall them all; they share the machine with the server (2 cores here), so the
latencies include the generator's cost. Targets (printed beside the figures; a missed
target is reported, not failed): search p95 ≤ 150 ms, static p95 ≤ 20 ms, no error, no
lost event.

Usage: .venv/bin/python benchmarks/serve_bench.py [--clients 200] [--duration 30] [--think 2] [--quick] [--no-swaps]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT_DIR = HERE / "out"  # git-ignored
KB = str(Path(sys.executable).with_name("kb"))
LOAD_PROCESSES = 2
MIX = (("static", 0.7), ("search", 0.2), ("feedback", 0.1))
TARGETS_MS = {"search": 150, "static": 20}
QUERIES = ["公文发不出去", "公文发送失败 提示500", "发文提示 HTTP 500", "流程提交后报502", "审批单卡住了",
           "邮件发不出去", "外部邮件退信 550 5.7.1", "收不到邮件", "大附件传不上去", "附件上传到一半断了",
           "密码正确登不上", "账号被锁了", "AUTH-1003", "通讯录里找不到新同事", "组织机构没同步",
           "会议室预定冲突", "日程不同步", "手机app闪退", "移动端打不开", "在线编辑提示拒绝访问",
           "数据库连接失败", "ORA-12541", "许可证快到期了", "公问发送失败", "打印机卡纸", "怎么改头像",
           "文号重复", "待办收不到", "视频会议没声音", "系统很慢"]
# Callers word the same problem in many ways: each search is a base query with words around
# it, so that nearly every query of a run is new (no cache can answer it).
BEFORE = ["", "", "请问", "我的", "今天", "急：", "老是", "早上开始"]
AFTER = ["", "", "怎么办", "了", "怎么处理", "一直这样", "？", "怎么回事", "急"]
# The rebuild under load: (what is done to the article first, the command). Each swaps a folder.
SWAP_STEPS = (("edit", "build"), (None, "index --rebuild"), ("edit", "build"))
BUILD_NICE = 10
SWAP_LIMIT = 600          # seconds all the steps may take before the benchmark gives up
SWAP_START = 2.0          # seconds of load before the first step …
TAIL = 2.0                # … and after the last
COMMENTS = ["", "", "", "按步骤做了，解决了", "第三步找不到那个按钮", "还是不行，请回电 13812345678", "<b>谢谢</b>"]


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    f = int(k)
    return values[f] + (values[min(f + 1, len(values) - 1)] - values[f]) * (k - f)


# -- the project and the servers ---------------------------------------------------------

def build_sample(dest: Path) -> Path:
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for folder in ("docs", "kb_articles"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("ticket_links.json", "*.sqlite*", "reports"))
    (dest / "search_index").mkdir()
    subprocess.run([KB, "build", "--project", str(dest)], check=True, stdout=subprocess.DEVNULL)
    return dest


def start(command: list[str], pattern: str) -> tuple[subprocess.Popen, str]:
    """Start a server and read its address from the first line it prints."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(pattern, line)
    if not match:
        process.kill()
        raise SystemExit(f"服务器没有启动：{line}{process.stderr.read()}")
    return process, match.group(1)


def site_paths(site: Path) -> list[str]:
    """What a browser fetches: pages (by their folder URL) and the files they load."""
    paths = []
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.name.endswith(".gz") or path.suffix == ".pdf":
            continue
        rel = path.relative_to(site).as_posix()
        paths.append("/" + (rel[:-len("index.html")] if rel.endswith("index.html") else rel))
    return paths


# -- the callers ---------------------------------------------------------------------------

def caller_address(n: int) -> str:
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def run_callers(args: tuple) -> dict:
    """One load process: `clients` threads until `deadline` (time.time())."""
    import threading
    from urllib.parse import quote

    host, port, first, clients, deadline, stop_file, think, paths, articles, baseline, seed = args
    results = {"static": [], "search": [], "feedback": [], "errors": 0, "error_samples": [],
               "searches_ok": 0, "votes_ok": 0}
    lock = threading.Lock()

    def going() -> bool:
        return time.time() < deadline and not (stop_file and os.path.exists(stop_file))

    def pause(seconds: float) -> None:
        """Think time, cut short when the load ends."""
        until = time.time() + seconds
        while going() and time.time() < until:
            time.sleep(min(0.5, until - time.time()))

    def caller(n: int) -> None:
        rnd = random.Random(seed * 100_003 + n)
        conn = http.client.HTTPConnection(host, port, timeout=30, source_address=(caller_address(n), 0))
        pause(rnd.uniform(0, think))  # callers do not all arrive in the same instant
        while going():
            kind = rnd.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            if baseline and kind != "static":
                pause(rnd.expovariate(1 / think))
                continue
            body, headers, method = None, {"Accept-Encoding": "gzip"}, "GET"
            if kind == "static":
                path, expected = rnd.choice(paths), 200
            elif kind == "search":
                query = rnd.choice(BEFORE) + rnd.choice(QUERIES) + rnd.choice(AFTER)
                path, expected = f"/api/search?q={quote(query)}&limit=10", 200
            else:
                method, path, expected = "POST", "/api/feedback", 202
                body = json.dumps({"article": rnd.choice(articles), "helpful": rnd.random() < 0.7,
                                   "comment": rnd.choice(COMMENTS)}, ensure_ascii=False).encode("utf-8")
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as err:
                status = f"{type(err).__name__}: {err}"
                conn.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == expected:
                    results[kind].append(elapsed)
                    results["searches_ok" if kind == "search" else "votes_ok"] += kind != "static"
                else:
                    results["errors"] += 1
                    if len(results["error_samples"]) < 5:
                        results["error_samples"].append(f"{method} {path[:60]} → {status}")
            pause(rnd.expovariate(1 / think))
        conn.close()

    threads = [threading.Thread(target=caller, args=(first + i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def drive(base: str, clients: int, duration: float, think: float, paths: list[str], articles: list[str],
          baseline: bool, during=None) -> dict:
    """The callers for `duration` seconds. With `during`, a function run meanwhile: the load
    goes on until `duration` has passed and until TAIL seconds after it has returned (at
    most SWAP_LIMIT seconds more). The result's "seconds" is how long the load lasted."""
    host, port = base.split("//")[1].rstrip("/").split(":")
    started = time.time()
    deadline = started + duration + (SWAP_LIMIT + 10 if during else 0)
    per = [clients // LOAD_PROCESSES + (i < clients % LOAD_PROCESSES) for i in range(LOAD_PROCESSES)]
    with tempfile.TemporaryDirectory(prefix="serve-bench-stop-") as folder:
        stop_file = os.path.join(folder, "stop") if during else None
        jobs = [(host, int(port), sum(per[:i]), n, deadline, stop_file, think, paths, articles, baseline, i + 1)
                for i, n in enumerate(per) if n]
        with multiprocessing.Pool(len(jobs)) as pool:
            pending = pool.map_async(run_callers, jobs)
            ended = deadline
            if during:
                try:
                    during()
                finally:
                    time.sleep(max(TAIL, started + duration - time.time()))
                    Path(stop_file).touch()
                    ended = time.time()
            parts = pending.get()
    merged = {k: ([] if isinstance(v, list) else 0) for k, v in parts[0].items()}
    for part in parts:
        for k, v in part.items():
            merged[k] += v
    merged["seconds"] = ended - started
    return merged


# -- the rebuilds under load ---------------------------------------------------------------

def rebuild_steps(project: Path, article: Path, log: list[str]):
    """SWAP_STEPS as a function for drive(): each step's command, its time, in `log`."""
    def run() -> None:
        time.sleep(SWAP_START)
        deadline = time.monotonic() + SWAP_LIMIT
        for n, (edit, command) in enumerate(SWAP_STEPS, 1):
            if edit:
                with article.open("a", encoding="utf-8") as f:
                    f.write(f"\n\n压测中重建，第 {n} 步：swapbench{n}\n")
            started = time.monotonic()
            # At a lower priority, as the README advises for rebuilding on the serving machine:
            # callers' requests come first, the build takes the time that is left.
            done = subprocess.run(["nice", "-n", str(BUILD_NICE), KB, *command.split(), "--project", str(project)],
                                  capture_output=True, text=True,
                                  timeout=max(1.0, deadline - started))
            if done.returncode != 0:
                raise SystemExit(f"kb {command} 失败：{done.stderr.strip()[-500:]}")
            log.append(f"kb {command} {time.monotonic() - started:.1f} s")
    return run


def reloaded(base: str, article_id: str, word: str) -> bool:
    """Whether the server sends the article's last text, and finds it by `word`."""
    host, port = base.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", f"/kb/{article_id}/")
        page = conn.getresponse().read().decode("utf-8")
        conn.request("GET", f"/api/search?q={word}&limit=1")
        hits = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return word in page and [h["id"] for h in hits] == [article_id]


def stored_events(project: Path) -> tuple[int, int]:
    """(searches, votes) in the event store."""
    with sqlite3.connect(project / "docs" / "_data" / "events.sqlite") as db:
        return (db.execute("SELECT count(*) FROM searches").fetchone()[0],
                db.execute("SELECT count(*) FROM votes").fetchone()[0])


def serve_phase(project: Path, args, paths: list[str], articles: list[str], during=None, after=None) -> dict:
    """One `kb serve` under the callers, stopped with SIGTERM; with its lost events (what it
    accepted against what is in the store afterwards) and what `after` (called with the
    server's address before it stops, its searches not counted) returned."""
    before = stored_events(project) if (project / "docs" / "_data" / "events.sqlite").exists() else (0, 0)
    server, base = start([KB, "serve", "--project", str(project), "--port", "0"], r"(http://[\d.:]+)/")
    try:
        request_warmup(base)
        result = drive(base, args.clients, args.duration, args.think, paths, articles, baseline=False, during=during)
        result["after"] = after(base) if after else None
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    searches, votes = stored_events(project)
    result["stored"] = (searches - before[0] - 1 - (after is not None)) + (votes - before[1])  # not the warm-up's
    result["accepted"] = result["searches_ok"] + result["votes_ok"]
    result["lost"] = result["accepted"] - result["stored"]
    result["said"] = out.strip().splitlines()[-1] if out.strip() else err.strip()[-200:]
    return result


# -- report ------------------------------------------------------------------------------

def summary(result: dict, duration: float) -> dict:
    out = {"errors": result["errors"], "error_samples": result["error_samples"]}
    for kind in ("static", "search", "feedback"):
        values = result[kind]
        out[kind] = {"requests": len(values), "per_second": round(len(values) / duration, 1),
                     "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
                     "p99_ms": percentile(values, 99)}
    return out


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="simulated callers at once (default 200)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load per server (default 30)")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between a caller's requests (default 2)")
    parser.add_argument("--quick", action="store_true", help="50 callers for 8 s per server")
    parser.add_argument("--no-swaps", dest="swaps", action="store_false",
                        help="skip the phase where kb build and kb index swap the site and index under load")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.duration = 50, 8
    if args.clients < 1 or args.duration <= 0 or args.think <= 0:
        parser.error("--clients, --duration and --think must be positive")
    if args.clients > 250 * 250:
        parser.error("--clients: at most 62,500 (one loopback address each)")

    steps: list[str] = []
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        project = Path(tmp)
        print(f"building the sample in {project} …", file=sys.stderr)
        build_sample(project)
        site = project / "site"
        paths = site_paths(site)
        articles = sorted(p.name for p in (site / "kb").iterdir() if re.fullmatch(r"KB-\d{4}", p.name)
                          and "http-equiv=\"refresh\"" not in (p / "index.html").read_text(encoding="utf-8")[:3000])

        print(f"kb serve: {args.clients} callers × {args.duration:g} s …", file=sys.stderr)
        kb = serve_phase(project, args, paths, articles)
        swaps = None
        if args.swaps:
            edited = articles[0]
            article = next(project.glob(f"kb_articles/**/{edited}-*.md"))
            word = f"swapbench{max(n for n, (edit, _) in enumerate(SWAP_STEPS, 1) if edit)}"
            print(f"kb serve while {', '.join('kb ' + c for _, c in SWAP_STEPS)} run: {args.clients} callers × "
                  f"≥ {args.duration:g} s …", file=sys.stderr)
            swaps = serve_phase(project, args, paths, articles, during=rebuild_steps(project, article, steps),
                                after=lambda base: reloaded(base, edited, word))

        print(f"http.server: {args.clients} callers × {args.duration:g} s …", file=sys.stderr)
        plain, base = start([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(site)],
                            r"port (\d+)")
        try:
            baseline = drive(f"http://127.0.0.1:{base}", args.clients, args.duration, args.think, paths, articles,
                             baseline=True)
        finally:
            plain.terminate()
            plain.communicate(timeout=30)

    runs = [("kb serve", kb), *([("kb serve, 2 builds", swaps)] if swaps else []), ("http.server", baseline)]
    sums = {name: summary(result, result["seconds"]) for name, result in runs}

    def row(label: str, value, target: str = "", kb_only: bool = False) -> tuple[str, ...]:
        return (label, *("—" if kb_only and name == "http.server" else value(name, result) for name, result in runs),
                target)
    rows = [
        row("seconds of load", lambda n, r: f"{r['seconds']:.0f}"),
        row("errors", lambda n, r: str(sums[n]["errors"]), "0"),
        row("static requests/s", lambda n, r: f"{sums[n]['static']['per_second']}"),
        row("static p50 ms", lambda n, r: fmt(sums[n]["static"]["p50_ms"])),
        row("static p95 ms", lambda n, r: fmt(sums[n]["static"]["p95_ms"]), f"≤ {TARGETS_MS['static']}"),
        row("search requests/s", lambda n, r: f"{sums[n]['search']['per_second']}", kb_only=True),
        row("search p50 ms", lambda n, r: fmt(sums[n]["search"]["p50_ms"]), kb_only=True),
        row("search p95 ms", lambda n, r: fmt(sums[n]["search"]["p95_ms"]), f"≤ {TARGETS_MS['search']}", kb_only=True),
        row("feedback p95 ms", lambda n, r: fmt(sums[n]["feedback"]["p95_ms"]), kb_only=True),
        row("events accepted", lambda n, r: str(r["accepted"]), kb_only=True),
        row("events stored", lambda n, r: str(r["stored"]), kb_only=True),
        row("lost events", lambda n, r: str(r["lost"]), "0", kb_only=True),
    ]
    if swaps:
        rows.append(row("site and index reloaded", lambda n, r: "—" if r["after"] is None else
                        ("yes" if r["after"] else "NO"), "yes", kb_only=True))
    header = ("", *(name for name, _ in runs), "target")
    print(f"\n{args.clients} callers, {args.duration:g} s each, think time {args.think:g} s (mean); "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    if steps:
        print(f"under load (kb serve, 2 builds), one after the other, at nice {BUILD_NICE}: {'; '.join(steps)}")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    for name, _ in runs:
        for sample in sums[name]["error_samples"]:
            print(f"error ({name}): {sample}")
    for name, result in runs[:-1]:
        print(f"{name} said: {result['said']}")
    OUT_DIR.mkdir(exist_ok=True)
    result = {"date": dt.date.today().isoformat(), "clients": args.clients, "duration": args.duration,
              "think": args.think, "cores": os.cpu_count(), "kb_serve": sums["kb serve"], "http_server": sums["http.server"],
              "events": {k: kb[k] for k in ("accepted", "stored", "lost")}}
    if swaps:
        result["kb_serve_swaps"] = {**sums["kb serve, 2 builds"], "seconds": round(swaps["seconds"], 1),
                                    "steps": steps, "reloaded": swaps["after"],
                                    "events": {k: swaps[k] for k in ("accepted", "stored", "lost")}}
    (OUT_DIR / "serve_bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


def request_warmup(base: str) -> None:
    """One search before the clock starts: the first loads the model (about 0.4 s)."""
    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", "/api/search?q=%E5%85%AC%E6%96%87")
    conn.getresponse().read()
    conn.close()


if __name__ == "__main__":
    main()
