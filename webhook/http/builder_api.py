"""The alert builder's admin API: which sources, dialects and actions there are, the webhook URL
and message template for one choice, and a test send.

`GET /api/builder` lists the choices and each source's signed URL; `GET /api/builder/template`
writes the message (`webhook.dialects.alert_templates`) and the order it stands for;
`POST /api/builder/test` fills it in as TradingView would and sends it through the pipeline as
a test of that source: decided and stored like any of its signals, never executed. A source's
passphrase never leaves the server: templates carry a stand-in, and only the test send writes
the real one in.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from plugins.orders import Order
from webhook.config.first_run import source_url
from webhook.config.settings import SIGNED_SOURCE, Settings, SourceSettings
from webhook.decide.arrival import Incoming
from webhook.dialects import DIALECTS
from webhook.dialects.alert_templates import (
    ACTIONS,
    LABELS,
    AlertSamples,
    AlertTemplate,
    UnknownChoice,
    alert_template,
    filled_message,
)
from webhook.errors import PayloadError
from webhook.http import signals
from webhook.http.admin_api import payload_error, require_admin
from webhook.journal import SignalStatus
from webhook.observe.events import SignalEvent

Quantity = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
_Model = TypeVar("_Model", bound=BaseModel)


class _Exact(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateChoice(_Exact):
    """One choice in the builder: the source, its dialect and the action."""

    source: Name
    dialect: Name
    action: Name
    quantity: Quantity = 1.0


class BuilderTest(TemplateChoice):
    """A test send: the choice, and the values TradingView would put in (the time is now)."""

    ticker: str = Field("BTCUSDT", min_length=1, max_length=64, pattern=r"^[^\s\"\\,=]+$")
    close: float = Field(67250.5, gt=0, le=1e12, allow_inf_nan=False)


class ActionChoice(BaseModel):
    name: str
    label: str


class DialectChoice(BaseModel):
    name: str
    actions: list[ActionChoice]


class SourceChoice(BaseModel):
    name: str
    dialects: list[str]
    """The dialects its alerts may be written in: the one it fixes, or all of them."""
    url: str | None
    """Its signed webhook URL (None: no webhook secret is configured)."""
    passphrase: bool
    threshold: float


class BuilderChoices(BaseModel):
    sources: list[SourceChoice]
    dialects: list[DialectChoice]
    url_note: str | None = None
    """Why the URLs may not be ones TradingView can reach, when that is so."""


class BuilderTemplate(AlertTemplate):
    source: str
    url: str | None
    order: Order
    """The order the message becomes with the sample values below."""
    order_text: str
    sample_message: str
    """The message with TradingView's placeholders filled with sample values."""


class BuilderTestAnswer(BaseModel):
    signal_id: str
    status: SignalStatus
    reason: str | None = None
    rule: str | None = None
    error: str | None = None
    field: str | None = None
    plugin: str | None = None
    message: str
    """What was sent, placeholders filled in (the passphrase, if any, as its stand-in)."""
    order: Order
    """The order the builder said it would be."""


def _read(model: type[_Model], values: dict[str, Any] | bytes) -> _Model:
    """`values` (a query, or a JSON body) as `model`, or `PayloadError` naming the field."""
    try:
        if isinstance(values, bytes):
            return model.model_validate_json(values or b"{}")
        return model.model_validate(values)
    except ValidationError as exc:
        raise payload_error(exc) from exc


def _url_sources(settings: Settings) -> dict[str, SourceSettings]:
    return {name: source for name, source in settings.sources.items()
            if name != SIGNED_SOURCE and source.enabled}


def _source(settings: Settings, name: str) -> SourceSettings:
    sources = _url_sources(settings)
    if name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise PayloadError("source", f"no enabled source named {name[:64]!r} (configured: "
                                     f"{known})")
    return sources[name]


def _base(request: Request, settings: Settings) -> str:
    return settings.public_url or str(request.base_url)


def _url(request: Request, settings: Settings, name: str) -> str | None:
    return source_url(settings, name, _base(request, settings)) if settings.secret else None


def _template(settings: Settings, choice: TemplateChoice) -> AlertTemplate:
    source = _source(settings, choice.source)
    if source.dialect not in ("auto", choice.dialect):
        raise PayloadError("dialect", f"source {choice.source!r} reads only {source.dialect} "
                                      "alerts")
    try:
        return alert_template(choice.dialect, choice.action, quantity=choice.quantity,
                              passphrase=source.passphrase is not None)
    except UnknownChoice as exc:
        raise PayloadError(exc.field, str(exc)) from exc


def _now() -> datetime:
    """Now, to the second, as TradingView's `{{timenow}}` has it."""
    return datetime.fromtimestamp(int(time.time()), UTC)


async def choices(request: Request) -> Response:
    services = await require_admin(request)
    settings = services.settings
    sources = [
        SourceChoice(
            name=name, dialects=list(DIALECTS) if source.dialect == "auto" else [source.dialect],
            url=_url(request, settings, name), passphrase=source.passphrase is not None,
            threshold=settings.threshold_for(name),
        )
        for name, source in _url_sources(settings).items()
    ]
    dialects = [DialectChoice(name=name, actions=[
        ActionChoice(name=action.value, label=LABELS[action]) for action in ACTIONS[name]])
        for name in DIALECTS]
    note = None
    if not settings.public_url:
        note = ("public_url is not set, so these URLs use the address this page was opened "
                "with; TradingView needs one it can reach (https on port 443, or port 80)")
    if not settings.secret:
        note = "no webhook secret is configured, so there are no source URLs yet"
    answer = BuilderChoices(sources=sources, dialects=dialects, url_note=note)
    return JSONResponse(answer.model_dump(mode="json"))


async def template(request: Request) -> Response:
    services = await require_admin(request)
    choice = _read(TemplateChoice, dict(request.query_params))
    written = _template(services.settings, choice)
    samples = AlertSamples(timenow=_now())
    order = written.order_for(samples)
    answer = BuilderTemplate(
        **written.model_dump(), source=choice.source,
        url=_url(request, services.settings, choice.source), order=order,
        order_text=order.describe(), sample_message=filled_message(written, samples),
    )
    return JSONResponse(answer.model_dump(mode="json"))


async def send_test(request: Request) -> Response:
    """Fill the template with the test's values and `now`, and let the pipeline decide it as a
    test of its source: the answer is the decision, the signal is in the journal."""
    services = await require_admin(request)
    body, _ = await signals.read_body(request, services.settings)
    test = _read(BuilderTest, body)
    written = _template(services.settings, test)
    samples = AlertSamples(ticker=test.ticker, close=test.close, timenow=_now())
    passphrase = services.settings.sources[test.source].passphrase
    message = filled_message(written, samples,
                             passphrase.get_secret_value() if passphrase else None)
    receipt = await services.pipeline.receive(Incoming(
        test.source, message.encode(), written.content_type, test=True))
    services.events.publish(SignalEvent(
        kind="decided", signal_id=receipt.signal_id, status=receipt.status, source=test.source,
        dialect=receipt.dialect, plugin=receipt.plugin, reason=receipt.reason,
        error=receipt.error,
    ))
    answer = BuilderTestAnswer(
        signal_id=receipt.signal_id, status=receipt.status, reason=receipt.reason,
        rule=receipt.rule, error=receipt.error, field=receipt.field, plugin=receipt.plugin,
        message=filled_message(written, samples), order=written.order_for(samples),
    )
    return JSONResponse(answer.model_dump(mode="json", exclude_none=True))
