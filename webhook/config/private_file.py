"""A file that only the account running tradehook may open: the secrets file it writes.

On POSIX the mode says so (0600, which `tempfile.mkstemp` gives). On Windows a mode only sets
read-only, and a new file inherits its folder's entries (on `C:\\` every user may read), so the
file gets an access list of one entry, the current account by its SID, with inheritance removed.
`whoami` and `icacls` (both in System32) do it, as a person would in PowerShell.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PureWindowsPath
from typing import Any

from webhook.errors import ConfigError

Run = Callable[..., "subprocess.CompletedProcess[bytes]"]
_SID = re.compile(rb"S-1-\d+(?:-\d+)+")
WAIT_SECONDS = 30


def restrict_to_owner(
    path: Path,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    run: Run | None = None,
) -> None:
    """On Windows, let only the current account open `path`; elsewhere nothing to do."""
    if (platform or sys.platform) != "win32":
        return
    run = run or subprocess.run
    system32 = PureWindowsPath((env or os.environ).get("SYSTEMROOT") or "C:\\Windows", "System32")
    who = _run(run, [str(system32 / "whoami.exe"), "/user", "/fo", "csv", "/nh"], path)
    found = _SID.search(who.stdout)
    if found is None:
        raise ConfigError(f"{path}: cannot make it private: whoami named no account SID")
    sid = found.group().decode("ascii")
    _run(run, [str(system32 / "icacls.exe"), str(path), "/inheritance:r", "/grant:r",
               f"*{sid}:(F)"], path)


def _run(run: Run, command: Sequence[str], path: Path) -> subprocess.CompletedProcess[bytes]:
    options: dict[str, Any] = {"capture_output": True, "timeout": WAIT_SECONDS, "check": False}
    try:
        done = run(list(command), **options)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{path}: cannot make it private: {command[0]} failed: {exc}") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout or b"").decode("ascii", "replace").strip()
        raise ConfigError(f"{path}: cannot make it private: {PureWindowsPath(command[0]).name} "
                          f"exited {done.returncode}: {said}")
    return done
