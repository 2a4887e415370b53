"""Symptoms in callers' words: clauses, canonical keys, near-duplicates merged."""

import pytest

from kb.tickets import Scrubber, extract_symptoms, group_symptoms, symptom_key
from kb.tickets.symptoms import normalise, split_clauses


def test_the_same_symptom_written_two_ways_has_one_key():
    a = extract_symptoms("公文发送失败，提示500错误")
    b = extract_symptoms("公文发送失败! 提示 500 错误。")
    assert [s.key for s in a] == [s.key for s in b] == ["公文发送失败提示500错误"]
    assert b[0].text == "公文发送失败! 提示 500 错误"  # as written, not rebuilt


@pytest.mark.parametrize("a, b", [
    ("１４:２０左右登录提示ＡＵＴＨ－１００３", "9:05 登录提示 AUTH-1003"),       # width, times
    ("今天早上发公文报错", "昨天下午发公文报错"),                                # when it happened
    ("2026-03-05 工单GD202603050012 附件上传失败", "2026/3/6 工单 GD202603060001 附件上传失败"),
    ("上传 120MB 附件失败", "上传150 MB附件失败"),
    ("服务器10.1.2.3连不上", "服务器 192.168.0.8 连不上"),
    ("登陆不了，帐号被锁", "登录不了,账号被锁"),                                 # frequent typos
])
def test_variable_parts_do_not_change_the_key(a, b):
    assert symptom_key(a) == symptom_key(b)


@pytest.mark.parametrize("code", ["500", "ORA-12541", "0x80070005", "550 5.7.1", "DOC-5001", "WF-2003", "ERR_TOO_MANY_REDIRECTS"])
def test_error_codes_are_kept(code):
    assert symptom_key(code).lower() == "".join(c for c in code.lower() if c.isalnum())
    assert symptom_key(f"提示{code}") != symptom_key("提示")


def test_different_codes_are_different_symptoms():
    assert symptom_key("提示 DOC-5001") != symptom_key("提示 DOC-5002")
    assert symptom_key("退信 550 5.7.1") != symptom_key("退信 554 5.7.1")


def test_normalised_form_is_readable():
    assert normalise("２０２６-03-05 14:20 访问 10.1.2.3 提示 ORA-12541") == "〔日期〕 〔时间〕 访问 〔IP〕 提示 ora-12541"


def test_clauses_do_not_split_inside_quotes_or_brackets():
    assert split_clauses("提交时提示“找不到下一步处理人，请联系管理员”（WF-2003，偶发），急！谢谢") == [
        "提交时提示“找不到下一步处理人，请联系管理员”（WF-2003，偶发）", "急", "谢谢"]
    assert split_clauses("登录不上 多试几次后锁定") == ["登录不上", "多试几次后锁定"]


def test_greetings_introductions_and_contact_details_are_not_symptoms():
    symptoms = extract_symptoms("你好，我是办公室的，今天早上9点，提示“HTTP 500 内部服务器错误”，麻烦看下，电话〔手机号〕，谢谢！")
    assert [s.text for s in symptoms] == ["提示“HTTP 500 内部服务器错误”"]
    symptoms = extract_symptoms("附件下载后文件名乱码。附件下载后文件名乱码！打印时卡住")
    assert [s.text for s in symptoms] == ["附件下载后文件名乱码", "打印时卡住"]


def test_near_duplicates_are_merged_within_an_article():
    occurrences = [
        ("KB-0001", "T1", "公文发送失败，页面提示500内部服务器错误"),
        ("KB-0001", "T2", "公文发送失败! 页面提示 500 内部服务器错误"),
        ("KB-0001", "T3", "公文发送失败，页面提示500内部服务器错误"),
        ("KB-0001", "T4", "公文发送失败了，页面提示500内部服务器错误"),   # bigram Jaccard 0.85
        ("KB-0001", "T5", "收文单位没有收到"),
        ("KB-0008", "T6", "公文发送失败，页面提示500内部服务器错误"),   # another article: its own group
        (None, "T7", "打印机卡纸"),
    ]
    groups = group_symptoms(occurrences)
    assert [(g.article_id, g.count, g.phrase) for g in groups] == [
        ("KB-0001", 4, "公文发送失败，页面提示500内部服务器错误"),
        ("KB-0001", 1, "收文单位没有收到"),
        ("KB-0008", 1, "公文发送失败，页面提示500内部服务器错误"),
        (None, 1, "打印机卡纸"),
    ]
    assert groups[0].ticket_ids == ["T1", "T2", "T3", "T4"]
    assert groups[0].variants == {"公文发送失败，页面提示500内部服务器错误": 2, "公文发送失败! 页面提示 500 内部服务器错误": 1,
                                  "公文发送失败了，页面提示500内部服务器错误": 1}


def test_dissimilar_symptoms_stay_apart():
    groups = group_symptoms([("KB-1", "T1", "公文发送失败"), ("KB-1", "T2", "公文接收失败")])
    assert len(groups) == 2


def test_the_phrase_is_the_most_frequent_scrubbed_variant():
    scrubber = Scrubber(["张伟"])
    groups = group_symptoms([
        ("KB-0023", "T1", "张伟登录提示ＡＵＴＨ－１００３"),
        ("KB-0023", "T2", "张伟登录提示AUTH-1003"),
        ("KB-0023", "T3", "张伟 登录提示 AUTH-1003"),
    ], scrubber=scrubber)
    assert len(groups) == 1
    assert groups[0].phrase == "〔姓名〕登录提示AUTH-1003"  # full-width variant counted with its half-width twin
    assert all("张伟" not in v for v in groups[0].variants)
