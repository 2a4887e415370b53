"""Remove personal data from any text that leaves the tool (reports, symptom lists,
exports): phone numbers, e-mail addresses, ID numbers, IP addresses and the names of the
people who reported tickets in the batch.

What is replaced, and by what:

| kind | examples | token |
| --- | --- | --- |
| mobile | 13812345678, 138 1234 5678, 138-1234-5678, +86 138…, (+86)138… | 〔手机号〕 |
| landline | 010-12345678, (0755)88888888, 0755 8888 8888, 021-6123 4567 转 123 | 〔电话〕 |
| e-mail | zhang.san@oa.gov.cn | 〔邮箱〕 |
| 身份证 | 18 digits with a valid date part, last digit or X | 〔身份证号〕 |
| IPv4 | 10.1.2.3 (client and server addresses alike) | 〔IP〕 |
| reporter names | every name in the batch's reporter column, ≥ 2 characters, anywhere | 〔姓名〕 |

Kept on purpose: 400 and 800 numbers (company hotlines, not personal; they never match
the patterns, which need a mobile prefix or a 0 area code), short service numbers such
as 12345 or 95xxx, local numbers written without an area code (8 bare digits are as
often an amount or a document number), 15-digit first-generation ID numbers, and any
number passed in `keep_numbers` (e.g. the service centre's own duty mobile).

Names: a reporter cell is split on separators ("张三/办公室", "李四（13812345678）"),
titles are dropped ("王芳老师" → 王芳), and single characters, role words (管理员, 用户,
值班员 …) and organisation names (… 局 / 办公室 / 中心) are not treated as names, since
scrubbing them everywhere would damage the text. Names of two or more characters are
replaced wherever they occur, including inside longer words — a missed name is worse
than an odd-looking sentence. Latin names are matched as whole words, ignoring case.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from kb.tickets.model import Ticket

_TICKET_FIELDS = tuple(f.name for f in dataclasses.fields(Ticket))

TOKENS = {
    "email": "〔邮箱〕",
    "idcard": "〔身份证号〕",
    "ip": "〔IP〕",
    "mobile": "〔手机号〕",
    "landline": "〔电话〕",
    "name": "〔姓名〕",
}

# Order matters where patterns could overlap at one position: e-mail before numbers (a
# local part may be digits), ID numbers before phones.
_PATTERNS = {
    "email": r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "idcard": r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXxＸｘ](?![0-9A-Za-z])",
    "ip": r"(?<![0-9A-Za-z.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)",
    "mobile": r"(?<![\d+])(?:[(（](?:\+|00)?86[)）]\s*|(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)",
    "landline": r"(?<!\d)(?:[(（]0(?:10|2\d|[3-9]\d\d)[)）]\s*|0(?:10|2\d|[3-9]\d\d)[\s-]?)\d{3,4}[\s-]?\d{4}"
                r"(?:\s*(?:转|分机|ext\.?)\s*\d{1,5})?(?!\d)",
}
# The leading class lists every character a match can start with: the engine rejects
# all other positions (most of a Chinese text) with one table look-up, five times faster
# than trying each pattern there.
_STRUCTURED = "(?=[0-9A-Za-z._%+\\-(（０-９])(?:" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _PATTERNS.items()) + ")"
_STRUCTURED_RE = re.compile(_STRUCTURED)

# Full-width digits and letters (not ，（）：, which every Chinese text has).
_FULL_WIDTH = re.compile("[０-９Ａ-Ｚａ-ｚ＋＠]")
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}

_SEPARATORS = re.compile(r"[/\\,，、;；:：|()（）\[\]【】<>《》—\n\t]+|\s{2,}|-{1,}")
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·•]+$")
_LATIN = re.compile(r"^[A-Za-z][A-Za-z.' ]*[A-Za-z]$")
_TITLES = ("老师", "主任", "科长", "处长", "局长", "经理", "主管", "师傅", "同志", "先生", "女士", "小姐", "总", "工")
_ORG_SUFFIX = re.compile(r"(?:局|处|科|室|中心|部|厅|院|委|办|组|队|所|站|公司|单位|学校|医院|银行|分行|支行)$")
NOT_NAMES = frozenset("""
    管理员 系统管理员 超级管理员 用户 客户 匿名 匿名用户 未知 不详 无 本人 同上 测试 测试用户
    办公室 信息中心 值班 值班员 值班室 客服 前台 领导 老师 同事 网管 技术员 工程师 系统
    本单位 个人 员工 职工 文员 秘书 机要员 收发员 admin administrator user test guest unknown
