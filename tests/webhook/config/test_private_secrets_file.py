"""The secrets file is private to the account that runs tradehook, on Windows too, where a file
mode cannot say so. No Windows here: the platform is given as "win32" and the commands that
would run (`whoami`, `icacls`) are recorded and answered as Windows documents them; what Windows
itself then does with the access list is unconfirmed here (docs/windows.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from webhook.config.first_run import ensure_local_secrets, welcome
from webhook.config.private_file import restrict_to_owner
from webhook.config.settings import Settings
from webhook.errors import ConfigError

SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
WHOAMI_CSV = f'"vps01\\trader","{SID}"\r\n'.encode("ascii")
"""`whoami /user /fo csv /nh`: the account and its SID, one quoted CSV line."""


class RecordedCommands:
    def __init__(self, icacls_exit: int = 0) -> None:
        self.commands: list[list[str]] = []
        self.icacls_exit = icacls_exit

    def __call__(self, command: list[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        self.commands.append(command)
        assert options["capture_output"] and options["timeout"] > 0
        if command[0].endswith("whoami.exe"):
            return subprocess.CompletedProcess(command, 0, WHOAMI_CSV, b"")
        said = b"" if self.icacls_exit == 0 else b"Access is denied.\r\n"
        return subprocess.CompletedProcess(command, self.icacls_exit, b"", said)


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> RecordedCommands:
    recorded = RecordedCommands()
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("SYSTEMROOT", "C:\\Windows")
    monkeypatch.setattr(subprocess, "run", recorded)
    return recorded


def test_the_secrets_file_is_made_private_before_it_takes_its_name(
    tmp_path: Path, windows: RecordedCommands
) -> None:
    path = tmp_path / "tradehook.secrets"
    assert ensure_local_secrets(Settings(), path)
    whoami, icacls = windows.commands
    assert whoami == ["C:\\Windows\\System32\\whoami.exe", "/user", "/fo", "csv", "/nh"]
    assert icacls[0] == "C:\\Windows\\System32\\icacls.exe"
    assert icacls[2:] == ["/inheritance:r", "/grant:r", f"*{SID}:(F)"]
    made_private = Path(icacls[1])
    assert made_private.parent == tmp_path and made_private != path
    assert not made_private.exists()  # it was renamed to the secrets file
    assert b"\r" not in path.read_bytes()


def test_a_failed_icacls_leaves_no_secrets_file_and_says_why(
    tmp_path: Path, windows: RecordedCommands
) -> None:
    windows.icacls_exit = 5
    path = tmp_path / "tradehook.secrets"
    with pytest.raises(ConfigError) as caught:
        ensure_local_secrets(Settings(), path)
    assert "cannot make it private: icacls.exe exited 5: Access is denied." in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_no_sid_from_whoami_is_refused(tmp_path: Path) -> None:
    def whoami_without_sid(command: list[str], **options: Any) -> Any:
        return subprocess.CompletedProcess(command, 0, b"\r\n", b"")

    with pytest.raises(ConfigError, match="whoami named no account SID"):
        restrict_to_owner(tmp_path / "x", platform="win32", run=whoami_without_sid)


def test_posix_keeps_mode_0600_and_runs_nothing(tmp_path: Path) -> None:
    def nothing_may_run(command: list[str], **options: Any) -> Any:
        raise AssertionError(f"ran {command}")

    restrict_to_owner(tmp_path / "x", platform="linux", run=nothing_may_run)
    path = tmp_path / "tradehook.secrets"
    ensure_local_secrets(Settings(), path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_welcome_says_how_the_file_is_private_on_each_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tradehook.secrets"
    assert "(mode 0600)" in welcome(Settings(), path, show_urls=False)
    monkeypatch.setattr(sys, "platform", "win32")
    assert "(only this account may open it)" in welcome(Settings(), path, show_urls=False)
