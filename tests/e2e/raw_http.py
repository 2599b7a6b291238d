"""A raw HTTP/1.1 client over a socket, for what httpx will not do: send a head in pieces, a
body one byte at a time, or half a body and then hang up. Loopback only, every wait bounded."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    assert host in ("127.0.0.1", "::1", "localhost"), "loopback only"
    sock = socket.create_connection((host, parts.port or 80), timeout=timeout)
    return sock


def head(path: str, headers: dict[str, str], *, content_length: int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", f"content-length: {content_length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket, timeout: float = 10.0) -> tuple[int, bytes]:
    """The status code and raw answer; (0, b"") when the server closed without answering."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    if not data.startswith(b"HTTP/1.1 "):
        return 0, data
    return int(data[9:12]), data


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closes the connection (or answers and closes) within `timeout`."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False
