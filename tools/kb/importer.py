"""`kb import`: migrate an existing Markdown knowledge base (DocFX flavour) into a KB project.

Each source article becomes one article file,
``<articles_dir>/imported/<module-slug>/<KB-nnnn>-<alias>.md``, in the project's format
(kb_articles/README.md) so that `kb check` passes on the result. Front matter of the source
is read with the project's own parser (`kb.articles.read_text` / `parse_front_matter`).

Mapping (source → article)
--------------------------
- ``title``: the front matter ``title``. When it starts with one of the file's own
  ``ms.custom`` rule ids ("611 日历共享", "8000045星日" — the authoring tool's rule names)
  the H1 is used instead (without the number if there is no H1); when there is no title
  the H1 is used. ``<a name>`` anchors and ``**`` are removed.
- ``updated``: ``ms.date`` (or ``date``), accepting ``MM/DD/YYYY``, ``M/D/YYYY``,
  ``YYYY-MM-DD`` and ``YYYY/MM/DD``; missing or invalid → ``ms.lasthandoff`` (the date the
  translation was last synced) → the file's modification date. Each fallback is counted.
- ``review_by``: ``updated`` + 365 days; if that is already in the past (it is for the
  whole Alchemy Insights corpus, dated 2020–2021) it is *today + 90 days*, so the imported
  articles form one review wave instead of being overdue from day one.
- ``audience``: ``public`` unless ``audience`` / ``ms.audience`` says internal, private,
  confidential or 内部. ``Admin`` / ``ITPro`` describe the reader, not confidentiality;
  ``ROBOTS: NOINDEX`` (on nearly every file: the articles are shown inside the product)
  is not treated as internal either. A re-import never turns an internal article public.
- ``status``: the ``status`` argument (default ``draft``: imported articles are reviewed
  on the internal site before they are published).
- ``module``: keywords (`MODULE_RULES`) scored over the title, the file stem's words,
  ``ms.service`` and ``products`` / ``ms.product`` / ``ms.prod``; the highest score wins,
  ties go to the earlier rule; no hit in those → the same rules over the start of the
  body; still nothing → 其他. (In Alchemy Insights ``ms.service`` is always
  ``o365-administration`` and ``ms.custom`` holds numeric rule ids, so the title and the
  stem carry the signal.) Modules missing from mkdocs.yml are appended to the ``kb``
  plugin's ``modules`` list by a text insertion after its last item (comments and
  ``!ENV`` tags stay as they are), verified by loading the file again.
- ``applies_to``: product names (`PRODUCTS`) found in the title, then the file stem, then
  the body, at most 4; none → the service's name (``o365-administration`` → Microsoft 365).
- ``symptoms`` (the corpus has no such field): 1–3 of the title, the first sentence of
  the first paragraph (8–80 characters, markup removed) and error codes found in the
  title or body (0x…, AADSTS…, SMTP 4.x.x/5.x.x status codes), each once.
- ``owner``: ``DEFAULT_OWNER`` (``ms.author`` / ``author`` are people, which the format
  forbids); kept on re-import once someone has set it.
- ``aliases``: the source file's stem, made URL-safe (NFKC, apostrophes and zero-width
  characters dropped, other characters → ``-``); on a clash with any id or alias in the
  project (compared case-insensitively) ``-2``, ``-3``… is appended and reported.
- ``source`` / ``source_sha256``: the source path relative to SRC_DIR and the SHA-256 of
  its bytes. The Article model ignores unknown fields.
- ids: fresh ``KB-nnnn`` after the highest id in the project, skipping numbers used as
  aliases (old ids are never reused), in the order of the sources' relative paths
  (top-level files first).

Body: ``## 现象`` (the title and the first paragraph, or its first sentence if long),
``## 适用范围/环境`` (products, the source service and reader), ``## 原因`` (a "原因"
paragraph, or the first sentence stating a cause — 原因是/这是因为/导致此问题… —, else
"（原文未单独说明原因）"), ``## 解决办法`` (the whole cleaned source body). Cleaning:
``<a name>`` anchors removed; the source H1 dropped (kept as ``###`` if it differs from
the title) and every other heading demoted below ``##``; inline base64 images →
"（图片已省略）"; relative (media/) images → "（图片已省略：说明）" (media is not copied);
external images → a link (the site makes no requests to other hosts); DocFX
``[!NOTE]``-style labels → bold Chinese labels, ``[!VIDEO url]`` → a link; bold debris
(``** 文本**``, ``**文本 **``, empty ``****``, ``**A****B**``) normalised; links to other
source articles (``/AlchemyInsights/<stem>``, ``<stem>.md``) → ``[文本](KB-nnnn)`` when
that article is in the project and may be linked, else plain text, as are other
relative links; external links are kept.

Skipped (reported with the reason): ``includes/`` folders, hidden or ``_`` files and
folders, README.md and toc.md, files that are not UTF-8 or have broken YAML, redirect
stubs, files with neither title nor H1, and templates: a body telling authors to use
"this file" as a template, or a file named "*template*" that still holds a placeholder
value such as ``(guid of old soc version if any)`` (a placeholder alone is not enough:
real articles were made from the template and kept it).

Re-import: articles already in the project are recognised by ``source`` (so re-run with
the same SRC_DIR). Same SHA-256 → unchanged, not touched (edits made after the import
stay). Changed → rewritten in place (same path) keeping id, aliases and owner; status
becomes the run's status again (changed content is reviewed again) and an internal
article stays internal. Sources that have disappeared are left alone. Links to articles
are resolved against the ids known at that run.

Writes: every file is written to a hidden temporary file beside it and moved into place
with os.replace (an interrupted run leaves whole files only; rerun to finish). Nothing is
written outside the articles folder and mkdocs.yml.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import posixpath
import re
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.articles import ALIAS_PATTERN, ID_PATTERN, parse_front_matter, read_text
from kb.project import Module, Project, plugin_options, read_mkdocs_yml

DEFAULT_OWNER = "导入待认领"
IMPORT_FOLDER = "imported"
NO_CAUSE = "（原文未单独说明原因）"
IMAGE_OMITTED = "（图片已省略）"

# (module name, preferred slug, English words matched against the words of the stem, the
# title and the other text, patterns searched (case-insensitively) in the title and the
# other text). "Office 365" / "Microsoft 365" are the whole suite and are neutralised first.
MODULE_RULES: tuple[tuple[str, str, frozenset[str], tuple[str, ...]], ...] = (
    ("许可与订阅", "licensing", frozenset(
        "license licenses licensing licence subscription subscriptions billing bill bills invoice invoices "
        "payment payments pay purchase buy renew renewal trial refund credit boleto vat tax".split()),
     ("许可", "订阅", "帐单", "账单", "付款", "计费", "购买", "发票", "续订", "试用", "退款", "信用卡", "税")),
    ("即时通讯与会议", "meetings", frozenset(
        "teams team skype meeting meetings call calls calling webinar lobby yammer chat live-event stream".split()),
     ("teams", "skype", "yammer", "会议", "通话", "呼叫", "直播", "聊天", "团队")),
    ("邮件", "mail", frozenset(
        "outlook exchange mailbox mailboxes mail email emails smtp dkim dmarc spf spam phish phishing inbox "
        "calendar antispam ndr pst autodiscover distribution hotmail owa".split()),
     ("outlook", "exchange", "hotmail", "邮件", "邮箱", "收件箱", "通讯组", "日历")),
    ("文档附件", "files", frozenset(
        "sharepoint onedrive file files folder folders library libraries document documents sync site sites "
        "hub onenote versioning workflow workflows".split()),
     ("sharepoint", "onedrive", "onenote", "(?<!配置)文件", "文档", "(?<!托管)网站", "同步", "笔记本", "工作流")),
    ("登录与账号", "account", frozenset(
        "signin sign login logon password passwords mfa aad azure-ad account accounts identity sso "
        "authentication adfs federation credentials".split()),
     ("azure ad", "azure active directory", "登录", "密码", "帐户", "账户", "账号", "帐号", "身份验证")),
    ("安全与合规", "security", frozenset(
        "security defender dlp compliance retention ediscovery audit alert alerts malware threat threats "
        "sensitivity label labels aip encryption quarantine hunting attack".split()),
     ("defender", "安全", "合规", "保留", "审核", "电子数据展示", "恶意软件", "威胁", "敏感度", "加密", "隔离")),
    ("设备与系统", "devices", frozenset(
        "windows surface intune device devices bitlocker printer edge driver drivers bluetooth battery "
        "screen keyboard mouse autopilot".split()),
     ("windows", "surface", "intune", "edge", "设备", "打印", "驱动", "蓝牙", "电池", "屏幕", "键盘")),
    ("办公应用", "office-apps", frozenset(
        "word excel powerpoint visio project office install activate activation forms planner "
        "publisher".split()),
     (r"\bword\b", "excel", "powerpoint", "visio", "office", "安装", "激活")),
)
_SUITE = re.compile(r"(?:office|microsoft)[\s-]?365|\bm365\b|\bo365\b", re.I)
_MODULE_PATTERNS = [re.compile(rx, re.I) for _, _, _, rxs in MODULE_RULES for rx in rxs]
OTHER_MODULE = ("其他", "other")

# (display name, pattern) for applies_to and the 适用范围/环境 section.
PRODUCTS: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(rx, re.I)) for name, rx in (
    ("Microsoft 365", r"Microsoft 365|Office 365|\bO365\b|\bM365\b"),
    ("Outlook.com", r"Outlook[. ]com|Hotmail"),
    ("Outlook", r"Outlook(?![. ]com)"),
    ("Exchange Online", r"Exchange"),
    ("Microsoft Teams", r"\bTeams\b"),
    ("SharePoint Online", r"SharePoint"),
    ("OneDrive", r"OneDrive"),
    ("OneNote", r"OneNote"),
    ("Azure AD", r"Azure AD|Azure Active Directory|\bAAD\b"),
    ("Intune", r"Intune"),
    ("Microsoft Defender", r"Defender"),
    ("Windows", r"Windows"),
    ("Surface", r"Surface"),
    ("Microsoft Edge", r"\bEdge\b"),
    ("Word", r"\bWord\b"),
    ("Excel", r"\bExcel\b"),
    ("PowerPoint", r"PowerPoint"),
    ("Skype for Business", r"Skype"),
    ("Yammer", r"Yammer"),
    ("Power BI", r"Power ?BI"),
    ("Power Automate", r"Power Automate|Microsoft Flow"),
    ("Power Apps", r"Power ?Apps"),
    ("Dynamics 365", r"Dynamics"),
    ("Project", r"\bProject\b"),
    ("Visio", r"Visio"),
    ("Planner", r"Planner"),
    ("Microsoft Forms", r"\bForms\b"),
    ("Microsoft Stream", r"\bStream\b"),
    ("Bookings", r"Bookings"),
    ("Azure", r"Azure(?! AD| Active Directory)"),
))
SERVICE_NAMES = {"o365-administration": "Microsoft 365"}
MAX_PRODUCTS = 4

# Front matter fields the mapping reads; every other field is counted as unmapped.
MAPPED_FIELDS = frozenset({
    "title", "ms.date", "date", "ms.lasthandoff", "audience", "ms.audience", "ms.service",
    "ms.custom", "products", "ms.product", "ms.prod",
})
INTERNAL_AUDIENCES = frozenset({"internal", "private", "confidential", "内部"})
DOCFX_LABELS = {"NOTE": "注意", "TIP": "提示", "IMPORTANT": "重要", "WARNING": "警告", "CAUTION": "小心"}

_ANCHOR = re.compile(r"<a\s+(?:name|id)\s*=\s*(['\"])[^'\"]*\1\s*(?:/>|>\s*</a>)", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# A fence line (no backtick after the opening run: ```code``` on one line is inline code).
_FENCE = re.compile(r"^\s*(?:`{3,}[^`]*|~{3,}.*)$")
# What kb.articles.find_sections treats as a fence: 现象 and 原因 must not contain it.
_LOOSE_FENCE = re.compile(r"^\s*(```|~~~)")
_HTML_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(['\"])(?P<src>[^'\"]*)\1[^>]*>", re.I)
_IMG_ALT = re.compile(r"\balt\s*=\s*(['\"])(?P<alt>[^'\"]*)\1", re.I)
_MD_LINK = re.compile(r'(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\(\s*(?P<target><[^>\n]*>|[^)\s]*)(?P<title>\s+"[^"\n]*")?\s*\)')
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:|^//", re.I)
_DOCFX_LABEL = re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.I)
_DOCFX_VIDEO = re.compile(r"\[!VIDEO\s+(\S+?)\s*\]", re.I)
_STARS = re.compile(r"(?<!\\)\*+")
_CODE_SPAN = re.compile(r"`+[^`\n]*`+")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|#|>|\|)")
_RULE_ID = re.compile(r"^(\d+)[\s-]*")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_CAUSE_LABEL = re.compile(r"^\s*(?:\*\*)?\s*(?:问题|根本|可能的)?原因\s*(?:(?:\*\*)?\s*[:：]\s*(?:\*\*)?|\*\*|$)\s*(?P<rest>.*)$")
_CAUSE_PHRASE = re.compile(r"原因是|原因为|这是因为|此问题是由于|问题是由于|错误是由于|导致此问题|导致此错误|导致该问题|常见原因|可能原因")
_ERROR_CODES = re.compile(r"\b0x[0-9A-Fa-f]{8}\b|\bAADSTS\d{5,}\b|(?<![\w./-])[45]\.[0-7]\.\d{1,3}(?![\w.])")
_PLACEHOLDER = re.compile(r"^\(.*\b(?:if any|guid|tbd|placeholder|optional|your)\b.*\)$|^<[^<>]+>$|^\{\{.*\}\}$|^(?:TBD|TODO|XXX+)$", re.I)
_TEMPLATE_TEXT = re.compile(r"(?:此文件|本文件|this file).{0,40}(?:模板|template)", re.I)


class ImportRefused(Exception):
    """The import cannot start (or mkdocs.yml cannot be updated); the message says why."""


@dataclass
class ImportedArticle:
    id: str
    source: str
    path: str          # relative to the project root
    title: str
    module: str
    action: str        # imported | updated | unchanged

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ImportReport:
    src_dir: str
    total: int = 0                                                    # Markdown files found
    articles: list[ImportedArticle] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)      # (source, reason)
    unmapped_fields: Counter = field(default_factory=Counter)         # field → files
    fallbacks: Counter = field(default_factory=Counter)               # what could not be mapped → files
    modules: Counter = field(default_factory=Counter)                 # module → articles written
    modules_added: list[Module] = field(default_factory=list)
    duplicate_titles: dict[str, list[str]] = field(default_factory=dict)
    alias_collisions: list[tuple[str, str]] = field(default_factory=list)  # (source, alias given)
    dropped_images: Counter = field(default_factory=Counter)          # base64 | media | external-linked
    links: Counter = field(default_factory=Counter)                   # article | unlinked
    seconds: float = 0.0

    def _count(self, action: str) -> int:
        return sum(1 for a in self.articles if a.action == action)

    @property
    def imported(self) -> int:
        return self._count("imported")

    @property
    def updated(self) -> int:
        return self._count("updated")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    def skipped_by_reason(self) -> Counter:
        return Counter(reason for _, reason in self.skipped)

    def to_dict(self) -> dict:
        return {
            "src_dir": self.src_dir,
            "total": self.total,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "skipped_by_reason": dict(self.skipped_by_reason()),
            "unmapped_fields": dict(self.unmapped_fields.most_common()),
            "fallbacks": dict(self.fallbacks.most_common()),
            "modules": dict(self.modules.most_common()),
            "modules_added": [{"name": m.name, "slug": m.slug} for m in self.modules_added],
            "duplicate_titles": self.duplicate_titles,
            "alias_collisions": [{"source": s, "alias": a} for s, a in self.alias_collisions],
            "dropped_images": dict(self.dropped_images),
            "links": dict(self.links),
            "seconds": round(self.seconds, 2),
            "articles": [a.to_dict() for a in self.articles],
        }

    def summary_lines(self) -> list[str]:
        lines = [f"导入来源：{self.src_dir}（Markdown 文件 {self.total} 个，用时 {self.seconds:.1f} 秒）",
                 f"新导入 {self.imported} 篇，更新 {self.updated} 篇，未变化 {self.unchanged} 篇，跳过 {len(self.skipped)} 个。"]
        for reason, count in self.skipped_by_reason().most_common():
            examples = [s for s, r in self.skipped if r == reason][:3]
            lines.append(f"  跳过 {count} 个：{reason}（如 {'、'.join(examples)}）")
        if self.modules_added:
            lines.append("mkdocs.yml 新增模块：" + "、".join(f"{m.name}（{m.slug}）" for m in self.modules_added))
        if self.modules:
            lines.append("写入的文章按模块：" + "、".join(f"{name} {n}" for name, n in self.modules.most_common()))
        images = self.dropped_images
        if images:
            lines.append(f"图片：内嵌 base64 图片已省略 {images['base64']} 张，相对路径（media/）图片已省略 {images['media']} 张"
                         f"（media 目录未复制），外部图片改为链接 {images['external']} 张。")
        if self.links:
            lines.append(f"文章间链接：改为 KB 编号 {self.links['article']} 个，无法对应而改为纯文本 {self.links['unlinked']} 个。")
        if self.duplicate_titles:
            n = sum(len(v) for v in self.duplicate_titles.values())
            sample = "、".join(f"“{t}”" for t in list(self.duplicate_titles)[:3])
            lines.append(f"重复标题：{len(self.duplicate_titles)} 个标题共 {n} 篇（均已导入），如 {sample}")
        if self.alias_collisions:
            sample = "、".join(f"{s} → {a}" for s, a in self.alias_collisions[:3])
            lines.append(f"别名冲突：{len(self.alias_collisions)} 个，已加后缀（如 {sample}）")
        if self.fallbacks:
            lines.append("未能直接映射：" + "；".join(f"{what} {n} 篇" for what, n in self.fallbacks.most_common()))
        if self.unmapped_fields:
            lines.append("未使用的原文字段：" + "、".join(f"{k} {n}" for k, n in self.unmapped_fields.most_common()))
        return lines


@dataclass
class _Existing:
    path: Path
    id: str
    aliases: list[str]
    source: str | None
    sha256: str | None
    status: str
    audience: str
    owner: str | None


@dataclass
class _Source:
    rel: str
    path: Path
    sha256: str
    data: dict
    body: str
    title: str = ""
    h1: str | None = None
    module: tuple[str, str] = OTHER_MODULE
    updated: dt.date | None = None
    audience: str = "public"
    existing: _Existing | None = None
    id: str = ""
    alias: str = ""
    status: str = ""


# Public entry point ------------------------------------------------------------------------

def import_articles(project: Project, src_dir: Path, status: str = "draft",
                    progress: Callable[[int, int], None] | None = None, *,
                    owner: str = DEFAULT_OWNER, today: dt.date | None = None) -> ImportReport:
    """Import every article under `src_dir` into `project` (see the module docstring).

    `progress(done, total)` is called after each source file is read and after each
    article is written (total = 2 × the number of Markdown files). `today` fixes the date
    used for review_by (tests). Raises ImportRefused when the import cannot start or
    mkdocs.yml cannot be updated; in that case no article has been written."""
    started = time.perf_counter()
    if status not in ("draft", "validated"):
        raise ImportRefused(f"status 只能是 draft 或 validated，不能是 {status!r}")
    today = today or dt.date.today()
    src_dir = Path(src_dir)
    if not src_dir.is_dir():
        raise ImportRefused(f"{src_dir}: 来源目录不存在")
    src_root, articles_dir = src_dir.resolve(), project.articles_dir.resolve()
    if src_root == articles_dir or articles_dir in src_root.parents or src_root in articles_dir.parents:
        raise ImportRefused(f"{src_dir}: 来源目录不能包含项目的文章目录，也不能在其中")

    report = ImportReport(src_dir=str(src_dir))
    existing, (highest_id, used_numbers), used_aliases = _scan_project(project)
    by_source = {}
    for item in existing:
        if item.source and item.source not in by_source:
            by_source[item.source] = item

    # Top-level files first, so they get the plain alias when a sub-folder has the same stem.
    candidates = sorted((p for p in src_root.rglob("*.md") if p.is_file()),
                        key=lambda p: (len(p.relative_to(src_root).parts), p.relative_to(src_root).as_posix()))
    report.total = len(candidates)
    steps, done = 2 * len(candidates), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, steps)

    # Pass 1: read and plan every source (titles, modules, ids) so links can be resolved.
    sources: list[_Source] = []
    for path in candidates:
        rel = path.relative_to(src_root).as_posix()
        source, reason = _read_source(path, rel)
        if source is not None and not _plan(source, report):
            source, reason = None, "没有标题（前置元数据无 title，正文无一级标题）"
        if source is None:
            report.skipped.append((rel, reason))
        else:
            source.existing = by_source.get(rel)
            sources.append(source)
        tick()
    for _ in report.skipped:  # nothing to write for these
        tick()

    next_id = highest_id + 1
    for source in sources:
        ex = source.existing
        if ex and ID_PATTERN.match(ex.id):
            source.id = ex.id
        else:  # new, or an earlier import whose id was broken by hand
            while next_id in used_numbers:  # an old id kept as an alias: never reuse it
                next_id += 1
            source.id = f"KB-{next_id:04d}"
            next_id += 1
        if ex and ex.aliases:
            source.alias = ex.aliases[0]
            continue
        base = _sanitise_alias(Path(_rel_stem(source.rel)).name)
        alias, n = base, 1
        while alias.lower() in used_aliases:
            n += 1
            alias = f"{base}-{n}"
        if alias != base:
            report.alias_collisions.append((source.rel, alias))
        used_aliases.add(alias.lower())
        source.alias = alias
    for source in sources:
        ex = source.existing
        if ex and ex.sha256 == source.sha256:
            source.status, source.audience = ex.status, ex.audience
        else:
            source.status = status
            if ex and ex.audience == "internal":
                source.audience = "internal"

    titles: dict[str, list[str]] = {}
    for source in sources:
        titles.setdefault(source.title, []).append(source.rel)
    report.duplicate_titles = {t: rels for t, rels in titles.items() if len(rels) > 1}

    # mkdocs.yml first: if it cannot be updated, nothing has been written.
    to_write = [s for s in sources if not (s.existing and s.existing.sha256 == s.sha256)]
    known = {m.name: m for m in project.modules}
    missing = []
    rule_order = [(name, slug) for name, slug, _, _ in MODULE_RULES] + [OTHER_MODULE]
    for name, slug in sorted(set(s.module for s in to_write), key=rule_order.index):
        if name not in known:
            taken = {m.slug for m in known.values()}
            final, n = slug, 1
            while final in taken:
                n += 1
                final = f"{slug}-{n}"
            known[name] = Module(name, final)
            missing.append(known[name])
    if missing:
        _add_modules(project, missing)
        report.modules_added = missing

    # Pass 2: render and write.
    linker = _Linker(src_root.name, sources, existing)
    for source in sources:
        ex = source.existing
        if ex and ex.sha256 == source.sha256:
            report.articles.append(ImportedArticle(source.id, source.rel, project.display(ex.path), source.title, source.module[0], "unchanged"))
            tick()
            continue
        if ex:
            target = ex.path
            aliases = ex.aliases or [source.alias]
            article_owner = ex.owner or owner
        else:
            target = project.articles_dir / IMPORT_FOLDER / known[source.module[0]].slug / f"{source.id}-{source.alias}.md"
            aliases = [source.alias]
            article_owner = owner
        resolved = target.resolve() if target.exists() else target.parent.resolve() / target.name
        if articles_dir not in resolved.parents:
            report.skipped.append((source.rel, f"目标文件 {target} 不在文章目录中，未写入"))
            tick()
            continue
        if not ex and target.exists():
            report.skipped.append((source.rel, f"目标文件 {project.display(target)} 已存在且不是导入的文章，未覆盖"))
            tick()
            continue
        text = _render(source, aliases, article_owner, today, linker, report)
        _write_atomic(target, text)
        action = "updated" if ex else "imported"
        report.articles.append(ImportedArticle(source.id, source.rel, project.display(target), source.title, source.module[0], action))
        report.modules[source.module[0]] += 1
        tick()

    # The caller's Project caches its article list and modules; refresh them.
    for cached in ("_parsed", "modules"):
        project.__dict__.pop(cached, None)
    report.seconds = time.perf_counter() - started
    return report


def _rel_stem(rel: str) -> str:
    return rel[:-3] if rel.lower().endswith(".md") else rel


# Reading -------------------------------------------------------------------------------------

def _scan_project(project: Project) -> tuple[list[_Existing], tuple[int, set[int]], set[str]]:
    """Existing articles (read with the project's front matter parser, so files that fail
    other checks still count), (highest id number, numbers used by ids or id-shaped
    aliases), and every id and alias lower-cased."""
    existing, ids, keys, highest = [], set(), set(), 0
    for path in project.article_paths():
        text, _ = read_text(path, str(path))
        if text is None:
            continue
        fm, _ = parse_front_matter(text, str(path))
        if fm is None:
            continue
        data = fm.data
        aliases = data.get("aliases") or []
        aliases = [str(a) for a in (aliases if isinstance(aliases, list) else [aliases])]
        article_id = str(data.get("id") or "").strip()
        for key in (article_id, *aliases):
            if key:
                keys.add(key.lower())
            if ID_PATTERN.match(key):
                ids.add(int(key[3:]))
        if ID_PATTERN.match(article_id):
            highest = max(highest, int(article_id[3:]))
        existing.append(_Existing(
            path=path, id=article_id, aliases=aliases,
            source=str(data["source"]) if data.get("source") else None,
            sha256=str(data["source_sha256"]) if data.get("source_sha256") else None,
            status=str(data.get("status") or "draft"), audience=str(data.get("audience") or "public"),
            owner=str(data["owner"]) if data.get("owner") else None,
        ))
    return existing, (highest, ids), keys


def _read_source(path: Path, rel: str) -> tuple[_Source | None, str]:
    parts = rel.split("/")
    if any(p.lower() in ("includes", "_includes") for p in parts[:-1]):
        return None, "includes 目录中的片段（被其他文章引用，不是独立文章）"
    if any(p.startswith((".", "_")) for p in parts):
        return None, "隐藏或以 _ 开头的文件/目录"
    if parts[-1].lower() in ("readme.md", "toc.md"):
        return None, "说明或目录文件（README/TOC）"
    raw = path.read_bytes()
    text, problems = read_text(path, rel)
    if text is None:
        return None, "不是 UTF-8 编码"
    fm, problems = parse_front_matter(text, rel)
    if fm is None:
        return None, f"前置元数据无法解析：{problems[0].message}（第 {problems[0].line} 行）"
    data = fm.data
    if data.get("redirect_url"):
        return None, "重定向文件（redirect_url）"
    if _is_template(path, data, fm.body):
        return None, "模板文件（占位内容）"
    return _Source(rel, path, hashlib.sha256(raw).hexdigest(), data, fm.body.replace("\r\n", "\n")), ""


def _is_template(path: Path, data: dict, body: str) -> bool:
    """Instructions to use "this file" as a template, or a file named like a template that
    still holds placeholder values. (A placeholder alone is not enough: real articles were
    created from the template and some kept its `ms.assetid: (guid of old soc version if any)`.)"""
    if _TEMPLATE_TEXT.search(body):
        return True
    if not re.search(r"template", path.stem, re.I):
        return False
    return any(isinstance(item, str) and _PLACEHOLDER.match(item.strip())
               for value in data.values() for item in (value if isinstance(value, list) else [value]))


def _plan(source: _Source, report: ImportReport) -> bool:
    """Title, module, updated date and audience of one source; counts what was not mapped.
    False if the source has no title at all (it is skipped)."""
    data = source.data
    h1 = None
    for line in _unfenced(source.body.split("\n")):
        if (m := _HEADING.match(line)) and len(m.group(1)) == 1:
            h1 = _clean_title(m.group(2))
            break
    source.h1 = h1 or None
    title = _clean_title(str(data.get("title") or ""))
    if not title and not source.h1:
        return False
    for key in data:
        if key not in MAPPED_FIELDS:
            report.unmapped_fields[key] += 1
    custom = {str(v).strip() for v in _as_list(data.get("ms.custom"))}
    if title and (m := _RULE_ID.match(title)) and m.group(1) in custom and (source.h1 or title[m.end():].strip()):
        report.fallbacks["title: 以规则编号开头，改用 H1"] += 1
        title = source.h1 or title[m.end():].strip()
    if not title:
        title = source.h1
        report.fallbacks["title: 缺失，改用 H1"] += 1
    source.title = title

    source.updated = _parse_date(data.get("ms.date") or data.get("date"))
    if source.updated is None:
        source.updated = _parse_date(data.get("ms.lasthandoff"))
        if source.updated is not None:
            report.fallbacks["updated: ms.date 缺失或无法识别，改用 ms.lasthandoff"] += 1
        else:
            source.updated = dt.date.fromtimestamp(source.path.stat().st_mtime)
            report.fallbacks["updated: 无日期字段，改用文件修改日期"] += 1

    audience = {str(data.get(k) or "").strip().lower() for k in ("audience", "ms.audience")}
    source.audience = "internal" if audience & INTERNAL_AUDIENCES else "public"

    extra = [str(data.get("ms.service") or ""), *map(str, _as_list(data.get("products") or data.get("ms.product") or data.get("ms.prod")))]
    module = _match_module(title, Path(source.rel).stem, " ".join(extra))
    if module is None:
        module = _match_module(source.body[:1500], "", "")
    if module is None:
        module = OTHER_MODULE
        report.fallbacks["module: 未识别，归入 其他"] += 1
    source.module = module
    return True


def _as_list(value) -> list:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _clean_title(text: str) -> str:
    text = _ANCHOR.sub("", text).replace("**", "")
    return re.sub(r"\s+", " ", text).strip()


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for rx, order in ((r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy"), (r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", "ymd")):
        if m := re.fullmatch(rx, text):
            a, b, c = map(int, m.groups())
            y, mo, d = (c, a, b) if order == "mdy" else (a, b, c)
            try:
                return dt.date(y, mo, d)
            except ValueError:
                return None
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())


def _match_module(title: str, stem: str, extra: str) -> tuple[str, str] | None:
    text = _SUITE.sub(" ", f"{title} {extra}").lower()
    words = set(_words(text)) | set(re.split(r"[^a-z0-9]+", _SUITE.sub(" ", stem).lower()))
    best, best_score, patterns = None, 0, iter(_MODULE_PATTERNS)
    for name, slug, english, substrings in MODULE_RULES:
        score = sum(1 for w in english if w in words)
        score += sum(len(next(patterns).findall(text)) for _ in substrings)
        if score > best_score:
            best, best_score = (name, slug), score
    return best


def _sanitise_alias(stem: str) -> str:
    text = unicodedata.normalize("NFKC", stem)
    text = re.sub(r"['’\u200b-\u200f\u2060\ufeff]", "", text)
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-_")
    if not text:
        text = "article"
    if ID_PATTERN.match(text):
        text = "src-" + text
    assert ALIAS_PATTERN.match(text)
    return text


# Rendering -----------------------------------------------------------------------------------

class _Linker:
    """Links to other source articles → KB ids, when the target may be linked.

    A relative target (``x.md``, ``../x``) is resolved against the linking file's folder;
    a root-relative one (``/AlchemyInsights/x``, DocFX's site URL of the docset) matches an
    article whose folder — or, at the top, SRC_DIR itself — has the name of the target's
    parent segment."""

    def __init__(self, src_name: str, sources: list[_Source], existing: list[_Existing]):
        self.src_name = src_name.lower()
        self.by_rel: dict[str, tuple[str, bool, bool]] = {}  # rel stem → (id, is public, archived)
        self.by_parent: dict[tuple[str, str], tuple[str, bool, bool]] = {}
        for item in existing:
            if item.source:
                self._add(item.source, item.id, item.audience == "public" and item.status == "validated", item.status == "archived")
        for s in sources:
            self._add(s.rel, s.id, s.audience == "public" and s.status == "validated", False)

    def _add(self, rel: str, article_id: str, public: bool, archived: bool) -> None:
        key = _rel_stem(rel).lower()
        folder, _, name = key.rpartition("/")
        self.by_rel[key] = (article_id, public, archived)
        self.by_parent.setdefault((folder.rpartition("/")[2] or self.src_name, name), (article_id, public, archived))

    def target(self, link: str, source: _Source) -> str | None:
        path = link.split("#", 1)[0].split("?", 1)[0].rstrip("/").lower()
        name = path.rpartition("/")[2]
        if not name or ("." in name and not name.endswith(".md")):
            return None
        if path.startswith("/"):
            parts = _rel_stem(path).strip("/").split("/")
            entry = self.by_parent.get((parts[-2], parts[-1])) if len(parts) >= 2 else None
        else:
            folder = source.rel.rpartition("/")[0].lower()
            entry = self.by_rel.get(posixpath.normpath(posixpath.join(folder, _rel_stem(path))))
        if entry is None:
            return None
        article_id, public, archived = entry
        source_public = source.audience == "public" and source.status == "validated"
        if archived or article_id == source.id or (source_public and not public) or not ID_PATTERN.match(article_id):
            return None
        return article_id


def _render(source: _Source, aliases: list[str], owner: str, today: dt.date, linker: _Linker,
            report: ImportReport) -> str:
    body = _clean_body(source, linker, report)
    first = _first_paragraph(body)
    products = _products(source.title, Path(source.rel).stem.replace("-", " "), body)
    if not products:
        report.fallbacks["applies_to: 未识别产品，改用服务名"] += 1
        service = str(source.data.get("ms.service") or "").strip()
        products = [SERVICE_NAMES.get(service, service or "未注明")]
    cause = _find_cause(body)
    if cause and _LOOSE_FENCE.match(cause):
        cause = None
    if cause is None:
        report.fallbacks["原因: 原文未单独说明"] += 1

    symptoms = [source.title]
    if first:
        sentence = _plain(_SENTENCE_END.split(first)[0]).rstrip("。！？!?；;").strip()
        if 8 <= len(sentence) <= 80 and sentence.lower() != source.title.lower().rstrip("。？?"):
            symptoms.append(sentence)
    for code in dict.fromkeys(_ERROR_CODES.findall(f"{source.title}\n{_plain(body[:3000])}")):
        if len(symptoms) >= 3:
            break
        if not any(code in s for s in symptoms):
            symptoms.append(f"错误代码 {code}")

    updated = source.updated
    review_by = updated + dt.timedelta(days=365)
    if review_by < today:
        review_by = today + dt.timedelta(days=90)
    review_by = max(review_by, updated)

    symptom_lines = "".join(f"  - {_scalar(s)}\n" for s in symptoms)
    front = (
        "---\n"
        f"id: {source.id}\n"
        f"title: {_scalar(source.title)}\n"
        f"module: {_scalar(source.module[0])}\n"
        f"symptoms:\n{symptom_lines}"
        f"audience: {source.audience}\n"
        f"status: {source.status}\n"
        f"applies_to: {_flow(products)}\n"
        f"updated: {updated.isoformat()}\n"
        f"review_by: {review_by.isoformat()}\n"
        f"owner: {_scalar(owner)}\n"
        f"aliases: {_flow(aliases)}\n"
        f"source: {_scalar(source.rel)}\n"
        f"source_sha256: {source.sha256}\n"
        "---\n"
    )
    phenomenon = source.title
    if first:
        phenomenon += "\n\n" + (first if len(first) <= 120 else _SENTENCE_END.split(first)[0].strip())
    reader = str(source.data.get("ms.audience") or source.data.get("audience") or "").strip()
    service = str(source.data.get("ms.service") or "").strip()
    env = [f"- 产品/服务：{'、'.join(products)}"]
    if service:
        env.append(f"- 原文服务分类：{service}")
    if reader:
        env.append(f"- 原文面向读者：{reader}")
    return (
        f"{front}\n## 现象\n\n{phenomenon}\n\n## 适用范围/环境\n\n" + "\n".join(env)
        + f"\n\n## 原因\n\n{cause or NO_CAUSE}\n\n## 解决办法\n\n{body or '（原文无正文）'}\n"
    )


def _scalar(value: str) -> str:
    return yaml.safe_dump(value, allow_unicode=True, width=10**9).removesuffix("\n...\n").rstrip("\n")


def _flow(values: list[str]) -> str:
    return yaml.safe_dump(list(values), allow_unicode=True, default_flow_style=True, width=10**9).rstrip("\n")


def _unfenced(lines: list[str]):
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            yield line


def _clean_body(source: _Source, linker: _Linker, report: ImportReport) -> str:
    out: list[str] = []
    in_fence, dropped_h1 = False, False
    for line in source.body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence:
            out.append(line)
            continue
        line = _ANCHOR.sub("", line)
        if m := _HEADING.match(line):
            level, text = len(m.group(1)), m.group(2).strip()
            if level == 1 and not dropped_h1:
                dropped_h1 = True
                if _clean_title(text) in (source.title, ""):
                    continue
            line = "#" * min(6, max(3, level + 1)) + " " + text
        line = _DOCFX_LABEL.sub(lambda m: f"**{DOCFX_LABELS[m.group(1).upper()]}**", line)
        line = _DOCFX_VIDEO.sub(lambda m: f"[视频]({m.group(1)})", line)
        line = _HTML_IMG.sub(lambda m: _image(_alt(m.group(0)), m.group("src"), report), line)
        line = _MD_LINK.sub(lambda m: _link(m, source, linker, report), line)
        out.append(line.rstrip() if not line.strip() else line)
    text = "\n".join(_fix_bold(out))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n").rstrip()


def _alt(tag: str) -> str:
    m = _IMG_ALT.search(tag)
    return m.group("alt") if m else ""


def _image(alt: str, src: str, report: ImportReport) -> str:
    src = src.strip().strip("<>")
    alt = alt.strip().rstrip("。.")
    if src.lower().startswith("data:"):
        report.dropped_images["base64"] += 1
        return IMAGE_OMITTED
    if _EXTERNAL.match(src):
        report.dropped_images["external"] += 1
        return f"[图片：{alt or '外部图片'}]({src})"
    report.dropped_images["media"] += 1
    return f"（图片已省略：{alt}）" if alt else IMAGE_OMITTED


def _link(m: re.Match, source: _Source, linker: _Linker, report: ImportReport) -> str:
    text, target = m.group("text"), m.group("target").strip("<>")
    if m.group("bang"):
        return _image(text, target, report)
    if _EXTERNAL.match(target):
        return m.group(0)
    article_id = linker.target(target, source)
    if article_id:
        report.links["article"] += 1
        return f"[{text}]({article_id})"
    report.links["unlinked"] += 1
    return text


def _fix_bold(lines: list[str]) -> list[str]:
    """Normalise `**` pairs within each paragraph or list item (outside code)."""
    out, unit, in_fence = [], [], False

    def flush():
        if unit:
            out.extend(fix_bold_markers("\n".join(unit)).split("\n"))
            unit.clear()

    for line in lines:
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        elif not line.strip():
            flush()
            out.append(line)
        else:
            if _BLOCK_START.match(line):
                flush()
            unit.append(line)
    flush()
    return out


def fix_bold_markers(text: str) -> str:
    """Normalise the `**` pairs of one paragraph: `** 文本**` → `**文本**` (spaces moved
    outside, any Unicode space), empty `****` / `** **` removed, `**A****B**` → `**AB**`.
    Code spans are left alone; a paragraph with an odd number of `**`, or with `***`, is
    returned unchanged (there is no safe guess)."""
    if "**" not in text:
        return text
    codes: list[str] = []

    def protect(m):
        codes.append(m.group(0))
        return f"\x00{len(codes) - 1}\x00"

    work = _CODE_SPAN.sub(protect, text)
    runs = list(_STARS.finditer(work))
    if any(len(r.group(0)) not in (1, 2, 4) for r in runs):
        return text
    delims = []  # start offsets of each `**` delimiter
    for r in runs:
        if len(r.group(0)) == 2:
            delims.append(r.start())
        elif len(r.group(0)) == 4:
            delims += [r.start(), r.start() + 2]
    if not delims or len(delims) % 2:
        return text
    pairs = [(delims[i], delims[i + 1]) for i in range(0, len(delims), 2)]
    # Merge `**A****B**` (a close immediately followed by an open) into one span.
    merged: list[list[int]] = []
    for o, c in pairs:
        if merged and merged[-1][1] + 2 == o and work[o - 2:o + 2] == "****":
            merged[-1][1] = c
        else:
            merged.append([o, c])
    result, pos = [], 0
    for o, c in merged:
        inner = work[o + 2:c].replace("****", "")
        result.append(work[pos:o])
        core = inner.strip()  # any Unicode space: MT output has U+202F and U+3000 here
        if not core:
            result.append("\n" if "\n" in inner else (" " if inner else ""))
        else:
            lead = inner[:len(inner) - len(inner.lstrip())]
            trail = inner[len(inner.rstrip()):]
            result.append(f"{lead}**{core}**{trail}")
        pos = c + 2
    result.append(work[pos:])
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], "".join(result))


def _first_paragraph(body: str) -> str:
    block: list[str] = []
    for line in body.split("\n"):
        if not line.strip():
            if block:
                break
            continue
        if _LOOSE_FENCE.match(line):
            break
        if not block and _HEADING.match(line):
            continue
        if not block and (_BLOCK_START.match(line) or line.lstrip().startswith(("<", "（图片已省略", "!", "**注意**"))):
            return ""
        block.append(line.strip())
    return " ".join(block).strip()


def _plain(markdown: str) -> str:
    text = _MD_LINK.sub(lambda m: m.group("text"), markdown)
    text = text.replace("**", "").replace("\\>", ">").replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def _products(title: str, stem: str, body: str) -> list[str]:
    """Product names in the title, then the file stem, then the body, in order of appearance."""
    found: list[tuple[int, int, str]] = []
    texts = (title, stem, _plain(body))
    for name, rx in PRODUCTS:
        for rank, text in enumerate(texts):
            if m := rx.search(text):
                found.append((rank, m.start(), name))
                break
    found.sort()
    return [name for _, _, name in found[:MAX_PRODUCTS]]


def _find_cause(body: str) -> str | None:
    lines = list(_unfenced(body.split("\n")))
    for i, line in enumerate(lines):
        if (m := _CAUSE_LABEL.match(line)) and not line.lstrip().startswith("#"):
            rest = m.group("rest").strip()
            if rest:
                return rest[:300]
            for following in lines[i + 1:]:
                if following.strip():
                    return re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", following).strip()[:300]
            return None
    for line in lines:
        if line.lstrip().startswith(("#", "|", ">")):
            continue
        stripped = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line).strip()
        for sentence in _SENTENCE_END.split(stripped):
            if _CAUSE_PHRASE.search(sentence) and 6 <= len(sentence) <= 300:
                return sentence.strip()
    return None


# Writing -------------------------------------------------------------------------------------

def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_MODULE_ITEM = re.compile(r"^(?P<indent>\s*)-\s*\{\s*name\s*:.*\bslug\s*:.*\}\s*(?:#.*)?$")
_KB_PLUGIN = re.compile(r"^(?P<indent>\s*)(?:-\s*)?kb\s*:\s*(?:#.*)?$")
_MODULES_KEY = re.compile(r"^(?P<indent>\s*)modules\s*:\s*(?P<rest>\[\s*\])?\s*(?P<comment>#.*)?$")


def _add_modules(project: Project, modules: list[Module]) -> None:
    """Append `modules` to the kb plugin's `modules` list in mkdocs.yml by a text insertion
    (the rest of the file, comments and tags included, is unchanged); verified by loading."""
    path = project.mkdocs_yml
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"

    def item(m: Module) -> str:
        return yaml.safe_dump({"name": m.name, "slug": m.slug}, allow_unicode=True, default_flow_style=True,
                              sort_keys=False, width=10**9).strip()

    kb_line = next((i for i, line in enumerate(lines) if _KB_PLUGIN.match(line)), None)
    key = None
    if kb_line is not None:
        kb_indent = len(_KB_PLUGIN.match(lines[kb_line]).group("indent"))
        for i in range(kb_line + 1, len(lines)):
            stripped = lines[i].strip()
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(lines[i]) - len(lines[i].lstrip())
            if indent <= kb_indent:
                break
            if _MODULES_KEY.match(lines[i]):
                key = i
                break
    if key is None:
        raise ImportRefused(f"{path}: 找不到 kb 插件的 modules 列表，请手工加入模块："
                            + "、".join(item(m) for m in modules))
    m = _MODULES_KEY.match(lines[key])
    key_indent = len(m.group("indent"))
    if m.group("rest"):  # modules: []
        lines[key] = lines[key].replace(m.group("rest"), "", 1)
        insert_at, item_indent = key + 1, " " * (key_indent + 2)
    else:
        insert_at, item_indent = key + 1, None
        for i in range(key + 1, len(lines)):
            stripped = lines[i].strip()
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(lines[i]) - len(lines[i].lstrip())
            if indent > key_indent or (indent == key_indent and stripped.startswith("- ")):
                if stripped.startswith("- ") and item_indent is None:
                    item_indent = lines[i][:indent]
                insert_at = i + 1
            else:
                break
        if item_indent is None:
            item_indent = " " * (key_indent + 2)
    if not lines[insert_at - 1].endswith(("\n", "\r")):
        lines[insert_at - 1] += newline
    lines[insert_at:insert_at] = [f"{item_indent}- {item(mod)}{newline}" for mod in modules]
    new_text = "".join(lines)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mkdocs.yml.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new_text)
        try:
            options = plugin_options(read_mkdocs_yml(Path(tmp))) or {}
        except Exception as err:  # noqa: BLE001 - any failure means the edit is wrong
            raise ImportRefused(f"{path}: 自动加入模块后无法解析（{err}），未修改；请手工加入："
                                + "、".join(item(m) for m in modules)) from None
        got = [(e.get("name"), e.get("slug")) for e in options.get("modules") or [] if isinstance(e, dict)]
        want = [(mod.name, mod.slug) for mod in project.modules] + [(mod.name, mod.slug) for mod in modules]
        if got != want:
            raise ImportRefused(f"{path}: 自动加入模块的结果不符合预期，未修改；请手工加入："
                                + "、".join(item(m) for m in modules))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    reloaded = Project.load(project.root)
    project.options["modules"] = reloaded.options["modules"]
    project.__dict__.pop("modules", None)
