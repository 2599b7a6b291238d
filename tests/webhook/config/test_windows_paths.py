"""Where the files go: the working directory in a terminal (and `make serve`), the data
directory under a service. Windows paths are checked as `PureWindowsPath`s with the platform
given as "win32"; no Windows machine runs these."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pytest

from webhook.config.data_dir import data_directory
from webhook.config.loader import load_settings, local_secrets_file

WINDOWS_ENV = {
    "SYSTEMROOT": "C:\\Windows",
    "LOCALAPPDATA": "C:\\Users\\trader\\AppData\\Local",
    "PROGRAMDATA": "C:\\ProgramData",
}
PYTHON = "C:\\Users\\trader\\tradehook\\venv"


def windows_data_directory(cwd: str, env: dict[str, str] = WINDOWS_ENV) -> object:
    return data_directory(env, platform="win32", cwd=cwd, python_prefix=PYTHON)


@pytest.mark.parametrize("cwd", [
    "C:\\Windows\\System32",
    "c:\\windows\\system32",
    "C:\\Windows\\SysWOW64\\config\\systemprofile",
    PYTHON + "\\Scripts",
])
def test_a_service_started_in_the_system_or_python_folder_uses_local_app_data(cwd: str) -> None:
    assert windows_data_directory(cwd) == PureWindowsPath(
        "C:\\Users\\trader\\AppData\\Local\\tradehook")


def test_an_account_without_local_app_data_uses_program_data() -> None:
    env = {k: v for k, v in WINDOWS_ENV.items() if k != "LOCALAPPDATA"}
    assert windows_data_directory("C:\\Windows\\System32", env) == PureWindowsPath(
        "C:\\ProgramData\\tradehook")


def test_a_terminal_in_a_folder_of_ones_own_keeps_the_working_directory() -> None:
    assert windows_data_directory("C:\\Users\\trader\\tradehook") is None
    assert windows_data_directory("D:\\trading") is None


def test_tradehook_home_wins_everywhere() -> None:
    env = {**WINDOWS_ENV, "TRADEHOOK_HOME": "D:\\tradehook-data"}
    assert windows_data_directory("C:\\Windows\\System32", env) == PureWindowsPath(
        "D:\\tradehook-data")
    assert data_directory({"TRADEHOOK_HOME": "/srv/th"}, platform="linux", cwd="/") == (
        Path("/srv/th"))


def test_linux_keeps_the_working_directory_wherever_it_is() -> None:
    assert data_directory({}, platform="linux", cwd="/usr/lib/python3") is None


def test_the_defaults_go_to_the_data_directory(tmp_path: Path) -> None:
    env = {"TRADEHOOK_HOME": str(tmp_path)}
    (tmp_path / "tradehook.toml").write_text("port = 9100\n", encoding="utf-8")
    settings = load_settings(env=env)
    assert settings.port == 9100
    assert settings.journal_path == str(tmp_path / "tradehook.db")
    assert local_secrets_file(env) == tmp_path / "tradehook.secrets"


def test_the_data_directory_does_not_override_what_is_configured(tmp_path: Path) -> None:
    env = {"TRADEHOOK_HOME": str(tmp_path), "TRADEHOOK_JOURNAL": "sqlite:///elsewhere.db",
           "TRADEHOOK_SECRETS_FILE": str(tmp_path / "other.secrets")}
    assert load_settings(env=env).journal == "sqlite:///elsewhere.db"
    assert local_secrets_file(env) == tmp_path / "other.secrets"


def test_without_a_data_directory_make_serve_keeps_its_relative_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).journal == "sqlite:///tradehook.db"
    assert local_secrets_file({}) == Path("tradehook.secrets")
