"""The Article model: the one place where Markdown files with YAML front matter are parsed.

The site plugin, the checks, the CLI (and later the indexer and the ticket linker)
all go through `parse_article` / `parse_page`; nothing else reads front matter.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.problems import Problem, yaml_reason

ID_PATTERN = re.compile(r"^KB-\d{4,}\Z")  # \Z: "$" would accept a trailing newline
# Aliases become URL path segments (/kb/<alias>/), so no slashes, dots-only or spaces.
ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\Z")

# Error codes as callers read them out: HTTP 500, ORA-12541, 0x80070005, 550 5.7.1,
# AADSTS9000411 and the product's own DOC-5001 style codes.
ERROR_CODE = re.compile(
    r"\b(?:HTTP\s?[1-5]\d\d|[45]\d\d\s[245]\.\d{1,3}\.\d{1,3}|0x[0-9A-Fa-f]{6,8}"
    r"|[A-Z]{2,6}-\d{3,6}|[A-Z]{4,}\d{4,}|(?<![\d.])[45]\d\d(?![\d.]))"
)


def error_codes(text: str) -> list[str]:
    return [m.group(0) for m in ERROR_CODE.finditer(text)]


AUDIENCES = ("public", "internal")
STATUSES = ("draft", "validated", "archived")
REQUIRED_FIELDS = (
    "id", "title", "module", "symptoms", "audience", "status",
    "applies_to", "updated", "review_by", "owner",
)
# Any other front-matter field is a problem: a misspelt optional one (reveiw_by) would
# otherwise be ignored without a word. source and source_sha256 are written by kb import.
KNOWN_FIELDS = (*REQUIRED_FIELDS, "aliases", "reviewed", "source", "source_sha256")

# Body sections in their required order; each entry lists the accepted spellings.
SECTIONS = (
    ("现象",),
    ("适用范围/环境", "适用范围", "环境", "适用范围与环境"),
    ("原因",),
    ("解决办法", "解决方法"),
)
ESCALATION_SECTION = ("仍未解决？", "仍未解决?", "仍未解决")

STATUS_LABELS = {"draft": "草稿", "validated": "已验证", "archived": "已归档"}
AUDIENCE_LABELS = {"public": "公开", "internal": "内部"}

# "## 标题" (an optional closing run of # is dropped by _h2_title). Not one regex: a lazy
# title followed by \s*#*\s*$ backtracks cubically on a heading with a long run of spaces.
_H2 = re.compile(r"##\s")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})[^`]*$")  # ```code``` on one line is inline code


class _FrontMatterLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML without implicit timestamps: dates are validated by us, with line numbers,
    instead of PyYAML raising a bare ValueError for 2026-13-01. On libyaml when PyYAML has
    it: the pure-Python parser took 4 ms an article, most of `kb check` on 10,000."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class FrontMatter:
    """Parsed front matter of any Markdown file: values, the line of each key, and the body."""

    data: dict
    key_lines: dict[str, int]
    body: str
    body_line: int  # 1-based line of the first body line in the file


@dataclass(frozen=True)
class Section:
    title: str
    line: int


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    module: str
    symptoms: tuple[str, ...]
    audience: str
    status: str
    applies_to: tuple[str, ...]
    updated: dt.date
    review_by: dt.date
    owner: str
    aliases: tuple[str, ...]
    reviewed: dt.date | None  # optional: last review without a content change
    body: str
    path: Path
    body_line: int
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def url_path(self) -> str:
        """Site-relative URL of the article page, stable for the life of the id."""
        return f"kb/{self.id}/"

    @property
    def last_reviewed(self) -> dt.date:
        """An update is a review (KCS: the article is validated whenever it is changed);
        `reviewed` records a review that changed nothing."""
        return max(self.updated, self.reviewed) if self.reviewed else self.updated

    @property
    def is_public(self) -> bool:
        """Whether the article belongs in the public (customer-facing) build."""
        return self.audience == "public" and self.status != "draft"

    def in_build(self, audience: str) -> bool:
        return audience == "internal" or self.is_public

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)

    def sections(self) -> list[Section]:
        return find_sections(self.body, self.body_line)

    def to_dict(self, site_url: str = "") -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "url": site_url + self.url_path,
            "path": str(self.path),
            "module": self.module,
            "audience": self.audience,
            "status": self.status,
            "symptoms": list(self.symptoms),
            "aliases": list(self.aliases),
            "applies_to": list(self.applies_to),
            "updated": self.updated.isoformat(),
            "review_by": self.review_by.isoformat(),
            "last_reviewed": self.last_reviewed.isoformat(),
            "owner": self.owner,
        }


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def text_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of `text` as editors and Markdown count them (at \\n, \\r\\n or \\r).
    str.splitlines also breaks at U+2028, form feeds, \\x1c-\\x1e and \\x85, which would
    shift every later line number a problem names."""
    lines = _LINE.findall(text)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


