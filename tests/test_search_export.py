"""The site's static search data (kb.search.export): what the public files hold, and
what they must never hold."""

import json

from conftest import read_search_data
from kb.search.analysis import plain_text, tokenize
from kb.search.export import float32_text, shard
from kb.search.index import is_searchable
from kb.search.synonyms import normalise


def article_text(data: dict) -> str:
    """Every key and string of the files made from the articles, as one text (the meta
    holds the project's synonyms and the ranking constants, not article text)."""
    return json.dumps({name: value for name, value in data.items() if name != "meta"}, ensure_ascii=False)


def words_of(article) -> set[str]:
    text = " ".join([article.title, *article.symptoms, plain_text(article.body)])
    return {t.text for t in tokenize(text, subwords=True)}


def test_public_files_hold_no_internal_id_title_or_word(built_sample):
    project, public, internal = built_sample
    hidden = [a for a in project.articles if not is_searchable(a, "public")]
    shown = [a for a in project.articles if is_searchable(a, "public")]
    assert any(a.audience == "internal" for a in hidden) and any(a.status == "draft" for a in hidden)
    shown_text = normalise(" ".join(" ".join([a.title, *a.symptoms, a.body]) for a in shown))
    # Words of the hidden articles that no shown article has, even inside a longer word
    # (numbers aside: the data are full of article numbers and positions).
    secret = {w for a in hidden for w in words_of(a)
              if len(w) >= 2 and not w.isdigit() and normalise(w) not in shown_text}
    assert len(secret) >= 20
    public_text = normalise(article_text(read_search_data(public)))
    internal_text = normalise(article_text(read_search_data(internal)))
    for article in hidden:
        assert article.id not in public_text and normalise(article.title) not in public_text, article.id
    leaked = sorted(w for w in secret if normalise(w) in public_text)
    assert leaked == []
    # The same check finds them in the internal site's data: it can fail.
    assert sum(normalise(w) in internal_text for w in secret) >= len(secret) * 0.9


def test_search_data_of_an_article(built_sample):
    project, public, _ = built_sample
    data = read_search_data(public)
    ids = [data[f"d/{n}"][0] for n in range(data["meta"]["articles"])]
    assert ids == sorted(ids)  # article order is id order: equal scores rank by id, as kb search does
    first = data["d/0"]
    assert first[:3] == ["KB-0001", "公文发送时提示“HTTP 500 内部服务器错误”", "公文流转"]
    meta_shards = data["meta"]["shards"]
    postings = data[f"t/{shard('ora-12541', meta_shards['t'])}"]["ora-12541"]
    assert postings[0] == 1  # one article has the code


def test_float32_text_is_the_shortest_exact_decimal():
    assert float32_text(1.7999999523162842) == "1.8"  # whoosh's float32 weight of 3 × 0.6
    assert float32_text(1.0) == "1" and float32_text(0.1) == "0.1"


def test_shard_is_fnv1a():
    # Published FNV-1a (32-bit) test vectors; the page computes the same (Math.imul).
    assert shard("", 2**32) == 0x811C9DC5
    assert shard("a", 2**32) == 0xE40C292C
    assert shard("foobar", 2**32) == 0xBF9CF968
