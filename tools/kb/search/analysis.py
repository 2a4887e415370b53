"""Text analysis for the engineers' full-text search: Markdown to plain text, and a
tokenizer that keeps error codes whole and segments Chinese with jieba.

jieba's own whoosh `ChineseAnalyzer` is not used: it records character offsets as token
positions (quoted phrase queries find nothing), splits `ERR-1042` into `err` + `1042`,
stems English (`listener` -> `listen`) and `import jieba.analyse` alone costs 1.6 s.

Importing this module does not import jieba (0.7 s cold): it is loaded the first time
Chinese text is tokenized.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from whoosh.analysis import Analyzer, Filter, Tokenizer
from whoosh.analysis import Token as WhooshToken

# Han ideographs: unified, extension A, compatibility, and the supplementary planes.
# jieba gets runs of these only; everything else is handled by the regular expression.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A letter or digit that is not Han (Latin, digits, Cyrillic, kana...).
_ALNUM = rf"[^\W_{_HAN}]"
# Characters that glue letters and digits into one identifier: ORA-12541, V8.1, max_conn,
# 10.0.0.1, TCP/IP, don't. Only *between* alphanumerics, so a sentence's final dot is not.
_JOINERS = "-_./'\u2019"

_TOKEN = re.compile(
    # SMTP reply + enhanced status ("550 5.7.1", "550-5.7.1"): one token; the class digit
    # must agree (5xx with 5.x.x) so "共 500 2.5.1 版" is not taken for one.
    rf"(?P<smtp>(?P<code>([245])\d\d)[ \t-]+(?P<status>\3\.\d{{1,3}}\.\d{{1,3}})(?![{_JOINERS}]?{_ALNUM}))"
    rf"|(?P<han>[{_HAN}]+)"
    rf"|(?P<word>{_ALNUM}+(?:[{_JOINERS}]{_ALNUM}+)*)"
)
_PART_SPLIT = re.compile(rf"[{_JOINERS}]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")

# Longer "words" are blobs (hashes, base64 left in plain text) nobody types into a search box.
MAX_TOKEN_LENGTH = 80

# Kept tiny on purpose: only particles that almost every Chinese sentence has, so that a
# query such as 公文的发送失败 still finds 公文发送失败. No English stop words: "not", "no"
# and "on" matter in error messages.
STOP_WORDS = frozenset("的 地 得 了 着 是 在 和 与 及 或 吗 呢 吧 啊".split())


@dataclass(frozen=True, slots=True)
class Token:
    """One token: `pos` is the token index (what phrase queries compare), `start`/`end`
    are character offsets into the text given to `tokenize`."""

    text: str
    pos: int
    start: int
    end: int


def tokenize(text: str, *, subwords: bool = False, segment: Callable[[str], Iterable[str]] | None = None) -> list[Token]:
    """Tokens of `text`, lowercased, punctuation and whitespace dropped.

    With `subwords`, also the parts of long Chinese words (服务 for 服务器) and of compound
    identifiers (ora, 12541 for ora-12541), each at the position of its parent so phrase
    queries still line up; the whoosh analyzer does this at index time only."""
    return [Token(*t) for t in _scan(text, subwords, segment)]


# --- tokenizer core -----------------------------------------------------------------

_jieba = None
_segmenter = None          # the jieba Tokenizer in use, with `_segmenter_words` added
_segmenter_words: frozenset[str] = frozenset()
_wanted_words: frozenset[str] = frozenset()


def _jieba_module():
    """jieba, imported on first use and silenced: it logs the dictionary loading to stderr."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return _jieba


def use_words(words: Iterable[str]) -> None:
    """Words jieba must keep whole when indexing, besides its dictionary: the project's
    synonym variants, so that a query's 移动端 or 进不去 is one indexed word (found with one
    term, not a phrase over 移动 + 端). jieba gets its own Tokenizer (about 0.7 s to load,
    on the first text to segment after the words changed), so the site build's jieba is
    left as it is."""
    global _wanted_words
    _wanted_words = frozenset(w for w in (unicodedata.normalize("NFKC", w).lower() for w in words)
                              if len(w) > 1 and re.fullmatch(f"[{_HAN}]+", w))


def _jieba_segmenter():
    global _segmenter, _segmenter_words
    if _segmenter is None or _segmenter_words != _wanted_words:
        segmenter = _jieba_module().Tokenizer()
        segmenter.initialize()
        for word in sorted(_wanted_words):
            segmenter.add_word(word)
        _segmenter, _segmenter_words = segmenter, _wanted_words
    return _segmenter


