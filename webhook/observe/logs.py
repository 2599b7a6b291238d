"""Logs: JSON lines for machines, plain lines for a terminal, secrets never in either.

Every line about a signal carries its id (`signal_id`): the pipeline and the executor bind the
id to the task that handles the signal with `bind_signal`, and the formatters read it from
there. Redaction happens in the formatter, on the finished message and traceback, so it covers
every logger (uvicorn's and libraries' too): the configured secrets and tokens are replaced, and
so is anything shaped like one (a source URL's token, a `whsec_` secret, a bearer token, a chat
webhook URL).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TextIO

import orjson

from plugins.redaction import Redactor
from webhook.config.data_dir import default_file
from webhook.observe.streams import use_utf8

if TYPE_CHECKING:
    from webhook.config.settings import Settings


LogFormat = Literal["auto", "json", "text"]
REDACTED = "[redacted]"
_signal_id: ContextVar[str | None] = ContextVar("tradehook_signal_id", default=None)
_PATTERNS = (
    # A source URL's token is itsdangerous' base64 JSON (`eyJ...`) or its compressed form
    # (`.eJ...`): file paths through a `webhook/` folder are left alone.
    re.compile(r"(/webhook/)(?:eyJ|\.)[A-Za-z0-9_.-]{16,}"),
    re.compile(r"whsec_[A-Za-z0-9+/=]+"),
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
    re.compile(r"(api\.telegram\.org/bot)[^/\s\"']+"),
    re.compile(r"(discord(?:app)?\.com/api/webhooks/)[^\s\"']+"),
    re.compile(r"(hooks\.slack\.com/)[^\s\"']+"),
)
"""Secret-shaped text in log lines: the first group (a label) is kept, the rest masked."""
_QUIET_LOGGERS = ("httpx", "httpcore", "multipart")
LOG_FILE = "tradehook.log"
"""Where the logs go when the process has no stderr (pythonw), in the data directory."""


def bind_signal(signal_id: str | None) -> None:
    """Tag the log lines of the current task (and the tasks it starts) with a signal id."""
    _signal_id.set(signal_id)


def current_signal() -> str | None:
    return _signal_id.get()


def _second_and_millis(created: float) -> tuple[int, int]:
    """A record's time as `datetime.fromtimestamp` takes it: the fraction rounded half to even
    to microseconds (a rounding up to the next second carries), then cut to milliseconds."""
    fraction, whole = math.modf(created)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        return int(whole) + 1, 0
    return int(whole), micros // 1000


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@functools.lru_cache(maxsize=4)
def _local_second(second: int) -> str:
    return datetime.fromtimestamp(second).strftime("%H:%M:%S")


def utc_time(created: float) -> str:
    """`created` as ISO 8601 in UTC to the millisecond, as `datetime.isoformat` writes it. The
    part up to the second is made once a second: made for every line, it was a sixth of the
    line's cost, and a signal has two lines."""
    second, millis = _second_and_millis(created)
    return f"{_utc_second(second)}.{millis:03d}+00:00"


def local_time(created: float) -> str:
    """`created` as the local time of day to the second, for a terminal."""
    return _local_second(_second_and_millis(created)[0])


def log_redactor(secrets: Iterable[str]) -> Redactor:
    """The redactor of log lines: the configured secrets, and secret-shaped text."""
    return Redactor(secrets, _PATTERNS, mask=REDACTED)


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def parts(self, record: logging.LogRecord) -> tuple[str, str | None, str | None]:
        """The redacted message, the record's signal id, and the redacted traceback."""
        message = self.redact(record.getMessage())
        signal_id = getattr(record, "signal_id", None) or record.__dict__.get("_signal_id")
        trace = None
        if record.exc_info:
            trace = self.redact(self.formatException(record.exc_info))
        return message, signal_id, trace


class JsonFormatter(_RedactingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        message, signal_id, trace = self.parts(record)
        line: dict[str, object] = {
            "time": utc_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        if signal_id:
            line["signal_id"] = signal_id
        if trace:
            line["exception"] = trace
        try:
            return orjson.dumps(line).decode()
        except orjson.JSONEncodeError:  # text orjson refuses (a lone surrogate): escaped
            return json.dumps(line, ensure_ascii=False)


class TextFormatter(_RedactingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        message, signal_id, trace = self.parts(record)
        when = local_time(record.created)
        tag = f" [{signal_id}]" if signal_id and signal_id not in message else ""
        line = f"{when} {record.levelname:<7} {record.name}{tag}: {message}"
        return f"{line}\n{trace}" if trace else line


class _SignalContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "signal_id", None):
            record._signal_id = _signal_id.get()
        return True


def _handler(stream: TextIO | None) -> logging.Handler:
    """A handler for `stream`, or with no stream at all (pythonw) for a UTF-8 log file."""
    if stream is not None:
        return logging.StreamHandler(stream)
    return logging.FileHandler(default_file(LOG_FILE, os.environ), encoding="utf-8", delay=True)


def _record_only_what_is_written() -> None:
    """Neither formatter writes the caller's file and line, the thread or the process: the
    standard library's own switches ("Optimization" in the `logging` documentation) spare
    every record the stack walk and the system calls that would find them."""
    logging._srcfile = None  # the documented switch
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def configure_logging(
    settings: Settings, *, stream: TextIO | None = None, log_format: LogFormat | None = None
) -> logging.Handler:
    """Send every logger's records to `stream` (stderr) as JSON lines, or as text when the
    format is `text`, or `auto` and the stream is a terminal."""
    stream = use_utf8(stream or sys.stderr)
    chosen = log_format or settings.log_format
    if chosen == "auto":
        chosen = "text" if stream is not None and stream.isatty() else "json"
    redactor = log_redactor(settings.secret_values())
    handler = _handler(stream)
    handler.setFormatter(JsonFormatter(redactor) if chosen == "json" else TextFormatter(redactor))
    handler.addFilter(_SignalContext())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    _record_only_what_is_written()
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