""".split())


def reporter_names(reporters: Iterable[str]) -> list[str]:
    """The personal names in reporter cells, in first-seen order, without duplicates."""
    names: dict[str, None] = {}
    for cell in reporters:
        for part in _SEPARATORS.split(cell or ""):
            part = part.strip()
            if not part or any(c.isdigit() or c == "@" for c in part):
                continue
            if _CJK.match(part.replace(" ", "")):
                words = part.split()
                # "张 三" is one name spaced out; "张三 李四" are two.
                candidates = words if len(words) > 1 and all(len(w) >= 2 for w in words) else ["".join(words)]
                for name in candidates:
                    if (name := _chinese_name(name)):
                        names.setdefault(name, None)
            elif _LATIN.match(part) and part.casefold() not in NOT_NAMES:
                names.setdefault(part, None)
    return list(names)


def _chinese_name(text: str) -> str | None:
    for title in _TITLES:
        if text.endswith(title) and len(text) - len(title) >= 2:
            text = text[: -len(title)]
            break
    if len(text) < 2 or text in NOT_NAMES or (len(text) >= 3 and _ORG_SUFFIX.search(text)):
        return None
    return text


def trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation for many literal words, as a prefix tree: the engine follows
    shared prefixes once instead of trying every word at every position, and the longest
    word wins (张三丰 before 张三)."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _digits(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


class Scrubber:
    """Replaces personal data in text with the tokens in TOKENS. Build it once per batch
    (`Scrubber.for_tickets`): the names of that batch's reporters are compiled into the
    one regex used for every text."""

    def __init__(self, names: Iterable[str] = (), keep_numbers: Iterable[str] = ()):
        self.names = tuple(dict.fromkeys(n for n in names if len(n) >= 2))
        self.keep_numbers = frozenset(_digits(n) for n in keep_numbers)
        cjk = [n for n in self.names if not n.isascii()]
        latin = [n for n in self.names if n.isascii()]
        parts = [_STRUCTURED]
        if cjk:
            # The leading class lets the engine skip positions that cannot start a name.
            first = "".join(sorted({re.escape(n[0]) for n in cjk}))
            parts.append(f"(?P<name>(?=[{first}]){trie_pattern(cjk)})")
        if latin:
            parts.append(f"(?P<latin>(?<![A-Za-z])(?i:{trie_pattern(latin)})(?![A-Za-z]))")
        self._regex = _STRUCTURED_RE if len(parts) == 1 else re.compile("|".join(parts))

    @classmethod
    def for_tickets(cls, tickets: Iterable[Ticket], keep_numbers: Iterable[str] = ()) -> Scrubber:
        return cls(reporter_names(t.reporter for t in tickets), keep_numbers)

    def _replace(self, m: re.Match) -> str:
        kind = m.lastgroup
        if kind in ("mobile", "landline") and self.keep_numbers and _digits(m.group()) in self.keep_numbers:
            return m.group()
        return TOKENS["name" if kind == "latin" else kind]

    def scrub(self, text: str) -> str:
        if not text:
            return text
        if not _FULL_WIDTH.search(text):
            return self._regex.sub(self._replace, text)
        # Match on a half-width copy (１３８… typed with a Chinese input method), replace
        # in the original: the copy has the same length, so positions line up.
        parts, last = [], 0
        for m in self._regex.finditer(text.translate(_HALF_WIDTH)):
            parts += (text[last:m.start()], self._replace(m))
            last = m.end()
        parts.append(text[last:])
        return "".join(parts)

    def scrub_ticket(self, ticket: Ticket) -> Ticket:
        """The ticket with its free text scrubbed and its contact fields replaced."""
        new = {
            "description": self.scrub(ticket.description),
            "resolution": self.scrub(ticket.resolution),
            "notes": self.scrub(ticket.notes),
            "reporter": TOKENS["name"] if ticket.reporter else "",
            "phone": TOKENS["mobile"] if ticket.phone else "",
            "email": TOKENS["email"] if ticket.email else "",
        }
        # Positional construction: dataclasses.replace is several times slower.
        return Ticket(*[new[name] if name in new else getattr(ticket, name) for name in _TICKET_FIELDS])
