"""Where the ninjatrader plugin looks for NinjaTrader's folder: on Windows, the Documents folder
Windows reports (SHGetKnownFolderPath), which OneDrive or a folder redirect may have moved."""

from __future__ import annotations

import ctypes
import sys
import uuid
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest

from plugins.ninjatrader import NinjaTraderConfig
from plugins.ninjatrader.config import FOLDERID_DOCUMENTS

REDIRECTED = "D:\\Users\\trader\\OneDrive\\Documents"


class FakeShell:
    """shell32.SHGetKnownFolderPath and ole32.CoTaskMemFree, as Windows declares them: the
    folder's GUID by reference, flags, a token, and an out pointer to a wide string that the
    caller frees (Windows' Shell documentation)."""

    def __init__(self, result: int = 0) -> None:
        self.result = result
        self.asked: list[uuid.UUID] = []
        self.freed = 0
        self.shell32 = self
        self.ole32 = self

    def SHGetKnownFolderPath(self, guid: Any, flags: int, token: Any, out: Any) -> int:  # noqa: N802
        self.asked.append(uuid.UUID(bytes_le=bytes(guid._obj.data)))
        if self.result == 0:
            out._obj.value = REDIRECTED
        return self.result

    def CoTaskMemFree(self, pointer: Any) -> None:  # noqa: N802
        self.freed += 1


def on_windows(monkeypatch: pytest.MonkeyPatch, shell: FakeShell) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", shell, raising=False)


def test_on_windows_the_documents_folder_comes_from_the_known_folder_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shell = FakeShell()
    on_windows(monkeypatch, shell)
    documents = NinjaTraderConfig().documents_dir
    assert PureWindowsPath(documents) == PureWindowsPath(REDIRECTED, "NinjaTrader 8")
    assert shell.asked == [FOLDERID_DOCUMENTS] and shell.freed == 1


def test_without_a_known_documents_folder_the_home_folder_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shell = FakeShell(result=0x80070002)  # E_FILENOTFOUND: a profile without Documents
    on_windows(monkeypatch, shell)
    assert NinjaTraderConfig().documents_dir == Path.home() / "Documents" / "NinjaTrader 8"
    assert shell.freed == 1


def test_elsewhere_the_home_folder_is_used_and_windows_is_not_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shell = FakeShell()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "windll", shell, raising=False)
    assert NinjaTraderConfig().documents_dir == Path.home() / "Documents" / "NinjaTrader 8"
    assert shell.asked == []