def dictionary_words() -> dict[str, int]:
    """The indexing segmenter's dictionary: word → frequency (0 for the prefixes it also holds)."""
    return _jieba_segmenter().FREQ


def _scan(text: str, subwords: bool, segment=None) -> Iterator[tuple[str, int, int, int]]:
    """(text, pos, start, end) for every token; sub-words follow their parent word."""
    norm, changed = _normalise(text)
    if changed:
        starts = [c[0] for c in changed]

        def orig(offset: int, is_end: bool) -> int:
            return _to_original(offset, changed, starts, is_end)
    else:
        def orig(offset: int, is_end: bool) -> int:
            return offset

    pos = 0
    for m in _TOKEN.finditer(norm):
        kind = "smtp" if m.group("smtp") else "han" if m.group("han") else "word"
        start, end = m.span()
        if kind == "han":
            # `segment` (the query side's vocabulary segmenter) spares loading jieba.
            words = segment(m.group()) if segment else _jieba_segmenter().cut(m.group(), HMM=True)
            offset = start
            for word in words:
                w_start, offset = offset, offset + len(word)
                yield word, pos, orig(w_start, False), orig(offset, True)
                if subwords and len(word) > 2:
                    for sub, s in _han_subwords(word, _jieba_segmenter().FREQ):
                        yield sub, pos, orig(w_start + s, False), orig(w_start + s + len(sub), True)
                pos += 1
            continue
        if end - start > MAX_TOKEN_LENGTH:
            continue
        o_start, o_end = orig(start, False), orig(end, True)
        if kind == "smtp":
            # Canonical spelling, so "550-5.7.1" and "550  5.7.1" find "550 5.7.1".
            yield f"{m.group('code')} {m.group('status')}", pos, o_start, o_end
            if subwords:
                # whoosh's query parser splits an unquoted 550 5.7.1 at the space.
                for part in ("code", "status"):
                    yield m.group(part), pos, orig(m.start(part), False), orig(m.end(part), True)
        else:
            word = m.group().lower()
            yield word, pos, o_start, o_end
            if subwords:
                seen = {word}
                for p in _PART_SPLIT.split(word):
                    # Single characters (the 1 of v8.1) would match nearly everything.
                    if len(p) > 1 and p not in seen:
                        seen.add(p)
                        yield p, pos, o_start, o_end
        pos += 1


def _han_subwords(word: str, freq: dict) -> Iterator[tuple[str, int]]:
    """Dictionary words inside a longer word, as jieba's cut_for_search finds them
    (2- and 3-character n-grams with a non-zero frequency), with their offsets."""
    seen = {word}
    for n in (2, 3):
        if len(word) > n:
            for i in range(len(word) - n + 1):
                gram = word[i:i + n]
                # FREQ also holds every dictionary word's prefixes, with frequency 0.
                if gram not in seen and freq.get(gram):
                    seen.add(gram)
                    yield gram, i


