"""The `tradehook` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from plugins.errors import PluginConfigError
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.check import check_plugins
from webhook.config.data_dir import data_directory
from webhook.config.first_run import ensure_local_secrets, source_url, welcome
from webhook.config.loader import load_settings, local_secrets_file
from webhook.config.settings import SIGNED_SOURCE, Settings
from webhook.errors import ConfigError, JournalError, WebhookError
from webhook.journal import SignalStatus
from webhook.journal.event_loop import run_with_journal
from webhook.journal.listing import read_signals, signal_table
from webhook.observe.logs import configure_logging
from webhook.observe.streams import use_utf8
from webhook.printed_commands import program_call

DEFAULT_URL = "http://127.0.0.1:8000/webhook"


def main(argv: Sequence[str] | None = None) -> int:
    use_utf8(sys.stdout)
    use_utf8(sys.stderr)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except (WebhookError, PluginConfigError) as exc:
        print(f"tradehook: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradehook", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the webhook server")
    serve.add_argument("--config", help="TOML file (default ./tradehook.toml if present)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    send = commands.add_parser("send", help="sign a signal and post it")
    send.add_argument("body", nargs="?", help="the alert text or JSON, or @FILE")
    send.add_argument("--body-file", help="read the body from this file, byte for byte "
                      "(PowerShell changes quotes in arguments and line ends in pipes)")
    send.add_argument("--url", default=None, help=f"the endpoint (default {DEFAULT_URL})")
    send.add_argument("--secret", help="whsec_ secret (default: the configured one)")
    send.add_argument("--config")
    send.set_defaults(run=_send)

    sign = commands.add_parser("sign", help="print the signature headers for a body on stdin")
    sign.add_argument("--body-file", help="read the body from this file instead, byte for byte "
                      "(PowerShell's pipe adds CRLF and re-encodes)")
    sign.add_argument("--secret")
    sign.add_argument("--id", dest="msg_id", help="webhook-id (default: a new random one)")
    sign.add_argument("--config")
    sign.set_defaults(run=_sign)

    url = commands.add_parser("url", help="print the signed webhook URL of a source")
    url.add_argument("source")
    url.add_argument("--base", help="public base URL, e.g. https://hooks.example.com")
    url.add_argument("--config")
    url.set_defaults(run=_url)

    signals = commands.add_parser("signals", help="show the journal")
    signals.add_argument("--status", choices=[s.value for s in SignalStatus])
    signals.add_argument("--limit", type=int, default=20)
    signals.add_argument("--config")
    signals.add_argument("--follow", action="store_true",
                         help="print signals live from the running server (admin token)")
    signals.add_argument("--server", default="http://127.0.0.1:8000",
                         help="with --follow: the running server")
    signals.add_argument("--for", dest="follow_seconds", type=float, default=3600.0,
                         help="with --follow: stop after this many seconds (default 3600)")
    signals.add_argument("--count", type=int, help="with --follow: stop after this many events")
    signals.set_defaults(run=_signals)

    replay = commands.add_parser(
        "replay", help="decide the journal's signals again under a changed configuration")
    replay.add_argument("--config", required=True, help="the changed TOML file")
    replay.add_argument("--since", help="a time ago (24h, 7d) or an ISO 8601 date or time")
    replay.add_argument("--limit", type=int, default=10_000, help="newest signals at most")
    replay.set_defaults(run=_replay)

    check = commands.add_parser("check", help="validate the configuration and start each plugin")
    check.add_argument("--config")
    check.set_defaults(run=_check)

    mcp = commands.add_parser("mcp", help="the MCP server over stdio, acting for one agent")
    mcp.add_argument("--url", help="the running server (default http://127.0.0.1:8000)")
    mcp.set_defaults(run=_mcp)
    return parser


def _mcp(args: argparse.Namespace) -> int:
    """The agent's token comes from TRADEHOOK_AGENT_TOKEN, never from the command line."""
    from webhook.agents.stdio import DEFAULT_SERVER_URL, TOKEN_VARIABLE, serve_stdio

    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_VARIABLE}: set it to the agent's token ([agents.NAME])")
    asyncio.run(serve_stdio(args.url or DEFAULT_SERVER_URL, token))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from webhook.app import create_app
    from webhook.serve import serve

    if (home := data_directory(os.environ)) is not None:
        Path(home).mkdir(parents=True, exist_ok=True)
    settings = load_settings(args.config)
    secrets_file = local_secrets_file(os.environ)
    first_run = ensure_local_secrets(settings, secrets_file)
    if first_run:
        settings = load_settings(args.config)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    configure_logging(settings)
    shown = secrets_file.resolve() if secrets_file.is_file() else None
    # Source URLs work as passwords: print them to a person at a terminal, never into a
    # service's log (journald, docker logs); elsewhere say how to print them (`tradehook url`).
    show_urls = sys.stdout is not None and sys.stdout.isatty()  # None under pythonw
    print(welcome(settings, shown, command=_own_command(), show_urls=show_urls), flush=True)
    try:
        serve(create_app(settings), settings)
    except KeyboardInterrupt:
        pass  # uvicorn raises Ctrl+C again once its shutdown ran: a requested, clean stop
    return 0


