"""Click's own messages (usage errors, help headings) in Chinese.

Click marks its messages for gettext and looks up `_` / `ngettext` in its modules at call
time, so a translation table installed there reaches every message a user can meet. A
message missing here (say, new in a later click) stays English instead of failing."""

from __future__ import annotations

import errno
import importlib

MESSAGES = {
    "Usage:": "用法:",  # click adds ":" to the other headings too
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "Aborted!": "已中止。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "查看帮助：{command} {option}",
    "Missing command.": "缺少子命令。",
    "No such command {name!r}.": "没有子命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Invalid value: {message}": "值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Value must be an iterable.": "值必须是列表。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "unknown error": "未知错误",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是目录。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "Repeat for confirmation": "请再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Do you want to continue?": "是否继续？",
    "Press any key to continue...": "按任意键继续……",
}

# ngettext messages by their singular form; Chinese has one form for both.
PLURAL_MESSAGES = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面需要一个值。",
    "{value!r} is not {choice}.": "{value!r} 不是可选值（可选：{choices}）。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {formats}。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，给了 {len_value} 个。",
}

# The names click puts into messages ("Missing {param_type}", "not a valid {number_type}").
_NAMES = {"argument": "参数", "option": "选项", "parameter": "参数", "integer": "整数", "float": "数字",
          "integer range": "整数", "float range": "数字", "boolean": "是/否值"}

_CLICK_MODULES = ("core", "exceptions", "parser", "types", "decorators", "formatting", "termui")


class _Names(str):
    """A message whose `.format()` also translates the type names click fills in."""

    def format(self, *args, **kwargs):
        return super().format(*args, **{k: _NAMES.get(v, v) if isinstance(v, str) and k in ("param_type", "number_type") else v
                                         for k, v in kwargs.items()})


def gettext(message: str) -> str:
    return _Names(MESSAGES.get(message, message))


def ngettext(singular: str, plural: str, count: int) -> str:
    if singular in PLURAL_MESSAGES:
        return _Names(PLURAL_MESSAGES[singular])
    return _Names(singular if count == 1 else plural)


def install() -> None:
    """Point click's message lookups at the tables above."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext


# What went wrong with a file, for the errors a user can fix (Python's strerror is English).
OS_ERRORS = {
    errno.ENOENT: "文件或目录不存在", errno.EACCES: "没有权限", errno.EPERM: "不允许此操作",
    errno.EEXIST: "已存在同名文件或目录", errno.ENOTDIR: "路径中有一段不是目录", errno.EISDIR: "这是目录，不是文件",
    errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读", errno.ENOTEMPTY: "目录不为空",
    errno.ENAMETOOLONG: "文件名过长", errno.EMFILE: "打开的文件过多",
}


def os_error(err: OSError) -> str:
    """`[Errno 17] File exists: 'x'` as 已存在同名文件或目录：x."""
    reason = OS_ERRORS.get(err.errno, err.strerror or str(err))
    names = [str(name) for name in (err.filename, err.filename2) if name is not None]
    return f"{reason}：{' → '.join(names)}" if names else reason
