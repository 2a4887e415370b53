"""Property-based tests: whatever bytes an author or a helpdesk export holds, the parsers
answer with a result or with located problems, never with an exception.

Examples per test: KB_HYPOTHESIS_EXAMPLES (default 150); in CI the runs are derandomized
so a red build always means the same input."""

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kb.articles import ALIAS_PATTERN, ID_PATTERN, REQUIRED_FIELDS, Article, FrontMatter, parse_article, parse_front_matter
from kb.problems import Problem
from kb.tickets import TicketBatch, TicketFileError, read_tickets

EXAMPLES = int(os.environ.get("KB_HYPOTHESIS_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text that YAML, Markdown and CSV care about, mixed with Chinese and control characters.
SPECIAL = st.sampled_from(["---", "...", ":", ": ", "- ", "#", "##", "## ", "\n", "\r\n", "\t", " ", "'", '"', "[", "]",
                           "{", "}", ",", "&a", "*a", "!!", "!!timestamp ", "!!binary ", "? ", "|", ">", "%", "@", "`",
                           "```", "\x00", "\x07", "\x85", "\ufeff", "\u2028", "\ud800", "KB-", "0042", "2026-13-01",
                           "现象", "原因", "解决办法", "适用范围/环境", "公文", "../", "/", "1" * 5000, "[" * 2000])
FIELD_NAMES = st.sampled_from([*REQUIRED_FIELDS, "aliases", "extra"])
SCALARS = st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none(),
                    st.sampled_from(["KB-0001", "KB-12", "public", "internal", "draft", "validated", "archived",
                                     "2026-01-05", "2026-02-30", "../../etc", "a/b", "..", "/abs", "ok-alias"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=8)


def mixed_text(max_size=60):
    return st.lists(st.one_of(SPECIAL, st.text(max_size=8)), max_size=max_size).map("".join)


@st.composite
def article_like(draw) -> str:
    """Text shaped like an article: front matter of plausible and implausible fields
    (as YAML, or as raw lines), then a body of headings and prose."""
    if draw(st.booleans()):
        fields = draw(st.dictionaries(FIELD_NAMES, VALUES, max_size=12))
        try:
            front = json.dumps(fields, ensure_ascii=draw(st.booleans()), default=str)  # JSON is YAML
        except (ValueError, TypeError):
            front = "{}"
        if draw(st.booleans()):
            front = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False, default=str)}" for k, v in fields.items())
    else:
        front = "\n".join(f"{draw(FIELD_NAMES)}: {draw(mixed_text(6))}" for _ in range(draw(st.integers(0, 12))))
    body = "\n".join(draw(st.lists(st.one_of(mixed_text(10), st.sampled_from(
        ["## 现象", "## 适用范围/环境", "## 原因", "## 解决办法", "## 解决办法 ##", "```", "~~~", "见 [x](KB-0001)"])),
        max_size=12)))
    opening = draw(st.sampled_from(["---\n", "---\r\n", "\ufeff---\n", "--- \n", ""]))
    closing = draw(st.sampled_from(["\n---\n", "\n...\n", "\n", "\n---"]))
    return opening + front + closing + body


def check_parse_result(result, text_lines: int) -> None:
    value, problems = result
    assert isinstance(problems, list) and all(isinstance(p, Problem) for p in problems)
    assert all(isinstance(p.line, int) and 1 <= p.line <= text_lines + 2 for p in problems), problems
    assert all(p.message and "\n" not in p.message for p in problems), problems  # one line each
    if value is None:
        assert problems, "no result and no problem"


@SETTINGS
@given(st.one_of(st.text(), mixed_text(), article_like()))
@example("---\na: " + "[" * 5000 + "\n---\n")      # nesting beyond Python's recursion limit
@example("---\ntitle: " + "1" * 5000 + "\n---\n")   # an integer over Python's digit limit
@example("---\nupdated: !!timestamp 2026-13-01\n---\n")
@example("---\nowner: 测\x00试组\n---\n")             # a control character (libyaml: byte positions)
@example("---\n? [a]\n: 1\n---\n")
@example("---\na: &x [*x]\n---\n")
def test_parse_front_matter_never_raises(text):
    fm, problems = parse_front_matter(text, "a.md")
    check_parse_result((fm, problems), len(text.splitlines()) + 1)
    if fm is not None:
        assert isinstance(fm, FrontMatter) and isinstance(fm.data, dict) and isinstance(fm.body, str)
        assert all(isinstance(k, str) for k in fm.data) and fm.body_line >= 1


def _parse_bytes(raw: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.md"
        path.write_bytes(raw)
        return parse_article(path, "kb_articles/a.md")


@SETTINGS
@given(st.one_of(st.binary(max_size=400), article_like().map(lambda t: t.encode("utf-8", "surrogatepass")),
                 article_like().map(lambda t: t.encode("gb18030", "replace")),
                 st.tuples(article_like(), st.binary(max_size=20)).map(lambda p: p[0].encode("utf-8", "replace") + p[1])))
@example(b"")
@example(b"\xef\xbb\xbf")
@example(bytes(range(256)))
def test_parse_article_never_raises(raw):
    article, problems = _parse_bytes(raw)
    # Lines as str.splitlines counts them. It (and YAML) also breaks at \x85, \u2028, \x0c...,
    # which editors do not: a U+2028 pasted into an article shifts the line numbers
    # reported after it (kb.articles, kb.links and kb.checks all count with splitlines).
    check_parse_result((article, problems), len(raw.decode("utf-8-sig", "replace").splitlines()) + 1)
    if article is not None:
        assert isinstance(article, Article)
        # What reaches the site generator is safe to use as a path.
        assert ID_PATTERN.match(article.id) and all(ALIAS_PATTERN.match(a) for a in article.aliases)
        assert article.audience in ("public", "internal") and article.status in ("draft", "validated", "archived")
        assert all(isinstance(s, str) and s for s in article.symptoms)


VALID = ("---\nid: KB-0001\ntitle: 标题\nmodule: 邮件\nsymptoms: [打不开]\naudience: public\nstatus: validated\n"
         "applies_to: [V8]\nupdated: 2026-01-05\nreview_by: 2026-07-05\nowner: 组\naliases: [{alias}]\n---\n\n"
         "## 现象\n\n## 适用范围/环境\n\n## 原因\n\n## 解决办法\n")


@SETTINGS
@given(st.one_of(mixed_text(8), st.sampled_from(["../../etc", "..", "/abs", "a/b", "ok\n", "x y", "%2e%2e", "KB-0002"])))
def test_aliases_that_are_not_url_segments_never_reach_the_article(alias):
    article, problems = _parse_bytes(VALID.format(alias=json.dumps(alias)).encode("utf-8", "surrogatepass"))
    if article is not None:
        assert all(ALIAS_PATTERN.match(a) for a in article.aliases)
        if not ALIAS_PATTERN.match(alias.strip()) and alias.strip():
            assert any("别名" in p.message for p in problems)


# Ticket exports -----------------------------------------------------------------------------

HEADERS = st.sampled_from(["工单号", "创建时间", "问题描述", "处理结果", "首次响应时间", "解决时间", "是否现场", "报告人",
                           "联系电话", "模块", "备注", "ticket_id", "opened_at", "description", "resolution", "id", "",
                           "工单号 ", "ＩＤ", "x"])
CELLS = st.one_of(st.text(max_size=20), mixed_text(6),
                  st.sampled_from(["GD001", "2026-03-05 14:20", "2026/3/5 14:20:00", "2026-13-45 99:99", "9" * 30,
                                   "是", "否", "maybe", "按 KB-0001 处理", "知识库42号", "《公文发送失败》", "\"",
                                   "\"\"", "a\nb", "\r", "\x00", "=cmd|' /C calc'!A0", ""]))


@st.composite
def csv_bytes(draw) -> bytes:
    headers = draw(st.lists(HEADERS, min_size=0, max_size=8))
    if draw(st.booleans()):
        headers = ["工单号", "创建时间", "问题描述", "处理结果", *headers]
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(headers) + 2), max_size=8))

    def cell(value: str) -> str:
        style = draw(st.sampled_from(["plain", "quoted", "broken"]))
        if style == "quoted":
            return '"' + value.replace('"', '""') + '"'
        return ('"' + value) if style == "broken" else value

    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(delimiter.join(cell(c) for c in row) for row in [headers, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    raw = text.encode(encoding, "replace")
    if draw(st.integers(0, 9)) == 0:
        raw += draw(st.binary(max_size=10))
    return raw


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), CELLS),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(HEADERS, inner, max_size=6)),
                           max_leaves=12)
