"""Personal data never leaves the tool: every kind is replaced, hotlines are kept."""

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from kb.tickets import Scrubber, Ticket, reporter_names
from kb.tickets.privacy import name_digest, name_forms, scrub_url, trie_pattern

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
    # 王科长 is now scrubbed too, as a surname with a title (it was kept before).
    assert scrubber.scrub("高明处理的；提示不明确；王科长") == "〔姓名〕处理的；提示不明确；〔姓名〕"
    assert scrubber.scrub("高明高明") == "〔姓名〕〔姓名〕"


def test_name_regex_is_a_prefix_tree():
    assert trie_pattern(["张三", "张三丰", "李四"]) == "(?:张三(?:丰)?|李四)"


def test_scrubbing_is_idempotent():
    scrubber = Scrubber(["张伟"])
    once = scrubber.scrub("张伟 13812345678 a@b.cn 10.1.2.3 11010519900307123X 010-12345678")
    assert scrubber.scrub(once) == once
    assert "〔" in once and not any(c.isdigit() for c in once.replace("〔IP〕", ""))


# --- forms an independent test found leaking ----------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # mobiles and landlines in other spellings
    ("手机138.1234.5678，138–1234–5678，138—1234—5678", "手机〔手机号〕，〔手机号〕，〔手机号〕"),
    ("打 1381 2345 678 或 1381-2345-678", "打 〔手机号〕 或 〔手机号〕"),
    ("座机62345678，办公电话 6234-5678，拨 6234 5678", "座机〔电话〕，办公电话 〔电话〕，拨 〔电话〕"),
    ("电话 6234567，分机6234567", "电话 〔电话〕，分机〔电话〕"),
    ("座机 010.6234.5678，0755–8888–8888", "座机 〔电话〕，〔电话〕"),
    # e-mails: Chinese domains and local parts, spelled out
    ("邮箱张三@公司.中国，a@b.公司的邮件", "邮箱〔邮箱〕，〔邮箱〕的邮件"),
    ("请发到张三@oa.gov.cn，谢谢", "请发到〔邮箱〕，谢谢"),
    ("邮箱 zhangsan at oa dot gov dot cn，或 zhangsan(at)oa.com", "邮箱 〔邮箱〕，或 〔邮箱〕"),
    ("发 zhangsan#oa.com（#换成@）、li_si [at] 163 [dot] com、wangwu艾特qq.com", "发 〔邮箱〕（#换成@）、〔邮箱〕、〔邮箱〕"),
    # ID numbers: first generation, space-grouped
    ("身份证110101900307123，110101 19900307 1234，110101 1990 0307 123X", "身份证〔身份证号〕，〔身份证号〕，〔身份证号〕"),
    # IP addresses
    ("地址010.001.002.003", "地址〔IP〕"),
    ("IPv6 2001:0db8:85a3:0000:0000:8a2e:0370:7334、2001:db8::8a2e:370:7334、fe80::1%eth0、::ffff:10.1.2.3",
     "IPv6 〔IP〕、〔IP〕、〔IP〕、〔IP〕"),
    # QQ, WeChat, bank cards, plates, employee and passport numbers
    ("QQ 12345678，QQ号：87654321，扣扣1234567", "QQ 〔QQ号〕，QQ号：〔QQ号〕，扣扣〔QQ号〕"),
    ("微信 zhangsan_88，微信号：wxid_abc12345，vx: zhangsan，加微信13812345678",
     "微信 〔微信号〕，微信号：〔微信号〕，vx: 〔微信号〕，加微信〔微信号〕"),
    ("卡号 6222 0212 3456 7890 123，另一张 4111111111111111，工资卡 6217000010012345678",
     "卡号 〔银行卡号〕，另一张 〔银行卡号〕，工资卡 〔银行卡号〕"),
    ("车牌京A12345，粤B·12345，沪AD12345", "车牌〔车牌号〕，〔车牌号〕，〔车牌号〕"),
    ("工号 12345，员工编号：A0123", "工号 〔工号〕，员工编号：〔工号〕"),
    ("护照 E12345678，护照号码：G12345678；另 E87654321", "护照 〔护照号〕，护照号码：〔护照号〕；另 〔护照号〕"),
    # street addresses
    ("寄到北京市海淀区中关村大街27号", "寄到〔地址〕"),
    ("住上海市长宁区长乐路100弄5号301室，", "住〔地址〕，"),
    ("阳光小区3栋2单元501室，3栋2单元501", "〔地址〕，〔地址〕"),
])
def test_other_spellings_and_kinds_are_replaced(text, expected):
    assert SCRUB.scrub(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("李工说重启一下，王老师、刘经理、陈主任、赵科长都遇到", "〔姓名〕说重启一下，〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕都遇到"),
    ("小王和老李也不行，王芳老师那边可以", "〔姓名〕和〔姓名〕也不行，〔姓名〕那边可以"),
    ("联系人王芳，找了王建国帮忙，转给李明，同事张伟也打不开，跟刘洋说了", "联系人〔姓名〕，找了〔姓名〕帮忙，转给〔姓名〕，同事〔姓名〕也打不开，跟〔姓名〕说了"),
    ("联系人：欧阳娜娜", "联系人：〔姓名〕"),
    ("王芳反映登录很慢", "〔姓名〕反映登录很慢"),
])
def test_other_peoples_names_are_caught_by_title_nickname_and_cue(text, expected):
    assert SCRUB.scrub(text) == expected