def _normalise(text: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    """NFKC (full-width ＯＲＡ－１２５４１ becomes ORA-12541) and the characters whose length
    changed (… becomes ...), as (norm_start, norm_end, orig_start, orig_end), so token
    offsets still point into the original text for highlighting."""
    if text.isascii():
        return text, []
    pieces, changed, last, npos = [], [], 0, 0
    for m in _NON_ASCII.finditer(text):
        start, end = m.span()
        pieces.append(text[last:start])
        npos += start - last
        run = m.group()
        norm = unicodedata.normalize("NFKC", run)
        if len(norm) == len(run):
            pieces.append(norm)
            npos += len(norm)
        else:
            # Rare: normalise character by character to know where each one went.
            for i, ch in enumerate(run, start):
                n = unicodedata.normalize("NFKC", ch)
                if len(n) != 1:
                    changed.append((npos, npos + len(n), i, i + 1))
                pieces.append(n)
                npos += len(n)
        last = end
    pieces.append(text[last:])
    return "".join(pieces), changed


def _to_original(offset: int, changed: list, starts: list[int], is_end: bool) -> int:
    i = bisect_right(starts, offset) - 1
    if i < 0:
        return offset
    n_start, n_end, o_start, o_end = changed[i]
    if offset < n_end:
        # At or inside an expanded character: a token starting in it starts at the
        # character, one ending in it ends after the character.
        return o_end if is_end and offset > n_start else o_start
    return offset - n_end + o_end


# --- whoosh -------------------------------------------------------------------------

# Separates the sections of one field's value (title, symptoms, ... joined into one
# indexed field); each section's tokens get its own boost, and a gap in positions keeps a
# phrase from matching across two sections.
SECTION_BREAK = "\x1e"
SECTION_GAP = 10


class KBTokenizer(Tokenizer):
    """The whoosh face of `tokenize`. Sub-words are added in mode="index" only: a query
    for 服务器 should look for the word 服务器, and a phrase query built from sub-words at
    one position would never match.

    `section_boosts[i]` is the boost of the tokens of the i-th SECTION_BREAK-separated
    section (whoosh adds boosts up into a posting's weight, which BM25 takes as the term
    frequency): one field weighted like several has fewer postings to scan than one
    field each.

    Holds no state beyond the boosts, so it pickles into a whoosh schema; the jieba
    segmenter is the module-level one (see use_words)."""

    def __init__(self, section_boosts: tuple[float, ...] = ()):
        self.section_boosts = tuple(section_boosts)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[WhooshToken]:
        assert isinstance(value, str), f"{value!r} is not str"
        t = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.boost = 1.0
        t.stopped = False
        if not tokenize:
            # Range and similar queries ask for the value as one term.
            t.text = unicodedata.normalize("NFKC", value).lower()
            if keeporiginal:
                t.original = value
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos_base, char_base = start_pos, start_char
        for number, section in enumerate(value.split(SECTION_BREAK)):
            boost = self.section_boosts[number] if number < len(self.section_boosts) else 1.0
            last = -1
            for text, pos, start, end in _scan(section, subwords=mode == "index"):
                t.text = text
                t.boost = boost
                t.stopped = False
                last = pos
                if keeporiginal:
                    t.original = section[start:end]
                if positions:
                    t.pos = pos_base + pos
                if chars:
                    t.startchar, t.endchar = char_base + start, char_base + end
                yield t
            pos_base += last + 1 + SECTION_GAP
            char_base += len(section) + len(SECTION_BREAK)


class ChineseStopFilter(Filter):
    """Drops stop words and closes the gap they leave, so 公文的发送 still matches the
    phrase "公文 发送". Unlike whoosh's StopFilter it keeps single characters (most Chinese
    words of one character are meaningful) and renumbers per position, not per token,
    so sub-words keep sharing their parent's position."""

    def __init__(self, stoplist=STOP_WORDS):
        self.stops = frozenset(stoplist)

    def __call__(self, tokens: Iterator[WhooshToken]) -> Iterator[WhooshToken]:
        stops = self.stops
        removed = 0          # positions dropped so far
        current = None       # original position of the current group
        group_stopped = False
        for t in tokens:
            if t.positions and t.pos != current:
                # The first token at a position is the word; sub-words follow it.
                current = t.pos
                group_stopped = t.text in stops
                if group_stopped and t.removestops:
                    removed += 1
            is_stop = t.text in stops or (t.positions and group_stopped)
            if is_stop and t.removestops:
                continue
            if t.positions:
                t.pos -= removed
            t.stopped = is_stop
            yield t


def analyzer(section_boosts: tuple[float, ...] = ()) -> Analyzer:
    """The analyzer for full-text fields: no stemming, codes whole, jieba for Chinese;
    `section_boosts` as in KBTokenizer."""
    return KBTokenizer(section_boosts) | ChineseStopFilter()


# --- Markdown to plain text -----------------------------------------------------------
# Every pattern below either has no nested or adjacent repetition that could overlap,
# or is bounded ({0,500}), so a 5 MB article is cleaned in linear time.

_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
_DATA_URI = re.compile(
    r"(?<![\w-])data:[\w.+-]{1,100}/[\w.+-]{1,100}(?:;[\w.+=-]{1,100})*,[^\s)\"'<>]*", re.I)
# Base64 left without a data: prefix (pasted images, certificates on one line).
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{200,}={0,2}")
_QUOTE = re.compile(r"[ \t]*(?:>[ \t]?)+")
_HEADING = re.compile(r"[ \t]{0,3}#{1,6}(?:[ \t]+|$)")
_REF_DEFINITION = re.compile(r"[ \t]{0,3}\[(?!\^)[^\]\n]{1,500}\]:[ \t]*\S")
_RULE_CHARS = frozenset("-=*_:|+ \t")
_LINK = re.compile(
    r"!?\[([^\[\]\n]{0,500})\]"
    # (url "title"): the URL cannot be blank, so no two runs of spaces compete for the
    # same spaces (that made "[x](" + 2000 spaces quadratic).
    r"(?:\([ \t]*(?:<?[^()\s<>]{1,2000}>?(?:[ \t]+(?:\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'))?[ \t]*)?\)"
    r"|\[[^\[\]\n]{0,200}\])")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]{1,50}\]")
