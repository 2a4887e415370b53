"""kb.search.analysis with real jieba and a real whoosh index (no mocks)."""

import pickle
import subprocess
import sys

import pytest
from whoosh import index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import QueryParser

from kb.search.analysis import KBTokenizer, analyzer, plain_text, tokenize, use_words


def texts(text, **kwargs):
    return [t.text for t in tokenize(text, **kwargs)]


@pytest.mark.parametrize("code, token", [
    ("ORA-12541", "ora-12541"),
    ("0x80070005", "0x80070005"),
    ("550 5.7.1", "550 5.7.1"),
    ("AADSTS9000411", "aadsts9000411"),
    ("KB-0042", "kb-0042"),
    ("ERR-1042", "err-1042"),
    ("DOC-5001", "doc-5001"),
    ("V8.1", "v8.1"),
])
def test_codes_stay_one_token(code, token):
    assert texts(code) == [token]
    # Also inside a Chinese sentence, next to full-width punctuation.
    assert texts(f"报错：{code}，请重试") == ["报错", token, "请", "重试"]


def test_http_status_keeps_the_number():
    assert texts("HTTP 500 错误") == ["http", "500", "错误"]


def test_smtp_status_spellings_are_canonical():
    assert texts("550-5.7.1 Relay denied") == ["550 5.7.1", "relay", "denied"]
    # A 5xx reply with a 2.x.x status is two numbers, not one SMTP status.
    assert texts("550 2.5.1") == ["550", "2.5.1"]


def test_english_is_lowercased_not_stemmed():
    assert texts("TNS:no Listener listeners") == ["tns", "no", "listener", "listeners"]


def test_sentence_final_dot_is_not_part_of_the_code():
    assert texts("见 KB-0042. 然后") == ["见", "kb-0042", "然后"]


def test_mixed_chinese_and_english():
    assert texts("Outlook 无法连接 Exchange 服务器") == ["outlook", "无法", "连接", "exchange", "服务器"]


def test_positions_are_sequential_and_offsets_point_into_the_text():
    text = "连接数据库报 ORA-12541: TNS:no listener，公文发送失败"
    tokens = tokenize(text)
    assert [t.pos for t in tokens] == list(range(len(tokens)))
    for t in tokens:
        assert text[t.start:t.end].lower() == t.text


def test_full_width_is_normalised_with_original_offsets():
    text = "错误 ＯＲＡ－１２５４１ 和 ＥＲＲ－１０４２…㎡"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["错误", "ora-12541", "和", "err-1042", "m2"]
    assert text[tokens[1].start:tokens[1].end] == "ＯＲＡ－１２５４１"
    assert text[tokens[3].start:tokens[3].end] == "ＥＲＲ－１０４２"
    # … became three characters and ㎡ two: the offsets still land on the original.
    assert text[tokens[4].start:tokens[4].end] == "㎡"


def test_subwords_share_the_position_of_their_word():
    tokens = tokenize("服务器 ORA-12541", subwords=True)
    by_text = {t.text: t.pos for t in tokens}
    assert by_text["服务器"] == by_text["服务"] == 0
    assert by_text["ora-12541"] == by_text["ora"] == by_text["12541"] == 1
    assert max(t.pos for t in tokens) == 1


def test_whoosh_tokenizer_adds_subwords_only_when_indexing():
    index_tokens = [(t.text, t.pos) for t in KBTokenizer()("公文服务器", positions=True, mode="index")]
    query_tokens = [(t.text, t.pos) for t in KBTokenizer()("公文服务器", positions=True, mode="query")]
    assert ("服务", 1) in index_tokens
    assert query_tokens == [("公文", 0), ("服务器", 1)]


def test_stop_words_leave_no_gap():
    ana = analyzer()
    assert [(t.text, t.pos) for t in ana("公文的发送", positions=True)] == [("公文", 0), ("发送", 1)]


@pytest.fixture
def searcher(tmp_path):
    use_words(())  # jieba's own dictionary, whatever words an earlier test's project added
    schema = Schema(id=ID(stored=True, unique=True), body=TEXT(analyzer=analyzer()))
    ix = index.create_in(str(tmp_path), schema)
    writer = ix.writer()
    writer.add_document(id="sent", body="公文发送失败，提示网络错误")
    writer.add_document(id="apart", body="发送公文时失败")
    writer.add_document(id="oracle", body="连接数据库时报 ORA-12541: TNS:no listener")
    writer.add_document(id="server", body="Outlook 无法连接 Exchange 服务器")
    writer.commit()
    # Reopened from disk: the schema, analyzer included, went through pickle.
    ix = index.open_dir(str(tmp_path))
    with ix.searcher() as s:
        parser = QueryParser("body", ix.schema)
        yield lambda q: {hit["id"] for hit in s.search(parser.parse(q))}


