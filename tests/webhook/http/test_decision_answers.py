"""The answers to signals: compact JSON from bytes, with their length and type."""

from __future__ import annotations

import json

from webhook.decide.arrival import Receipt
from webhook.http.answers import decision_answer
from webhook.journal import SignalStatus


def test_a_queued_answer_is_compact_json_with_its_length() -> None:
    signal_id = "01KB0000000000000000000000"
    answer = decision_answer(Receipt(signal_id, SignalStatus.QUEUED, plugin="paper",
                                     reason="position differs: «2»"))
    assert answer.status_code == 202
    assert json.loads(answer.body) == {"status": "queued", "signal_id": signal_id,
                                       "reason": "position differs: «2»", "plugin": "paper"}
    assert b" " not in answer.body.replace(b"position differs: ", b"")
    assert "«2»".encode() in answer.body  # UTF-8, as JSONResponse wrote it
    headers = dict(answer.raw_headers)
    assert headers[b"content-length"] == str(len(answer.body)).encode()
    assert headers[b"content-type"] == b"application/json"


def test_an_invalid_signal_is_answered_400_naming_the_field() -> None:
    answer = decision_answer(Receipt("01KB", SignalStatus.INVALID, error="expected a number",
                                     field="quantity"))
    assert answer.status_code == 400
    assert json.loads(answer.body)["field"] == "quantity"
