"""Remove personal data from any text that leaves the tool (reports, symptom lists, the
search index, exports): numbers and addresses that identify a person, and people's names.

What is replaced, and by what (separators in numbers may be spaces, -, –, —, ., · in
any grouping; full-width digits count):

| kind | examples | token |
| --- | --- | --- |
| mobile | 13812345678, 138 1234 5678, 138.1234.5678, 138–1234–5678, 1381 2345 678, +86 138…, (+86)138… | 〔手机号〕 |
| landline | 010-12345678, (0755)88888888, 0755 8888 8888, 021-6123 4567 转 123; bare 62345678 / 6234-5678 (not a date, not after 错误/代码/编号/单号…, not before a unit); bare 7 digits after 电话/座机/分机… | 〔电话〕 |
| e-mail | zhang.san@oa.gov.cn, 张三@oa.gov.cn, 张三@公司.中国, a@b.公司, zhangsan at oa dot gov dot cn, zhangsan(at)oa.com, zhangsan#oa.com, zhangsan艾特qq.com | 〔邮箱〕 |
| 身份证 | 18 digits (last digit or X) or 15 digits (first generation) with a valid date part, also as 110101 19900307 1234 or 110101 1990 0307 123X | 〔身份证号〕 |
| IP | 10.1.2.3, 010.001.002.003, 2001:db8::8a2e:370:7334, fe80::1%eth0, ::ffff:10.1.2.3 | 〔IP〕 |
| QQ | QQ 12345678, QQ号：12345678, 扣扣 12345678 | 〔QQ号〕 |
| WeChat | 微信号：wxid_abc123, 微信 zhangsan_88, vx: zhangsan88, 微信 13812345678 | 〔微信号〕 |
| bank card | 16–19 digits, plain or 6222 0212 3456 7890 (123): Luhn-valid, or after 卡号/银行卡/账号… | 〔银行卡号〕 |
| licence plate | 京A12345, 粤B·12345, 沪AD12345 (at least three digits after the letter) | 〔车牌号〕 |
| employee number | 工号 12345, 员工编号：A0123, 职工号 | 〔工号〕 |
| passport | 护照 E12345678, 护照号码：G12345678; a bare E/G + 8 digits | 〔护照号〕 |
| street address | 北京市海淀区中关村大街27号, …路100弄5号301室, 阳光小区3栋2单元501室, 3栋2单元501 | 〔地址〕 |
| reporters' names | every name in the batch's reporter column, anywhere, and its other forms (`name_forms`): 张工, 张先生, 小张, 老张, 晓明 for 张晓明, Zhang Wei, zhangwei, Wei Zhang | 〔姓名〕 |
| other people's names | a common surname (SURNAMES) with a title: 李工, 王老师, 刘经理, 陈主任, 王芳老师; 小王, 老李; after a cue: 联系人王芳, 找了王建国, 转给李明, 同事张伟, 跟刘洋说, 王芳反映 | 〔姓名〕 |
| remembered names | any name form whose keyed digest is in `remembered` (names of earlier batches' reporters, kept by the ticket store only as digests) | 〔姓名〕 |

Kept on purpose: 400 and 800 numbers (company hotlines), short service numbers (12345,
95xxx), error and status codes (ORA-12541, 0x80070005, HTTP 500, 550 5.7.1, DOC-5001,
AUTH-1003), version numbers (10.0.19045, V8.1.0.2; a bare four-part version such as
8.1.0.2 is read as an IPv4 address), dates and times (2026-03-05 14:20, 20260305),
article ids (KB-0042, KB4012212), ticket and order numbers (GD20260305001, 20 digits),
and any number passed in `keep_numbers` (e.g. the service centre's own duty mobile).

Not caught (see README): a name that is not in the reporter column and has neither a
title, nor 小/老, nor a cue word before it or 说/反映… after it ("请王芳确认" is caught
only if 王芳 reported a ticket); names whose surname is not in SURNAMES in those
third-party forms; given names with characters outside GIVEN_CHARS after a cue word;
numbers with no context that could be anything (a 9-digit QQ number written alone); a
19-digit card written as 16 + 3 digits that fails the Luhn check; addresses without a
road + house number or building/unit/room numbers ("住在海淀区").

Names: a reporter cell is split on separators ("张三/办公室", "李四（13812345678）"),
titles are dropped ("王芳老师" → 王芳), and single characters, role words (管理员, 用户,
值班员 …) and organisation names (… 局 / 办公室 / 中心) are not treated as names, since
scrubbing them everywhere would damage the text. Names of two or more characters are
replaced wherever they occur, including inside longer words — a missed name is worse
than an odd-looking sentence. Latin names and pinyin spellings are matched as whole
words, ignoring case and the separators between syllables (Zhang Wei, zhang_wei, ZHANGWEI).

Title and 小/老 forms are guarded against the words they collide with: 工 not before
作/程/具/单…, 总 not before 是/共/数/结…, no 小/老 + 于/时/明/高…; see the tables below.
A given name alone is not scrubbed where it would cut an everyday word (COMMON_WORDS:
子文 in 子文件夹), nor when it is one (COMMON_GIVEN_WORDS: 国庆 of 王国庆).

Name memory: `name_digest(key, form)` is a keyed BLAKE2b of the normalised form; a ticket
store saves `Scrubber.digests(key)` and passes them back as `remembered`, so a name seen
once is scrubbed in every later run without being stored in readable form. The scrubber
hashes every window of 2–4 Chinese characters (not across characters that are never in
names, STOP_CHARS) and every run of 1–3 Latin words, and replaces the windows whose
digest it remembers (leftmost, longest first), with the same guards as above. It costs
about 25 µs more per symptom phrase with thousands of digests; names of five or more
characters are not remembered.

Matching runs in passes over a half-width copy of the text: e-mail addresses, street
addresses, structured numbers, this batch's names, other people's names, remembered
names; each pass sees the earlier matches masked with 〕, the end of a token, so that a
second scrub of the output reads every boundary as the first did (scrubbing is
idempotent for text whose parts are separated by a space, punctuation or words).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable

from kb.tickets.model import Ticket

_TICKET_FIELDS = tuple(f.name for f in dataclasses.fields(Ticket))

TOKENS = {
    "email": "〔邮箱〕",
    "idcard": "〔身份证号〕",
    "ip": "〔IP〕",
    "mobile": "〔手机号〕",
    "landline": "〔电话〕",
    "name": "〔姓名〕",
    "qq": "〔QQ号〕",
    "wechat": "〔微信号〕",
    "bankcard": "〔银行卡号〕",
    "plate": "〔车牌号〕",
    "employee": "〔工号〕",
    "passport": "〔护照号〕",
    "address": "〔地址〕",
}
_TOKEN_RE = re.compile("|".join(map(re.escape, TOKENS.values())))

# --- names: tables ------------------------------------------------------------------

# Common surnames (百家姓 by frequency, about 150) for the forms of people who are not in
# the reporter column: 李工, 小王, 联系人王芳. Left out on purpose: 文 (公文/正文/语文老师),
# 明, 和, 成, 车, 全, 关, 路, 安, 常 … which form everyday words with the titles and cues.
SURNAMES = ("张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋"
            "蔡贾丁魏薛叶阎闫余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
            "雷钱汤尹黎易武乔贺赖龚严牛温章葛韦聂柳岳齐庞莫辛祝左涂谷舒苗凌费纪欧项裴卫屈鲍覃霍翁甘柴"
            "宁施焦殷邢詹耿倪")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "夏侯", "司徒", "尉迟",
                     "公孙", "长孙", "宇文", "轩辕", "端木", "独孤", "南宫", "西门", "澹台", "呼延", "万俟")
# Characters frequent in given names: a cue word is followed by a name only when the
# characters after the surname are among these (转给程序处理, 找了高手 are not names).
GIVEN_CHARS = frozenset(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲建国志海燕晓婷雪琳宇浩然欣怡子涵俊峰"
    "丹凤斌亮飞云波宁东林凯佳慧梅莉荣春金龙鑫鸿亚琴倩颖嘉蕾薇璐瑶晶晨阳帆楠昊睿博航轩泽辰旭思雨梓诗悦"
    "馨萱妍琪雅彤蓉洁莹妮露珍贞兵坤彬毅锋健康德福贵祥瑞庆永胜武利清光民信义礼智忠仁宏伦元松柏山川江"
    "河岩冰霜月星晴丰富顺喜乐欢美菊莲荷竹芬芝素淑惠婉娴婧媛姗娇娅婕蓓蕊菲芸萌茜卉瑾瑜琼珊瑛璇琦玮珏"
    "佩依伊立振兴卫继承友秋冬宗祖耀宝达财伯仲季洪源泉沛润泓滨渊澄汉沁溪淼炎焱烨煜灿熙晖昕晗曦旻昀晟"
    "暄景昱晋炜炳锐钰铭锦钧铮勤劲勋威雄豪彦贤诚宙寒宸宜洲帅希庭廷弘征恒恩爱慈扬捷敬斐昌昭朗朋朝森"
    "桐栋树歌治泰津湘潇澜灵炯烁熠舟艺若茂蔚虹衡谦越跃进迪逸韬香骏鹤鹰麟黎齐小娜倩琳婷妹娣姝姿琛琬"
)
_GIVEN = "[" + "".join(sorted(GIVEN_CHARS)) + "]"
_SURNAME_CHARS = frozenset(SURNAMES)
_GAP = "\x00"   # in a sequence of syllables for trie_pattern: a separator is required here
_SEPARATOR_REQUIRED = "[ ._-]{1,2}"

# Titles after a surname. 工 and 总 make words with the next character; 工 is not a
# title after 施 (施工) or 包 (包工).
_TITLES = ("老师", "经理", "主任", "科长", "处长", "局长", "部长", "厅长", "院长", "校长", "所长", "站长",
           "馆长", "股长", "组长", "队长", "班长", "行长", "社长", "书记", "秘书", "主管", "总监", "总经理",
           "师傅", "医生", "大夫", "护士", "律师", "会计", "老板", "同志", "先生", "女士", "小姐", "阿姨",
           "大姐", "大哥", "工程师", "干事", "专员", "助理", "教授", "博士", "主席", "董事长", "姐", "哥")
_TITLE_NEXT_BAD = {
    "工": "作程具单号资位厂人期艺业序种商会科信控时本地行卡牌整效料区段装体友头钱农部夫厂商",
    "总": "是共数计结体部线额量之会的监经裁统局公台表账和条目值页站分行机控开务署社院队揽则览归算得"
          "要在有不也提显出报弹卡闪掉失打登无没收发自重跳能还都会就用连一动",
}
_TITLE_SURNAME_BAD = {"工": "施包"}
# 小/老 + surname: not for surnames that make common words (小于, 老是, 小时 …).
NICK_EXCLUDED = frozenset("于时明高程方白金龙马万石田江夏常武宁齐黎牛苗甘舒谷左鲍柴凌温易岳")
_NICK_PREV_BAD = {"小": "大最较很太缩减变微从弱渺矮短细稍极", "老": "古养衰苍元敬尊父变"}
# Cue words before a third party's name, and verbs after one.
_CUES = ("联系人", "对接人", "负责人", "经办人", "申请人", "审批人", "报告人", "报修人", "发起人", "处理人",
         "值班人", "同事", "领导", "找了", "找过", "转给", "转交给", "转交", "交给", "告诉了", "告诉", "通知了",
         "问了", "问过", "我是", "我叫", "姓名", "名字是", "用户", "客户", "回访", "致电", "打电话给")
_CUES_BEFORE_VERB = ("跟", "和", "与", "给", "向", "让", "请", "叫")
_VERBS = ("说", "讲", "反映", "反馈", "来电", "致电", "报修", "打电话", "表示", "确认", "回复", "联系", "沟通")
_ORG_NEXT = "区县市局处科室部镇乡街路所院校厂店行省村队站馆委办司厅署会社"

# Characters practically never in a personal name: remembered-name windows do not span them.
STOP_CHARS = frozenset(
    "的了是不我你他她它这那们吗吧呢啊就也要在没个把被让给说到过还又很请帮打登录提示点击出错误失败无法"
    "件邮页面网络器码号后里用能会开再以已经系统送收传下载显为空卡慢访问连接服务数据报次候因所"
)

_SEPARATORS = re.compile(r"[/\\,，、;；:：|()（）\[\]【】<>《》—\n\t]+|\s{2,}|-{1,}")
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·•]+$")
_LATIN = re.compile(r"^[A-Za-z][A-Za-z.' ]*[A-Za-z]$")
_CELL_TITLES = ("老师", "主任", "科长", "处长", "局长", "经理", "主管", "师傅", "同志", "先生", "女士", "小姐", "总", "工")
_ORG_SUFFIX = re.compile(r"(?:局|处|科|室|中心|部|厅|院|委|办|组|队|所|站|公司|单位|学校|医院|银行|分行|支行)$")
NOT_NAMES = frozenset("""
    管理员 系统管理员 超级管理员 用户 客户 匿名 匿名用户 未知 不详 无 本人 同上 测试 测试用户
    办公室 信息中心 值班 值班员 值班室 客服 前台 领导 老师 同事 网管 技术员 工程师 系统
    本单位 个人 员工 职工 文员 秘书 机要员 收发员 admin administrator user test guest unknown
