"""Zero-configuration start: make the missing secrets and say how to send a first signal."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.loader import ENV_PREFIX, read_env_file
from webhook.config.private_file import restrict_to_owner
from webhook.config.settings import SIGNED_SOURCE, Settings
from webhook.journal.postgres_url import shown_journal_url


def ensure_local_secrets(settings: Settings, path: Path) -> bool:
    """Write a webhook secret and an admin token, where none is configured, into `path`
    (created 0600, in the `KEY=VALUE` form systemd's EnvironmentFile reads). True if written."""
    values = read_env_file(path) if path.is_file() else {}
    added = False
    if not settings.secret and not values.get(ENV_PREFIX + "SECRET"):
        values[ENV_PREFIX + "SECRET"] = str(WebhookSecret.generate())
        added = True
    if settings.admin_token is None and not values.get(ENV_PREFIX + "ADMIN_TOKEN"):
        values[ENV_PREFIX + "ADMIN_TOKEN"] = secrets.token_urlsafe(32)
        added = True
    if not added:
        return False
    text = "# Made by `tradehook serve`. Keep it private.\n" + "".join(
        f"{key}={value}\n" for key, value in values.items()
    )
    _write_private(path, text)
    return True


def _write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, atomically, through a new file of mode 0600 that no one else
    can have made first (`mkstemp` opens it with O_CREAT | O_EXCL), made private on Windows too
    before it takes its name. Written as UTF-8 bytes: no `\r\n` on Windows, no code page."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        restrict_to_owner(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def base_url(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def source_url(settings: Settings, source: str, base: str | None = None) -> str:
    generation = settings.sources[source].generation
    token = make_source_token(settings.secret, source, generation)
    return f"{(base or base_url(settings)).rstrip('/')}/webhook/{token}"


def welcome(
    settings: Settings,
    secrets_file: Path | None,
    *,
    command: str = "tradehook",
    show_urls: bool = True,
) -> str:
    """What `serve` prints at start: how to send a first signal, and the TradingView URLs
    (or, with `show_urls` off, how to print them: a service's output ends up in its logs)."""
    base = base_url(settings)
    lines = [
        f"tradehook is listening on {base} (journal {shown_journal_url(settings.journal)}, "
        f"default plugin {settings.default_plugin!r})",
        "",
        "Send a first signal from another terminal:",
        f"  {command} send --url {base}/webhook 'buy 0.1 BTC/USDT'",
        "",
        "TradingView alert webhook URL (keep it private; it works as a password):",
    ]
    url_sources = [name for name in settings.sources if name != SIGNED_SOURCE]
    if show_urls:
        lines += [f"  {name}: {source_url(settings, name)}" for name in url_sources]
    else:
        lines += [f"  print it with: {command} url {name}" for name in url_sources]
    lines += ["", f"See what happened:  {command} signals"]
    if secrets_file is not None:
        private = "only this account may open it" if sys.platform == "win32" else "mode 0600"
        lines.append(f"Secrets and the admin token are in {secrets_file} ({private}).")
    return "\n".join(lines)
