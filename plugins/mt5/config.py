"""Options of an `mt5` plugin (a `[plugins.NAME]` table with `type = "mt5"`)."""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated, Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from plugins.base import PluginConfig
from plugins.errors import PluginConfigError

DEFAULT_RPYC_PORT = 18812  # rpyc's classic server port, also mt5linux's
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]


class MT5Config(PluginConfig):
    transport: Literal["native", "rpyc"] = "native"
    """`native`: the MetaTrader5 package in this process (Windows only). `rpyc`: a terminal on a
    Windows host or under Wine, reached through an rpyc classic server."""
    tls_ca_file: str | None = None
    """PEM file of the CA that signed the bridge's certificate: the link then runs over TLS,
    with `tls_cert_file` and `tls_key_file` as tradehook's client certificate."""
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_server_name: str | None = None
    """The name the bridge's certificate carries, when it is not `host`."""
    allow_insecure_bridge: bool = False
    """Let a bridge that is not on loopback be reached without TLS (a VPN that nothing else
    reaches). Anyone who can reach an rpyc classic server can run code on it."""
    host: str = "127.0.0.1"
    """The bridge (an rpyc classic server); off loopback it needs TLS or allow_insecure_bridge
    (checked after the TLS options, which are declared first for that reason)."""
    port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_RPYC_PORT
    request_timeout: Annotated[float, Field(gt=0)] = 30.0
    """Seconds to wait for one terminal call over rpyc before the outcome counts as unknown."""

    path: str | None = None
    """The terminal's terminal64.exe; None lets MetaTrader5 find the installed one."""
    login: int | None = None
    """The trading account; None uses the account the terminal is logged in to."""
    server: str | None = None
    """The broker's trade server, as the terminal's login dialog names it."""
    password_env: EnvName | None = None
    """Name of the environment variable holding the account password (never the file)."""
    init_timeout_ms: Annotated[int, Field(gt=0)] = 60_000

    magic: Annotated[int, Field(ge=0)] = 730_001
    """The expert id stamped on every order, so that ours can be told from manual trades."""
    deviation: Annotated[int, Field(ge=0)] = 20
    """Largest accepted slippage of market orders, in points."""
    filling: Literal["auto", "fok", "ioc", "return"] = "auto"
    """Filling mode of market orders; `auto` picks one the symbol's execution mode and flags
    allow (FOK, then IOC, then RETURN); a configured one is refused where the symbol forbids it."""
    symbols: dict[str, str] = Field(default_factory=dict)
    """Signal symbol -> broker symbol (`EURUSD` -> `EURUSD.m`); an entry here wins."""
    symbol_suffix: str = ""
    """Appended to symbols that are not in `symbols` (`.m`, `.raw`, ...)."""
    lookup_days: Annotated[int, Field(ge=1)] = 7
    """How far back the history is searched when reconciling an order by its comment."""
    reconcile_timeout: Annotated[float, Field(ge=0)] = 2.0
    """Seconds to keep looking for an order whose reply was lost, before calling it unknown."""

    @field_validator("host")
    @classmethod
    def _bridge_is_private(cls, host: str, info: ValidationInfo) -> str:
        data = info.data
        tls = all(data.get(k) for k in ("tls_ca_file", "tls_cert_file", "tls_key_file"))
        remote_ok = tls or data.get("allow_insecure_bridge") or data.get("transport") != "rpyc"
        if not remote_ok and not is_loopback(host):
            raise PydanticCustomError(
                "insecure_bridge",
                "the rpyc bridge at '{host}' is not on this machine and the link has no TLS; "
                "anyone who reaches it can run code on the terminal's machine. Use an SSH "
                "tunnel (host = \"127.0.0.1\"), or TLS (tls_ca_file, tls_cert_file, "
                "tls_key_file), or set allow_insecure_bridge = true for a private network",
                {"host": host},
            )
        return host

    @model_validator(mode="after")
    def _tls_files_together(self) -> Self:
        tls = (self.tls_ca_file, self.tls_cert_file, self.tls_key_file)
        if any(tls) and not all(tls):
            raise ValueError(
                "tls_ca_file, tls_cert_file and tls_key_file go together: the CA of the bridge's "
                "certificate, and tradehook's client certificate and key"
            )
        return self

    def bridge_key(self) -> str:
        """What names the terminal connection this plugin holds, for one-per-process."""
        if self.transport == "native":
            return "the MetaTrader5 module of this process (transport native)"
        host = "127.0.0.1" if is_loopback(self.host) else self.host.lower()
        return f"the rpyc bridge at {host}:{self.port}"

    def credentials(self) -> dict[str, object]:
        """Keyword arguments of `initialize` (with the password in clear: never log them)."""
        found: dict[str, object] = {}
        if self.login is not None:
            found["login"] = self.login
        if self.password_env is not None:
            password = os.environ.get(self.password_env, "").strip()
            if not password:
                raise PluginConfigError(
                    f"password_env: the environment variable {self.password_env} is not set "
                    "or empty"
                )
            found["password"] = password
        if self.server:
            found["server"] = self.server
        return found


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
