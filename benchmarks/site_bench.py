"""Site build benchmark: what the kb plugin costs next to a plain `mkdocs build`.

For each size (default 300, 1,000 and 3,000 articles) this script
  1. makes a project with `kb.scaffold.init_project`, widens the kb plugin's `modules`
     list in mkdocs.yml to ten modules and writes generated articles into
     kb_articles/<module>/ (realistic Chinese support text made from phrase fragments,
     combined deterministically with random.Random; every article passes `kb check`);
  2. makes a plain MkDocs project with the same theme settings (Material, incl.
     navigation.prune), the same Markdown extensions, the search plugin with lang zh and
     a nav holding only index.md, and writes the SAME article bodies as docs/kb/KB-xxxx.md
     (with the title as H1 and `(KB-0007)` links spelt `(KB-0007.md)`);
  3. builds each project in a fresh process: `kb.build.build_site(project, "public")` and
     MkDocs' own `load_config` + `build` for the plain one.

Each build runs as a grandchild of this script: a small runner process starts the build
process, waits for it and reads resource.getrusage(RUSAGE_CHILDREN), so the peak RSS
is that of one build only. Build times are taken inside the build process around the
build call; interpreter start-up, imports and loading jieba's dictionary (a fixed cost
per build, the same for both) are reported separately below the table.

Usage: .venv/bin/python benchmarks/site_bench.py [--sizes 300,1000,3000 | --quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"  # git-ignored
DEFAULT_SIZES = (300, 1000, 3000)
QUICK_SIZES = (50, 200)
RESULT_PREFIX = "BENCH_RESULT "

# --------------------------------------------------------------------------------------
# Generated content: phrase fragments combined with a per-article random.Random, so an
# article's text depends only on (seed, number) and smaller sets are prefixes of larger.
# --------------------------------------------------------------------------------------

# (module name, slug, product error-code prefix, owner, user actions)
MODULES = (
    ("公文流转", "document", "DOC", "公文产品组", ("发送公文", "签收来文", "公文转版生成 OFD")),
    ("流程审批", "workflow", "WF", "流程产品组", ("提交审批单", "加签转办", "批量审批")),
    ("邮件", "mail", "MAIL", "邮件产品组", ("发送外部邮件", "收取邮件", "添加大附件")),
    ("通讯录", "contacts", "ADDR", "基础平台组", ("同步组织机构", "导出通讯录", "查询人员")),
    ("日程会议", "calendar", "CAL", "协同产品组", ("预定会议室", "发送会议通知", "同步日程")),
    ("文档附件", "files", "FILE", "文档产品组", ("上传附件", "在线编辑正文", "下载附件")),
    ("移动端", "mobile", "MOB", "移动产品组", ("移动端登录", "移动端审批", "接收推送消息")),
    ("登录与账号", "account", "AUTH", "基础平台组", ("用户名密码登录", "UKey 证书登录", "修改密码")),
    ("打印与套红", "print", "PRN", "公文产品组", ("套红打印", "加盖电子印章", "批量打印")),
    ("系统管理", "admin", "SYS", "运维服务组", ("导入组织架构", "执行数据备份", "升级补丁包")),
)

# (error code, message as shown, what it means, likely causes, administrator fixes)
ERRORS = (
    ("HTTP 500", "内部服务器错误", "应用服务器处理请求时抛出了未捕获的异常",
     ("正文含超大图片或大量未接受的修订，处理超时", "数据目录所在磁盘已满或没有写权限"),
     ("执行 `df -h` 检查数据分区，清理或扩容，并确认目录属主为 Tomcat 运行账号",
      "将 `server.xml` 中的 `connectionTimeout` 调整为 120000 后重启应用服务")),
    ("HTTP 502", "网关错误", "前置 Nginx 没有从应用服务器收到有效响应",
     ("应用服务器进程已退出或正在重启", "Nginx 的 `proxy_read_timeout` 小于业务处理时间"),
     ("执行 `systemctl status oa-tomcat` 确认应用服务在运行", "将 Nginx 的 `proxy_read_timeout` 调整为 300s 并执行 `nginx -s reload`")),
    ("HTTP 403", "禁止访问", "当前账号没有该功能或该数据的访问权限",
     ("用户调岗后角色没有同步", "管理员收回了模块授权但用户会话仍在使用旧令牌"),
     ("在 系统管理 → 角色权限 中核对该用户的角色和数据范围", "清除该用户的会话缓存后让其重新登录")),
    ("ORA-12541", "TNS: 无监听程序", "应用服务器连不上 Oracle 数据库的监听",
     ("数据库服务器重启后监听没有自动启动", "防火墙策略变更后 1521 端口被阻断"),
     ("在数据库服务器上执行 `lsnrctl status`，未启动时执行 `lsnrctl start`", "在应用服务器上执行 `tnsping ORCL` 验证连通后重启应用服务")),
    ("ORA-01017", "用户名/口令无效", "数据源配置中的数据库口令与数据库中的不一致",
     ("DBA 按安全策略修改了口令，但没有同步到应用配置", "口令过期策略导致账号口令失效"),
     ("按 DBA 提供的新口令修改 `jdbc.properties` 中的 `jdbc.password`（加密后填写）", "确认数据库账号未被锁定：`select account_status from dba_users`")),
    ("ORA-00060", "等待资源时检测到死锁", "两个事务以相反的顺序锁定了同一批记录",
     ("定时任务与用户操作同时更新同一张业务表", "批量操作一次提交的记录过多"),
     ("在 系统管理 → 定时任务 中把统计任务改到夜间执行", "将批量操作的单次数量由 500 调整为 100")),
    ("0x80070005", "拒绝访问", "客户端控件没有写入本地目录或注册表的权限",
     ("Windows 账户不是本机管理员，控件无法注册", "杀毒软件拦截了控件的写入操作"),
     ("以管理员身份运行客户端安装包，重新注册控件", "在杀毒软件中将 `C:\\Program Files\\OAClient` 加入信任目录")),
    ("0x80004005", "未指定的错误", "Office 组件调用失败，通常是 WPS/Office 安装不完整",
     ("同时安装了 WPS 和 Microsoft Office，默认程序关联冲突", "Office 组件在升级过程中被中断"),
     ("在客户端“控制面板 → 程序”中修复 Office 安装", "在 系统管理 → 客户端设置 中指定默认编辑器为 WPS")),
    ("550 5.7.1", "拒绝中继", "对方邮件服务器拒绝接收本系统转发的邮件",
     ("本系统出口 IP 没有配置反向解析或 SPF 记录", "外发邮件走的中继服务器要求 SMTP 认证"),
     ("在 DNS 中为出口 IP 添加 PTR 记录和 SPF 记录", "在 系统管理 → 邮件设置 中开启 SMTP 认证并填写中继账号")),
)

ROLES = ("拟稿人", "普通用户", "部门收发员", "领导秘书", "系统管理员")
CLIENTS = ("Web 端（Chrome 浏览器）", "Web 端（IE 11 兼容模式）", "Windows 客户端", "移动端 App", "政务微信")
SERVERS = ("Tomcat 8.5 应用服务器", "WebLogic 12c 应用服务器", "东方通 TongWeb 7 应用服务器")
DATABASES = ("Oracle 11g 数据库", "Oracle 19c 数据库", "达梦 DM8 数据库", "人大金仓 KingbaseES V8 数据库")
VERSIONS = ("V7.5", "V8.0", "V8.1", "V8.2", "V8.3")
LOGS = ("/opt/oa/tomcat/logs/catalina.out", "/opt/oa/logs/app.log", "/var/log/nginx/error.log")
EXTRA_SYMPTOMS = (
    "刷新页面后操作仍停留在原状态",
    "同一部门其他同事操作正常",
    "上午 9 点前后集中出现，其余时段偶发",
    "重新登录后第一次操作可以成功，之后再次报错",
    "换用另一台电脑后问题依旧",
)
USER_FIXES = (
    "清除浏览器缓存（Ctrl+Shift+Delete）后重新登录，再次操作。",
    "退出客户端并在任务栏确认进程已结束，然后重新打开客户端。",
    "换用 Chrome 浏览器访问，或将本系统地址加入 IE 的兼容性视图。",
    "确认本机网络正常：打开系统首页，能看到待办数量即为正常。",
    "将正文中的大图片压缩后重新插入，并接受所有修订后保存。",
    "记下页面上的错误代码和发生时间，截图发给本单位系统管理员。",
)
ESCALATION = (
    "请准备：报错页面截图（含错误代码）、发生时间点（精确到分钟）、操作的账号和所用客户端。",
    "请准备：应用服务器日志中该时间段的内容、数据库告警日志，以及最近一次变更的记录。",
    "请准备：问题出现的范围（个别用户还是全部用户）、复现步骤和已经尝试过的处理办法。",
)


@dataclass(frozen=True)
class GeneratedArticle:
    id: str
    title: str
    slug: str
    front_matter: dict
    body: str  # Markdown body; links to other articles are written `(KB-0007)`


def generate_articles(count: int, seed: int) -> list[GeneratedArticle]:
    """Articles KB-0001 … KB-<count>, spread round-robin over the ten modules."""
    articles: list[GeneratedArticle] = []
    for number in range(1, count + 1):
        rng = random.Random(f"{seed}-{number}")
        name, slug, prefix, owner, actions = MODULES[(number - 1) % len(MODULES)]
        code, message, meaning, causes, admin_fixes = rng.choice(ERRORS)
        action, role, client = rng.choice(actions), rng.choice(ROLES), rng.choice(CLIENTS)
        product_code = f"{prefix}-{rng.randint(1000, 9999)}"
        first = rng.randrange(len(VERSIONS) - 1)
        versions = list(VERSIONS[first:first + rng.randint(1, 3)])
        updated = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
        article_id = f"KB-{number:04d}"
        title = f"{action}时提示“{code} {message}”"
        symptoms = [f"{action}时页面提示“{code} {message}”", f"错误详情中显示错误代码 {product_code}"]
        if rng.random() < 0.6:
            symptoms.append(rng.choice(EXTRA_SYMPTOMS))

        body = [
            "## 现象\n",
            f"{role}在{client}中{action}，页面弹出“{code} {message}”，展开详情可见错误代码 "
            f"{product_code}。{rng.choice(EXTRA_SYMPTOMS)}。\n",
            "## 适用范围/环境\n",
            f"- 产品版本 {'、'.join(versions)}，{client}",
            f"- {rng.choice(SERVERS)}，{rng.choice(DATABASES)}\n",
            "## 原因\n",
            f"{code} 表示{meaning}；{product_code} 是{name}模块记录的对应业务错误。常见情况：\n",
            f"1. {causes[0]}；",
            f"2. {causes[1]}。\n",
            "## 解决办法\n",
            "### 用户操作\n",
            *(f"{i}. {fix}" for i, fix in enumerate(rng.sample(USER_FIXES, 2), 1)),
            "",
            "### 管理员操作\n",
            f"1. 在 `{rng.choice(LOGS)}` 中搜索 `{product_code}`，确认异常发生的时间和账号。",
            f"2. {admin_fixes[0]}。",
            f"3. {admin_fixes[1]}。",
        ]
        if articles and rng.random() < 0.4:
            other = articles[rng.randrange(len(articles))]
            body += ["", f"相关问题见 [{other.title}]({other.id})。"]
        if rng.random() < 0.5:
            body += ["", "## 仍未解决？\n", rng.choice(ESCALATION)]

        front_matter = {
            "id": article_id,
            "title": title,
            "module": name,
            "symptoms": symptoms,
            "audience": "public",
            "status": "validated",
            "applies_to": versions,
            "updated": updated.isoformat(),
            "review_by": (updated + dt.timedelta(days=180)).isoformat(),
            "owner": owner,
        }
        articles.append(GeneratedArticle(article_id, title, slug, front_matter, "\n".join(body) + "\n"))
    return articles


# --------------------------------------------------------------------------------------
# The two projects
# --------------------------------------------------------------------------------------

def vendor_project(root: Path) -> None:
    """`kb init` for a made-up vendor, with the promised hours and services it would then
    fill in (kb check reports them, and kb build refuses, until they are)."""
    from kb.scaffold import Vendor, init_project, parse_hotline

    init_project(root, Vendor("基准测试单位", (parse_hotline("服务热线=400-000-0000=工作日"),), "https://kb.bench.test/"))
    path = root / "docs" / "_data" / "commitments.yml"
    hours = {"故障响应承诺小时数": "1", "故障排除承诺小时数": "4", "现场到场承诺小时数": "2"}
    path.write_text(re.sub(r"〔待填写：([^〕]+)〕", lambda m: hours.get(m.group(1), m.group(1)),
                           path.read_text(encoding="utf-8")), encoding="utf-8")


def make_kb_project(root: Path, articles: list[GeneratedArticle]) -> None:
    """`kb init`, ten modules in mkdocs.yml, one file per article under kb_articles/<module>/."""
    import yaml
    from kb.checks import check_project
    from kb.project import Project

    vendor_project(root)
    config_path = root / "mkdocs.yml"
    text = config_path.read_text(encoding="utf-8")
    # Replace the template's module list (kept as text so the !ENV tag survives).
    pattern = re.compile(r"^(?P<indent>[ \t]+)modules:\n(?:(?P=indent)[ \t]+- .*\n)+", re.M)
    match = pattern.search(text)
    if match is None:
        sys.exit(f"{config_path}: no kb `modules:` list found to replace")
    indent = match.group("indent")
    modules = "".join(f"{indent}  - {{name: {name}, slug: {slug}}}\n" for name, slug, *_ in MODULES)
    config_path.write_text(text[:match.start()] + f"{indent}modules:\n{modules}" + text[match.end():], encoding="utf-8")

    for article in articles:
        folder = root / "kb_articles" / article.slug
        folder.mkdir(parents=True, exist_ok=True)
        front = yaml.safe_dump(article.front_matter, allow_unicode=True, sort_keys=False)
        (folder / f"{article.id}.md").write_text(f"---\n{front}---\n\n{article.body}", encoding="utf-8")

    project = Project.load(root)
    problems = check_project(project)
    if problems or len(project.modules) != len(MODULES) or len(project.articles) != len(articles):
        shown = "\n".join(map(str, problems[:10]))
        sys.exit(f"generated kb project does not pass the checks ({len(problems)} problems):\n{shown}")


def make_plain_project(root: Path, kb_root: Path, articles: list[GeneratedArticle]) -> None:
    """Plain MkDocs: the kb project's theme, extensions and site settings, search (zh) only,
    a one-page nav, and the same bodies as docs/kb/KB-xxxx.md."""
    import yaml
    from kb.project import read_mkdocs_yml

    kb_config = read_mkdocs_yml(kb_root / "mkdocs.yml")
    if "navigation.prune" not in kb_config["theme"].get("features", []):
        sys.exit("the scaffold's theme no longer enables navigation.prune; update this benchmark")
    config = {key: kb_config[key] for key in ("site_name", "site_url", "strict", "use_directory_urls", "theme", "extra",
                                              "markdown_extensions") if key in kb_config}
    config["plugins"] = [{"search": {"lang": "zh"}}]
    config["nav"] = [{"首页": "index.md"}]
    (root / "docs" / "kb").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "docs" / "index.md").write_text(f"# 自助服务中心\n\n共 {len(articles)} 篇故障处理文章。\n", encoding="utf-8")
    link = re.compile(r"\]\((KB-\d{4,})\)")
    for article in articles:
        body = link.sub(r"](\1.md)", article.body)
        (root / "docs" / "kb" / f"{article.id}.md").write_text(f"# {article.title}\n\n{body}", encoding="utf-8")


# --------------------------------------------------------------------------------------
# Measuring: parent → runner (reads RUSAGE_CHILDREN) → build process
# --------------------------------------------------------------------------------------

def build_process(kind: str, root: Path) -> None:
    """Grandchild: import and warm up everything first, then time only the build."""
    import jieba
    import material.plugins.search.plugin  # noqa: F401
    import material.plugins.tags.plugin  # noqa: F401
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    jieba.setLogLevel(60)
    jieba.initialize()
    if kind == "kb":
        from kb.build import build_site
        from kb.project import Project
        import kb.site.plugin  # noqa: F401

        start = time.perf_counter()
        build_site(Project.load(root), "public")
    else:
        start = time.perf_counter()
        build(load_config(str(root / "mkdocs.yml")))
    print(RESULT_PREFIX + json.dumps({"build_s": time.perf_counter() - start}), flush=True)


def runner_process(kind: str, root: Path) -> None:
    """Child: run one build process; its peak RSS is the only one in RUSAGE_CHILDREN."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "_build", kind, str(root)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"{kind} build failed (exit {proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1].removeprefix(RESULT_PREFIX))
    result["wall_s"] = wall
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def measure(kind: str, root: Path) -> dict:
    """Build `root` once in a fresh process tree; returns build_s, wall_s, rss_mb, site_mb."""
    shutil.rmtree(root / "site", ignore_errors=True)  # same starting point for both builds
    proc = subprocess.run([sys.executable, __file__, "_run", kind, str(root)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr or proc.stdout)
    result = json.loads(proc.stdout.strip().splitlines()[-1].removeprefix(RESULT_PREFIX))
    result["site_mb"] = tree_size(root / "site") / 2**20
    return result


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_size(workdir: Path, count: int, repeat: int, seed: int) -> dict:
    articles = generate_articles(count, seed)
    kb_root, plain_root = workdir / f"kb-{count}", workdir / f"plain-{count}"
    make_kb_project(kb_root, articles)
    make_plain_project(plain_root, kb_root, articles)
    runs = {"kb": [], "plain": []}
    for _ in range(repeat):
        for kind, root in (("kb", kb_root), ("plain", plain_root)):
            runs[kind].append(measure(kind, root))
    shutil.rmtree(kb_root)
    shutil.rmtree(plain_root)
    return {kind: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for kind, results in runs.items()}


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def print_header(sizes: list[int], repeat: int) -> None:
    from importlib.metadata import version

    print(f"kb site build benchmark — {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"mkdocs {version('mkdocs')}, mkdocs-material {version('mkdocs-material')}")
    print(f"Sizes {', '.join(f'{n:,}' for n in sizes)} articles over {len(MODULES)} modules; "
          f"{'median of ' + str(repeat) + ' runs' if repeat > 1 else 'single run'} per cell.")
    print("NOTE: these are 2-core, noisy machines: differences under ~15% are noise; use --repeat 3 or more.")
    print("kb = build_site(project, 'public') on a `kb init` project (incl. kb check); plain = mkdocs build of the "
          "same bodies, Material + search(zh), one-page nav.")
    print("Times are the build call only (see start-up below); site MB and peak RSS MB are kb / plain.\n", flush=True)


def print_table(results: dict[int, dict]) -> None:
    columns = ("articles", "kb build s", "plain mkdocs s", "ratio kb/plain", "kb s per 1,000",
               "site MB kb/plain", "peak RSS MB kb/plain")
    rows = []
    for count, r in results.items():
        kb, plain = r["kb"], r["plain"]
        rows.append((f"{count:,}", f"{kb['build_s']:.2f}", f"{plain['build_s']:.2f}",
                     f"{kb['build_s'] / plain['build_s']:.2f}", f"{kb['build_s'] / count * 1000:.2f}",
                     f"{kb['site_mb']:.1f} / {plain['site_mb']:.1f}", f"{kb['rss_mb']:.0f} / {plain['rss_mb']:.0f}"))
    print_aligned(columns, rows)


def print_aligned(columns, rows, left: int = 0) -> None:
    """One text table: the first `left` columns left-aligned, the others right-aligned.
    Shared by the benchmarks so their tables look alike."""
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]

    def line(cells) -> str:
        return "  ".join(v.ljust(w) if i < left else v.rjust(w) for i, (v, w) in enumerate(zip(cells, widths)))
    print(line(columns))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def remove_workdir(workdir: Path) -> None:
    """Delete a run's work folder, and benchmarks/out/ too once it is empty."""
    shutil.rmtree(workdir, ignore_errors=True)
    try:
        OUT_DIR.rmdir()
    except OSError:
        pass


def print_footer(results: dict[int, dict]) -> None:
    startup = {kind: statistics.median(r[kind]["wall_s"] - r[kind]["build_s"] for r in results.values())
               for kind in ("kb", "plain")}
    print(f"\nFixed start-up per build, not in the times above (interpreter, imports, jieba dictionary): "
          f"kb {startup['kb']:.1f} s, plain {startup['plain']:.1f} s")
    small, large = min(results), max(results)
    ratios = {kind: (results[large][kind]["build_s"] / large) / (results[small][kind]["build_s"] / small)
              for kind in ("kb", "plain")}
    worst = max(ratios.values())
    verdict = "linear (fixed costs amortised)" if worst < 0.95 else "linear" if worst <= 1.25 else "SUPER-LINEAR"
    print(f"Linearity: s/article at {large:,} ÷ s/article at {small:,} = kb {ratios['kb']:.2f}, "
          f"plain {ratios['plain']:.2f} (1.00 = linear, above ~1.25 = super-linear) → {verdict}")


def main() -> None:
    # Internal entry points for the measuring processes (see runner_process, build_process).
    if len(sys.argv) == 4 and sys.argv[1] in ("_run", "_build"):
        (runner_process if sys.argv[1] == "_run" else build_process)(sys.argv[2], Path(sys.argv[3]))
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                       help="comma-separated article counts (default: %(default)s)")
    group.add_argument("--quick", action="store_true", help=f"smoke run with sizes {QUICK_SIZES}")
    parser.add_argument("--repeat", type=int, default=1, help="builds per cell; the median is reported")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated articles")
    args = parser.parse_args()
    sizes = sorted(QUICK_SIZES if args.quick else {int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1 or sizes[-1] > 9999 or args.repeat < 1:
        parser.error("sizes must be 1–9999 articles and --repeat at least 1")

    print_header(sizes, args.repeat)
    OUT_DIR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="site-bench-", dir=OUT_DIR))
    try:
        results = {}
        for count in sizes:
            print(f"… {count:,} articles", file=sys.stderr, flush=True)
            results[count] = bench_size(workdir, count, args.repeat, args.seed)
    finally:
        remove_workdir(workdir)
    print_table(results)
    print_footer(results)


if __name__ == "__main__":
    main()
