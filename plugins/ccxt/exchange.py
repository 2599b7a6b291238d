"""Creating, pointing and starting the ccxt exchange object behind a plugin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt

from plugins.ccxt.config import CcxtConfig, Credentials
from plugins.ccxt.errors import server_failures_are_unknown
from plugins.ccxt.guarantees import guarantees_for
from plugins.errors import PluginConfigError
from plugins.redaction import Redactor

_CREDENTIAL_KEYS = {"apiKey": "api_key_env", "secret": "secret_env", "password": "password_env"}
_KNOWN_EXCHANGES = "binance, bybit, okx, kraken, coinbase"


def create_exchange(config: CcxtConfig) -> Any:
    """The ccxt exchange, pointed where the configuration says; no credentials, not connected."""
    if config.exchange not in ccxt.exchanges:
        raise PluginConfigError(
            f"exchange: {config.exchange!r} is not a ccxt exchange id "
            f"(e.g. {_KNOWN_EXCHANGES}; ccxt lists {len(ccxt.exchanges)})"
        )
    options = {
        "defaultType": config.market_type,
        "adjustForTimeDifference": True,  # else a clock ahead of the exchange's refuses orders
        **_receive_window(config),
        **config.options,
    }
    exchange = getattr(ccxt, config.exchange)(
        {
            "timeout": int(config.timeout * 1000),
            "enableRateLimit": config.rate_limit,
            "options": options,
        }
    )
    if config.sandbox:
        _switch(exchange, "set_sandbox_mode", config.exchange, "sandbox")
    if config.demo:
        _switch(exchange, "enable_demo_trading", config.exchange, "demo")
    if config.api_host is not None:
        exchange.urls["api"] = _rehost(exchange.urls["api"], config.api_host)
    for name, url in config.urls.items():
        _replace_url(exchange, name, url)
    server_failures_are_unknown(exchange)
    return exchange


def apply_credentials(exchange: Any, credentials: Credentials) -> None:
    for name, value in credentials.ccxt_params().items():
        setattr(exchange, name, value)


async def start_exchange(exchange: Any, config: CcxtConfig, redact: Redactor) -> None:
    """Load the markets and prove the credentials with a balance request; any failure closes
    the exchange and becomes a `PluginConfigError`."""
    try:
        if exchange.options.get("adjustForTimeDifference") and exchange.has.get("fetchTime"):
            # before load_markets, whose signed requests (binance's currencies) need it
            await exchange.load_time_difference()
        await exchange.load_markets()
        await exchange.fetch_balance()
    except ccxt.AuthenticationError as exc:
        await exchange.close()
        keys = [key for key in _CREDENTIAL_KEYS.values() if getattr(config, key)]
        named = ", ".join(f"{key}={getattr(config, key)}" for key in keys)
        raise PluginConfigError(
            f"{config.exchange} refused the API credentials ({named}): {redact(str(exc))}"
        ) from exc
    except Exception as exc:
        await exchange.close()
        raise PluginConfigError(
            f"cannot start {config.exchange}: {type(exc).__name__}: {redact(str(exc))}"
        ) from exc


def require_named_credentials(exchange: Any, config: CcxtConfig) -> None:
    """Every credential the exchange needs has its environment variable named in the config."""
    required = [name for name, needed in exchange.requiredCredentials.items() if needed]
    for name in required:
        key = _CREDENTIAL_KEYS.get(name)
        if key is None:
            raise PluginConfigError(
                f"exchange: {config.exchange} needs the credential {name!r}, "
                "which the ccxt plugin cannot pass yet"
            )
        if getattr(config, key) is None:
            raise PluginConfigError(
                f"{key}: {config.exchange} needs it; name the environment variable that holds "
                f"the {name}"
            )


def _receive_window(config: CcxtConfig) -> dict[str, int]:
    """Binance carries out a request until its timestamp + recvWindow. ccxt's default (10 s)
    equals our default timeout, so a "not found" right after a timeout would prove nothing:
    keep the window at half the timeout (1 to 5 s, Binance's own default being 5 s)."""
    if not guarantees_for(config.exchange).not_found_is_proof_after_recv_window:
        return {}
    return {"recvWindow": int(min(5000, max(1000, config.timeout * 1000 / 2)))}


def _switch(exchange: Any, method: str, exchange_id: str, mode: str) -> None:
    try:
        getattr(exchange, method)(True)
    except (ccxt.NotSupported, KeyError) as exc:  # okx has no 'demo' URLs: a KeyError
        raise PluginConfigError(f"{mode}: {exchange_id} has no {mode} environment") from exc


def _rehost(urls: Any, base: str) -> Any:
    """Every URL in ccxt's `urls['api']` with its scheme and host replaced by `base`'s."""
    if isinstance(urls, dict):
        return {name: _rehost(url, base) for name, url in urls.items()}
    if not isinstance(urls, str):
        return urls
    target = urlsplit(base)
    parts = urlsplit(urls)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def _replace_url(exchange: Any, name: str, url: str) -> None:
    api = exchange.urls["api"]
    if isinstance(api, str):
        if name != "api":
            raise PluginConfigError(f"urls.{name}: {exchange.id} has one API URL; use urls.api")
        exchange.urls["api"] = url
        return
    if name not in api:
        known = ", ".join(sorted(api))
        raise PluginConfigError(f"urls.{name}: {exchange.id} has no such API URL; it has {known}")
    api[name] = url