def read_text(path: Path, display: str) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 file (BOM tolerated); a decoding error names the line it is on."""
    try:
        raw = path.read_bytes()
    except OSError as err:  # a folder named x.md, a dangling symlink, no permission
        return None, [Problem(display, 1, f"无法读取文件：{err.strerror or err}", "检查文件是否存在、是否为普通文件以及读取权限")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return None, [Problem(display, line, "文件不是 UTF-8 编码", "用编辑器以 UTF-8 编码另存该文件（GBK 等编码不受支持）")]


def parse_front_matter(text: str, display: str) -> tuple[FrontMatter | None, list[Problem]]:
    """Split `---` front matter from the body and load it as YAML, keeping key line numbers."""
    split = _split_front_matter(text)
    if split is None:
        return FrontMatter({}, {}, text, 1), []
    source, body, body_line = split
    if source is None:
        return None, [Problem(display, 1, "前置元数据没有结束标记 ---", "在元数据最后一行之后加一行 ---")]
    return _load_front_matter(source, body, body_line, display)


def _split_front_matter(text: str) -> tuple[str | None, str, int] | None:
    """(YAML source, body, body's first line); None without front matter; source None
    when the closing `---` is missing."""
    lines = text_lines(text, keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return None, "", 1
    return "".join(lines[1:end]), "".join(lines[end + 1:]), end + 2


def _load_front_matter(source: str, body: str, body_line: int, display: str) -> tuple[FrontMatter | None, list[Problem]]:
    loader = None
    try:
        loader = _FrontMatterLoader(source)  # already rejects control characters such as NUL
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except RecursionError:
        return None, [Problem(display, 2, "前置元数据嵌套层数过多", "元数据的值只用文本或文本列表")]
    except yaml.YAMLError as err:
        # The context mark is where the broken construct starts (an unclosed quote or
        # bracket), which is where the author has to look.
        mark = getattr(err, "context_mark", None) or getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        reason = yaml_reason(err)
        hint = "检查缩进、冒号后的空格和引号是否成对；含冒号的值请加引号"
        if isinstance(err, yaml.reader.ReaderError):  # a control character: no mark
            code = ord(err.character) if isinstance(err.character, str) else err.character
            # Its first occurrence is the one (err.position counts bytes under libyaml).
            line = source.count("\n", 0, max(source.find(chr(code)), 0)) + 2
            reason, hint = f"含有不允许的控制字符 U+{code:04X}", "删除该行中看不见的控制字符（常由复制粘贴带入）"
        return None, [Problem(display, line, f"YAML 语法错误：{reason}", hint)]
    except Exception as err:
        # PyYAML's constructors raise plain exceptions for some values: an integer over
        # Python's digit limit (ValueError), an empty or invalid explicit !!timestamp
        # (AttributeError, ValueError). Whatever the value, it is the author's to fix.
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        return None, [Problem(display, 2, f"前置元数据的值无效：{reason}", "把过长的数字、带 !! 标签的值写成带引号的文本")]
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        return None, [Problem(display, 2, "前置元数据必须是“键: 值”的映射", "每行写成 key: value")]
    key_lines: dict[str, int] = {}
    problems = []
    for key_node, _ in node.value if node is not None else ():  # "---\n---": empty front matter
        key = str(key_node.value)
        line = key_node.start_mark.line + 2
        if key in key_lines:
            problems.append(Problem(display, line, f"字段 {key} 重复出现（第 {key_lines[key]} 行已有）", "删除其中一个"))
        key_lines[key] = line
    return FrontMatter({str(k): v for k, v in data.items()}, key_lines, body, body_line), problems


_TOP_LEVEL_KEY = re.compile(r"^([^\s#\-][^:]*?)\s*:")
# Each broken entry costs one more YAML parse; a file this broken is rewritten, not patched.
_MAX_BROKEN_ENTRIES = 20


def _recover_front_matter(text: str, display: str) -> tuple[FrontMatter | None, list[Problem], set[str] | None]:
    """Front matter with its broken entries left out, so that one run reports every
    problem of a file: each YAML error is reported, the top-level entry holding it is
    blanked (line numbers stay) and the rest parsed again. Returns the front matter (None
    if nothing could be read), the problems, and the keys whose entries were unreadable
    (None when the YAML was whole)."""
    fm, problems = parse_front_matter(text, display)
    split = _split_front_matter(text)
    if fm is not None or split is None or split[0] is None:
        return fm, problems, None
    source, body, body_line = split
    lines, unreadable = source.splitlines(keepends=True), set()
    for _ in range(_MAX_BROKEN_ENTRIES):
        broken = problems[-1].line - 2
        if not 0 <= broken < len(lines):
            break
        first = next((i for i in range(broken, -1, -1) if _TOP_LEVEL_KEY.match(lines[i])), broken)
        last = next((i for i in range(broken + 1, len(lines)) if _TOP_LEVEL_KEY.match(lines[i])), len(lines))
        if key := _TOP_LEVEL_KEY.match(lines[first]):
            unreadable.add(key.group(1).strip())
        lines[first:last] = ["\n"] * (last - first)
        fm, found = _load_front_matter("".join(lines), body, body_line, display)
        if fm is not None:
            return fm, problems + found, unreadable
        if found[-1] in problems:  # the same error again: nothing more to learn
            break
        problems += found
    return FrontMatter({}, {}, body, body_line), problems, unreadable


def _read_front_matter(path: Path, display: str) -> tuple[FrontMatter | None, list[Problem]]:
    text, problems = read_text(path, display)
    if text is None:
        return None, problems
    fm, fm_problems = parse_front_matter(text, display)
    return fm, problems + fm_problems


def find_sections(body: str, first_line: int) -> list[Section]:
    """Level-2 headings of a Markdown body, ignoring fenced code blocks."""
    sections, in_fence = [], False
    for offset, line in enumerate(text_lines(body)):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (title := _h2_title(line)) is not None:
            sections.append(Section(title, first_line + offset))
    return sections


def _h2_title(line: str) -> str | None:
    """The title of a `## 标题 ##` line, without the closing hashes; None for other lines."""
    if len(line) < 4 or not _H2.match(line):  # "##", a space, and something
        return None
    title = line[2:].strip()
    return title.rstrip("#").rstrip() or title


def _closest(key: str) -> str | None:
    """The known field a misspelt one was meant to be (reveiw_by → review_by)."""
    near = difflib.get_close_matches(key.casefold(), KNOWN_FIELDS, n=1, cutoff=0.7)
    return near[0] if near else None


def parse_article(path: Path, display: str | None = None) -> tuple[Article | None, list[Problem]]:
    """Parse and validate one article file. Returns the article (None if unusable) and
    every problem found in it; cross-article rules live in kb.checks."""
    display = display or str(path)
    text, problems = read_text(path, display)
    if text is None:
        return None, problems
    fm, fm_problems, unreadable = _recover_front_matter(text, display)
    problems += fm_problems
    if fm is None:
        return None, problems
    if not fm.key_lines and not fm_problems:
        return None, problems + [Problem(display, 1, "缺少前置元数据", "文件开头加上以 --- 包围的 YAML 元数据，见 kb_articles/README.md")]

    data, at = fm.data, (lambda key: fm.key_lines.get(key, 1))
    values: dict = {}

    def bad(key: str, message: str, hint: str) -> None:
        problems.append(Problem(display, at(key), message, hint))

    unknown = [str(key) for key in data if key not in KNOWN_FIELDS]
    for key in REQUIRED_FIELDS:
        if data.get(key) in (None, "", []) and key not in (unreadable or ()):  # unreadable: reported above
            misspelt = next((k for k in unknown if _closest(k) == key), None)
            if misspelt:  # one problem, where the misspelling is
                unknown.remove(misspelt)
                bad(misspelt, f"缺少必填字段 {key}：第 {at(misspelt)} 行写成了 {misspelt}", f"改成 {key}")
            else:
                problems.append(Problem(display, 1, f"缺少必填字段 {key}", "在前置元数据中补上该字段，见 kb_articles/README.md"))
    for key in unknown:
        near = _closest(key)
        bad(key, f"未知字段 {key}", f"是不是 {near}？改成 {near}" if near
            else "删除该字段，或改成可用字段之一：" + "、".join(KNOWN_FIELDS))

    for key in ("id", "title", "module", "owner"):
        value = data.get(key)
        if value not in (None, ""):
            if isinstance(value, (dict, list)):
                bad(key, f"字段 {key} 必须是文本", f"写成 {key}: 文本")
            else:
                values[key] = str(value).strip()
    if "id" in values and not ID_PATTERN.match(values["id"]):
        # Without an id the article is not built: the id becomes a path (kb/<id>/), and
        # `../../etc` must never reach the site generator, even through plain `mkdocs build`.
        bad("id", f"编号 {values.pop('id')!r} 格式不对", "编号写成 KB- 加至少四位数字，例如 KB-0042")

    for key, allowed in (("audience", AUDIENCES), ("status", STATUSES)):
        value = data.get(key)
        if value not in (None, ""):
            if value in allowed:
                values[key] = value
            else:
                bad(key, f"{key} 的值 {value!r} 不允许", "可选值：" + " | ".join(allowed))

    for key, required in (("symptoms", True), ("applies_to", True), ("aliases", False)):
        value = data.get(key)
        if value in (None, "", []):
            values[key] = ()
            continue
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) or v in (None, "") for v in value):
            bad(key, f"{key} 必须是非空文本的列表", f"写成 {key}: [文本1, 文本2] 或逐行 - 文本")
            continue
        values[key] = tuple(str(v).strip() for v in value)
    for alias in values.get("aliases", ()):
        if not ALIAS_PATTERN.match(alias):
            bad("aliases", f"别名 {alias!r} 不能用作网址", "别名只能含字母、数字、- 和 _，不能含 / 或 ..")
    # Aliases become paths too (kb/<alias>/index.html): only the valid ones are kept.
    values["aliases"] = tuple(a for a in values.get("aliases", ()) if ALIAS_PATTERN.match(a))

    for key in ("updated", "review_by", "reviewed"):
        value = data.get(key)
        if value in (None, ""):
            continue
        try:
            values[key] = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            bad(key, f"{key} 的日期 {value!r} 无效", "日期写成 YYYY-MM-DD，例如 2026-09-12")
    if "updated" in values and "review_by" in values and values["review_by"] < values["updated"]:
        bad("review_by", "review_by 早于 updated", "下次审核日期应不早于最后更新日期")

    for section in _section_problems(fm.body, fm.body_line, display):
        problems.append(section)

    if unreadable is not None or any(key not in values for key in REQUIRED_FIELDS):
        return None, problems
    article = Article(
        id=values["id"], title=values["title"], module=values["module"],
        symptoms=values["symptoms"], audience=values["audience"], status=values["status"],
        applies_to=values["applies_to"], updated=values["updated"], review_by=values["review_by"],
        owner=values["owner"], aliases=values.get("aliases", ()), reviewed=values.get("reviewed"), body=fm.body, path=path,
        body_line=fm.body_line, key_lines=fm.key_lines,
    )
    return article, problems


def _section_problems(body: str, first_line: int, display: str) -> list[Problem]:
    sections = find_sections(body, first_line)
    hint = "正文依次写 ## 现象、## 适用范围/环境、## 原因、## 解决办法"
    problems, found = [], []
    for spellings in SECTIONS:
        index = next((i for i, s in enumerate(sections) if s.title in spellings), None)
        if index is None:
            problems.append(Problem(display, first_line, f"缺少正文小节 “## {spellings[0]}”", hint))
        else:
            found.append((index, spellings[0]))
    # The sections in the longest run already in order are fine; any other is misplaced.
    in_order = _longest_increasing([i for i, _ in found])
    for index, name in found:
        if index not in in_order:
            problems.append(Problem(display, sections[index].line, f"小节 “## {name}” 顺序不对", hint))
    return problems


def _longest_increasing(values: list[int]) -> set[int]:
    best: list[list[int]] = []
    for i, value in enumerate(values):
        best.append(max((best[j] for j in range(i) if values[j] < value), key=len, default=[]) + [value])
    return set(max(best, key=len, default=[]))


def parse_page(path: Path, display: str | None = None) -> tuple[FrontMatter | None, list[Problem]]:
    """Parse a page under docs/: front matter (optional) and body; `audience` is validated."""
    display = display or str(path)
    fm, problems = _read_front_matter(path, display)
    if fm and fm.data.get("audience") not in (None, *AUDIENCES):
        problems.append(Problem(display, fm.key_lines.get("audience", 1),
                                f"audience 的值 {fm.data['audience']!r} 不允许", "可选值：public | internal"))
    return fm, problems


def page_audience(fm: FrontMatter | None) -> str:
    return "internal" if fm and fm.data.get("audience") == "internal" else "public"