""".split())
# Given names that are everyday words (jieba's words of GIVEN_CHARS seen 500 times or
# more, and a few more): the given name alone is not scrubbed for them, nor for those in
# COMMON_WORDS (王国庆 is, 国庆节 is not).
COMMON_GIVEN_WORDS = frozenset("""
    东亚 东方 东晋 东汉 东海 东风 中华 义军 亚洲 伊朗 依然 健康 元朝 元素 光亮 光华 光明 光泽 兴国 兴建 军民 冬季 冰川 刚刚 利润 前进 华东 华夏 华山 卫东 卫兵 卫国
    吉祥 向阳 和平 喜悦 喜欢 喜爱 国庆 国民 国立 天天 如意 妹妹 妹子 威信 宁波 宇宙 安康 宏伟 宜昌 家庭 富贵 小子 小小 山东 山峰 山河 平安 平民 平津 平衡 平静 幸福
    建国 建平 开心 强劲 德国 志愿 忠诚 快乐 恒山 恒星 振兴 文明 新华 新春 新民 明亮 明天 明明 明朝 明清 星云 春季 春秋 春节 智利 月亮 月光 朋友 朝廷 朝阳 树林 树立
    森林 欢乐 欢喜 武昌 武艺 民主 民兵 民国 民航 永久 永乐 汉子 汉川 汉江 汉阳 江山 江汉 江河 治国 波兰 泰国 泰山 海军 海洋 清兵 清军 清华 清廷 清晨 清朝 清江 清洁
    渊源 潇湘 爱国 珍贵 祖国 福利 福建 秀丽 立新 竹溪 红军 红旗 继承 美丽 美元 美军 美洲 胜利 自由 航海 芬兰 英军 英雄 荷兰 莲子 解放 诗歌 诚信 豪华 财富 超越 越国
    跃进 进军 金星 长城 雄伟 顺利 顺治 飞扬 飞跃 黄河
