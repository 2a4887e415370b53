"""Symptoms in callers' words, from ticket descriptions, normalised and grouped.

`extract_symptoms` splits a description into clauses (at 。！？；，and line breaks, never
inside quotes or brackets, so 提示“找不到下一步处理人，请联系管理员” stays whole), drops
clauses that carry no symptom (greetings, "麻烦看一下", contact details), and joins a
clause that reports a message (提示… / 报… / 显示…) to the clause before it, so "公文发送
失败，提示500错误" and "公文发送失败! 提示 500 错误。" both give one symptom.

`symptom_key` is the canonical form for comparing symptoms: NFKC (full-width → half-
width), case-folded, with the numbers that vary from ticket to ticket replaced — times
(14:20, 8点半), dates, IP addresses, long digit runs and letter+digit serials (ticket,
order and document numbers), counts with units (30 分钟, 120MB) — words saying when it
happened (今天早上, 刚才) dropped, frequent typos and colloquial forms spelt one way
(登陆 → 登录, 点击 → 点, see CANONICAL), and then spaces and punctuation removed.
Error codes are kept: 500, ORA-12541, 0x80070005, 550 5.7.1, DOC-5001 and AUTH-1003
survive as themselves (without their punctuation).

`group_symptoms` merges symptoms of the same article whose keys are equal, or whose
character-bigram Jaccard similarity is ≥ 0.8; each group shows its most frequent
variant as written (in half-width form; scrubbed, if a Scrubber is given).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from kb.tickets.privacy import TOKENS, Scrubber

JACCARD_THRESHOLD = 0.8

# A quoted or bracketed stretch, a run of ordinary text, or one separator.
_TOKEN = re.compile(r"“[^”]*”|\"[^\"]*\"|「[^」]*」|《[^》]*》|（[^）]*）|\([^)]*\)|\[[^\]]*\]|【[^】]*】"
                    r"|[^“\"「《（(\[【，,。！!？?；;\n\r]+|.", re.S)
_SEPARATOR = frozenset("，,。！!？?；;\n\r")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff”」》）])[ \u3000]+(?=[\u3400-\u9fff“「《（])")
# Full-width letters, digits and code punctuation (－．＿＠…) → ASCII, ideographic space →
# space. Chinese punctuation (，（）“”) stays, unlike with NFKC: readers expect it.
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c).isalnum() or chr(c) in "－．＿＠＃％＋／"}
_HALF_WIDTH[0x3000] = 0x20
_MESSAGE_START = re.compile(r"^\s*(?:又|还|就|然后|并且|并|但|且|而且|一直|总是|老是)?\s*(?:提示|报错|报|显示|弹出|出现|说|跳出|返回)")
_SIGNAL = re.compile(
    r"失败|错误|出错|报错|提示|无法|打不开|没(?!问题)|不[了上到出开动全对可能行见显弹存]|异常|空白|白屏|乱码|闪退|"
    r"卡住|卡在|卡死|很慢|太慢|超时|丢失|丢了|缺失|为空|是空|重复|错位|中断|已存在|已被|拒绝|过期|到期|锁定|锁了|"
    r"退信|退回|转圈|崩溃|停止|点不|黑屏|灰的|灰色|跳转|反复|来回|延迟|偏|压在|"
    r"error|fail|denied|timeout|timed out|refused|not found|invalid|exception|\b[45]\d\d\b|[A-Z]{2,}[-_]\d{3,}|0x[0-9a-f]{6,}",
    re.I,
)
_FILLER = re.compile(r"^(?:你好|您好|老师好|在吗|麻烦|谢谢|请帮忙|帮忙|急|急急急|辛苦|打扰)")
_INTRO = re.compile(r"^(?:我是|我们是|这里是|我这边是|我叫)")
_TIME_ONLY = re.compile(r"[\d\s:/.\-点时分秒半左右今天昨前早晚上中下午刚才这两最近从开始起号月日年]*")

# The parts that vary between tickets, in one pattern (one pass per text). Where two
# could match at the same place the first listed wins: an IP before a time, a date before
# a long digit run. The leading class skips positions no part can start at.
_VARIABLE_PARTS = {
    "网址": r"https?://\S+",
    "token": "|".join(re.escape(token.casefold()) for token in TOKENS.values()),  # the text is case-folded
    "IP": r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])",
    "日期": r"(?<!\d)\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?|(?<!\d)\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
    "时间": r"(?<!\d)\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?(?!\d)|(?<!\d)\d{1,2}\s*[点时](?:\s*\d{1,2}\s*分|半|多|钟)?",
    "编号": r"(?<![a-z0-9-])[a-z]{1,4}\d{8,}(?![a-z0-9])|(?<![a-z0-9-])\d{6,}(?![a-z0-9])",
    "数": r"(?<![a-z0-9.-])\d+(?:\.\d+)?\s*(?=mb|gb|kb|m|g|k|兆|分钟|小时|秒|天|个|份|次|人|条|页|%|多)",
}
_GROUPS = {f"v{i}": name for i, name in enumerate(_VARIABLE_PARTS)}
_VARIABLE = re.compile("(?=[0-9a-z〔])(?:" + "|".join(
    f"(?P<v{i}>{pattern})" for i, pattern in enumerate(_VARIABLE_PARTS.values())) + ")")


def _placeholder(m: re.Match) -> str:
    name = _GROUPS[m.lastgroup]
    return f" {m.group()} " if name == "token" else f" 〔{name}〕 "


# Frequent input-method typos and colloquial forms → one spelling, for keys only (the
# displayed phrase keeps the caller's words). Extend as new variants show up.
CANONICAL = (
    ("登陆", "登录"), ("帐号", "账号"), ("帐户", "账户"), ("以经", "已经"), ("从新", "重新"),
    ("按装", "安装"), ("题示", "提示"), ("付件", "附件"), ("附建", "附件"), ("现实", "显示"),
    ("空件", "控件"), ("验证吗", "验证码"), ("上穿", "上传"), ("密吗", "密码"), ("审枇", "审批"),
    ("点击", "点"), ("没有", "没"), ("无法", "没法"), ("不能", "没法"), ("网页", "页面"),
    ("界面", "页面"), ("老是", "一直"), ("总是", "一直"), ("收不着", "收不到"), ("弹出", "提示"),
    ("显示成", "显示为"), ("得", "的"),
)
_CANONICAL = re.compile("|".join(re.escape(a) for a, _ in sorted(CANONICAL, key=lambda p: -len(p[0]))))
_CANONICAL_MAP = dict(CANONICAL)
_WHEN = re.compile(r"(?:从\s*)?(?:(?:今天|昨天|前天|今早|昨晚|刚才|刚刚|这两天|最近|早上|上午|中午|下午|晚上|〔时间〕|〔日期〕)\s*)+(?:开始|起|左右)?")
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")


def half_width(text: str) -> str:
    return text.translate(_HALF_WIDTH)


@dataclass(frozen=True)
class Symptom:
    text: str        # as written (trimmed)
    normalised: str  # readable normal form, variable parts replaced
    key: str         # compact comparison key


def normalise(text: str) -> str:
    """NFKC, case-folded, variable numbers replaced by 〔时间〕/〔日期〕/…, spaces collapsed."""
    text = _VARIABLE.sub(_placeholder, unicodedata.normalize("NFKC", text).casefold())
    return _SPACES.sub(" ", text).strip()


def key_of_normalised(normal: str) -> str:
    text = _WHEN.sub("", normal)
    return _NON_WORD.sub("", _CANONICAL.sub(lambda m: _CANONICAL_MAP[m.group()], text))


def symptom_key(text: str) -> str:
    """Equal for the same symptom written differently (spacing, punctuation, width, times,
    and when it happened: 今天早上, 刚才 …)."""
    return key_of_normalised(normalise(text))


def _clause_spans(text: str) -> list[tuple[int, int]]:
    # A space between two Chinese characters separates clauses ("登录不上 多试几次"); it
    # becomes a line break of the same length, so spans still index the original text.
    marked = _CJK_SPACE.sub(lambda m: "\n" * len(m.group()), text or "")
    spans, start, end = [], None, None
    for m in _TOKEN.finditer(marked):
        if m.group() in _SEPARATOR:
            if start is not None:
                spans.append((start, end))
            start = None
        else:
            if start is None:
                start = m.start()
            end = m.end()
    if start is not None:
        spans.append((start, end))
    result = []  # trimmed, without empty clauses
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            result.append((a, b))
    return result


def split_clauses(text: str) -> list[str]:
    """Clauses of a description; separators inside quotes and brackets do not split."""
    return [text[a:b] for a, b in _clause_spans(text)]


def is_symptom(clause: str) -> bool:
    """Whether a clause reports what went wrong (an error, a message, something missing)."""
    normal = unicodedata.normalize("NFKC", clause)
    return bool(_SIGNAL.search(normal)) and not (_FILLER.match(normal) and len(normal) <= 8)


def extract_symptoms(description: str) -> list[Symptom]:
    """The symptoms in a description, in order, without repeats. Each keeps the text as
    written, from its first clause to its last (separators between them included)."""
    pieces: list[list[tuple[int, int]]] = []
    for span in _clause_spans(description):
        clause = description[span[0]:span[1]]
        if pieces and _MESSAGE_START.match(clause) and _can_continue(description[pieces[-1][-1][0]:pieces[-1][-1][1]]):
            pieces[-1].append(span)  # "…失败，提示500错误" is one symptom
        else:
            pieces.append([span])
    result, seen = [], set()
    for piece in pieces:
        if not any(is_symptom(description[a:b]) for a, b in piece):
            continue
        text = description[piece[0][0]:piece[-1][1]]
        normal = normalise(text)
        key = key_of_normalised(normal)
        if key and key not in seen:
            seen.add(key)
            result.append(Symptom(text, normal, key))
    return result


def _can_continue(clause: str) -> bool:
    """Whether a message clause may be joined to `clause`: not to a greeting, an
    introduction ("我是办公室的") or a bare time ("今天早上9点")."""
    normal = unicodedata.normalize("NFKC", clause)
    return not (_FILLER.match(normal) or _INTRO.match(normal) or _TIME_ONLY.fullmatch(normal))


def bigrams(key: str) -> frozenset[str]:
    return frozenset(key[i:i + 2] for i in range(len(key) - 1)) if len(key) > 1 else frozenset([key])


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass
class SymptomGroup:
    article_id: str | None  # None: tickets that name no article
    key: str                # key of the group's most frequent variant
    phrase: str             # most frequent variant as written
    count: int = 0
    variants: Counter = field(default_factory=Counter)
    ticket_ids: list[str] = field(default_factory=list)


def group_symptoms(occurrences: Iterable[tuple[str | None, str, str]], *,
                   scrubber: Scrubber | None = None,
                   threshold: float = JACCARD_THRESHOLD) -> list[SymptomGroup]:
    """Group symptom occurrences `(article_id, ticket_id, text)` per article: same key, or
    bigram Jaccard ≥ `threshold`. Texts are scrubbed first when a scrubber is given (the
    phrases leave the tool). Groups come most frequent first; ties in first-seen order."""
    # article → key → (variants, ticket ids), in first-seen order
    by_article: dict[str | None, dict[str, tuple[Counter, list[str]]]] = {}
    for article_id, ticket_id, text in occurrences:
        if scrubber is not None:
            text = scrubber.scrub(text)
        text, key = _written_and_key(text)
        if not key:
            continue
        variants, tickets = by_article.setdefault(article_id, {}).setdefault(key, (Counter(), []))
        variants[text] += 1
        tickets.append(ticket_id)
    return _cluster(by_article, threshold)


def group_counted(rows: Iterable[tuple[str | None, str, int]], *,
                  threshold: float = JACCARD_THRESHOLD) -> list[SymptomGroup]:
    """As group_symptoms, for phrases already counted: `(article_id, text, tickets)` (the
    ticket store's aggregates). The groups' `ticket_ids` stay empty."""
    by_article: dict[str | None, dict[str, tuple[Counter, list[str]]]] = {}
    for article_id, text, count in rows:
        text, key = _written_and_key(text)
        if key:
            by_article.setdefault(article_id, {}).setdefault(key, (Counter(), []))[0][text] += count
    return _cluster(by_article, threshold)


def _written_and_key(text: str) -> tuple[str, str]:
    # Width variants (ＡＵＴＨ－１００３) count as one way of writing the symptom.
    text = _SPACES.sub(" ", half_width(text)).strip()
    return text, symptom_key(text)


def _cluster(by_article: dict[str | None, dict[str, tuple[Counter, list[str]]]], threshold: float) -> list[SymptomGroup]:
    groups: list[SymptomGroup] = []
    for article_id, keys in by_article.items():
        ordered = sorted(keys.items(), key=lambda kv: -sum(kv[1][0].values()))  # stable
        clusters: list[tuple[frozenset, SymptomGroup]] = []
        for key, (variants, tickets) in ordered:
            grams = bigrams(key)
            target = next((g for rep, g in clusters if _close(grams, rep, threshold)), None)
            if target is None:
                target = SymptomGroup(article_id, key, "")
                clusters.append((grams, target))
            target.variants.update(variants)
            target.ticket_ids.extend(tickets)
            target.count += sum(variants.values())
        for _, group in clusters:
            group.phrase = group.variants.most_common(1)[0][0]
            group.key = symptom_key(group.phrase)
            groups.append(group)
    groups.sort(key=lambda g: -g.count)
    return groups


def _close(a: frozenset, b: frozenset, threshold: float) -> bool:
    # Jaccard can't reach the threshold when the sets differ too much in size.
    small, large = sorted((len(a), len(b)))
    return large > 0 and small / large >= threshold and jaccard(a, b) >= threshold
