"""The process's output streams as UTF-8, whatever the console's code page.

On Windows a redirected stream (a service wrapper's log, `> out.txt`) is in the ANSI code page
(cp1252), where JSON log lines with other characters would not be UTF-8 or would not print at
all; a console is UTF-8 already. Under `pythonw` there are no streams: `sys.stdout` and
`sys.stderr` are None.
"""

from __future__ import annotations

import codecs
import io
from typing import TextIO


def use_utf8(stream: TextIO | None) -> TextIO | None:
    """`stream`, switched to UTF-8 if it is a file or pipe in another encoding; None stays."""
    if stream is None or not isinstance(stream, io.TextIOWrapper):
        return stream
    if codecs.lookup(stream.encoding).name != "utf-8" and not stream.isatty():
        stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    return stream