""".split())
# Everyday two-character words (jieba's most frequent, and the support vocabulary of the
# articles): a given name alone is not scrubbed where its first character ends such a word
# or its last begins one (子文 in 子文件夹, 志明 in 日志明细).
COMMON_WORDS = frozenset("""
    一下 一个 一些 一份 一切 一半 一台 一声 一定 一并 一条 一样 一次 一步 一段 一点 一直 一种 一篇 一致 一般 一节 一起 三方 上传 上去 上报 上次 上海 上点 上级 上角 上限
    下午 下去 下来 下次 下角 下载 不一 不了 不仅 不会 不再 不到 不可 不同 不在 不存 不开 不支 不敢 不断 不是 不显 不知 不能 不要 不足 不过 不限 专业 专家 专用 世界 世纪
    业务 东西 丢失 两个 严重 个人 中下 中保 中出 中国 中央 中将 中心 中放 中文 中断 中点 中继 中选 中间 丰富 临时 为主 为了 主任 主席 主要 举行 之一 之中 之前 之后 之间
    书签 乱码 了解 事业 事情 二线 于是 交通 产品 产生 人为 人们 人口 人员 人大 人民 人物 亿元 什么 仅供 今天 今日 仍未 他人 他们 代理 代码 代表 以上 以下 以前 以及 以后
    以来 价值 价格 任何 任务 企业 优先 优化 会前 会议 传到 传统 但是 位于 位置 低峰 作为 作战 作用 你们 使用 例如 保存 保护 保持 保留 保证 信任 信息 信管 信里 修复 修改
    修订 偏差 偏移 停止 停用 停留 催办 允许 先上 先后 先在 先生 先进 入会 入法 全国 全省 全部 公司 公室 公文 公民 公里 共享 共同 关于 关系 关闭 其中 其他 其实 具有 兼容
    内存 内容 内部 再上 再次 写信 写入 军事 军队 农业 农村 农民 决定 准备 几个 几乎 几天 几项 出来 出现 出错 分别 分区 分卷 分号 分布 分析 分片 分钟 分页 切割 切换 列表
    创建 初始 删除 判断 利用 到场 到期 制定 制度 制面 刷新 前后 前端 前置 剩余 力量 办公 办法 办理 功能 加入 加密 加强 加载 务器 助手 劳动 包上 包含 包括 北京 匹配 区域
    十分 升级 协助 协同 协议 单个 单位 单数 单点 单被 占满 占用 卡片 印出 印机 即将 卸载 厂商 历史 压缩 原因 原来 原点 参加 参数 参考 参见 及其 双核 反向 反复 反应 反馈
    发展 发布 发往 发现 发生 发给 发起 发送 取得 取消 受到 变化 变成 变更 另外 另存 只有 只能 只要 只读 可以 可信 可先 可是 可用 可能 可见 可选 台中 台服 右下 右键 各种
    各级 合作 同一 同事 同意 同时 同样 同步 名单 名称 后会 后台 后来 后点 后生 后用 后部 否则 启动 启用 告知 告警 告诉 员工 周期 命名 咱们 响应 哪个 商品 器重 回升 回来
    回调 因为 因此 国内 国家 国际 图标 图片 土地 在内 在线 地位 地区 地址 地方 地磁 坚持 型号 城市 城邦 域名 基地 基本 基础 填写 增加 增长 声音 处于 处理 备份 复发 外部
    多台 多少 多次 多节 大写 大大 大学 大家 大小 大量 天下 失效 失败 套红 如何 如有 如果 如此 姓名 字体 字样 字段 存为 存储 存在 存目 学习 学校 学生 学院 孩子 它们 安全
    安装 完全 完成 完整 定义 定位 定制 定向 定时 实例 实施 实现 实行 实际 审批 审核 审计 客户 密码 对于 对外 对应 对接 对方 对话 对象 导入 导出 导致 小时 尚未 屏幕 属性
    工业 工人 工作 工具 工程 左右 已经 已远 市场 希望 常见 平台 年代 年度 并提 并重 应急 应用 应该 底部 延迟 建立 建筑 建议 建设 开发 开启 开始 开时 开机 开通 异常 引擎
    引用 引起 弹出 弹窗 强制 归档 归还 当前 当时 当然 形式 形成 影响 待办 待发 很多 得到 心中 心里 必填 必须 忘记 快照 怎么 思想 恢复 情况 意见 成为 成功 成员 成立 我们
    我国 或者 战争 战略 截图 户名 户数 所以 所在 所有 手册 手动 手工 手提 手机 手版 打印 打开 打扰 托盘 执行 扩容 扩展 扫描 批准 批量 找到 承诺 技术 投资 投递 报告 报表
    报错 拒绝 拦截 指定 指导 按时 按照 按钮 换为 换到 换服 据库 授权 排队 接下 接受 接口 接收 控件 控制 推送 提交 提供 提出 提前 提示 提醒 提高 插件 插入 搜索 操作 支持
    收信 收入 收到 收文 改为 改变 改用 改由 改过 改革 放在 放行 政体 政局 政府 政治 政策 故障 效期 敌人 教育 数字 数据 整个 整体 文件 文化 文号 文员 文字 文本 文档 文章
    文类 断开 断线 新增 新安 新手 新版 新闻 新页 方可 方式 方案 方法 方面 旅游 无效 无法 无需 日志 日期 日本 日程 旧版 早上 时代 时任 时候 时区 时报 时文 时时 时期 时段
    时点 时运 时长 时间 明细 映射 昨天 是否 显示 普通 暂停 更多 更换 更新 替换 最低 最后 最大 最终 最高 有些 有人 有关 有效 有时 有用 服务 期会 期日 期间 未加 未归 未通
    本地 本文 本机 本站 本级 本身 机上 机关 机器 机型 机构 权力 权限 条件 来源 来说 极速 架构 查到 查找 查看 查询 标准 标记 标题 校验 核对 根据 格式 桌面 检查 检测 模块
    模式 模板 次数 正常 正文 正确 步骤 武汉 死锁 残留 每年 每次 比赛 比较 民族 水平 汇总 汽车 没有 法国 法律 活动 流水 流程 流转 测到 测试 浏览 浮动 消息 涉及 添加 清理
    清除 湖北 火墙 灰名 灰色 点中 点击 热线 然后 版式 版本 特别 状态 环境 现在 现场 现象 理论 甚么 甚至 生产 生变 生在 生成 生效 生活 用户 用率 由于 电池 电脑 电话 留在
    登录 登记 百分 百度 百科 皇上 皇帝 监听 监控 盘中 目前 目录 目标 直接 直转 相关 相同 看到 看板 看见 眼睛 知本 知识 知道 短信 石首 研究 硬件 确认 磁盘 示例 社会 禁用
    科学 科技 积压 称为 移到 移动 程序 稍后 空白 空闲 空间 突然 窗口 立即 站点 端下 端口 符合 第一 第三 等待 策略 筛选 签名 管理 类别 精确 精神 系统 红头 级别 纸张 线程
    线网 组件 组成 组织 细行 终于 终端 经济 经过 绑定 结束 结构 结果 统一 统治 统管 统计 统通 继续 维护 综合 缓冲 缓存 编号 编码 编辑 缩放 缺失 缺少 网段 网站 网络 网页
    美国 群众 而且 而是 耗尽 耗时 职业 联系 能力 能够 脚本 自动 自定 自己 自带 自建 自然 自行 至少 艺术 节点 英国 范围 荆州 草稿 获得 菜单 虽然 行政 行时 行脚 补丁 表单
    表现 表示 表里 被删 襄阳 要使 要求 覆盖 见于 规则 规定 规模 视频 觉得 角色 解决 解压 解析 解锁 解除 计划 计算 认为 认证 记为 记录 记时 记者 许多 设为 设备 设定 设置
    设计 访问 证书 诊断 词条 详情 详见 语句 说明 说话 说道 请客 请求 请用 读取 调度 调整 调用 负责 财政 责人 账号 账户 资本 资源 起来 超大 超时 超过 距离 路径 跳转 身上
    身份 转发 转圈 转存 转换 软件 较大 输入 输出 达到 迁移 过去 过后 过期 过来 过滤 过程 运动 运行 近期 返回 还原 还是 还有 这个 这么 这些 这时 这样 这种 这里 进入 进度
    进程 进行 远程 连接 连续 连通 退信 退出 退回 适用 选中 选举 选择 选项 通信 通常 通性 通用 通知 通讯 通过 通道 避免 那个 那么 那些 那里 邮件 邮箱 部分 部署 部门 部队
    配套 配置 采用 释放 里面 重传 重启 重复 重大 重新 重点 重置 重要 重试 铁路 链接 锁定 错位 错误 长期 长江 门户 问题 队列 防火 阶段 阻塞 附上 附件 限为 限制 限流 除了
    除旧 随着 隐私 隐藏 集团 集成 集群 需要 非常 面板 面积 革命 页面 顶部 项目 预览 预订 领导 频繁 题解 首次 首页 驱动 验证 高于 麻烦 黄色 默认