def _own_command() -> str:
    """How to run this same `tradehook` from another terminal."""
    executable = Path(sys.argv[0]).resolve()
    if sys.platform == "win32" and executable.with_suffix(".exe").is_file():
        executable = executable.with_suffix(".exe")  # pip's launcher drops .exe from argv[0]
    found = shutil.which("tradehook")
    on_path = found is not None and Path(found).resolve() == executable
    return program_call(str(executable), os.getcwd(), on_path=on_path)


def _secret(args: argparse.Namespace) -> WebhookSecret:
    if args.secret:
        try:
            return WebhookSecret.parse(args.secret)
        except ValueError as exc:
            raise ConfigError(f"--secret: {exc}") from exc
    settings = load_settings(args.config)
    if not settings.secret:
        raise ConfigError("secret: none configured; pass --secret or set TRADEHOOK_SECRET")
    return settings.secret[0]


def _read_body_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {name}: {exc.strerror}") from exc


def _read_body(text: str | None, body_file: str | None) -> bytes:
    if text is not None and body_file is not None:
        raise ConfigError("send: give the body as an argument or with --body-file, not both")
    if body_file is not None:
        return _read_body_file(body_file)
    if text is None:
        raise ConfigError("send: give the body as an argument or with --body-file")
    if text.startswith("@"):
        return _read_body_file(text[1:])
    return text.encode()


def _send(args: argparse.Namespace) -> int:
    body = _read_body(args.body, args.body_file)
    url = args.url or DEFAULT_URL
    headers = signature_headers(_secret(args), body)
    try:
        json.loads(body)
        headers["content-type"] = "application/json"
    except ValueError:
        headers["content-type"] = "text/plain; charset=utf-8"
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url: expected an http:// or https:// address, got {url!r}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - checked above
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"tradehook: cannot reach {url}: {reason}", file=sys.stderr)
        return 2
    print(f"{status} {answer.decode(errors='replace')}")
    return 0 if 200 <= status < 300 else 1


def _sign(args: argparse.Namespace) -> int:
    body = _read_body_file(args.body_file) if args.body_file else sys.stdin.buffer.read()
    for name, value in signature_headers(_secret(args), body, msg_id=args.msg_id).items():
        print(f"{name}: {value}")
    return 0


def _url(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if not settings.secret:
        raise ConfigError("secret: none configured; run `tradehook serve` once or set it")
    if args.source == SIGNED_SOURCE:
        raise ConfigError(f"sources.{SIGNED_SOURCE}: reserved for signed requests to POST "
                          "/webhook; it has no URL (use `tradehook send` or `tradehook sign`)")
    if args.source not in settings.sources:
        known = ", ".join(sorted(settings.sources)) or "none"
        raise ConfigError(f"sources.{args.source}: no such source (configured: {known})")
    print(source_url(settings, args.source, args.base))
    return 0


def _signals(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.follow:
        return _follow(args, settings)
    path = settings.journal_path
    if path is not None and not Path(path).is_file():
        raise JournalError(f"no journal at {path}")
    status = SignalStatus(args.status) if args.status else None
    records = run_with_journal(settings.journal, read_signals(settings.journal, status, args.limit))
    print("\n".join(signal_table(records)))
    return 0


def _follow(args: argparse.Namespace, settings: Settings) -> int:
    from webhook.client.live_stream import FollowError, follow_signals

    if settings.admin_token is None:
        raise ConfigError("admin_token: none configured; set TRADEHOOK_ADMIN_TOKEN to follow")
    if args.follow_seconds <= 0 or (args.count is not None and args.count < 1):
        raise ConfigError("--for and --count: must be positive")
    try:
        follow_signals(args.server, settings.admin_token.get_secret_value(), sys.stdout,
                       seconds=args.follow_seconds, count=args.count)
    except FollowError as exc:
        print(f"tradehook: {exc}", file=sys.stderr)
        return 2
    return 0


def _replay(args: argparse.Namespace) -> int:
    from webhook.decide.replay_command import replay_journal, report_lines, terminal_progress
    from webhook.journal.since import parse_since

    settings = load_settings(args.config)
    if settings.journal_path is not None and not Path(settings.journal_path).is_file():
        raise JournalError(f"no journal at {settings.journal_path}")
    try:
        since = parse_since(args.since, time.time()) if args.since else None
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from exc
    if args.limit < 1:
        raise ConfigError("--limit: must be at least 1")
    progress = terminal_progress(sys.stderr) if sys.stderr.isatty() else None
    report = run_with_journal(
        settings.journal, replay_journal(settings, since, limit=args.limit, progress=progress))
    print("\n".join(report_lines(report)))
    return 0


def _check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(f"configuration OK: {len(settings.plugins)} plugin(s), {len(settings.sources)} source(s)")
    return asyncio.run(check_plugins(settings))


if __name__ == "__main__":
    raise SystemExit(main())
