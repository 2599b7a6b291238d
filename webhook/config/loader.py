"""Load the settings: a TOML file, then `TRADEHOOK_*` variables, then the checks.

Keys nest with a double underscore in variable names: `TRADEHOOK_SOURCES__TV__PLUGIN` sets
`sources.tv.plugin`. Secrets (`secret`, `admin_token`, a source's `passphrase`, an agent's
`token`) may not be written in the file, which often lives in a repository: they come from the
environment, from a file named by `<key>_file`, or from the local secrets file that `tradehook
serve` creates on a first run with no configuration. Every mistake raises `ConfigError` naming
the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from plugins.errors import PluginConfigError
from plugins.loader import plugin_class, validate_plugin_config
from webhook.config.data_dir import default_file, default_journal
from webhook.config.settings import DEFAULT_PLUGIN, DEFAULT_SOURCE, Settings
from webhook.config.text_files import read_config_text, toml_error_hint
from webhook.errors import ConfigError

ENV_PREFIX = "TRADEHOOK_"
DEFAULT_CONFIG_FILE = "tradehook.toml"
LOCAL_SECRETS_FILE = "tradehook.secrets"
_NOT_SETTINGS = {"CONFIG", "SECRETS_FILE", "HOME"}
_SECRET_KEYS = ("secret", "admin_token")
_NOTIFICATION_SECRET_KEYS = ("url", "secret")
"""A notification URL carries a bot token or is a capability URL itself."""


def load_settings(
    config_file: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    env = os.environ if env is None else env
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    raw = _read_toml(Path(path)) if path else _read_toml_if_present(
        default_file(DEFAULT_CONFIG_FILE, env))
    _refuse_inline_secrets(raw)
    _read_secret_files(raw)
    # Variables refine the embedded defaults, as they refine what a file says.
    raw.setdefault("plugins", {DEFAULT_PLUGIN: {"type": "mock"}})
    raw.setdefault("sources", {DEFAULT_SOURCE: {}})
    if (journal := default_journal(env)) is not None:
        raw.setdefault("journal", journal)
    origins: dict[str, str] = {}
    _overlay_environment(raw, env, origins)
    _fill_from_local_secrets(raw, local_secrets_file(env))
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origins)) from exc
    for name, plugin in settings.plugins.items():
        try:
            plugin_class(plugin.type)
        except PluginConfigError as exc:
            raise ConfigError(f"plugins.{name}.type: {exc}") from exc
        try:
            validate_plugin_config(plugin.type, plugin.options)
        except PluginConfigError as exc:
            raise ConfigError(f"plugins.{name}.{exc}") from exc
    return settings


def local_secrets_file(env: Mapping[str, str]) -> Path:
    """The secrets file `tradehook serve` makes on a first run (`TRADEHOOK_SECRETS_FILE`)."""
    named = env.get(ENV_PREFIX + "SECRETS_FILE")
    return Path(named) if named else default_file(LOCAL_SECRETS_FILE, env)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_config_text(path, f"config file {path}"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}{toml_error_hint(str(exc))}"
        ) from exc


def _read_toml_if_present(path: Path) -> dict[str, Any]:
    return _read_toml(path) if path.is_file() else {}


def _refuse_inline_secrets(raw: dict[str, Any]) -> None:
    found = [key for key in _SECRET_KEYS if key in raw]
    found += [
        f"sources.{name}.passphrase"
        for name, table in (raw.get("sources") or {}).items()
        if isinstance(table, dict) and "passphrase" in table
    ]
    found += [f"agents.{name}.token" for name, table in _tables(raw, "agents") if "token" in table]
    found += [
        f"notifications.{name}.{key}"
        for name, table in _tables(raw, "notifications")
        for key in _NOTIFICATION_SECRET_KEYS
        if key in table
    ]
    if found:
        raise ConfigError(
            f"{found[0]}: secrets do not belong in the config file; set it in the environment "
            f"({_env_name(found[0])}) or name a file with {found[0].rsplit('.', 1)[-1]}_file"
        )


def _tables(raw: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    section = raw.get(key)
    if not isinstance(section, dict):
        return []
    return [(name, table) for name, table in section.items() if isinstance(table, dict)]


def _read_secret_files(raw: dict[str, Any]) -> None:
    tables: list[tuple[str, dict[str, Any]]] = [("", raw)]
    tables += [
        (f"sources.{name}.", table)
        for name, table in (raw.get("sources") or {}).items()
        if isinstance(table, dict)
    ]
    tables += [(f"notifications.{name}.", table) for name, table in _tables(raw, "notifications")]
    tables += [(f"agents.{name}.", table) for name, table in _tables(raw, "agents")]
    for prefix, table in tables:
        for key in [k for k in table if k.endswith("_file") and isinstance(table[k], str)]:
            target = key.removesuffix("_file")
            try:
                table[target] = read_config_text(Path(table.pop(key)), prefix + key).strip()
            except OSError as exc:
                raise ConfigError(f"{prefix}{key}: cannot read the file: {exc.strerror}") from exc


def _overlay_environment(
    raw: dict[str, Any], env: Mapping[str, str], origins: dict[str, str]
) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name[len(ENV_PREFIX) :] in _NOT_SETTINGS:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        table = raw
        for part in path[:-1]:
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{'.'.join(path)}: {name} sets a key below a plain value")
            table = child
        table[path[-1]] = value
        origins[".".join(path)] = name


def _fill_from_local_secrets(raw: dict[str, Any], path: Path) -> None:
    if all(raw.get(key) for key in _SECRET_KEYS) or not path.is_file():
        return
    for key, value in read_env_file(path).items():
        setting = key.removeprefix(ENV_PREFIX).lower()
        if key.startswith(ENV_PREFIX) and setting in _SECRET_KEYS and not raw.get(setting):
            raw[setting] = value


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines, as systemd's EnvironmentFile reads them."""
    pairs = {}
    for line in read_config_text(path, str(path)).splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            pairs[key.strip()] = value.strip().strip("'\"")
    return pairs


def _env_name(key: str) -> str:
    return ENV_PREFIX + key.upper().replace(".", "__")


def _describe(exc: ValidationError, origins: Mapping[str, str]) -> str:
    first = exc.errors()[0]
    ctx = first.get("ctx") or {}
    key = str(ctx.get("key") or ".".join(str(part) for part in first["loc"]) or "(settings)")
    message = str(first["msg"]).removeprefix("Value error, ")
    origin = origins.get(key)
    return f"{key}: {message}" + (f" (from {origin})" if origin else "")
