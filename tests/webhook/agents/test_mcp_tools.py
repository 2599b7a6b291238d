"""The MCP tools' own parts: keys derived for calls that gave none, and the client's models."""

from __future__ import annotations

import typing

from webhook.agents.mcp_tools import DERIVED_KEY_SECONDS, DerivedKeys
from webhook.client.models import AgentSignal, QuantityUnit
from webhook.decide.quantities import QuantityUnit as PipelineUnits

BUY = AgentSignal.model_validate({"symbol": "BTC/USDT", "side": "buy", "quantity": 1})


def test_the_same_call_again_gets_the_first_key() -> None:
    now = [1000.0]
    keys = DerivedKeys(clock=lambda: now[0])
    first = keys.key("scout", BUY)
    now[0] += DERIVED_KEY_SECONDS - 1
    assert keys.key("scout", BUY) == first


def test_another_signal_agent_or_a_later_call_gets_another_key() -> None:
    now = [1000.0]
    keys = DerivedKeys(clock=lambda: now[0])
    first = keys.key("scout", BUY)
    assert keys.key("other", BUY) != first
    assert keys.key("scout", BUY.model_copy(update={"quantity": 2})) != first
    now[0] += DERIVED_KEY_SECONDS
    assert keys.key("scout", BUY) != first


def test_keys_fit_the_idempotency_key_header() -> None:
    key = DerivedKeys().key("scout", BUY)
    assert len(key) <= 64 and key.replace("-", "").isalnum()


def test_the_clients_quantity_units_are_the_pipelines() -> None:
    assert set(typing.get_args(QuantityUnit)) == {unit.value for unit in PipelineUnits}
