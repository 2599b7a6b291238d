"""Every real-world alert in tests/fixtures/alerts becomes the order expected.json describes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webhook.dialects import parse_alert
from webhook.errors import PayloadError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "alerts"
EXPECTED: dict[str, dict[str, object]] = {
    name: spec
    for name, spec in json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8")).items()
    if not name.startswith("_")
}


@pytest.mark.parametrize("name", sorted(n for n, s in EXPECTED.items() if "invalid" not in s))
def test_fixture_becomes_the_expected_order(name: str) -> None:
    order = parse_alert((FIXTURES / name).read_bytes()).order.model_dump(mode="json")
    wanted = {k: v for k, v in EXPECTED[name].items() if k != "decision"}
    assert {k: order[k] for k in wanted} == wanted


@pytest.mark.parametrize("name", sorted(n for n, s in EXPECTED.items() if "invalid" in s))
def test_invalid_fixture_names_the_field(name: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert((FIXTURES / name).read_bytes())
    assert caught.value.field == EXPECTED[name]["invalid"]
