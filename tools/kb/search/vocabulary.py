"""Callers' everyday words for what the articles name otherwise (开会的软件 → Teams, 网盘 →
OneDrive), learned from what callers said about an article and offered for curation as
synonym groups (docs/_data/synonyms.yml, kb.search.synonyms).

Evidence is a caller's text and the article that answered it, with a count: the symptoms
linked tickets reported (kb link), the searches whose results led to an article (kb
serve's log). A word of the caller's is *everyday* for an article when the article does
not contain it; the words of the article's title are the candidates for what it names.
Only the nouns a caller said count (jieba's part-of-speech tags): things are what callers
name in their own words (网盘, 表格, 批文); their verbs and pronouns (退回, 别人, 有没有)
name nothing, and typos (登陆) are kb.search.typos' business. A pair (everyday word,
title word) is suggested when

- the word was said about at least MIN_ARTICLES different articles (one article's
  tickets are that article's symptoms, which linking already puts into search);
- one title word is in the titles of at least MIN_SHARE of those articles, and MIN_LIFT
  times as often as in all titles: a word said of Teams articles names Teams, a word
  said of everything (一直, 老是) names nothing, and one said of articles whose titles
  mostly hold 提示 or 无法 anyway names neither;
- the word is rare in the knowledge base (in at most MAX_WORD_SHARE of the articles):
  a common word already finds articles by itself.

The title word is the most specific of those that pass (highest idf over the titles):
of 微软 Teams 会议, Teams says more than 会议. A word already in a synonym group, or a pair
curated away, is not offered again.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kb.articles import Article
from kb.search.analysis import STOP_WORDS, tokenize
from kb.search.synonyms import Synonyms, normalise

MIN_ARTICLES = 2
MIN_SHARE = 0.6
MIN_LIFT = 3.0
MAX_WORD_SHARE = 0.01
_WORD = re.compile(r"[\u3400-\u9fff]{2,}|[a-z][a-z0-9+#.]{1,}")
# Words of callers' stories that name no product whatever they are said about.
_FILLER = frozenset("一直 老是 总是 今天 早上 上午 下午 晚上 刚才 现在 突然 昨天 怎么 怎么办 什么 为什么 "
                    "一下 帮忙 麻烦 谢谢 不行 不了 没法 还是 已经 可以 不能 就是 这个 那个 我们 他们 自己 "
                    "同事 领导 电脑 公司 我的 你好 请问 急用 紧急 马上 "
                    # nouns that name no thing: 没反应, 有问题, 什么情况
                    "反应 问题 情况 东西 办法 时候 地方 样子 原因 事情 部分 方面".split())


@dataclass(frozen=True)
class Evidence:
    text: str          # what the caller said (scrubbed)
    article_id: str    # the article that answered it
    count: int = 1     # tickets or searches that said it
    source: str = "工单"


@dataclass
class Suggestion:
    word: str           # the caller's word
    term: str           # the title word it names
    articles: int       # articles the word was said about
    share: float        # of those, the share whose title holds the term
    count: int          # tickets and searches behind it
    examples: list[str]
    sources: list[str]

    def to_dict(self) -> dict:
        return {"word": self.word, "term": self.term, "articles": self.articles, "share": round(self.share, 3),
                "count": self.count, "examples": self.examples, "sources": self.sources}


# jieba's tags for nouns: common, other proper, place, organisation, idiom-like, verbal
# nouns (投屏 as a thing), and Latin words (onedrive, vpn).
_NOUN_TAGS = frozenset("n nz ns nt nl ng vn eng".split())


def _caller_nouns(text: str) -> list[str]:
    import jieba.posseg  # only here: its model takes a second to load, kb search never needs it

    found = []
    for pair in jieba.posseg.cut(normalise(text)):
        word = pair.word.strip()
        if pair.flag in _NOUN_TAGS and _WORD.fullmatch(word) and word not in _FILLER:
            found.append(word)
    return found


def _words(text: str) -> list[str]:
    """The content words of a text: Chinese words of two or more characters and Latin
    words, lower case, without particles and fillers."""
    found = []
    for token in tokenize(text):
        word = token.text
        if _WORD.fullmatch(word) and word not in STOP_WORDS and word not in _FILLER:
            found.append(word)
    return found


def suggest_synonyms(evidence: Iterable[Evidence], articles: Iterable[Article], synonyms: Synonyms,
                     rejected: Iterable[tuple[str, str]] = ()) -> list[Suggestion]:
    """Suggested (everyday word, title word) pairs, best supported first (see the module's doc)."""
    by_id = {a.id: a for a in articles}
    texts = {a.id: normalise("\n".join([a.title, *a.symptoms, *a.aliases, a.body])) for a in by_id.values()}
    titles = {a.id: set(_words(a.title)) for a in by_id.values()}
    title_df = Counter(word for words in titles.values() for word in words)
    known = {normalise(v) for v in synonyms.variants}
    rejected = {(normalise(w), normalise(t)) for w, t in rejected}

    said: dict[str, Counter] = defaultdict(Counter)      # word → article → count
    examples: dict[str, list[str]] = defaultdict(list)
    sources: dict[str, set[str]] = defaultdict(set)
    for item in evidence:
        text = texts.get(item.article_id)
        if text is None:
            continue
        for word in dict.fromkeys(_caller_nouns(item.text)):
            if word in known or word in text:
                continue
            said[word][item.article_id] += item.count
            sources[word].add(item.source)
            if len(examples[word]) < 3 and item.text not in examples[word]:
                examples[word].append(item.text)

    total = max(len(by_id), 1)
    suggestions = []
    for word, per_article in said.items():
        if len(per_article) < MIN_ARTICLES:
            continue
        if sum(word in text for text in texts.values()) > MAX_WORD_SHARE * total:
            continue
        holding = Counter(term for article_id in per_article for term in titles[article_id])
        passing = [term for term, n in holding.items()
                   if n >= MIN_ARTICLES and n / len(per_article) >= MIN_SHARE
                   and n / len(per_article) >= MIN_LIFT * title_df[term] / total and (word, term) not in rejected]
        if not passing:
            continue
        term = max(passing, key=lambda t: (math.log(total / title_df[t]), holding[t], t))
        suggestions.append(Suggestion(word, term, len(per_article), holding[term] / len(per_article),
                                      sum(per_article.values()), examples[word], sorted(sources[word])))
    suggestions.sort(key=lambda s: (-s.articles, -s.count, s.word))
    return suggestions
