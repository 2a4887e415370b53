"""Properties of the scrubber over generated text: personal values in their various
spellings never survive, scrubbing twice changes nothing, and support text with no
personal data is left alone."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.tickets import Scrubber
from kb.tickets.privacy import COMMON_GIVEN_WORDS, COMMON_WORDS, NICK_EXCLUDED, SURNAMES

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCRUB = Scrubber()

# Filler: Chinese support text without digits, surnames, titles, cue words or units, so
# that nothing in it is personal data or changes how a number next to it is read.
# (Nor 稍/很 …, which make 稍小/很小 words rather than 小张.)
FILLER_CHARS = "系统提示登录失败请后重试页面打开慢上传中断发送异常显示空白无法保存点击没有反应刷新之后还一样麻烦处理"
filler = st.text(alphabet=FILLER_CHARS, min_size=0, max_size=12)
punct = st.sampled_from(["", "，", "：", " ", "；", "（", "、"])
SEPARATORS = [" ", "-", ".", "–", "—"]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def embed(value, head, tail, p1, p2):
    return f"{head}{p1}{value}{p2}{tail}"


@st.composite
def mobiles(draw):
    number = draw(st.sampled_from("3456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    number = "1" + number
    sep = draw(st.sampled_from(["", *SEPARATORS]))
    style = draw(st.sampled_from(["3-4-4", "4-4-3", "plain"]))
    if style == "3-4-4":
        text = sep.join([number[:3], number[3:7], number[7:]])
    elif style == "4-4-3":
        text = (sep or " ").join([number[:4], number[4:8], number[8:]])
    else:
        text = number
    prefix = draw(st.sampled_from(["", "+86 ", "+86-", "(+86)", "0086"]))
    if draw(st.booleans()):
        text = text.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})  # full-width digits
    return prefix + text, number


@st.composite
def landlines(draw):
    area = draw(st.sampled_from(["010", "021", "020", "0755", "0571", "027"]))
    local = draw(st.sampled_from("2345678")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=7, max_size=7)))
    sep = draw(st.sampled_from(["", *SEPARATORS]))
    style = draw(st.sampled_from(["area", "paren", "bare"]))
    local_text = draw(st.sampled_from([local, local[:4] + " " + local[4:], local[:4] + "-" + local[4:]]))
    if style == "area":
        return area + sep + local_text, local
    if style == "paren":
        return f"({area})" + local_text, local
    if local.startswith("800"):   # 800… is read as an error code (0x800…), not a local number
        local = "6" + local[1:]
        local_text = "6" + local_text[1:]
    return "座机" + local_text, local


@st.composite
def id_numbers(draw):
    region = draw(st.sampled_from("123456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=5, max_size=5)))
    year = draw(st.integers(1940, 2010))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    seq = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=3, max_size=3)))
    check = draw(st.sampled_from("0123456789X"))
    date = f"{year}{month:02d}{day:02d}"
    style = draw(st.sampled_from(["18", "6-8-4", "6-4-4-4", "15"]))
    if style == "15":
        return f"{region}{date[2:]}{seq}", f"{region}{date[2:]}{seq}"
    value = f"{region}{date}{seq}{check}"
    if style == "6-8-4":
        return f"{region} {date} {seq}{check}", digits(value)
    if style == "6-4-4-4":
        return f"{region} {date[:4]} {date[4:]} {seq}{check}", digits(value)
    return value, digits(value)


def luhn_complete(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


@st.composite
def bank_cards(draw):
    length = draw(st.integers(16, 19))
    body = draw(st.sampled_from("3456")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - 2, max_size=length - 2)))
    number = luhn_complete(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    text = sep.join(number[i:i + 4] for i in range(0, len(number), 4)) if sep else number
    return draw(st.sampled_from(["", "卡号", "银行卡 "])) + text, number


@st.composite
def qq_numbers(draw):
    number = draw(st.sampled_from("123456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=4, max_size=10)))
    cue = draw(st.sampled_from(["QQ", "QQ ", "qq:", "QQ号：", "QQ号码是", "扣扣"]))
    return cue + number, number


@st.composite
def emails(draw):
    local = draw(st.one_of(
        st.from_regex(r"[a-z][a-z0-9_]{2,10}(\.[a-z0-9]{1,5})?", fullmatch=True),
        st.sampled_from(["张三", "李四", "王芳芳"]),
    ))
    domain = draw(st.sampled_from([("oa", "gov", "cn"), ("163", "com"), ("公司", "中国"), ("czj", "gov", "cn"), ("b", "公司")]))
    style = draw(st.sampled_from(["@", "at", "(at)", "#"]))
    if style == "@" or not all(part.isascii() for part in domain) or not local.isascii():
        return f"{local}@{'.'.join(domain)}", local
    if style == "at":
        return f"{local} at {' dot '.join(domain)}", local
    if style == "(at)":
        return f"{local}(at){'.'.join(domain)}", local
    return f"{local}#{'.'.join(domain)}", local


NAME_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞刚桂英华玉兰萍红鹏辉玲志海燕晓婷雪琳宇浩欣怡涵俊峰丹凤斌亮"
surnames = st.sampled_from([s for s in SURNAMES if s not in NICK_EXCLUDED])


@st.composite
def reporter_and_form(draw):
    """(reporter name, one way the text names them)."""
    surname = draw(surnames)
    given_name = "".join(draw(st.lists(st.sampled_from(NAME_GIVEN), min_size=1, max_size=2)))
    name = surname + given_name
    forms = [name, *([] if surname in "施包" else [surname + "工"]), surname + "老师", surname + "先生", surname + "女士", "小" + surname, "老" + surname]
    if len(given_name) == 2 and given_name not in COMMON_WORDS and given_name not in COMMON_GIVEN_WORDS:
        forms.append("，" + given_name + "，")   # alone: not next to an everyday word
    return name, draw(st.sampled_from(forms))


@given(value=st.one_of(mobiles(), landlines(), id_numbers(), bank_cards(), qq_numbers()),
       head=filler, tail=filler, p1=punct, p2=punct)
@SETTINGS
def test_numbers_never_survive(value, head, tail, p1, p2):
    text, number = value
    out = SCRUB.scrub(embed(text, head, tail, p1, p2))
    assert number not in digits(out), (text, out)


@given(value=emails(), head=filler, tail=filler, p1=punct, p2=punct)
@SETTINGS
def test_email_addresses_never_survive(value, head, tail, p1, p2):
    text, local = value
    out = SCRUB.scrub(embed(text, head, tail, p1, p2))
    assert local.lower() not in out.lower() and "〔邮箱〕" in out, (text, out)


@given(value=reporter_and_form(), head=filler, tail=filler, p1=punct, p2=punct)
@SETTINGS
def test_reporter_names_never_survive_in_any_form(value, head, tail, p1, p2):
    name, form = value
    text = embed(form, head, tail, p1, p2)
    out = Scrubber([name]).scrub(text)
    assert form.strip("，") not in out and name not in out, (name, text, out)


@given(surname=surnames, given_name=st.text(alphabet=NAME_GIVEN, min_size=1, max_size=2),
       style=st.sampled_from(["surname first", "spaced", "upper", "given first"]), head=filler, tail=filler)
@SETTINGS
def test_pinyin_spellings_of_reporter_names_never_survive(surname, given_name, style, head, tail):
    from pypinyin import lazy_pinyin
    sur, giv = lazy_pinyin(surname), lazy_pinyin(given_name)
    if sur[0] in ("lv", "nv"):
        sur = [sur[0].replace("v", "u")]
    spelled = {
        "surname first": "".join(sur + giv),
        "spaced": " ".join(s.capitalize() for s in sur) + " " + "".join(giv).capitalize(),
        "upper": "".join(sur).upper() + " " + "".join(giv).capitalize(),
        "given first": "".join(giv).capitalize() + " " + "".join(sur).capitalize(),
    }[style]
    out = Scrubber([surname + given_name]).scrub(f"{head} {spelled} {tail}")
    assert "〔姓名〕" in out and spelled.lower() not in out.lower(), (spelled, out)


@given(value=reporter_and_form(), head=filler, tail=filler)
@SETTINGS
def test_remembered_names_never_survive(value, head, tail):
    name, form = value
    key = b"store key"
    later = Scrubber(remembered=frozenset(Scrubber([name]).digests(key)), key=key)
    out = later.scrub(f"{head}{form}{tail}")
    assert form.strip("，") not in out, (name, form, out)


@given(parts=st.lists(st.tuples(st.one_of(
    mobiles().map(lambda v: v[0]), landlines().map(lambda v: v[0]), id_numbers().map(lambda v: v[0]),
    emails().map(lambda v: v[0]), qq_numbers().map(lambda v: v[0]), bank_cards().map(lambda v: v[0]),
    reporter_and_form().map(lambda v: v[1]), filler,
    st.sampled_from(["张伟", "Zhang Wei", "李娜", "联系人王芳", "北京市海淀区中关村大街27号", "粤B·12345", "〔姓名〕",
                     "ORA-12541", "2026-03-05 14:20", "400-810-2468", "V8.1.0.2"]),
), st.sampled_from(["，", " ", "：", "、", "；", "登录", "失败了", "\n"])), max_size=8))
@SETTINGS
def test_scrubbing_is_idempotent(parts):
    """Parts are separated as in real text (a card number run straight into a mobile
    number is read differently once one of them is a token)."""
    scrubber = Scrubber(["张伟"], remembered=frozenset(Scrubber(["李娜"]).digests(b"k")), key=b"k")
    once = scrubber.scrub("".join(part + sep for part, sep in parts))
    assert scrubber.scrub(once) == once


# Support sentences with no personal data: codes, versions, dates, hotlines, and words
# that contain surnames, titles and 小/老.
SUPPORT = [
    "公文发送时提示“HTTP 500 内部服务器错误”", "错误代码 DOC-5001", "登录提示 AUTH-1003，账号已锁定",
    "数据库连接失败 ORA-12541", "退信 550 5.7.1 Relaying denied", "访问被拒绝 0x80070005",
    "升级到 V8.2 之后打不开", "版本 10.0.19045", "2026-03-05 14:20 开始出现", "附件超过 20MB 上传失败",
    "服务热线 400-810-2468", "短信验证码收不到", "由于总是超时，提高工作效率的办法", "附件小于 10MB 也不行",
    "老是卡在提交这一步", "一小时后自动恢复", "施工单位的账号", "员工工号在个人信息里", "高级设置里勾选",
    "方可确认已生效", "子文件夹权限不对", "日志明细里看不到", "找了很久没找到入口", "转给程序组处理",
    "同事都说正常", "跟高版本不兼容", "参考 KB-0042", "打了补丁 KB4012212", "大小高度显示不全",
    "汇总后发送给领导", "重启应用服务器后正常", "清除浏览器缓存再试", "套红模板位置错位", "手机上收不到推送",
]


@given(st.lists(st.sampled_from(SUPPORT), min_size=1, max_size=6), st.sampled_from(["，", "。", "；", "\n"]))
@SETTINGS
def test_support_text_without_personal_data_is_left_unchanged(sentences, sep):
    text = sep.join(sentences)
    assert SCRUB.scrub(text) == text
    assert Scrubber(["张伟", "王建国"]).scrub(text) == text
