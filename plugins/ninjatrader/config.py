"""Options of a `ninjatrader` plugin (a `[plugins.NAME]` table with `type = "ninjatrader"`)."""

from __future__ import annotations

import ctypes
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from plugins.base import PluginConfig

DEFAULT_ATI_PORT = 36973
DEFAULT_QUARTERLY_ROOTS = (
    "ES", "MES", "NQ", "MNQ", "YM", "MYM", "RTY", "M2K", "EMD", "NKD",
)  # fmt: skip
DEFAULT_TICK_SIZES = {
    "ES": 0.25, "MES": 0.25, "NQ": 0.25, "MNQ": 0.25, "YM": 1.0, "MYM": 1.0, "RTY": 0.1,
    "M2K": 0.1, "EMD": 0.1, "NKD": 5.0,
}  # fmt: skip
"""Minimum price fluctuations of the default quarterly roots, from CME Group's contract specs
(E-mini S&P 500 0.25 index points, E-mini Dow 1.0, E-mini Russell 2000 0.10, ...)."""
DEFAULT_POINT_VALUES = {
    "ES": 50.0, "MES": 5.0, "NQ": 20.0, "MNQ": 2.0, "YM": 5.0, "MYM": 0.5, "RTY": 50.0,
    "M2K": 5.0, "EMD": 100.0, "NKD": 5.0,
}  # fmt: skip
"""US dollars one contract makes on a move of one full point, from CME Group's contract specs
(the contract unit: E-mini S&P 500 $50 x the index, Micro E-mini $5, E-mini Nasdaq-100 $20,
E-mini Dow $5, E-mini Russell 2000 $50, E-mini S&P MidCap 400 $100, Nikkei 225 (USD) $5)."""
WINDOWS_DLL = Path("C:/Program Files/NinjaTrader 8/bin/NinjaTrader.Client.dll")


FOLDERID_DOCUMENTS = uuid.UUID("FDD39AD0-238F-46AF-ADB4-6C85480369C7")
"""The Documents known folder (KNOWNFOLDERID in Windows' Shell documentation)."""


class _Guid(ctypes.Structure):
    _fields_ = [("data", ctypes.c_ubyte * 16)]  # noqa: RUF012 - ctypes declares fields so


def windows_documents() -> Path:
    """The user's Documents folder as Windows knows it (`SHGetKnownFolderPath`), which follows
    OneDrive and folder redirection, unlike `~/Documents`."""
    windll: Any = getattr(ctypes, "windll")  # noqa: B009 - exists only on Windows
    guid = _Guid()
    ctypes.memmove(ctypes.byref(guid), FOLDERID_DOCUMENTS.bytes_le, 16)
    found = ctypes.c_wchar_p()
    result = windll.shell32.SHGetKnownFolderPath(ctypes.byref(guid), 0, None, ctypes.byref(found))
    try:
        if result != 0 or not found.value:
            raise OSError(f"SHGetKnownFolderPath(FOLDERID_Documents) failed with {result:#x}")
        return Path(found.value)
    finally:
        windll.ole32.CoTaskMemFree(found)


def default_documents() -> Path:
    if sys.platform == "win32":
        try:
            return windows_documents() / "NinjaTrader 8"
        except OSError:
            pass  # no known folder (a service account without a profile): the home folder
    return Path.home() / "Documents" / "NinjaTrader 8"


class NinjaTraderConfig(PluginConfig):
    transport: Literal["oif", "dll"] = "oif"
    """`oif`: order instruction files in NinjaTrader's incoming folder. `dll`:
    NinjaTrader.Client.dll through pythonnet (Mono on Linux)."""
    account: Annotated[str, Field(min_length=1)] = "Sim101"

    documents_dir: Path = Field(default_factory=default_documents)
    """NinjaTrader's user folder; `incoming` and `outgoing` are inside it unless set."""
    incoming_dir: Path | None = None
    outgoing_dir: Path | None = None
    connection: str | None = None
    """A connection name from NinjaTrader's Connection Manager: when set, health requires its
    `outgoing/<connection>.txt` to say CONNECTED."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_ATI_PORT
    dll_path: Path | None = None
    """NinjaTrader.Client.dll; on Windows the installed one is used when unset."""
    clr_runtime: Literal["auto", "netfx", "mono", "coreclr"] = "auto"
    """The .NET runtime pythonnet loads: `auto` is .NET Framework on Windows, Mono elsewhere."""
    mono_library: Path | None = None
    """libmonosgen-2.0.so, when Mono is not where the loader looks."""

    time_in_force: Literal["DAY", "GTC"] = "GTC"
    fill_timeout: Annotated[float, Field(gt=0)] = 10.0
    """Seconds to wait for NinjaTrader to report an order before the outcome counts as
    unknown."""
    poll_interval: Annotated[float, Field(gt=0)] = 0.05

    instruments: dict[str, str] = Field(default_factory=dict)
    """Signal symbol -> NinjaTrader instrument (`ES1!` -> `ES 12-25`); an entry here wins."""
    quarterly_roots: list[str] = Field(default_factory=lambda: list(DEFAULT_QUARTERLY_ROOTS))
    """Roots whose continuous symbols (`ES1!`) map to a quarterly contract (Mar/Jun/Sep/Dec)."""
    roll_days: Annotated[int, Field(ge=0, le=30)] = 8
    """Days before expiry (the third Friday) when the front contract rolls to the next."""
    tick_sizes: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_TICK_SIZES)
    )
    """Instrument root -> tick size, for stops and entries given in pips (one pip is one tick
    here); a root not listed has none, and such alerts are refused."""
    point_values: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_POINT_VALUES)
    )
    """Instrument root -> what one contract makes on a move of one point, in the account's
    currency, for sizing by risk (`risk=` of PineConnector, `risk` sizing); sizing by risk on a
    root not listed is refused rather than guessed."""
    atm_strategy: str | None = None
    """An ATM strategy template: entries are placed under it, and its stop and target apply
    instead of the signal's stop-loss and take-profit."""

    @property
    def incoming(self) -> Path:
        return (self.incoming_dir or self.documents_dir / "incoming").expanduser()

    @property
    def outgoing(self) -> Path:
        return (self.outgoing_dir or self.documents_dir / "outgoing").expanduser()