@pytest.mark.parametrize("text", [
    "由于总是打不开，提高工作效率，施工单位，员工工号",
    "附件小于10MB，老是卡，一小时后，大小高度不对，养老保险",
    "找了很久，转给程序处理，我是高新区的，同事都说好，跟高版本不兼容",
    "方可确认，高级说明，公文总数，汇总后发送，小程序打不开",
    "在子文件夹和日志明细中查看",
])
def test_words_that_look_like_titled_names_are_kept(text):
    assert SCRUB.scrub(text) == text


@pytest.mark.parametrize("text", [
    "服务热线 400-810-2468，或 4008102468、800-820-8820，短号 12345、95588",
    "错误代码 0x80070005、0x8007000E、ORA-12541、HTTP 500、550 5.7.1、DOC-5001、AUTH-1003，“80048163”错误",
    "版本 10.0.19045、2.3.1、16.0.8431.2094，内部版本 8431.2094，V8.1.0.2",
    "发生在 2026-03-05 14:20，20260305 那天，3月5号，附件 120MB，金额 12345678 元",
    "参考 KB-0042 和 KB4012212，工单 GD20260305001，订单号 62345678，文号 12345678",
    "京ICP备12345678号，粤B2-20090059",
])
def test_codes_versions_dates_and_ids_are_kept(text):
    assert SCRUB.scrub(text) == text


def test_keep_numbers_apply_to_every_number_kind():
    scrubber = Scrubber(keep_numbers=["62345678", "1234 5678"])
    assert scrubber.scrub("值班座机 62345678，QQ 12345678") == "值班座机 62345678，QQ 12345678"


def test_bank_cards_need_the_luhn_check_or_a_card_word():
    assert SCRUB.scrub("流水 1234567812345678") == "流水 1234567812345678"   # fails Luhn, no card word
    assert SCRUB.scrub("卡号 1234567812345678") == "卡号 〔银行卡号〕"
    assert SCRUB.scrub("4111 1111 1111 1111") == "〔银行卡号〕"


# --- reporters' names in other forms ----------------------------------------------------------

def test_reporter_names_are_scrubbed_in_their_other_forms():
    scrubber = Scrubber(["张伟", "张晓明", "吕娜"])
    text = "张工说，张先生、张女士、小张、老张都试过；晓明也是；Zhang Wei、zhangwei、ZHANG Wei、Wei Zhang、zhang_wei、Lv Na、Lu Na、Na Lyu"
    assert scrubber.scrub(text) == ("〔姓名〕说，〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕都试过；〔姓名〕也是；"
                                    "〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕、〔姓名〕")
    # Given name first joined is often an English word (丁兰 → landing): it needs a separator.
    assert scrubber.scrub("weizhang, xiaomingzhang") == "weizhang, xiaomingzhang"
    # A given name alone is not taken from inside an everyday word.
    assert Scrubber(["王子文"]).scrub("子文件夹，子文说") == "子文件夹，〔姓名〕说"