""".split())
# Surnames read other than lazy_pinyin reads the character.
_SURNAME_PINYIN = {"曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "查": "zha", "区": "ou", "朴": "piao",
                   "覃": "qin", "乐": "yue", "召": "shao", "盖": "ge", "缪": "miao", "翟": "zhai", "沈": "shen",
                   "种": "chong", "繁": "po", "员": "yun", "长孙": "zhangsun", "万俟": "moqi", "尉迟": "yuchi"}


def reporter_names(reporters: Iterable[str]) -> list[str]:
    """The personal names in reporter cells, in first-seen order, without duplicates."""
    names: dict[str, None] = {}
    for cell in reporters:
        for part in _SEPARATORS.split(cell or ""):
            part = part.strip()
            if not part or any(c.isdigit() or c == "@" for c in part):
                continue
            if _CJK.match(part.replace(" ", "")):
                words = part.split()
                # "张 三" is one name spaced out; "张三 李四" are two.
                candidates = words if len(words) > 1 and all(len(w) >= 2 for w in words) else ["".join(words)]
                for name in candidates:
                    if (name := _chinese_name(name)):
                        names.setdefault(name, None)
            elif _LATIN.match(part) and part.casefold() not in NOT_NAMES:
                names.setdefault(part, None)
    return list(names)


def _chinese_name(text: str) -> str | None:
    for title in _CELL_TITLES:
        if text.endswith(title) and len(text) - len(title) >= 2:
            text = text[: -len(title)]
            break
    if len(text) < 2 or text in NOT_NAMES or (len(text) >= 3 and _ORG_SUFFIX.search(text)):
        return None
    return text


def _split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name; the titled forms (王主任) have no given name."""
    for title in _TITLES:
        if name.endswith(title) and 1 <= len(name) - len(title) <= 2:
            return name[: -len(title)], ""
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    return surname, name[len(surname):]


_pinyin = None


def _syllables(text: str, surname: bool = False) -> list[str]:
    global _pinyin
    if surname and text in _SURNAME_PINYIN:
        return [_SURNAME_PINYIN[text]]
    if _pinyin is None:
        from pypinyin import lazy_pinyin  # about 0.7 s to load: only when there are Chinese names
        _pinyin = lazy_pinyin
    return [s for s in _pinyin(text) if s.isascii() and s.isalpha()]


def _pinyin_spellings(name: str) -> list[tuple[list[str], list[str]]]:
    """(surname syllables, given syllables) for each way of writing the name in pinyin:
    ü as v, u and yu; a surname read as a surname (曾 zeng, 覃 qin) and as lazy_pinyin
    reads it (ceng, tan), since exports are not always right either."""
    surname, given = _split_name(name)
    if not given:
        return []
    giv = _syllables(given)
    spellings: list[tuple[list[str], list[str]]] = []
    for sur in (_syllables(surname, surname=True), _syllables(surname)):
        if not sur or not giv or len(sur) + len(giv) > len(surname) + len(given):
            continue
        for v in ("v", "u", "yu"):
            spelling = ([s.replace("v", v) for s in sur], [s.replace("v", v) for s in giv])
            if spelling not in spellings:
                spellings.append(spelling)
    return spellings


def name_forms(name: str) -> list[str]:
    """The forms of one reporter's name that are scrubbed (and remembered): the name, the
    given name alone for names of 3+ characters (晓明 of 张晓明, unless an everyday word),
    surname + title (张工, 张老师, …), 小张 and 老张 (unless the surname makes words with
    小/老), and the pinyin spellings surname first (zhangwei: matches Zhang Wei, zhang_wei,
    ZHANGWEI) and given name first (wei-zhang: matches Wei Zhang, Wei_Zhang, but not
    "weizhang", since joined that order is too often an English word — 丁兰, landing).
    A Latin name gives itself and its words reversed (Li Ming, ming-li). Compare forms
    normalised (NFKC, casefolded, spaces removed), as `name_digest` does."""
    name = unicodedata.normalize("NFKC", name).strip()
    if not name:
        return []
    if name.isascii():
        words = name.split()
        return list(dict.fromkeys([name, "-".join(reversed(words))] if len(words) == 2 else [name]))
    forms = [name]
    surname, given = _split_name(name)
    if len(given) >= 2 and given not in COMMON_GIVEN_WORDS and given not in COMMON_WORDS and given not in NOT_NAMES:
        forms.append(given)
    if given:
        for title in (*_TITLES, *_TITLE_NEXT_BAD):
            if surname in _TITLE_SURNAME_BAD.get(title[0], "") or len(surname + title) > 4:
                continue  # 施工; and windows of remembered names are at most 4 characters
            forms.append(surname + title)
        if surname not in NICK_EXCLUDED and len(surname) == 1:
            forms += ["小" + surname, "老" + surname]
    for sur, giv in _pinyin_spellings(name):
        forms += ["".join(sur + giv), "".join(giv) + "-" + "".join(sur)]
    return list(dict.fromkeys(forms))


def _normal_form(form: str) -> str:
    return "".join(unicodedata.normalize("NFKC", form).casefold().split())


def name_digest(key: bytes, form: str) -> bytes:
    """Keyed BLAKE2b (16 bytes) of a name form, normalised: NFKC, casefolded, no spaces."""
    return hashlib.blake2b(_normal_form(form).encode("utf-8"), key=key, digest_size=16).digest()


