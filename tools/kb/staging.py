"""Staging folders for output that must change all at once (the site, the search index):
build into a folder beside the target, swap it into place, and clean up after killed runs.

A run works in `.<target>.building-XXXX` beside the target and holds an flock on that
folder while it exists. A staging folder nobody holds a lock on was left by a run that
died (SIGKILL, power cut): the next run deletes it, and leaves alone the ones of runs
still going.

Before the swap the new folder is made readable by other users (0755 folders, 0644
files), whatever the umask. The swap exchanges the two folders in one rename (renameat2 RENAME_EXCHANGE, Linux 3.15
and later), so the target never disappears, not even for a moment: a web server or a
`kb search` reading it sees the old folder or the new one. Where the exchange is not
available it falls back to two renames, and the target is missing for a moment:
`wait_in_place` lets a reader (`kb serve`) wait for the new one instead.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _pattern(target: Path, kind: str) -> str:
    return f".{target.name}.{kind}-*"


@contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A new, empty folder beside `target`, locked for this run and removed when done
    (after a swap it holds the old target, which goes with it). Stale folders of killed
    runs are removed first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    while True:
        path = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:  # not taken for stale by another run before it was locked
            break
        os.close(fd)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def remove_stale(target: Path) -> list[Path]:
    """Delete the staging folders beside `target` that no running process holds, and the
    old copies a killed swap left (when the target itself is in place)."""
    removed = []
    for path in sorted(target.parent.glob(_pattern(target, "building"))):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a run in progress
        else:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    if target.exists():
        for path in sorted(target.parent.glob(_pattern(target, "old"))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def make_readable(tree: Path) -> None:
    """Folders 0755 and files 0644 throughout `tree`, whatever the umask: a site or index
    is read by other users (nginx as www-data, a colleague's `kb search`), and mkdtemp
    makes the staging folder 0700."""
    os.chmod(tree, 0o755)
    for folder, folders, files in os.walk(tree):
        for name in folders:
            os.chmod(os.path.join(folder, name), 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def swap_into_place(staging: Path, target: Path) -> None:
    """Put `staging` where `target` is, readable by everyone (make_readable). Afterwards
    `staging` holds the old target (or is gone), for the caller to delete."""
    make_readable(staging)
    if target.exists() and _exchange(staging, target):
        return
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    staging.rename(target)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def wait_in_place(target: Path, seconds: float) -> os.stat_result | None:
    """`target`'s stat; None when it is not there. Where the two folders cannot be exchanged
    in one rename, swap_into_place moves the old target aside (`.<target>.old-XXXX`) and
    then the new one in: found in between, the target is waited for (up to `seconds`), so
    that a reader such as `kb serve` never sees it missing. Without a swap under way a
    missing target is None at once."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return os.stat(target)
        except FileNotFoundError:
            pass
        # The old target is moved aside and the new one moved in by one rename each: while
        # the target is missing the old copy is there, until the new one is in place.
        if time.monotonic() >= deadline or not any(target.parent.glob(_pattern(target, "old"))):
            try:
                return os.stat(target)
            except FileNotFoundError:
                return None
        time.sleep(0.002)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not glibc 2.28+ / not Linux
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):  # old kernel, file system without it
        return False
    raise OSError(code, os.strerror(code), str(b))
