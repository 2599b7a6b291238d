"""Commands tradehook prints for a person to paste: into a POSIX shell, or on Windows into
PowerShell (5.1, which Windows ships, and 7).

PowerShell runs a quoted program path only after the call operator `&`, knows `&&` only from
version 7, and takes 'single quotes' literally, with a quote inside doubled (curly quotes count
as quotes too). A JSON body with double quotes does not survive PowerShell 5.1's passing of
arguments to a program, so the printed examples keep JSON bodies in files (`--body-file`).
"""

from __future__ import annotations

import shlex
import sys

_POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote(argument: str, platform: str | None = None) -> str:
    """One argument, quoted for the shell of this platform."""
    if (platform or sys.platform) != "win32":
        return shlex.quote(argument)
    return "'" + "".join(c * 2 if c in _POWERSHELL_QUOTES else c for c in argument) + "'"


def program_call(
    executable: str, cwd: str, *, on_path: bool, platform: str | None = None
) -> str:
    """How to run `executable` from another terminal, in `cwd` where it reads its files."""
    if on_path:
        return "tradehook"
    if (platform or sys.platform) == "win32":
        return f"Set-Location {quote(cwd, 'win32')}; & {quote(executable, 'win32')}"
    return f"cd {shlex.quote(cwd)} && {shlex.quote(executable)}"