def trie_pattern(words: Iterable[str], joiner: str = "") -> str:
    """One regex alternation for many literal words, as a prefix tree: the engine follows
    shared prefixes once instead of trying every word at every position, and the longest
    word wins (张三丰 before 张三). `words` may also be sequences of syllables, with
    `joiner` (a regex) allowed between them."""
    trie: dict = {}
    for word in words:
        node = trie
        for part in word:
            node = node.setdefault(part, {})
        node[""] = {}

    def build(node: dict, first: bool) -> str:
        branches = [_SEPARATOR_REQUIRED + build(child, True) if part == _GAP else
                    (joiner if not first else "") + re.escape(part) + build(child, False)
                    for part, child in sorted(node.items()) if part]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie, True)


# --- numbers and other structured data -----------------------------------------------

_S = r"(?:[ \t\u3000\u00a0]?[-–—‐‑−.·][ \t\u3000\u00a0]?|[ \t\u3000\u00a0])"   # one separator
_S0 = _S + "?"
_S_NO_DOT = r"(?:[ \t\u3000\u00a0]?[-–—‐‑−][ \t\u3000\u00a0]?|[ \t\u3000\u00a0])"
_DATE8 = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|0?\d?\d)"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}:{_H}(?::{_H}){{0,5}}|(?:{_H}:){{1,7}}:(?![0-9A-Fa-f])"
         rf"|::(?:ffff(?::0{{1,4}})?:)?{_IPV4}|(?:{_H}:){{1,4}}:{_IPV4}|(?:{_H}:){{6}}{_IPV4}|::{_H}(?::{_H}){{0,6}})"
         r"(?:%[0-9A-Za-z._-]+)?")
_CARD_CUES = re.compile(r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|工资卡|社保卡|账号|帐号|账户|帐户|卡|card|account)\s*(?:号码?)?\s*[:：]?\s*(?:是|为)?\s*$", re.I)
_LANDLINE_CUES = re.compile(r"(?:电话|座机|固话|分机|办公室|宅电|家里|tel|phone|拨打|拨|打|致电|联系方式|号码|热线)\s*(?:号码?)?\s*[:：]?\s*(?:是|为)?\s*$", re.I)
_NOT_PHONE_CUES = re.compile(
    r"(?:错误|代码|错误码|编码|代号|编号|单号|文号|批号|序号|序列号|流水号|订单|工单|合同|发票|金额|版本|"
    r"版本号|验证码|校验码|条码|条形码|事件|ID|No\.?|Nr\.?|#|第|共|合计|总计|余额|数量|大小|容量|端口|port|"
    r"code|error|build|KB|字节|bytes?)\s*(?:号|码)?\s*[:：=]?\s*(?:是|为)?\s*$", re.I)
_NOT_PHONE_AFTER = re.compile(r"[”\"'）)]?\s*(?:错误|报错|代码|error|code|号文|元|万|亿|块|字节|[KMGT]i?B|bytes?|个|次|条|页|人|份|%|‰|秒|分钟|小时|天|年|月|日|号|行|列|"
                         r"像素|px|ms|笔|件|张|台|户|册|本|kb|mb|gb|℃|米|km|公里|kg|吨)", re.I)

_PATTERNS = {
    "ip4": rf"(?<![0-9A-Za-z.〔〕]){_IPV4}(?!\d|\.\d)",
    "ip6": rf"(?<![0-9A-Za-z:.〔〕]){_IPV6}(?![0-9A-Za-z:〔〕]|\.\d)",
    "idcard": rf"(?<!\d)[1-9]\d{{5}}{_S0}(?:18|19|20)\d\d{_S0}(?:0[1-9]|1[0-2]){_S0}(?:0[1-9]|[12]\d|3[01])"
              rf"{_S0}\d{{3}}{_S0}[\dXx](?!\d)",
    "bankcard": rf"(?<![0-9A-Za-z〔〕])(?:\d{{4}}(?:{_S}\d{{4}}){{3}}(?:{_S}\d{{1,3}})?|\d{{6}}{_S}\d{{10,13}}|\d{{16,19}})(?![0-9A-Za-z〔〕])",
    "idcard15": rf"(?<![0-9A-Za-z〔〕])[1-9]\d{{5}}{_S0}\d\d{_S0}(?:0[1-9]|1[0-2]){_S0}(?:0[1-9]|[12]\d|3[01]){_S0}\d{{3}}(?![0-9A-Za-z〔〕])",
    "mobile": rf"(?<![\d+])(?<!\d\.)(?:[(（](?:\+|00)?86[)）]{_S0}|(?:\+|00)?86{_S0})?"
              rf"(?:1[3-9]\d(?:{_S0}\d{{4}}){{2}}|1[3-9]\d\d{_S}\d{{4}}{_S}\d{{3}})(?!\d)",
    "landline": rf"(?<![\dA-Za-z〔〕])(?:[(（]0(?:10|2\d|[3-9]\d\d)[)）]{_S0}|0(?:10|2\d|[3-9]\d\d){_S0})\d{{3,4}}{_S0}\d{{4}}"
                r"(?:\s*(?:转|分机|ext\.?|-)\s*\d{1,5})?(?!\d)",
    "bare": rf"(?<![0-9A-Za-z_.\-#/:〔〕])(?<!\d[-–—‐‑−])[2-8]\d{{2,3}}{_S_NO_DOT}?\d{{4}}(?![0-9A-Za-z_〔〕])(?![.\-/:][\d〔〕])",
    "passport": r"(?<![0-9A-Za-z〔〕])[EG]\d{8}(?![0-9A-Za-z〔〕])",
    "plate": r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][ ]?[A-HJ-NP-Za-hj-np-z][ ]?[·•.\-]?[ ]?"
             r"(?P<plate_tail>[A-HJ-NP-Za-hj-np-z0-9]{5,6})(?![0-9A-Za-z〔〕])",
    "qq": r"(?<![A-Za-z])(?:[Qq]{2}|扣扣|企鹅)\s*(?:号码?|账号|帐号)?\s*[:：]?\s*(?:是|为)?\s*(?P<qq_v>[1-9]\d{4,11})(?!\d)",
    "wechat": r"(?:(?P<wx_strong>微信号|微信\s*ID|微信账号|微信帐号|(?<![A-Za-z])(?:vx|VX|Vx|wx|WX|Wx|v信|V信|wechat|WeChat|weixin)|薇信|威信)"
              r"\s*(?:号|ID|id)?\s*[:：]?|(?P<wx_weak>微信)\s*[:：]?)\s*(?:是|为)?\s*"
              r"(?P<wx_v>wxid_[A-Za-z0-9_-]{4,30}|[A-Za-z][-_A-Za-z0-9]{5,19}|1[3-9]\d{9}|[1-9]\d{4,11})(?![-_A-Za-z0-9])",
    "employee": r"(?:工号|员工编号|员工号|职工号|职工编号|工作证号|人员编号|员工ID|员工id)\s*[:：]?\s*(?:是|为)?\s*"
                r"(?P<emp_v>[A-Za-z]{0,4}-?\d{2,10}[A-Za-z]?)(?![0-9A-Za-z〔〕])",
    "passport_cue": r"护照\s*(?:号码?|编号)?\s*[:：]?\s*(?:是|为)?\s*(?P<pp_v>[A-Za-z]{1,2}\d{7,8})(?![0-9A-Za-z〔〕])",
}
# Each branch starts with a look-ahead at the characters it can start with, so that at
# most positions the engine rejects it with one table look-up.
_FIRST = {
    "ip4": r"\d", "ip6": r"[0-9A-Fa-f:]", "idcard": r"\d", "bankcard": r"\d", "idcard15": r"\d",
    "mobile": r"[\d(（+]", "landline": r"[(（0]", "bare": r"[2-8]", "passport": "[EG]", "plate": None,
    "qq": "[Qq扣企]", "wechat": "[微薇威vVwW]", "employee": "[工员职人]", "passport_cue": "护",
}
_STRUCTURED = "|".join(f"(?={_FIRST[kind]})(?P<{kind}>{pattern})" if _FIRST[kind] else f"(?P<{kind}>{pattern})"
                       for kind, pattern in _PATTERNS.items())
