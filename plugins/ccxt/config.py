"""The options of a `[plugins.NAME]` table with `type = "ccxt"`.

Credentials are never written in the file: the table names the environment variables that hold
them, and `Credentials.from_environment` reads them when the plugin starts.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from plugins.base import PluginConfig
from plugins.errors import PluginConfigError

EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=512)]


class CcxtConfig(PluginConfig):
    exchange: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    """A ccxt exchange id: binance, bybit, okx, kraken, ..."""
    api_key_env: EnvName | None = None
    """Name of the environment variable holding the API key."""
    secret_env: EnvName | None = None
    """Name of the environment variable holding the API secret."""
    password_env: EnvName | None = None
    """Name of the environment variable holding the API passphrase (okx, kucoin, bitget)."""
    sandbox: bool = False
    """Trade on the exchange's testnet (ccxt `set_sandbox_mode`)."""
    demo: bool = False
    """Trade on the exchange's demo account (ccxt `enable_demo_trading`: binance, bybit)."""
    market_type: Literal["spot", "swap"] = "spot"
    """Which market an alert symbol means when the exchange lists it as both."""
    quantity_unit: Literal["base", "contracts"] = "base"
    """On contract markets, whether an order's quantity counts base currency (BTC, as TradingView
    sends it) or the exchange's contracts. Spot quantities are always in base currency."""
    balance_currency: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,12}$")] = "USDT"
    """The currency the account's equity is reported in (for sizing by percent of equity):
    its total in that currency; holdings in other coins are not counted."""
    timeout: Annotated[float, Field(gt=0, le=120)] = 10.0
    """Seconds before a request to the exchange counts as timed out."""
    health_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    protection_check_interval: Annotated[float, Field(ge=0, le=3600)] = 10.0
    """Seconds between looks, on swap accounts, for a stop-loss or take-profit whose position
    has closed (its sibling filled), to cancel it; 0 looks only before each entry and at start."""
    rate_limit: bool = True
    """ccxt's own throttle, which spaces requests by the exchange's published weights. Turn it
    off only when something in front of the exchange (a proxy, a local test exchange) does."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Passed to ccxt as the exchange's `options` (e.g. `defaultType`, `fetchMarkets`)."""
    symbols: dict[str, str] = Field(default_factory=dict)
    """Alert symbol -> the exchange's market (unified symbol or market id), checked at start."""
    urls: dict[str, HttpUrl] = Field(default_factory=dict)
    """Replace entries of ccxt's `urls['api']` by name (e.g. `public`, `private`)."""
    api_host: HttpUrl | None = None
    """Send every REST request to this scheme and host instead, keeping each path: a
    self-hosted forwarding proxy, or a local test exchange."""

    @field_validator("symbols")
    @classmethod
    def _upper_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return {key.strip().upper(): target.strip() for key, target in value.items()}

    @model_validator(mode="after")
    def _one_environment(self) -> CcxtConfig:
        if self.sandbox and self.demo:
            raise ValueError("sandbox and demo cannot both be on; choose one")
        return self


class Credentials:
    """API credentials read from the environment; their values never appear in repr or str."""

    def __init__(
        self, api_key: SecretStr | None, secret: SecretStr | None, password: SecretStr | None
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.password = password

    @classmethod
    def from_environment(cls, config: CcxtConfig) -> Credentials:
        return cls(
            _read_env(config.api_key_env, "api_key_env"),
            _read_env(config.secret_env, "secret_env"),
            _read_env(config.password_env, "password_env"),
        )

    def ccxt_params(self) -> dict[str, str]:
        """The keys ccxt's exchange constructor takes."""
        pairs = (("apiKey", self.api_key), ("secret", self.secret), ("password", self.password))
        return {name: value.get_secret_value() for name, value in pairs if value is not None}

    def values(self) -> list[str]:
        """The secret values, for redacting them from anything shown to a person."""
        return list(self.ccxt_params().values())

    def __repr__(self) -> str:
        return "Credentials(***)"


def _read_env(name: str | None, key: str) -> SecretStr | None:
    if name is None:
        return None
    value = os.environ.get(name, "")
    if not value.strip():
        raise PluginConfigError(f"{key}: the environment variable {name} is not set or empty")
    return SecretStr(value.strip())
