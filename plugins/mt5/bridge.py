"""The rpyc link to a bridge: a client that exposes nothing, optionally over TLS.

The bridge is an rpyc classic server next to the terminal (`rpyc_classic`, or mt5linux). Its
side runs whatever its clients send, so it must be reachable only by tradehook (loopback, an SSH
tunnel, or TLS with client certificates). Tradehook's side is rpyc's `MasterService` ("connect to
a SlaveService without exposing any functionality to them", rpyc's service docs) with attribute
access, pickling and custom exceptions off: whatever answers on the bridge's address cannot run
code in tradehook or read its secrets.
"""

from __future__ import annotations

import importlib
import socket
import ssl
from typing import Any

from plugins.errors import PluginConfigError
from plugins.mt5.config import MT5Config

RPYC_SERVER_HINT = (
    "run an rpyc classic server next to the terminal, in the Python that has MetaTrader5 "
    "(on Windows or under Wine: pip install MetaTrader5 rpyc; rpyc_classic --host 127.0.0.1)"
)
_CONNECT_TIMEOUT = 10.0


def client_config(config: MT5Config) -> dict[str, Any]:
    return {
        "allow_all_attrs": False,
        "allow_public_attrs": False,
        "allow_setattr": False,
        "allow_delattr": False,
        "allow_pickle": False,
        "import_custom_exceptions": False,
        "instantiate_custom_exceptions": False,
        "instantiate_oldstyle_exceptions": False,
        "sync_request_timeout": config.request_timeout,
    }


def connect_bridge(config: MT5Config) -> Any:
    """An rpyc connection to the bridge whose `modules`, `execute` and `namespace` reach its
    side, and whose own side answers nothing."""
    try:
        factory = importlib.import_module("rpyc.utils.factory")
        service = importlib.import_module("rpyc.core.service").MasterService
        stream_module = importlib.import_module("rpyc.core.stream")
    except ImportError as exc:
        raise PluginConfigError(
            "transport 'rpyc' needs the rpyc package: pip install 'tradehook[mt5]'"
        ) from exc
    where = f"{config.host}:{config.port}"
    try:
        if config.tls_ca_file is None:
            return factory.connect(
                config.host, config.port, service=service, config=client_config(config)
            )
        stream = stream_module.SocketStream(_tls_socket(config))
        return factory.connect_stream(stream, service=service, config=client_config(config))
    except ssl.SSLError as exc:
        raise PluginConfigError(
            f"TLS with the bridge at {where} failed ({exc}): check tls_ca_file, tls_cert_file, "
            "tls_key_file and that the bridge's certificate names "
            f"{config.tls_server_name or config.host!r}"
        ) from exc
    except EOFError as exc:
        raise PluginConfigError(
            f"the rpyc server at {where} closed the connection ({exc}): it may require TLS, or "
            "refuse tradehook's certificate (tls_ca_file, tls_cert_file, tls_key_file)"
        ) from exc
    except OSError as exc:
        raise PluginConfigError(
            f"cannot reach the rpyc server at {where} ({exc}); {RPYC_SERVER_HINT}"
        ) from exc


def _tls_socket(config: MT5Config) -> ssl.SSLSocket:
    """TLS that checks the bridge's certificate against `tls_ca_file` and its name, and shows
    ours (rpyc's `ssl_connect` would skip the name check)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=config.tls_ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(config.tls_cert_file), str(config.tls_key_file))
    raw = socket.create_connection((config.host, config.port), timeout=_CONNECT_TIMEOUT)
    try:
        wrapped = context.wrap_socket(raw, server_hostname=config.tls_server_name or config.host)
    except BaseException:
        raw.close()
        raise
    wrapped.settimeout(None)
    return wrapped
