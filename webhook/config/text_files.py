"""The text of configuration, secret and env files, as editors on Windows save them.

Notepad may write a byte-order mark, PowerShell 5.1's `>` writes UTF-16, and an "ANSI" file is
in the machine's code page. A BOM is read past and UTF-16 with a BOM is decoded; any other text
that is not UTF-8 is refused with an error that names the file and says how to save it again,
never a `UnicodeDecodeError`. The messages never quote the content, which may be a secret.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from webhook.errors import ConfigError

SAVE_AS_UTF8 = (
    "save it as UTF-8 (Notepad: File > Save as, Encoding UTF-8; PowerShell: "
    "Set-Content -Encoding utf8)"
)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SINGLE_QUOTES_HINT = (
    "in TOML a \"double-quoted\" string reads a backslash as an escape (\\t is a tab): write "
    "Windows paths in 'single quotes', e.g. journal = 'sqlite:///C:\\tradehook\\tradehook.db', "
    "or with forward slashes"
)


def read_config_text(path: Path, what: str) -> str:
    """The text of `path`; `what` names it in errors (a file, or the key that named it).
    OSError passes through, for the caller to word."""
    return decode_config_text(path.read_bytes(), what)


def decode_config_text(data: bytes, what: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{what}: broken UTF-16 at byte {exc.start}; {SAVE_AS_UTF8}") from exc
    if b"\x00" in data:
        raise ConfigError(f"{what}: holds NUL bytes (UTF-16 without a byte-order mark?); "
                          f"{SAVE_AS_UTF8}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}; saved in a "
            f"Windows code page, \"ANSI\"?); {SAVE_AS_UTF8}"
        ) from exc


def control_character_problem(value: str) -> str | None:
    """Why a path or URL holding a control character is wrong, most likely a TOML escape."""
    found = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
    if found is None:
        return None
    return f"holds a control character ({found!r}); {SINGLE_QUOTES_HINT}"


def toml_error_hint(message: str) -> str:
    """A hint to add to a TOML error that a Windows path in double quotes would cause."""
    if "\\" in message or "escape" in message or "hex value" in message:
        return f" ({SINGLE_QUOTES_HINT})"
    return ""