RECORDS = st.dictionaries(HEADERS, JSON_VALUES, max_size=8)


@st.composite
def jsonl_bytes(draw) -> bytes:
    lines = draw(st.lists(st.one_of(RECORDS.map(lambda r: json.dumps(r, ensure_ascii=False)),
                                    JSON_VALUES.map(json.dumps), mixed_text(6), st.just("[" * 3000)), max_size=8))
    return "\n".join(lines).encode("utf-8", "replace")


@st.composite
def json_bytes(draw) -> bytes:
    value = draw(st.one_of(st.lists(RECORDS, max_size=6), JSON_VALUES))
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 4)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "replace")


def _read(raw: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(raw)
        try:
            return read_tickets(path)
        except TicketFileError as err:
            return err


def check_ticket_result(result) -> None:
    if isinstance(result, TicketFileError):
        assert result.problems and all(isinstance(p, Problem) and p.line >= 1 for p in result.problems)
        return
    assert isinstance(result, TicketBatch)
    ids = [t.id for t in result.tickets]
    assert len(ids) == len(set(ids)) and all(ids)
    assert all(t.description for t in result.tickets)
    assert all(r.row_number >= 1 and r.reason and "\n" not in r.reason for r in result.rejected)


@SETTINGS
@given(st.one_of(csv_bytes(), st.binary(max_size=300)))
@example(b"")
@example(b"\xef\xbb\xbf")
@example(b"\xff\xfe")
@example("工单号,创建时间,问题描述,处理结果\nGD1,2026-03-05,\"未闭合,x\n".encode())
def test_read_tickets_csv_never_raises(raw):
    check_ticket_result(_read(raw, ".csv"))


@SETTINGS
@given(st.one_of(jsonl_bytes(), st.binary(max_size=300)))
@example(b"[" * 100_000)
def test_read_tickets_jsonl_never_raises(raw):
    check_ticket_result(_read(raw, ".jsonl"))


@SETTINGS
@given(st.one_of(json_bytes(), st.binary(max_size=300)))
@example(b"[" * 100_000)
@example(b'{"a": 1}')
def test_read_tickets_json_never_raises(raw):
    check_ticket_result(_read(raw, ".json"))