_STRUCTURED_RE = re.compile("(?=[0-9A-Za-z（(:+扣企微薇威工员职人护京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领])"
                            f"(?:{_STRUCTURED})")
_VALUE_GROUP = {"qq": "qq_v", "wechat": "wx_v", "employee": "emp_v", "passport_cue": "pp_v"}
_KIND_TOKEN = {"ip4": "ip", "ip6": "ip", "idcard15": "idcard", "bare": "landline", "passport_cue": "passport",
               "latin": "name", "given": "name", "titled": "name", "nick": "name", "cue": "name", "verb": "name",
               "memory": "name"}

# --- e-mail ---------------------------------------------------------------------------

_CN_TLD = "中国|中國|公司|网络|網絡|在线|商城|集团|政务|公益|网址|手机|移动|香港|台湾|台灣|澳门|信息|企业|网店|中文网|我爱你"
_TLD = r"(?:com|cn|net|org|gov|edu|mil|int|info|biz|top|xyz|io|me|cc|tv|co|hk|tw|mo|jp|us|uk|de|fr|ru|sg|site|online|vip|ltd|work|tech|club)"
_LABEL = r"[A-Za-z0-9\u3400-\u9fff](?:[-A-Za-z0-9\u3400-\u9fff]{0,61}[A-Za-z0-9\u3400-\u9fff])?"
_ASCII_LOCAL = r"[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-]"
_CJK_LOCAL = r"[\u3400-\u9fff]{1,6}[A-Za-z0-9._%+-]*"
_EMAIL_RE = re.compile(
    # local@domain, with a Latin or Chinese local part and domain, Chinese top-level domains
    rf"(?P<local>{_ASCII_LOCAL}|{_CJK_LOCAL})\s?@\s?"
    rf"(?P<domain>(?:{_LABEL}\.)+(?:[A-Za-z]{{2,}}(?![A-Za-z-])|(?:{_CN_TLD}))|(?:[A-Za-z0-9-]+\.)*(?:{_CN_TLD}))"
    # obfuscated: (at), [at], 艾特, # with a known top-level domain, " at … dot …"
    rf"|(?P<olocal>{_ASCII_LOCAL}|{_CJK_LOCAL})\s*(?:[(\[（【<{{]\s*(?:at|AT|At)\s*[)\]）】>}}]|艾特|#)\s*"
    rf"(?:[A-Za-z0-9-]+\s*(?:\.|[(\[（【<{{]\s*(?:dot|DOT)\s*[)\]）】>}}]|\s(?:dot|DOT)\s)\s*)+{_TLD}(?![A-Za-z0-9-])"
    rf"|(?P<wlocal>[A-Za-z0-9._%+-]+)\s+(?:at|AT)\s+(?:[A-Za-z0-9-]+\s+(?:dot|DOT)\s+)+{_TLD}(?![A-Za-z0-9-])",
)
_EMAIL_HINT = re.compile(r"(?<![A-Za-z])(?:at|AT)(?![A-Za-z])")
# Words that end the text before a Chinese local part (请发到张三@…: the local part is 张三).
_LOCAL_STOP = re.compile(r".*[到给发是至箱址为往向：:在用的了和及或系请找叫]")

# --- addresses --------------------------------------------------------------------------

_ADDR = r"[^\x00-\x7f\s，。、；：！？“”‘’（）《》【】〔〕…—·的在住是我你他她到去从于址了和与及或请往来送寄为把被给向至家位置点处边]"
_NUMBER_CN = r"(?:\d+|[A-Za-z]|[一二三四五六七八九十百零〇]{1,4})"
_PART = rf"\s*{_NUMBER_CN}\s*(?:号楼|号院|栋|幢|座|单元|楼|层|室|号|弄|[Ff](?![A-Za-z]))"
_ADMIN = rf"{_ADDR}{{2,7}}?(?:省|自治区|特别行政区|市|自治州|地区|盟|州|县|区|旗|镇|乡|街道|开发区|新区)"
_ADDRESS_RE = re.compile(
    rf"(?:{_ADMIN}){{0,4}}"
    rf"(?:{_ADDR}{{1,8}}?(?:路|街|大街|大道|巷|胡同|弄)\s*\d+(?:[-之]\d+)?\s*(?:号|弄)(?:{_PART})*(?:\s*\d{{2,5}}(?:室|房|号)?)?"
    rf"|{_ADDR}{{1,8}}?(?:小区|花园|家园|新村|公寓|大厦|苑|园|城|府|庭|村|院|里){_NUMBER_CN}\s*(?:号楼|栋|幢|座)"
    rf"(?:{_PART})*(?:\s*\d{{2,5}}(?:室|房|号)?)?"
    rf"|(?<!\d)\d+\s*(?:栋|幢|号楼)\s*\d+\s*单元(?:\s*\d+\s*(?:室|号|层|楼)?)?)"
)
# Every address form has a road, estate or building word before a number, or a number
# before a building, unit or room word: texts without one skip the address pattern.
_ADDRESS_HINT = re.compile(r"[路街巷弄同区园苑厦城府庭村院里]\s*[\d一二三四五六七八九十]|\d\s*(?:栋|幢|单元|号楼|室|弄)")