_AUTOLINK = re.compile(r"<(?:https?|ftp|mailto):[^<>\s]{0,2000}>", re.I)
_TAG = re.compile(r"<(?:/?([A-Za-z][A-Za-z0-9-]{0,30})(?:\s[^<>]{0,2000})?/?|[!?][^<>]{0,2000})>")
# Tags that separate words; inline ones (<b>, <span>) are removed without a trace so
# <b>公文</b>发送 stays one Chinese run.
_BLOCK_TAGS = frozenset(
    "br p div li ul ol dl dt dd tr td th table thead tbody h1 h2 h3 h4 h5 h6 hr img "
    "blockquote pre section article header footer details summary".split())
_MARKERS = re.compile(r"\*+|~~|`+|\|")
_HAN_BREAK = re.compile(rf"(?<=[{_HAN}])\n(?=[{_HAN}])")
_WHITESPACE = re.compile(r"\s+")


def plain_text(markdown: str) -> str:
    """What of a Markdown body is worth indexing, as one line of text: code text without
    its fences, link and image text without URLs, no HTML, no data: URIs or base64, no
    emphasis, heading or table markup."""
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    text = _BASE64.sub("", _DATA_URI.sub("", text))
    out, prose, fence = [], [], None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                out.append(_clean_prose(prose))
                prose, fence = [], m.group(1)
            else:
                prose.append(line)
        elif m and set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
            fence = None
        else:
            out.append(line)  # code: kept as written, only the fences go
    out.append(_clean_prose(prose))
    # A line break inside a Chinese sentence is not a word boundary; a blank line, a
    # heading or a table row (which starts with a space where its pipe was) is.
    text = _HAN_BREAK.sub("", "\n".join(out))
    return _WHITESPACE.sub(" ", text).strip()


def _clean_prose(lines: list[str]) -> str:
    kept = []
    for line in lines:
        line = line[_QUOTE.match(line).end():] if line.lstrip().startswith(">") else line
        stripped = line.strip()
        # Dropped lines stay as blank lines: they end a paragraph.
        if not stripped or set(stripped) <= _RULE_CHARS:
            line = ""  # blank, rule (---, ***), setext underline, table |---|:---:|
        elif _REF_DEFINITION.match(line):
            line = ""  # [id]: https://... is only a URL
        elif m := _HEADING.match(line):
            body = line[m.end():].rstrip()
            trimmed = body.rstrip("#")
            # "## 标题 ##" loses its closing hashes, "## 学习 C#" keeps its own.
            line = trimmed if trimmed != body and (not trimmed or trimmed[-1] in " \t") else body
            kept.append("")  # a heading is a block of its own
            kept.extend((line, ""))
            continue
        kept.append(line)
    text = _drop_comments("\n".join(kept))
    # Twice, for an image inside a link: [![alt](badge.png)](https://...).
    text = _LINK.sub(r"\1", _LINK.sub(r"\1", text))
    text = _FOOTNOTE_REF.sub("", _AUTOLINK.sub("", text))
    text = _TAG.sub(lambda m: " " if (m.group(1) or "").lower() in _BLOCK_TAGS else "", text)
    text = _MARKERS.sub(lambda m: " " if m.group() == "|" else "", text)
    return html.unescape(text)


def _drop_comments(text: str) -> str:
    """<!-- ... --> removed with str.find: a regex would rescan the rest of the text for
    every unclosed <!--. An unclosed one loses only its marker."""
    out, i = [], 0
    while (start := text.find("<!--", i)) != -1:
        out.append(text[i:start])
        end = text.find("-->", start + 4)
        if end == -1:
            # Nothing after this closes either: searching again for every later <!--
            # would be quadratic.
            return "".join(out) + text[start:].replace("<!--", "")
        i = end + 3
    out.append(text[i:])
    return "".join(out)
