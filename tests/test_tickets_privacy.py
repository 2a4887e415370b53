"""Personal data never leaves the tool: every kind is replaced, hotlines are kept."""

import dataclasses
import datetime as dt

import pytest

from kb.tickets import Scrubber, Ticket, reporter_names
from kb.tickets.privacy import trie_pattern

SCRUB = Scrubber()


@pytest.mark.parametrize("text, expected", [
    ("我手机13812345678，急", "我手机〔手机号〕，急"),
    ("电话 138 1234 5678 或 138-1234-5678", "电话 〔手机号〕 或 〔手机号〕"),
    ("+86 13912345678、+86-13912345678、(+86)13912345678、008613912345678", "〔手机号〕、〔手机号〕、〔手机号〕、〔手机号〕"),
    ("全角１３８１２３４５６７８", "全角〔手机号〕"),
    ("座机010-12345678，(0755)88888888，0755 8888 8888，021-6123 4567 转 123", "座机〔电话〕，〔电话〕，〔电话〕，〔电话〕"),
    ("邮箱 zhang.san@oa.gov.cn，li_si+oa@163.com。", "邮箱 〔邮箱〕，〔邮箱〕。"),
    ("身份证11010519900307123X，身份证号110105199003071234", "身份证〔身份证号〕，身份证号〔身份证号〕"),
    ("我电脑IP是192.168.1.23，服务器 10.0.0.1:8080", "我电脑IP是〔IP〕，服务器 〔IP〕:8080"),
])
def test_each_kind_of_personal_data_is_replaced(text, expected):
    assert SCRUB.scrub(text) == expected


@pytest.mark.parametrize("text", [
    "服务热线 400-810-2468，或 4008102468、800-820-8820",   # company hotlines are not personal
    "错误代码 0x80070005、ORA-12541、DOC-5001，退信 550 5.7.1",
    "版本 V8.1.0.2，工单 GD20260305001，订单 20260305123456789012",
    "发生在 2026-03-05 14:20，附件 120MB，30 分钟",
])
def test_codes_dates_and_hotlines_are_kept(text):
    assert SCRUB.scrub(text) == text


def test_keep_numbers_spares_the_service_centres_own_phones():
    scrubber = Scrubber(keep_numbers=["139-1000-2468"])
    assert scrubber.scrub("夜间请拨值班手机 13910002468，或 139 1000 2468；我的是 13812345678") == \
        "夜间请拨值班手机 13910002468，或 139 1000 2468；我的是 〔手机号〕"


def test_reporter_names_are_taken_from_the_column():
    cells = ["张伟", "王芳老师", "李娜（13812345678）", "欧阳娜娜/信息中心", "办公室", "管理员", "市财政局办公室",
             "王", "王主任", "Li Ming", "admin", "", "张伟"]
    assert reporter_names(cells) == ["张伟", "王芳", "李娜", "欧阳娜娜", "王主任", "Li Ming"]
    assert reporter_names(["张 三", "赵六 孙七"]) == ["张三", "赵六", "孙七"]  # spaced-out name; two names


def test_names_seen_in_the_batch_are_scrubbed_in_every_free_text_field():
    opened = dt.datetime(2026, 3, 5, 14, 20)
    tickets = [
        Ticket("T1", opened, "我是张伟，登录不上，电话13812345678", "已电话联系张伟和王芳确认", reporter="张伟", phone="13812345678"),
        Ticket("T2", opened, "王芳说张伟那边也一样", "重启后正常", notes="回访王芳老师：已恢复", reporter="王芳老师", email="wf@czj.gov.cn"),
        Ticket("T3", opened, "办公室的电脑都打不开，请联系管理员", "张三丰的问题，li ming 也遇到", reporter="办公室"),
        Ticket("T4", opened, "x", "y", reporter="张三丰/Li Ming"),
    ]
    scrubber = Scrubber.for_tickets(tickets)
    clean = [scrubber.scrub_ticket(t) for t in tickets]
    assert clean[0].description == "我是〔姓名〕，登录不上，电话〔手机号〕"
    assert clean[0].resolution == "已电话联系〔姓名〕和〔姓名〕确认"
    assert clean[1].description == "〔姓名〕说〔姓名〕那边也一样"
    assert clean[1].notes == "回访〔姓名〕老师：已恢复"
    assert (clean[1].reporter, clean[1].email, clean[0].phone) == ("〔姓名〕", "〔邮箱〕", "〔手机号〕")
    # Role words are not names; the longest name wins; Latin names as whole words, any case.
    assert clean[2].description == "办公室的电脑都打不开，请联系管理员"
    assert clean[2].resolution == "〔姓名〕的问题，〔姓名〕 也遇到"
    assert dataclasses.replace(clean[0], description="", resolution="", reporter="", phone="") == \
        dataclasses.replace(tickets[0], description="", resolution="", reporter="", phone="")


def test_two_character_names_are_scrubbed_inside_words_and_single_characters_never():
    scrubber = Scrubber(["高明", "王"])
    assert scrubber.names == ("高明",)
    assert scrubber.scrub("高明处理的；提示不明确；王科长") == "〔姓名〕处理的；提示不明确；王科长"
    assert scrubber.scrub("高明高明") == "〔姓名〕〔姓名〕"


def test_name_regex_is_a_prefix_tree():
    assert trie_pattern(["张三", "张三丰", "李四"]) == "(?:张三(?:丰)?|李四)"


def test_scrubbing_is_idempotent():
    scrubber = Scrubber(["张伟"])
    once = scrubber.scrub("张伟 13812345678 a@b.cn 10.1.2.3 11010519900307123X 010-12345678")
    assert scrubber.scrub(once) == once
    assert "〔" in once and not any(c.isdigit() for c in once.replace("〔IP〕", ""))
