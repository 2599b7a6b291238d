"""The command line as a Windows user meets it: commands printed for PowerShell, bodies read
byte for byte from files (PowerShell rewrites quotes in arguments and line ends in pipes), no
console under pythonw. `sys.platform` is patched; no Windows machine runs these."""

from __future__ import annotations

import http.server
import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from webhook import cli
from webhook.auth.signatures import WebhookSecret, verify_signature
from webhook.errors import AuthError
from webhook.observe.streams import use_utf8
from webhook.printed_commands import program_call, quote

SECRET = WebhookSecret.generate()
BODY = b'\xef\xbb\xbf{"symbol": "BTC/USDT", "side": "buy", "quantity": 0.1}\r\n'
"""As Notepad saves it: a BOM and a CRLF, which the signature must cover unchanged."""


class Received:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """An HTTP endpoint on loopback that records each request and answers 202."""
    received = Received()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            length = int(self.headers["content-length"])
            received.requests.append(({k.lower(): v for k, v in self.headers.items()},
                                      self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()
            self.wfile.write(b'{"status":"queued"}')

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhook", received
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_send_body_file_posts_the_file_byte_for_byte_and_signs_those_bytes(
    tmp_path: Path, receiver: tuple[str, Received], capsys: pytest.CaptureFixture[str]
) -> None:
    url, received = receiver
    alert = tmp_path / "alert.json"
    alert.write_bytes(BODY)
    code = cli.main(["send", "--body-file", str(alert), "--url", url, "--secret", str(SECRET)])
    assert code == 0, capsys.readouterr().err
    assert len(received.requests) == 1
    headers, body = received.requests[0]
    assert body == BODY
    assert verify_signature([SECRET], headers, body) == headers["webhook-id"]


def test_sign_body_file_signs_the_file_not_what_a_pipe_would_make_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_bytes(BODY)
    assert cli.main(["sign", "--body-file", str(alert), "--secret", str(SECRET)]) == 0
    headers = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert verify_signature([SECRET], headers, BODY) == headers["webhook-id"]
    piped = BODY.replace(b"\r\n", b"\n").removeprefix(b"\xef\xbb\xbf") + b"\r\n"
    with pytest.raises(AuthError):
        verify_signature([SECRET], headers, piped)


@pytest.mark.parametrize("arguments", [[], ["inline body", "--body-file", "alert.json"]])
def test_send_needs_exactly_one_body(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["send", "--secret", str(SECRET), *arguments]) == 2
    assert "--body-file" in capsys.readouterr().err


def test_a_missing_body_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert cli.main(["sign", "--body-file", str(missing), "--secret", str(SECRET)]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err


def test_powershell_quotes_double_single_quotes_and_calls_the_path_with_the_call_operator(
) -> None:
    call = program_call("C:\\Users\\Dan O'Neil\\venv\\Scripts\\tradehook.exe",
                        "C:\\Users\\Dan O'Neil\\trading", on_path=False, platform="win32")
    assert call == ("Set-Location 'C:\\Users\\Dan O''Neil\\trading'; "
                    "& 'C:\\Users\\Dan O''Neil\\venv\\Scripts\\tradehook.exe'")
    assert "&&" not in call  # PowerShell 5.1 has no &&
    assert quote("it\u2019s $HOME `n", platform="win32") == "'it\u2019\u2019s $HOME `n'"


def test_posix_shells_keep_their_command() -> None:
    assert program_call("/opt/th/bin/tradehook", "/srv/my th", on_path=False,
                        platform="linux") == "cd '/srv/my th' && /opt/th/bin/tradehook"
    assert program_call("x", "y", on_path=True, platform="win32") == "tradehook"


def test_on_windows_the_printed_command_names_the_exe_that_pips_launcher_hides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    (scripts / "tradehook.exe").write_bytes(b"MZ")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "argv", [str(scripts / "tradehook"), "serve"])
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    command = cli._own_command()
    assert command.endswith(f"; & '{scripts / 'tradehook.exe'}'")
    assert command.startswith("Set-Location '")


def test_a_redirected_stream_in_the_ansi_code_page_becomes_utf8() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    use_utf8(stream)
    stream.write('{"message": "sold 1 \u20ac \u2713"}\n')
    stream.flush()
    assert raw.getvalue().decode("utf-8") == '{"message": "sold 1 \u20ac \u2713"}\n'


def test_serve_under_pythonw_has_no_console_and_logs_to_a_utf8_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "not yet made"
    monkeypatch.setenv("TRADEHOOK_HOME", str(home))
    monkeypatch.delenv("TRADEHOOK_SECRETS_FILE", raising=False)
    monkeypatch.delenv("TRADEHOOK_CONFIG", raising=False)
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    served: list[str] = []
    monkeypatch.setattr("webhook.serve.serve", lambda app, settings: served.append(
        settings.journal))
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        assert cli.main(["serve"]) == 0
        logging.getLogger("tradehook.test").warning("ordre exécuté \u2713")
        for handler in root.handlers:
            handler.close()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert served == [f"sqlite:///{home / 'tradehook.db'}"]
    assert (home / "tradehook.secrets").is_file()
    line = json.loads((home / "tradehook.log").read_text(encoding="utf-8").splitlines()[-1])
    assert line["message"] == "ordre exécuté \u2713"
