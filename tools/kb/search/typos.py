"""Pinyin typos: callers type with a pinyin input method and pick the wrong homophone
(公问 for 公文, 登路 for 登录, 秘码 for 密码). A stretch of the query that is no word of
the index but sounds like one (same toneless pinyin, one character different) is read
as that word.

Every reading of every common character comes from `search_index/pinyin.json`, written
once by `kb index` with pypinyin (whose import alone takes 1-1.5 s, too slow for a
query or a one-article re-index); the index's words are looked up by those readings.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

PINYIN_FILE = "pinyin.json"
MIN_ARTICLES = 2    # a word this rare is not what a caller meant to type
WORD_LENGTHS = (2, 3, 4)
MAX_READINGS = 8    # reading combinations of one word looked up (重 is zhong or chong)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Characters that are words of their own in a caller's sentence: a stretch holding one is
# grammar, not a misspelt term (发不出去 is not 发布出去).
GRAMMAR = frozenset("不没未别了的地得着过是在有无我你他她它们这那哪就都也还又再很太挺吗呢吧啊呀要会能可把被让给从到对和与或跟就才却只")


def write_readings(path: Path, write) -> None:
    """Every reading of the CJK characters pypinyin knows; `write(path, text)` is the
    index's atomic writer."""
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    readings = {chr(code): pinyin(chr(code), style=Style.NORMAL, heteronym=True)[0]
                for code in pinyin_dict if 0x4E00 <= code <= 0x9FFF}
    write(path, json.dumps(readings, ensure_ascii=False, separators=(",", ":")))


def read_readings(path: Path) -> dict[str, list[str]] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _keys(text: str, readings: dict[str, list[str]]) -> list[str]:
    options = [readings.get(c) for c in text]
    if None in options:
        return []
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), MAX_READINGS)]


class Homophones:
    """The index's words by their readings, built on the first query that needs them."""

    def __init__(self, vocabulary: dict[str, int], readings: dict[str, list[str]]):
        self.vocabulary, self.readings = vocabulary, readings
        self.words: dict[str, list[tuple[int, str]]] = {}
        for word, count in vocabulary.items():
            if len(word) in WORD_LENGTHS and count >= MIN_ARTICLES and _HAN_RUN.fullmatch(word):
                for key in _keys(word, readings):
                    self.words.setdefault(key, []).append((count, word))

    def correct(self, query: str) -> str:
        """The query with each homophone typo replaced by the index word it sounds like."""
        return _HAN_RUN.sub(lambda m: self._fix_run(m.group(0)), query)

    def _fix_run(self, run: str) -> str:
        out, i = [], 0
        while i < len(run):
            known = next((n for n in sorted(WORD_LENGTHS, reverse=True)
                          if i + n <= len(run) and run[i:i + n] in self.vocabulary), 0)
            fixed = None if known else next(((n, word) for n in WORD_LENGTHS if i + n <= len(run)
                                             for word in [self._homophone(run[i:i + n])] if word), None)
            if known:
                out.append(run[i:i + known])
                i += known
            elif fixed:
                out.append(fixed[1])
                i += fixed[0]
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _homophone(self, window: str) -> str | None:
        """The most common index word that sounds like `window` and differs in one character."""
        if GRAMMAR.intersection(window):
            return None
        # The typed characters in their usual reading; the words in any of theirs (重心
        # finds 重新, but 出差 must not find 出错 through 差's rare reading cuo).
        key = " ".join(self.readings[c][0] for c in window if c in self.readings)
        found = [(count, word) for count, word in self.words.get(key, ())
                 if len(word) == len(window) and sum(a != b for a, b in zip(word, window)) == 1]
        return max(found)[1] if found else None
