from __future__ import annotations

import subprocess
import sys

import pytest

from plugins.errors import PluginConfigError
from plugins.loader import PLUGIN_TYPES, plugin_class, start_plugin, validate_plugin_config
from plugins.mock import MockPlugin

pytestmark = pytest.mark.anyio


def test_mock_type_is_the_paper_plugin() -> None:
    assert plugin_class("mock") is MockPlugin


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(PluginConfigError, match=r"unknown plugin type 'ftx'; known types: .*mock"):
        plugin_class("ftx")


def test_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PLUGIN_TYPES, "ccxt", "tradehook_absent_module:Plugin")
    with pytest.raises(PluginConfigError, match=r"pip install 'tradehook\[ccxt\]'"):
        plugin_class("ccxt")


def test_broker_libraries_are_imported_only_when_chosen() -> None:
    script = (
        "import sys, webhook.app, webhook.cli\n"
        "from plugins.loader import plugin_class\n"
        "plugin_class('mock')\n"
        "loaded = [m for m in ('ccxt', 'rpyc', 'clr', 'pythonnet', 'MetaTrader5') "
        "if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def test_options_are_checked_naming_the_key() -> None:
    with pytest.raises(PluginConfigError, match=r"^delay_ms: "):
        validate_plugin_config("mock", {"delay_ms": -5})
    with pytest.raises(PluginConfigError, match=r"^dealy_ms: Extra inputs"):
        validate_plugin_config("mock", {"dealy_ms": 5})


async def test_start_plugin_initialises_it() -> None:
    plugin = await start_plugin("paper", "mock", validate_plugin_config("mock", {}))
    assert plugin.name == "paper"
    assert await plugin.health_check()