def test_name_forms():
    forms = name_forms("张晓明")
    assert forms[:2] == ["张晓明", "晓明"]
    assert {"张工", "张总", "张老师", "张先生", "张女士", "小张", "老张", "zhangxiaoming", "xiaoming-zhang"} <= set(forms)
    assert "国庆" not in name_forms("王国庆")            # an everyday word
    assert not {"小于", "老于"} & set(name_forms("于伟"))  # 小于 10MB
    assert "施工" not in name_forms("施伟")
    assert "娜娜" in name_forms("欧阳娜娜") and "ouyangnana" in name_forms("欧阳娜娜")
    assert name_forms("Li Ming") == ["Li Ming", "Ming-Li"]


def test_name_digest_is_keyed_and_normalised():
    key = b"k" * 32
    assert len(name_digest(key, "张伟")) == 16
    assert name_digest(key, "Zhang Wei") == name_digest(key, "zhangwei") == name_digest(key, "ＺＨＡＮＧ ｗｅｉ")
    assert name_digest(key, "张伟") != name_digest(b"other key", "张伟")


def test_names_remembered_from_an_earlier_batch_are_scrubbed_without_clear_names():
    key = b"secret key of the ticket store"
    earlier = Scrubber.for_tickets([Ticket("T1", dt.datetime(2026, 3, 5), "x", "y", reporter="张晓明/信息中心")])
    stored = earlier.digests(key)
    assert all(isinstance(d, bytes) and len(d) == 16 for d in stored)
    assert not any("张".encode() in d for d in stored)   # nothing readable
    later = Scrubber(remembered=frozenset(stored), key=key)
    assert later.names == ()
    assert later.scrub("张晓明说打不开，晓明也是；Zhang Xiaoming 和 xiaoming zhang；张工说") == \
        "〔姓名〕说打不开，〔姓名〕也是；〔姓名〕 和 〔姓名〕；〔姓名〕说"
    assert later.scrub("张 晓 明") == "〔姓名〕"
    # Guards apply to remembered forms too: 张工 is not in 张工作.
    assert later.scrub("张工作") == "张工作"
    assert later.scrub("公文发送失败，提示500错误") == "公文发送失败，提示500错误"
    with pytest.raises(ValueError):
        Scrubber(remembered=frozenset(stored))   # digests without their key
    # Another key: nothing matches.
    assert Scrubber(remembered=frozenset(stored), key=b"other").scrub("Zhang Xiaoming 打不开") == "Zhang Xiaoming 打不开"


def test_for_tickets_passes_keep_numbers_and_memory():
    key = b"k"
    stored = Scrubber(["李娜"]).digests(key)
    tickets = [Ticket("T1", dt.datetime(2026, 3, 5), "x", "y", reporter="王芳")]
    scrubber = Scrubber.for_tickets(tickets, keep_numbers=["13910002468"], remembered=stored, key=key)
    assert scrubber.scrub("王芳和李娜，值班 13910002468") == "〔姓名〕和〔姓名〕，值班 13910002468"
    assert scrubber.digests(key) == Scrubber(["王芳"]).digests(key)


def test_the_articles_hold_no_name_address_or_number_to_scrub():
    root = Path(__file__).resolve().parents[1] / "kb_articles"
    found = []
    for path in sorted(root.rglob("KB-*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            found += [(path.name, line[a:b], token) for a, b, token in SCRUB._spans(line) if token not in ("〔IP〕", "〔邮箱〕")]
    assert found == []


# --- dangling reference URLs -------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("http://10.1.2.3:8080/oa/kb/KB-0042/?user=zhangsan#top", "/kb/KB-0042/"),
    ("https://kb.example.gov.cn/kb/old-alias/", "/kb/old-alias/"),
    ("/kb/send-500", "/kb/send-500/"),
    ("https://[fe80::1]:8443/kb/kb-0099/index.html", "/kb/kb-0099/"),
    ("http://192.168.1.2/help/13812345678.html?x=1", "/help/〔手机号〕.html"),
])
def test_scrub_url_keeps_only_the_article_part(url, expected):
    assert scrub_url(url) == expected