def test_quoted_phrase_finds_adjacent_words_only(searcher):
    assert searcher('"发送 失败"') == {"sent"}
    assert searcher('"发送失败"') == {"sent"}
    assert searcher("发送 失败") == {"sent", "apart"}


def test_error_code_query_is_exact(searcher):
    assert searcher("ORA-12541") == {"oracle"}
    assert searcher("ORA-12542") == set()
    assert searcher("12541") == {"oracle"}
    assert searcher("listener") == {"oracle"}


def test_chinese_queries(searcher):
    assert searcher("服务") == {"server"}       # sub-word of 服务器
    # The stop word 的 is dropped from the query and leaves no gap in the phrase.
    assert searcher("公文的发送失败") == {"sent", "apart"}
    assert searcher('"公文的发送失败"') == {"sent"}
    assert searcher('"无法连接 Exchange"') == {"server"}


def test_analyzer_pickles():
    ana = analyzer()
    list(ana("先用一次 jieba"))  # loaded jieba must not end up in the pickle
    copy = pickle.loads(pickle.dumps(ana))
    assert copy == ana
    sample = "公文发送失败 ORA-12541"
    assert [t.text for t in copy(sample)] == [t.text for t in ana(sample)]


def test_import_does_not_load_jieba():
    code = "import sys, kb.search.analysis; print('jieba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_jieba_prints_nothing(capfd):
    tokenize("第一次分词")
    captured = capfd.readouterr()
    assert captured.out == captured.err == ""


BASE64 = "iVBORw0KGgoAAAANSUhEUgAA" * 8534  # about 200 KB


def test_plain_text_drops_images_in_data_uris():
    md = (f"前文 ![截图](data:image/png;base64,{BASE64}) 中间 "
          f'<img src="data:image/png;base64,{BASE64}" alt="x"> 后文')
    assert plain_text(md) == "前文 截图 中间 后文"


def test_plain_text_drops_bare_base64():
    assert plain_text(f"证书：\n\n{BASE64}==\n\n结束") == "证书： 结束"


def test_plain_text_links_keep_text_drop_urls():
    md = ("见 [查看 KB-0007](KB-0007) 和 [官网](https://example.com/a?b=1 \"标题\")，"
          "[![徽章](https://img.example.com/b.svg)](https://example.com) <https://example.org/x> "
          "[参考][ref]\n\n[ref]: https://example.net/ref")
    text = plain_text(md)
    assert text == "见 查看 KB-0007 和 官网，徽章 参考"


def test_plain_text_emphasis_and_debris():
    assert plain_text("**注意**：请**先**保存 **** ~~旧~~ *斜体* `code`") == "注意：请先保存 旧 斜体 code"


def test_plain_text_headings_tables_html():
    md = """# 标题 #
## 学习 C#

> 引用 **内容**

| 错误码 | 含义 |
| --- | :---: |
| ERR-1042 | 发送失败 |

---

<!-- kb:hotline -->
<div class="x">块</div><b>公文</b>发送<br>失败 &amp; 重试
<!-- 未闭合的注释 保留文字
"""
    assert plain_text(md) == (
        "标题 学习 C# 引用 内容 错误码 含义 ERR-1042 发送失败 "
        "块 公文发送 失败 & 重试 未闭合的注释 保留文字")


def test_plain_text_keeps_code_without_fences():
    md = "步骤：\n\n```xml\n<smtp host=\"mail\"/>  **不是强调**\n```\n\n~~~\ntail -f app.log\n~~~\n完成"
    assert plain_text(md) == '步骤： <smtp host="mail"/> **不是强调** tail -f app.log 完成'


def test_plain_text_joins_wrapped_chinese_lines():
    assert plain_text("公文发送\n失败，Outlook\n无法连接") == "公文发送失败，Outlook 无法连接"


def test_plain_text_on_5mb_runs_through():
    chunk = (
        "## 现象 ##\n\n公文**发送**失败，报错 ORA-12541。见 [KB-0042](KB-0042)。\n\n"
        f"![图](data:image/png;base64,{BASE64[:3000]})\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode  here\n```\n"
        # Inputs that make naive patterns backtrack: unclosed constructs and long runs.
        "![[[[[[ <!-- <a href=\"x  ****  ~~ `` [x](  " + " " * 2000 + "#" * 300 + "\n"
    )
    md = chunk * (5_000_000 // len(chunk) + 1)
    assert len(md) >= 5_000_000
    text = plain_text(md)
    assert "ORA-12541" in text and "base64" not in text
    # And one 5 MB line with no line breaks at all.
    assert plain_text("[" * 1_000_000 + "![x](" * 500_000 + " " * 1_000_000)
