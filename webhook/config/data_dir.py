"""Where tradehook keeps its files (`tradehook.toml`, `tradehook.secrets`, `tradehook.db`).

In a terminal and under `make serve` they are in the working directory, as before. A service
may start anywhere: a Windows service starts in `C:\\Windows\\System32` and a wrapper may start
it in the virtual environment's `Scripts` folder. So `TRADEHOOK_HOME` names a data directory,
and on Windows a working directory inside the system folder or inside Python's own
installation, where nobody keeps a journal, means `%LOCALAPPDATA%\\tradehook` (for an account
without one, `%ProgramData%\\tradehook`). Paths written in the configuration stay as written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

HOME_VARIABLE = "TRADEHOOK_HOME"
FOLDER_NAME = "tradehook"


def data_directory(
    env: Mapping[str, str],
    *,
    platform: str | None = None,
    cwd: str | None = None,
    python_prefix: str | None = None,
) -> PurePath | None:
    """The data directory, or None for the working directory."""
    platform = platform or sys.platform
    flavour: type[PurePath] = PureWindowsPath if platform == "win32" else PurePosixPath
    if home := env.get(HOME_VARIABLE, "").strip():
        return flavour(home)
    if platform != "win32":
        return None
    here = flavour(cwd or os.getcwd())
    system_root = flavour(env.get("SYSTEMROOT") or "C:\\Windows")
    installation = flavour(python_prefix or sys.base_prefix)
    environment = flavour(python_prefix or sys.prefix)
    if not any(here.is_relative_to(place) for place in (system_root, installation, environment)):
        return None
    base = env.get("LOCALAPPDATA") or env.get("PROGRAMDATA") or "C:\\ProgramData"
    return flavour(base) / FOLDER_NAME


def default_file(name: str, env: Mapping[str, str]) -> Path:
    """`name` in the data directory, or relative to the working directory without one."""
    home = data_directory(env)
    return Path(name) if home is None else Path(home) / name


def default_journal(env: Mapping[str, str]) -> str | None:
    """The journal URL in the data directory; None to keep the built-in `sqlite:///tradehook.db`."""
    home = data_directory(env)
    return None if home is None else f"sqlite:///{Path(home) / 'tradehook.db'}"