class Scrubber:
    """Replaces personal data in text with the tokens in TOKENS. Build it once per batch
    (`Scrubber.for_tickets`): the names of that batch's reporters are compiled into the
    one regex used for every text; `remembered` digests (with their `key`) add the names
    of earlier batches."""

    def __init__(self, names: Iterable[str] = (), keep_numbers: Iterable[str] = (), *,
                 remembered: frozenset[bytes] | set[bytes] = frozenset(), key: bytes | None = None):
        self.names = tuple(dict.fromkeys(n for n in names if len(n) >= 2))
        self.keep_numbers = frozenset(_digits(n) for n in keep_numbers)
        self.remembered = frozenset(remembered)
        if self.remembered and not key:
            raise ValueError("remembered digests need the key they were made with")
        self._key = key
        self._hasher = hashlib.blake2b(key=key, digest_size=16) if key else None

        full: set[str] = set()
        given_names: set[str] = set()
        latin: set[tuple[str, ...]] = set()
        surnames = set(SURNAMES) | set(COMPOUND_SURNAMES)
        nick_surnames = {s for s in SURNAMES if s not in NICK_EXCLUDED}
        for name in self.names:
            name = unicodedata.normalize("NFKC", name)
            if name.isascii():
                words = tuple(w.lower() for w in re.findall(r"[A-Za-z]+", name))
                if words:
                    latin.add(words)
                    if len(words) == 2:
                        latin.add((words[1], _GAP, words[0]))
                continue
            full.add(name)
            surname, given = _split_name(name)
            if given in name_forms(name):
                given_names.add(given)
            if given:
                surnames.add(surname)
                if len(surname) == 1 and surname not in NICK_EXCLUDED:
                    nick_surnames.add(surname)
            for sur, giv in _pinyin_spellings(name):
                # Given name first needs a separator (Wei Zhang): joined, it is too often
                # an English word (丁兰 → landing).
                latin.update({tuple(sur + giv), (*giv, _GAP, *sur)})
        given_names -= full
        parts = []
        if full:
            first = "".join(sorted({re.escape(n[0]) for n in full}))
            parts.append(f"(?=[{first}])(?P<name>{trie_pattern(sorted(full))})")
        if given_names:
            first = "".join(sorted({re.escape(n[0]) for n in given_names}))
            parts.append(f"(?=[{first}])(?P<given>{trie_pattern(sorted(given_names))})")
        if latin:
            syllables = trie_pattern(sorted(latin), "[ ._-]?")
            parts.append(f"(?=[A-Za-z])(?P<latin>(?<![A-Za-z])(?i:{syllables})(?![A-Za-z]))")
        # Three passes, each on the text with the earlier matches masked: structured data
        # (compiled once), this batch's names, then other people's names (compiled once
        # per set of surnames): a reporter's name wins over a title pattern (王芳老师 →
        # 〔姓名〕老师).
        self._passes = [_STRUCTURED_RE]
        if parts:
            self._passes.append(re.compile("|".join(parts)))
        self._passes.append(_third_party_regex(frozenset(surnames), frozenset(nick_surnames)))

    @classmethod
    def for_tickets(cls, tickets: Iterable[Ticket], keep_numbers: Iterable[str] = (), *,
                    remembered: frozenset[bytes] | set[bytes] = frozenset(), key: bytes | None = None) -> Scrubber:
        return cls(reporter_names(t.reporter for t in tickets), keep_numbers, remembered=remembered, key=key)

    def digests(self, key: bytes) -> set[bytes]:
        """The digests of every form of this scrubber's clear names: what a ticket store
        keeps, to pass back as `remembered` in later runs."""
        return {name_digest(key, form) for name in self.names for form in name_forms(name)}

    # -- matching ----------------------------------------------------------------------

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, token) of every replacement in `text` (half-width), in order."""
        spans: list[tuple[int, int, str]] = []
        masked = text
        if "〔" in text:
            masked = _mask(masked, [(m.start(), m.end()) for m in _TOKEN_RE.finditer(masked)])
        if "@" in masked or "#" in masked or "艾特" in masked or (
                ("at" in masked or "AT" in masked) and _EMAIL_HINT.search(masked)):
            found = [s for m in _EMAIL_RE.finditer(masked) if (s := _email_span(m))]
            spans += found
            masked = _mask(masked, found)
        if _ADDRESS_HINT.search(masked):
            found = [(m.start(), m.end(), TOKENS["address"]) for m in _ADDRESS_RE.finditer(masked)
                     if _is_address(m.group())]
            spans += found
            masked = _mask(masked, found)
        for regex in self._passes:
            found = [s for m in regex.finditer(masked) if (s := self._span(m))]
            if found:
                spans += found
                masked = _mask(masked, found)
        if self.remembered:
            spans += self._remembered_spans(masked)
        spans.sort()
        return spans

    def _span(self, m: re.Match) -> tuple[int, int, str] | None:
        kind = m.lastgroup
        if kind in _VALUE_GROUP:
            start, end = m.span(_VALUE_GROUP[kind])
            value = m.group(_VALUE_GROUP[kind])
            if kind == "wechat" and m.group("wx_weak") and not re.search(r"[\d_-]", value):
                return None  # "微信 windows 版": a word, not an id
            if value.isdigit() and _digits(value) in self.keep_numbers:
                return None
            return start, end, TOKENS[_KIND_TOKEN.get(kind, kind)]
        start, end = m.span()
        text = m.string
        if kind == "cue":
            start, end = m.span("cue_name")
            if m.group("cue_name") in NOT_NAMES:
                return None
        elif kind == "verb":
            start, end = m.span("verb_name")
        elif kind == "given":
            if not _given_name_in_context(text, start, end):
                return None
        elif kind in ("mobile", "landline", "bare", "bankcard"):
            digits = _digits(m.group())
            if digits in self.keep_numbers:
                return None
            if kind == "bare" and not _is_bare_landline(text, start, end, digits):
                return None
            if kind == "bankcard" and not (_luhn(digits) or _CARD_CUES.search(text[max(0, start - 12):start])):
                return None
        elif kind == "plate":
            if sum(c.isdigit() for c in m.group("plate_tail")) < 3:
                return None
        elif kind == "ip6":
            if not (any(c.isdigit() for c in m.group()) and m.group().count(":") >= 2):
                return None
        return start, end, TOKENS[_KIND_TOKEN.get(kind, kind)]

    def _remembered_spans(self, text: str) -> list[tuple[int, int, str]]:
        spans = []
        hasher, remembered = self._hasher, self.remembered
        for m in _CJK_RUN.finditer(text):
            run, base = m.group(), m.start()
            if " " in run or "\u3000" in run:  # 张 伟: compare without the space
                offsets = [i for i, c in enumerate(run) if c not in " \u3000"]
                run = "".join(run[i] for i in offsets)
            else:
                offsets = None
            n, i = len(run), 0
            while i < n - 1:
                for size in (4, 3, 2):
                    if i + size > n:
                        continue
                    window = run[i:i + size]
                    h = hasher.copy()
                    h.update(window.encode("utf-8"))
                    if h.digest() in remembered:
                        start = base + (offsets[i] if offsets else i)
                        end = base + (offsets[i + size - 1] if offsets else i + size - 1) + 1
                        if _form_in_context(text, start, end) and (
                                size > 2 or window[0] in _SURNAME_CHARS or _given_name_in_context(text, start, end)):
                            spans.append((start, end, TOKENS["name"]))
                            i += size
                            break
                else:
                    i += 1
        for m in _LATIN_RUN.finditer(text):
            words = [(w.start(), w.end(), w.group().lower()) for w in _LATIN_WORD.finditer(m.group())]
            i = 0
            while i < len(words):
                for size in (3, 2, 1):
                    if i + size > len(words):
                        continue
                    window = [w for _, _, w in words[i:i + size]]
                    # Joined (zhangwei, Zhang Wei), and with the given name first, which
                    # needs a separator (Wei Zhang → wei-zhang; "weizhang" is not one).
                    keys = ["".join(window)] + ["".join(window[:k]) + "-" + "".join(window[k:]) for k in range(1, size)]
                    if any(_digest(hasher, k) in remembered for k in keys):
                        spans.append((m.start() + words[i][0], m.start() + words[i + size - 1][1], TOKENS["name"]))
                        i += size
                        break
                else:
                    i += 1
        return spans

    # -- public ----------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        if not text:
            return text
        # Match on a half-width copy (１３８… typed with a Chinese input method), replace
        # in the original: the copy has the same length, so positions line up.
        work = text.translate(_HALF_WIDTH) if _FULL_WIDTH.search(text) else text
        spans = self._spans(work)
        if not spans:
            return text
        parts, last = [], 0
        for start, end, token in spans:
            if start < last:
                continue
            parts += (text[last:start], token)
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def scrub_ticket(self, ticket: Ticket) -> Ticket:
        """The ticket with its free text scrubbed and its contact fields replaced."""
        new = {
            "description": self.scrub(ticket.description),
            "resolution": self.scrub(ticket.resolution),
            "notes": self.scrub(ticket.notes),
            "reporter": TOKENS["name"] if ticket.reporter else "",
            "phone": TOKENS["mobile"] if ticket.phone else "",
            "email": TOKENS["email"] if ticket.email else "",
        }
        # Positional construction: dataclasses.replace is several times slower.
        return Ticket(*[new[name] if name in new else getattr(ticket, name) for name in _TICKET_FIELDS])


@functools.lru_cache(maxsize=16)
def _third_party_regex(surnames: frozenset[str], nick_surnames: frozenset[str]) -> re.Pattern:
    lead = set("".join(surnames)) | {"小", "老"} | {c[0] for c in _CUES + _CUES_BEFORE_VERB}
    lead_class = "".join(sorted(re.escape(c) for c in lead))
    return re.compile(f"(?=[{lead_class}])(?:{'|'.join(_name_patterns(surnames, nick_surnames))})")


def _name_patterns(surnames: set[str], nick_surnames: set[str]) -> list[str]:
    """Regexes for the names of people not in the reporter column."""
    singles = "".join(sorted(s for s in surnames if len(s) == 1))
    compounds = "|".join(sorted(s for s in surnames if len(s) > 1))
    surname = f"(?:{compounds}|[{singles}])" if compounds else f"[{singles}]"
    plain = trie_pattern(_TITLES)
    titles = (f"(?:{plain}|(?<![{_TITLE_SURNAME_BAD['工']}])工(?![{_TITLE_NEXT_BAD['工']}])"
              f"|总(?![{_TITLE_NEXT_BAD['总']}]))")
    nick_class = "".join(sorted(nick_surnames))
    nick = f"小(?<![{_NICK_PREV_BAD['小']}]小)[{nick_class}]|老(?<![{_NICK_PREV_BAD['老']}]老)[{nick_class}]"
    given = f"(?>{_GIVEN}{{1,2}})"
    cues = trie_pattern(sorted(_CUES))
    cues_v = "[" + "".join(_CUES_BEFORE_VERB) + "]"
    verbs = trie_pattern(sorted(_VERBS))
    return [
        f"(?P<titled>{surname}(?:{_GIVEN}{{1,2}}?)??副?{titles})",
        f"(?P<nick>{nick})",
        f"(?P<cue>(?:{cues}|{cues_v}(?=\\s*{surname}{given}\\s*{verbs}))\\s*[:：]?\\s*(?:是|为)?\\s*"
        f"(?P<cue_name>{surname}{given})(?![{_ORG_NEXT}]))",
        f"(?P<verb>(?P<verb_name>{surname}{given})(?![{_ORG_NEXT}])\\s*(?:{verbs}))",
    ]


_LATIN_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?:[ ._-]{1,2}[A-Za-z]+)*(?![A-Za-z0-9])")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


# Chinese runs for remembered names stop at characters never in names (STOP_CHARS).
_NAME_CHAR = "[^\\x00-\\u33ff\\ua000-\\U0010ffff" + "".join(sorted(STOP_CHARS)) + "]"
_CJK_RUN = re.compile(f"{_NAME_CHAR}(?:[ \u3000]?{_NAME_CHAR})+")


def _form_in_context(text: str, start: int, end: int) -> bool:
    """Whether a remembered form that ends in a title or starts with 小/老 is a name here
    (王工 in 王工说, not in 王工作)."""
    after = text[end:end + 1]
    last = text[end - 1]
    if last in _TITLE_NEXT_BAD and after and after in _TITLE_NEXT_BAD[last]:
        return False
    first = text[start]
    if first in _NICK_PREV_BAD and start and text[start - 1] in _NICK_PREV_BAD[first]:
        return False
    return True


def _digest(hasher, text: str) -> bytes:
    h = hasher.copy()
    h.update(text.encode("utf-8"))
    return h.digest()


def _given_name_in_context(text: str, start: int, end: int) -> bool:
    """A given name alone is not taken from inside an everyday word (子文 in 子文件夹)."""
    return text[start - 1:start + 1] not in COMMON_WORDS and text[end - 1:end + 1] not in COMMON_WORDS


def _mask(text: str, spans: Iterable[tuple]) -> str:
    """`text` with the spans overwritten by 〕, the end of a token: what a pattern sees
    next to a replacement is what it will see when the output is scrubbed again."""
    spans = list(spans)
    if not spans:
        return text
    chars = list(text)
    for start, end, *_ in spans:
        chars[start:end] = "〕" * (end - start)
    return "".join(chars)


def _email_span(m: re.Match) -> tuple[int, int, str] | None:
    local = m.group("local") or m.group("olocal") or m.group("wlocal") or ""
    start = m.start()
    if local and not local.isascii():
        # 请发到张三@…: the Chinese local part starts after the last word that ends the
        # sentence before it, and is at most 4 characters of a name.
        head = re.match(r"[\u3400-\u9fff]*", local).group()
        if (stop := _LOCAL_STOP.match(head)):
            start += stop.end()
            head = head[stop.end():]
        if len(head) > 4:
            start += len(head) - 4
    return start, m.end(), TOKENS["email"]


def _is_address(text: str) -> bool:
    return any(c.isdigit() for c in text) or bool(re.search("[一二三四五六七八九十]", text))


def _is_bare_landline(text: str, start: int, end: int, digits: str) -> bool:
    before = text[max(0, start - 12):start]
    if len(digits) == 7:
        return bool(_LANDLINE_CUES.search(before))
    if (_DATE8.match(digits) or digits.startswith("800") or _NOT_PHONE_CUES.search(before)
            or _NOT_PHONE_AFTER.match(text, end)):
        return False
    return True


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


# Full-width digits, letters and the signs inside numbers and addresses; not ，（）：,
# which every Chinese text has (and which would read differently once the digits next to
# them are a token).
_FULL_WIDTH = re.compile("[０-９Ａ-Ｚａ-ｚ＋＠＃．－＿％]")
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c).isalnum() or chr(c) in "＋＠＃．－＿％"}


_URL_ARTICLE = re.compile(r"/kb/(?P<seg>[A-Za-z0-9][A-Za-z0-9_-]*)", re.I)
_URL_HEAD = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#]*")
_DEFAULT = None


def scrub_url(url: str) -> str:
    """A reference URL reduced to its article part, /kb/KB-0042/ or /kb/<alias>/: no
    scheme, host, IP address, port, query or fragment (they may name the caller's
    machine, or carry an account in the query). A URL without /kb/ keeps its path only,
    scrubbed."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Scrubber()
    url = unicodedata.normalize("NFKC", url.strip())
    if (m := _URL_ARTICLE.search(url)):
        # A segment holding personal data (a name and a number in a made-up alias) is
        # hidden whole: half of it may be a name the scrubber does not know.
        segment = m["seg"]
        return f"/kb/{segment}/" if _DEFAULT.scrub(segment) == segment else "/kb/〔已隐去〕/"
    path = re.split(r"[?#]", _URL_HEAD.sub("", url), maxsplit=1)[0]
    return _DEFAULT.scrub(path)
