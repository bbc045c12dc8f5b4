"""The one way promptls reads a file on a user's behalf: the analysed file, `${file:}` references, partials and
config files. Only regular files are read (symlinks followed), never more than a cap: a FIFO, a device such as
`/dev/zero`, a directory or a 10 GB file is refused with a reason instead of hanging the checker or the server or
filling its memory. Also the one test of whether a text is binary, shared by the editor and `check`.

Standard library only: every floor may use it."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

# `${file:}` references, partials and config files: far larger than any real one, small enough to read at once.
REFERENCED_FILE_MAX_BYTES = 1 << 20
BINARY_SNIFF_CHARS = 8192  # what git and most editors look at to call a file binary
_CONTROL_SHARE = 0.3  # above this share of control characters in the sniffed head, a text is binary
# C0 controls and DEL, less those that text files do contain (tab, line breaks, form feed, backspace, escape)
_DROP_CONTROLS = {c: None for c in [*range(0x20), 0x7F] if chr(c) not in "\t\n\r\f\v\b\x1b"}

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Refused(Exception):
    """A file that is not read; `reason` completes "Not read: ..." (e.g. "a FIFO, not a regular file")."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing  # the path does not exist (callers often treat this apart from the others)


def describe_size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _check(st: os.stat_result, cap: int | None, setting: str | None) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
        raise Refused(f"{kind}, not a regular file")
    if cap is not None and st.st_size > cap:
        raise Refused(_too_large(st.st_size, cap, setting))


def _too_large(size: int, cap: int, setting: str | None) -> str:
    where = f" (`{setting}`)" if setting else ""
    return f"file is {describe_size(size)}, above the {describe_size(cap)} limit{where}"


def _os_reason(e: OSError) -> Refused:
    missing = isinstance(e, FileNotFoundError | NotADirectoryError)
    return Refused(f"cannot read: {e.strerror or e}", missing=missing)


def check_regular(path: str | os.PathLike[str], cap: int | None = None, setting: str | None = None) -> int:
    """The size of a regular file of at most `cap` bytes, without opening it; Refused otherwise."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise _os_reason(e) from None
    _check(st, cap, setting)
    return st.st_size


def open_regular(path: str | os.PathLike[str], cap: int | None = None, setting: str | None = None) -> BinaryIO:
    """A binary file object on a regular file of at most `cap` bytes (None: any size); Refused otherwise.

    The path is stat'ed first so that a device is never opened (opening some has side effects), then opened
    non-blocking (opening a FIFO without O_NONBLOCK waits for a writer) and checked again on the descriptor, so a
    file swapped in between is caught too."""
    check_regular(path, cap, setting)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise _os_reason(e) from None
    try:
        _check(os.fstat(fd), cap, setting)
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike[str], cap: int = REFERENCED_FILE_MAX_BYTES,
               setting: str | None = None) -> bytes:
    """The whole content of a regular file of at most `cap` bytes; Refused otherwise. Never reads more than
    cap + 1 bytes, even from a file that grows while it is read."""
    with open_regular(path, cap, setting) as f:
        data = f.read(cap + 1)
    if len(data) > cap:  # it grew after the size check
        where = f" (`{setting}`)" if setting else ""
        raise Refused(f"file is above the {describe_size(cap)} limit{where}")
    return data


def read_text(path: str | os.PathLike[str], cap: int = REFERENCED_FILE_MAX_BYTES, *,
              errors: str = "strict") -> str:
    """`read_bytes` decoded as UTF-8 (a BOM dropped); Refused when it is not UTF-8 (with errors="strict")."""
    data = read_bytes(path, cap)
    try:
        return data.decode("utf-8-sig", errors)
    except UnicodeDecodeError as e:
        raise Refused(f"not valid UTF-8 (byte {e.start})") from None


def read_head(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most the first `limit` bytes of a regular file of any size; Refused for anything else."""
    with open_regular(path) as f:
        return f.read(limit)


def binary_reason(text: str) -> str | None:
    """Why a text is binary rather than something to analyse, judged on its head (so the editor, which has the
    text, and `check`, which has the bytes, say the same), or None for a text."""
    head = text[:BINARY_SNIFF_CHARS]
    if "\x00" in head:
        return "binary file (contains NUL bytes)"
    controls = len(head) - len(head.translate(_DROP_CONTROLS))
    if controls > _CONTROL_SHARE * len(head):
        return f"binary file (over {_CONTROL_SHARE:.0%} control characters)"
    return None
